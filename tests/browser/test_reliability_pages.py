"""The Uptime & incidents, Same model across providers and Routing pools pages in Chromium,
over the planted traffic of `tests/planted_reliability.py`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DashboardServer, build_warehouse
from tests.planted_reliability import CODER, SMALL, planted_traffic

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000
MODEL_PICKER = "providers-model"


@pytest.fixture(scope="module")
def planted_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path: Path = tmp_path_factory.mktemp("planted") / "gatewatch.duckdb"
    warehouse = build_warehouse(path, planted_traffic())
    server = DashboardServer(warehouse)
    yield server.url
    server.stop()
    warehouse.close()


def _select(page: Page, dropdown_id: str, option: str) -> None:
    page.locator(f"#{dropdown_id}").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def _rows(page: Page, table_id: str) -> list[list[str]]:
    return [
        row.locator("td").all_inner_texts() for row in page.locator(f"#{table_id} tbody tr").all()
    ]


def _open(page: Page, url: str, ready: str) -> None:
    page.goto(url)
    expect(page.locator(ready)).not_to_be_empty(timeout=TIMEOUT_MS)


def _kpis(page: Page) -> list[str]:
    return [
        page.locator(f"#{kpi}-value").inner_text()
        for kpi in ("kpi-sla-met", "kpi-incidents", "kpi-worst-uptime")
    ]


def test_uptime_page_shows_sla_incidents_and_the_chart(page: Page, planted_url: str) -> None:
    _open(page, planted_url + "/uptime", "#kpi-incidents-value")
    # Six providers; anthropic (7 ok of 19 eligible) and openai (7 of 8) miss 99.9%.
    assert _kpis(page) == ["4 of 6", "1", "36.8%"]
    expect(page.locator("#kpi-incidents-detail")).to_have_text("12 failed requests")
    expect(page.locator("#kpi-worst-uptime-detail")).to_have_text("anthropic")
    assert _rows(page, "incidents-table") == [
        [
            "anthropic",
            "all models",
            "2026-03-02 14:00",
            "2026-03-02 14:10",
            "10",
            "12",
            "20.0%",
            "0.0%",
            "overloaded (100.0%)",
        ]
    ]
    sla = {row[0]: row for row in _rows(page, "sla-table")}
    assert sla["anthropic"][1:5] == ["19", "12", "36.8%", "no"]
    assert sla["google-vertex"][3:] == ["100.0%", "yes", "0.0", "0.0%", "0.0"]
    page.locator("#chart-uptime-incidents .scatterlayer .trace").first.wait_for(timeout=TIMEOUT_MS)
    traces = page.locator("#chart-uptime-incidents .js-plotly-plot").evaluate(
        "plot => plot.data.map(trace => trace.name)"
    )
    assert traces[-1] == "incident" and len(traces) == 7
    expect(page.locator("#uptime-step-note")).to_contain_text("hourly")
    links = page.locator(".navbar .nav-link").all_inner_texts()
    assert links[:4] == [
        "Overview",
        "Uptime & incidents",
        "Same model across providers",
        "Routing pools",
    ]


def test_uptime_page_follows_the_provider_filter(page: Page, planted_url: str) -> None:
    _open(page, planted_url + "/uptime", "#kpi-incidents-value")
    _select(page, "filter-providers", "openai")
    expect(page.locator("#kpi-sla-met-value")).to_have_text("0 of 1")
    assert _kpis(page) == ["0 of 1", "0", "87.5%"]
    expect(page.locator("#incidents-panel")).to_have_text("No incident in the selected days.")
    _select(page, "filter-models", CODER)
    expect(page.locator("#uptime-no-data")).to_be_visible()
    expect(page.locator("#uptime-content")).to_be_hidden()


def test_providers_page_compares_the_default_model(page: Page, planted_url: str) -> None:
    _open(page, planted_url + "/providers", "#provider-comparison-table")
    expect(page.locator(f"#{MODEL_PICKER}")).to_contain_text(f"{CODER} (3 providers)")
    rows = {row[0]: row for row in _rows(page, "provider-comparison-table-rows")}
    assert list(rows) == ["deepinfra", "fireworks", "together"]
    # Weeks pooled by their counts: 50 tool calls of 300 ok answers, against 800 of 1,600.
    assert rows["deepinfra"][2] == "16.7% vs 50.0%"
    assert rows["deepinfra"][5] == "50 vs 100"
    assert rows["deepinfra"][6].startswith(
        "divergent in 2 of 2 weeks; latest (2026-03-16): tool-call rate 30.0% vs 50.0% on peers"
    )
    assert rows["together"][6] == "consistent with peers (2 weeks tested)"
    expect(page.locator("#provider-comparison-table-rows tr.row-alert")).to_have_count(1)
    assert [row[:3] for row in _rows(page, "divergent-table")] == [
        ["2026-03-16", CODER, "deepinfra"],
        ["2026-03-09", CODER, "deepinfra"],
    ]
    page.locator("#chart-provider-comparison .barlayer .trace").first.wait_for(timeout=TIMEOUT_MS)
    page.locator("#chart-finish-mix .barlayer .trace").first.wait_for(timeout=TIMEOUT_MS)


def test_providers_page_follows_the_picker_and_the_filters(page: Page, planted_url: str) -> None:
    _open(page, planted_url + "/providers", "#provider-comparison-table")
    _select(page, MODEL_PICKER, f"{SMALL} (2 providers)")
    expect(page.locator("#provider-comparison-table-rows tbody tr")).to_have_count(2)
    assert [row[2] for row in _rows(page, "provider-comparison-table-rows")] == [
        "50.0% vs 50.0%",
        "50.0% vs 50.0%",
    ]
    _select(page, "filter-providers", "deepinfra")
    # SMALL has no deepinfra cell: the picker falls back to the default model.
    expect(page.locator(f"#{MODEL_PICKER}")).to_contain_text(CODER)
    expect(page.locator("#provider-comparison-table-rows tbody tr")).to_have_count(1)
    _select(page, "filter-models", SMALL)
    expect(page.locator("#providers-no-data")).to_be_visible()
    expect(page.locator("#providers-content")).to_be_hidden()


def test_routing_page_shows_pools_and_their_export(page: Page, planted_url: str) -> None:
    _open(page, planted_url + "/routing", "#routing-table-panel")
    expect(page.locator(".pool-card")).to_have_count(5)
    coder = page.locator(".pool-card", has_text=CODER)
    assert coder.locator(".pool-included li strong").all_inner_texts() == ["together", "fireworks"]
    expect(coder.locator(".pool-excluded li")).to_contain_text(
        "deepinfra left out: divergent in 2 of 2 weeks"
    )
    rows = _rows(page, "routing-table")
    assert len(rows) == 9
    together = next(row for row in rows if row[:2] == [CODER, "together"])
    assert together[2:6] == ["1", "403", "100.0%", "50.0%"]
    assert together[7] == "500 ms"
    _select(page, "routing-export-model", CODER)
    expect(page.locator("#routing-export-command")).to_have_text(
        f"gatewatch routing export --format openrouter --model {CODER}"
    )
    expect(page.locator("#routing-export-json")).to_contain_text('"together"')
    assert json.loads(page.locator("#routing-export-json").inner_text()) == {
        "model": CODER,
        "provider": {
            "order": ["together", "fireworks"],
            "ignore": ["deepinfra"],
            "allow_fallbacks": True,
        },
    }
    page.get_by_label("litellm").check()
    expect(page.locator("#routing-export-json")).to_contain_text("together_ai/qwen3-coder")


def test_routing_page_follows_the_filters(page: Page, planted_url: str) -> None:
    _open(page, planted_url + "/routing", "#routing-table-panel")
    _select(page, "filter-providers", "deepinfra")
    expect(page.locator("#routing-table tbody tr")).to_have_count(1)
    expect(page.locator(".pool-card")).to_have_count(1)
    expect(page.locator(".pool-card .empty-note")).to_have_text("No provider passes every rule.")
    _select(page, "filter-models", SMALL)
    expect(page.locator("#routing-no-data")).to_be_visible()
    expect(page.locator("#routing-content")).to_be_hidden()
