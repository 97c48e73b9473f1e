"""Figures over a category axis (providers, models) instead of time, with the shared look."""

from __future__ import annotations

import plotly.graph_objects as go

from analytics.figures.base import VALUE_FORMATS, YFormat, base_figure


def category_figure(title: str, value_format: YFormat, *, horizontal: bool = False) -> go.Figure:
    """The shared look with categories on x (or on y, top to bottom, when `horizontal`:
    long names stay readable) and values formatted as `value_format`."""
    fig = base_figure(title, value_format)
    fig.update_layout(hovermode="closest")
    if not horizontal:
        fig.update_xaxes(type="category", tickformat="", hoverformat="")
        return fig
    fig.update_yaxes(
        type="category",
        autorange="reversed",
        automargin=True,
        tickformat="",
        hoverformat="",
        ticksuffix="",
    )
    fig.update_xaxes(**VALUE_FORMATS[value_format], showgrid=True, gridcolor="#e5e7eb")
    return fig
