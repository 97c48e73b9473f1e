"""The dashboard queries on a tiny warehouse with hand-countable traffic."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count
from pathlib import Path

import pytest

from analytics.jobs import run_jobs
from dashboard.data import Filters, daily_series, filter_options, totals
from ingest.record import records_to_table
from warehouse.db import Warehouse

DAY1, DAY2, DAY3 = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)
GPT = "openai/gpt-5-mini"
CLAUDE = "anthropic/claude-sonnet-4.5"
_ids = count()


def _request(day: date, provider: str, model: str, app: str, **fields: object) -> dict:
    started = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return {
        "request_id": f"req-{next(_ids)}",
        "started_at": int(started.timestamp() * 1_000_000),
        "duration_ms": 500.0,
        "provider": provider,
        "model": model,
        "app": app,
        "status": "ok",
        "input_tokens": 10,
        **fields,
    }


def _ok(day, provider, model, app, finish, output, reasoning):
    return _request(
        day,
        provider,
        model,
        app,
        finish_reason=finish,
        output_tokens=output,
        reasoning_tokens=reasoning,
    )


def _error(day, provider, model, app, error_type):
    return _request(
        day,
        provider,
        model,
        app,
        status="error",
        finish_reason="error",
        error_type=error_type,
        output_tokens=0,
    )


# Day 1: openai 4 ok (2 tool calls, reasoning 25/100 each) + 1 rate limit;
#        anthropic 2 ok tool calls (reasoning not reported) + 1 client error.
# Day 2: anthropic 2 auth errors only (no ok, no provider error: every ratio is NULL).
# Day 3: openai 2 ok stops reporting 0 reasoning of 50 output.
TRAFFIC = [
    *[_ok(DAY1, "openai", GPT, "chat", "tool_calls", 100, 25) for _ in range(2)],
    *[_ok(DAY1, "openai", GPT, "chat", "stop", 100, 25) for _ in range(2)],
    _error(DAY1, "openai", GPT, "chat", "rate_limit"),
    *[_ok(DAY1, "anthropic", CLAUDE, "agent", "tool_calls", 200, None) for _ in range(2)],
    _error(DAY1, "anthropic", CLAUDE, "agent", "client_error"),
    *[_error(DAY2, "anthropic", CLAUDE, "agent", "auth") for _ in range(2)],
    *[_ok(DAY3, "openai", GPT, "agent", "stop", 50, 0) for _ in range(2)],
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    path: Path = tmp_path_factory.mktemp("dashboard-data") / "gatewatch.duckdb"
    wh = Warehouse.open(path)
    wh.connection.register("traffic", records_to_table(TRAFFIC))
    wh.connection.execute("INSERT INTO requests BY NAME SELECT * FROM traffic")
    wh.connection.unregister("traffic")
    run_jobs(wh.connection, full=True)
    yield wh
    wh.close()


def _filters(**kwargs: object) -> Filters:
    return Filters(start=DAY1, end=DAY3, **kwargs)


def test_filter_options_come_from_the_data(warehouse: Warehouse) -> None:
    options = filter_options(warehouse)
    assert (options.first_day, options.last_day) == (DAY1, DAY3)
    assert options.providers == ("anthropic", "openai")
    assert options.models == (CLAUDE, GPT)
    assert options.apps == ("agent", "chat")
    assert options.default_filters() == Filters(start=DAY1, end=DAY3)
    assert options.default_filters(range_days=2) == Filters(start=DAY2, end=DAY3)


def test_totals_recompute_ratios_from_counts(warehouse: Warehouse) -> None:
    got = totals(warehouse, _filters())
    assert got["requests"] == 12
    assert got["ok_requests"] == 8
    assert got["tool_call_rate"] == pytest.approx(4 / 8)
    # Anthropic did not report reasoning: its output stays out of the denominator.
    assert got["reasoning_share"] == pytest.approx(100 / 500)
    assert got["uptime"] == pytest.approx(8 / 9)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            _filters(providers=("anthropic",)),
            {"requests": 5, "tool_call_rate": 1.0, "reasoning_share": None, "uptime": 1.0},
        ),
        (
            _filters(apps=("agent",)),
            {"requests": 7, "tool_call_rate": 0.5, "reasoning_share": 0.0, "uptime": 1.0},
        ),
        (
            _filters(models=(GPT,), apps=("chat",)),
            {"requests": 5, "tool_call_rate": 0.5, "reasoning_share": 0.25, "uptime": 0.8},
        ),
        (
            Filters(start=DAY3, end=DAY3),
            {"requests": 2, "tool_call_rate": 0.0, "reasoning_share": 0.0, "uptime": 1.0},
        ),
        (
            _filters(providers=("anthropic",), models=(GPT,)),
            {"requests": 0, "tool_call_rate": None, "reasoning_share": None, "uptime": None},
        ),
    ],
)
def test_totals_apply_every_filter(warehouse: Warehouse, filters: Filters, expected: dict) -> None:
    got = totals(warehouse, filters)
    assert {key: got[key] for key in expected} == pytest.approx(expected)


def test_daily_series_fills_missing_days_with_gaps(warehouse: Warehouse) -> None:
    df = daily_series(warehouse, _filters(), split="provider")
    rows = {(r["period_start"], r["series"]): r for r in df.iter_rows(named=True)}
    assert len(df) == 6 and len(rows) == 6
    # A day without traffic: zero volume, no ratio (a gap, never 0% or 100%).
    assert rows[(DAY2, "openai")]["requests"] == 0
    assert rows[(DAY2, "openai")]["uptime"] is None
    # A day with only client errors: volume, but still no uptime or tool-call rate.
    assert rows[(DAY2, "anthropic")]["requests"] == 2
    assert rows[(DAY2, "anthropic")]["uptime"] is None
    assert rows[(DAY2, "anthropic")]["tool_call_rate"] is None
    assert rows[(DAY1, "openai")]["uptime"] == pytest.approx(4 / 5)
    assert rows[(DAY1, "openai")]["tool_call_rate"] == pytest.approx(0.5)


def test_daily_series_overall_and_by_model(warehouse: Warehouse) -> None:
    overall = daily_series(warehouse, _filters())
    assert overall["series"].unique().to_list() == ["all"]
    assert overall["requests"].to_list() == [8, 2, 2]
    by_model = daily_series(warehouse, _filters(), split="model")
    assert set(by_model["series"]) == {CLAUDE, GPT}


def test_daily_series_of_an_empty_selection_is_empty(warehouse: Warehouse) -> None:
    df = daily_series(warehouse, _filters(providers=("nobody",)), split="provider")
    assert df.is_empty()


def test_filters_round_trip_through_the_store() -> None:
    filters = _filters(providers=("openai",), apps=("chat", "agent"))
    assert Filters.from_store(filters.to_store()) == filters
