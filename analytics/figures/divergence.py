"""The same model on several providers: each provider next to its pooled peers.

Input: one row per provider (`provider`, a metric column and its `peer_` twin, and
`divergent_weeks`); a provider with at least one divergent week is drawn in the alarm colour.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from analytics.figures.base import TEMPLATE
from analytics.figures.category_axis import category_figure

PROVIDER_COLOR = "#2563eb"
DIVERGENT_COLOR = "#dc2626"
PEERS_COLOR = "#9ca3af"
COMPARISON_HEIGHT = 560
FINISH_COLORS = {
    "stop": "#2563eb",
    "tool_calls": "#16a34a",
    "length": "#ca8a04",
    "content_filter": "#9333ea",
    "other": "#6b7280",
}

# (column, subplot title, y tick format, hover format)
COMPARED_METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("tool_call_rate", "Tool-call rate", ".0%", ".1%"),
    ("error_rate", "Error rate", ".1%", ".2%"),
    ("reasoning_share", "Reasoning share", ".0%", ".1%"),
    ("mean_output_tokens", "Mean output tokens", ",.0f", ",.0f"),
)


def _bar(
    rows: list[dict], column: str, name: str, color: str, offsetgroup: str, first: bool
) -> go.Bar:
    return go.Bar(
        x=[row["provider"] for row in rows],
        y=[row[column] for row in rows],
        name=name,
        marker_color=color,
        offsetgroup=offsetgroup,
        legendgroup=name,
        showlegend=first,
    )


def provider_comparison_bars(df: pl.DataFrame, *, title: str) -> go.Figure:
    """Four panels (tool-call rate, error rate, reasoning share, mean output tokens), each
    with one bar per provider beside the bar of its peers; NULL values draw no bar."""
    rows = df.sort("provider").to_dicts()
    consistent = [row for row in rows if not row["divergent_weeks"]]
    divergent = [row for row in rows if row["divergent_weeks"]]
    fig = make_subplots(
        rows=2,
        cols=2,
        subplot_titles=[metric[1] for metric in COMPARED_METRICS],
        vertical_spacing=0.16,
        horizontal_spacing=0.1,
    )
    order = [row["provider"] for row in rows]
    for i, (column, _label, tick_format, hover_format) in enumerate(COMPARED_METRICS):
        cell = {"row": i // 2 + 1, "col": i % 2 + 1}
        first = i == 0
        for part, name, color in (
            (consistent, "provider", PROVIDER_COLOR),
            (divergent, "divergent provider", DIVERGENT_COLOR),
        ):
            if part:
                fig.add_trace(_bar(part, column, name, color, "own", first), **cell)
        peers = _bar(rows, f"peer_{column}", "its peers (pooled)", PEERS_COLOR, "peers", first)
        fig.add_trace(peers, **cell)
        fig.update_yaxes(tickformat=tick_format, hoverformat=hover_format, **cell)
        fig.update_xaxes(type="category", categoryorder="array", categoryarray=order, **cell)
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title},
        barmode="group",
        height=COMPARISON_HEIGHT,
        hovermode="x",
        legend={"y": -0.08},
    )
    fig.update_annotations(font={"size": 12})
    return fig


def finish_mix_bars(df: pl.DataFrame, *, reasons: tuple[str, ...], title: str) -> go.Figure:
    """Finish-reason mix of ok answers: per provider, a 100% stacked bar for the provider
    and one for its peers (`share_<reason>` and `peer_share_<reason>` columns)."""
    fig = category_figure(title, "percent")
    rows = df.sort("provider").to_dicts()
    x = [
        [row["provider"] for row in rows for _side in ("provider", "peers")],
        [side for _row in rows for side in ("provider", "peers")],
    ]
    for reason in reasons:
        fig.add_trace(
            go.Bar(
                x=x,
                y=[row[prefix + f"share_{reason}"] for row in rows for prefix in ("", "peer_")],
                name=reason,
                marker_color=FINISH_COLORS.get(reason),
                hovertemplate=f"{reason}: %{{y:.1%}}<extra>%{{x}}</extra>",
            )
        )
    fig.update_xaxes(type="multicategory")
    fig.update_layout(barmode="stack", bargap=0.25)
    return fig
