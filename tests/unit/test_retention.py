"""Retention on a planted warehouse: the old request rows go, every metric table keeps the
periods they made, cell by cell, through incremental and full job runs; newer periods still
follow new data; the deletes go in bounded batches and the file can be compacted."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import duckdb
import pytest

from analytics.jobs import ALL_JOBS, PeriodJob, run_jobs
from gatewatch.jobs import JobRunner
from sample_data.truths import TRUTHS
from tests.integration.planted_warehouse import planted_warehouse
from warehouse.compaction import compact_database, file_bytes
from warehouse.db import Warehouse
from warehouse.retention import cutoff, retained_before
from warehouse.retention_settings import RetentionSettings

DAYS = 63  # 2025-12-29 (a Monday) .. 2026-03-01
NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
KEEP_DAYS = 35  # now - 35 days = 2026-01-26 09:00, a Monday: the cutoff is that day's 00:00
CUTOFF = dt.datetime(2026, 1, 26, tzinfo=dt.UTC)
# The planted outage 50 days before the last day (2026-01-10) falls before the cutoff.
PLANTED = dataclasses.replace(TRUTHS, outage_days_before_end=50)

# Every table a job writes except `requests` (the estimated-cost step fills a column there).
METRIC_TABLES = sorted({job.table for job in ALL_JOBS} - {"requests"})
PERIOD_TABLES = {job.table for job in ALL_JOBS if isinstance(job, PeriodJob)}


def _rows(con: duckdb.DuckDBPyConnection, table: str, where: str = "true") -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY ALL").fetchall()


def _frozen_where(table: str) -> str:
    if table in PERIOD_TABLES:
        return f"period_start < DATE '{CUTOFF.date()}'"
    if table == "uptime_incidents":
        return f"started_at < TIMESTAMPTZ '{CUTOFF.isoformat()}'"
    return "false"


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {table: _rows(con, table) for table in METRIC_TABLES}


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):  # parallel sums may round differently
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return a == b


def _assert_unchanged(con: duckdb.DuckDBPyConnection, before: dict[str, list[tuple]]) -> None:
    for table in METRIC_TABLES:
        # Periods before the cutoff are never recomputed: exactly the stored cells.
        where = _frozen_where(table)
        frozen_now = _rows(con, table, where)
        frozen_then = before[f"{table}:frozen"]
        assert frozen_now == frozen_then, table
        # Everything else recomputed from the same rows: the same values.
        now = _rows(con, table)
        assert len(now) == len(before[table]), table
        for got, expected in zip(now, before[table], strict=True):
            assert all(_same(g, e) for g, e in zip(got, expected, strict=True)), (table, got)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("retention") / "planted.duckdb"
    planted_warehouse(path, days=DAYS, seed=11, per_day=1200, truths=PLANTED)
    return path


@pytest.fixture
def warehouse(planted: Path, tmp_path: Path) -> Warehouse:
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(planted.read_bytes())
    wh = Warehouse.open(copy)
    yield wh
    wh.close()


def _snapshot_with_frozen(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    snap = _snapshot(con)
    for table in METRIC_TABLES:
        snap[f"{table}:frozen"] = _rows(con, table, _frozen_where(table))
    return snap


def test_the_cutoff_is_the_monday_starting_the_week_of_now_minus_the_days() -> None:
    assert cutoff(NOW, KEEP_DAYS) == CUTOFF
    assert cutoff(dt.datetime(2026, 3, 1, 23, 59, tzinfo=dt.UTC), 0).date() == dt.date(2026, 2, 23)
    assert cutoff(dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC), 7) == dt.datetime(
        2026, 2, 23, tzinfo=dt.UTC
    )


def test_old_rows_go_and_every_metric_table_keeps_its_history(warehouse: Warehouse) -> None:
    con = warehouse.connection
    old_rows = con.execute(
        "SELECT count(*) FROM requests WHERE started_at < $c", {"c": CUTOFF}
    ).fetchone()[0]
    total = con.execute("SELECT count(*) FROM requests").fetchone()[0]
    assert 0 < old_rows < total
    before = _snapshot_with_frozen(con)
    planted_incident = con.execute(
        "SELECT count(*) FROM uptime_incidents WHERE started_at < $c AND provider = 'anthropic'"
        " AND top_error_type = 'overloaded'",
        {"c": CUTOFF},
    ).fetchone()[0]
    assert planted_incident >= 1, "the planted outage should be an incident before the cutoff"

    runner = JobRunner(
        warehouse, publish=False, retention=RetentionSettings(requests_days=KEEP_DAYS)
    )
    plan = runner.retention_plan(now=NOW)
    assert plan["dry_run"] is True
    planned = {t["table"]: t for t in plan["tables"]}
    assert planned["requests"]["rows"] == old_rows
    assert planned["requests"]["cutoff"] == CUTOFF.isoformat()
    assert planned["requests"]["oldest"].startswith("2025-12-29")
    assert planned["requests"]["newest"].startswith("2026-01-25")
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] == total  # dry run

    report = runner.retain(now=NOW)
    went = {t["table"]: t for t in report["tables"]}
    assert went["requests"]["rows"] == old_rows
    assert con.execute("SELECT count(*), min(started_at) FROM requests").fetchone() == (
        total - old_rows,
        con.execute("SELECT min(started_at) FROM requests").fetchone()[0],
    )
    assert con.execute("SELECT min(started_at) FROM requests").fetchone()[0] >= CUTOFF
    assert retained_before(con) == CUTOFF

    run_jobs(con)  # incremental: nothing new
    _assert_unchanged(con, before)
    run_jobs(con, full=True)  # every period not frozen, recomputed from the rows left
    _assert_unchanged(con, before)


def test_new_data_updates_newer_periods_and_never_the_frozen_ones(warehouse: Warehouse) -> None:
    con = warehouse.connection
    settings = RetentionSettings(requests_days=KEEP_DAYS)
    JobRunner(warehouse, publish=False, retention=settings).retain(now=NOW)
    frozen_before = {t: _rows(con, t, _frozen_where(t)) for t in METRIC_TABLES}
    kept_day = dt.date(2026, 2, 20)
    day_requests = con.execute(
        "SELECT sum(requests) FROM stats_daily WHERE period_start = $d", {"d": kept_day}
    ).fetchone()[0]
    # One late row for a frozen day and one for a kept day, stored now.
    for request_id, started in (
        ("late-frozen", dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)),
        ("late-kept", dt.datetime(2026, 2, 20, 12, tzinfo=dt.UTC)),
    ):
        con.execute(
            """INSERT INTO requests (request_id, started_at, provider, model, status,
                   finish_reason, duration_ms, ingested_at)
               VALUES ($id, $at, 'openai', 'openai/gpt-5-mini', 'ok', 'stop', 500, now())""",
            {"id": request_id, "at": started},
        )
    for full in (False, True):
        run_jobs(con, full=full)
        assert (
            con.execute(
                "SELECT sum(requests) FROM stats_daily WHERE period_start = $d", {"d": kept_day}
            ).fetchone()[0]
            == day_requests + 1
        )
        for table in METRIC_TABLES:
            assert _rows(con, table, _frozen_where(table)) == frozen_before[table], table


def test_deletes_go_in_bounded_batches_and_the_cutoff_never_moves_back(
    warehouse: Warehouse,
) -> None:
    con = warehouse.connection
    con.execute(
        """INSERT INTO tool_spans VALUES
           ('t1', 's1', 'p1', TIMESTAMPTZ '2026-01-02 10:00:00+00'),
           ('t2', 's2', 'p2', TIMESTAMPTZ '2026-02-25 10:00:00+00')"""
    )
    # the planted rows were inserted directly: claim their keys as the writer does
    con.execute(
        "INSERT INTO _gatewatch_request_keys SELECT md5_number(request_id), 0 FROM requests"
    )
    old = con.execute("SELECT count(*) FROM requests WHERE started_at < $c", {"c": CUTOFF})
    old_rows = old.fetchone()[0]
    settings = RetentionSettings(
        requests_days=KEEP_DAYS, tool_spans_days=KEEP_DAYS, delete_batch_rows=1000
    )
    report = JobRunner(warehouse, publish=False, retention=settings).retain(now=NOW)
    went = {t["table"]: t for t in report["tables"]}
    assert went["requests"]["rows"] == old_rows
    assert went["requests"]["batches"] == old_rows // 1000 + 1
    assert went["tool_spans"]["rows"] == 1
    assert con.execute("SELECT span_id FROM tool_spans").fetchall() == [("s2",)]
    # a request row's key went with it: the keys are exactly those of the rows kept
    kept_keys = con.execute(
        "SELECT count(*), count(r.request_id) FROM _gatewatch_request_keys k "
        "LEFT JOIN requests r ON md5_number(r.request_id) = k.key"
    ).fetchone()
    assert kept_keys == (con.execute("SELECT count(*) FROM requests").fetchone()[0],) * 2
    assert report["file_bytes_before"] > 0
    assert report["file_bytes_after"] + report["free_bytes_after"] > 0

    # Keeping more days later cannot bring rows back: the recorded cutoff stays.
    longer = RetentionSettings(requests_days=50)
    again = JobRunner(warehouse, publish=False, retention=longer).retain(now=NOW)
    assert {t["table"]: t["rows"] for t in again["tables"]}["requests"] == 0
    assert retained_before(con) == CUTOFF
    recorded = con.execute(
        "SELECT rows_deleted FROM _gatewatch_retention WHERE table_name = 'requests'"
    ).fetchone()[0]
    assert recorded == old_rows


def test_zero_days_keeps_rows_forever(warehouse: Warehouse) -> None:
    con = warehouse.connection
    total = con.execute("SELECT count(*) FROM requests").fetchone()[0]
    settings = RetentionSettings(requests_days=0, tool_spans_days=0)
    report = JobRunner(warehouse, publish=False, retention=settings).retain(now=NOW)
    assert [t["note"] for t in report["tables"][:2]] == ["kept forever", "kept forever"]
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] == total
    assert retained_before(con) is None


def test_compaction_gives_the_space_back_and_keeps_every_table(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    con = warehouse.connection
    JobRunner(warehouse, retention=RetentionSettings(requests_days=KEEP_DAYS)).retain(now=NOW)
    tables = con.execute(
        "SELECT table_name, estimated_size FROM duckdb_tables() ORDER BY 1"
    ).fetchall()
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t, _ in tables}
    stats = _rows(con, "stats_daily")
    indexes = con.execute("SELECT index_name, sql FROM duckdb_indexes() ORDER BY 1").fetchall()
    path = warehouse.path
    warehouse.close()
    assert not Path(f"{path}.wal").exists()

    before, after = compact_database(path)

    assert before > after == file_bytes(path)
    assert not Path(f"{path}.compact").exists()
    reopened = Warehouse.open(path)
    try:
        c = reopened.connection
        assert {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in counts} == counts
        assert _rows(c, "stats_daily") == stats
        assert c.execute("SELECT index_name, sql FROM duckdb_indexes() ORDER BY 1").fetchall() == (
            indexes
        )
        assert retained_before(c) == CUTOFF
    finally:
        reopened.close()
    warehouse._con = duckdb.connect(path)  # the fixture closes it again


def test_a_leftover_partial_copy_is_removed_and_a_locked_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "busy.duckdb"
    wh = Warehouse.open(path)
    Path(f"{path}.compact").write_bytes(b"half a copy from a crash")
    try:
        with pytest.raises(duckdb.Error):
            compact_database(path)  # another process (here: this one) has the file open
        assert not Path(f"{path}.compact").exists()
    finally:
        wh.close()
    compact_database(path)
    Warehouse.open(path).close()
