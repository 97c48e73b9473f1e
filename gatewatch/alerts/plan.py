"""The messages due now, per target: a condition's state against what the target was told.

- active and not told (or told resolved): `fired`
- told fired and no longer active, or no longer reported: `resolved`
- never told and already over (an incident that began and ended between two runs): `fired`
  then `resolved`, so it is told exactly as one that was seen open
- a routing pool: the first one seen is a recorded `baseline` (nothing sent, so enabling the
  rule does not announce every pool); a different pool later is `changed`
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from gatewatch.alerts.conditions import Condition, Told, gone_summary
from gatewatch.alerts.messages import Alert
from gatewatch.alerts.routing_changes import change_summary
from gatewatch.alerts.rules import AlertRule, Target


def plan(
    rule: AlertRule,
    conditions: list[Condition],
    told: Mapping[tuple[str, str], Told],
    now: datetime,
) -> list[Alert]:
    alerts: list[Alert] = []
    for target in rule.targets:

        def alert(key: str, state: str, summary: str, details: dict, target: Target = target):
            alerts.append(Alert(rule.name, rule.kind, key, state, summary, details, now, target))

        reported = set()
        for condition in conditions:
            reported.add(condition.key)
            last = told.get((condition.key, target.kind))
            if condition.fingerprint is not None:
                if last is None:
                    alert(condition.key, "baseline", condition.fired_summary, condition.details)
                elif last.details.get("fingerprint") != condition.fingerprint:
                    summary = change_summary(last.details, condition)
                    details = {**condition.details, "previous_pool": last.details.get("pool")}
                    alert(condition.key, "changed", summary, details)
                continue
            told_open = last is not None and last.state == "fired"
            if condition.active and not told_open:
                alert(condition.key, "fired", condition.fired_summary, condition.details)
            elif not condition.active and told_open:
                alert(condition.key, "resolved", condition.resolved_summary, condition.details)
            elif not condition.active and last is None and condition.catch_up:
                alert(condition.key, "fired", condition.fired_summary, condition.details)
                alert(condition.key, "resolved", condition.resolved_summary, condition.details)
        for (key, target_kind), last in told.items():
            if target_kind == target.kind and key not in reported and last.state == "fired":
                alert(key, "resolved", gone_summary(rule, last.details), last.details)
    return alerts
