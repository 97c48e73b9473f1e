"""Tunable thresholds and targets of the batch jobs, with their defaults.

Jobs read the fields they name (`PeriodJob.settings` / `RebuildJob.settings`) as `$name`
SQL parameters, so every threshold is documented here once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AnalyticsSettings:
    sla_target: float = 0.999
    """Uptime a provider is held to (SLA attainment and error budget)."""

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
    """Uptime floor: providers below it are left out."""
    routing_min_tool_validity: float = 0.95
    """Floor on the share of checked tool calls that were valid (when any were checked)."""
    routing_failure_penalty_ms: float = 10_000.0
    """Cost of a failed attempt in the ranking score (a retry elsewhere after a timeout)."""

    # Model mix (`model_tiers`).
    tier_rules: tuple[tuple[str, str], ...] = ()
    """(glob pattern, tier) pairs from the config's `[tiers]`, tried before the defaults."""
