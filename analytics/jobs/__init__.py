"""Batch jobs that rebuild the metric tables from `requests`.

`run_jobs` runs every registered job, incrementally unless `full=True`; see
`analytics.jobs.runner` for how periods are chosen and `docs/schema.md` for the tables.
"""

from __future__ import annotations

import duckdb

from analytics.jobs.divergence import DIVERGENCE_JOB
from analytics.jobs.model_mix import AGENT_ROLES_JOB, MODEL_MIX_DAILY_JOB, MODEL_TIERS_JOB
from analytics.jobs.routing import ROUTING_POOLS_JOB
from analytics.jobs.runner import (
    Job,
    JobResult,
    JobsResult,
    PeriodJob,
    Progress,
    RebuildJob,
    run_job_list,
)
from analytics.jobs.stats import STATS_JOBS
from analytics.settings import AnalyticsSettings

# In dependency order: rebuild jobs read the tables of the jobs before them.
ALL_JOBS: tuple[Job, ...] = (
    *STATS_JOBS,
    DIVERGENCE_JOB,
    AGENT_ROLES_JOB,
    ROUTING_POOLS_JOB,
    MODEL_TIERS_JOB,
    MODEL_MIX_DAILY_JOB,
)

__all__ = ["ALL_JOBS", "JobResult", "JobsResult", "PeriodJob", "RebuildJob", "run_jobs"]


def run_jobs(
    con: duckdb.DuckDBPyConnection,
    *,
    full: bool = False,
    progress: Progress | None = None,
    settings: AnalyticsSettings | None = None,
) -> JobsResult:
    """Run every job, each in its own transaction; `full` recomputes every period."""
    return run_job_list(con, ALL_JOBS, full=full, progress=progress, settings=settings)
