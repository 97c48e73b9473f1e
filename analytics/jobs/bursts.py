"""Volume and burstiness: `traffic_hourly` (the base, per UTC hour, provider and app),
`batch_windows` (recurring hours of concentrated traffic) and `load_error_curve` (provider
errors and throttling by hourly load). The views `traffic_heatmap` and `traffic_daily_peaks`
read `traffic_hourly` directly (`warehouse.migrations`). Definitions are in `docs/schema.md`."""

from __future__ import annotations

from datetime import timedelta

from analytics.jobs.request_classes import PROVIDER_ERROR_SQL, RATE_LIMITED_SQL
from analytics.jobs.runner import PeriodJob, RebuildJob, touched_requests_sql
from analytics.jobs.stats import DAY_PERIOD_SQL

TRAFFIC_HOURLY_INSERT_SQL = f"""
INSERT INTO traffic_hourly BY NAME
SELECT
    period_start,
    timezone('UTC', date_trunc('hour', timezone('UTC', started_at))) AS hour_start,
    coalesce(provider, 'unknown') AS provider,
    coalesce(app, 'unknown') AS app,
    count(*) AS requests,
    count(*) FILTER (WHERE status = 'error') AS error_requests,
    count(*) FILTER (WHERE {PROVIDER_ERROR_SQL}) AS provider_errors,
    count(*) FILTER (WHERE {RATE_LIMITED_SQL}) AS rate_limited
FROM ({touched_requests_sql(DAY_PERIOD_SQL)}) AS touched
GROUP BY ALL
"""

# Scopes: all traffic (app NULL) and each app, over the days the scope has traffic, each day
# as 24 UTC hours (hours without traffic count as 0). An hour is hot when its requests exceed
# $batch_hour_factor × the day's median hour; an hour of day hot on at least
# $batch_min_share_of_days of the days is recurring; adjacent recurring hours form a window,
# read from an hour outside every window so that one spanning midnight stays whole.
BATCH_WINDOWS_INSERT_SQL = """
INSERT INTO batch_windows BY NAME
WITH hourly AS (
    SELECT app, period_start AS day, hour(timezone('UTC', hour_start)) AS hour, requests
    FROM traffic_hourly
),
counts AS (
    SELECT app, day, hour, sum(requests) AS requests
    FROM hourly
    GROUP BY GROUPING SETS ((app, day, hour), (day, hour))
),
grid AS (
    SELECT d.app, d.day, h.hour, coalesce(c.requests, 0) AS requests
    FROM (SELECT DISTINCT app, day FROM counts) AS d
    CROSS JOIN range(24) AS h(hour)
    LEFT JOIN counts AS c
        ON c.app IS NOT DISTINCT FROM d.app AND c.day = d.day AND c.hour = h.hour
),
hot AS (
    SELECT *, requests > $batch_hour_factor * baseline AS hot
    FROM (
        SELECT *, quantile_cont(requests, 0.5) OVER (PARTITION BY app, day) AS baseline
        FROM grid
    )
),
recurring AS (
    SELECT app, hour
    FROM hot
    GROUP BY app, hour
    HAVING avg(CAST(hot AS DOUBLE)) >= $batch_min_share_of_days
),
pivots AS (
    SELECT scope.app, min(h.hour) AS pivot
    FROM (SELECT DISTINCT app FROM recurring) AS scope
    CROSS JOIN range(24) AS h(hour)
    ANTI JOIN recurring AS r ON r.app IS NOT DISTINCT FROM scope.app AND r.hour = h.hour
    GROUP BY scope.app
),
islands AS (
    SELECT r.app, r.hour, (r.hour - p.pivot + 24) % 24 AS rotated,
        rotated - row_number() OVER (PARTITION BY r.app ORDER BY rotated) AS island
    FROM recurring AS r
    JOIN pivots AS p ON p.app IS NOT DISTINCT FROM r.app
),
windows AS (
    SELECT app,
        arg_min(hour, rotated) AS start_hour,
        (arg_max(hour, rotated) + 1) % 24 AS end_hour,
        list(hour) AS window_hours
    FROM islands
    GROUP BY app, island
),
window_days AS (
    SELECT w.app, w.start_hour, h.day,
        bool_or(h.hot) AS seen,
        sum(h.requests) AS requests,
        avg(h.requests) / NULLIF(any_value(h.baseline), 0) AS multiple
    FROM windows AS w
    JOIN hot AS h ON h.app IS NOT DISTINCT FROM w.app AND list_contains(w.window_hours, h.hour)
    GROUP BY ALL
),
scopes AS (
    SELECT app, count(DISTINCT day) AS days, sum(requests) AS requests
    FROM grid
    GROUP BY app
)
SELECT w.app, w.start_hour, w.end_hour,
    len(w.window_hours) AS hours,
    s.days,
    count(*) FILTER (WHERE d.seen) AS days_seen,
    count(*) FILTER (WHERE d.seen) / s.days AS share_of_days,
    -- in day order: a sum of doubles depends on the order of its terms, and the rows of
    -- traffic_hourly are in no particular order (the lake merges them week by week)
    avg(d.multiple ORDER BY d.day) AS mean_multiple_of_baseline,
    sum(d.requests) AS requests,
    sum(d.requests) / s.requests AS share_of_traffic
FROM windows AS w
JOIN window_days AS d ON d.app IS NOT DISTINCT FROM w.app AND d.start_hour = w.start_hour
JOIN scopes AS s ON s.app IS NOT DISTINCT FROM w.app
GROUP BY w.app, w.start_hour, w.end_hour, w.window_hours, s.days, s.requests
"""

# Each provider's hours with traffic, in ten equal-count groups by volume (ties broken by
# time), with the errors seen at that load.
LOAD_ERROR_CURVE_INSERT_SQL = """
INSERT INTO load_error_curve BY NAME
WITH hours AS (
    SELECT provider, hour_start,
        sum(requests) AS requests,
        sum(provider_errors) AS provider_errors,
        sum(rate_limited) AS rate_limited
    FROM traffic_hourly
    GROUP BY ALL
),
ranked AS (
    SELECT *,
        ntile(10) OVER (PARTITION BY provider ORDER BY requests, hour_start) AS load_decile,
        quantile_cont(requests, 0.5) OVER (PARTITION BY provider) AS median_hour_requests
    FROM hours
)
SELECT provider, load_decile,
    count(*) AS hours,
    min(requests) AS min_hour_requests,
    max(requests) AS max_hour_requests,
    avg(requests) / any_value(median_hour_requests) AS mean_load_ratio,
    sum(requests) AS requests,
    sum(provider_errors) AS provider_errors,
    sum(rate_limited) AS rate_limited,
    sum(provider_errors) / sum(requests) AS error_rate,
    sum(rate_limited) / sum(requests) AS rate_limit_rate
FROM ranked
GROUP BY provider, load_decile
"""

TRAFFIC_HOURLY_JOB = PeriodJob(
    name="traffic_hourly",
    table="traffic_hourly",
    period_sql=DAY_PERIOD_SQL,
    period_span=timedelta(days=1),
    insert_sql=TRAFFIC_HOURLY_INSERT_SQL,
)

BATCH_WINDOWS_JOB = RebuildJob(
    name="batch_windows",
    table="batch_windows",
    insert_sql=BATCH_WINDOWS_INSERT_SQL,
    settings=("batch_hour_factor", "batch_min_share_of_days"),
)

LOAD_ERROR_CURVE_JOB = RebuildJob(
    name="load_error_curve",
    table="load_error_curve",
    insert_sql=LOAD_ERROR_CURVE_INSERT_SQL,
)
