"""The stats batch jobs on tiny hand-made `requests` tables: every column, every NULL rule,
week boundaries, rollup views, incremental and full rebuilds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from analytics.jobs import run_jobs
from ingest.record import records_to_table
from warehouse.db import Warehouse

STATS_TABLES = ("stats_daily", "stats_weekly", "stats_daily_app")
COUNT_COLUMNS = """
    requests ok_requests error_requests tool_call_requests input_tokens output_tokens
    reasoning_tokens reasoning_output_tokens provider_errors client_errors
""".split()
STATS_PERIOD_COLUMNS = """
    period_start provider model requests ok_requests error_requests tool_call_requests
    tool_call_rate input_tokens output_tokens reasoning_tokens reasoning_output_tokens
    reasoning_share reasoning_coverage provider_errors client_errors uptime
    p50_latency_ms p95_latency_ms p50_ttft_ms
""".split()
RATIO_COLUMNS = ["tool_call_rate", "reasoning_share", "reasoning_coverage", "uptime"]

INGESTED_FIRST = "2025-04-01T00:00:00+00:00"
INGESTED_LATER = "2025-04-02T00:00:00+00:00"


@pytest.fixture(scope="module")
def warehouse() -> Iterator[Warehouse]:
    wh = Warehouse.open(":memory:")
    yield wh
    wh.close()


@pytest.fixture
def con(warehouse: Warehouse) -> duckdb.DuckDBPyConnection:
    """The module's warehouse, emptied: migrations run once per module, not per test."""
    c = warehouse.connection
    for table in ("requests", *STATS_TABLES, "_gatewatch_job_state"):
        c.execute(f"DELETE FROM {table}")
    return c


def micros(iso: str | datetime) -> int:
    moment = datetime.fromisoformat(iso) if isinstance(iso, str) else iso
    return int(moment.timestamp() * 1_000_000)


_next_id = iter(range(1_000_000))


def req(started_at: str, **fields: Any) -> dict[str, Any]:
    """An ok request by default; `fields` override columns."""
    record: dict[str, Any] = {
        "request_id": f"r{next(_next_id)}",
        "started_at": micros(started_at),
        "provider": "openai",
        "model": "openai/gpt-5",
        "status": "ok",
        "finish_reason": "stop",
        "ingested_at": micros(INGESTED_FIRST),
    }
    record.update(fields)
    if isinstance(record["ingested_at"], str):
        record["ingested_at"] = micros(record["ingested_at"])
    return record


def err(started_at: str, error_type: str, **fields: Any) -> dict[str, Any]:
    return req(
        started_at,
        **{"status": "error", "finish_reason": "error", "error_type": error_type, **fields},
    )


def insert(con: duckdb.DuckDBPyConnection, records: list[dict[str, Any]]) -> None:
    batch = records_to_table(records)
    con.register("batch", batch)
    con.execute("INSERT INTO requests BY NAME SELECT * FROM batch")
    con.unregister("batch")


def rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def table(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    return rows(con, f"SELECT * FROM {name} ORDER BY ALL")


def only(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    (row,) = rows(con, sql, params)
    return row


# Wednesday 2025-03-05, ISO week starting Monday 2025-03-03.
DAY = "2025-03-05T12:00:00+00:00"
WEEK = date(2025, 3, 3)


USAGE_COLUMNS = """
    finish_reason input_tokens output_tokens reasoning_tokens duration_ms ttft_ms app
""".split()
OPENAI_OK_USAGE = (
    ("tool_calls", 100, 50, 20, 100.0, 10.0, "ide"),
    ("stop", 200, 100, 30, 200.0, 20.0, "ide"),
    ("tool_calls", 300, 150, None, 300.0, None, "chat"),
    ("stop", 400, 200, None, 400.0, 40.0, None),
)


def planted_mix() -> list[dict[str, Any]]:
    return [
        # openai: 4 ok (2 tool calls; 2 report reasoning), one error of each kind.
        *(req(DAY, **dict(zip(USAGE_COLUMNS, usage, strict=True))) for usage in OPENAI_OK_USAGE),
        err(DAY, "rate_limit", input_tokens=999, output_tokens=999, duration_ms=9999.0),
        err(DAY, "client_error", app="chat"),
        err(DAY, "cancelled", finish_reason="cancelled"),
        err(DAY, "other"),
        # anthropic: client-side errors only.
        err(DAY, "auth", provider="anthropic", model="anthropic/claude-sonnet-4.5"),
        err(DAY, "context_length", provider="anthropic", model="anthropic/claude-sonnet-4.5"),
        # groq: provider errors only.
        err(DAY, "timeout", provider="groq", model="qwen/qwen3-coder"),
        # no provider/model/app: one ok request that did not report reasoning.
        req(DAY, provider=None, model=None, input_tokens=5, output_tokens=10, duration_ms=50.0),
    ]


OPENAI_EXPECTED = {
    "provider": "openai",
    "model": "openai/gpt-5",
    "requests": 8,
    "ok_requests": 4,
    "error_requests": 4,
    "tool_call_requests": 2,
    "tool_call_rate": 0.5,
    "input_tokens": 1000,
    "output_tokens": 500,
    "reasoning_tokens": 50,
    "reasoning_output_tokens": 150,
    "reasoning_share": 50 / 150,
    "reasoning_coverage": 150 / 500,
    "provider_errors": 1,
    "client_errors": 1,
    "uptime": 4 / 5,
    "p50_latency_ms": 250.0,
    "p95_latency_ms": pytest.approx(385.0),
    "p50_ttft_ms": 20.0,
}
ANTHROPIC_EXPECTED = {
    "provider": "anthropic",
    "model": "anthropic/claude-sonnet-4.5",
    "requests": 2,
    "ok_requests": 0,
    "error_requests": 2,
    "tool_call_requests": 0,
    "tool_call_rate": None,
    "input_tokens": 0,
    "output_tokens": 0,
    "reasoning_tokens": 0,
    "reasoning_output_tokens": 0,
    "reasoning_share": None,
    "reasoning_coverage": None,
    "provider_errors": 0,
    "client_errors": 2,
    "uptime": None,
    "p50_latency_ms": None,
    "p95_latency_ms": None,
    "p50_ttft_ms": None,
}
GROQ_EXPECTED = {
    **ANTHROPIC_EXPECTED,
    "provider": "groq",
    "model": "qwen/qwen3-coder",
    "requests": 1,
    "error_requests": 1,
    "provider_errors": 1,
    "client_errors": 0,
    "uptime": 0.0,
}
UNKNOWN_EXPECTED = {
    **ANTHROPIC_EXPECTED,
    "provider": "unknown",
    "model": "unknown",
    "requests": 1,
    "ok_requests": 1,
    "error_requests": 0,
    "client_errors": 0,
    "tool_call_rate": 0.0,
    "input_tokens": 5,
    "output_tokens": 10,
    "reasoning_coverage": 0.0,
    "uptime": 1.0,
    "p50_latency_ms": 50.0,
    "p95_latency_ms": 50.0,
}


def test_tables_have_the_published_columns_in_order(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("stats_daily", "stats_weekly"):
        assert [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()] == STATS_PERIOD_COLUMNS
    app_columns = [r[0] for r in con.execute("DESCRIBE stats_daily_app").fetchall()]
    assert app_columns == ["period_start", "provider", "model", "app", *COUNT_COLUMNS]
    for view, keys in (
        ("stats_weekly_provider", ["period_start", "provider"]),
        ("stats_weekly_model", ["period_start", "model"]),
        ("stats_weekly_overall", ["period_start"]),
    ):
        view_columns = [r[0] for r in con.execute(f"DESCRIBE {view}").fetchall()]
        assert view_columns == [*keys, *COUNT_COLUMNS, *RATIO_COLUMNS]


def test_every_column_of_planted_mix(con: duckdb.DuckDBPyConnection) -> None:
    insert(con, planted_mix())
    run_jobs(con)
    expected = sorted(
        [OPENAI_EXPECTED, ANTHROPIC_EXPECTED, GROQ_EXPECTED, UNKNOWN_EXPECTED],
        key=lambda r: (r["provider"], r["model"]),
    )
    daily = table(con, "stats_daily")
    weekly = table(con, "stats_weekly")
    assert daily == [{"period_start": date(2025, 3, 5), **e} for e in expected]
    assert weekly == [{"period_start": WEEK, **e} for e in expected]


def test_daily_app_counts_group_null_app_as_unknown(con: duckdb.DuckDBPyConnection) -> None:
    insert(con, planted_mix())
    run_jobs(con)
    openai = con.execute(
        f"SELECT app, {', '.join(COUNT_COLUMNS)} FROM stats_daily_app "
        "WHERE provider = 'openai' ORDER BY app"
    ).fetchall()
    assert openai == [
        # app, requests, ok, errors, tool calls, in, out, reasoning, reasoning out, prov, client
        ("chat", 2, 1, 1, 1, 300, 150, 0, 0, 0, 1),
        ("ide", 2, 2, 0, 1, 300, 150, 50, 150, 0, 0),
        ("unknown", 4, 1, 3, 0, 400, 200, 0, 0, 1, 0),
    ]
    # Re-aggregating over apps gives back the daily counts exactly.
    sums = ", ".join(f"CAST(sum({c}) AS BIGINT) AS {c}" for c in COUNT_COLUMNS)
    counts = ", ".join(COUNT_COLUMNS)
    assert table(
        con,
        f"(SELECT period_start, provider, model, {sums} FROM stats_daily_app GROUP BY ALL)",
    ) == table(con, f"(SELECT period_start, provider, model, {counts} FROM stats_daily)")


def test_week_boundary_is_monday_midnight_utc(con: duckdb.DuckDBPyConnection) -> None:
    insert(
        con,
        [
            req("2025-03-09T23:59:59.999999+00:00"),  # Sunday
            req("2025-03-10T00:00:00+00:00"),  # Monday
            req("2025-03-10T00:30:00+01:00"),  # Sunday 23:30 UTC
        ],
    )
    run_jobs(con)
    daily = rows(con, "SELECT period_start, requests FROM stats_daily ORDER BY 1")
    weekly = rows(con, "SELECT period_start, requests FROM stats_weekly ORDER BY 1")
    assert daily == [
        {"period_start": date(2025, 3, 9), "requests": 2},
        {"period_start": date(2025, 3, 10), "requests": 1},
    ]
    assert weekly == [
        {"period_start": date(2025, 3, 3), "requests": 2},
        {"period_start": date(2025, 3, 10), "requests": 1},
    ]


def test_views_recompute_ratios_from_summed_counts(con: duckdb.DuckDBPyConnection) -> None:
    small, big = "openai/gpt-5", "openai/gpt-5-mini"
    insert(
        con,
        [
            # openai/small: 1 of 1 tool call, reasoning 10 of 10, uptime 1/1.
            req(
                DAY, model=small, finish_reason="tool_calls", output_tokens=10, reasoning_tokens=10
            ),
            # openai/big: 1 of 3 tool calls, reasoning 10 of 90, uptime 3/4.
            req(DAY, model=big, finish_reason="tool_calls", output_tokens=30, reasoning_tokens=10),
            req(DAY, model=big, output_tokens=30, reasoning_tokens=0),
            req(DAY, model=big, output_tokens=30, reasoning_tokens=0),
            err(DAY, "overloaded", model=big),
            # azure/small: 0 of 1 tool calls, no reasoning reported, uptime 1/2.
            req(DAY, provider="azure", model=small, output_tokens=40),
            err(DAY, "server_error", provider="azure", model=small),
        ],
    )
    run_jobs(con)
    provider = only(con, "SELECT * FROM stats_weekly_provider WHERE provider = 'openai'")
    # Averaging the per-model ratios would give 2/3, 5/9 and 7/8.
    assert provider["tool_call_rate"] == 2 / 4
    assert provider["reasoning_share"] == 20 / 100
    assert provider["reasoning_coverage"] == 100 / 100
    assert provider["uptime"] == 4 / 5
    assert provider["requests"] == 5 and provider["provider_errors"] == 1

    model = only(con, "SELECT * FROM stats_weekly_model WHERE model = $model", {"model": small})
    # Averaging the per-provider ratios would give coverage 1/2 and uptime 3/4.
    assert model["tool_call_rate"] == 1 / 2
    assert model["reasoning_coverage"] == 10 / 50
    assert model["reasoning_share"] == 10 / 10
    assert model["uptime"] == 2 / 3

    overall = only(con, "SELECT * FROM stats_weekly_overall")
    assert overall == {
        "period_start": WEEK,
        "requests": 7,
        "ok_requests": 5,
        "error_requests": 2,
        "tool_call_requests": 2,
        "input_tokens": 0,
        "output_tokens": 140,
        "reasoning_tokens": 20,
        "reasoning_output_tokens": 100,
        "provider_errors": 2,
        "client_errors": 0,
        "tool_call_rate": 2 / 5,
        "reasoning_share": 20 / 100,
        "reasoning_coverage": 100 / 140,
        "uptime": 5 / 7,
    }


def test_views_keep_null_ratios_for_zero_denominators(con: duckdb.DuckDBPyConnection) -> None:
    insert(con, [err(DAY, "auth", provider="anthropic"), err(DAY, "cancelled", provider="groq")])
    run_jobs(con)
    overall = only(con, "SELECT * FROM stats_weekly_overall")
    assert {c: overall[c] for c in RATIO_COLUMNS} == dict.fromkeys(RATIO_COLUMNS)
    assert (overall["requests"], overall["client_errors"], overall["provider_errors"]) == (2, 1, 0)


def test_empty_requests_gives_empty_tables(con: duckdb.DuckDBPyConnection) -> None:
    for full in (False, True):
        result = run_jobs(con, full=full)
        stats = [r for r in result.jobs if r.job in STATS_TABLES]
        assert [(r.job, r.periods, r.rows_written) for r in stats] == [
            ("stats_daily", (), 0),
            ("stats_weekly", (), 0),
            ("stats_daily_app", (), 0),
        ]
        for name in STATS_TABLES:
            assert table(con, name) == []


def test_late_data_rebuilds_exactly_its_day_and_week(con: duckdb.DuckDBPyConnection) -> None:
    insert(
        con,
        [
            req("2025-03-05T10:00:00+00:00", output_tokens=10),
            req("2025-03-06T10:00:00+00:00", output_tokens=20),
            req("2025-03-12T10:00:00+00:00", output_tokens=30),
            req("2025-03-19T10:00:00+00:00", output_tokens=40),
        ],
    )
    messages: list[str] = []
    first = run_jobs(con, progress=messages.append)
    assert first.job("stats_daily").periods == tuple(date(2025, 3, d) for d in (5, 6, 12, 19))
    assert first.job("stats_weekly").periods == tuple(date(2025, 3, d) for d in (3, 10, 17))
    assert any("stats_weekly: rebuilt 3 period(s)" in m for m in messages)
    before = {name: table(con, name) for name in STATS_TABLES}

    insert(con, [req("2025-03-05T23:00:00+00:00", output_tokens=5, ingested_at=INGESTED_LATER)])
    late = run_jobs(con)
    assert late.job("stats_daily").periods == (date(2025, 3, 5),)
    assert late.job("stats_daily_app").periods == (date(2025, 3, 5),)
    assert late.job("stats_weekly").periods == (WEEK,)
    assert (late.job("stats_daily").rows_deleted, late.job("stats_daily").rows_written) == (1, 1)

    changed_day, changed_week = date(2025, 3, 5), WEEK
    for name, changed in (
        ("stats_daily", changed_day),
        ("stats_daily_app", changed_day),
        ("stats_weekly", changed_week),
    ):
        after = table(con, name)
        assert [r for r in after if r["period_start"] != changed] == [
            r for r in before[name] if r["period_start"] != changed
        ]
    day = only(con, "SELECT * FROM stats_daily WHERE period_start = DATE '2025-03-05'")
    week = only(con, "SELECT * FROM stats_weekly WHERE period_start = DATE '2025-03-03'")
    assert (day["requests"], day["output_tokens"]) == (2, 15)
    assert (week["requests"], week["output_tokens"]) == (3, 35)


def test_second_run_changes_nothing_and_full_equals_incremental(
    con: duckdb.DuckDBPyConnection,
) -> None:
    insert(con, planted_mix())
    run_jobs(con)
    insert(
        con,
        [
            req("2025-02-10T08:00:00+00:00", ingested_at=INGESTED_LATER, output_tokens=7),
            err(DAY, "rate_limit", provider="anthropic", ingested_at=INGESTED_LATER),
        ],
    )
    run_jobs(con)
    incremental = {name: table(con, name) for name in STATS_TABLES}

    again = run_jobs(con)
    assert [again.job(name).periods for name in STATS_TABLES] == [(), (), ()]
    assert {name: table(con, name) for name in STATS_TABLES} == incremental

    full = run_jobs(con, full=True)
    assert full.full and full.job("stats_daily").periods == (date(2025, 2, 10), date(2025, 3, 5))
    assert {name: table(con, name) for name in STATS_TABLES} == incremental


def test_full_rebuild_drops_periods_no_longer_in_requests(
    con: duckdb.DuckDBPyConnection,
) -> None:
    insert(con, [req("2025-03-05T10:00:00+00:00"), req("2025-03-12T10:00:00+00:00")])
    run_jobs(con)
    con.execute("DELETE FROM requests WHERE started_at < TIMESTAMPTZ '2025-03-10 00:00:00+00'")
    run_jobs(con, full=True)
    assert [r["period_start"] for r in table(con, "stats_daily")] == [date(2025, 3, 12)]
    assert [r["period_start"] for r in table(con, "stats_weekly")] == [date(2025, 3, 10)]


def test_rows_committed_after_a_run_but_stamped_before_its_watermark_are_picked_up(
    con: duckdb.DuckDBPyConnection,
) -> None:
    now = datetime.now(UTC)
    insert(con, [req(DAY, ingested_at=micros(now - timedelta(minutes=1)))])
    run_jobs(con)
    # Stamped before the watermark, visible only now (a batch still committing during the run).
    insert(con, [req(DAY, ingested_at=micros(now - timedelta(minutes=2)))])
    result = run_jobs(con)
    assert result.job("stats_daily").periods == (date(2025, 3, 5),)
    assert only(con, "SELECT requests FROM stats_daily") == {"requests": 2}


def test_state_survives_reopening_a_database_file(tmp_path: Path) -> None:
    path = tmp_path / "gatewatch.duckdb"
    first = Warehouse.open(path)
    insert(first.connection, [req(DAY)])
    assert run_jobs(first.connection).job("stats_daily").periods == (date(2025, 3, 5),)
    first.close()

    second = Warehouse.open(path)
    try:
        assert run_jobs(second.connection).job("stats_daily").periods == ()
        assert only(second.connection, "SELECT requests FROM stats_weekly") == {"requests": 1}
    finally:
        second.close()


def test_schema_doc_describes_every_metric_column() -> None:
    doc = Path(__file__).parents[2].joinpath("docs/schema.md").read_text()
    metric_section = doc.split("<!-- metric tables below -->", 1)[1]
    names = {
        *STATS_TABLES,
        "stats_weekly_provider",
        "stats_weekly_model",
        "stats_weekly_overall",
        "_gatewatch_job_state",
        *STATS_PERIOD_COLUMNS,
        "app",
    }
    missing = sorted(n for n in names if f"`{n}`" not in metric_section)
    assert missing == []
