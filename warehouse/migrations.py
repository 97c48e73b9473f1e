"""Ordered, named schema migrations, recorded in `_gatewatch_migrations`.

Each migration is a function taking a connection; `MIGRATIONS` lists them in order. A
migration runs once, inside one transaction together with its bookkeeping row. Never edit
a migration that has shipped: add a new one.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from warehouse.alert_tables import m008_alert_events
from warehouse.analytics_migrations import (
    m007_routing_pool_degraded,
    m010_uptime_tables,
    m011_latency_tables,
    m012_traffic_tables,
    m020_routing_tables,
)
from warehouse.cost_migrations import m009_estimated_cost
from warehouse.retention_schema import m010_retention
from warehouse.schema import (
    REQUEST_KEY_SQL,
    REQUEST_KEYS_TABLE,
    REQUEST_KEYS_TABLE_SQL,
    REQUESTS_COLUMNS,
    TOOL_SPANS_TABLE_SQL,
    requests_ddl,
)
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


def m006_request_details(con: duckdb.DuckDBPyConnection) -> None:
    _add_requests_columns(con, "m006_request_details")


def m021_request_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Keep `request_id` unique through `_gatewatch_request_keys` instead of a primary key
    on `requests`, and drop the index on `started_at` (range filters use the row groups'
    min/max, never that index). Both indexes cost the writer ~30 µs a row; the key table
    ~8. `requests` is rebuilt, since DuckDB cannot drop a primary key in place."""
    con.execute(REQUEST_KEYS_TABLE_SQL)
    key = REQUEST_KEY_SQL.format(column="request_id")
    con.execute(f"INSERT INTO {REQUEST_KEYS_TABLE} SELECT {key}, 0 FROM requests")
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = 'requests' ORDER BY ordinal_position"
    ).fetchall()
    ddl = ",\n    ".join(
        f"{name} {sql_type}{' NOT NULL' if name == 'request_id' else ''}"
        for name, sql_type in columns
    )
    con.execute(f"CREATE TABLE requests_rebuilt (\n    {ddl}\n)")
    con.execute("INSERT INTO requests_rebuilt SELECT * FROM requests")
    con.execute("DROP INDEX requests_started_at")
    con.execute("DROP TABLE requests")
    con.execute("ALTER TABLE requests_rebuilt RENAME TO requests")


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
    m006_request_details,
    m007_routing_pool_degraded,
    m008_alert_events,
    m009_estimated_cost,
    m010_retention,
    m021_request_keys,
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
