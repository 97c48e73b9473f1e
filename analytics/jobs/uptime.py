"""Fine-grained uptime: `uptime_buckets` (5- and 15-minute buckets per provider and model),
`uptime_incidents` (runs of bad 5-minute buckets) and `provider_sla` (attainment and error
budget per day, ISO week and month). Definitions are in `docs/schema.md`."""

from __future__ import annotations

from datetime import timedelta

from analytics.jobs.request_classes import CLIENT_ERROR_SQL, PROVIDER_ERROR_SQL
from analytics.jobs.runner import PeriodJob, Preserved, RebuildJob, touched_requests_sql
from analytics.jobs.stats import DAY_PERIOD_SQL
from warehouse.analytics_migrations import UPTIME_RATIO_SQL

BUCKET_SIZES_MINUTES: tuple[int, ...] = (5, 15)
INCIDENT_BUCKET_MINUTES = 5

# Buckets are aligned on UTC wall-clock multiples of their size (00:00, 00:05, ...).
_COUNT_COLUMNS = (
    "requests",
    "eligible_requests",
    "ok_requests",
    "provider_errors",
    "client_errors",
)


def _bucket_start_sql(seconds_sql: str, minutes: int) -> str:
    # Epoch arithmetic, not time_bucket on a converted timestamp: it runs once per request
    # and the time-zone conversions cost more than all the counting.
    return f"to_timestamp(floor({seconds_sql} / {minutes * 60}) * {minutes * 60})"


# One pass over the requests counts the smallest buckets; every larger size (a multiple of
# it) is summed from those, so the requests are read once whatever the number of sizes.
_FINEST = min(BUCKET_SIZES_MINUTES)
_ROLLUPS = "".join(
    f"""
    UNION ALL
    SELECT period_start, provider, model, {minutes} AS bucket_minutes,
        {_bucket_start_sql("epoch(bucket_start)", minutes)} AS bucket_start,
        {", ".join(f"sum({c})::BIGINT AS {c}" for c in _COUNT_COLUMNS)}
    FROM finest
    GROUP BY ALL"""
    for minutes in BUCKET_SIZES_MINUTES
    if minutes != _FINEST
)

UPTIME_BUCKETS_INSERT_SQL = f"""
INSERT INTO uptime_buckets BY NAME
WITH finest AS (
    SELECT
        period_start,
        coalesce(provider, 'unknown') AS provider,
        coalesce(model, 'unknown') AS model,
        {_bucket_start_sql("epoch(started_at)", _FINEST)} AS bucket_start,
        count(*) AS requests,
        count(*) FILTER (WHERE status = 'ok')
            + count(*) FILTER (WHERE {PROVIDER_ERROR_SQL}) AS eligible_requests,
        count(*) FILTER (WHERE status = 'ok') AS ok_requests,
        count(*) FILTER (WHERE {PROVIDER_ERROR_SQL}) AS provider_errors,
        count(*) FILTER (WHERE {CLIENT_ERROR_SQL}) AS client_errors
    FROM ({touched_requests_sql(DAY_PERIOD_SQL)}) AS touched
    GROUP BY ALL
)
SELECT *, {UPTIME_RATIO_SQL}
FROM (
    SELECT period_start, provider, model, {_FINEST} AS bucket_minutes, bucket_start,
        {", ".join(_COUNT_COLUMNS)}
    FROM finest{_ROLLUPS}
)
"""

# Incidents, per provider (model NULL, from the across-models view) and per provider and
# model. A 5-minute bucket with at least $incident_min_bucket_requests eligible requests is
# evidence: bad when its uptime is below the threshold, good otherwise. Bad buckets chain into
# one incident while at most $incident_max_good_buckets good buckets and at most
# $incident_max_gap_minutes lie between consecutive ones; buckets without evidence neither
# chain nor break. A chain is an incident when its totals (over every bucket it spans) have
# at least $incident_min_failed_requests provider errors and uptime below the threshold.
UPTIME_INCIDENTS_INSERT_SQL = f"""
INSERT INTO uptime_incidents BY NAME
WITH level_buckets AS (
    SELECT provider, CAST(NULL AS VARCHAR) AS model, bucket_start, requests,
        eligible_requests, ok_requests, provider_errors, uptime
    FROM uptime_buckets_provider
    WHERE bucket_minutes = {INCIDENT_BUCKET_MINUTES}
    UNION ALL
    SELECT provider, model, bucket_start, requests, eligible_requests, ok_requests,
        provider_errors, uptime
    FROM uptime_buckets
    WHERE bucket_minutes = {INCIDENT_BUCKET_MINUTES}
),
evidence AS (
    SELECT provider, model, bucket_start,
        uptime < $incident_uptime_threshold AS bad,
        -- good buckets up to here: the difference between two bad buckets is the good
        -- buckets between them
        sum(CAST(uptime >= $incident_uptime_threshold AS INTEGER)) OVER (
            PARTITION BY provider, model ORDER BY bucket_start
        ) AS good_so_far
    FROM level_buckets
    WHERE eligible_requests >= $incident_min_bucket_requests
),
chained AS (
    SELECT *,
        coalesce(
            good_so_far - lag(good_so_far) OVER key_order > $incident_max_good_buckets
            OR bucket_start - lag(bucket_start) OVER key_order
                > to_minutes($incident_max_gap_minutes),
            true) AS starts_chain
    FROM evidence
    WHERE bad
    WINDOW key_order AS (PARTITION BY provider, model ORDER BY bucket_start)
),
chains AS (
    SELECT provider, model,
        min(bucket_start) AS started_at,
        max(bucket_start) + INTERVAL {INCIDENT_BUCKET_MINUTES} MINUTE AS ended_at,
        count(*) AS bad_buckets
    FROM (
        SELECT *, sum(CAST(starts_chain AS INTEGER)) OVER (
            PARTITION BY provider, model ORDER BY bucket_start
        ) AS chain
        FROM chained
    )
    GROUP BY provider, model, chain
),
totals AS (
    SELECT c.provider, c.model, c.started_at, c.ended_at, c.bad_buckets,
        sum(b.requests) AS requests,
        sum(b.eligible_requests) AS eligible_requests,
        sum(b.ok_requests) AS ok_requests,
        sum(b.provider_errors) AS failed_requests,
        min(b.uptime) AS worst_uptime
    FROM chains AS c
    JOIN level_buckets AS b
        ON b.provider = c.provider AND b.model IS NOT DISTINCT FROM c.model
        AND b.bucket_start >= c.started_at AND b.bucket_start < c.ended_at
    GROUP BY ALL
),
incidents AS (
    SELECT *, CAST(ok_requests AS DOUBLE) / eligible_requests AS uptime
    FROM totals
    WHERE failed_requests >= $incident_min_failed_requests
      AND CAST(ok_requests AS DOUBLE) / eligible_requests < $incident_uptime_threshold
),
error_mix AS (
    SELECT i.provider, i.model, i.started_at, r.error_type, count(*) AS errors
    FROM incidents AS i
    JOIN requests AS r
        ON coalesce(r.provider, 'unknown') = i.provider
        AND (i.model IS NULL OR coalesce(r.model, 'unknown') = i.model)
        AND r.started_at >= i.started_at AND r.started_at < i.ended_at
    WHERE {PROVIDER_ERROR_SQL}
    GROUP BY i.provider, i.model, i.started_at, r.error_type
),
top_errors AS (
    SELECT *
    FROM error_mix
    QUALIFY row_number() OVER (
        PARTITION BY provider, model, started_at ORDER BY errors DESC, error_type
    ) = 1
),
last_evidence AS (
    SELECT provider, model, max(bucket_start) AS last_bucket_start
    FROM evidence
    GROUP BY ALL
)
SELECT i.provider, i.model, i.started_at, i.ended_at,
    CAST(date_diff('minute', i.started_at, i.ended_at) AS INTEGER) AS duration_minutes,
    CAST(date_diff('minute', i.started_at, i.ended_at) / {INCIDENT_BUCKET_MINUTES} AS INTEGER)
        AS buckets,
    CAST(i.bad_buckets AS INTEGER) AS bad_buckets,
    i.requests, i.eligible_requests, i.failed_requests, i.uptime, i.worst_uptime,
    m.error_type AS top_error_type,
    CAST(m.errors AS DOUBLE) / i.failed_requests AS top_error_share,
    -- nothing was seen since the incident's last bad bucket: it may still be going on
    l.last_bucket_start < i.ended_at AS ongoing
FROM incidents AS i
LEFT JOIN top_errors AS m
    ON m.provider = i.provider AND m.model IS NOT DISTINCT FROM i.model
    AND m.started_at = i.started_at
JOIN last_evidence AS l ON l.provider = i.provider AND l.model IS NOT DISTINCT FROM i.model
"""

# Day, ISO week and calendar month per provider (model NULL) and per provider and model,
# summed from `stats_daily` (whose counts follow the same SPEC §4 classes).
PROVIDER_SLA_INSERT_SQL = """
INSERT INTO provider_sla BY NAME
WITH periods AS (
    SELECT kind.period,
        CASE kind.period
            WHEN 'day' THEN period_start
            WHEN 'week' THEN CAST(date_trunc('week', period_start) AS DATE)
            ELSE CAST(date_trunc('month', period_start) AS DATE)
        END AS period_start,
        provider, model, requests, ok_requests, provider_errors
    FROM stats_daily CROSS JOIN (VALUES ('day'), ('week'), ('month')) AS kind(period)
),
sums AS (
    SELECT period, period_start, provider, model,
        CAST(sum(requests) AS BIGINT) AS requests,
        CAST(sum(ok_requests + provider_errors) AS BIGINT) AS eligible_requests,
        CAST(sum(ok_requests) AS BIGINT) AS ok_requests,
        CAST(sum(provider_errors) AS BIGINT) AS provider_errors
    FROM periods
    GROUP BY GROUPING SETS (
        (period, period_start, provider, model), (period, period_start, provider)
    )
),
budgets AS (
    SELECT *,
        CAST(ok_requests AS DOUBLE) / NULLIF(eligible_requests, 0) AS uptime,
        (1 - $sla_target) * eligible_requests AS error_budget_requests
    FROM sums
)
SELECT period, period_start,
    CAST(CASE period
        WHEN 'day' THEN period_start + INTERVAL 1 DAY
        WHEN 'week' THEN period_start + INTERVAL 7 DAY
        ELSE period_start + INTERVAL 1 MONTH
    END AS DATE) AS period_end,
    provider, model, requests, eligible_requests, ok_requests, provider_errors, uptime,
    $sla_target AS sla_target,
    uptime >= $sla_target AS attained,
    error_budget_requests,
    provider_errors / NULLIF(error_budget_requests, 0) AS budget_used,
    error_budget_requests - provider_errors AS budget_remaining
FROM budgets
"""

UPTIME_BUCKETS_JOB = PeriodJob(
    name="uptime_buckets",
    table="uptime_buckets",
    period_sql=DAY_PERIOD_SQL,
    period_span=timedelta(days=1),
    insert_sql=UPTIME_BUCKETS_INSERT_SQL,
)

# Everything about an incident is recomputed from `uptime_buckets` (kept forever) except its
# top error type, counted on `requests`: for an incident that began before the retention
# cutoff it is kept from the run that still had its rows.
UPTIME_INCIDENTS_JOB = RebuildJob(
    name="uptime_incidents",
    table="uptime_incidents",
    insert_sql=UPTIME_INCIDENTS_INSERT_SQL,
    preserve=Preserved(
        key=("provider", "model", "started_at"),
        columns=("top_error_type", "top_error_share"),
        time_column="started_at",
    ),
    settings=(
        "incident_uptime_threshold",
        "incident_min_bucket_requests",
        "incident_max_good_buckets",
        "incident_max_gap_minutes",
        "incident_min_failed_requests",
    ),
)

PROVIDER_SLA_JOB = RebuildJob(
    name="provider_sla",
    table="provider_sla",
    insert_sql=PROVIDER_SLA_INSERT_SQL,
    settings=("sla_target",),
)
