"""How long each table keeps its rows: the `[retention]` section of the config file.

Days count back from now; 0 keeps a table's rows forever. Request rows go in whole ISO
weeks (see `warehouse.retention.cutoff`), so a row is kept at least `requests_days` and at
most six days more. The metric tables (`stats_*`, uptime, incidents, SLA, latency, traffic,
divergence) are never deleted: they keep the history of the request rows that are gone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    requests_days: int = 90
    """Days of `requests` rows kept; 0 keeps them forever."""
    tool_spans_days: int = 90
    """Days of `tool_spans` rows kept; 0 keeps them forever."""
    alert_events_days: int = 365
    """Days of `alert_events` delivery records kept (when the table exists); 0 = forever."""
    delete_batch_rows: int = 50_000
    """Rows deleted per transaction, so ingest's commits never wait long behind a delete."""
    every_hours: int = 24
    """How often `serve` checks for rows to delete (also once when it starts)."""


_MINIMUM = {
    "requests_days": 0,
    "tool_spans_days": 0,
    "alert_events_days": 0,
    "delete_batch_rows": 1_000,
    "every_hours": 1,
}


def retention_from_mapping(
    values: Mapping[str, object], *, routing_window_days: int
) -> RetentionSettings:
    """Default settings with the given fields replaced, each checked; `requests_days` must
    cover the routing window, whose pools are judged on the request rows themselves."""
    fields = [f.name for f in dataclasses.fields(RetentionSettings)]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    checked: dict[str, int] = {}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name}: expected a whole number, got {value!r}")
        if value < _MINIMUM[name]:
            raise ValueError(f"{name}: {value!r} is not at least {_MINIMUM[name]}")
        checked[name] = value
    settings = RetentionSettings(**checked)
    if 0 < settings.requests_days < routing_window_days:
        raise ValueError(
            f"requests_days: {settings.requests_days} is shorter than [analytics] "
            f"routing_window_days ({routing_window_days}); routing pools are judged on that "
            "many days of request rows (use 0 to keep every row)"
        )
    return settings
