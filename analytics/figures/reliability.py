"""Uptime charts: uptime per provider with its incidents, and the error budget spent.

Incidents are drawn twice: a shaded band over their span (Plotly shapes have no hover) and
a marker at their start, pinned on the 100% line, that carries the hover text (with the worst
5-minute uptime). Markers at the worst uptime would stretch the axis to 0% whenever a single
bucket failed, flattening every line of a long range against the top.
"""

from __future__ import annotations

from datetime import datetime

import plotly.graph_objects as go
import polars as pl

from analytics.figures.base import COLORWAY, rate_over_time
from analytics.figures.category_axis import category_figure

INCIDENT_BAND_OPACITY = 0.18
INCIDENT_MARKER_UPTIME = 1.0
INCIDENT_MARKER = {"symbol": "triangle-down", "size": 11, "line": {"width": 1, "color": "white"}}
NEUTRAL = "#6b7280"
OVER_BUDGET = "#dc2626"
WITHIN_BUDGET = "#16a34a"
DAY_MINUTES = 24 * 60


def _incident_text(row: dict) -> str:
    start: datetime = row["started_at"]
    end: datetime = row["ended_at"]
    end_format = "%H:%M" if end.date() == start.date() else "%Y-%m-%d %H:%M"
    scope = row["model"] or "all models"
    ongoing = " (ongoing)" if row["ongoing"] else ""
    return (
        f"<b>{row['provider']}</b> · {scope}{ongoing}<br>"
        f"{start:%Y-%m-%d %H:%M}–{end.strftime(end_format)} UTC<br>"
        f"{row['failed_requests']:,} failed requests<br>"
        f"worst 5-min uptime {row['worst_uptime']:.1%}"
    )


def uptime_with_incidents(
    series: pl.DataFrame, incidents: pl.DataFrame, *, title: str, step_minutes: int
) -> go.Figure:
    """One uptime line per provider (`bucket_start`, `provider`, `uptime`; NULL = gap) and the
    incidents (`provider`, `model`, `started_at`, `ended_at`, `failed_requests`,
    `worst_uptime`, `ongoing`) as bands and markers in their provider's colour."""
    fig = rate_over_time(
        series, x="bucket_start", y="uptime", color="provider", title=title, y_from_zero=False
    )
    colors = {trace.name: COLORWAY[i % len(COLORWAY)] for i, trace in enumerate(fig.data)}
    for trace in fig.data:
        trace.line.color = colors[trace.name]
    if step_minutes < DAY_MINUTES:
        fig.update_xaxes(hoverformat="%a %Y-%m-%d %H:%M")
    rows = incidents.to_dicts()
    # One layout update with every band: add_vrect per incident re-validates all the shapes
    # added before it, which is quadratic (2,000 incidents never finished drawing).
    fig.update_layout(
        shapes=[
            {
                "type": "rect",
                "xref": "x",
                "yref": "y domain",
                "x0": row["started_at"],
                "x1": row["ended_at"],
                "y0": 0,
                "y1": 1,
                "fillcolor": colors.get(row["provider"], NEUTRAL),
                "opacity": INCIDENT_BAND_OPACITY,
                "line": {"width": 0},
                "layer": "below",
            }
            for row in rows
        ]
    )
    if rows:
        fig.add_trace(
            go.Scatter(
                x=[row["started_at"] for row in rows],
                y=[INCIDENT_MARKER_UPTIME] * len(rows),
                name="incident",
                mode="markers",
                marker={
                    **INCIDENT_MARKER,
                    "color": [colors.get(row["provider"], NEUTRAL) for row in rows],
                },
                text=[_incident_text(row) for row in rows],
                hovertemplate="%{text}<extra></extra>",
                cliponaxis=False,
            )
        )
    return fig


def error_budget_bars(sla: pl.DataFrame, *, title: str) -> go.Figure:
    """Share of the error budget spent per provider (`provider`, `budget_used`, 1 = all of
    it) as horizontal bars, red when overspent; providers without a budget (no eligible
    traffic) get no bar."""
    fig = category_figure(title, "percent", horizontal=True)
    rows = sla.filter(pl.col("budget_used").is_not_null()).sort("provider").to_dicts()
    fig.add_trace(
        go.Bar(
            y=[row["provider"] for row in rows],
            x=[row["budget_used"] for row in rows],
            orientation="h",
            marker_color=[OVER_BUDGET if row["budget_used"] > 1 else WITHIN_BUDGET for row in rows],
            text=[f"{row['budget_used']:.0%}" for row in rows],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:.1%} of the error budget<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_vline(x=1, line={"color": NEUTRAL, "dash": "dash", "width": 1})
    # Room on the right for the text of the longest bar.
    fig.update_layout(margin={"r": 48})
    return fig
