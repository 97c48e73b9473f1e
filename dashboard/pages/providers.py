"""Same model across providers: one model's providers side by side with their peers, and
every divergent (week, model, provider) of the selection."""

from __future__ import annotations

from typing import Any

import dash
import plotly.graph_objects as go
import polars as pl
from dash import Input, Output, State, dcc, html

from analytics.figures import finish_mix_bars, provider_comparison_bars
from dashboard.components import (
    FILTER_STORE_ID,
    chart,
    format_count,
    format_percent,
    no_data_message,
)
from dashboard.data import Filters
from dashboard.data_providers import (
    FINISH_REASONS,
    divergence_models,
    divergent_cells,
    provider_comparison,
)
from dashboard.drilldown import Point, explorer_href, link_chart, only
from dashboard.tables import Column, data_table, format_number
from warehouse.db import Warehouse

dash.register_page(
    __name__,
    path="/providers",
    name="Same model across providers",
    title="Same model across providers · gatewatch",
    order=2,
)

MODEL_PICKER_ID = "providers-model"
CONTENT_ID = "providers-content"
NO_DATA_ID = "providers-no-data"
COMPARISON_GRAPH_ID = "chart-provider-comparison"
FINISH_GRAPH_ID = "chart-finish-mix"
COMPARISON_TABLE_ID = "provider-comparison-table"
DIVERGENT_PANEL_ID = "divergent-panel"
DIVERGENT_TABLE_ID = "divergent-table"


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div([html.H1("Same model across providers")], className="page-header"),
            html.P(
                "ISO weeks overlapping the date range, pooled; each provider against all "
                "other providers of the model (its peers). Cells need enough ok answers on "
                "both sides to be tested. The app filter does not apply on this page.",
                className="page-note",
            ),
            html.Div(
                [
                    html.Label("Model", htmlFor=MODEL_PICKER_ID, className="filter-label"),
                    dcc.Dropdown(id=MODEL_PICKER_ID, clearable=False, className="page-picker"),
                ],
                className="picker-row",
            ),
            no_data_message(NO_DATA_ID),
            html.Div(
                [
                    html.Div(
                        [html.H2("Providers of the model"), html.Div(id=COMPARISON_TABLE_ID)],
                        className="panel",
                    ),
                    html.Div(chart(COMPARISON_GRAPH_ID), className="chart-wide chart-tall"),
                    html.Div(chart(FINISH_GRAPH_ID), className="chart-wide"),
                    html.Div(
                        [
                            html.H2("Divergent weeks, all models, newest first"),
                            html.Div(id=DIVERGENT_PANEL_ID),
                        ],
                        className="panel",
                    ),
                ],
                id=CONTENT_ID,
            ),
        ]
    )


def _verdict(row: dict[str, Any]) -> str:
    if not row["divergent_weeks"]:
        return f"consistent with peers ({row['weeks']} weeks tested)"
    return (
        f"divergent in {row['divergent_weeks']} of {row['weeks']} weeks; latest "
        f"({row['last_divergent_week']:%Y-%m-%d}): {row['divergent_reason']}"
    )


def _versus(column: str) -> Any:
    return lambda r: f"{format_percent(r[column])} vs {format_percent(r['peer_' + column])}"


COMPARISON_COLUMNS = (
    Column("Provider", lambda r: r["provider"]),
    Column("Requests", lambda r: format_count(r["requests"]), numeric=True),
    Column("Tool-call rate vs peers", _versus("tool_call_rate"), numeric=True),
    Column("Error rate vs peers", _versus("error_rate"), numeric=True),
    Column("Reasoning share vs peers", _versus("reasoning_share"), numeric=True),
    Column(
        "Mean output tokens vs peers",
        lambda r: (
            f"{format_number(r['mean_output_tokens'])} vs "
            f"{format_number(r['peer_mean_output_tokens'])}"
        ),
        numeric=True,
    ),
    Column("Verdict", _verdict),
)

DIVERGENT_COLUMNS = (
    Column("Week", lambda r: f"{r['period_start']:%Y-%m-%d}"),
    Column("Model", lambda r: r["model"]),
    Column("Provider", lambda r: r["provider"]),
    Column("Ok answers", lambda r: format_count(r["ok_requests"]), numeric=True),
    Column("Reason", lambda r: r["reason"]),
)


def _divergent_panel(cells: pl.DataFrame) -> Any:
    if cells.is_empty():
        return html.P("No divergent week in the selection.", className="empty-note")
    return data_table(DIVERGENT_TABLE_ID, DIVERGENT_COLUMNS, cells.to_dicts())


def _comparison(warehouse: Warehouse, filters: Filters, model: str) -> list[Any]:
    rows = provider_comparison(warehouse, filters, model)
    return [
        data_table(
            f"{COMPARISON_TABLE_ID}-rows",
            COMPARISON_COLUMNS,
            rows.to_dicts(),
            row_class=lambda r: "row-alert" if r["divergent_weeks"] else None,
        ),
        provider_comparison_bars(rows, title=f"{model}: each provider against its peers"),
        finish_mix_bars(
            rows, reasons=FINISH_REASONS, title="Finish-reason mix of ok answers vs peers"
        ),
    ]


PEERS_SERIES = "its peers (pooled)"


def _requests_behind(point: Point, filters: Filters, model: str | None) -> str | None:
    """The model on the clicked provider; a peers bar is the model on every provider."""
    if not model:
        return None
    narrowed = only(filters, model=model)
    if point.series != PEERS_SERIES:
        narrowed = only(narrowed, provider=str(point.x))
    return explorer_href(narrowed)


def register_callbacks(app: dash.Dash, warehouse: Warehouse) -> None:
    link_chart(app, COMPARISON_GRAPH_ID, _requests_behind, State(MODEL_PICKER_ID, "value"))

    # The picker is both input and output: a new filter selection may drop the picked model,
    # which then falls back to the default (the most providers, then the most traffic).
    @app.callback(
        Output(MODEL_PICKER_ID, "options"),
        Output(MODEL_PICKER_ID, "value"),
        Output(COMPARISON_TABLE_ID, "children"),
        Output(COMPARISON_GRAPH_ID, "figure"),
        Output(FINISH_GRAPH_ID, "figure"),
        Output(DIVERGENT_PANEL_ID, "children"),
        Output(CONTENT_ID, "hidden"),
        Output(NO_DATA_ID, "hidden"),
        Input(FILTER_STORE_ID, "data"),
        Input(MODEL_PICKER_ID, "value"),
    )
    def update_providers(filters_data: dict[str, Any], picked: str | None) -> list[Any]:
        filters = Filters.from_store(filters_data)
        models = divergence_models(warehouse, filters)
        if models.is_empty():
            return [[], None, None, go.Figure(), go.Figure(), None, True, False]
        names = models["model"].to_list()
        model = picked if picked in names else names[0]
        options = [
            {"label": f"{r['model']} ({r['providers']} providers)", "value": r["model"]}
            for r in models.iter_rows(named=True)
        ]
        cells = divergent_cells(warehouse, filters)
        return [
            options,
            model,
            *_comparison(warehouse, filters, model),
            _divergent_panel(cells),
            False,
            True,
        ]
