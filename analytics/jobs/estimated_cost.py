"""Estimated cost: `model_prices`, `requests.estimated_cost_usd` and `spend_daily`.

`estimated_cost_usd` prices a request's tokens with the price in force for its model and
provider at its `started_at` (see `analytics.prices`). Tokens follow the stored counts'
rule (docs/normalization.md): input includes cache reads and writes, output includes
reasoning, so

    (input − cached − cache_write) × input price + cached × cached price
    + cache_write × cache-write price + (output − reasoning) × output price
    + reasoning × reasoning price, per million tokens.

A NULL cached, cache-write or reasoning count is 0 of that kind; a NULL input or output count
leaves the estimate NULL (a partial count would understate). Parts that exceed their total
(inconsistent counts) make the remainder 0, never negative.

The estimate job fills the rows ingested since its watermark that have no estimate yet, with
two set-based UPDATEs (a provider's own price, then the any-provider price for what is left).
When the prices in effect differ from the stored `model_prices`, or on a full run, it
replaces the table, re-estimates every row and resets the watermark of `spend_daily`, which
then rebuilds every day. `cost_usd` (the gateway's own figure) is never touched.

`spend_daily` sums, per day, provider, model and app, the reported cost where a request has
one and the estimate otherwise, keeping the estimated part apart.
"""

from __future__ import annotations

import time
from datetime import timedelta

import duckdb

from analytics.default_prices import DEFAULT_PRICES
from analytics.jobs.runner import (
    JOB_SINCE_SQL,
    SAVE_WATERMARK_SQL,
    JobResult,
    PeriodJob,
    StepJob,
    touched_requests_sql,
)
from analytics.jobs.stats import DAY_PERIOD_SQL
from analytics.prices import PRICE_TABLE_COLUMNS, PriceRow, effective_price_rows
from analytics.settings import AnalyticsSettings
from warehouse.transactions import transaction

ESTIMATE_JOB_NAME = "estimated_cost"
SPEND_DAILY_JOB_NAME = "spend_daily"

_COLUMNS = ", ".join(PRICE_TABLE_COLUMNS)
STORED_PRICES_SQL = f"SELECT {_COLUMNS} FROM model_prices"
INSERT_PRICE_SQL = (
    f"INSERT INTO model_prices ({_COLUMNS}) VALUES ({', '.join('?' * len(PRICE_TABLE_COLUMNS))})"
)

_R = "requests"
COST_SQL = f"""(
        greatest({_R}.input_tokens - coalesce({_R}.cached_input_tokens, 0)
            - coalesce({_R}.cache_write_tokens, 0), 0) * p.input_per_mtok
        + coalesce({_R}.cached_input_tokens, 0) * p.cached_input_per_mtok
        + coalesce({_R}.cache_write_tokens, 0) * p.cache_write_per_mtok
        + greatest({_R}.output_tokens - coalesce({_R}.reasoning_tokens, 0), 0)
            * p.output_per_mtok
        + coalesce({_R}.reasoning_tokens, 0) * p.reasoning_per_mtok
    ) / 1e6"""

# The price in force at `started_at`; a row without `started_at` only takes unbounded prices.
_IN_FORCE_SQL = f"""(p.valid_from IS NULL OR {_R}.started_at >= p.valid_from)
  AND (p.valid_until IS NULL OR {_R}.started_at < p.valid_until)"""

# `$full`: every row (their estimates were just cleared); else the rows ingested since the
# watermark (ingest order keeps `ingested_at` zone maps tight, so old row groups are skipped).
_SCOPE_SQL = f"""{_R}.estimated_cost_usd IS NULL
  AND {_R}.input_tokens IS NOT NULL AND {_R}.output_tokens IS NOT NULL
  AND ($full OR {_R}.ingested_at > ({JOB_SINCE_SQL}))"""

# A provider's own price first; the second statement prices what the first left unpriced.
ESTIMATE_PROVIDER_PRICE_SQL = f"""
UPDATE requests SET estimated_cost_usd = {COST_SQL}
FROM model_prices p
WHERE p.model = {_R}.model AND p.provider = {_R}.provider
  AND {_IN_FORCE_SQL}
  AND {_SCOPE_SQL}
"""
ESTIMATE_ANY_PROVIDER_PRICE_SQL = f"""
UPDATE requests SET estimated_cost_usd = {COST_SQL}
FROM model_prices p
WHERE p.model = {_R}.model AND p.provider IS NULL
  AND {_IN_FORCE_SQL}
  AND {_SCOPE_SQL}
"""

CLEAR_ESTIMATES_SQL = (
    "UPDATE requests SET estimated_cost_usd = NULL WHERE estimated_cost_usd IS NOT NULL"
)
RESET_SPEND_WATERMARK_SQL = "DELETE FROM _gatewatch_job_state WHERE job = $job"


def _count(cursor: duckdb.DuckDBPyConnection) -> int:
    row = cursor.fetchone()
    return int(row[0]) if row else 0


def _replace_prices(con: duckdb.DuckDBPyConnection, rows: list[PriceRow]) -> None:
    con.execute("DELETE FROM model_prices")
    if rows:
        con.executemany(INSERT_PRICE_SQL, [list(row) for row in rows])


def _prices_changed(con: duckdb.DuckDBPyConnection, rows: list[PriceRow]) -> bool:
    stored = {tuple(row) for row in con.execute(STORED_PRICES_SQL).fetchall()}
    return stored != set(rows) or len(stored) != len(rows)


def run_estimated_cost(
    con: duckdb.DuckDBPyConnection, full: bool, settings: AnalyticsSettings
) -> JobResult:
    """Store the prices in effect and estimate the requests that need it, in one transaction."""
    started = time.perf_counter()
    rows = effective_price_rows(settings.prices, DEFAULT_PRICES)
    with transaction(con):
        reprice = _prices_changed(con, rows) or full
        cleared = 0
        if reprice:
            _replace_prices(con, rows)
            cleared = _count(con.execute(CLEAR_ESTIMATES_SQL))
            con.execute(RESET_SPEND_WATERMARK_SQL, {"job": SPEND_DAILY_JOB_NAME})
        params = {"full": reprice, "job": ESTIMATE_JOB_NAME}
        written = _count(con.execute(ESTIMATE_PROVIDER_PRICE_SQL, params))
        written += _count(con.execute(ESTIMATE_ANY_PROVIDER_PRICE_SQL, params))
        con.execute(SAVE_WATERMARK_SQL, {"job": ESTIMATE_JOB_NAME})
    return JobResult(
        job=ESTIMATE_JOB_NAME,
        table="requests",
        periods=(),
        rows_deleted=cleared,
        rows_written=written,
        seconds=time.perf_counter() - started,
    )


def exact_usd_sum_sql(column: str, where: str | None = None) -> str:
    """A sum of dollar amounts that does not depend on the order of its terms (a sum of
    doubles does, and the order of rows differs between one database and the lake's week
    tasks): added as decimals to the 1e-12 dollar, exactly."""
    only = f" FILTER (WHERE {where})" if where else ""
    return f"CAST(sum(CAST({column} AS DECIMAL(38, 12))){only} AS DOUBLE)"


SPEND_DAILY_INSERT_SQL = f"""
INSERT INTO spend_daily BY NAME
SELECT *, reported_spend_usd + estimated_spend_usd AS spend_usd
FROM (
    SELECT period_start,
        coalesce(provider, 'unknown') AS provider,
        coalesce(model, 'unknown') AS model,
        coalesce(app, 'unknown') AS app,
        count(*) AS requests,
        count(cost_usd) AS reported_requests,
        count(estimated_cost_usd) FILTER (WHERE cost_usd IS NULL) AS estimated_requests,
        coalesce({exact_usd_sum_sql("cost_usd")}, 0) AS reported_spend_usd,
        coalesce({exact_usd_sum_sql("estimated_cost_usd", "cost_usd IS NULL")}, 0)
            AS estimated_spend_usd
    FROM ({touched_requests_sql(DAY_PERIOD_SQL)}) AS touched
    GROUP BY ALL
)
"""

ESTIMATED_COST_JOB = StepJob(name=ESTIMATE_JOB_NAME, table="requests", run=run_estimated_cost)
SPEND_DAILY_JOB = PeriodJob(
    name=SPEND_DAILY_JOB_NAME,
    table="spend_daily",
    period_sql=DAY_PERIOD_SQL,
    period_span=timedelta(days=1),
    insert_sql=SPEND_DAILY_INSERT_SQL,
)
