"""The migration of estimated cost: `requests.estimated_cost_usd`, the price table in effect
(`model_prices`), spend per day (`spend_daily`) and the spend columns of `model_mix_daily`.
The jobs that fill them are in `analytics.jobs.estimated_cost`; `warehouse.migrations`
lists the migration in order."""

from __future__ import annotations

import duckdb

from warehouse.schema import REQUESTS_JOB_COLUMNS

MIGRATION = "m009_estimated_cost"

# Written whole by the estimated-cost job on every run where the prices in effect changed.
MODEL_PRICES_TABLE_SQL = """
CREATE TABLE model_prices (
    model VARCHAR NOT NULL,
    provider VARCHAR,
    valid_from TIMESTAMPTZ,
    valid_until TIMESTAMPTZ,
    input_per_mtok DOUBLE NOT NULL,
    cached_input_per_mtok DOUBLE NOT NULL,
    cache_write_per_mtok DOUBLE NOT NULL,
    output_per_mtok DOUBLE NOT NULL,
    reasoning_per_mtok DOUBLE NOT NULL,
    origin VARCHAR NOT NULL
)
"""

SPEND_DAILY_TABLE_SQL = """
CREATE TABLE spend_daily (
    period_start DATE NOT NULL,
    provider VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    app VARCHAR NOT NULL,
    requests BIGINT NOT NULL,
    reported_requests BIGINT NOT NULL,
    estimated_requests BIGINT NOT NULL,
    reported_spend_usd DOUBLE NOT NULL,
    estimated_spend_usd DOUBLE NOT NULL,
    spend_usd DOUBLE NOT NULL,
    PRIMARY KEY (period_start, provider, model, app)
)
"""

# `model_mix_daily` is rebuilt whole on every run, so its new columns need no backfill.
MODEL_MIX_SPEND_COLUMNS: tuple[tuple[str, str], ...] = (
    ("spend_usd", "DOUBLE"),
    ("estimated_spend_usd", "DOUBLE"),
    ("share_spend", "DOUBLE"),
)


def m009_estimated_cost(con: duckdb.DuckDBPyConnection) -> None:
    for column in REQUESTS_JOB_COLUMNS:
        if column.added_by == MIGRATION:
            con.execute(f"ALTER TABLE requests ADD COLUMN {column.name} {column.sql_type}")
    con.execute(MODEL_PRICES_TABLE_SQL)
    con.execute(SPEND_DAILY_TABLE_SQL)
    for name, sql_type in MODEL_MIX_SPEND_COLUMNS:
        con.execute(f"ALTER TABLE model_mix_daily ADD COLUMN {name} {sql_type}")
