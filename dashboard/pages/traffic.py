"""Traffic: when requests arrive (UTC), recurring batch windows, errors under load, latency."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any, Literal

import dash
import plotly.graph_objects as go
import polars as pl
from dash import Input, Output, dcc, html

from analytics.figures import (
    hour_weekday_heatmap,
    hourly_requests_with_windows,
    latency_over_time,
    peak_to_mean_by_day,
    rate_vs_load,
    speed_over_time,
)
from analytics.figures.traffic import HOURS, WEEKDAYS
from dashboard.components import (
    FILTER_STORE_ID,
    chart,
    format_count,
    format_percent,
    kpi_card,
    no_data_message,
    table,
)
from dashboard.data import Filters
from dashboard.data_traffic import (
    LATENCY_SERIES_SEPARATOR,
    batch_windows,
    daily_peaks,
    heatmap,
    hourly_requests,
    latency_daily,
    load_error_curve,
    traffic_totals,
)
from dashboard.drilldown import Point, explorer_href, in_bucket, link_chart, on_day, only
from warehouse.db import Warehouse

dash.register_page(
    __name__,
    path="/traffic",
    name="Traffic",
    title="Traffic: bursts & latency · gatewatch",
    order=5,
)

Percentile = Literal["p50", "p95", "p99"]

PERCENTILE_ID = "traffic-percentile"
CONTENT_ID = "traffic-content"
NO_DATA_ID = "traffic-no-data"
WINDOWS_TABLE_ID = "traffic-windows-table"
KPI_IDS = ("kpi-traffic-requests", "kpi-busiest-hour", "kpi-peak-to-mean", "kpi-rate-limited")
HOURLY_GRAPH_ID = "chart-hourly-requests"
BURST_GRAPH_IDS = (
    "chart-heatmap",
    "chart-peak-to-mean",
    "chart-error-vs-load",
    "chart-rate-limit-vs-load",
)
LATENCY_GRAPH_IDS = (
    "chart-latency",
    "chart-ttft",
    "chart-output-throughput",
    "chart-output-speed-median",
)
GRAPH_IDS = (HOURLY_GRAPH_ID, *BURST_GRAPH_IDS, *LATENCY_GRAPH_IDS)


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div(html.H1("Traffic: bursts & latency"), className="page-header"),
            html.P(
                [
                    html.Strong("All times are UTC. "),
                    "The heatmap, hourly requests and daily peaks follow the date, provider "
                    "and app filters (not the model). Batch windows follow the app filter (all "
                    "traffic when none is picked) and the errors under load the provider "
                    "filter, both over the whole history. Latency follows the date, provider "
                    "and model filters (not the app); its percentiles are per provider and "
                    "model, as percentiles of different groups cannot be combined.",
                ],
                className="page-note",
            ),
            no_data_message(NO_DATA_ID),
            html.Div(
                [
                    html.Div(
                        [
                            kpi_card(KPI_IDS[0], "Requests"),
                            kpi_card(KPI_IDS[1], "Busiest hour of the week (UTC)"),
                            kpi_card(KPI_IDS[2], "Median daily peak-to-mean"),
                            kpi_card(KPI_IDS[3], "Rate-limited"),
                        ],
                        className="kpi-row",
                    ),
                    html.Div(chart(HOURLY_GRAPH_ID), className="chart-stack"),
                    html.Div(
                        [html.H2("Recurring batch windows"), html.Div(id=WINDOWS_TABLE_ID)],
                        className="table-card",
                    ),
                    html.Div(
                        [chart(graph_id) for graph_id in BURST_GRAPH_IDS], className="chart-grid"
                    ),
                    html.Div(
                        [
                            html.H2("Latency and output speed"),
                            html.Div(
                                [
                                    html.Span("Percentile", className="filter-label"),
                                    dcc.RadioItems(
                                        id=PERCENTILE_ID,
                                        options=["p50", "p95", "p99"],
                                        value="p95",
                                        inline=True,
                                    ),
                                ],
                                className="split-control",
                            ),
                        ],
                        className="section-header",
                    ),
                    html.Div(
                        [chart(graph_id) for graph_id in LATENCY_GRAPH_IDS],
                        className="chart-stack",
                    ),
                ],
                id=CONTENT_ID,
            ),
        ]
    )


def _kpis(totals: dict[str, Any], slots: pl.DataFrame, peaks: pl.DataFrame) -> list[str]:
    """Values then details of the four KPI cards, in `KPI_IDS` order."""
    busiest = slots.row(int(slots["mean_requests"].arg_max()), named=True)
    requests = totals["requests"]
    values = [
        format_count(requests),
        f"{WEEKDAYS[busiest['weekday'] - 1]} {HOURS[busiest['hour']]}",
        f"{peaks['peak_to_mean'].median():.1f}×",
        format_percent(totals["rate_limited"] / requests),
    ]
    details = [
        f"{format_count(totals['provider_errors'])} provider errors",
        f"{busiest['mean_requests']:,.1f} requests in that hour on average",
        f"busiest hour ÷ mean hour, over {format_count(len(peaks))} days",
        f"{format_count(totals['rate_limited'])} of {format_count(requests)} requests throttled",
    ]
    return values + details


def _windows_table(windows: pl.DataFrame) -> html.Div | html.Table:
    if windows.is_empty():
        return html.Div("No recurring batch window detected.", className="table-message")
    return table(
        ("Scope", "Window (UTC)", "Days with a hot hour", "× median hour", "Share of traffic"),
        (
            (
                row["app"] or "all traffic",
                f"{HOURS[row['start_hour']]}–{HOURS[row['end_hour']]}",
                f"{row['days_seen']} of {row['days']}",
                "—"
                if row["mean_multiple_of_baseline"] is None
                else f"{row['mean_multiple_of_baseline']:.1f}×",
                format_percent(row["share_of_traffic"]),
            )
            for row in windows.iter_rows(named=True)
        ),
    )


def _burst_figures(
    hourly: pl.DataFrame,
    windows: pl.DataFrame,
    slots: pl.DataFrame,
    peaks: pl.DataFrame,
    load: pl.DataFrame,
) -> list[go.Figure]:
    return [
        hourly_requests_with_windows(
            hourly,
            windows,
            x="hour_start",
            y="requests",
            title="Requests per hour (UTC), recurring batch windows shaded",
        ),
        hour_weekday_heatmap(
            slots, z="mean_requests", title="Mean requests per hour, by weekday and hour (UTC)"
        ),
        peak_to_mean_by_day(peaks, x="day", title="Busiest hour ÷ mean hour, per day"),
        rate_vs_load(load, y="error_rate", title="Provider error rate vs hourly load"),
        rate_vs_load(load, y="rate_limit_rate", title="Rate-limited share vs hourly load"),
    ]


def _latency_figures(latency: pl.DataFrame, percentile: Percentile) -> list[go.Figure]:
    common = {"x": "period_start", "color": "series"}
    return [
        latency_over_time(
            latency,
            y=f"{percentile}_duration_ms",
            title=f"Latency {percentile}, ok requests",
            **common,
        ),
        latency_over_time(
            latency,
            y=f"{percentile}_ttft_ms",
            title=f"Time to first token {percentile} (requests reporting it)",
            **common,
        ),
        speed_over_time(
            latency, y="output_tokens_per_second", title="Output tokens/s, throughput", **common
        ),
        speed_over_time(
            latency,
            y="p50_output_tokens_per_second",
            title="Output tokens/s, median request",
            **common,
        ),
    ]


def _hour_requests_behind(point: Point, filters: Filters) -> str | None:
    """The clicked hour (the model filter does not apply to this chart)."""
    if point.series != "requests":
        return None
    return explorer_href(replace(in_bucket(filters, point.x, timedelta(hours=1)), models=()))


def _latency_requests_behind(point: Point, filters: Filters) -> str | None:
    """The series' ok requests of the day, slowest first (the app filter does not apply)."""
    provider, _, model = point.series.partition(LATENCY_SERIES_SEPARATOR)
    if not model:
        return None
    narrowed = replace(only(on_day(filters, point.x), provider=provider, model=model), apps=())
    return explorer_href(narrowed, status="ok", sort="duration_ms")


def register_callbacks(app: dash.Dash, warehouse: Warehouse) -> None:
    link_chart(app, HOURLY_GRAPH_ID, _hour_requests_behind)
    for graph_id in LATENCY_GRAPH_IDS[:2]:
        link_chart(app, graph_id, _latency_requests_behind)

    @app.callback(
        [Output(f"{kpi_id}-value", "children") for kpi_id in KPI_IDS],
        [Output(f"{kpi_id}-detail", "children") for kpi_id in KPI_IDS],
        [Output(graph_id, "figure") for graph_id in GRAPH_IDS],
        Output(WINDOWS_TABLE_ID, "children"),
        Output(CONTENT_ID, "hidden"),
        Output(NO_DATA_ID, "hidden"),
        Input(FILTER_STORE_ID, "data"),
        Input(PERCENTILE_ID, "value"),
    )
    def update_traffic(filters_data: dict[str, Any], percentile: Percentile) -> list[Any]:
        filters = Filters.from_store(filters_data)
        hourly = hourly_requests(warehouse, filters)
        totals = traffic_totals(hourly)
        if totals["requests"] == 0:
            empty = [""] * (2 * len(KPI_IDS)) + [go.Figure()] * len(GRAPH_IDS)
            return [*empty, None, True, False]
        slots, peaks = heatmap(warehouse, filters), daily_peaks(warehouse, filters)
        windows = batch_windows(warehouse, filters)
        return [
            *_kpis(totals, slots, peaks),
            *_burst_figures(hourly, windows, slots, peaks, load_error_curve(warehouse, filters)),
            *_latency_figures(latency_daily(warehouse, filters), percentile),
            _windows_table(windows),
            False,
            True,
        ]
