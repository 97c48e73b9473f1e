"""One unit of distributed work: every period job over one ISO week of the lake.

A task opens its own in-memory DuckDB with the warehouse's schema, reads the week's segments
plus a day on each side (an event record or tool span may land in the next day's partition
from its span), resolves them (`lake.fold`), keeps the rows that start in the week and runs
the runner's own period jobs on them. Day and week periods never straddle a week, so every
group a job aggregates (percentiles included) is whole inside one task: the results are the
single-file path's, not an approximation. The week's resolved rows are written back to the
lake as its deduplicated view, which the 28-day routing window and `gatewatch sql` read.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from analytics.jobs import ALL_JOBS, RebuildJob
from analytics.jobs.runner import PeriodJob, run_job_list
from analytics.settings import AnalyticsSettings
from lake.fold import fold, scan
from lake.layout import REQUEST_SEGMENT_SCHEMA, TOOL_SPAN_SEGMENT_SCHEMA, view_path
from lake.store import LakeStore, StoredFile
from warehouse.migrations import migrate

# Every job that reads `requests` row by row runs in the task, in the runner's order (jobs
# that fill columns of `requests` in place come before the period jobs that read them); the
# rebuild jobs run once, on the merged tables (`lake.jobs`).
TASK_JOBS = tuple(j for j in ALL_JOBS if not isinstance(j, RebuildJob))
PERIOD_JOBS: tuple[PeriodJob, ...] = tuple(j for j in TASK_JOBS if isinstance(j, PeriodJob))
WEEK = dt.timedelta(days=7)
# Read around the week: the fold and the tool-call recount look a day back, as the writer does.
MARGIN = dt.timedelta(days=1)

for _job in PERIOD_JOBS:  # a period must lie inside one week for a task to own it whole
    if _job.period_span not in (dt.timedelta(days=1), WEEK):
        raise RuntimeError(f"{_job.name}: periods of {_job.period_span} do not split by week")


@dataclass(frozen=True, slots=True)
class WeekTask:
    lake_uri: str
    week: dt.date  # a Monday
    request_files: tuple[StoredFile, ...]
    tool_span_files: tuple[StoredFile, ...]
    settings: AnalyticsSettings
    threads: int = 1  # DuckDB threads: one per CPU the scheduler gave the task
    memory_limit: str | None = None


@dataclass(frozen=True, slots=True)
class WeekResult:
    week: dt.date
    tables: dict[str, pa.Table]  # period job table → the week's rows
    input_rows: int  # rows read, duplicates and the margin days included
    rows: int  # resolved rows that start in the week
    seconds: float


def run_week(task: WeekTask) -> WeekResult:
    started = time.perf_counter()
    store = LakeStore(task.lake_uri)
    con = duckdb.connect()
    try:
        con.execute(f"SET threads = {int(task.threads)}")
        if task.memory_limit:
            con.execute(f"SET memory_limit = '{task.memory_limit}'")
        migrate(con)
        scan(con, store, "lake_requests", list(task.request_files), REQUEST_SEGMENT_SCHEMA)
        scan(con, store, "lake_tool_spans", list(task.tool_span_files), TOOL_SPAN_SEGMENT_SCHEMA)
        input_rows = _count(con, "SELECT count(*) FROM lake_requests")
        fold(con)
        start = dt.datetime.combine(task.week, dt.time(), dt.UTC)
        con.execute(
            "DELETE FROM requests WHERE started_at IS NULL "
            "OR started_at < $start OR started_at >= $end",
            {"start": start, "end": start + WEEK},
        )
        run_job_list(con, TASK_JOBS, full=True, settings=task.settings)
        tables = {job.table: con.sql(f"FROM {job.table}").to_arrow_table() for job in PERIOD_JOBS}
        view = con.sql("FROM requests ORDER BY started_at, request_id").to_arrow_table()
        store.write_parquet(view_path(task.week), view)
        return WeekResult(
            week=task.week,
            tables=tables,
            input_rows=input_rows,
            rows=view.num_rows,
            seconds=time.perf_counter() - started,
        )
    finally:
        con.close()


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0
