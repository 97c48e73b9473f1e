"""The request explorer's SQL on a small planted warehouse: filters, sort, pages, siblings,
export; and the URL form of the global filters."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from dashboard.components import REFRESH_TIMER_ID
from dashboard.data import CUSTOM, Filters
from dashboard.data_requests import (
    PAGE_SIZE,
    RequestQuery,
    count_requests,
    export_rows,
    page_count,
    request_page,
    tenants,
    trace_siblings,
)
from dashboard.drilldown import explorer_href
from dashboard.filter_sync import _next_filters
from dashboard.url_state import (
    filters_from_query,
    filters_query,
    parse_query,
    with_preset,
    with_window,
)
from ingest.record import records_to_table
from tests.planted_requests import DAY1, DAY2, REQUESTS, expected_ids, planted_records
from warehouse.db import Warehouse

BOTH_DAYS = Filters(start=DAY1, end=DAY2)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    wh = Warehouse.open(tmp_path_factory.mktemp("explorer") / "explorer.duckdb")
    wh.connection.register("planted", records_to_table(planted_records()))
    wh.connection.execute("INSERT INTO requests BY NAME SELECT * FROM planted")
    wh.connection.unregister("planted")
    return wh


def _ids(frame: pl.DataFrame) -> list[str]:
    return frame["request_id"].to_list()


def _all_pages(warehouse: Warehouse, query: RequestQuery) -> list[str]:
    pages = page_count(count_requests(warehouse, query), query.page_size)
    return [
        request_id
        for page in range(1, pages + 1)
        for request_id in _ids(request_page(warehouse, replace(query, page=page)))
    ]


def test_the_default_order_is_newest_first_in_pages_of_fifty(warehouse: Warehouse) -> None:
    query = RequestQuery(filters=BOTH_DAYS)
    assert count_requests(warehouse, query) == REQUESTS
    assert page_count(REQUESTS) == 3
    first = request_page(warehouse, query)
    assert first.height == PAGE_SIZE
    assert _ids(first)[:2] == ["req-119", "req-118"]
    assert _ids(request_page(warehouse, replace(query, page=3))) == [
        f"req-{i:03d}" for i in range(19, -1, -1)
    ]
    # Pages neither overlap nor skip: together they are the whole filter, in order.
    assert _all_pages(warehouse, query) == expected_ids(lambda row: True)


def test_the_rows_carry_metadata_and_never_content(warehouse: Warehouse) -> None:
    row = request_page(warehouse, RequestQuery(filters=BOTH_DAYS)).row(0, named=True)
    assert row["request_id"] == "req-119"
    assert row["trace_id"] == "trace-39"
    assert row["status"] == "error" and row["error_type"] == "rate_limit"
    assert row["ttft_ms"] is None and row["duration_ms"] == 1290.0
    assert row["cost_usd"] == pytest.approx(0.119)
    assert not {"prompt", "completion", "content", "messages"} & set(row)


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        (
            RequestQuery(filters=Filters(start=DAY2, end=DAY2)),
            lambda r: r["started_at"].date() == DAY2,
        ),
        (
            RequestQuery(filters=replace(BOTH_DAYS, providers=("groq", "openai"))),
            lambda r: r["provider"] in ("groq", "openai"),
        ),
        (
            RequestQuery(filters=replace(BOTH_DAYS, models=("anthropic/claude-sonnet-4.5",))),
            lambda r: r["provider"] == "anthropic",
        ),
        (RequestQuery(filters=replace(BOTH_DAYS, apps=("chat",))), lambda r: r["app"] == "chat"),
        (RequestQuery(filters=BOTH_DAYS, tenants=("acme",)), lambda r: r["tenant"] == "acme"),
        (
            RequestQuery(filters=BOTH_DAYS, finish_reasons=("tool_calls", "error")),
            lambda r: r["finish_reason"] in ("tool_calls", "error"),
        ),
        (RequestQuery(filters=BOTH_DAYS, statuses=("error",)), lambda r: r["status"] == "error"),
        (RequestQuery(filters=BOTH_DAYS, tool_calls="yes"), lambda r: r["tool_calls"] > 0),
        (RequestQuery(filters=BOTH_DAYS, tool_calls="no"), lambda r: r["tool_calls"] == 0),
        (
            RequestQuery(filters=BOTH_DAYS, min_ms=500, max_ms=800),
            lambda r: 500 <= r["duration_ms"] <= 800,
        ),
        (
            RequestQuery(
                filters=replace(BOTH_DAYS, providers=("openai",)),
                tenants=("acme",),
                statuses=("ok",),
                min_ms=300,
            ),
            lambda r: (
                r["provider"] == "openai"
                and r["tenant"] == "acme"
                and r["status"] == "ok"
                and r["duration_ms"] >= 300
            ),
        ),
    ],
)
def test_each_filter_gives_exactly_its_rows(
    warehouse: Warehouse, query: RequestQuery, keep: object
) -> None:
    expected = expected_ids(keep)  # type: ignore[arg-type]
    assert 0 < len(expected) < REQUESTS
    assert count_requests(warehouse, query) == len(expected)
    assert _all_pages(warehouse, query) == expected


def test_an_exact_window_is_half_open(warehouse: Warehouse) -> None:
    # 10:00 to 10:05 on DAY1: requests 0..4; the one starting at 10:05 is outside.
    since = datetime(DAY1.year, DAY1.month, DAY1.day, 10, tzinfo=UTC)
    query = RequestQuery(filters=with_window(BOTH_DAYS, since, since + timedelta(minutes=5)))
    assert _all_pages(warehouse, query) == [f"req-{i:03d}" for i in range(4, -1, -1)]


@pytest.mark.parametrize("sort", ["duration_ms", "ttft_ms", "input_tokens", "cost_usd"])
@pytest.mark.parametrize("descending", [True, False])
def test_sorting_puts_missing_values_last(
    warehouse: Warehouse, sort: str, descending: bool
) -> None:
    query = RequestQuery(filters=BOTH_DAYS, sort=sort, descending=descending)
    assert _all_pages(warehouse, query) == expected_ids(lambda r: True, sort, descending)


def test_an_unknown_sort_key_falls_back_to_time(warehouse: Warehouse) -> None:
    query = RequestQuery(filters=BOTH_DAYS, sort="prompt; DROP TABLE requests")
    assert _ids(request_page(warehouse, query))[0] == "req-119"


def test_pages_past_the_end_are_empty_and_an_empty_filter_has_one_page(
    warehouse: Warehouse,
) -> None:
    assert request_page(warehouse, RequestQuery(filters=BOTH_DAYS, page=4)).is_empty()
    nobody = RequestQuery(filters=replace(BOTH_DAYS, providers=("nobody",)))
    assert count_requests(warehouse, nobody) == 0
    assert page_count(0) == 1


def test_trace_siblings_are_the_whole_trace_whatever_the_filter(warehouse: Warehouse) -> None:
    # trace-23 spans both days (requests 69 on DAY1, 70 and 71 on DAY2).
    assert _ids(trace_siblings(warehouse, "trace-23")) == ["req-069", "req-070", "req-071"]
    assert trace_siblings(warehouse, "no-such-trace").is_empty()


def test_the_export_is_the_filter_s_rows_in_order(warehouse: Warehouse) -> None:
    query = RequestQuery(filters=BOTH_DAYS, statuses=("ok",), sort="duration_ms", page=3)
    rows = export_rows(warehouse, query)
    # Every page of the filter, not the page shown.
    assert _ids(rows) == expected_ids(lambda r: r["status"] == "ok", "duration_ms")
    csv = pl.read_csv(rows.write_csv().encode())
    assert csv["request_id"].to_list() == _ids(rows)
    assert "trace_id" in csv.columns and "cost_usd" in csv.columns


def test_tenant_options_come_from_the_window(warehouse: Warehouse) -> None:
    assert tenants(warehouse, BOTH_DAYS) == ("acme", "globex")
    assert (
        tenants(warehouse, Filters(start=DAY2 + timedelta(days=1), end=DAY2 + timedelta(1))) == ()
    )


NOW = datetime(2026, 4, 7, 12, 30, 15, tzinfo=UTC)


def test_presets_end_now_and_cover_the_days_they_touch() -> None:
    last_hour = with_preset(BOTH_DAYS, "1h", NOW)
    assert last_hour.window() == (NOW - timedelta(hours=1), NOW)
    assert (last_hour.start, last_hour.end, last_hour.preset) == (DAY2, DAY2, "1h")
    day = with_preset(BOTH_DAYS, "24h", NOW)
    assert (day.start, day.end) == (DAY1, DAY2)
    assert with_preset(BOTH_DAYS, "30d", NOW).window()[0] == NOW - timedelta(days=30)


@pytest.mark.parametrize(
    "filters",
    [
        replace(BOTH_DAYS, providers=("openai", "groq"), models=("a/b",), apps=("chat",)),
        with_preset(BOTH_DAYS, "7d", NOW),
        with_window(BOTH_DAYS, NOW - timedelta(hours=2), NOW - timedelta(hours=1)),
    ],
)
def test_filters_survive_the_url(filters: Filters) -> None:
    query = parse_query("?" + explorer_href(filters).split("?", 1)[1])
    assert filters_from_query(query, Filters(start=DAY1, end=DAY1), NOW) == filters


def test_a_url_without_a_range_keeps_the_current_one_and_bad_dates_are_ignored() -> None:
    current = replace(BOTH_DAYS, providers=("openai",))
    assert filters_from_query(parse_query("?provider=groq"), current, NOW) == replace(
        BOTH_DAYS, providers=("groq",)
    )
    bad = parse_query("?range=custom&start=2026-13-01&end=2026-02-01")
    assert filters_from_query(bad, current, NOW) == current
    assert filters_query(BOTH_DAYS) == [
        ("range", CUSTOM),
        ("start", DAY1.isoformat()),
        ("end", DAY2.isoformat()),
    ]


def test_the_url_carries_the_refresh_period_only_when_on() -> None:
    assert ("refresh", "30s") in filters_query(BOTH_DAYS, "30s")
    assert all(key != "refresh" for key, _ in filters_query(BOTH_DAYS, "off"))


def test_an_auto_refresh_tick_moves_a_preset_to_now_and_keeps_a_custom_range() -> None:
    values = dict.fromkeys(("search", "preset", "start", "end", "models", "apps"))
    values |= {"providers": ["openai"], "refresh": "30s"}
    stale = with_preset(replace(BOTH_DAYS, providers=("openai",)), "1h", NOW)
    moved, period = _next_filters(REFRESH_TIMER_ID, values, stale)  # type: ignore[misc]
    assert moved.preset == "1h" and moved.until is not None and moved.until > NOW
    assert period == "30s"
    custom = replace(BOTH_DAYS, providers=("openai",))
    assert _next_filters(REFRESH_TIMER_ID, values, custom) == (custom, "30s")
