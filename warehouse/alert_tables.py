"""The migration of `alert_events`: one row per alert message and target, with its delivery
outcome. `serve` reads it back to deduplicate (what each target has already been told), so a
restart never resends; see `docs/schema.md` and `gatewatch/alerts/`."""

from __future__ import annotations

import duckdb

ALERT_EVENTS_TABLE_SQL = """
CREATE TABLE alert_events (
    sent_at TIMESTAMPTZ NOT NULL,
    rule VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    attempts INTEGER NOT NULL,
    http_status INTEGER,
    error VARCHAR,
    payload JSON NOT NULL
)
"""


def m008_alert_events(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(ALERT_EVENTS_TABLE_SQL)
