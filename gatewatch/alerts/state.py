"""What each target has been told, read back from `alert_events`, and the record of every
delivery. The table is the only state: a restarted `serve` reads it and resends nothing.

A failed delivery is tried again at the next evaluations (the receiver may be back); after
`MAX_FAILED_ROUNDS` failed rounds of one message it counts as told, so a receiver that stays
broken does not collect a failure row every few minutes for ever.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import duckdb
import orjson

from gatewatch.alerts.conditions import Told
from gatewatch.alerts.deliver import Outcome, json_bytes
from gatewatch.alerts.messages import Alert

MAX_FAILED_ROUNDS = 3

EVENTS_SQL = """
SELECT key, target, state, status, payload
FROM alert_events
WHERE rule = ?
ORDER BY sent_at, rowid
"""


def told_states(con: duckdb.DuckDBPyConnection, rule: str) -> dict[tuple[str, str], Told]:
    """(key, target) → the last message told to that target about that key."""
    told: dict[tuple[str, str], Told] = {}
    failing: dict[tuple[str, str], tuple[str, int]] = {}  # → (state, failed rounds in a row)
    for key, target, state, status, payload in con.execute(EVENTS_SQL, [rule]).fetchall():
        at = (key, target)
        details = orjson.loads(payload).get("details", {})
        if status != "failed":
            told[at] = Told(state, details)
            failing.pop(at, None)
            continue
        failed_state, rounds = failing.get(at, (state, 0))
        rounds = rounds + 1 if failed_state == state else 1
        failing[at] = (state, rounds)
        if rounds >= MAX_FAILED_ROUNDS:
            told[at] = Told(state, details)
    return told


def latest_by_key(told: Mapping[tuple[str, str], Told]) -> dict[str, Told]:
    """Per key, what its targets were told, preferring `fired`: the targets of a rule move
    together unless one of them fails, and a key open for any target is still open."""
    latest: dict[str, Told] = {}
    for (key, _target), state in told.items():
        if key not in latest or state.state == "fired":
            latest[key] = state
    return latest


def record(con: duckdb.DuckDBPyConnection, alert: Alert, outcome: Outcome, at: datetime) -> None:
    con.execute(
        "INSERT INTO alert_events (sent_at, rule, kind, key, state, target, status, attempts, "
        "http_status, error, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            at,
            alert.rule,
            alert.kind,
            alert.key,
            alert.state,
            alert.target.kind,
            outcome.status,
            outcome.attempts,
            outcome.http_status,
            outcome.error,
            json_bytes(alert.payload()).decode(),
        ],
    )
