"""Overview: headline KPIs and the daily trends of the selection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html

from analytics.figures import rate_over_time, volume_over_time
from dashboard.components import (
    FILTER_STORE_ID,
    chart,
    format_compact,
    format_count,
    format_percent,
    kpi_card,
    no_data_message,
)
from dashboard.data import Filters, Split, daily_series, totals
from dashboard.drilldown import Point, explorer_href, link_chart, on_day, only
from warehouse.db import Warehouse

dash.register_page(__name__, path="/", name="Overview", title="Overview · gatewatch", order=0)

SPLIT_ID = "overview-split"
CONTENT_ID = "overview-content"
NO_DATA_ID = "overview-no-data"
KPI_IDS = ("kpi-requests", "kpi-tool-call-rate", "kpi-reasoning-share", "kpi-uptime")
GRAPH_IDS = ("chart-tool-call-rate", "chart-reasoning-share", "chart-uptime", "chart-volume")


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.H1("Overview"),
                    html.Div(
                        [
                            html.Span("Break down by", className="filter-label"),
                            dcc.RadioItems(
                                id=SPLIT_ID,
                                options=[
                                    {"label": "provider", "value": "provider"},
                                    {"label": "model", "value": "model"},
                                ],
                                value="provider",
                                inline=True,
                            ),
                        ],
                        className="split-control",
                    ),
                ],
                className="page-header",
            ),
            no_data_message(NO_DATA_ID),
            html.Div(
                [
                    html.Div(
                        [
                            kpi_card(KPI_IDS[0], "Requests"),
                            kpi_card(KPI_IDS[1], "Tool-call rate"),
                            kpi_card(KPI_IDS[2], "Reasoning share"),
                            kpi_card(KPI_IDS[3], "Uptime"),
                        ],
                        className="kpi-row",
                    ),
                    html.Div([chart(graph_id) for graph_id in GRAPH_IDS], className="chart-grid"),
                ],
                id=CONTENT_ID,
            ),
        ]
    )


def _kpis(summary: dict[str, Any]) -> list[str]:
    """Values then details of the four KPI cards, in `KPI_IDS` order."""
    values = [
        format_count(summary["requests"]),
        format_percent(summary["tool_call_rate"]),
        format_percent(summary["reasoning_share"]),
        format_percent(summary["uptime"]),
    ]
    details = [
        f"{format_count(summary['ok_requests'])} ok",
        f"{format_count(summary['tool_call_requests'])} of "
        f"{format_count(summary['ok_requests'])} ok requests",
        f"{format_compact(summary['reasoning_tokens'])} of "
        f"{format_compact(summary['reasoning_output_tokens'])} output tokens (reporting models)",
        f"{format_count(summary['provider_errors'])} provider errors",
    ]
    return values + details


def _figures(warehouse: Warehouse, filters: Filters, split: Split) -> list[go.Figure]:
    overall = daily_series(warehouse, filters)
    by_split = daily_series(warehouse, filters, split=split)
    by_provider = by_split if split == "provider" else daily_series(warehouse, filters, "provider")
    common = {"x": "period_start", "color": "series", "overall": overall}
    return [
        rate_over_time(
            by_split, y="tool_call_rate", title="Tool-call rate (of ok requests)", **common
        ),
        rate_over_time(
            by_split, y="reasoning_share", title="Reasoning share of output tokens", **common
        ),
        rate_over_time(
            by_provider,
            x="period_start",
            y="uptime",
            color="series",
            title="Uptime per provider",
            y_from_zero=False,
        ),
        volume_over_time(
            by_split, x="period_start", y="requests", color="series", title="Requests per day"
        ),
    ]


# The rates' points count ok requests only; uptime lines are per provider whatever the split.
OK_ONLY_GRAPHS = ("chart-tool-call-rate", "chart-reasoning-share")


def _requests_behind(graph_id: str) -> Callable[[Point, Filters, Split], str]:
    def href(point: Point, filters: Filters, split: Split) -> str:
        narrowed = on_day(filters, point.x)
        key = "provider" if graph_id == "chart-uptime" else split
        if point.series and point.series != "all":
            narrowed = only(narrowed, **{key: point.series})
        return explorer_href(narrowed, status=["ok"] if graph_id in OK_ONLY_GRAPHS else [])

    return href


def register_callbacks(app: dash.Dash, warehouse: Warehouse) -> None:
    for graph_id in GRAPH_IDS:
        link_chart(app, graph_id, _requests_behind(graph_id), State(SPLIT_ID, "value"))

    @app.callback(
        [Output(f"{kpi_id}-value", "children") for kpi_id in KPI_IDS],
        [Output(f"{kpi_id}-detail", "children") for kpi_id in KPI_IDS],
        [Output(graph_id, "figure") for graph_id in GRAPH_IDS],
        Output(CONTENT_ID, "hidden"),
        Output(NO_DATA_ID, "hidden"),
        Input(FILTER_STORE_ID, "data"),
        Input(SPLIT_ID, "value"),
    )
    def update_overview(filters_data: dict[str, Any], split: Split) -> list[Any]:
        filters = Filters.from_store(filters_data)
        summary = totals(warehouse, filters)
        if summary["requests"] == 0:
            empty = [""] * (2 * len(KPI_IDS)) + [go.Figure()] * len(GRAPH_IDS)
            return [*empty, True, False]
        return [*_kpis(summary), *_figures(warehouse, filters, split), False, True]
