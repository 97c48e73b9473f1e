"""Uptime, error-budget and provider-comparison figures on tiny frames."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from analytics.figures import (
    COLORWAY,
    TEMPLATE,
    error_budget_bars,
    finish_mix_bars,
    provider_comparison_bars,
    uptime_with_incidents,
)

T0 = datetime(2026, 3, 2, 14, tzinfo=UTC)
STEPS = [T0 + timedelta(minutes=15 * i) for i in range(3)]

SERIES = pl.DataFrame(
    {
        "bucket_start": STEPS * 2,
        "provider": ["openai"] * 3 + ["anthropic"] * 3,
        "uptime": [1.0, None, 0.98, 0.2, 0.5, None],
    }
)
INCIDENT = pl.DataFrame(
    {
        "provider": ["anthropic"],
        "model": [None],
        "started_at": [T0],
        "ended_at": [T0 + timedelta(minutes=10)],
        "failed_requests": [12],
        "worst_uptime": [0.0],
        "ongoing": [False],
    },
    schema_overrides={"model": pl.String},
)


def test_uptime_lines_per_provider_with_gaps() -> None:
    fig = uptime_with_incidents(SERIES, INCIDENT.clear(), title="Uptime", step_minutes=15)
    assert [trace.name for trace in fig.data] == ["anthropic", "openai"]
    assert list(fig.data[1].y) == [1.0, None, 0.98]
    assert fig.data[1].connectgaps is False
    assert fig.layout.template == TEMPLATE
    assert fig.layout.title.text == "Uptime"
    assert fig.layout.xaxis.hoverformat == "%a %Y-%m-%d %H:%M"
    assert fig.layout.shapes == ()


def test_incidents_are_bands_and_hover_markers_in_their_provider_colour() -> None:
    fig = uptime_with_incidents(SERIES, INCIDENT, title="Uptime", step_minutes=15)
    anthropic_color = COLORWAY[0]
    assert fig.data[0].line.color == anthropic_color
    [band] = fig.layout.shapes
    assert (band.x0, band.x1, band.fillcolor) == (T0, T0 + timedelta(minutes=10), anthropic_color)
    marker = fig.data[-1]
    assert (marker.name, marker.mode, list(marker.x)) == ("incident", "markers", [T0])
    assert list(marker.marker.color) == [anthropic_color]
    text = marker.text[0]
    for part in ("anthropic", "all models", "2026-03-02 14:00–14:10 UTC", "12 failed"):
        assert part in text
    assert "worst 5-min uptime 0.0%" in text


def test_thousands_of_incidents_are_all_drawn_as_full_height_bands() -> None:
    n = 2_000
    many = pl.concat([INCIDENT] * n).with_columns(
        started_at=pl.Series([T0 + timedelta(minutes=5 * i) for i in range(n)]),
        ended_at=pl.Series([T0 + timedelta(minutes=5 * i + 5) for i in range(n)]),
    )
    fig = uptime_with_incidents(SERIES, many, title="Uptime", step_minutes=15)
    assert len(fig.layout.shapes) == n
    last = fig.layout.shapes[-1]
    assert (last.x0, last.x1) == (
        T0 + timedelta(minutes=5 * (n - 1)),
        T0 + timedelta(minutes=5 * n),
    )
    assert (last.yref, last.y0, last.y1, last.layer) == ("y domain", 0, 1, "below")


def test_daily_steps_keep_the_day_hover_format() -> None:
    fig = uptime_with_incidents(SERIES, INCIDENT, title="Uptime", step_minutes=24 * 60)
    assert fig.layout.xaxis.hoverformat == "%a %Y-%m-%d"


def test_error_budget_bars_red_when_overspent_and_none_without_budget() -> None:
    sla = pl.DataFrame(
        {"provider": ["openai", "anthropic", "idle"], "budget_used": [0.4, 6.3, None]}
    )
    fig = error_budget_bars(sla, title="Budget")
    [bars] = fig.data
    assert bars.orientation == "h"
    assert list(bars.y) == ["anthropic", "openai"]
    assert list(bars.x) == [6.3, 0.4]
    assert list(bars.marker.color) == ["#dc2626", "#16a34a"]
    assert list(bars.text) == ["630%", "40%"]
    assert fig.layout.yaxis.type == "category"
    assert fig.layout.xaxis.tickformat == ".0%"


COMPARISON = pl.DataFrame(
    {
        "provider": ["together", "deepinfra"],
        "divergent_weeks": [0, 2],
        "tool_call_rate": [0.5, 0.1],
        "peer_tool_call_rate": [0.3, 0.5],
        "error_rate": [0.01, 0.0],
        "peer_error_rate": [0.0, 0.005],
        "reasoning_share": [None, 0.6],
        "peer_reasoning_share": [0.6, 0.3],
        "mean_output_tokens": [100.0, 50.0],
        "peer_mean_output_tokens": [75.0, 100.0],
        "share_stop": [0.5, 0.9],
        "peer_share_stop": [0.7, 0.5],
        "share_tool_calls": [0.5, 0.1],
        "peer_share_tool_calls": [0.3, 0.5],
    }
)


def test_comparison_panels_put_each_provider_beside_its_peers() -> None:
    fig = provider_comparison_bars(COMPARISON, title="coder")
    # Per panel: consistent providers, divergent providers, peers.
    assert len(fig.data) == 12
    consistent, divergent, peers = fig.data[:3]
    assert (list(consistent.x), list(consistent.y)) == (["together"], [0.5])
    assert (list(divergent.x), list(divergent.y)) == (["deepinfra"], [0.1])
    assert divergent.marker.color == "#dc2626"
    assert (list(peers.x), list(peers.y)) == (["deepinfra", "together"], [0.5, 0.3])
    assert consistent.offsetgroup == divergent.offsetgroup != peers.offsetgroup
    assert [trace.showlegend for trace in fig.data[:4]] == [True, True, True, False]
    reasoning = fig.data[6]
    assert list(reasoning.y) == [None]
    assert [a.text for a in fig.layout.annotations] == [
        "Tool-call rate",
        "Error rate",
        "Reasoning share",
        "Mean output tokens",
    ]
    assert fig.layout.title.text == "coder"


def test_finish_mix_stacks_provider_and_peers_bars() -> None:
    fig = finish_mix_bars(COMPARISON, reasons=("stop", "tool_calls"), title="Mix")
    assert [trace.name for trace in fig.data] == ["stop", "tool_calls"]
    stop = fig.data[0]
    assert [list(level) for level in stop.x] == [
        ["deepinfra", "deepinfra", "together", "together"],
        ["provider", "peers", "provider", "peers"],
    ]
    assert list(stop.y) == [0.9, 0.5, 0.5, 0.7]
    assert fig.layout.barmode == "stack"
    assert fig.layout.xaxis.type == "multicategory"
