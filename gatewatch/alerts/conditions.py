"""What a rule sees in the warehouse now: one `Condition` per key (an incident, a provider, a
model's pool...). `plan` compares them with what each target has been told.

Rules whose keys are simply "in a bad state" (burn rate, shift, divergence) report only the
active keys; a key told as fired and no longer reported is resolved. Incidents also report
finished ones (so an incident that began and ended between two evaluations is still told,
opened then resolved); routing pools report every model, since a change is what is told.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from analytics.settings import AnalyticsSettings
from gatewatch.alerts.rules import AlertRule


@dataclass(frozen=True, slots=True)
class Told:
    """The last message a target was told for a key (or gave up on after retries)."""

    state: str  # fired, resolved, changed or baseline
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Condition:
    key: str
    active: bool
    fired_summary: str
    details: dict[str, Any]  # JSON-ready; `subject` names what the key is about
    resolved_summary: str = ""  # for inactive conditions (finished incidents)
    catch_up: bool = False  # finished and never told: tell opened and resolved together
    fingerprint: str | None = None  # change rules: what a change is measured on


def subject(provider: str | None, model: str | None) -> str:
    """How a message names a provider, a model, or a provider's model."""
    if provider and model:
        return f"{provider} · {model}"
    return provider or model or "all traffic"


def iso(at: datetime) -> str:
    """UTC, to the second: `2026-02-09T13:05:00Z` (a cursor may return another zone)."""
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def rule_conditions(
    con: duckdb.DuckDBPyConnection,
    rule: AlertRule,
    settings: AnalyticsSettings,
    now: datetime,
    previous: Mapping[str, Told],
) -> list[Condition]:
    """The rule's conditions at `now`; `previous` is the last told message per key."""
    # Imported here: each kind's module imports `Condition` from this one.
    from gatewatch.alerts import burn_rate, incidents, routing_changes, shift

    if rule.kind == "incident":
        return incidents.conditions(con, rule, settings, now, previous)
    if rule.kind == "burn_rate":
        return burn_rate.conditions(con, rule, settings, now)
    if rule.kind == "shift":
        return shift.conditions(con, rule, now)
    if rule.kind == "divergent":
        return routing_changes.divergent_conditions(con, now)
    return routing_changes.pool_conditions(con, previous)


def gone_summary(rule: AlertRule, details: Mapping[str, Any]) -> str:
    """The resolve message of a key told as fired that the rule no longer reports."""
    what = details.get("subject", "?")
    if rule.kind == "incident":
        return (
            f"{what}: the incident since {details.get('started_at', '?')} is no longer "
            "reported (recomputed away, or older than the rule's look-back)"
        )
    if rule.kind == "burn_rate":
        return f"{what}: error budget burn back below every alert rate"
    if rule.kind == "shift":
        return (
            f"{what}: {rule.metric.replace('_', ' ')} no longer shifted beyond "
            f"{rule.sigmas:g} standard errors week over week"
        )
    return f"{what}: no longer divergent from its peers (this and last ISO week)"
