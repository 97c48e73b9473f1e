"""Figures over a category axis (providers, models) instead of time, with the shared look."""

from __future__ import annotations

import plotly.graph_objects as go

from analytics.figures.base import YFormat, _base_figure


def category_figure(title: str, y_format: YFormat) -> go.Figure:
    """The shared look with the day-level time formats of the x axis taken off."""
    fig = _base_figure(title, y_format)
    fig.update_xaxes(type="category", tickformat="", hoverformat="")
    fig.update_layout(hovermode="closest")
    return fig
