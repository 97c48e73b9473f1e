"""Latency and burst tables on tiny hand-made `requests` tables with known answers: exact
quantiles and speeds, hourly traffic, heatmap, daily peaks, batch windows (one across
midnight) and the load/error curve."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pytest

from analytics.jobs import run_jobs
from analytics.settings import AnalyticsSettings
from tests.unit.test_stats_jobs import INGESTED_LATER, err, insert, only, req, rows
from tests.unit.test_uptime_jobs import at, con, snapshot, utc, warehouse

__all__ = ["con", "warehouse"]  # the fixtures, shared with the uptime tests


def test_latency_quantiles_and_output_speed(con: duckdb.DuckDBPyConnection) -> None:
    speed = ("duration_ms", "ttft_ms", "output_tokens")
    insert(
        con,
        [
            *(
                req(at("10:00"), **dict(zip(speed, values, strict=True)))
                for values in (
                    (1000.0, 200.0, 80),  # 80 tokens in 0.8 s: 100/s
                    (2000.0, None, 100),  # no TTFT: the whole 2 s generate, 50/s
                    (3000.0, 1000.0, 0),  # no output: no speed
                    (500.0, 500.0, 10),  # no time after the first token: no speed
                    (4000.0, 400.0, 360),  # 360 tokens in 3.6 s: 100/s
                )
            ),
            err(at("10:00"), "rate_limit", duration_ms=9999.0, ttft_ms=1.0),
            err(
                at("10:00"), "overloaded", provider="anthropic", model="anthropic/claude-haiku-4.5"
            ),
        ],
    )
    run_jobs(con)
    assert rows(con, "SELECT * FROM latency_daily ORDER BY provider") == [
        {
            "period_start": date(2025, 3, 5),
            "provider": "anthropic",
            "model": "anthropic/claude-haiku-4.5",
            "ok_requests": 0,
            "ttft_requests": 0,
            **dict.fromkeys(PERCENTILES),
            "speed_requests": 0,
            "p50_output_tokens_per_second": None,
            "generation_output_tokens": 0,
            "generation_seconds": 0.0,
            "output_tokens_per_second": None,
        },
        {
            "period_start": date(2025, 3, 5),
            "provider": "openai",
            "model": "openai/gpt-5",
            "ok_requests": 5,
            "ttft_requests": 4,
            # durations 500, 1000, 2000, 3000, 4000; ranks interpolated linearly
            "p50_duration_ms": 2000.0,
            "p95_duration_ms": pytest.approx(3800.0),
            "p99_duration_ms": pytest.approx(3960.0),
            # TTFTs 200, 400, 500, 1000
            "p50_ttft_ms": 450.0,
            "p95_ttft_ms": pytest.approx(925.0),
            "p99_ttft_ms": pytest.approx(985.0),
            "speed_requests": 3,
            "p50_output_tokens_per_second": pytest.approx(100.0),
            "generation_output_tokens": 540,
            "generation_seconds": pytest.approx(6.4),
            "output_tokens_per_second": pytest.approx(540 / 6.4),
        },
    ]


PERCENTILES = [f"p{p}_{m}" for m in ("duration_ms", "ttft_ms") for p in (50, 95, 99)]


def test_traffic_hourly_counts(con: duckdb.DuckDBPyConnection) -> None:
    insert(
        con,
        [
            req(at("10:00"), app="ide"),
            err(at("10:10"), "rate_limit", app="ide", http_status=429),
            err(at("10:20"), "client_error", app="ide"),
            err(at("10:59:59.999999"), "other", app="ide", http_status=429),
            req(at("11:00"), app=None),
        ],
    )
    run_jobs(con)
    assert rows(con, "SELECT * FROM traffic_hourly ORDER BY hour_start") == [
        {
            "period_start": date(2025, 3, 5),
            "hour_start": utc("10:00"),
            "provider": "openai",
            "app": "ide",
            "requests": 4,
            "error_requests": 3,
            "provider_errors": 1,
            "rate_limited": 2,  # classified rate_limit, or answered 429
        },
        {
            "period_start": date(2025, 3, 5),
            "hour_start": utc("11:00"),
            "provider": "openai",
            "app": "unknown",
            "requests": 1,
            "error_requests": 0,
            "provider_errors": 0,
            "rate_limited": 0,
        },
    ]


def test_heatmap_counts_hours_without_traffic(con: duckdb.DuckDBPyConnection) -> None:
    # Wednesday 2025-03-05 to Wednesday 2025-03-12: two Wednesdays, one of every other day.
    insert(
        con,
        [
            *(req(at("10:00")) for _ in range(4)),
            *(req(at("10:30", "2025-03-12")) for _ in range(2)),
            *(req(at("23:00", "2025-03-06"), provider="groq") for _ in range(2)),
        ],
    )
    run_jobs(con)
    heatmap = rows(con, "SELECT * FROM traffic_heatmap ORDER BY weekday, hour")
    assert len(heatmap) == 7 * 24
    assert sum(r["hours"] for r in heatmap) == 8 * 24
    cells = {(r["weekday"], r["hour"]): r for r in heatmap}
    assert cells[(3, 10)] == {
        "weekday": 3,
        "hour": 10,
        "hours": 2,
        "requests": 6,
        "mean_requests": 3.0,
        "share": 0.75,
    }
    assert cells[(4, 23)] == {
        "weekday": 4,
        "hour": 23,
        "hours": 1,
        "requests": 2,
        "mean_requests": 2.0,
        "share": 0.25,
    }
    assert cells[(3, 11)]["requests"] == 0 and cells[(3, 11)]["mean_requests"] == 0.0


def test_daily_peaks(con: duckdb.DuckDBPyConnection) -> None:
    insert(
        con,
        [
            *(req(at("10:00"), app="a") for _ in range(3)),
            req(at("10:30"), app="b"),
            *(req(at("11:00")) for _ in range(4)),  # ties with 10:00: the earlier hour wins
            *(req(at("12:00")) for _ in range(2)),
        ],
    )
    run_jobs(con)
    assert only(con, "SELECT * FROM traffic_daily_peaks") == {
        "day": date(2025, 3, 5),
        "requests": 10,
        "peak_hour": 10,
        "peak_hour_requests": 4,
        "mean_hour_requests": 10 / 24,
        "peak_to_mean": pytest.approx(9.6),
    }


DAYS = [f"2025-03-0{d}" for d in range(3, 8)]


def batch_traffic() -> list[dict[str, Any]]:
    """`web` sends one request every hour of five days; `etl` ten at 00, 01 and 23 h on the
    first four days."""
    web = [req(at(f"{h:02d}:30", day), app="web") for day in DAYS for h in range(24)]
    etl = [
        req(at(f"{h:02d}:10", day), app="etl")
        for day in DAYS[:4]
        for h in (0, 1, 23)
        for _ in range(10)
    ]
    return web + etl


def windows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return rows(con, "SELECT * FROM batch_windows ORDER BY app NULLS FIRST")


def test_batch_window_across_midnight(con: duckdb.DuckDBPyConnection) -> None:
    insert(con, batch_traffic())
    run_jobs(con)
    assert windows(con) == [
        {
            "app": None,  # all traffic: median hour 1 request, window hours 11 on four days
            "start_hour": 23,
            "end_hour": 2,
            "hours": 3,
            "days": 5,
            "days_seen": 4,
            "share_of_days": 0.8,
            "mean_multiple_of_baseline": 9.0,  # (11 × 4 + 1) / 5
            "requests": 135,
            "share_of_traffic": 135 / 240,
        },
        {
            "app": "etl",  # median hour 0: every hour with traffic is hot; no multiple
            "start_hour": 23,
            "end_hour": 2,
            "hours": 3,
            "days": 4,
            "days_seen": 4,
            "share_of_days": 1.0,
            "mean_multiple_of_baseline": None,
            "requests": 120,
            "share_of_traffic": 1.0,
        },
    ]
    run_jobs(con, settings=AnalyticsSettings(batch_min_share_of_days=0.9))
    assert [w["app"] for w in windows(con)] == ["etl"]
    run_jobs(con, settings=AnalyticsSettings(batch_hour_factor=11.0))
    assert [w["app"] for w in windows(con)] == ["etl"]


def test_load_error_curve(con: duckdb.DuckDBPyConnection) -> None:
    # provider p: ten hours carrying 1..10 requests; the busiest one has 2 throttled and
    # 1 server error. Provider q: three hours of 2 requests.
    p = [
        req(at(f"{h:02d}:00"), provider="p")
        for h in range(1, 11)
        for _ in range(h if h < 10 else 7)
    ]
    p += [err(at("10:05"), "rate_limit", provider="p", http_status=429) for _ in range(2)]
    p.append(err(at("10:06"), "server_error", provider="p"))
    q = [req(at(f"{h:02d}:00"), provider="q") for h in (1, 2, 3) for _ in range(2)]
    insert(con, p + q)
    run_jobs(con)
    curve = rows(con, "SELECT * FROM load_error_curve ORDER BY provider, load_decile")
    assert [(r["provider"], r["load_decile"], r["min_hour_requests"]) for r in curve] == [
        *(("p", d, d) for d in range(1, 11)),
        *(("q", d, 2) for d in (1, 2, 3)),
    ]
    assert curve[9] == {
        "provider": "p",
        "load_decile": 10,
        "hours": 1,
        "min_hour_requests": 10,
        "max_hour_requests": 10,
        "mean_load_ratio": 10 / 5.5,  # the median hour carries 5.5 requests
        "requests": 10,
        "provider_errors": 3,
        "rate_limited": 2,
        "error_rate": 0.3,
        "rate_limit_rate": 0.2,
    }
    assert curve[0]["mean_load_ratio"] == 1 / 5.5 and curve[0]["error_rate"] == 0.0
    assert curve[10]["mean_load_ratio"] == 1.0


def test_incremental_after_late_data_equals_full_and_second_run_changes_nothing(
    con: duckdb.DuckDBPyConnection,
) -> None:
    insert(con, batch_traffic())
    run_jobs(con)
    late = [
        *(req(at("02:10", DAYS[4]), app="etl", ingested_at=INGESTED_LATER) for _ in range(10)),
        err(at("05:00", DAYS[0]), "timeout", duration_ms=30_000.0, ingested_at=INGESTED_LATER),
    ]
    insert(con, late)
    result = run_jobs(con)
    assert result.job("traffic_hourly").periods == (date(2025, 3, 3), date(2025, 3, 7))
    assert result.job("latency_daily").periods == (date(2025, 3, 3), date(2025, 3, 7))
    incremental = snapshot(con)
    again = run_jobs(con)
    assert [again.job(n).periods for n in ("traffic_hourly", "latency_daily")] == [(), ()]
    assert snapshot(con) == incremental
    run_jobs(con, full=True)
    assert snapshot(con) == incremental
    assert only(con, "SELECT sum(requests) AS n FROM traffic_hourly") == {"n": 251}
