"""Routing pools: per model, the providers to route to in rank order and the ones left out,
with the router configuration `gatewatch routing export` writes."""

from __future__ import annotations

from typing import Any

import dash
import polars as pl
from dash import Input, Output, dcc, html

from analytics.routing_export import FORMATS
from dashboard.components import FILTER_STORE_ID, format_count, format_percent, no_data_message
from dashboard.data import Filters
from dashboard.data_routing import routing_export_text, routing_pools
from dashboard.tables import Column, data_table, format_minute, format_ms, format_number
from warehouse.db import Warehouse

dash.register_page(
    __name__,
    path="/routing",
    name="Routing pools",
    title="Routing pools · gatewatch",
    order=3,
)

CONTENT_ID = "routing-content"
NO_DATA_ID = "routing-no-data"
WINDOW_NOTE_ID = "routing-window-note"
POOLS_ID = "routing-pool-cards"
TABLE_PANEL_ID = "routing-table-panel"
TABLE_ID = "routing-table"
EXPORT_MODEL_ID = "routing-export-model"
EXPORT_FORMAT_ID = "routing-export-format"
EXPORT_COMMAND_ID = "routing-export-command"
EXPORT_JSON_ID = "routing-export-json"


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div([html.H1("Routing pools")], className="page-header"),
            html.P(
                [
                    html.Span(id=WINDOW_NOTE_ID),
                    " The date range and app filters do not apply on this page; the provider "
                    "and model filters do.",
                ],
                className="page-note",
            ),
            no_data_message(NO_DATA_ID),
            html.Div(
                [
                    html.Div(id=POOLS_ID, className="pool-grid"),
                    html.Div(
                        [html.H2("Every provider judged"), html.Div(id=TABLE_PANEL_ID)],
                        className="panel",
                    ),
                    html.Div(
                        [
                            html.H2("Router configuration"),
                            html.Div(
                                [
                                    dcc.Dropdown(
                                        id=EXPORT_MODEL_ID,
                                        clearable=False,
                                        className="export-model",
                                    ),
                                    dcc.RadioItems(
                                        id=EXPORT_FORMAT_ID,
                                        options=list(FORMATS),
                                        value=FORMATS[0],
                                        inline=True,
                                    ),
                                ],
                                className="export-controls",
                            ),
                            html.Code(id=EXPORT_COMMAND_ID, className="export-command"),
                            html.Pre(id=EXPORT_JSON_ID, className="export-json"),
                        ],
                        className="panel",
                    ),
                ],
                id=CONTENT_ID,
            ),
        ]
    )


def _validity(row: dict[str, Any]) -> str:
    if row["tool_call_validity"] is None:
        return "—"
    return f"{format_percent(row['tool_call_validity'])} of {row['tool_calls_checked']:,}"


TABLE_COLUMNS = (
    Column("Model", lambda r: r["model"]),
    Column("Provider", lambda r: r["provider"]),
    Column("Rank", lambda r: r["rank"] if r["included"] else "out", numeric=True),
    Column("Requests", lambda r: format_count(r["requests"]), numeric=True),
    Column("Uptime", lambda r: format_percent(r["uptime"]), numeric=True),
    Column("Tool-call rate", lambda r: format_percent(r["tool_call_rate"]), numeric=True),
    Column("Tool-call validity", _validity, numeric=True),
    Column("p50 latency", lambda r: format_ms(r["p50_latency_ms"]), numeric=True),
    Column("p50 TTFT", lambda r: format_ms(r["p50_ttft_ms"]), numeric=True),
    Column("Tokens/s", lambda r: format_number(r["output_tokens_per_s"], 1), numeric=True),
    Column("Reason", lambda r: r["reason"]),
)


def _pool_header(model: str, pool_reason: str | None) -> list[Any]:
    """The model, and for a degraded pool a badge and why (every row of a pool has the same
    `pool_reason`)."""
    if pool_reason is None:
        return [html.H3(model)]
    return [
        html.H3([model, html.Span("degraded", className="pool-badge")]),
        html.P(pool_reason, className="pool-degraded-note"),
    ]


def _pool_card(model: str, pool: pl.DataFrame) -> html.Div:
    included = pool.filter(pl.col("included")).sort("rank").to_dicts()
    excluded = pool.filter(~pl.col("included")).sort("provider").to_dicts()
    pool_reason = pool["pool_reason"][0]
    parts: list[Any] = _pool_header(model, pool_reason)
    if included:
        parts.append(
            html.Ol(
                [
                    html.Li([html.Strong(r["provider"]), html.Span(f" {r['reason']}")])
                    for r in included
                ],
                className="pool-included",
            )
        )
    elif pool_reason is None:
        # Only the provider filter can hide the whole of a healthy pool.
        parts.append(html.P("No provider passes every rule.", className="empty-note"))
    if excluded:
        parts.append(
            html.Ul(
                [
                    html.Li([html.Strong(r["provider"]), html.Span(f" left out: {r['reason']}")])
                    for r in excluded
                ],
                className="pool-excluded",
            )
        )
    degraded = " pool-card-degraded" if pool_reason is not None else ""
    return html.Div(parts, className="pool-card" + degraded)


def _window_note(pools: pl.DataFrame) -> str:
    first = pools.row(0, named=True)
    return (
        f"Pools judged on the traffic from {format_minute(first['window_start'])} to "
        f"{format_minute(first['window_end'])} UTC."
    )


def register_callbacks(app: dash.Dash, warehouse: Warehouse) -> None:
    @app.callback(
        Output(POOLS_ID, "children"),
        Output(TABLE_PANEL_ID, "children"),
        Output(WINDOW_NOTE_ID, "children"),
        Output(EXPORT_MODEL_ID, "options"),
        Output(EXPORT_MODEL_ID, "value"),
        Output(CONTENT_ID, "hidden"),
        Output(NO_DATA_ID, "hidden"),
        Input(FILTER_STORE_ID, "data"),
        Input(EXPORT_MODEL_ID, "value"),
    )
    def update_pools(filters_data: dict[str, Any], picked: str | None) -> list[Any]:
        pools = routing_pools(warehouse, Filters.from_store(filters_data))
        if pools.is_empty():
            return [None, None, "", [], None, True, False]
        models = pools["model"].unique(maintain_order=True).to_list()
        cards = [
            _pool_card(model, pool)
            for (model,), pool in pools.group_by("model", maintain_order=True)
        ]
        return [
            cards,
            data_table(TABLE_ID, TABLE_COLUMNS, pools.to_dicts()),
            _window_note(pools),
            models,
            picked if picked in models else models[0],
            False,
            True,
        ]

    @app.callback(
        Output(EXPORT_COMMAND_ID, "children"),
        Output(EXPORT_JSON_ID, "children"),
        Input(EXPORT_MODEL_ID, "value"),
        Input(EXPORT_FORMAT_ID, "value"),
    )
    def update_export(model: str | None, output_format: str) -> list[str]:
        if model is None:
            return ["", ""]
        command = f"gatewatch routing export --format {output_format} --model {model}"
        text = routing_export_text(warehouse, model, output_format)
        return [command, text or "Nothing to export for this model."]
