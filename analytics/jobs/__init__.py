"""Batch jobs that rebuild the metric tables from `requests`.

`run_jobs` runs every registered job, incrementally unless `full=True`; see
`analytics.jobs.runner` for how periods are chosen and `docs/schema.md` for the tables.
"""

from __future__ import annotations

import duckdb

from analytics.jobs.bursts import BATCH_WINDOWS_JOB, LOAD_ERROR_CURVE_JOB, TRAFFIC_HOURLY_JOB
from analytics.jobs.divergence import DIVERGENCE_JOB
from analytics.jobs.estimated_cost import ESTIMATED_COST_JOB, SPEND_DAILY_JOB
from analytics.jobs.latency import LATENCY_DAILY_JOB
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
from analytics.jobs.uptime import PROVIDER_SLA_JOB, UPTIME_BUCKETS_JOB, UPTIME_INCIDENTS_JOB
from analytics.settings import AnalyticsSettings

# In dependency order: rebuild jobs read the tables of the jobs before them.
ALL_JOBS: tuple[Job, ...] = (
    # fills requests.estimated_cost_usd, read by spend_daily
    ESTIMATED_COST_JOB,
    # period jobs, from `requests`
    *STATS_JOBS,
    SPEND_DAILY_JOB,
    UPTIME_BUCKETS_JOB,
    LATENCY_DAILY_JOB,
    TRAFFIC_HOURLY_JOB,
    DIVERGENCE_JOB,
    AGENT_ROLES_JOB,
    # rebuild jobs, from the tables above
    ROUTING_POOLS_JOB,  # reads provider_divergence
    MODEL_TIERS_JOB,  # reads stats_daily
    MODEL_MIX_DAILY_JOB,  # reads model_tiers, stats_daily, spend_daily
    UPTIME_INCIDENTS_JOB,  # reads uptime_buckets
    PROVIDER_SLA_JOB,  # reads stats_daily
    BATCH_WINDOWS_JOB,  # reads traffic_hourly
    LOAD_ERROR_CURVE_JOB,  # reads traffic_hourly
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
