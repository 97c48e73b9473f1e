"""The Model mix and Traffic page queries on a tiny warehouse with hand-countable traffic.

Monday DAY1 .. Wednesday DAY3 (UTC):
- app "batch": openai/gpt-5-mini (small) at 02:00, 6 / 4 / 2 ok requests (10 in + 10 out
  tokens, 500 ms, no TTFT).
- app "chat": openai/gpt-5 (frontier) at 10:00 on DAY1, 3 ok (100 in + 50 out, 1/2/3 s,
  TTFT 200 ms), and 1 at 11:00 on DAY2 (2 s, TTFT 500 ms); anthropic/claude-haiku-4.5 (small)
  1 rate-limit error at 10:00 on DAY1; acme/foo-1 (no tier rule) 1 ok at 11:00 on DAY2
  (5 + 5 tokens).
- app "agent", DAY3 09:00: one trace, gpt-5 answering with tool calls (planner, 100 + 50)
  then gpt-5-mini (executor, 10 + 10).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path

import polars as pl
import pytest

from analytics.jobs import run_jobs
from dashboard.data import Filters
from dashboard.data_model_mix import (
    agent_roles,
    mix_totals,
    model_requests,
    previous_period,
    tier_mix_daily,
)
from dashboard.data_traffic import (
    batch_windows,
    daily_peaks,
    heatmap,
    hourly_requests,
    latency_daily,
    load_error_curve,
    traffic_totals,
)
from ingest.record import Record, records_to_table
from warehouse.db import Warehouse

DAY1, DAY2, DAY3 = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)
GPT5, MINI = "openai/gpt-5", "openai/gpt-5-mini"
HAIKU, ACME = "anthropic/claude-haiku-4.5", "acme/foo-1"
_ids = count()


def _at(day: date, hour: int, minute: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).timestamp() * 1e6)


def _ok(day: date, hour: int, provider: str, model: str, app: str, **fields: object) -> Record:
    return {
        "request_id": f"mix-{next(_ids)}",
        "started_at": _at(day, hour),
        "provider": provider,
        "model": model,
        "app": app,
        "status": "ok",
        "finish_reason": "stop",
        **fields,
    }


def _batch(day: date, n: int) -> list[Record]:
    fields = {"input_tokens": 10, "output_tokens": 10, "duration_ms": 500.0}
    return [_ok(day, 2, "openai", MINI, "batch", **fields) for _ in range(n)]


def _gpt5(day: date, hour: int, duration_ms: float, ttft_ms: float, **fields: object) -> Record:
    return _ok(
        day,
        hour,
        "openai",
        GPT5,
        fields.pop("app", "chat"),
        input_tokens=100,
        output_tokens=50,
        duration_ms=duration_ms,
        ttft_ms=ttft_ms,
        **fields,
    )


TRAFFIC: list[Record] = [
    *_batch(DAY1, 6),
    *_batch(DAY2, 4),
    *_batch(DAY3, 2),
    *(_gpt5(DAY1, 10, duration, 200.0) for duration in (1000.0, 2000.0, 3000.0)),
    _gpt5(DAY2, 11, 2000.0, 500.0),
    {
        **_ok(DAY1, 10, "anthropic", HAIKU, "chat"),
        "status": "error",
        "finish_reason": "error",
        "error_type": "rate_limit",
        "duration_ms": 100.0,
    },
    _ok(DAY2, 11, "acme", ACME, "chat", input_tokens=5, output_tokens=5, duration_ms=100.0),
    _gpt5(
        DAY3, 9, 1000.0, 200.0, app="agent", trace_id="t1", span_id="s1", finish_reason="tool_calls"
    ),
    {
        **_ok(DAY3, 9, "openai", MINI, "agent", trace_id="t1", span_id="s2"),
        "started_at": _at(DAY3, 9, 1),
        "input_tokens": 10,
        "output_tokens": 10,
        "duration_ms": 500.0,
    },
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    path: Path = tmp_path_factory.mktemp("dashboard-mix-traffic") / "gatewatch.duckdb"
    wh = Warehouse.open(path)
    wh.connection.register("traffic", records_to_table(TRAFFIC))
    wh.connection.execute("INSERT INTO requests BY NAME SELECT * FROM traffic")
    wh.connection.unregister("traffic")
    run_jobs(wh.connection, full=True)
    yield wh
    wh.close()


def _filters(**kwargs: object) -> Filters:
    return Filters(start=DAY1, end=DAY3, **kwargs)


def _rows(df: pl.DataFrame, *keys: str) -> dict[tuple, dict]:
    return {tuple(row[key] for key in keys): row for row in df.iter_rows(named=True)}


# --- Model mix ---------------------------------------------------------------------------


def test_mix_totals_count_frontier_requests_and_tokens(warehouse: Warehouse) -> None:
    got = mix_totals(warehouse, _filters())
    assert {key: got[key] for key in ("requests", "frontier_requests", "models", "tiers")} == {
        "requests": 20,
        "frontier_requests": 5,
        "models": 4,
        "tiers": 3,
    }
    # Tokens of ok requests only: gpt-5 5 × 150; gpt-5-mini 13 × 20; acme 10; haiku errored.
    assert (got["tokens"], got["frontier_tokens"]) == (1020, 750)
    assert got["frontier_share_requests"] == pytest.approx(5 / 20)
    assert got["frontier_share_tokens"] == pytest.approx(750 / 1020)


@pytest.mark.parametrize(
    ("filters", "requests", "frontier_requests"),
    [
        (_filters(apps=("chat",)), 6, 4),
        (_filters(providers=("anthropic", "acme")), 2, 0),
        (_filters(models=(MINI,)), 13, 0),
        (Filters(start=DAY3, end=DAY3), 4, 1),
    ],
)
def test_mix_totals_apply_every_filter(
    warehouse: Warehouse, filters: Filters, requests: int, frontier_requests: int
) -> None:
    got = mix_totals(warehouse, filters)
    assert (got["requests"], got["frontier_requests"]) == (requests, frontier_requests)


def test_an_empty_selection_has_no_shares(warehouse: Warehouse) -> None:
    got = mix_totals(warehouse, Filters(start=date(2026, 2, 1), end=date(2026, 2, 2)))
    assert got["requests"] == got["tokens"] == 0
    assert got["frontier_share_requests"] is None
    assert got["frontier_share_tokens"] is None


def test_previous_period_is_the_equally_long_range_before() -> None:
    assert previous_period(Filters(start=DAY3, end=DAY3)) == Filters(start=DAY2, end=DAY2)
    assert previous_period(_filters(apps=("chat",))) == Filters(
        start=DAY1 - timedelta(days=3), end=DAY1 - timedelta(days=1), apps=("chat",)
    )


def test_tier_mix_daily_shares_of_each_day(warehouse: Warehouse) -> None:
    rows = _rows(tier_mix_daily(warehouse, _filters()), "period_start", "tier")
    assert set(rows) == {
        (DAY1, "frontier"),
        (DAY1, "small"),
        (DAY2, "frontier"),
        (DAY2, "small"),
        (DAY2, "unclassified"),
        (DAY3, "frontier"),
        (DAY3, "small"),
    }
    assert (rows[(DAY1, "small")]["requests"], rows[(DAY1, "small")]["tokens"]) == (7, 120)
    assert rows[(DAY1, "frontier")]["share_requests"] == pytest.approx(3 / 10)
    assert rows[(DAY1, "frontier")]["share_tokens"] == pytest.approx(450 / 570)
    assert rows[(DAY2, "unclassified")]["share_requests"] == pytest.approx(1 / 6)
    assert rows[(DAY3, "small")]["share_tokens"] == pytest.approx(60 / 210)


def test_tier_mix_daily_matches_model_mix_daily_without_filters(warehouse: Warehouse) -> None:
    ours = tier_mix_daily(warehouse, _filters())
    table = warehouse.query_df(
        "SELECT period_start, tier, requests, share_requests FROM model_mix_daily "
        "ORDER BY period_start, tier"
    )
    assert ours.select(table.columns).equals(table)


def test_tier_mix_daily_of_one_app_leaves_out_days_without_it(warehouse: Warehouse) -> None:
    df = tier_mix_daily(warehouse, _filters(apps=("agent",)))
    assert df.select("period_start", "tier", "requests").rows() == [
        (DAY3, "frontier", 1),
        (DAY3, "small", 1),
    ]
    assert df["share_requests"].to_list() == [0.5, 0.5]


def test_model_requests_with_their_tier_rule_and_share_of_tier(warehouse: Warehouse) -> None:
    rows = _rows(model_requests(warehouse, _filters()), "model")
    assert {model: (r["tier"], r["requests"], r["tokens"]) for model, r in rows.items()} == {
        (MINI,): ("small", 13, 260),
        (GPT5,): ("frontier", 5, 750),
        (HAIKU,): ("small", 1, 0),
        (ACME,): ("unclassified", 1, 10),
    }
    assert rows[(MINI,)]["share_of_tier"] == pytest.approx(13 / 14)
    assert rows[(HAIKU,)]["share_of_tier"] == pytest.approx(1 / 14)
    assert (rows[(GPT5,)]["pattern"], rows[(GPT5,)]["origin"]) == ("openai/gpt-5*", "default")
    assert rows[(ACME,)]["pattern"] is None


def test_agent_roles_per_model_ignore_provider_and_app(warehouse: Warehouse) -> None:
    expected = [
        (ACME, "single", 1),
        (HAIKU, "single", 1),
        (GPT5, "planner", 1),
        (GPT5, "single", 4),
        (MINI, "executor", 1),
        (MINI, "single", 12),
    ]
    assert agent_roles(warehouse, _filters()).rows() == expected
    assert agent_roles(warehouse, _filters(providers=("acme",), apps=("chat",))).rows() == expected
    assert agent_roles(warehouse, Filters(start=DAY3, end=DAY3, models=(MINI,))).rows() == [
        (MINI, "executor", 1),
        (MINI, "single", 2),
    ]


# --- Traffic -----------------------------------------------------------------------------


def test_hourly_requests_cover_every_hour_of_the_range(warehouse: Warehouse) -> None:
    df = hourly_requests(warehouse, _filters())
    assert len(df) == 72
    busy = {
        row["hour_start"]: row["requests"] for row in df.iter_rows(named=True) if row["requests"]
    }
    start = datetime(2026, 3, 2)
    assert busy == {
        start + timedelta(hours=2): 6,
        start + timedelta(hours=10): 4,
        start + timedelta(days=1, hours=2): 4,
        start + timedelta(days=1, hours=11): 2,
        start + timedelta(days=2, hours=2): 2,
        start + timedelta(days=2, hours=9): 2,
    }
    assert traffic_totals(df) == {"requests": 20, "provider_errors": 1, "rate_limited": 1}


def test_hourly_requests_ignore_the_model_filter(warehouse: Warehouse) -> None:
    filtered = hourly_requests(warehouse, _filters(models=(HAIKU,), apps=("chat",)))
    assert traffic_totals(filtered) == {"requests": 6, "provider_errors": 1, "rate_limited": 1}
    assert (
        traffic_totals(hourly_requests(warehouse, _filters(providers=("nobody",))))["requests"] == 0
    )


def test_heatmap_without_filters_is_the_traffic_heatmap_view(warehouse: Warehouse) -> None:
    ours = heatmap(warehouse, _filters())
    view = warehouse.query_df("SELECT * FROM traffic_heatmap ORDER BY weekday, hour")
    assert ours.equals(view.cast(ours.schema))
    # Three days, Monday to Wednesday: one hour per (weekday, hour) slot.
    rows = _rows(ours, "weekday", "hour")
    assert len(rows) == 72
    assert (rows[(1, 2)]["mean_requests"], rows[(1, 2)]["share"]) == (6.0, 0.3)
    assert rows[(3, 9)]["requests"] == 2


def test_heatmap_of_one_app_spans_its_own_days(warehouse: Warehouse) -> None:
    rows = _rows(heatmap(warehouse, _filters(apps=("chat",))), "weekday", "hour")
    # "chat" has traffic on Monday and Tuesday only.
    assert {weekday for weekday, _ in rows} == {1, 2}
    assert rows[(1, 10)]["requests"] == 4
    assert rows[(2, 11)]["share"] == pytest.approx(2 / 6)
    assert heatmap(warehouse, _filters(providers=("nobody",))).is_empty()


def test_daily_peaks_without_filters_are_the_view(warehouse: Warehouse) -> None:
    ours = daily_peaks(warehouse, _filters())
    view = warehouse.query_df("SELECT * FROM traffic_daily_peaks ORDER BY day")
    assert ours.equals(view.cast(ours.schema))
    # A tie between 02:00 and 09:00 on DAY3 goes to the earlier hour.
    assert ours.select("day", "requests", "peak_hour", "peak_hour_requests").rows() == [
        (DAY1, 10, 2, 6),
        (DAY2, 6, 2, 4),
        (DAY3, 4, 2, 2),
    ]
    assert ours["peak_to_mean"].to_list() == pytest.approx([14.4, 16.0, 12.0])


def test_daily_peaks_follow_the_provider_and_app_filters(warehouse: Warehouse) -> None:
    df = daily_peaks(warehouse, _filters(providers=("openai",), apps=("chat",)))
    assert df.select("day", "peak_hour", "peak_to_mean").rows() == [
        (DAY1, 10, 24.0),
        (DAY2, 11, 24.0),
    ]


def test_batch_windows_of_all_traffic_or_of_the_selected_apps(warehouse: Warehouse) -> None:
    everything = batch_windows(warehouse, _filters(providers=("anthropic",)))
    assert everything.select("app", "start_hour", "end_hour", "days", "days_seen").rows() == [
        (None, 2, 3, 3, 3)
    ]
    assert everything["share_of_traffic"].to_list() == [pytest.approx(12 / 20)]
    # Every day's median hour is 0: no multiple of it.
    assert everything["mean_multiple_of_baseline"].to_list() == [None]
    per_app = batch_windows(warehouse, _filters(apps=("batch", "agent", "chat")))
    assert per_app.select("app", "start_hour", "end_hour", "requests").rows() == [
        ("agent", 9, 10, 2),
        ("batch", 2, 3, 12),
    ]


def test_load_error_curve_follows_the_provider_filter_only(warehouse: Warehouse) -> None:
    everything = load_error_curve(warehouse, Filters(start=DAY3, end=DAY3, apps=("batch",)))
    # openai has six hours with traffic: six groups of one hour each.
    assert everything.group_by("provider").len().sort("provider").rows() == [
        ("acme", 1),
        ("anthropic", 1),
        ("openai", 6),
    ]
    anthropic = load_error_curve(warehouse, _filters(providers=("anthropic",)))
    assert anthropic.select("provider", "load_decile", "requests", "error_rate").rows() == [
        ("anthropic", 1, 1, 1.0)
    ]
    assert anthropic["rate_limit_rate"].to_list() == [1.0]


def test_latency_daily_has_a_row_per_day_and_series(warehouse: Warehouse) -> None:
    df = latency_daily(warehouse, _filters(apps=("batch",)))
    assert sorted(df["series"].unique()) == [
        "acme · acme/foo-1",
        "anthropic · anthropic/claude-haiku-4.5",
        "openai · openai/gpt-5",
        "openai · openai/gpt-5-mini",
    ]
    assert len(df) == 12
    rows = _rows(df, "period_start", "model")
    gpt5 = rows[(DAY1, GPT5)]
    assert (gpt5["p50_duration_ms"], gpt5["p95_duration_ms"]) == pytest.approx((2000.0, 2900.0))
    assert gpt5["p99_duration_ms"] == pytest.approx(2980.0)
    assert gpt5["p50_ttft_ms"] == 200.0
    # 50 tokens after 0.8, 1.8 and 2.8 s of generation.
    assert gpt5["p50_output_tokens_per_second"] == pytest.approx(50 / 1.8)
    assert gpt5["output_tokens_per_second"] == pytest.approx(150 / 5.4)
    mini = rows[(DAY1, MINI)]
    assert (mini["p50_duration_ms"], mini["p50_ttft_ms"]) == (500.0, None)
    assert mini["output_tokens_per_second"] == pytest.approx(20.0)
    # Only an error on DAY1, nothing on DAY2: no percentile either day (gaps, never 0).
    assert rows[(DAY1, HAIKU)]["ok_requests"] == 0
    assert rows[(DAY1, HAIKU)]["p50_duration_ms"] is None
    assert rows[(DAY2, HAIKU)]["ok_requests"] is None


def test_latency_daily_follows_the_provider_and_model_filters(warehouse: Warehouse) -> None:
    df = latency_daily(warehouse, Filters(start=DAY2, end=DAY3, models=(GPT5,)))
    assert df.select("period_start", "series", "p50_duration_ms").rows() == [
        (DAY2, "openai · openai/gpt-5", 2000.0),
        (DAY3, "openai · openai/gpt-5", 1000.0),
    ]
    assert latency_daily(warehouse, _filters(providers=("acme",), models=(GPT5,))).is_empty()
