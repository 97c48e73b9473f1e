"""Model mix: how traffic splits between frontier and small models, per model and agent role."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dash
import plotly.graph_objects as go
import polars as pl
from dash import Input, Output, html

from analytics.figures import requests_by_model, roles_by_model, tier_share_over_time
from analytics.figures.mix import tier_order
from dashboard.components import (
    FILTER_STORE_ID,
    chart,
    format_compact,
    format_count,
    format_percent,
    kpi_card,
    no_data_message,
    table,
)
from dashboard.data import Filters
from dashboard.data_model_mix import (
    agent_roles,
    mix_totals,
    model_requests,
    previous_period,
    spend_totals,
    tier_mix_daily,
    tier_spend_daily,
)
from dashboard.drilldown import Point, explorer_href, link_chart, on_day, only
from warehouse.db import Warehouse

dash.register_page(
    __name__, path="/model-mix", name="Model mix", title="Model mix · gatewatch", order=4
)

CONTENT_ID = "mix-content"
NO_DATA_ID = "mix-no-data"
KPI_IDS = (
    "kpi-frontier-requests",
    "kpi-frontier-tokens",
    "kpi-mix-requests",
    "kpi-agent-calls",
    "kpi-frontier-spend",
)
GRAPH_IDS = (
    "chart-tier-requests",
    "chart-tier-tokens",
    "chart-model-requests",
    "chart-roles",
    "chart-tier-spend",
)
ROLES_CHART_BOX_ID = "mix-roles-chart"
ROLES_NOTE_ID = "mix-roles-note"
MODELS_TABLE_ID = "mix-models-table"

AGENT_ROLES = ("planner", "executor")


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div(html.H1("Model mix"), className="page-header"),
            html.P(
                "Tiers come from the config file's [tiers] patterns, then the built-in rules. "
                "Tokens are input plus output tokens of ok requests. Spend is the cost the "
                "gateway reported where it did, else an estimate from the price table "
                "([[prices]] in the config, then built-in list prices), hence (est.). Every "
                "filter applies to tiers and models; agent roles follow the date and model "
                "filters only (they have no provider or app).",
                className="page-note",
            ),
            no_data_message(NO_DATA_ID),
            html.Div(
                [
                    html.Div(
                        [
                            kpi_card(KPI_IDS[0], "Frontier share of requests"),
                            kpi_card(KPI_IDS[1], "Frontier share of tokens"),
                            kpi_card(KPI_IDS[2], "Requests"),
                            kpi_card(KPI_IDS[3], "Agent calls (planner or executor)"),
                            kpi_card(KPI_IDS[4], "Frontier share of spend (est.)"),
                        ],
                        className="kpi-row",
                    ),
                    html.Div(
                        [
                            chart(GRAPH_IDS[0]),
                            chart(GRAPH_IDS[1]),
                            chart(GRAPH_IDS[4]),
                            chart(GRAPH_IDS[2]),
                            html.Div(chart(GRAPH_IDS[3]), id=ROLES_CHART_BOX_ID),
                            html.Div(id=ROLES_NOTE_ID, className="chart-card chart-message"),
                        ],
                        className="chart-grid",
                    ),
                    html.Div(
                        [html.H2("Models"), html.Div(id=MODELS_TABLE_ID)],
                        className="table-card",
                    ),
                ],
                id=CONTENT_ID,
            ),
        ]
    )


def _share_change(current: float | None, previous: float | None, days: int) -> str:
    """The previous period's share and the change since, in percentage points."""
    label = f"previous {days} days"
    if previous is None:
        return f"{label}: no data"
    if current is None:
        return f"{label}: {format_percent(previous)}"
    return f"{label}: {format_percent(previous)} ({(current - previous) * 100:+.1f} pts)"


def _agent_kpi(roles: pl.DataFrame) -> tuple[str, str]:
    """Share of calls with an agent role, and which roles they were."""
    calls = int(roles["requests"].sum())
    by_role = {
        role: int(roles.filter(pl.col("role") == role)["requests"].sum()) for role in AGENT_ROLES
    }
    agent_calls = sum(by_role.values())
    if calls == 0:
        return format_percent(None), "no calls for these models and dates"
    if agent_calls == 0:
        return format_percent(0.0), "all calls are single: no agent traces"
    return format_percent(agent_calls / calls), (
        f"{format_count(by_role['planner'])} planner, "
        f"{format_count(by_role['executor'])} executor of {format_count(calls)} calls"
    )


def _spend_kpi(spend: dict[str, Any]) -> tuple[str, str]:
    """The frontier tier's share of spend, and how much of the spend is estimated."""
    unpriced = spend["unpriced_requests"]
    unpriced_note = f"; {format_count(unpriced)} requests without a price" if unpriced else ""
    if not spend["spend_usd"]:
        return format_percent(None), "no priced requests: add [[prices]] to the config"
    return format_percent(spend["frontier_share_spend"]), (
        f"{_dollars(spend['spend_usd'])} spend, {format_percent(spend['estimated_share'])} "
        f"of it estimated{unpriced_note}"
    )


def _dollars(value: float) -> str:
    return f"${value:,.2f}" if abs(value) >= 1 else f"${value:.4f}"


def _kpis(
    totals: dict[str, Any],
    previous: dict[str, Any],
    days: int,
    roles: pl.DataFrame,
    spend: dict[str, Any],
) -> list[str]:
    """Values then details of the KPI cards, in `KPI_IDS` order."""
    agent_value, agent_detail = _agent_kpi(roles)
    spend_value, spend_detail = _spend_kpi(spend)
    values = [
        format_percent(totals["frontier_share_requests"]),
        format_percent(totals["frontier_share_tokens"]),
        format_count(totals["requests"]),
        agent_value,
        spend_value,
    ]
    details = [
        _share_change(totals["frontier_share_requests"], previous["frontier_share_requests"], days),
        _share_change(totals["frontier_share_tokens"], previous["frontier_share_tokens"], days),
        f"{format_count(totals['models'])} models in {format_count(totals['tiers'])} tiers, "
        f"{format_compact(totals['tokens'])} tokens",
        agent_detail,
        spend_detail,
    ]
    return values + details


def _roles_note(roles: pl.DataFrame) -> str | None:
    """Why there is no roles chart, or None when there is one to show."""
    if roles.is_empty():
        return "No LLM calls for these models and dates, so no agent roles."
    if roles["role"].unique().to_list() == ["single"]:
        return (
            f"All {format_count(int(roles['requests'].sum()))} LLM calls are 'single': no "
            "trace has two or more calls, so there are no agent traces and no planner or "
            "executor roles. Roles come from traces (spans sharing a trace id)."
        )
    return None


def _models_table(models: pl.DataFrame) -> html.Table:
    """Models grouped by tier (in tier order), busiest first, with the rule that tiered them."""
    rank = {tier: position for position, tier in enumerate(tier_order(models["tier"]))}
    ordered = sorted(models.iter_rows(named=True), key=lambda m: (rank[m["tier"]], -m["requests"]))
    return table(
        ("Model", "Tier", "Tier rule", "Requests", "Share of tier", "Tokens"),
        (
            (
                row["model"],
                row["tier"],
                f"{row['pattern']} ({row['origin']})" if row["pattern"] else "no rule matched",
                format_count(row["requests"]),
                format_percent(row["share_of_tier"]),
                format_compact(row["tokens"]),
            )
            for row in ordered
        ),
    )


def _figures(
    mix: pl.DataFrame, models: pl.DataFrame, roles: pl.DataFrame, spend: pl.DataFrame
) -> list[go.Figure]:
    return [
        tier_share_over_time(
            mix, x="period_start", y="share_requests", title="Share of requests by tier"
        ),
        tier_share_over_time(
            mix, x="period_start", y="share_tokens", title="Share of tokens by tier"
        ),
        requests_by_model(models, title="Requests by model, within each tier"),
        roles_by_model(roles, title="LLM calls by agent role and model"),
        tier_share_over_time(
            spend, x="period_start", y="share_spend", title="Share of spend by tier (est.)"
        ),
    ]


def _model_requests_behind(point: Point, filters: Filters) -> str:
    return explorer_href(only(filters, model=str(point.y)))


def register_callbacks(app: dash.Dash, warehouse: Warehouse) -> None:
    def tier_requests_behind(point: Point, filters: Filters) -> str | None:
        """A tier's bar of a day: that day's requests of the tier's models."""
        models = model_requests(warehouse, filters).filter(pl.col("tier") == point.series)
        if models.is_empty():
            return None
        return explorer_href(replace(on_day(filters, point.x), models=tuple(models["model"])))

    link_chart(app, GRAPH_IDS[0], tier_requests_behind)
    link_chart(app, GRAPH_IDS[1], tier_requests_behind)
    link_chart(app, GRAPH_IDS[2], _model_requests_behind)
    link_chart(app, GRAPH_IDS[4], tier_requests_behind)

    @app.callback(
        [Output(f"{kpi_id}-value", "children") for kpi_id in KPI_IDS],
        [Output(f"{kpi_id}-detail", "children") for kpi_id in KPI_IDS],
        [Output(graph_id, "figure") for graph_id in GRAPH_IDS],
        Output(ROLES_CHART_BOX_ID, "hidden"),
        Output(ROLES_NOTE_ID, "children"),
        Output(ROLES_NOTE_ID, "hidden"),
        Output(MODELS_TABLE_ID, "children"),
        Output(CONTENT_ID, "hidden"),
        Output(NO_DATA_ID, "hidden"),
        Input(FILTER_STORE_ID, "data"),
    )
    def update_model_mix(filters_data: dict[str, Any]) -> list[Any]:
        filters = Filters.from_store(filters_data)
        totals = mix_totals(warehouse, filters)
        if totals["requests"] == 0:
            empty = [""] * (2 * len(KPI_IDS)) + [go.Figure()] * len(GRAPH_IDS)
            return [*empty, True, "", True, None, True, False]
        previous = mix_totals(warehouse, previous_period(filters))
        days = (filters.end - filters.start).days + 1
        models = model_requests(warehouse, filters)
        roles = agent_roles(warehouse, filters)
        note = _roles_note(roles)
        return [
            *_kpis(totals, previous, days, roles, spend_totals(warehouse, filters)),
            *_figures(
                tier_mix_daily(warehouse, filters),
                models,
                roles,
                tier_spend_daily(warehouse, filters),
            ),
            note is not None,
            note or "",
            note is None,
            _models_table(models),
            False,
            True,
        ]
