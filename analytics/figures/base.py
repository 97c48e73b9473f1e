"""The shared look and the basic time-series charts (lines of rates, stacked volume bars).

Pure functions with one look (`TEMPLATE`). A NULL in a ratio column means "no data" and is
drawn as a gap in the line, never as 0 or 100%.
"""

from __future__ import annotations

from typing import Literal

import plotly.graph_objects as go
import polars as pl

YFormat = Literal["percent", "count", "ms"]

COLORWAY: tuple[str, ...] = (
    "#2563eb",
    "#ea580c",
    "#16a34a",
    "#9333ea",
    "#dc2626",
    "#0891b2",
    "#ca8a04",
    "#db2777",
    "#4b5563",
    "#65a30d",
)

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": "Inter, system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
        colorway=list(COLORWAY),
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin={"l": 56, "r": 16, "t": 44, "b": 32},
        hovermode="x unified",
        # Below the plot: many providers or models must not cover the title or the data.
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0, "font": {"size": 11}},
        xaxis={"showgrid": False, "linecolor": "#d1d5db", "ticks": "outside"},
        yaxis={"gridcolor": "#e5e7eb", "zeroline": False, "rangemode": "tozero"},
        title={"x": 0, "xanchor": "left", "font": {"size": 14}},
    )
)

# Overall series drawn on top of thinner per-group lines, in a neutral colour.
OVERALL_LINE = {"color": "#111827", "width": 3}
GROUP_LINE = {"width": 1.5}

VALUE_FORMATS: dict[str, dict[str, str]] = {
    "percent": {"tickformat": ".0%", "hoverformat": ".1%"},
    "count": {"tickformat": "~s", "hoverformat": ",d"},
    "ms": {"tickformat": ",.0f", "hoverformat": ",.0f", "ticksuffix": " ms"},
}


def base_figure(title: str, y_format: YFormat, y_from_zero: bool = True) -> go.Figure:
    fig = go.Figure(layout={"template": TEMPLATE, "title": {"text": title}})
    fig.update_yaxes(**VALUE_FORMATS[y_format], rangemode="tozero" if y_from_zero else "normal")
    # Day-level time axes: no second tick row for the year, which would crowd the legend.
    fig.update_xaxes(tickformat="%b %-d", hoverformat="%a %Y-%m-%d")
    return fig


def _groups(df: pl.DataFrame, color: str | None) -> list[tuple[str, pl.DataFrame]]:
    """Split `df` into named series, ordered by name; one unnamed series without `color`."""
    if color is None:
        return [("", df)]
    names = sorted(n for n in df[color].unique().to_list() if n is not None)
    return [(str(name), df.filter(pl.col(color) == name)) for name in names]


def rate_over_time(
    df: pl.DataFrame,
    *,
    x: str,
    y: str,
    color: str | None = None,
    title: str,
    y_format: YFormat = "percent",
    y_from_zero: bool = True,
    overall: pl.DataFrame | None = None,
    overall_name: str = "all",
) -> go.Figure:
    """One line per `color` group (or one line), gaps where `y` is NULL.

    `overall`, with the same `x`/`y` columns, adds a highlighted line for the whole selection.
    `y_from_zero=False` zooms the y axis onto the data (e.g. uptime near 100%).
    """
    fig = base_figure(title, y_format, y_from_zero)
    for name, part in _groups(df.sort(x), color):
        fig.add_trace(
            go.Scatter(
                x=part[x].to_list(),
                y=part[y].to_list(),
                name=name,
                mode="lines+markers",
                line=GROUP_LINE,
                marker={"size": 3},
                connectgaps=False,
                showlegend=color is not None,
            )
        )
    if overall is not None:
        ordered = overall.sort(x)
        fig.add_trace(
            go.Scatter(
                x=ordered[x].to_list(),
                y=ordered[y].to_list(),
                name=overall_name,
                mode="lines",
                line=OVERALL_LINE,
                connectgaps=False,
            )
        )
    return fig


def volume_over_time(
    df: pl.DataFrame,
    *,
    x: str,
    y: str,
    color: str | None = None,
    title: str,
    y_format: YFormat = "count",
) -> go.Figure:
    """Bars per `x`, stacked by `color` group."""
    fig = base_figure(title, y_format)
    for name, part in _groups(df.sort(x), color):
        fig.add_trace(
            go.Bar(x=part[x].to_list(), y=part[y].to_list(), name=name, showlegend=bool(name))
        )
    fig.update_layout(barmode="stack", bargap=0.15)
    return fig
