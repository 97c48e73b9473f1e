"""`latency_daily`: exact latency, time-to-first-token and output speed percentiles per UTC
day, provider and model, over ok requests. Definitions are in `docs/schema.md`."""

from __future__ import annotations

from datetime import timedelta

from analytics.jobs.runner import PeriodJob, touched_requests_sql
from analytics.jobs.stats import DAY_PERIOD_SQL

# Generation time is the part of the request after the first token; without a reported TTFT
# (non-streaming) it is the whole duration. Requests without output or without positive
# generation time have no speed.
_GENERATION_SECONDS_SQL = "((duration_ms - coalesce(ttft_ms, 0)) / 1000)"
_HAS_SPEED_SQL = f"status = 'ok' AND output_tokens > 0 AND {_GENERATION_SECONDS_SQL} > 0"


def _percentiles(column: str, name: str) -> str:
    return ",\n        ".join(
        f"quantile_cont({column}, {q}) FILTER (WHERE status = 'ok') AS p{p}_{name}"
        for p, q in (("50", 0.5), ("95", 0.95), ("99", 0.99))
    )


LATENCY_DAILY_INSERT_SQL = f"""
INSERT INTO latency_daily BY NAME
SELECT *,
    generation_output_tokens / NULLIF(generation_seconds, 0) AS output_tokens_per_second
FROM (
    SELECT
        period_start,
        coalesce(provider, 'unknown') AS provider,
        coalesce(model, 'unknown') AS model,
        count(*) FILTER (WHERE status = 'ok') AS ok_requests,
        count(ttft_ms) FILTER (WHERE status = 'ok') AS ttft_requests,
        {_percentiles("duration_ms", "duration_ms")},
        {_percentiles("ttft_ms", "ttft_ms")},
        count(*) FILTER (WHERE {_HAS_SPEED_SQL}) AS speed_requests,
        quantile_cont(output_tokens / {_GENERATION_SECONDS_SQL}, 0.5)
            FILTER (WHERE {_HAS_SPEED_SQL}) AS p50_output_tokens_per_second,
        coalesce(sum(output_tokens) FILTER (WHERE {_HAS_SPEED_SQL}), 0)
            AS generation_output_tokens,
        -- summed as decimals (nanoseconds), exactly: a sum of doubles depends on the order
        -- rows are added in, which differs between one database and the lake's week tasks
        CAST(coalesce(sum(CAST({_GENERATION_SECONDS_SQL} AS DECIMAL(38, 9)))
            FILTER (WHERE {_HAS_SPEED_SQL}), 0) AS DOUBLE) AS generation_seconds
    FROM ({touched_requests_sql(DAY_PERIOD_SQL)}) AS touched
    GROUP BY ALL
)
"""

LATENCY_DAILY_JOB = PeriodJob(
    name="latency_daily",
    table="latency_daily",
    period_sql=DAY_PERIOD_SQL,
    period_span=timedelta(days=1),
    insert_sql=LATENCY_DAILY_INSERT_SQL,
)
