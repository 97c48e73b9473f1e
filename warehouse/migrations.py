"""Ordered, named schema migrations, recorded in `_gatewatch_migrations`.

Each migration is a function taking a connection; `MIGRATIONS` lists them in order. A
migration runs once, inside one transaction together with its bookkeeping row. Never edit
a migration that has shipped: add a new one.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from warehouse.schema import REQUESTS_COLUMNS, TOOL_SPANS_TABLE_SQL, requests_ddl
from warehouse.transactions import transaction

Migration = Callable[[duckdb.DuckDBPyConnection], None]

MIGRATIONS_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS _gatewatch_migrations (
    name VARCHAR PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


def m001_requests(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(requests_ddl())
    con.execute("CREATE INDEX requests_started_at ON requests (started_at)")


# The metric tables' count columns and the ratios derived from them. Shared with
# `analytics.jobs.stats` so the tables and the views compute every ratio with the same
# SQL; changing either needs a new migration that recreates the views.
STATS_COUNT_COLUMNS: tuple[str, ...] = (
    "requests",
    "ok_requests",
    "error_requests",
    "tool_call_requests",
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "reasoning_output_tokens",
    "provider_errors",
    "client_errors",
)

# NULLIF turns every zero denominator into NULL ("no data"), never 0 or 1.
STATS_RATIOS_SQL = """
    CAST(tool_call_requests AS DOUBLE) / NULLIF(ok_requests, 0) AS tool_call_rate,
    CAST(reasoning_tokens AS DOUBLE) / NULLIF(reasoning_output_tokens, 0) AS reasoning_share,
    CAST(reasoning_output_tokens AS DOUBLE) / NULLIF(output_tokens, 0) AS reasoning_coverage,
    CAST(ok_requests AS DOUBLE) / NULLIF(ok_requests + provider_errors, 0) AS uptime
"""

_STATS_PERIOD_TABLE_SQL = """
CREATE TABLE {table} (
    period_start DATE NOT NULL,
    provider VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    requests BIGINT NOT NULL,
    ok_requests BIGINT NOT NULL,
    error_requests BIGINT NOT NULL,
    tool_call_requests BIGINT NOT NULL,
    tool_call_rate DOUBLE,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    reasoning_tokens BIGINT NOT NULL,
    reasoning_output_tokens BIGINT NOT NULL,
    reasoning_share DOUBLE,
    reasoning_coverage DOUBLE,
    provider_errors BIGINT NOT NULL,
    client_errors BIGINT NOT NULL,
    uptime DOUBLE,
    p50_latency_ms DOUBLE,
    p95_latency_ms DOUBLE,
    p50_ttft_ms DOUBLE,
    PRIMARY KEY (period_start, provider, model)
)
"""

STATS_DAILY_APP_TABLE_SQL = """
CREATE TABLE stats_daily_app (
    period_start DATE NOT NULL,
    provider VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    app VARCHAR NOT NULL,
    requests BIGINT NOT NULL,
    ok_requests BIGINT NOT NULL,
    error_requests BIGINT NOT NULL,
    tool_call_requests BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    reasoning_tokens BIGINT NOT NULL,
    reasoning_output_tokens BIGINT NOT NULL,
    provider_errors BIGINT NOT NULL,
    client_errors BIGINT NOT NULL,
    PRIMARY KEY (period_start, provider, model, app)
)
"""

JOB_STATE_TABLE_SQL = """
CREATE TABLE _gatewatch_job_state (
    job VARCHAR PRIMARY KEY,
    watermark TIMESTAMPTZ,
    updated_at TIMESTAMPTZ
)
"""


def _stats_weekly_rollup_view_sql(view: str, keys: tuple[str, ...]) -> str:
    """A view summing `stats_weekly` counts over `keys`, ratios recomputed from the sums."""
    key_list = ", ".join(keys)
    sums = ",\n        ".join(f"CAST(sum({c}) AS BIGINT) AS {c}" for c in STATS_COUNT_COLUMNS)
    return (
        f"CREATE VIEW {view} AS\n"
        f"SELECT *, {STATS_RATIOS_SQL}"
        f"FROM (\n    SELECT {key_list},\n        {sums}\n"
        f"    FROM stats_weekly\n    GROUP BY {key_list}\n)"
    )


def m002_stats_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_STATS_PERIOD_TABLE_SQL.format(table="stats_daily"))
    con.execute(_STATS_PERIOD_TABLE_SQL.format(table="stats_weekly"))
    con.execute(STATS_DAILY_APP_TABLE_SQL)
    con.execute(JOB_STATE_TABLE_SQL)
    con.execute(
        _stats_weekly_rollup_view_sql("stats_weekly_provider", ("period_start", "provider"))
    )
    con.execute(_stats_weekly_rollup_view_sql("stats_weekly_model", ("period_start", "model")))
    con.execute(_stats_weekly_rollup_view_sql("stats_weekly_overall", ("period_start",)))


def m003_tool_spans(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(TOOL_SPANS_TABLE_SQL)


def _add_requests_columns(con: duckdb.DuckDBPyConnection, migration: str) -> None:
    for column in REQUESTS_COLUMNS:
        if column.added_by == migration:
            con.execute(f"ALTER TABLE requests ADD COLUMN {column.name} {column.sql_type}")


def m004_tool_call_quality(con: duckdb.DuckDBPyConnection) -> None:
    _add_requests_columns(con, "m004_tool_call_quality")


def m005_request_cost(con: duckdb.DuckDBPyConnection) -> None:
    _add_requests_columns(con, "m005_request_cost")


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

# Every (weekday, hour) slot of the days from the first to the last day with traffic, so
# hours without traffic count as zero.
TRAFFIC_HEATMAP_VIEW_SQL = """
CREATE VIEW traffic_heatmap AS
WITH days AS (
    SELECT CAST(day AS DATE) AS day
    FROM (SELECT min(period_start) AS first, max(period_start) AS last FROM traffic_hourly),
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
    FROM traffic_hourly
    GROUP BY ALL
)
SELECT weekday, hour, hours,
    CAST(coalesce(requests, 0) AS BIGINT) AS requests,
    coalesce(requests, 0) / hours AS mean_requests,
    coalesce(requests, 0) / sum(requests) OVER () AS share
FROM slots LEFT JOIN counts USING (weekday, hour)
"""

# One row per UTC day with traffic; hours without traffic count as zero in the mean.
TRAFFIC_DAILY_PEAKS_VIEW_SQL = """
CREATE VIEW traffic_daily_peaks AS
WITH hours AS (
    SELECT period_start AS day, hour(timezone('UTC', hour_start)) AS hour,
        sum(requests) AS requests
    FROM traffic_hourly
    GROUP BY ALL
),
ranked AS (
    SELECT *,
        sum(requests) OVER (PARTITION BY day) AS day_requests,
        row_number() OVER (PARTITION BY day ORDER BY requests DESC, hour) AS rank
    FROM hours
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


MIGRATIONS: list[Migration] = [
    m001_requests,
    m002_stats_tables,
    m003_tool_spans,
    m004_tool_call_quality,
    m010_uptime_tables,
    m011_latency_tables,
    m012_traffic_tables,
    m020_routing_tables,
    m005_request_cost,
]


def applied_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    con.execute(MIGRATIONS_TABLE_SQL)
    rows = con.execute("SELECT name FROM _gatewatch_migrations ORDER BY applied_at, name")
    return [r[0] for r in rows.fetchall()]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply every pending migration; return the names applied now."""
    done = set(applied_migrations(con))
    applied: list[str] = []
    for migration in MIGRATIONS:
        name = migration.__name__
        if name in done:
            continue
        with transaction(con):
            migration(con)
            con.execute("INSERT INTO _gatewatch_migrations (name) VALUES (?)", [name])
        applied.append(name)
    return applied
