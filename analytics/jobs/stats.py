"""The core metric tables: `stats_daily`, `stats_weekly` and `stats_daily_app`.

Definitions are SPEC §4 and documented column by column in `docs/schema.md`. Ratios come
from `warehouse.migrations.STATS_RATIOS_SQL`, the same SQL the weekly rollup views use.
"""

from __future__ import annotations

from datetime import timedelta

from analytics.jobs.runner import PeriodJob, touched_requests_sql
from warehouse.migrations import STATS_RATIOS_SQL
from warehouse.schema import CLIENT_ERROR_TYPES, PROVIDER_ERROR_TYPES

# Periods are UTC calendar days and ISO weeks (date_trunc('week') starts on Monday),
# independent of the session time zone.
DAY_PERIOD_SQL = "CAST(timezone('UTC', started_at) AS DATE)"
WEEK_PERIOD_SQL = "CAST(date_trunc('week', timezone('UTC', started_at)) AS DATE)"


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# Token sums over zero matching rows are 0, not NULL: the metric is "no tokens", and the
# ratios built on them turn a zero denominator into NULL anyway.
_COUNTS_SQL = f"""
    count(*) AS requests,
    count(*) FILTER (WHERE status = 'ok') AS ok_requests,
    count(*) FILTER (WHERE status = 'error') AS error_requests,
    count(*) FILTER (WHERE status = 'ok' AND finish_reason = 'tool_calls') AS tool_call_requests,
    coalesce(sum(input_tokens) FILTER (WHERE status = 'ok'), 0) AS input_tokens,
    coalesce(sum(output_tokens) FILTER (WHERE status = 'ok'), 0) AS output_tokens,
    coalesce(sum(reasoning_tokens)
        FILTER (WHERE status = 'ok' AND reasoning_tokens IS NOT NULL), 0) AS reasoning_tokens,
    coalesce(sum(output_tokens)
        FILTER (WHERE status = 'ok' AND reasoning_tokens IS NOT NULL), 0)
        AS reasoning_output_tokens,
    count(*) FILTER (WHERE status = 'error'
        AND error_type IN ({_sql_list(PROVIDER_ERROR_TYPES)})) AS provider_errors,
    count(*) FILTER (WHERE status = 'error'
        AND error_type IN ({_sql_list(CLIENT_ERROR_TYPES)})) AS client_errors
"""

# quantile_cont interpolates linearly between the two nearest ranks (exact, not sampled).
_PERCENTILES_SQL = """
    quantile_cont(duration_ms, 0.5) FILTER (WHERE status = 'ok') AS p50_latency_ms,
    quantile_cont(duration_ms, 0.95) FILTER (WHERE status = 'ok') AS p95_latency_ms,
    quantile_cont(ttft_ms, 0.5) FILTER (WHERE status = 'ok') AS p50_ttft_ms
"""

_PROVIDER_MODEL_KEYS_SQL = """
    period_start,
    coalesce(provider, 'unknown') AS provider,
    coalesce(model, 'unknown') AS model
"""


def _provider_model_insert_sql(table: str, period_sql: str) -> str:
    return f"""
    INSERT INTO {table} BY NAME
    SELECT *, {STATS_RATIOS_SQL}
    FROM (
        SELECT {_PROVIDER_MODEL_KEYS_SQL}, {_COUNTS_SQL}, {_PERCENTILES_SQL}
        FROM ({touched_requests_sql(period_sql)}) AS touched
        GROUP BY ALL
    )
    """


STATS_DAILY_INSERT_SQL = _provider_model_insert_sql("stats_daily", DAY_PERIOD_SQL)
STATS_WEEKLY_INSERT_SQL = _provider_model_insert_sql("stats_weekly", WEEK_PERIOD_SQL)

STATS_DAILY_APP_INSERT_SQL = f"""
INSERT INTO stats_daily_app BY NAME
SELECT {_PROVIDER_MODEL_KEYS_SQL}, coalesce(app, 'unknown') AS app, {_COUNTS_SQL}
FROM ({touched_requests_sql(DAY_PERIOD_SQL)}) AS touched
GROUP BY ALL
"""

STATS_JOBS: tuple[PeriodJob, ...] = (
    PeriodJob(
        name="stats_daily",
        table="stats_daily",
        period_sql=DAY_PERIOD_SQL,
        period_span=timedelta(days=1),
        insert_sql=STATS_DAILY_INSERT_SQL,
    ),
    PeriodJob(
        name="stats_weekly",
        table="stats_weekly",
        period_sql=WEEK_PERIOD_SQL,
        period_span=timedelta(days=7),
        insert_sql=STATS_WEEKLY_INSERT_SQL,
    ),
    PeriodJob(
        name="stats_daily_app",
        table="stats_daily_app",
        period_sql=DAY_PERIOD_SQL,
        period_span=timedelta(days=1),
        insert_sql=STATS_DAILY_APP_INSERT_SQL,
    ),
)
