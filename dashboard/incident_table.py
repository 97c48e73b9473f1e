"""The Uptime page's incident table: the newest incidents of the selected days."""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import html

from dashboard.components import format_count, format_percent
from dashboard.tables import Column, data_table, format_minute

INCIDENTS_TABLE_ID = "incidents-table"
INCIDENTS_NOTE_ID = "uptime-incidents-note"
INCIDENT_COLUMNS = (
    Column("Provider", lambda r: r["provider"]),
    Column("Model", lambda r: r["model"] or "all models"),
    Column("Start (UTC)", lambda r: format_minute(r["started_at"])),
    Column("End (UTC)", lambda r: format_minute(r["ended_at"]) + (" (ongoing)" * r["ongoing"])),
    Column("Minutes", lambda r: format_count(r["duration_minutes"]), numeric=True),
    Column("Failed", lambda r: format_count(r["failed_requests"]), numeric=True),
    Column("Uptime", lambda r: format_percent(r["uptime"]), numeric=True),
    Column("Worst 5-min", lambda r: format_percent(r["worst_uptime"]), numeric=True),
    Column(
        "Top error",
        lambda r: (
            f"{r['top_error_type']} ({format_percent(r['top_error_share'])})"
            if r["top_error_type"]
            else "—"
        ),
    ),
)


# The table lists the newest incidents only: the browser makes a component of every cell,
# and 748 rows (90 days at 10 M requests) froze the page for minutes.
INCIDENT_ROWS_SHOWN = 50


def incidents_panel(rows: pl.DataFrame) -> Any:
    if rows.is_empty():
        return html.P("No incident in the selected days.", className="empty-note")
    table = data_table(
        INCIDENTS_TABLE_ID, INCIDENT_COLUMNS, rows.head(INCIDENT_ROWS_SHOWN).to_dicts()
    )
    if rows.height <= INCIDENT_ROWS_SHOWN:
        return table
    note = (
        f"The {INCIDENT_ROWS_SHOWN} newest of {rows.height:,} incidents in the selected days "
        "(every one is in the uptime_incidents table: gatewatch sql)."
    )
    return html.Div([html.P(note, id=INCIDENTS_NOTE_ID, className="page-note"), table])
