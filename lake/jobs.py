"""The batch jobs over a lake: week tasks on an executor (Ray), results merged into a stats
database — an ordinary gatewatch warehouse that the dashboard, reports and `gatewatch sql`
read — then the rebuild jobs on that database.

A week is recomputed when the files it reads (its days and a day on each side) or the
settings changed since its last run: new segments, compaction, retention. Its rows replace
the week's periods in every period table. The rebuild jobs (routing pools over their 28-day
window, incidents, SLA, tiers, ...) then run here, with `requests` the lake's deduplicated
view, exactly as in the single-file path. Stats of weeks no longer in the lake (retention)
are kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from analytics.jobs import ALL_JOBS, JobsResult, RebuildJob
from analytics.jobs.runner import run_job_list
from analytics.settings import AnalyticsSettings
from lake.compact import retention_cutoff
from lake.executors import Executor
from lake.fold import sql_list
from lake.layout import (
    REQUESTS,
    TOOL_SPANS,
    UNKNOWN_DAY,
    VIEWS,
    parse_day,
    week_start,
)
from lake.store import LakeStore, StoredFile
from lake.week_task import MARGIN, PERIOD_JOBS, WEEK, WeekResult, WeekTask, run_week
from warehouse.snapshot import publish_snapshot
from warehouse.transactions import transaction

REBUILD_JOBS: tuple[RebuildJob, ...] = tuple(j for j in ALL_JOBS if isinstance(j, RebuildJob))
Progress = Callable[[str], None]

LAKE_WEEKS_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS _gatewatch_lake_weeks (
    week DATE PRIMARY KEY,
    fingerprint VARCHAR NOT NULL,
    input_rows BIGINT NOT NULL,
    rows BIGINT NOT NULL,
    seconds DOUBLE NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
)
"""

_SAVE_WEEK_SQL = """
INSERT OR REPLACE INTO _gatewatch_lake_weeks
VALUES ($week, $fingerprint, $input_rows, $rows, $seconds, now())
"""


@dataclass(frozen=True, slots=True)
class LakeJobsResult:
    weeks: tuple[WeekResult, ...]  # weeks recomputed
    unchanged_weeks: int
    rebuild: JobsResult
    workers: int
    seconds: float

    @property
    def input_rows(self) -> int:
        return sum(w.input_rows for w in self.weeks)


def files_by_day(store: LakeStore, table: str) -> dict[str, list[StoredFile]]:
    days: dict[str, list[StoredFile]] = defaultdict(list)
    for f in store.list_files(table):
        day = parse_day(f.path.rsplit("/", 2)[-2])
        if day is not None:
            days[day].append(f)
    return days


def plan_weeks(
    store: LakeStore, settings: AnalyticsSettings, *, threads: int = 1
) -> list[tuple[WeekTask, str]]:
    """A task per ISO week that has request rows, with the fingerprint of what it reads."""
    requests = files_by_day(store, REQUESTS)
    spans = files_by_day(store, TOOL_SPANS)
    weeks = sorted({week_start(dt.date.fromisoformat(d)) for d in requests if d != UNKNOWN_DAY})
    keep_from = retention_cutoff(store)
    if keep_from is not None:  # earlier weeks lost rows: their stats stay as computed
        weeks = [w for w in weeks if w >= keep_from]
    planned = []
    for week in weeks:
        first, last = week - MARGIN, week + WEEK - dt.timedelta(days=1) + MARGIN
        window = [
            (first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)
        ]
        request_files = tuple(f for d in window for f in requests.get(d, ()))
        span_files = tuple(f for d in window for f in spans.get(d, ()))
        task = WeekTask(store.uri, week, request_files, span_files, settings, threads=threads)
        planned.append((task, _fingerprint(task)))
    return planned


def _fingerprint(task: WeekTask) -> str:
    digest = hashlib.sha256(repr(task.settings).encode())
    for f in (*task.request_files, *task.tool_span_files):
        digest.update(f"\n{f.path} {f.size}".encode())
    return digest.hexdigest()


def run_lake_jobs(
    store: LakeStore,
    con: duckdb.DuckDBPyConnection,
    executor: Executor,
    *,
    db_path: str | None = None,
    full: bool = False,
    settings: AnalyticsSettings | None = None,
    progress: Progress | None = None,
) -> LakeJobsResult:
    """Recompute the changed weeks of `store` into the stats database `con` (a migrated
    warehouse), then its rebuild jobs; publish its snapshot when `db_path` is given."""
    settings = settings or AnalyticsSettings()
    say = progress or (lambda _: None)
    started = time.perf_counter()
    con.execute(LAKE_WEEKS_TABLE_SQL)
    known = dict(con.execute("SELECT week, fingerprint FROM _gatewatch_lake_weeks").fetchall())
    planned = plan_weeks(store, settings)
    todo = [(t, fp) for t, fp in planned if full or known.get(t.week) != fp]
    fingerprints = {t.week: fp for t, fp in todo}
    say(f"lake: {len(todo)} of {len(planned)} week(s) to compute on {executor.workers} worker(s)")
    done: list[WeekResult] = []
    for result in executor.map_unordered(run_week, [t for t, _ in todo]):
        _merge_week(con, result, fingerprints[result.week])
        done.append(result)
        say(
            f"week {result.week}: {result.rows} rows ({result.input_rows} read) "
            f"in {result.seconds:.2f}s [{len(done)}/{len(todo)}]"
        )
    rebuild = _run_rebuild_jobs(con, store, settings, say)
    if db_path is not None and db_path != ":memory:":
        con.execute("CHECKPOINT")
        publish_snapshot(con, db_path)
    return LakeJobsResult(
        weeks=tuple(sorted(done, key=lambda r: r.week)),
        unchanged_weeks=len(planned) - len(todo),
        rebuild=rebuild,
        workers=executor.workers,
        seconds=time.perf_counter() - started,
    )


def _merge_week(con: duckdb.DuckDBPyConnection, result: WeekResult, fingerprint: str) -> None:
    """Replace the week's periods of every period table with the task's rows."""
    end = result.week + WEEK
    with transaction(con):
        for job in PERIOD_JOBS:
            con.execute(
                f"DELETE FROM {job.table} WHERE period_start >= $start AND period_start < $end",
                {"start": result.week, "end": end},
            )
            rows = result.tables[job.table]
            if rows.num_rows:
                con.register("week_rows", rows)
                try:
                    con.execute(f"INSERT INTO {job.table} BY NAME SELECT * FROM week_rows")
                finally:
                    con.unregister("week_rows")
        con.execute(
            _SAVE_WEEK_SQL,
            {
                "week": result.week,
                "fingerprint": fingerprint,
                "input_rows": result.input_rows,
                "rows": result.rows,
                "seconds": result.seconds,
            },
        )


def view_sql(store: LakeStore, con: duckdb.DuckDBPyConnection, *, lazy: bool = False) -> str | None:
    """SQL reading the lake's deduplicated view (None when no week was computed yet). From an
    object store the rows are fetched once, for the rebuild jobs that read them many times,
    or, `lazy`, by each query as it needs them (one `gatewatch sql` query)."""
    files = store.list_files(VIEWS)
    if not files:
        return None
    if store.local:
        return (
            f"SELECT * FROM read_parquet({sql_list(f.path for f in files)}, union_by_name = true)"
        )
    con.register("lake_view_rows", store.dataset(files) if lazy else store.read_table(files))
    return "SELECT * FROM lake_view_rows"


def _run_rebuild_jobs(
    con: duckdb.DuckDBPyConnection, store: LakeStore, settings: AnalyticsSettings, say: Progress
) -> JobsResult:
    """The rebuild jobs read `requests`: here a temporary view of the lake's deduplicated
    rows, which shadows the stats database's own (empty) table for this connection only."""
    source = view_sql(store, con)
    if source is not None:
        con.execute(f"CREATE OR REPLACE TEMP VIEW requests AS {source}")
    try:
        return run_job_list(con, REBUILD_JOBS, settings=settings, progress=say)
    finally:
        if source is not None:
            con.execute("DROP VIEW IF EXISTS temp.requests")
