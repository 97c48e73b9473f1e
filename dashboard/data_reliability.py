"""Queries of the Uptime & incidents page: uptime over time, incidents, SLA attainment.

Reads `uptime_buckets`, `uptime_incidents` and `provider_sla` only. Uptime is recomputed from
summed counts (`ok_requests / eligible_requests`) at every granularity, never averaged, and
is NULL where nothing eligible was seen. None of these tables has an `app` key, so the app
filter does not apply here.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from dashboard.data import Filters
from dashboard.data_scope import key_clauses, range_params, where
from warehouse.db import Warehouse

# Granularity of the uptime chart by the length of the selected range, in minutes:
# the finest buckets for a week, hours for a month, days beyond.
FINE_RANGE_DAYS = 7
HOURLY_RANGE_DAYS = 31
FINE_BUCKET_MINUTES = 15
HOUR_MINUTES = 60
DAY_MINUTES = 24 * 60

# Every step of the range for every provider with traffic in it: steps without eligible
# traffic keep zero counts and a NULL uptime, so the chart shows a gap, never 100%.
UPTIME_SERIES_SQL = """
WITH filtered AS (
    SELECT
        provider,
        time_bucket(to_minutes(CAST($step_minutes AS BIGINT)), bucket_start) AS bucket_start,
        requests, eligible_requests, ok_requests, provider_errors
    FROM uptime_buckets
    WHERE bucket_minutes = {fine_minutes} AND period_start BETWEEN $start AND $end AND {where}
),
steps AS (
    SELECT range AS bucket_start
    FROM range(
        CAST($range_start AS TIMESTAMPTZ),
        CAST($range_end AS TIMESTAMPTZ),
        to_minutes(CAST($step_minutes AS BIGINT))
    )
),
providers AS (SELECT DISTINCT provider FROM filtered)
SELECT
    steps.bucket_start,
    providers.provider,
    CAST(coalesce(sum(filtered.requests), 0) AS BIGINT) AS requests,
    CAST(coalesce(sum(filtered.eligible_requests), 0) AS BIGINT) AS eligible_requests,
    CAST(coalesce(sum(filtered.ok_requests), 0) AS BIGINT) AS ok_requests,
    CAST(coalesce(sum(filtered.provider_errors), 0) AS BIGINT) AS provider_errors,
    sum(filtered.ok_requests) / nullif(sum(filtered.eligible_requests), 0) AS uptime
FROM steps
CROSS JOIN providers
LEFT JOIN filtered
    ON filtered.bucket_start = steps.bucket_start AND filtered.provider = providers.provider
GROUP BY steps.bucket_start, providers.provider
ORDER BY providers.provider, steps.bucket_start
"""

INCIDENTS_SQL = """
SELECT
    provider, model, started_at, ended_at, duration_minutes, requests, eligible_requests,
    failed_requests, uptime, worst_uptime, top_error_type, top_error_share, ongoing
FROM uptime_incidents
WHERE started_at < CAST($range_end AS TIMESTAMPTZ)
    AND ended_at > CAST($range_start AS TIMESTAMPTZ)
    AND {where}
ORDER BY started_at DESC, provider, model NULLS FIRST
"""

# The selected days of `provider_sla`, summed per provider; attainment and budget are
# recomputed over the whole selection with the target the table was built with.
SLA_SQL = """
WITH summed AS (
    SELECT
        provider,
        CAST(sum(eligible_requests) AS BIGINT) AS eligible_requests,
        CAST(sum(ok_requests) AS BIGINT) AS ok_requests,
        CAST(sum(provider_errors) AS BIGINT) AS provider_errors,
        sum(ok_requests) / nullif(sum(eligible_requests), 0) AS uptime,
        max(sla_target) AS sla_target
    FROM provider_sla
    WHERE period = 'day' AND period_start BETWEEN $start AND $end AND {where}
    GROUP BY provider
),
budgeted AS (
    SELECT *, (1 - sla_target) * eligible_requests AS error_budget_requests
    FROM summed
)
SELECT
    *,
    uptime >= sla_target AS attained,
    provider_errors / nullif(error_budget_requests, 0) AS budget_used,
    error_budget_requests - provider_errors AS budget_remaining
FROM budgeted
ORDER BY provider
"""


def uptime_step_minutes(filters: Filters) -> int:
    """The chart's step for the selected range: 15 minutes, an hour or a day."""
    days = (filters.end - filters.start).days + 1
    if days <= FINE_RANGE_DAYS:
        return FINE_BUCKET_MINUTES
    if days <= HOURLY_RANGE_DAYS:
        return HOUR_MINUTES
    return DAY_MINUTES


def uptime_series(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """Per provider and step of the range (`bucket_start`): counts and uptime."""
    clauses, params = key_clauses(filters)
    sql = UPTIME_SERIES_SQL.format(fine_minutes=FINE_BUCKET_MINUTES, where=where(clauses))
    params |= {"start": filters.start, "end": filters.end, **range_params(filters)}
    return warehouse.query_df(sql, {**params, "step_minutes": uptime_step_minutes(filters)})


def incidents(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """Incidents overlapping the selected days, newest first: of whole providers, or of the
    selected models when the model filter is set."""
    clauses, params = key_clauses(filters, model_scope=True)
    params = range_params(filters) | params
    return warehouse.query_df(INCIDENTS_SQL.format(where=where(clauses)), params)


def sla_attainment(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """Per provider over the selected days: uptime, target, attainment and error budget."""
    clauses, params = key_clauses(filters, model_scope=True)
    params = {"start": filters.start, "end": filters.end, **params}
    return warehouse.query_df(SLA_SQL.format(where=where(clauses)), params)


def uptime_summary(sla: pl.DataFrame, incident_rows: pl.DataFrame) -> dict[str, Any]:
    """The page's headline numbers from the SLA and incident frames."""
    judged = sla.filter(pl.col("attained").is_not_null())
    measured = sla.filter(pl.col("uptime").is_not_null()).sort(["uptime", "provider"])
    worst = measured.row(0, named=True) if len(measured) else None
    return {
        "providers_judged": len(judged),
        "providers_meeting_sla": int(judged["attained"].sum()),
        "sla_target": sla["sla_target"].max() if len(sla) else None,
        "incidents": len(incident_rows),
        "incident_failed_requests": int(incident_rows["failed_requests"].sum()),
        "worst_provider": worst["provider"] if worst else None,
        "worst_uptime": worst["uptime"] if worst else None,
    }
