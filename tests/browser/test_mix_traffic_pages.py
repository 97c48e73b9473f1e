"""The Model mix and Traffic pages in real Chromium, over the traffic of conftest.py.

Every request of the fixture starts at 09:00 UTC, Monday 2026-02-02 to Friday; the frontier
tier holds anthropic/claude-sonnet-4.5 (anthropic and amazon-bedrock), the small tier
openai/gpt-5-mini. No request has a trace id, so every call is 'single'.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ingest.record import Record
from tests.browser.test_overview import CHART_TIMEOUT_MS, CLAUDE, GPT, _select

pytestmark = pytest.mark.browser

MIX_KPIS = ("kpi-frontier-requests", "kpi-frontier-tokens", "kpi-mix-requests", "kpi-agent-calls")
TRAFFIC_KPIS = ("kpi-traffic-requests", "kpi-busiest-hour", "kpi-peak-to-mean", "kpi-rate-limited")


def _open(page: Page, url: str, first_kpi: str) -> None:
    page.goto(url)
    expect(page.locator(f"#{first_kpi}-value")).not_to_be_empty(timeout=CHART_TIMEOUT_MS)


def _texts(page: Page, kpis: tuple[str, ...], part: str = "value") -> list[str]:
    return [page.locator(f"#{kpi}-{part}").inner_text() for kpi in kpis]


def _table_rows(page: Page, table_id: str) -> list[list[str]]:
    rows = page.locator(f"#{table_id} tbody tr")
    return [row.locator("td").all_inner_texts() for row in rows.all()]


def _plot_data(page: Page, graph_id: str) -> list[dict[str, Any]]:
    return page.locator(f"#{graph_id} .js-plotly-plot").evaluate(
        "plot => plot.data.map(t => ({name: t.name, x: t.x, y: t.y, z: t.z}))"
    )


def _set_dates(page: Page, start: str, end: str) -> None:
    for label, value in (("Start Date", start), ("End Date", end)):
        date_input = page.get_by_label(label)
        date_input.fill(value)
        date_input.press("Enter")


# --- Model mix ---------------------------------------------------------------------------


def test_model_mix_shows_frontier_shares_models_and_single_roles(
    page: Page, dashboard_url: str
) -> None:
    _open(page, dashboard_url + "/model-mix", MIX_KPIS[0])
    # 70 of 90 requests are claude (frontier); tokens of ok requests: claude 10,000 of 13,000.
    assert _texts(page, MIX_KPIS) == ["77.8%", "76.9%", "90", "0.0%"]
    assert _texts(page, MIX_KPIS, "detail") == [
        "previous 5 days: no data",
        "previous 5 days: no data",
        "2 models in 2 tiers, 13.0k tokens",
        "all calls are single: no agent traces",
    ]
    # No request reports a cost: all spend is estimated from the built-in prices, Sonnet 4.5
    # $0.0930 and gpt-5-mini $0.0025 over the 5 days; Bedrock's errors have no output count.
    expect(page.locator("#kpi-frontier-spend-value")).to_have_text("97.4%")
    expect(page.locator("#kpi-frontier-spend-detail")).to_have_text(
        "$0.0955 spend, 100.0% of it estimated; 10 requests without a price"
    )
    assert _table_rows(page, "mix-models-table") == [
        [CLAUDE, "frontier", "anthropic/claude-*sonnet* (default)", "70", "100.0%", "10.0k"],
        [GPT, "small", "openai/gpt-*-mini* (default)", "20", "100.0%", "3.0k"],
    ]
    expect(page.locator("#mix-roles-note")).to_contain_text("All 90 LLM calls are 'single'")
    expect(page.locator("#mix-roles-chart")).to_be_hidden()
    shares = {trace["name"]: trace for trace in _plot_data(page, "chart-tier-requests")}
    # openai idles on the third day: the small tier has no bar there, frontier is 100%.
    assert shares["frontier"]["y"] == pytest.approx([14 / 19, 14 / 19, 1.0, 14 / 19, 14 / 19])
    assert len(shares["small"]["x"]) == 4
    expect(page.locator("#chart-model-requests .barlayer .trace")).to_have_count(2)
    expect(page.locator(".navbar .nav-link", has_text="Model mix")).to_have_count(1)


def test_model_mix_follows_the_app_filter(page: Page, dashboard_url: str) -> None:
    _open(page, dashboard_url + "/model-mix", MIX_KPIS[0])
    _select(page, "filter-apps", "chat")
    # "chat": amazon-bedrock claude 20 requests (2,000 tokens) and gpt 20 (3,000 tokens).
    expect(page.locator("#kpi-mix-requests-value")).to_have_text("40")
    assert _texts(page, MIX_KPIS)[:2] == ["50.0%", "40.0%"]


def test_model_mix_compares_with_the_previous_period(page: Page, dashboard_url: str) -> None:
    _open(page, dashboard_url + "/model-mix", MIX_KPIS[0])
    _set_dates(page, "2026-02-05", "2026-02-06")
    # Feb 5-6: 28 of 38 requests, 4,000 of 5,500 tokens; Feb 3-4 (openai idle on the 4th):
    # 28 of 33 requests, 4,000 of 4,750 tokens.
    expect(page.locator("#kpi-mix-requests-value")).to_have_text("38")
    assert _texts(page, MIX_KPIS)[:2] == ["73.7%", "72.7%"]
    assert _texts(page, MIX_KPIS, "detail")[:2] == [
        "previous 2 days: 84.8% (-11.2 pts)",
        "previous 2 days: 84.2% (-11.5 pts)",
    ]


def test_model_mix_says_when_a_selection_has_no_data(page: Page, dashboard_url: str) -> None:
    _open(page, dashboard_url + "/model-mix", MIX_KPIS[0])
    _select(page, "filter-providers", "openai")
    expect(page.locator("#kpi-mix-requests-value")).to_have_text("20")
    _select(page, "filter-models", CLAUDE)
    expect(page.locator("#mix-no-data")).to_be_visible()
    expect(page.locator("#mix-content")).to_be_hidden()


def _call(minute: int, model: str, finish: str, trace_id: str | None) -> Record:
    started = datetime(2026, 2, 2, 9, minute, tzinfo=UTC)
    return {
        "request_id": f"agent-{minute}",
        "trace_id": trace_id,
        "span_id": f"span-{minute}" if trace_id else None,
        "started_at": int(started.timestamp() * 1e6),
        "provider": model.split("/")[0],
        "model": model,
        "app": "agent",
        "status": "ok",
        "finish_reason": finish,
        "duration_ms": 500.0,
    }


def test_model_mix_shows_agent_roles_from_traces(
    page: Page, serve_dashboard: Callable[[list[Record]], str]
) -> None:
    url = serve_dashboard(
        [
            _call(0, CLAUDE, "tool_calls", "trace-1"),
            _call(1, GPT, "tool_calls", "trace-1"),
            _call(2, GPT, "stop", "trace-1"),
            _call(30, CLAUDE, "stop", None),
        ]
    )
    _open(page, url + "/model-mix", MIX_KPIS[0])
    expect(page.locator("#kpi-agent-calls-value")).to_have_text("75.0%")
    expect(page.locator("#kpi-agent-calls-detail")).to_have_text("1 planner, 2 executor of 4 calls")
    expect(page.locator("#chart-roles .barlayer .trace")).to_have_count(3)
    roles = {trace["name"]: trace for trace in _plot_data(page, "chart-roles")}
    assert (roles["planner"]["y"], roles["planner"]["x"]) == ([CLAUDE], [1])
    assert (roles["executor"]["y"], roles["executor"]["x"]) == ([GPT], [2])
    expect(page.locator("#mix-roles-note")).to_be_hidden()


# --- Traffic -----------------------------------------------------------------------------


def test_traffic_shows_bursts_windows_and_latency(page: Page, dashboard_url: str) -> None:
    _open(page, dashboard_url + "/traffic", TRAFFIC_KPIS[0])
    expect(page.locator(".page-note")).to_contain_text("All times are UTC.")
    # Every day's traffic falls in 09:00: 24× the mean hour; Monday carries 19 requests.
    assert _texts(page, TRAFFIC_KPIS) == ["90", "Mon 09:00", "24.0×", "5.6%"]
    assert _texts(page, TRAFFIC_KPIS, "detail") == [
        "15 provider errors",
        "19.0 requests in that hour on average",
        "busiest hour ÷ mean hour, over 5 days",
        "5 of 90 requests throttled",
    ]
    # The median hour of each day is 0, so no multiple of it.
    assert _table_rows(page, "traffic-windows-table") == [
        ["all traffic", "09:00–10:00", "5 of 5", "—", "100.0%"]
    ]
    (heatmap,) = _plot_data(page, "chart-heatmap")
    assert [row[9] for row in heatmap["z"]][:3] == [19, 19, 14]
    (hourly, window) = _plot_data(page, "chart-hourly-requests")
    assert (len(hourly["y"]), sum(hourly["y"])) == (120, 90)
    assert window["name"] == "batch window"
    shades = page.locator("#chart-hourly-requests .js-plotly-plot").evaluate(
        "plot => plot.layout.shapes.length"
    )
    assert shades == 5
    latency = {trace["name"]: trace for trace in _plot_data(page, "chart-latency")}
    assert sorted(latency) == [
        f"amazon-bedrock · {CLAUDE}",
        f"anthropic · {CLAUDE}",
        f"openai · {GPT}",
    ]
    assert latency[f"anthropic · {CLAUDE}"]["y"] == [800] * 5
    assert latency[f"openai · {GPT}"]["y"][2] is None
    speed = {trace["name"]: trace["y"] for trace in _plot_data(page, "chart-output-throughput")}
    # 100 (anthropic) and 50 (openai) output tokens in 0.8 s without a TTFT.
    assert speed[f"anthropic · {CLAUDE}"] == pytest.approx([125] * 5)
    assert speed[f"openai · {GPT}"][2] is None
    assert speed[f"openai · {GPT}"][3] == pytest.approx(62.5)
    expect(page.locator("#chart-error-vs-load .scatterlayer .trace")).to_have_count(3)


def test_traffic_app_filter_narrows_volume_and_windows_but_not_latency(
    page: Page, dashboard_url: str
) -> None:
    _open(page, dashboard_url + "/traffic", TRAFFIC_KPIS[0])
    _select(page, "filter-apps", "chat")
    expect(page.locator("#kpi-traffic-requests-value")).to_have_text("40")
    assert _texts(page, TRAFFIC_KPIS) == ["40", "Mon 09:00", "24.0×", "0.0%"]
    assert _table_rows(page, "traffic-windows-table") == [
        ["chat", "09:00–10:00", "5 of 5", "—", "100.0%"]
    ]
    expect(page.locator("#chart-latency .scatterlayer .trace")).to_have_count(3)


def test_traffic_provider_filter_and_percentile_choice(page: Page, dashboard_url: str) -> None:
    _open(page, dashboard_url + "/traffic", TRAFFIC_KPIS[0])
    _select(page, "filter-providers", "openai")
    expect(page.locator("#kpi-traffic-requests-value")).to_have_text("20")
    expect(page.locator("#chart-latency .scatterlayer .trace")).to_have_count(1)
    expect(page.locator("#chart-error-vs-load .scatterlayer .trace")).to_have_count(1)
    expect(page.locator("#chart-latency .gtitle")).to_have_text("Latency p95, ok requests")
    page.get_by_label("p50", exact=True).check()
    expect(page.locator("#chart-latency .gtitle")).to_have_text("Latency p50, ok requests")


def test_traffic_says_when_a_selection_has_no_data(page: Page, dashboard_url: str) -> None:
    _open(page, dashboard_url + "/traffic", TRAFFIC_KPIS[0])
    _select(page, "filter-providers", "openai")
    expect(page.locator("#kpi-traffic-requests-value")).to_have_text("20")
    _select(page, "filter-apps", "agent")
    expect(page.locator("#traffic-no-data")).to_be_visible()
    expect(page.locator("#traffic-content")).to_be_hidden()


def test_an_empty_warehouse_has_no_mix_and_no_traffic(
    page: Page, serve_dashboard: Callable[[list[Record]], str]
) -> None:
    url = serve_dashboard([])
    for path, no_data in (("/model-mix", "#mix-no-data"), ("/traffic", "#traffic-no-data")):
        page.goto(url + path)
        expect(page.locator(no_data)).to_be_visible(timeout=CHART_TIMEOUT_MS)
