"""The shared chart builders: traces, gaps and axis formats."""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.figures import TEMPLATE, rate_over_time, volume_over_time

DAYS = [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]

DAILY = pl.DataFrame(
    {
        "day": DAYS * 2,
        "provider": ["openai"] * 3 + ["anthropic"] * 3,
        "uptime": [0.98, None, 1.0, 0.5, 0.75, None],
        "requests": [10, 0, 4, 2, 3, 0],
    }
)


def test_rate_over_time_draws_one_line_per_group_sorted_by_name() -> None:
    fig = rate_over_time(DAILY, x="day", y="uptime", color="provider", title="Uptime")
    assert [trace.name for trace in fig.data] == ["anthropic", "openai"]
    assert all(trace.type == "scatter" for trace in fig.data)
    assert fig.layout.title.text == "Uptime"
    assert fig.layout.template == TEMPLATE


def test_null_ratios_are_gaps_not_zero() -> None:
    fig = rate_over_time(DAILY, x="day", y="uptime", color="provider", title="Uptime")
    openai = next(trace for trace in fig.data if trace.name == "openai")
    assert list(openai.y) == [0.98, None, 1.0]
    assert openai.connectgaps is False


def test_rate_over_time_without_groups_and_with_an_overall_line() -> None:
    overall = pl.DataFrame({"day": DAYS, "uptime": [0.9, 0.8, None]})
    fig = rate_over_time(
        DAILY.filter(pl.col("provider") == "openai"),
        x="day",
        y="uptime",
        title="Uptime",
        overall=overall,
        overall_name="all providers",
    )
    assert len(fig.data) == 2
    assert fig.data[0].showlegend is False
    assert fig.data[1].name == "all providers"
    assert list(fig.data[1].y) == [0.9, 0.8, None]


def test_axis_formats() -> None:
    percent = rate_over_time(DAILY, x="day", y="uptime", title="Uptime")
    assert percent.layout.yaxis.tickformat == ".0%"
    assert percent.layout.yaxis.rangemode == "tozero"
    latency = rate_over_time(DAILY, x="day", y="requests", title="p50", y_format="ms")
    assert latency.layout.yaxis.ticksuffix == " ms"
    zoomed = rate_over_time(DAILY, x="day", y="uptime", title="Uptime", y_from_zero=False)
    assert zoomed.layout.yaxis.rangemode == "normal"


def test_volume_over_time_stacks_bars_by_group() -> None:
    fig = volume_over_time(DAILY, x="day", y="requests", color="provider", title="Requests")
    assert [trace.type for trace in fig.data] == ["bar", "bar"]
    assert fig.layout.barmode == "stack"
    assert list(fig.data[1].y) == [10, 0, 4]
    assert list(fig.data[1].x) == DAYS
    assert fig.layout.yaxis.tickformat == "~s"


def test_an_empty_frame_gives_an_empty_figure() -> None:
    fig = rate_over_time(DAILY.clear(), x="day", y="uptime", color="provider", title="Uptime")
    assert len(fig.data) == 0
