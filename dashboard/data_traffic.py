"""Queries of the Traffic page: hourly volume, bursts, errors under load and latency.

Every hour and day is UTC. Which global filters apply follows each table's keys:
`traffic_hourly` has days, providers and apps (no model); `batch_windows` has apps only and
covers the whole history; `load_error_curve` has providers only and covers the whole history;
`latency_daily` has days, providers and models (no app).

The heatmap and the daily peaks are the `traffic_heatmap` and `traffic_daily_peaks` views
(see docs/schema.md) computed over the filtered hours: the views themselves sum away the
provider, the app and the date range.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import polars as pl

from dashboard.data import Filters, _where
from warehouse.analytics_migrations import traffic_daily_peaks_sql, traffic_heatmap_sql
from warehouse.db import Warehouse

LATENCY_SERIES_SEPARATOR = " · "

_FILTERED_HOURS_SQL = """
    SELECT period_start, timezone('UTC', hour_start) AS hour_start,
        requests, provider_errors, rate_limited
    FROM traffic_hourly
    WHERE {where}
"""

# Every hour of the selected days, zero where the selection had no traffic.
HOURLY_REQUESTS_SQL = f"""
WITH filtered AS ({_FILTERED_HOURS_SQL}),
hours AS (
    SELECT range AS hour_start
    FROM range(
        CAST($start AS TIMESTAMP), CAST($end AS TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 HOUR
    )
),
totals AS (
    SELECT hour_start, sum(requests) AS requests, sum(provider_errors) AS provider_errors,
        sum(rate_limited) AS rate_limited
    FROM filtered
    GROUP BY hour_start
)
SELECT hour_start,
    CAST(coalesce(requests, 0) AS BIGINT) AS requests,
    CAST(coalesce(provider_errors, 0) AS BIGINT) AS provider_errors,
    CAST(coalesce(rate_limited, 0) AS BIGINT) AS rate_limited
FROM hours LEFT JOIN totals USING (hour_start)
ORDER BY hour_start
"""

# `traffic_heatmap` and `traffic_daily_peaks` (the same SQL) over the filtered hours.
_FILTERED_HOURS_UTC_SQL = """
    SELECT period_start, hour_start, requests
    FROM traffic_hourly
    WHERE {where}
"""
HEATMAP_SQL = f"""
WITH filtered AS ({_FILTERED_HOURS_UTC_SQL})
SELECT weekday, hour, CAST(hours AS INTEGER) AS hours, requests, mean_requests, share
FROM ({traffic_heatmap_sql("filtered")})
ORDER BY weekday, hour
"""
DAILY_PEAKS_SQL = f"""
WITH filtered AS ({_FILTERED_HOURS_UTC_SQL})
SELECT * FROM ({traffic_daily_peaks_sql("filtered")})
ORDER BY day
"""

BATCH_WINDOWS_SQL = """
SELECT app, start_hour, end_hour, hours, days, days_seen, share_of_days,
    mean_multiple_of_baseline, requests, share_of_traffic
FROM batch_windows
WHERE {scope}
ORDER BY app NULLS FIRST, start_hour
"""

LOAD_ERROR_CURVE_SQL = """
SELECT provider, load_decile, hours, min_hour_requests, max_hour_requests, mean_load_ratio,
    requests, provider_errors, rate_limited, error_rate, rate_limit_rate
FROM load_error_curve
WHERE {where}
ORDER BY provider, load_decile
"""

_LATENCY_COLUMNS = (
    "ok_requests",
    "ttft_requests",
    "p50_duration_ms",
    "p95_duration_ms",
    "p99_duration_ms",
    "p50_ttft_ms",
    "p95_ttft_ms",
    "p99_ttft_ms",
    "speed_requests",
    "p50_output_tokens_per_second",
    "output_tokens_per_second",
)

# One row per day of the range and per (provider, model) of the selection: a day a series has
# no row gets NULLs, a gap in its line rather than a segment joining the days around it.
LATENCY_DAILY_SQL = f"""
WITH filtered AS (
    SELECT *, provider || '{LATENCY_SERIES_SEPARATOR}' || model AS series
    FROM latency_daily
    WHERE {{where}}
),
days AS (
    SELECT CAST(range AS DATE) AS period_start
    FROM range(CAST($start AS DATE), CAST($end AS DATE) + INTERVAL 1 DAY, INTERVAL 1 DAY)
),
names AS (SELECT DISTINCT series, provider, model FROM filtered)
SELECT days.period_start, names.series, names.provider, names.model,
    {", ".join(f"filtered.{column}" for column in _LATENCY_COLUMNS)}
FROM days
CROSS JOIN names
LEFT JOIN filtered ON filtered.period_start = days.period_start AND filtered.series = names.series
ORDER BY names.series, days.period_start
"""


def _filtered_hours(sql: str, warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    where, params = _where(replace(filters, models=()))
    return warehouse.query_df(sql.format(where=where), params)


def hourly_requests(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """Every UTC hour of the range: requests, provider errors and throttled requests."""
    return _filtered_hours(HOURLY_REQUESTS_SQL, warehouse, filters)


def heatmap(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """Per ISO weekday (1 = Monday) and UTC hour: requests and mean requests per such hour."""
    return _filtered_hours(HEATMAP_SQL, warehouse, filters)


def daily_peaks(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """Per day with traffic: its busiest UTC hour and the peak-to-mean ratio."""
    return _filtered_hours(DAILY_PEAKS_SQL, warehouse, filters)


def batch_windows(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """The windows of the selected apps, or those of all traffic when no app is selected."""
    scope, params = "app IS NULL", {}
    if filters.apps:
        scope, params = "list_contains($apps, app)", {"apps": list(filters.apps)}
    return warehouse.query_df(BATCH_WINDOWS_SQL.format(scope=scope), params)


def load_error_curve(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """Error and rate-limit rates per provider and load decile (whole history)."""
    where, params = "true", {}
    if filters.providers:
        where = "list_contains($providers, provider)"
        params = {"providers": list(filters.providers)}
    return warehouse.query_df(LOAD_ERROR_CURVE_SQL.format(where=where), params)


def latency_daily(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """Per day of the range and `series` ("provider · model"): percentiles and output speed."""
    where, params = _where(replace(filters, apps=()))
    return warehouse.query_df(LATENCY_DAILY_SQL.format(where=where), params)


def traffic_totals(hourly: pl.DataFrame) -> dict[str, Any]:
    """Requests, provider errors and throttled requests summed over `hourly_requests` rows."""
    return {
        column: int(hourly[column].sum())
        for column in ("requests", "provider_errors", "rate_limited")
    }
