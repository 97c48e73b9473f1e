"""The Overview page in real Chromium: KPIs, charts, filters, empty selections, 404."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from ingest.record import Record

pytestmark = pytest.mark.browser

CHART_TIMEOUT_MS = 15_000
CLAUDE = "anthropic/claude-sonnet-4.5"
GPT = "openai/gpt-5-mini"


def _open_overview(page: Page, url: str) -> None:
    page.goto(url + "/")
    expect(page.locator("#kpi-requests-value")).not_to_be_empty(timeout=CHART_TIMEOUT_MS)
    page.locator("#chart-volume .barlayer .trace").first.wait_for(timeout=CHART_TIMEOUT_MS)


def _kpi_values(page: Page) -> list[str]:
    return [
        page.locator(f"#{kpi}-value").inner_text()
        for kpi in ("kpi-requests", "kpi-tool-call-rate", "kpi-reasoning-share", "kpi-uptime")
    ]


def _select(page: Page, dropdown_id: str, option: str) -> None:
    page.locator(f"#{dropdown_id}").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def _trace_count(page: Page, graph_id: str, layer: str = "scatterlayer") -> int:
    return page.locator(f"#{graph_id} .{layer} .trace").count()


def test_overview_shows_kpis_and_every_chart(page: Page, dashboard_url: str) -> None:
    _open_overview(page, dashboard_url)
    # 90 requests; 24 tool calls of 70 ok; 1,800 of 5,000 reasoning-reporting output
    # tokens; 70 ok against 15 provider errors.
    expect(page.locator("#kpi-requests-value")).to_have_text("90")
    assert _kpi_values(page) == ["90", "34.3%", "36.0%", "82.4%"]
    expect(page.locator("#kpi-uptime-detail")).to_have_text("15 provider errors")
    # Three providers plus the overall line; uptime one line per provider; stacked bars.
    assert _trace_count(page, "chart-tool-call-rate") == 4
    assert _trace_count(page, "chart-reasoning-share") == 4
    assert _trace_count(page, "chart-uptime") == 3
    assert _trace_count(page, "chart-volume", layer="barlayer") == 3
    for graph_id in ("chart-tool-call-rate", "chart-reasoning-share", "chart-uptime"):
        assert page.locator(f"#{graph_id} .scatterlayer .trace path.js-line").count() > 0
    expect(page.locator("#overview-no-data")).to_be_hidden()
    expect(page.locator(".navbar .nav-link").first).to_have_text("Overview")


def test_provider_filter_changes_kpis_and_charts(page: Page, dashboard_url: str) -> None:
    _open_overview(page, dashboard_url)
    _select(page, "filter-providers", "anthropic")
    # anthropic alone: 50 requests; 20 of 40 ok are tool calls; 1,600 of 4,000 reasoning;
    # 40 ok against 5 rate limits.
    expect(page.locator("#kpi-requests-value")).to_have_text("50")
    assert _kpi_values(page) == ["50", "50.0%", "40.0%", "88.9%"]
    expect(page.locator("#chart-uptime .scatterlayer .trace")).to_have_count(1)
    assert _trace_count(page, "chart-tool-call-rate") == 2
    assert _trace_count(page, "chart-volume", layer="barlayer") == 1


def test_days_without_traffic_are_gaps_in_the_uptime_chart(page: Page, dashboard_url: str) -> None:
    _open_overview(page, dashboard_url)
    traces = page.locator("#chart-uptime .js-plotly-plot").evaluate(
        "plot => plot.data.map(trace => ({name: trace.name, y: trace.y}))"
    )
    uptime = {trace["name"]: trace["y"] for trace in traces}
    # openai is idle on the third day: no point there, never a 100% one.
    assert uptime["openai"] == [1, 1, None, 1, 1]
    assert uptime["amazon-bedrock"] == [0.5] * 5


def test_date_range_narrows_the_selection(page: Page, dashboard_url: str) -> None:
    _open_overview(page, dashboard_url)
    for label in ("Start Date", "End Date"):
        date_input = page.get_by_label(label)
        date_input.fill("2026-02-04")
        date_input.press("Enter")
    # The third day alone: anthropic 10 and amazon-bedrock 4 requests, openai idle.
    expect(page.locator("#kpi-requests-value")).to_have_text("14")
    expect(page.locator("#chart-uptime .scatterlayer .trace")).to_have_count(2)


def test_model_breakdown_splits_charts_by_model(page: Page, dashboard_url: str) -> None:
    _open_overview(page, dashboard_url)
    page.get_by_label("model", exact=True).check()
    expect(page.locator("#chart-volume .barlayer .trace")).to_have_count(2)
    legend = page.locator("#chart-volume .legend .legendtext").all_text_contents()
    assert sorted(legend) == [CLAUDE, GPT]


def test_a_selection_without_data_says_so(page: Page, dashboard_url: str) -> None:
    _open_overview(page, dashboard_url)
    _select(page, "filter-providers", "openai")
    expect(page.locator("#kpi-requests-value")).to_have_text("20")
    _select(page, "filter-models", CLAUDE)
    expect(page.locator("#overview-no-data")).to_be_visible()
    expect(page.locator("#overview-no-data")).to_contain_text("No data for this selection")
    expect(page.locator("#overview-content")).to_be_hidden()


def test_an_empty_warehouse_says_there_is_no_data(
    page: Page, serve_dashboard: Callable[[list[Record]], str]
) -> None:
    page.goto(serve_dashboard([]) + "/")
    expect(page.locator("#overview-no-data")).to_be_visible(timeout=CHART_TIMEOUT_MS)
    expect(page.locator("#overview-content")).to_be_hidden()


def test_unknown_path_shows_the_404_page(page: Page, dashboard_url: str) -> None:
    page.goto(dashboard_url + "/no-such-page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    page.get_by_role("link", name="Back to the overview").click()
    expect(page.locator("#kpi-requests-value")).to_have_text("90", timeout=CHART_TIMEOUT_MS)


def test_two_apps_in_one_process_read_their_own_warehouse(
    page: Page,
    dashboard_url: str,
    traffic: list[Record],
    serve_dashboard: Callable[[list[Record]], str],
) -> None:
    second_url = serve_dashboard([r for r in traffic if r["provider"] == "openai"])
    _open_overview(page, second_url)
    assert _kpi_values(page) == ["20", "20.0%", "20.0%", "100.0%"]
    _open_overview(page, dashboard_url)
    expect(page.locator("#kpi-requests-value")).to_have_text("90")
