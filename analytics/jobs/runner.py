"""Incremental, period-partitioned rebuilds of derived tables from `requests`.

A period job owns one table keyed by `period_start`. Each run finds the periods touched by
rows ingested since the job's watermark (the largest `ingested_at` it has processed), deletes
those periods from its table and recomputes them from all of their rows, all in one
transaction. `full=True` empties the table and recomputes every period. Recomputing whole
periods from `requests` makes a run idempotent and lets late data for an old day land there.

Retention deletes request rows older than a recorded cutoff (`warehouse.retention`), always a
Monday 00:00 UTC. Periods that start before it are frozen: no run, full or incremental,
deletes or recomputes them, so the metrics of days whose rows are gone stay as they were
computed. Every period job's period (UTC day, ISO week) lies wholly on one side of the cutoff,
and computes from its own rows only, so the periods after it are exact too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import duckdb

from analytics.settings import AnalyticsSettings
from warehouse.retention import retained_before
from warehouse.transactions import transaction

Progress = Callable[[str], None]

ONE_DAY = timedelta(days=1)

TOUCHED_PERIODS_TABLE = "_touched_periods"

# The ingest writer stamps `ingested_at` before it commits, so a batch can become visible
# after a job run whose watermark already passed its stamp. Rows stamped shortly before the
# previous run are therefore looked at again (their periods are rebuilt, harmlessly).
# A NULL watermark means the job has not seen any row yet: every row is new.
JOB_SINCE_SQL = """
SELECT coalesce(
    max(CASE WHEN watermark IS NOT NULL
             THEN least(watermark, updated_at - INTERVAL 5 MINUTE) END),
    '-infinity'::TIMESTAMPTZ)
FROM _gatewatch_job_state
WHERE job = $job
"""

_TOUCHED_PERIODS_SQL = f"""
CREATE OR REPLACE TEMP TABLE {TOUCHED_PERIODS_TABLE} AS
SELECT DISTINCT {{period_sql}} AS period_start
FROM requests
WHERE started_at IS NOT NULL
  AND ($full OR ingested_at > ({JOB_SINCE_SQL}))
  AND ($frozen_before IS NULL OR {{period_sql}} >= CAST($frozen_before AS DATE))
"""

_DELETE_PERIODS_SQL = f"""
DELETE FROM {{table}}
WHERE ($full AND ($frozen_before IS NULL OR period_start >= CAST($frozen_before AS DATE)))
   OR period_start IN (SELECT period_start FROM {TOUCHED_PERIODS_TABLE})
"""

TOUCHED_PERIOD_LIST_SQL = f"SELECT period_start FROM {TOUCHED_PERIODS_TABLE} ORDER BY 1"

DROP_TOUCHED_PERIODS_SQL = f"DROP TABLE {TOUCHED_PERIODS_TABLE}"

SAVE_WATERMARK_SQL = """
INSERT INTO _gatewatch_job_state (job, watermark, updated_at)
SELECT $job, max(ingested_at), now() FROM requests
ON CONFLICT (job) DO UPDATE
SET watermark = excluded.watermark, updated_at = excluded.updated_at
"""


def touched_requests_sql(period_sql: str) -> str:
    """`requests` rows in the touched periods, with their `period_start`, for insert SQL.

    The `started_at` range ($first_period .. $last_period + $period_span) lets DuckDB skip
    row groups by zone map; the semi-join keeps only the periods actually touched.
    """
    return f"""
    SELECT {period_sql} AS period_start, *
    FROM requests
    WHERE started_at >= timezone('UTC', CAST($first_period AS TIMESTAMP))
      AND started_at < timezone('UTC', CAST($last_period AS TIMESTAMP) + $period_span)
      AND {period_sql} IN (SELECT period_start FROM {TOUCHED_PERIODS_TABLE})
    """


@dataclass(frozen=True, slots=True)
class PeriodJob:
    """One derived table rebuilt per period.

    `period_sql` maps a `requests` row to its period start; `period_span` is a period's
    length; `insert_sql` fills the touched periods, reading rows through
    `touched_requests_sql(period_sql)`. `settings` names the `AnalyticsSettings` fields the
    SQL reads as `$name` parameters.
    """

    name: str
    table: str
    period_sql: str
    period_span: timedelta
    insert_sql: str
    settings: tuple[str, ...] = ()

    @property
    def touched_periods_sql(self) -> str:
        return _TOUCHED_PERIODS_SQL.format(period_sql=self.period_sql)

    @property
    def delete_periods_sql(self) -> str:
        return _DELETE_PERIODS_SQL.format(table=self.table)


@dataclass(frozen=True, slots=True)
class Preserved:
    """Columns of a rebuild job's rows that read `requests` and so cannot be recomputed for
    rows older than the retention cutoff: rows whose `time_column` is before it keep these
    columns' values from the previous run (matched on `key`, NULLs equal)."""

    key: tuple[str, ...]
    columns: tuple[str, ...]
    time_column: str


@dataclass(frozen=True, slots=True)
class RebuildJob:
    """A table recomputed whole on every run, after the period jobs, from the tables they
    keep (small inputs: e.g. incidents from uptime buckets, pools from daily stats).
    Recomputing from scratch keeps it idempotent; it has no watermark."""

    name: str
    table: str
    insert_sql: str
    settings: tuple[str, ...] = ()
    preserve: Preserved | None = None


@dataclass(frozen=True, slots=True)
class StepJob:
    """A job that runs its own statements, in its own transaction: e.g. one that fills a
    column of `requests` in place before the period jobs read it. `run(con, full, settings)`
    does the work and reports it."""

    name: str
    table: str
    run: Callable[[duckdb.DuckDBPyConnection, bool, AnalyticsSettings], JobResult]


Job = PeriodJob | RebuildJob | StepJob


@dataclass(frozen=True, slots=True)
class JobResult:
    job: str
    table: str
    periods: tuple[date, ...]
    rows_deleted: int
    rows_written: int
    seconds: float


@dataclass(frozen=True, slots=True)
class JobsResult:
    full: bool
    jobs: tuple[JobResult, ...]
    seconds: float

    def job(self, name: str) -> JobResult:
        for result in self.jobs:
            if result.job == name:
                return result
        raise KeyError(name)


def _count(cursor: duckdb.DuckDBPyConnection) -> int:
    row = cursor.fetchone()
    return int(row[0]) if row else 0


def _settings_params(job: Job, settings: AnalyticsSettings) -> dict[str, object]:
    return {name: getattr(settings, name) for name in job.settings}


_PRESERVED_TABLE = "_preserved_columns"


def _restore_preserved_sql(table: str, preserve: Preserved) -> str:
    keys = " AND ".join(f"t.{k} IS NOT DISTINCT FROM p.{k}" for k in preserve.key)
    columns = ", ".join(f"{c} = p.{c}" for c in preserve.columns)
    return f"UPDATE {table} AS t SET {columns} FROM {_PRESERVED_TABLE} AS p WHERE {keys}"


def run_rebuild_job(
    con: duckdb.DuckDBPyConnection,
    job: RebuildJob,
    settings: AnalyticsSettings,
    *,
    retained: datetime | None = None,
) -> JobResult:
    """Replace the whole of `job.table`, in one transaction (keeping the `preserve` columns
    of rows older than the retention cutoff `retained`)."""
    started = time.perf_counter()
    preserve = job.preserve if retained is not None else None
    with transaction(con):
        if preserve is not None:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {_PRESERVED_TABLE} AS "
                f"SELECT {', '.join((*preserve.key, *preserve.columns))} FROM {job.table} "
                f"WHERE {preserve.time_column} < $retained",
                {"retained": retained},
            )
        deleted = _count(con.execute(f"DELETE FROM {job.table}"))
        written = _count(con.execute(job.insert_sql, _settings_params(job, settings)))
        if preserve is not None:
            con.execute(_restore_preserved_sql(job.table, preserve))
            con.execute(f"DROP TABLE {_PRESERVED_TABLE}")
    return JobResult(
        job=job.name,
        table=job.table,
        periods=(),
        rows_deleted=deleted,
        rows_written=written,
        seconds=time.perf_counter() - started,
    )


def _first_unfrozen_day(retained: datetime | None) -> date | None:
    """The first UTC day wholly at or after the retention cutoff (a period starting before
    it has lost rows)."""
    if retained is None:
        return None
    utc = retained.astimezone(UTC)
    day = utc.date()
    return day if utc == datetime(day.year, day.month, day.day, tzinfo=UTC) else day + ONE_DAY


def run_period_job(
    con: duckdb.DuckDBPyConnection,
    job: PeriodJob,
    *,
    full: bool,
    settings: AnalyticsSettings,
    retained: datetime | None = None,
) -> JobResult:
    """Rebuild the periods of `job.table` touched since its watermark, in one transaction;
    periods starting before the retention cutoff `retained` are left as they are."""
    started = time.perf_counter()
    frozen = _first_unfrozen_day(retained)
    with transaction(con):
        con.execute(
            job.touched_periods_sql, {"full": full, "job": job.name, "frozen_before": frozen}
        )
        periods = tuple(row[0] for row in con.execute(TOUCHED_PERIOD_LIST_SQL).fetchall())
        deleted = _count(
            con.execute(job.delete_periods_sql, {"full": full, "frozen_before": frozen})
        )
        written = 0
        if periods:
            params = {
                "first_period": periods[0],
                "last_period": periods[-1],
                "period_span": job.period_span,
                **_settings_params(job, settings),
            }
            written = _count(con.execute(job.insert_sql, params))
        con.execute(SAVE_WATERMARK_SQL, {"job": job.name})
        con.execute(DROP_TOUCHED_PERIODS_SQL)
    return JobResult(
        job=job.name,
        table=job.table,
        periods=periods,
        rows_deleted=deleted,
        rows_written=written,
        seconds=time.perf_counter() - started,
    )


def run_job_list(
    con: duckdb.DuckDBPyConnection,
    jobs: Sequence[Job],
    *,
    full: bool = False,
    progress: Progress | None = None,
    settings: AnalyticsSettings | None = None,
) -> JobsResult:
    """Run `jobs` in order (a rebuild job must come after the jobs whose tables it reads)."""
    settings = settings or AnalyticsSettings()
    started = time.perf_counter()
    retained = retained_before(con, "requests")  # periods before it are frozen
    results: list[JobResult] = []
    for job in jobs:
        if isinstance(job, StepJob):
            result = job.run(con, full, settings)
            done = f"{result.rows_written} row(s) written"
        elif isinstance(job, RebuildJob):
            result = run_rebuild_job(con, job, settings, retained=retained)
            done = f"rebuilt, {result.rows_written} row(s)"
        else:
            if progress:
                progress(f"{job.name}: {'full rebuild' if full else 'incremental'}")
            result = run_period_job(con, job, full=full, settings=settings, retained=retained)
            done = f"rebuilt {len(result.periods)} period(s), {result.rows_written} row(s)"
        if progress:
            progress(f"{job.name}: {done} in {result.seconds:.2f}s")
        results.append(result)
    return JobsResult(full=full, jobs=tuple(results), seconds=time.perf_counter() - started)
