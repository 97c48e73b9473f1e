"""One alert message for one target, and its three shapes: the generic webhook's JSON, the
Slack incoming webhook's `{"text": ...}` and the log line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gatewatch.alerts.conditions import iso
from gatewatch.alerts.rules import AlertRule, Target

# fired / resolved: a condition began or ended; changed: a routing pool moved; baseline: the
# first pool seen (recorded, not sent); test: `gatewatch alerts test`.
STATES = ("fired", "resolved", "changed", "baseline", "test")
_SLACK_MARK = {
    "fired": ":red_circle:",
    "resolved": ":large_green_circle:",
    "changed": ":arrows_counterclockwise:",
    "test": ":white_check_mark:",
}


@dataclass(frozen=True, slots=True)
class Alert:
    rule: str
    kind: str
    key: str
    state: str
    summary: str
    details: dict[str, Any]
    at: datetime  # the evaluation that found it
    target: Target

    def payload(self) -> dict[str, Any]:
        """The generic webhook's body, also stored in `alert_events.payload`."""
        return {
            "source": "gatewatch",
            "rule": self.rule,
            "kind": self.kind,
            "key": self.key,
            "state": self.state,
            "summary": self.summary,
            "at": iso(self.at),
            "details": self.details,
        }

    def slack_body(self) -> dict[str, str]:
        mark = _SLACK_MARK.get(self.state, "")
        return {"text": f"{mark} *gatewatch {self.rule}* ({self.state}): {self.summary}"}

    def log_line(self) -> str:
        return f"alert {self.rule} {self.state} [{self.key}]: {self.summary}"


def sample_alert(rule: AlertRule, target: Target, at: datetime) -> Alert:
    """What `gatewatch alerts test` sends: the rule's name and kind, marked as a test."""
    return Alert(
        rule=rule.name,
        kind=rule.kind,
        key="sample",
        state="test",
        summary=(
            f"a sample {rule.kind.replace('_', ' ')} alert from `gatewatch alerts test`; "
            "if you read this, delivery works"
        ),
        details={"subject": "sample", "sample": True},
        at=at,
        target=target,
    )
