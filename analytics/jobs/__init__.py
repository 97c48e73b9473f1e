"""Batch jobs that rebuild the metric tables from `requests`.

`run_jobs` runs every registered job, incrementally unless `full=True`; see
`analytics.jobs.runner` for how periods are chosen and `docs/schema.md` for the tables.
"""

from __future__ import annotations

import duckdb

from analytics.jobs.runner import JobResult, JobsResult, PeriodJob, Progress, run_period_jobs
from analytics.jobs.stats import STATS_JOBS

ALL_JOBS: tuple[PeriodJob, ...] = STATS_JOBS

__all__ = ["ALL_JOBS", "JobResult", "JobsResult", "PeriodJob", "run_jobs"]


def run_jobs(
    con: duckdb.DuckDBPyConnection,
    *,
    full: bool = False,
    progress: Progress | None = None,
) -> JobsResult:
    """Run every job, each in its own transaction; `full` recomputes every period."""
    return run_period_jobs(con, ALL_JOBS, full=full, progress=progress)
