"""Tunable thresholds and targets of the batch jobs, with their defaults.

Jobs read the fields they name (`PeriodJob.settings` / `RebuildJob.settings`) as `$name`
SQL parameters, so every threshold is documented here once. Users set any field by name in
the `[analytics]` section of their config file (`settings_from_mapping` validates it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from analytics.prices import Price


@dataclass(frozen=True, slots=True)
class AnalyticsSettings:
    sla_target: float = 0.999
    """Uptime a provider is held to (SLA attainment and error budget), in (0, 1)."""

    incident_uptime_threshold: float = 0.9
    """A 5-minute uptime bucket is bad when its uptime is below this, in (0, 1]."""

    incident_min_bucket_requests: int = 1
    """Eligible requests a 5-minute bucket needs to count as evidence (bad or good); buckets
    with fewer are treated like buckets without traffic. Raise it for busy providers whose
    single failures should not open incidents."""

    incident_max_good_buckets: int = 2
    """Good buckets (with traffic, uptime at or above the threshold) tolerated between two bad
    buckets of one incident; one more ends it."""

    incident_max_gap_minutes: int = 30
    """Two bad buckets whose starts are further apart than this are never one incident, however
    little traffic lies between them."""

    incident_min_failed_requests: int = 10
    """Provider errors an incident needs in total; fewer is noise, not an incident (at a 0.5 %
    baseline error rate, chance clusters of 5–6 failures do occur over a month of buckets)."""

    batch_hour_factor: float = 4.0
    """An hour of a day is hot when its requests exceed this multiple of that day's median
    hour (of the same scope: all traffic, or one app). Above the ≈3× peak-to-median of a smooth
    diurnal curve, so office-hours peaks are not batch windows."""

    batch_min_share_of_days: float = 0.6
    """An hour of day is part of a recurring batch window when it is hot on at least this share
    of the days, in (0, 1]."""

    # Same-model provider divergence (`provider_divergence`).
    divergence_min_ok_requests: int = 100
    """Ok requests a (week, model, provider) cell, and its pooled peers, need to be tested."""
    divergence_alpha: float = 0.01
    """False discovery rate: a test is significant when its Benjamini–Hochberg q < alpha."""
    divergence_min_effect_h: float = 0.2
    """Smallest |Cohen's h| of a rate difference that counts as divergent (0.2 = "small")."""
    divergence_min_effect_w: float = 0.15
    """Smallest Cohen's w of a finish-reason mix difference that counts. Between Cohen's
    "small" (0.1) and "medium" (0.3): with a few hundred answers per side, sampling noise
    alone puts w near 0.1 for a four- or five-category mix."""

    # Routing pools (`routing_pools`).
    routing_window_days: int = 28
    """Days of traffic, ending at the newest request, a pool is judged on."""
    routing_min_requests: int = 100
    """Requests a provider needs in the window to be judged at all."""
    routing_min_uptime: float = 0.99
    """Uptime floor: providers below it are left out, unless every provider of the model
    misses a floor (then the pool keeps the best ones and is flagged degraded)."""
    routing_relative_alpha: float = 0.01
    """False discovery rate of the test of a provider's uptime against its best peer's."""
    routing_relative_min_effect_h: float = 0.2
    """Smallest Cohen's h by which a provider's uptime must trail its best peer's to be left
    out as clearly worse (0.2: 99% against a perfect peer, 94% against 98%)."""
    routing_min_tool_validity: float = 0.95
    """Floor on the share of checked tool calls that were valid (when any were checked)."""
    routing_failure_penalty_ms: float = 10_000.0
    """Cost of a failed attempt in the ranking score (a retry elsewhere after a timeout)."""

    # Model mix (`model_tiers`).
    tier_rules: tuple[tuple[str, str], ...] = ()
    """(glob pattern, tier) pairs from the config's `[tiers]`, tried before the defaults."""

    # Estimated cost (`model_prices`, `requests.estimated_cost_usd`).
    prices: tuple[Price, ...] = ()
    """Prices from the config's `[[prices]]`, used before the built-in defaults."""


def _fraction(v: float) -> bool:
    return 0 < v < 1


def _share(v: float) -> bool:
    return 0 < v <= 1


def _closed_share(v: float) -> bool:
    return 0 <= v <= 1


def _at_least(low: float):  # type: ignore[no-untyped-def]
    return lambda v: v >= low


# field → (the allowed values in words, the check)
_ALLOWED = {
    "sla_target": ("between 0 and 1 (exclusive)", _fraction),
    "incident_uptime_threshold": ("in (0, 1]", _share),
    "incident_min_bucket_requests": ("at least 1", _at_least(1)),
    "incident_max_good_buckets": ("at least 0", _at_least(0)),
    "incident_max_gap_minutes": ("at least 5", _at_least(5)),
    "incident_min_failed_requests": ("at least 1", _at_least(1)),
    "batch_hour_factor": ("at least 1", _at_least(1)),
    "batch_min_share_of_days": ("in (0, 1]", _share),
    "divergence_min_ok_requests": ("at least 1", _at_least(1)),
    "divergence_alpha": ("between 0 and 1 (exclusive)", _fraction),
    "divergence_min_effect_h": ("at least 0", _at_least(0)),
    "divergence_min_effect_w": ("at least 0", _at_least(0)),
    "routing_window_days": ("at least 1", _at_least(1)),
    "routing_min_requests": ("at least 1", _at_least(1)),
    "routing_min_uptime": ("in [0, 1]", _closed_share),
    "routing_relative_alpha": ("between 0 and 1 (exclusive)", _fraction),
    "routing_relative_min_effect_h": ("at least 0", _at_least(0)),
    "routing_min_tool_validity": ("in [0, 1]", _closed_share),
    "routing_failure_penalty_ms": ("at least 0", _at_least(0)),
}


def _checked(name: str, kind: type, value: object) -> float | int:
    # bool is an int subclass: `true` is not a number here.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    if kind is int and not float(value).is_integer():
        raise ValueError(f"{name}: expected a whole number, got {value!r}")
    number = int(value) if kind is int else float(value)
    allowed, check = _ALLOWED[name]
    if not check(number):
        raise ValueError(f"{name}: {value!r} is not {allowed}")
    return number


def settings_from_mapping(values: Mapping[str, object]) -> AnalyticsSettings:
    """Default settings with the given fields replaced, each checked for type and range."""
    # Numbers only: `tier_rules` comes from the config's own `[tiers]` section.
    kinds = {
        f.name: _KINDS[str(f.type)]
        for f in dataclasses.fields(AnalyticsSettings)
        if str(f.type) in _KINDS
    }
    unknown = sorted(set(values) - set(kinds))
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(kinds)}")
    return AnalyticsSettings(
        **{name: _checked(name, kinds[name], value) for name, value in values.items()}
    )


_KINDS: dict[str, type] = {"int": int, "float": float}
