"""The model mix and traffic charts: traces, order, gaps, shading and axes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from analytics.figures import (
    COLORWAY,
    TEMPLATE,
    hour_weekday_heatmap,
    hourly_requests_with_windows,
    latency_over_time,
    peak_to_mean_by_day,
    rate_vs_load,
    requests_by_model,
    roles_by_model,
    speed_over_time,
    tier_share_over_time,
)
from analytics.figures.mix import UNCLASSIFIED_COLOR, tier_colors, tier_order
from analytics.figures.traffic import WINDOW_SHADE, batch_window_spans

DAY1, DAY2, DAY3 = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)


# --- Model mix ---------------------------------------------------------------------------


def test_tiers_keep_one_order_and_one_colour() -> None:
    tiers = ["unclassified", "small", "premium", "frontier", "small"]
    assert tier_order(tiers) == ["frontier", "small", "premium", "unclassified"]
    assert tier_colors(tiers) == {
        "frontier": COLORWAY[0],
        "small": COLORWAY[1],
        "premium": COLORWAY[2],
        "unclassified": UNCLASSIFIED_COLOR,
    }
    # A tier's colour does not depend on which other tiers are present.
    assert tier_colors(["small"]) == {"small": COLORWAY[1]}


def test_tier_shares_are_stacked_bars_with_days_missing_as_gaps() -> None:
    mix = pl.DataFrame(
        {
            "period_start": [DAY1, DAY1, DAY3, DAY2],
            "tier": ["small", "frontier", "frontier", "unclassified"],
            "share_requests": [0.75, 0.25, 1.0, 1.0],
        }
    )
    fig = tier_share_over_time(mix, x="period_start", y="share_requests", title="Share")
    assert [trace.name for trace in fig.data] == ["frontier", "small", "unclassified"]
    assert all(trace.type == "bar" for trace in fig.data)
    frontier = fig.data[0]
    assert (list(frontier.x), list(frontier.y)) == ([DAY1, DAY3], [0.25, 1.0])
    assert frontier.marker.color == COLORWAY[0]
    assert fig.layout.barmode == "stack"
    assert fig.layout.legend.traceorder == "normal"
    assert fig.layout.yaxis.tickformat == ".0%"
    assert list(fig.layout.yaxis.range) == [0, 1]
    assert fig.layout.title.text == "Share"
    assert fig.layout.template == TEMPLATE


def test_requests_by_model_groups_models_by_tier_busiest_first() -> None:
    models = pl.DataFrame(
        {
            "model": ["m-small-a", "m-front", "m-small-b", "m-other"],
            "tier": ["small", "frontier", "small", "unclassified"],
            "requests": [5, 2, 9, 1],
        }
    )
    fig = requests_by_model(models, title="Requests by model")
    assert [trace.name for trace in fig.data] == ["frontier", "small", "unclassified"]
    assert list(fig.data[1].y) == ["m-small-b", "m-small-a"]
    assert list(fig.data[1].x) == [9, 5]
    assert all(trace.orientation == "h" for trace in fig.data)
    # Plotly draws categories bottom-up: the reversed order puts the first model on top.
    assert list(fig.layout.yaxis.categoryarray) == ["m-other", "m-small-a", "m-small-b", "m-front"]


def test_roles_by_model_draws_only_the_roles_present() -> None:
    roles = pl.DataFrame(
        {
            "model": ["big", "big", "mini", "mini"],
            "role": ["planner", "single", "executor", "single"],
            "requests": [3, 1, 6, 2],
        }
    )
    fig = roles_by_model(roles, title="Roles")
    assert [trace.name for trace in fig.data] == ["planner", "executor", "single"]
    assert list(fig.layout.yaxis.categoryarray) == ["big", "mini"]
    only_single = roles_by_model(roles.filter(pl.col("role") == "single"), title="Roles")
    assert [trace.name for trace in only_single.data] == ["single"]


# --- Traffic -----------------------------------------------------------------------------


def test_heatmap_puts_each_slot_in_its_weekday_row_and_hour_column() -> None:
    slots = pl.DataFrame(
        {"weekday": [1, 3, 7], "hour": [0, 14, 23], "mean_requests": [2.5, 7.0, 1.0]}
    )
    fig = hour_weekday_heatmap(slots, z="mean_requests", title="Heatmap")
    (trace,) = fig.data
    z = [list(row) for row in trace.z]
    assert (len(z), len(z[0])) == (7, 24)
    assert (z[0][0], z[2][14], z[6][23]) == (2.5, 7.0, 1.0)
    # A slot without a row is blank, never 0.
    assert z[1][5] is None
    assert list(trace.y)[0] == "Mon" and list(trace.x)[14] == "14:00"
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.xaxis.title.text == "hour (UTC)"


def test_batch_window_spans_repeat_daily_wrap_midnight_and_clip_to_the_range() -> None:
    windows = pl.DataFrame({"start_hour": [23, 23], "hours": [3, 3]})
    first, end = datetime(2026, 3, 2), datetime(2026, 3, 4)
    assert batch_window_spans(windows, first, end) == [
        (datetime(2026, 3, 2, 0), datetime(2026, 3, 2, 2)),
        (datetime(2026, 3, 2, 23), datetime(2026, 3, 3, 2)),
        (datetime(2026, 3, 3, 23), datetime(2026, 3, 4, 0)),
    ]
    assert batch_window_spans(windows.clear(), first, end) == []


def test_hourly_requests_shade_the_batch_windows() -> None:
    hours = [datetime(2026, 3, 2) + timedelta(hours=n) for n in range(48)]
    hourly = pl.DataFrame({"hour_start": hours, "requests": list(range(48))})
    windows = pl.DataFrame({"start_hour": [1], "hours": [2]})
    fig = hourly_requests_with_windows(
        hourly, windows, x="hour_start", y="requests", title="Per hour"
    )
    assert [trace.name for trace in fig.data] == ["requests", "batch window"]
    assert list(fig.data[0].y) == list(range(48))
    assert fig.data[0].line.shape == "hv"
    assert [(shape.x0, shape.x1) for shape in fig.layout.shapes] == [
        (datetime(2026, 3, 2, 1), datetime(2026, 3, 2, 3)),
        (datetime(2026, 3, 3, 1), datetime(2026, 3, 3, 3)),
    ]
    assert {shape.fillcolor for shape in fig.layout.shapes} == {WINDOW_SHADE}
    assert list(fig.layout.xaxis.range) == [hours[0], hours[-1] + timedelta(hours=1)]
    plain = hourly_requests_with_windows(
        hourly, windows.clear(), x="hour_start", y="requests", title="Per hour"
    )
    assert [trace.name for trace in plain.data] == ["requests"]
    assert plain.layout.shapes == ()


def test_peak_to_mean_bars_carry_the_peak_hour() -> None:
    peaks = pl.DataFrame(
        {
            "day": [DAY1, DAY2],
            "peak_to_mean": [4.5, 12.0],
            "peak_hour": [14, 2],
            "peak_hour_requests": [90, 300],
        }
    )
    fig = peak_to_mean_by_day(peaks, x="day", title="Peaks")
    (trace,) = fig.data
    assert list(trace.y) == [4.5, 12.0]
    assert [list(row) for row in trace.customdata] == [[14, 90], [2, 300]]
    assert (fig.layout.yaxis.ticksuffix, fig.layout.yaxis.tickformat) == ("×", ".1~f")


def test_rate_vs_load_draws_one_line_per_provider_over_deciles() -> None:
    load = pl.DataFrame(
        {
            "provider": ["b", "a", "a"],
            "load_decile": [1, 2, 1],
            "mean_load_ratio": [1.0, 3.0, 0.5],
            "requests": [10, 30, 5],
            "error_rate": [0.0, 0.1, 0.02],
        }
    )
    fig = rate_vs_load(load, y="error_rate", title="Errors vs load")
    assert [trace.name for trace in fig.data] == ["a", "b"]
    assert (list(fig.data[0].x), list(fig.data[0].y)) == ([1, 2], [0.02, 0.1])
    assert fig.layout.yaxis.tickformat == ".1%"
    assert fig.layout.legend.orientation == "v"


def test_latency_and_speed_keep_gaps_and_their_units() -> None:
    latency = pl.DataFrame(
        {
            "period_start": [DAY1, DAY2, DAY3],
            "series": ["openai · gpt"] * 3,
            "p95_duration_ms": [900.0, None, 1200.0],
            "output_tokens_per_second": [80.5, None, 75.0],
        }
    )
    common = {"x": "period_start", "color": "series"}
    duration = latency_over_time(latency, y="p95_duration_ms", title="p95", **common)
    assert list(duration.data[0].y) == [900.0, None, 1200.0]
    assert duration.data[0].connectgaps is False
    assert duration.layout.yaxis.ticksuffix == " ms"
    speed = speed_over_time(latency, y="output_tokens_per_second", title="Speed", **common)
    assert list(speed.data[0].y) == [80.5, None, 75.0]
    assert speed.layout.yaxis.ticksuffix == " tok/s"
    assert speed.layout.legend.orientation == "v"
