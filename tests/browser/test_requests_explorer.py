"""The request explorer in real Chromium: exact rows per filter, pages, sorting, trace
siblings, the URL round trip, the CSV download, and chart clicks landing on it."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Locator, Page, expect

from ingest.record import Record, records_to_table
from tests.browser.conftest import DashboardServer, build_warehouse
from tests.planted_requests import DAY1, DAY2, expected_ids, planted_records

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000
ROWS = "#explorer-table tbody tr"


@pytest.fixture(scope="module")
def explorer_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("explorer") / "gatewatch.duckdb"
    warehouse = build_warehouse(path, planted_records())
    server = DashboardServer(warehouse)
    yield server.url
    server.stop()
    warehouse.close()


def _open(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#explorer-summary")).not_to_be_empty(timeout=TIMEOUT_MS)


def _shown_ids(page: Page, table: str = ROWS) -> list[str]:
    # The request id column is the second to last.
    return page.locator(f"{table} td:nth-last-child(2)").all_text_contents()


def _select(page: Page, dropdown_id: str, option: str) -> None:
    page.locator(f"#{dropdown_id}").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_newest_first_in_pages_of_fifty(page: Page, explorer_url: str) -> None:
    _open(page, explorer_url + "/requests")
    summary = page.locator("#explorer-summary")
    expect(summary).to_have_text("1–50 of 120 requests · page 1 of 3")
    everything = expected_ids(lambda row: True)
    assert _shown_ids(page) == everything[:50]
    expect(page.locator("#explorer-prev")).to_be_disabled()
    page.locator("#explorer-next").click()
    expect(summary).to_have_text("51–100 of 120 requests · page 2 of 3")
    assert _shown_ids(page) == everything[50:100]
    page.locator("#explorer-next").click()
    expect(summary).to_have_text("101–120 of 120 requests · page 3 of 3")
    assert _shown_ids(page) == everything[100:]
    expect(page.locator("#explorer-next")).to_be_disabled()
    assert _query(page)["page"] == ["3"]


def test_filters_give_exactly_their_rows_and_restart_at_page_one(
    page: Page, explorer_url: str
) -> None:
    _open(page, explorer_url + "/requests?page=2")
    expect(page.locator("#explorer-summary")).to_contain_text("page 2 of 3")
    _select(page, "filter-providers", "groq")
    _select(page, "explorer-status", "ok")
    _select(page, "explorer-tenant", "acme")
    expected = expected_ids(
        lambda r: r["provider"] == "groq" and r["status"] == "ok" and r["tenant"] == "acme"
    )
    summary = page.locator("#explorer-summary")
    expect(summary).to_have_text(f"1–{len(expected)} of {len(expected)} requests · page 1 of 1")
    assert _shown_ids(page) == expected
    page.get_by_label("with tool calls").check()
    with_tools = expected_ids(
        lambda r: (
            r["provider"] == "groq"
            and r["status"] == "ok"
            and r["tenant"] == "acme"
            and r["tool_calls"] > 0
        )
    )
    expect(summary).to_contain_text(f"of {len(with_tools)} requests")
    assert _shown_ids(page) == with_tools


def test_sorting_and_the_latency_range(page: Page, explorer_url: str) -> None:
    _open(page, explorer_url + "/requests")
    page.locator("#explorer-sort").click()
    page.get_by_role("option", name="duration", exact=True).click()
    page.get_by_label("asc", exact=True).check()
    page.locator("#explorer-min-ms").fill("500")
    page.locator("#explorer-max-ms").fill("800")
    page.locator("#explorer-max-ms").press("Enter")
    expected = expected_ids(lambda r: 500 <= r["duration_ms"] <= 800, "duration_ms", False)
    expect(page.locator("#explorer-summary")).to_contain_text(f"of {len(expected)} requests")
    assert _shown_ids(page) == expected
    query = _query(page)
    assert (query["sort"], query["dir"], query["min_ms"], query["max_ms"]) == (
        ["duration_ms"],
        ["asc"],
        ["500"],
        ["800"],
    )


def test_a_row_click_shows_its_trace_siblings(page: Page, explorer_url: str) -> None:
    _open(page, explorer_url + "/requests")
    # req-070 opens DAY2; its trace began on DAY1 with req-069.
    row = page.locator(ROWS).filter(has_text="req-070")
    row.click()
    card = page.locator("#explorer-trace-card")
    expect(card.locator("h2")).to_have_text("Trace trace-23: 3 requests")
    assert _shown_ids(page, "#explorer-trace-table tbody tr") == ["req-069", "req-070", "req-071"]
    expect(card.locator("tr.row-selected td:nth-last-child(2)")).to_have_text("req-070")
    assert _query(page)["trace"] == ["trace-23"]


def test_a_shared_url_opens_the_same_view(page: Page, explorer_url: str) -> None:
    link = (
        f"/requests?range=custom&start={DAY2}&end={DAY2}&provider=openai&status=ok"
        "&sort=duration_ms&dir=asc&trace=trace-30"
    )
    _open(page, explorer_url + link)
    expected = expected_ids(
        lambda r: (
            r["started_at"].date() == DAY2 and r["provider"] == "openai" and r["status"] == "ok"
        ),
        "duration_ms",
        False,
    )
    expect(page.locator("#explorer-summary")).to_have_text(
        f"1–{len(expected)} of {len(expected)} requests · page 1 of 1"
    )
    assert _shown_ids(page) == expected
    expect(page.locator("#filter-providers")).to_contain_text("openai")
    expect(page.locator("#explorer-trace-card h2")).to_have_text("Trace trace-30: 3 requests")
    expect(page.get_by_label("Start Date")).to_have_value(str(DAY2))
    # The address bar names the view; loading it again gives the same rows.
    written = page.url
    assert _query(page)["provider"] == ["openai"] and _query(page)["start"] == [str(DAY2)]
    _open(page, written)
    expect(page.locator("#explorer-summary")).to_contain_text(f"of {len(expected)} requests")
    assert _shown_ids(page) == expected


def test_global_filters_in_the_url_on_every_page(page: Page, explorer_url: str) -> None:
    page.goto(explorer_url + f"/?range=custom&start={DAY1}&end={DAY1}&app=chat")
    expect(page.locator("#kpi-requests-value")).to_have_text("35", timeout=TIMEOUT_MS)
    page.get_by_role("link", name="Requests").click()
    expect(page.locator("#explorer-summary")).to_contain_text("of 35 requests")
    assert _query(page)["app"] == ["chat"] and _query(page)["end"] == [str(DAY1)]


def test_csv_export_is_the_current_filter(page: Page, explorer_url: str, tmp_path: Path) -> None:
    _open(page, explorer_url + "/requests?status=error&sort=cost_usd")
    expect(page.locator("#explorer-summary")).to_contain_text("of 12 requests")
    with page.expect_download() as download_info:
        page.locator("#explorer-export").click()
    target = tmp_path / "export.csv"
    download_info.value.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [row["request_id"] for row in rows] == expected_ids(
        lambda r: r["status"] == "error", "cost_usd"
    )
    assert rows[0]["trace_id"] == "trace-39" and rows[0]["error_type"] == "rate_limit"


def _click_point(page: Page, point: Locator) -> None:
    """Hover then click the middle of a Plotly bar or marker, as a user would."""
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.wait_for_timeout(200)
    page.mouse.click(x, y)


def test_a_bar_on_the_overview_opens_its_requests(page: Page, dashboard_url: str) -> None:
    page.goto(dashboard_url + "/")
    bars = page.locator("#chart-volume .barlayer .trace")
    expect(bars).to_have_count(3, timeout=TIMEOUT_MS)
    # Stacked by provider (amazon-bedrock, anthropic, openai); the middle segment of the
    # third day (2026-02-04) is anthropic's 10 requests.
    _click_point(page, bars.nth(1).locator(".point path").nth(2))
    expect(page).to_have_url(re.compile(r"/requests\?"), timeout=TIMEOUT_MS)
    expect(page.locator("#explorer-summary")).to_have_text(
        "1–10 of 10 requests · page 1 of 1", timeout=TIMEOUT_MS
    )
    query = _query(page)
    assert (query["provider"], query["start"], query["end"]) == (
        ["anthropic"],
        ["2026-02-04"],
        ["2026-02-04"],
    )
    expect(page.locator("#filter-providers")).to_contain_text("anthropic")


def _click_line_point(page: Page, graph_id: str, trace: int, point: int) -> None:
    """Hover then click a point of a line chart, placed by the plot's own axes."""
    plot = page.locator(f"#{graph_id} .js-plotly-plot")
    spot = plot.evaluate(
        """(p, [t, i]) => { const xa = p._fullLayout.xaxis, ya = p._fullLayout.yaxis;
             const r = p.querySelector('.nsewdrag').getBoundingClientRect();
             return {x: r.left + xa.d2p(p.data[t].x[i]) + 1,
                     y: r.top + ya.d2p(p.data[t].y[i])}; }""",
        [trace, point],
    )
    page.mouse.move(spot["x"], spot["y"])
    page.wait_for_timeout(200)
    page.mouse.click(spot["x"], spot["y"])


def test_an_hour_of_the_traffic_chart_opens_its_requests(page: Page, explorer_url: str) -> None:
    page.goto(explorer_url + f"/traffic?range=custom&start={DAY2}&end={DAY2}")
    graph = "chart-hourly-requests"
    expect(page.locator(f"#{graph} .scatterlayer .trace").first).to_be_visible(timeout=TIMEOUT_MS)
    # DAY2's requests (70..119, at 10:00 + i minutes: 11:10..11:59) all fall in its 11:00 hour.
    hours = page.locator(f"#{graph} .js-plotly-plot").evaluate("p => p.data[0].x")
    _click_line_point(page, graph, 0, next(i for i, h in enumerate(hours) if "11:00" in h))
    expect(page.locator("#explorer-summary")).to_have_text(
        "1–50 of 50 requests · page 1 of 1", timeout=TIMEOUT_MS
    )
    query = _query(page)
    assert (query["from"], query["to"]) == ([f"{DAY2}T11:00:00Z"], [f"{DAY2}T12:00:00Z"])


def test_an_uptime_point_opens_its_provider_s_bucket(page: Page, explorer_url: str) -> None:
    page.goto(explorer_url + "/uptime")
    graph = "chart-uptime-incidents"
    expect(page.locator(f"#{graph} .scatterlayer .trace").first).to_be_visible(timeout=TIMEOUT_MS)
    traces = page.locator(f"#{graph} .js-plotly-plot").evaluate(
        "p => p.data.map(t => ({name: t.name, y: t.y}))"
    )
    # The first bucket with traffic: openai's error makes its point the only one below 100%.
    point = next(i for i, y in enumerate(traces[0]["y"]) if y is not None)
    values = [trace["y"][point] for trace in traces]
    clicked = next(t for t, y in enumerate(values) if values.count(y) == 1)
    _click_line_point(page, graph, clicked, point)
    expect(page).to_have_url(re.compile(r"/requests\?"), timeout=TIMEOUT_MS)
    query = _query(page)
    since = datetime.fromisoformat(query["from"][0].replace("Z", "+00:00"))
    until = datetime.fromisoformat(query["to"][0].replace("Z", "+00:00"))
    assert until - since == timedelta(minutes=15)  # a two-day range has 15-minute buckets
    # The hover lists every provider at that time; the one under the pointer is followed.
    assert query["provider"] == [traces[clicked]["name"]] == ["openai"]
    expected = expected_ids(
        lambda r: r["provider"] == "openai" and since <= r["started_at"] < until
    )
    expect(page.locator("#explorer-summary")).to_contain_text(f"of {len(expected)} requests")
    assert _shown_ids(page) == expected


def test_a_model_bar_opens_the_model_s_requests(page: Page, explorer_url: str) -> None:
    page.goto(explorer_url + "/model-mix")
    bars = page.locator("#chart-model-requests .barlayer .point path")
    expect(bars.first).to_be_visible(timeout=TIMEOUT_MS)
    _click_point(page, bars.first)
    expect(page).to_have_url(re.compile(r"/requests\?"), timeout=TIMEOUT_MS)
    [model] = _query(page)["model"]
    expect(page.locator("#explorer-summary")).to_contain_text(
        f"of {len(expected_ids(lambda r: r['model'] == model))} requests"
    )
    expect(page.locator("#filter-models")).to_contain_text(model)


def _live_records(now: datetime) -> list[Record]:
    """One request 10 minutes ago, one 3 hours ago, one 3 days ago."""
    ages = {"live-10m": timedelta(minutes=10), "live-3h": timedelta(hours=3)}
    ages["live-3d"] = timedelta(days=3)
    return [
        {
            "request_id": request_id,
            "started_at": int((now - age).timestamp() * 1_000_000),
            "provider": "openai",
            "model": "openai/gpt-5-mini",
            "status": "ok",
            "duration_ms": 100.0,
        }
        for request_id, age in ages.items()
    ]


def test_range_presets_and_auto_refresh_in_the_url(
    page: Page, serve_dashboard: Callable[[list[Record]], str]
) -> None:
    url = serve_dashboard(_live_records(datetime.now(UTC)))
    _open(page, url + "/requests")
    summary = page.locator("#explorer-summary")
    expect(summary).to_contain_text("of 3 requests")
    for label, count in (("1 h", 1), ("24 h", 2), ("7 d", 3)):
        page.get_by_label(label, exact=True).check()
        expect(summary).to_contain_text(f"of {count} requests")
    assert _query(page)["range"] == ["7d"]
    page.locator("#filter-refresh").click()
    page.get_by_role("option", name="30 s", exact=True).click()
    expect(page).to_have_url(re.compile("refresh=30s"))
    page.goto(url + "/requests?range=24h&refresh=1m")
    expect(summary).to_contain_text("of 2 requests", timeout=TIMEOUT_MS)
    expect(page.locator("#filter-refresh")).to_contain_text("1 min")
    expect(page.get_by_label("24 h", exact=True)).to_be_checked()


def test_a_preset_past_the_data_says_there_is_no_data(page: Page, dashboard_url: str) -> None:
    # The shared traffic is from February 2026: the last 24 hours hold none of it.
    page.goto(dashboard_url + "/")
    expect(page.locator("#kpi-requests-value")).to_have_text("90", timeout=TIMEOUT_MS)
    page.get_by_label("24 h", exact=True).check()
    expect(page.locator("#overview-no-data")).to_be_visible()
    expect(page.locator("#filter-window")).to_contain_text("UTC")
    assert _query(page)["range"] == ["24h"]
    page.get_by_role("link", name="Requests").click()
    expect(page.locator("#explorer-summary")).to_have_text("No request matches these filters.")


def test_auto_refresh_reads_new_requests(page: Page, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    warehouse = build_warehouse(tmp_path / "live.duckdb", _live_records(now))
    server = DashboardServer(warehouse)
    try:
        page.clock.install()
        _open(page, server.url + "/requests?range=24h&refresh=30s")
        summary = page.locator("#explorer-summary")
        expect(summary).to_contain_text("of 2 requests")
        arrived = {**_live_records(now)[0], "request_id": "live-new"}
        warehouse.connection.register("arrived", records_to_table([arrived]))
        warehouse.connection.execute("INSERT INTO requests BY NAME SELECT * FROM arrived")
        warehouse.connection.unregister("arrived")
        page.clock.fast_forward(31_000)
        expect(summary).to_contain_text("of 3 requests")
    finally:
        # Leave the page first: a refresh still in flight would fail against the stopped
        # server and count as a browser error.
        page.goto("about:blank")
        server.stop()
        warehouse.close()
