"""The migrations of the routing and traffic-shape tables (issue-4 analytics): same-model
divergence, routing pools, model mix and roles; uptime buckets, incidents and SLA; latency;
hourly traffic, bursts and batch windows. Their DDL and the views over them live here, next
to the functions that create them; `warehouse.migrations` lists them in order."""

from __future__ import annotations

import duckdb

# `provider_divergence` (see `analytics.jobs.divergence`); the job selects exactly these.
_FINISH_SHARES = ("stop", "length", "tool_calls", "content_filter", "other")
PROVIDER_DIVERGENCE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("period_start", "DATE NOT NULL"),
    ("model", "VARCHAR NOT NULL"),
    ("provider", "VARCHAR NOT NULL"),
    ("peer_providers", "INTEGER NOT NULL"),
    ("requests", "BIGINT NOT NULL"),
    ("ok_requests", "BIGINT NOT NULL"),
    ("peer_requests", "BIGINT NOT NULL"),
    ("peer_ok_requests", "BIGINT NOT NULL"),
    *(
        (f"{side}{metric}", "DOUBLE")
        for metric in ("tool_call_rate", "error_rate", "reasoning_share", "mean_output_tokens")
        for side in ("", "peer_")
    ),
    *((f"{side}share_{reason}", "DOUBLE") for side in ("", "peer_") for reason in _FINISH_SHARES),
    *(
        (f"{rate}_{stat}", "DOUBLE")
        for rate in ("tool_call_rate", "error_rate")
        for stat in ("diff", "h", "p", "q")
    ),
    ("finish_mix_chi2", "DOUBLE"),
    ("finish_mix_df", "INTEGER"),
    ("finish_mix_w", "DOUBLE"),
    ("finish_mix_p", "DOUBLE"),
    ("finish_mix_q", "DOUBLE"),
    ("comparable_peers", "INTEGER NOT NULL"),
    ("tool_call_rate_apart", "INTEGER NOT NULL"),
    ("error_rate_apart", "INTEGER NOT NULL"),
    ("finish_mix_apart", "INTEGER NOT NULL"),
    ("divergent", "BOOLEAN NOT NULL"),
    ("reason", "VARCHAR NOT NULL"),
)

ROUTING_POOLS_TABLE_SQL = """
CREATE TABLE routing_pools (
    model VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    provider_model VARCHAR,
    window_start TIMESTAMPTZ NOT NULL,
    window_end TIMESTAMPTZ NOT NULL,
    requests BIGINT NOT NULL,
    ok_requests BIGINT NOT NULL,
    provider_errors BIGINT NOT NULL,
    uptime DOUBLE,
    tool_call_rate DOUBLE,
    tool_calls_checked BIGINT NOT NULL,
    tool_call_validity DOUBLE,
    tested_weeks INTEGER NOT NULL,
    divergent_weeks INTEGER NOT NULL,
    divergent BOOLEAN NOT NULL,
    p50_latency_ms DOUBLE,
    p50_ttft_ms DOUBLE,
    output_tokens_per_s DOUBLE,
    score_ms DOUBLE,
    included BOOLEAN NOT NULL,
    rank INTEGER,
    reason VARCHAR NOT NULL,
    PRIMARY KEY (model, provider)
)
"""

MODEL_MIX_TABLES_SQL = (
    """
    CREATE TABLE model_tiers (
        model VARCHAR PRIMARY KEY,
        tier VARCHAR NOT NULL,
        origin VARCHAR NOT NULL,
        pattern VARCHAR
    )
    """,
    """
    CREATE TABLE model_mix_daily (
        period_start DATE NOT NULL,
        tier VARCHAR NOT NULL,
        models INTEGER NOT NULL,
        requests BIGINT NOT NULL,
        ok_requests BIGINT NOT NULL,
        input_tokens BIGINT NOT NULL,
        output_tokens BIGINT NOT NULL,
        share_requests DOUBLE,
        share_input_tokens DOUBLE,
        share_output_tokens DOUBLE,
        PRIMARY KEY (period_start, tier)
    )
    """,
    """
    CREATE TABLE agent_roles_daily (
        period_start DATE NOT NULL,
        model VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        requests BIGINT NOT NULL,
        PRIMARY KEY (period_start, model, role)
    )
    """,
)


def m020_routing_tables(con: duckdb.DuckDBPyConnection) -> None:
    columns = ",\n    ".join(f"{name} {sql_type}" for name, sql_type in PROVIDER_DIVERGENCE_COLUMNS)
    con.execute(
        f"CREATE TABLE provider_divergence (\n    {columns},\n"
        "    PRIMARY KEY (period_start, model, provider)\n)"
    )
    con.execute(ROUTING_POOLS_TABLE_SQL)
    for ddl in MODEL_MIX_TABLES_SQL:
        con.execute(ddl)


# `routing_pools`' relative judgement (the best peer's uptime and the test against it) and
# the pool-level flag; the job rebuilds the table whole, so defaults only cover old rows.
ROUTING_POOL_DEGRADED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("best_peer", "VARCHAR"),
    ("best_peer_uptime", "DOUBLE"),
    ("uptime_vs_best_h", "DOUBLE"),
    ("uptime_vs_best_q", "DOUBLE"),
    ("behind_peers", "BOOLEAN NOT NULL DEFAULT false"),
    ("pool_degraded", "BOOLEAN NOT NULL DEFAULT false"),
    ("pool_reason", "VARCHAR"),
)


def m007_routing_pool_degraded(con: duckdb.DuckDBPyConnection) -> None:
    for name, sql_type in ROUTING_POOL_DEGRADED_COLUMNS:
        con.execute(f"ALTER TABLE routing_pools ADD COLUMN {name} {sql_type}")


# Uptime over eligible requests (ok + provider errors); shared by `uptime_buckets` and the
# view that re-aggregates it across models.
UPTIME_RATIO_SQL = "CAST(ok_requests AS DOUBLE) / NULLIF(eligible_requests, 0) AS uptime"

# The larger derived tables carry no primary key: their jobs write each key once (a whole
# period is deleted and recomputed in one transaction), and an index on a few hundred
# thousand rows that a full rebuild deletes and re-inserts costs seconds at COMMIT.
UPTIME_BUCKETS_TABLE_SQL = """
CREATE TABLE uptime_buckets (
    period_start DATE NOT NULL,
    provider VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    bucket_minutes INTEGER NOT NULL,
    bucket_start TIMESTAMPTZ NOT NULL,
    requests BIGINT NOT NULL,
    eligible_requests BIGINT NOT NULL,
    ok_requests BIGINT NOT NULL,
    provider_errors BIGINT NOT NULL,
    client_errors BIGINT NOT NULL,
    uptime DOUBLE
)
"""

UPTIME_BUCKETS_PROVIDER_VIEW_SQL = f"""
CREATE VIEW uptime_buckets_provider AS
SELECT *, {UPTIME_RATIO_SQL}
FROM (
    SELECT period_start, provider, bucket_minutes, bucket_start,
        CAST(sum(requests) AS BIGINT) AS requests,
        CAST(sum(eligible_requests) AS BIGINT) AS eligible_requests,
        CAST(sum(ok_requests) AS BIGINT) AS ok_requests,
        CAST(sum(provider_errors) AS BIGINT) AS provider_errors,
        CAST(sum(client_errors) AS BIGINT) AS client_errors
    FROM uptime_buckets
    GROUP BY period_start, provider, bucket_minutes, bucket_start
)
"""

UPTIME_INCIDENTS_TABLE_SQL = """
CREATE TABLE uptime_incidents (
    provider VARCHAR NOT NULL,
    model VARCHAR,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ NOT NULL,
    duration_minutes INTEGER NOT NULL,
    buckets INTEGER NOT NULL,
    bad_buckets INTEGER NOT NULL,
    requests BIGINT NOT NULL,
    eligible_requests BIGINT NOT NULL,
    failed_requests BIGINT NOT NULL,
    uptime DOUBLE NOT NULL,
    worst_uptime DOUBLE NOT NULL,
    top_error_type VARCHAR,
    top_error_share DOUBLE,
    ongoing BOOLEAN NOT NULL
)
"""

PROVIDER_SLA_TABLE_SQL = """
CREATE TABLE provider_sla (
    period VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    provider VARCHAR NOT NULL,
    model VARCHAR,
    requests BIGINT NOT NULL,
    eligible_requests BIGINT NOT NULL,
    ok_requests BIGINT NOT NULL,
    provider_errors BIGINT NOT NULL,
    uptime DOUBLE,
    sla_target DOUBLE NOT NULL,
    attained BOOLEAN,
    error_budget_requests DOUBLE NOT NULL,
    budget_used DOUBLE,
    budget_remaining DOUBLE NOT NULL
)
"""


def m010_uptime_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(UPTIME_BUCKETS_TABLE_SQL)
    con.execute(UPTIME_BUCKETS_PROVIDER_VIEW_SQL)
    con.execute(UPTIME_INCIDENTS_TABLE_SQL)
    con.execute(PROVIDER_SLA_TABLE_SQL)


LATENCY_DAILY_TABLE_SQL = """
CREATE TABLE latency_daily (
    period_start DATE NOT NULL,
    provider VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    ok_requests BIGINT NOT NULL,
    ttft_requests BIGINT NOT NULL,
    p50_duration_ms DOUBLE,
    p95_duration_ms DOUBLE,
    p99_duration_ms DOUBLE,
    p50_ttft_ms DOUBLE,
    p95_ttft_ms DOUBLE,
    p99_ttft_ms DOUBLE,
    speed_requests BIGINT NOT NULL,
    p50_output_tokens_per_second DOUBLE,
    generation_output_tokens BIGINT NOT NULL,
    generation_seconds DOUBLE NOT NULL,
    output_tokens_per_second DOUBLE,
    PRIMARY KEY (period_start, provider, model)
)
"""


def m011_latency_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(LATENCY_DAILY_TABLE_SQL)


TRAFFIC_HOURLY_TABLE_SQL = """
CREATE TABLE traffic_hourly (
    period_start DATE NOT NULL,
    hour_start TIMESTAMPTZ NOT NULL,
    provider VARCHAR NOT NULL,
    app VARCHAR NOT NULL,
    requests BIGINT NOT NULL,
    error_requests BIGINT NOT NULL,
    provider_errors BIGINT NOT NULL,
    rate_limited BIGINT NOT NULL
)
"""


def traffic_heatmap_sql(hours: str) -> str:
    """Requests per (ISO weekday, UTC hour) of the relation `hours` (shaped like
    `traffic_hourly`), over every day from its first to its last: hours without traffic count
    as zero, so `mean_requests` is per slot of the calendar, not per slot with traffic."""
    return f"""
WITH days AS (
    SELECT CAST(day AS DATE) AS day
    FROM (SELECT min(period_start) AS first, max(period_start) AS last FROM {hours}),
        generate_series(first, last, INTERVAL 1 DAY) AS series(day)
),
slots AS (
    SELECT isodow(day) AS weekday, hour, count(*) AS hours
    FROM days CROSS JOIN range(24) AS hours(hour)
    GROUP BY ALL
),
counts AS (
    SELECT isodow(timezone('UTC', hour_start)) AS weekday,
        hour(timezone('UTC', hour_start)) AS hour,
        sum(requests) AS requests
    FROM {hours}
    GROUP BY ALL
)
SELECT weekday, hour, hours,
    CAST(coalesce(requests, 0) AS BIGINT) AS requests,
    coalesce(requests, 0) / hours AS mean_requests,
    coalesce(requests, 0) / sum(requests) OVER () AS share
FROM slots LEFT JOIN counts USING (weekday, hour)
"""


def traffic_daily_peaks_sql(hours: str) -> str:
    """Per UTC day of the relation `hours`: its busiest hour and that hour's multiple of the
    day's mean hour (the day's requests over 24)."""
    return f"""
WITH by_hour AS (
    SELECT period_start AS day, hour(timezone('UTC', hour_start)) AS hour,
        sum(requests) AS requests
    FROM {hours}
    GROUP BY ALL
),
ranked AS (
    SELECT *,
        sum(requests) OVER (PARTITION BY day) AS day_requests,
        row_number() OVER (PARTITION BY day ORDER BY requests DESC, hour) AS rank
    FROM by_hour
)
SELECT day,
    CAST(day_requests AS BIGINT) AS requests,
    hour AS peak_hour,
    CAST(requests AS BIGINT) AS peak_hour_requests,
    day_requests / 24 AS mean_hour_requests,
    requests / (day_requests / 24) AS peak_to_mean
FROM ranked
WHERE rank = 1
"""


TRAFFIC_HEATMAP_VIEW_SQL = f"CREATE VIEW traffic_heatmap AS {traffic_heatmap_sql('traffic_hourly')}"
TRAFFIC_DAILY_PEAKS_VIEW_SQL = (
    f"CREATE VIEW traffic_daily_peaks AS {traffic_daily_peaks_sql('traffic_hourly')}"
)

BATCH_WINDOWS_TABLE_SQL = """
CREATE TABLE batch_windows (
    app VARCHAR,
    start_hour INTEGER NOT NULL,
    end_hour INTEGER NOT NULL,
    hours INTEGER NOT NULL,
    days INTEGER NOT NULL,
    days_seen INTEGER NOT NULL,
    share_of_days DOUBLE NOT NULL,
    mean_multiple_of_baseline DOUBLE,
    requests BIGINT NOT NULL,
    share_of_traffic DOUBLE NOT NULL
)
"""

LOAD_ERROR_CURVE_TABLE_SQL = """
CREATE TABLE load_error_curve (
    provider VARCHAR NOT NULL,
    load_decile INTEGER NOT NULL,
    hours INTEGER NOT NULL,
    min_hour_requests BIGINT NOT NULL,
    max_hour_requests BIGINT NOT NULL,
    mean_load_ratio DOUBLE NOT NULL,
    requests BIGINT NOT NULL,
    provider_errors BIGINT NOT NULL,
    rate_limited BIGINT NOT NULL,
    error_rate DOUBLE NOT NULL,
    rate_limit_rate DOUBLE NOT NULL,
    PRIMARY KEY (provider, load_decile)
)
"""


def m012_traffic_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(TRAFFIC_HOURLY_TABLE_SQL)
    con.execute(TRAFFIC_HEATMAP_VIEW_SQL)
    con.execute(TRAFFIC_DAILY_PEAKS_VIEW_SQL)
    con.execute(BATCH_WINDOWS_TABLE_SQL)
    con.execute(LOAD_ERROR_CURVE_TABLE_SQL)
