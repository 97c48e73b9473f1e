"""The request explorer's tables: a page of requests (rows clickable) and a trace's requests."""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import html

from dashboard.tables import MISSING, Column, Row, format_ms

SORT_LABELS = {
    "started_at": "time",
    "duration_ms": "duration",
    "ttft_ms": "time to first token",
    "input_tokens": "input tokens",
    "output_tokens": "output tokens",
    "cost_usd": "cost",
    "estimated_cost_usd": "estimated cost",
}


def _count(key: str) -> Any:
    return lambda r: MISSING if r[key] is None else f"{r[key]:,}"


def _text(key: str) -> Any:
    return lambda r: MISSING if r[key] is None else r[key]


def _dollars(key: str) -> Any:
    return lambda r: MISSING if r[key] is None else f"${r[key]:.6f}"


def _time(row: Row) -> str:
    return f"{row['started_at']:%Y-%m-%d %H:%M:%S}"


COLUMNS = (
    Column("Time (UTC)", _time),
    Column("Provider", _text("provider")),
    Column("Model", _text("model")),
    Column("App", _text("app")),
    Column("Tenant", _text("tenant")),
    Column("Status", _text("status")),
    Column("Error type", _text("error_type")),
    Column("Finish", _text("finish_reason")),
    Column("Input", _count("input_tokens"), numeric=True),
    Column("Output", _count("output_tokens"), numeric=True),
    Column("Reasoning", _count("reasoning_tokens"), numeric=True),
    Column("Cached", _count("cached_input_tokens"), numeric=True),
    Column("Tool calls", _count("tool_calls"), numeric=True),
    Column("Duration", lambda r: format_ms(r["duration_ms"]), numeric=True),
    Column("TTFT", lambda r: format_ms(r["ttft_ms"]), numeric=True),
    Column("Cost", _dollars("cost_usd"), numeric=True),  # as the gateway reported it
    Column("Est. cost", _dollars("estimated_cost_usd"), numeric=True),  # from the price table
    Column("Request id", _text("request_id")),
    Column("Trace id", _text("trace_id")),
)


def _table(table_id: str, rows: list[Row], row_props: Any) -> html.Table:
    header = html.Tr([html.Th(c.label, className="num" if c.numeric else None) for c in COLUMNS])
    body = [
        html.Tr(
            [html.Td(c.render(row), className="num" if c.numeric else None) for c in COLUMNS],
            **row_props(index, row),
        )
        for index, row in enumerate(rows)
    ]
    return html.Table(
        [html.Thead(header), html.Tbody(body)], id=table_id, className="data-table compact"
    )


def requests_table(rows: pl.DataFrame, row_type: str) -> html.Table | html.P:
    """One page of requests; each row is clickable (`{"type": row_type, "index": i}`)."""
    if rows.is_empty():
        return html.P("No requests on this page.", className="empty-note")
    return _table(
        "explorer-table",
        rows.to_dicts(),
        lambda index, _row: {
            "id": {"type": row_type, "index": index},
            "n_clicks": 0,
            "className": "clickable-row",
        },
    )


def siblings_panel(trace_id: str | None, request_id: str | None, rows: pl.DataFrame) -> html.Div:
    """Every request of a trace, oldest first, the clicked one highlighted."""
    if not trace_id:
        body: Any = html.P(
            f"Request {request_id} has no trace id, so it has no siblings to show.",
            className="empty-note",
        )
        title = "Trace"
    else:
        title = f"Trace {trace_id}: {rows.height:,} request{'s' * (rows.height != 1)}"
        body = _table(
            "explorer-trace-table",
            rows.to_dicts(),
            lambda _index, row: {
                "className": "row-selected" if row["request_id"] == request_id else None
            },
        )
    return html.Div([html.H2(title), body], id="explorer-trace-card", className="panel")
