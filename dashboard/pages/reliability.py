"""Uptime & incidents: uptime per provider over time with its incidents, SLA attainment and
error budget over the selected days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, html

from analytics.figures import error_budget_bars, uptime_with_incidents
from dashboard.components import (
    FILTER_STORE_ID,
    chart,
    format_count,
    format_percent,
    kpi_card,
    no_data_message,
)
from dashboard.data import Filters
from dashboard.data_reliability import (
    DAY_MINUTES,
    HOUR_MINUTES,
    incidents,
    sla_attainment,
    uptime_series,
    uptime_step_minutes,
    uptime_summary,
)
from dashboard.drilldown import Point, explorer_href, in_bucket, link_chart, only
from dashboard.incident_table import incidents_panel
from dashboard.tables import Column, data_table, format_number
from warehouse.db import Warehouse

dash.register_page(
    __name__,
    path="/uptime",
    name="Uptime & incidents",
    title="Uptime & incidents · gatewatch",
    order=1,
)

CONTENT_ID = "uptime-content"
NO_DATA_ID = "uptime-no-data"
STEP_NOTE_ID = "uptime-step-note"
KPI_IDS = ("kpi-sla-met", "kpi-incidents", "kpi-worst-uptime")
UPTIME_GRAPH_ID = "chart-uptime-incidents"
BUDGET_GRAPH_ID = "chart-error-budget"
SLA_TABLE_ID = "sla-table"
SLA_PANEL_ID = "sla-panel"
INCIDENTS_PANEL_ID = "incidents-panel"

STEP_NAMES = {DAY_MINUTES: "daily", HOUR_MINUTES: "hourly"}


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div([html.H1("Uptime & incidents")], className="page-header"),
            html.P(
                [
                    "Uptime = ok / (ok + provider errors); periods without such requests are "
                    "gaps. The app filter does not apply on this page. ",
                    html.Span(id=STEP_NOTE_ID),
                ],
                className="page-note",
            ),
            no_data_message(NO_DATA_ID),
            html.Div(
                [
                    html.Div(
                        [
                            kpi_card(KPI_IDS[0], "Providers meeting SLA"),
                            kpi_card(KPI_IDS[1], "Incidents"),
                            kpi_card(KPI_IDS[2], "Worst uptime"),
                        ],
                        className="kpi-row kpi-row-3",
                    ),
                    html.Div(chart(UPTIME_GRAPH_ID), className="chart-wide"),
                    html.Div(
                        [
                            chart(BUDGET_GRAPH_ID),
                            html.Div(
                                [html.H2("SLA per provider"), html.Div(id=SLA_PANEL_ID)],
                                className="panel",
                            ),
                        ],
                        className="chart-grid chart-grid-1-2",
                    ),
                    html.Div(
                        [html.H2("Incidents, newest first"), html.Div(id=INCIDENTS_PANEL_ID)],
                        className="panel",
                    ),
                ],
                id=CONTENT_ID,
            ),
        ]
    )


SLA_COLUMNS = (
    Column("Provider", lambda r: r["provider"]),
    Column("Eligible", lambda r: format_count(r["eligible_requests"]), numeric=True),
    Column("Errors", lambda r: format_count(r["provider_errors"]), numeric=True),
    Column("Uptime", lambda r: format_percent(r["uptime"]), numeric=True),
    Column(
        "Attained",
        lambda r: "—" if r["attained"] is None else ("yes" if r["attained"] else "no"),
    ),
    Column("Budget", lambda r: format_number(r["error_budget_requests"], 1), numeric=True),
    Column("Budget used", lambda r: format_percent(r["budget_used"]), numeric=True),
    Column("Remaining", lambda r: format_number(r["budget_remaining"], 1), numeric=True),
)


def _kpis(summary: dict[str, Any]) -> list[str]:
    """Values then details of the KPI cards, in `KPI_IDS` order."""
    values = [
        f"{summary['providers_meeting_sla']} of {summary['providers_judged']}",
        format_count(summary["incidents"]),
        format_percent(summary["worst_uptime"]),
    ]
    details = [
        f"target {format_percent(summary['sla_target'])} over the selected days",
        f"{format_count(summary['incident_failed_requests'])} failed requests",
        summary["worst_provider"] or "no eligible traffic",
    ]
    return values + details


def _step_note(step_minutes: int) -> str:
    name = STEP_NAMES.get(step_minutes, f"{step_minutes}-minute")
    return f"Chart step: {name} (from 15-minute buckets' counts)."


def _requests_behind(point: Point, filters: Filters) -> str | None:
    """A provider's bucket; the incident markers have their own table below."""
    if point.series == "incident":
        return None
    step = timedelta(minutes=uptime_step_minutes(filters))
    return explorer_href(only(in_bucket(filters, point.x, step), provider=point.series))


def register_callbacks(app: dash.Dash, warehouse: Warehouse) -> None:
    link_chart(app, UPTIME_GRAPH_ID, _requests_behind)

    @app.callback(
        [Output(f"{kpi_id}-value", "children") for kpi_id in KPI_IDS],
        [Output(f"{kpi_id}-detail", "children") for kpi_id in KPI_IDS],
        Output(UPTIME_GRAPH_ID, "figure"),
        Output(BUDGET_GRAPH_ID, "figure"),
        Output(SLA_PANEL_ID, "children"),
        Output(INCIDENTS_PANEL_ID, "children"),
        Output(STEP_NOTE_ID, "children"),
        Output(CONTENT_ID, "hidden"),
        Output(NO_DATA_ID, "hidden"),
        Input(FILTER_STORE_ID, "data"),
    )
    def update_uptime(filters_data: dict[str, Any]) -> list[Any]:
        filters = Filters.from_store(filters_data)
        series = uptime_series(warehouse, filters)
        if series.is_empty():
            empty = [""] * (2 * len(KPI_IDS)) + [go.Figure(), go.Figure(), None, None, ""]
            return [*empty, True, False]
        incident_rows = incidents(warehouse, filters)
        sla = sla_attainment(warehouse, filters)
        step = uptime_step_minutes(filters)
        return [
            *_kpis(uptime_summary(sla, incident_rows)),
            uptime_with_incidents(
                series, incident_rows, title="Uptime per provider", step_minutes=step
            ),
            error_budget_bars(sla, title="Error budget used (100% = all of it)"),
            data_table(SLA_TABLE_ID, SLA_COLUMNS, sla.to_dicts()),
            incidents_panel(incident_rows),
            _step_note(step),
            False,
            True,
        ]
