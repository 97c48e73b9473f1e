"""`routing_pools`: which providers to route each model to, in which order, and why.

Rebuilt whole on every run from the last `routing_window_days` of `requests` (ending at the
newest request, so a replayed or sample database is judged on its own data) and the
`provider_divergence` weeks overlapping that window. Rules, in order (every failing rule is
named in `reason`): too little traffic, uptime below the floor (with 95% confidence: the upper
end of its Wilson interval is below it), divergent in at least half
of the tested weeks, tool-call validity below the floor (when tool calls were checked). The
providers left are ranked by `score_ms` (lower is better), see `SCORE_SQL`.
"""

from __future__ import annotations

from analytics.jobs.runner import RebuildJob
from warehouse.schema import PROVIDER_ERROR_TYPES, REQUESTS_COLUMNS

_PROVIDER_ERRORS = ", ".join(f"'{t}'" for t in PROVIDER_ERROR_TYPES)
# The tool-call quality columns (valid, invalid JSON, unknown tool, schema mismatch).
_QUALITY_COLUMNS = [c.name for c in REQUESTS_COLUMNS if c.added_by == "m004_tool_call_quality"]
_QUALITY_SUM = " + ".join(f"coalesce({c}, 0)" for c in _QUALITY_COLUMNS)

# Expected milliseconds to a first token: the median TTFT (median latency when the provider
# never reported TTFT) plus the failure share times the cost of a failed attempt.
SCORE_SQL = "coalesce(p50_ttft_ms, p50_latency_ms) + (1 - uptime) * $routing_failure_penalty_ms"


def _pct(x: str) -> str:
    return f"printf('%.2f%%', 100 * {x})"


# Upper end of the 95% Wilson score interval of uptime over n = ok + provider errors: a
# provider is left out only when even that is below the floor, so a few unlucky failures in
# a small sample (99.5% uptime measured as 98.5% over 300 requests) do not flap the pool.
_Z = 1.959964
_Z2 = _Z**2


def _uptime_upper_sql(n: str) -> str:
    return f"""(
        uptime + {_Z2} / (2 * {n})
        + {_Z} * sqrt(uptime * (1 - uptime) / {n} + {_Z2} / (4 * {n} * {n}))
    ) / (1 + {_Z2} / {n}
    )"""


_EXCLUSIONS_SQL = f"""concat_ws('; ',
        CASE WHEN requests < $routing_min_requests
            THEN printf('too little traffic: %d requests < %d', requests, $routing_min_requests)
        END,
        CASE WHEN uptime IS NULL THEN 'no uptime data (no ok request nor provider error)'
             WHEN uptime_upper < $routing_min_uptime
             THEN 'uptime ' || {_pct("uptime")} || ' < ' || {_pct("$routing_min_uptime")}
                  || ' (95% upper bound ' || {_pct("uptime_upper")} || ')'
        END,
        CASE WHEN divergent THEN printf('divergent in %d of %d weeks: ', divergent_weeks,
            tested_weeks) || last_divergent_reason END,
        CASE WHEN tool_call_validity < $routing_min_tool_validity
            THEN 'tool-call validity ' || {_pct("tool_call_validity")} || ' < '
                 || {_pct("$routing_min_tool_validity")}
        END)"""

_RANK_REASON_SQL = f"""printf('rank %d: uptime ', rank) || {_pct("uptime")} || CASE
        WHEN p50_ttft_ms IS NOT NULL THEN printf(', p50 TTFT %.0f ms', p50_ttft_ms)
        WHEN p50_latency_ms IS NOT NULL
        THEN printf(', p50 latency %.0f ms (no TTFT reported)', p50_latency_ms)
        ELSE ', no latency reported' END"""

ROUTING_POOLS_INSERT_SQL = f"""
INSERT INTO routing_pools BY NAME
WITH bounds AS (
    SELECT max(started_at) AS window_end,
        max(started_at) - to_days(CAST($routing_window_days AS INTEGER)) AS window_start
    FROM requests
),
recent AS (
    SELECT requests.*,
        coalesce(model, 'unknown') AS pool_model,
        coalesce(provider, 'unknown') AS pool_provider
    FROM requests, bounds
    WHERE started_at > window_start
),
spellings AS (
    SELECT pool_model, pool_provider,
        first(model_raw ORDER BY n DESC, model_raw) AS provider_model
    FROM (
        SELECT pool_model, pool_provider, model_raw, count(*) AS n
        FROM recent WHERE model_raw IS NOT NULL GROUP BY ALL
    )
    GROUP BY ALL
),
traffic AS (
    SELECT pool_model AS model, pool_provider AS provider,
        count(*) AS requests,
        count(*) FILTER (WHERE status = 'ok') AS ok_requests,
        count(*) FILTER (WHERE status = 'error' AND error_type IN ({_PROVIDER_ERRORS}))
            AS provider_errors,
        count(*) FILTER (WHERE status = 'ok' AND finish_reason = 'tool_calls')
            AS tool_call_requests,
        coalesce(sum(tool_calls_valid), 0) AS tool_calls_valid,
        coalesce(sum({_QUALITY_SUM}), 0) AS tool_calls_checked,
        quantile_cont(duration_ms, 0.5) FILTER (WHERE status = 'ok') AS p50_latency_ms,
        quantile_cont(ttft_ms, 0.5) FILTER (WHERE status = 'ok') AS p50_ttft_ms,
        quantile_cont(output_tokens * 1000.0 / (duration_ms - ttft_ms), 0.5) FILTER (
            WHERE status = 'ok' AND output_tokens > 0 AND duration_ms > ttft_ms
        ) AS output_tokens_per_s
    FROM recent
    GROUP BY ALL
),
weeks AS (
    SELECT model, provider,
        CAST(count(*) AS INTEGER) AS tested_weeks,
        CAST(count(*) FILTER (WHERE divergent) AS INTEGER) AS divergent_weeks,
        first(reason ORDER BY period_start DESC) FILTER (WHERE divergent)
            AS last_divergent_reason
    FROM provider_divergence, bounds
    WHERE period_start > CAST(timezone('UTC', window_start) AS DATE) - 7
    GROUP BY ALL
),
judged AS (
    SELECT traffic.*, bounds.*, spellings.provider_model,
        CAST(ok_requests AS DOUBLE) / NULLIF(ok_requests + provider_errors, 0) AS uptime,
        CAST(tool_call_requests AS DOUBLE) / NULLIF(ok_requests, 0) AS tool_call_rate,
        CAST(tool_calls_valid AS DOUBLE) / NULLIF(tool_calls_checked, 0) AS tool_call_validity,
        coalesce(weeks.tested_weeks, 0) AS tested_weeks,
        coalesce(weeks.divergent_weeks, 0) AS divergent_weeks,
        coalesce(weeks.divergent_weeks > 0
            AND 2 * weeks.divergent_weeks >= weeks.tested_weeks, false) AS divergent,
        weeks.last_divergent_reason
    FROM traffic CROSS JOIN bounds
    LEFT JOIN spellings
      ON spellings.pool_model = traffic.model AND spellings.pool_provider = traffic.provider
    LEFT JOIN weeks USING (model, provider)
),
bounded AS (
    SELECT *, {_uptime_upper_sql("(ok_requests + provider_errors)")} AS uptime_upper
    FROM judged
),
scored AS (
    SELECT *, {SCORE_SQL} AS score_ms, {_EXCLUSIONS_SQL} AS exclusions
    FROM bounded
),
ranked AS (
    SELECT *, exclusions = '' AS included,
        CASE WHEN exclusions = '' THEN CAST(row_number() OVER (
            PARTITION BY model, exclusions = '' ORDER BY score_ms NULLS LAST, provider
        ) AS INTEGER) END AS rank
    FROM scored
)
SELECT * EXCLUDE (
        exclusions, last_divergent_reason, tool_call_requests, tool_calls_valid, uptime_upper
    ),
    CASE WHEN included THEN {_RANK_REASON_SQL} ELSE exclusions END AS reason
FROM ranked
"""

ROUTING_POOLS_JOB = RebuildJob(
    name="routing_pools",
    table="routing_pools",
    insert_sql=ROUTING_POOLS_INSERT_SQL,
    settings=(
        "routing_window_days",
        "routing_min_requests",
        "routing_min_uptime",
        "routing_min_tool_validity",
        "routing_failure_penalty_ms",
    ),
)
