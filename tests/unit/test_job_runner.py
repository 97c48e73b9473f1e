"""Rebuild jobs: replaced whole on every run, reading settings as SQL parameters; the
schedule of `serve`."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb

from analytics.jobs.runner import RebuildJob, run_job_list
from analytics.settings import AnalyticsSettings
from gatewatch.jobs import JobRunner
from warehouse.db import Warehouse

TARGET_JOB = RebuildJob(
    name="targets",
    table="targets",
    insert_sql="INSERT INTO targets SELECT name, $sla_target FROM names",
    settings=("sla_target",),
)


def test_rebuild_job_replaces_its_table_and_reads_settings() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE names AS SELECT * FROM (VALUES ('a'), ('b')) t(name)")
    con.execute("CREATE TABLE targets (name VARCHAR, target DOUBLE)")

    first = run_job_list(con, [TARGET_JOB])
    again = run_job_list(con, [TARGET_JOB], settings=AnalyticsSettings(sla_target=0.99))

    assert first.job("targets").rows_written == 2
    assert (again.job("targets").rows_deleted, again.job("targets").rows_written) == (2, 2)
    assert con.execute("SELECT * FROM targets ORDER BY name").fetchall() == [
        ("a", 0.99),
        ("b", 0.99),
    ]


def test_the_schedule_runs_at_once_then_waits(tmp_path: Path) -> None:
    warehouse = Warehouse.open(tmp_path / "schedule.duckdb")
    ran = threading.Event()
    runner = JobRunner(warehouse, publish=False, after_run=[lambda con: ran.set()])
    runner.start_schedule(every_seconds=3600)
    try:
        assert ran.wait(30), "the first run should not wait for the interval"
    finally:
        runner.stop()
        warehouse.close()


def test_jobs_get_every_core_and_the_writer_one_thread_between_runs(tmp_path: Path) -> None:
    warehouse = Warehouse.open(tmp_path / "w.duckdb")
    seen: list[int] = []

    def threads(cursor: duckdb.DuckDBPyConnection) -> int:
        return int(cursor.execute("SELECT current_setting('threads')").fetchone()[0])

    runner = JobRunner(
        warehouse,
        publish=False,
        after_run=[lambda c: seen.append(threads(c))],
        threads_between_runs=1,
    )
    assert threads(warehouse.cursor()) == 1
    runner.run()
    assert seen == [os.cpu_count() or 1]
    assert threads(warehouse.cursor()) == 1
    warehouse.close()
