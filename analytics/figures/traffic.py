"""Volume and bursts: the weekly heatmap, hourly requests with batch windows, daily peaks,
errors under load and output speed. Every hour is UTC (the tables keep UTC hours only).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import plotly.graph_objects as go
import polars as pl

from analytics.figures.base import COLORWAY, TEMPLATE, base_figure, rate_over_time

WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOURS: tuple[str, ...] = tuple(f"{hour:02d}:00" for hour in range(24))
WINDOW_SHADE = "rgba(234, 88, 12, 0.22)"


def hour_weekday_heatmap(df: pl.DataFrame, *, z: str, title: str) -> go.Figure:
    """Weekday rows (Monday on top) × UTC hour columns of `z`; a missing slot is blank."""
    cells = {(row["weekday"], row["hour"]): row[z] for row in df.iter_rows(named=True)}
    matrix = [[cells.get((day, hour)) for hour in range(24)] for day in range(1, 8)]
    fig = go.Figure(layout={"template": TEMPLATE, "title": {"text": title}})
    fig.add_trace(
        go.Heatmap(
            x=list(HOURS),
            y=list(WEEKDAYS),
            z=matrix,
            colorscale="Blues",
            hoverongaps=False,
            colorbar={"thickness": 12, "tickformat": "~s"},
            hovertemplate="%{y} %{x} UTC<br>%{z:,.1f}<extra></extra>",
        )
    )
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(
        title_text="hour (UTC)", tickvals=list(HOURS[::3]), showgrid=False, automargin=True
    )
    fig.update_yaxes(autorange="reversed", showgrid=False)
    return fig


def batch_window_spans(
    windows: pl.DataFrame, first: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Each daily window (`start_hour`, `hours`) on every day, clipped to [first, end).

    Starts the day before `first` so that a window wrapping past midnight shades the first
    hours of the range too.
    """
    daily = windows.select("start_hour", "hours").unique().sort("start_hour").rows()
    spans = []
    day = datetime.combine(first.date() - timedelta(days=1), time())
    while day < end:
        for start_hour, hours in daily:
            start = day + timedelta(hours=start_hour)
            stop = start + timedelta(hours=hours)
            if stop > first and start < end:
                spans.append((max(start, first), min(stop, end)))
        day += timedelta(days=1)
    return spans


def hourly_requests_with_windows(
    hourly: pl.DataFrame, windows: pl.DataFrame, *, x: str, y: str, title: str
) -> go.Figure:
    """Requests per hour as a step line; the hours of the batch windows shaded on every day."""
    fig = base_figure(title, "count")
    fig.update_xaxes(hoverformat="%a %Y-%m-%d %H:00 UTC")
    fig.add_trace(
        go.Scatter(
            x=hourly[x].to_list(),
            y=hourly[y].to_list(),
            name="requests",
            mode="lines",
            # Steps: each hour's count holds over its hour, so the peaks line up with the shading.
            line={"width": 1.2, "color": COLORWAY[0], "shape": "hv"},
        )
    )
    if hourly.is_empty() or windows.is_empty():
        return fig
    first, end = hourly[x].min(), hourly[x].max() + timedelta(hours=1)
    # Fixed: the legend marker below must not widen the axis.
    fig.update_xaxes(range=[first, end])
    spans = batch_window_spans(windows, first, end)
    fig.update_layout(
        shapes=[
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": start,
                "x1": stop,
                "y0": 0,
                "y1": 1,
                "fillcolor": WINDOW_SHADE,
                "line": {"width": 0},
                "layer": "below",
            }
            for start, stop in spans
        ]
    )
    # A legend entry for the shading (shapes have none).
    fig.add_trace(
        go.Scatter(
            x=[first],
            y=[None],
            name="batch window",
            mode="markers",
            marker={"symbol": "square", "size": 12, "color": WINDOW_SHADE},
            hoverinfo="skip",
        )
    )
    return fig


def peak_to_mean_by_day(df: pl.DataFrame, *, x: str, title: str) -> go.Figure:
    """Bars of `peak_to_mean` per day; the hover names the peak hour (UTC)."""
    fig = base_figure(title, "count")
    fig.update_yaxes(tickformat=".1~f", hoverformat=".1f", ticksuffix="×")
    fig.add_trace(
        go.Bar(
            x=df[x].to_list(),
            y=df["peak_to_mean"].to_list(),
            customdata=df.select("peak_hour", "peak_hour_requests").rows(),
            name="peak-to-mean",
            marker={"color": COLORWAY[1]},
            hovertemplate="%{y:.1f}× (peak at %{customdata[0]:02d}:00 UTC, "
            "%{customdata[1]:,} requests)<extra></extra>",
        )
    )
    fig.update_layout(bargap=0.15)
    return fig


def rate_vs_load(df: pl.DataFrame, *, y: str, title: str) -> go.Figure:
    """One line per `provider`: `y` per load decile (1 = its quietest hours, 10 = busiest)."""
    fig = go.Figure(layout={"template": TEMPLATE, "title": {"text": title}})
    for provider in sorted(df["provider"].unique().to_list()):
        part = df.filter(pl.col("provider") == provider).sort("load_decile")
        fig.add_trace(
            go.Scatter(
                x=part["load_decile"].to_list(),
                y=part[y].to_list(),
                customdata=part.select("mean_load_ratio", "requests").rows(),
                name=provider,
                mode="lines+markers",
                marker={"size": 5},
                line={"width": 1.5},
                hovertemplate=f"{provider}: %{{y:.2%}} (hours at %{{customdata[0]:.2f}}× the "
                "median hour, %{customdata[1]:,} requests)<extra></extra>",
            )
        )
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(
        title_text="load decile of the provider's hours (1 = quietest, 10 = busiest)",
        tickmode="linear",
        tick0=1,
        dtick=1,
        automargin=True,
    )
    fig.update_yaxes(tickformat=".1%", rangemode="tozero")
    _legend_beside(fig)
    return fig


def _legend_beside(fig: go.Figure) -> None:
    """Legend to the right of the plot: many long series names would squeeze it from below."""
    fig.update_layout(legend={"orientation": "v", "x": 1.02, "y": 1, "yanchor": "top"})
    fig.update_yaxes(automargin=True)


def latency_over_time(
    df: pl.DataFrame, *, x: str, y: str, color: str | None = None, title: str
) -> go.Figure:
    """Latency percentiles (ms) over time, one line per `color` group, gaps where NULL."""
    fig = rate_over_time(df, x=x, y=y, color=color, title=title, y_format="ms")
    _legend_beside(fig)
    return fig


def speed_over_time(
    df: pl.DataFrame, *, x: str, y: str, color: str | None = None, title: str
) -> go.Figure:
    """Output tokens per second over time, one line per `color` group, gaps where NULL."""
    fig = rate_over_time(df, x=x, y=y, color=color, title=title, y_format="count")
    fig.update_yaxes(tickformat=",.0f", hoverformat=",.1f", ticksuffix=" tok/s")
    _legend_beside(fig)
    return fig
