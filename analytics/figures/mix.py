"""Model mix: tier shares over time, requests per model within each tier, agent roles.

Tiers keep one colour and one order on every chart: frontier, small, any tier of the config
file by name, unclassified last.
"""

from __future__ import annotations

from collections.abc import Iterable

import plotly.graph_objects as go
import polars as pl

from analytics.figures.base import COLORWAY, TEMPLATE, base_figure
from analytics.jobs.model_mix import UNCLASSIFIED

KNOWN_TIERS: tuple[str, ...] = ("frontier", "small")
UNCLASSIFIED_COLOR = "#9ca3af"
ROLES: tuple[str, ...] = ("planner", "executor", "single")
ROLE_COLORS = {"planner": COLORWAY[3], "executor": COLORWAY[5], "single": UNCLASSIFIED_COLOR}


def tier_order(tiers: Iterable[str]) -> list[str]:
    """Distinct tiers, known ones first, then by name, `unclassified` last."""

    def rank(tier: str) -> tuple[int, int, str]:
        if tier in KNOWN_TIERS:
            return (0, KNOWN_TIERS.index(tier), tier)
        return (2 if tier == UNCLASSIFIED else 1, 0, tier)

    return sorted(set(tiers), key=rank)


def tier_colors(tiers: Iterable[str]) -> dict[str, str]:
    """A stable colour per tier: known tiers their own, config tiers the next of the colorway."""
    spare = iter(COLORWAY[len(KNOWN_TIERS) :])
    colors = {}
    for tier in tier_order(tiers):
        if tier == UNCLASSIFIED:
            colors[tier] = UNCLASSIFIED_COLOR
        elif tier in KNOWN_TIERS:
            colors[tier] = COLORWAY[KNOWN_TIERS.index(tier)]
        else:
            colors[tier] = next(spare, UNCLASSIFIED_COLOR)
    return colors


def tier_share_over_time(df: pl.DataFrame, *, x: str, y: str, title: str) -> go.Figure:
    """100% bars per `x`, stacked by `tier`; an `x` without rows is a gap, not an empty bar."""
    fig = base_figure(title, "percent")
    colors = tier_colors(df["tier"])
    for tier in tier_order(df["tier"]):
        part = df.filter(pl.col("tier") == tier).sort(x)
        fig.add_trace(
            go.Bar(
                x=part[x].to_list(),
                y=part[y].to_list(),
                name=tier,
                marker={"color": colors[tier]},
            )
        )
    # Stacked bars list their legend bottom-up by default; keep the tier order instead.
    fig.update_layout(barmode="stack", bargap=0.1, legend={"traceorder": "normal"})
    fig.update_yaxes(range=[0, 1])
    return fig


def _horizontal_bars(title: str, row_labels: list[str]) -> go.Figure:
    """Stacked horizontal bars, first label on top, tall enough for every label."""
    fig = go.Figure(layout={"template": TEMPLATE, "title": {"text": title}})
    fig.update_layout(
        barmode="stack",
        bargap=0.25,
        hovermode="y unified",
        height=max(320, 140 + 28 * len(row_labels)),
        margin={"l": 200},
        legend={"traceorder": "normal"},
    )
    fig.update_xaxes(tickformat="~s", hoverformat=",d", showgrid=True, gridcolor="#e5e7eb")
    fig.update_yaxes(categoryorder="array", categoryarray=row_labels[::-1], automargin=True)
    return fig


def requests_by_model(df: pl.DataFrame, *, title: str) -> go.Figure:
    """One bar per `model` (`requests`), grouped and coloured by `tier`, busiest first."""
    order = {tier: rank for rank, tier in enumerate(tier_order(df["tier"]))}
    ranked = df.with_columns(pl.col("tier").replace_strict(order).alias("_rank")).sort(
        ["_rank", "requests", "model"], descending=[False, True, False]
    )
    fig = _horizontal_bars(title, ranked["model"].to_list())
    colors = tier_colors(df["tier"])
    for tier in order:
        part = ranked.filter(pl.col("tier") == tier)
        fig.add_trace(
            go.Bar(
                x=part["requests"].to_list(),
                y=part["model"].to_list(),
                name=tier,
                orientation="h",
                marker={"color": colors[tier]},
            )
        )
    return fig


def roles_by_model(df: pl.DataFrame, *, title: str) -> go.Figure:
    """LLM calls per `model`, stacked by `role` (planner, executor, single)."""
    totals = (
        df.group_by("model")
        .agg(pl.col("requests").sum())
        .sort(["requests", "model"], descending=[True, False])
    )
    fig = _horizontal_bars(title, totals["model"].to_list())
    present = set(df["role"].to_list())
    for role in (role for role in ROLES if role in present):
        part = df.filter(pl.col("role") == role)
        fig.add_trace(
            go.Bar(
                x=part["requests"].to_list(),
                y=part["model"].to_list(),
                name=role,
                orientation="h",
                marker={"color": ROLE_COLORS[role]},
            )
        )
    return fig
