"""`routing_pools`: which providers to route each model to, in which order, and why.

Rebuilt whole on every run from the last `routing_window_days` of `requests` (ending at the
newest request, so a replayed or sample database is judged on its own data) and the
`provider_divergence` weeks overlapping that window. A provider is judged against its peers
for the same model and against absolute floors; every failing rule is named in `reason`.

- Always out: too little traffic, no uptime data, divergent in at least half of the tested
  weeks, or uptime clearly worse than its best peer's (`behind_peers`: a two-proportion test,
  Benjamini–Hochberg adjusted over the run, and a minimum Cohen's h, as in the divergence job).
- Floors: uptime below `routing_min_uptime` with 95% confidence (the upper end of its Wilson
  interval is below it), tool-call validity below its floor (when tool calls were checked).

When no provider left by the first rules reaches every floor (by its measured uptime, so
equal providers a few failures apart are judged alike), the floors are waived for that model:
the pool keeps those providers (the best by relative uptime) and is flagged `pool_degraded`
with a `pool_reason`, so the floors alone never empty a pool. A pool with nobody left at all
is flagged too, saying why. The providers kept are ranked by `score_ms` (lower is better), see
`SCORE_SQL`.
"""

from __future__ import annotations

from analytics.jobs.routing_text import (
    EXCLUSIONS_SQL,
    POOL_REASON_SQL,
    RANK_REASON_SQL,
    uptime_upper_sql,
)
from analytics.jobs.runner import RebuildJob
from analytics.jobs.significance import (
    bh_inputs_sql,
    bh_q_sql,
    cohens_h_sql,
    normal_two_sided_p_sql,
    two_proportion_z_sql,
)
from warehouse.schema import PROVIDER_ERROR_TYPES, REQUESTS_COLUMNS

_PROVIDER_ERRORS = ", ".join(f"'{t}'" for t in PROVIDER_ERROR_TYPES)
# The tool-call quality columns (valid, invalid JSON, unknown tool, schema mismatch).
_QUALITY_COLUMNS = [c.name for c in REQUESTS_COLUMNS if c.added_by == "m004_tool_call_quality"]
_QUALITY_SUM = " + ".join(f"coalesce({c}, 0)" for c in _QUALITY_COLUMNS)

# Expected milliseconds to a first token: the median TTFT (median latency when the provider
# never reported TTFT) plus the failure share times the cost of a failed attempt.
SCORE_SQL = "coalesce(p50_ttft_ms, p50_latency_ms) + (1 - uptime) * $routing_failure_penalty_ms"

_Z_BEHIND = two_proportion_z_sql(
    "CAST(ok_requests AS DOUBLE)",
    "(ok_requests + provider_errors)",
    "CAST(peer_ok AS DOUBLE)",
    "peer_n",
)

# Columns of the statement that `routing_pools` does not store.
_WORKING_COLUMNS = (
    "exclusions",
    "last_divergent_reason",
    "tool_call_requests",
    "tool_calls_valid",
    "uptime_upper",
    "judged_requests",
    "eligible",
    "uptime_vs_best_p",
    "bh_rank",
    "bh_m",
    "below_uptime_floor",
    "misses_uptime_floor",
    "below_validity_floor",
    "candidate",
    "candidates",
    "passing",
    "thin_providers",
    "unmeasured_providers",
    "divergent_providers",
    "below_uptime_providers",
    "below_validity_providers",
    "waived",
)

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
    SELECT *, {uptime_upper_sql("(ok_requests + provider_errors)")} AS uptime_upper,
        requests >= $routing_min_requests AND uptime IS NOT NULL AS judged_requests,
        judged_requests AND NOT divergent AS eligible
    FROM judged
),
-- The two most reliable eligible providers of each model: a provider's best peer is the
-- first of them that is not itself, so the most reliable one is never behind its peers.
leaders AS (
    SELECT model, provider AS peer, uptime AS peer_uptime, ok_requests AS peer_ok,
        ok_requests + provider_errors AS peer_n,
        row_number() OVER (
            PARTITION BY model ORDER BY uptime DESC, ok_requests + provider_errors DESC, provider
        ) AS place
    FROM bounded
    WHERE eligible
),
best_peers AS (
    SELECT bounded.model, bounded.provider, peer, peer_uptime, peer_ok, peer_n
    FROM bounded JOIN leaders
      ON leaders.model = bounded.model AND leaders.peer <> bounded.provider
         AND leaders.place <= 2
    WHERE bounded.judged_requests
    QUALIFY row_number() OVER (PARTITION BY bounded.model, bounded.provider ORDER BY place) = 1
),
compared AS (
    SELECT bounded.*, best_peers.peer AS best_peer, best_peers.peer_uptime AS best_peer_uptime,
        {cohens_h_sql("uptime", "best_peers.peer_uptime")} AS uptime_vs_best_h,
        -- Both sides perfect (z NULL): nothing to tell apart, p = 1.
        CASE WHEN best_peers.peer IS NOT NULL
            THEN coalesce(least(1.0, {normal_two_sided_p_sql(_Z_BEHIND)}), 1.0)
        END AS uptime_vs_best_p
    FROM bounded LEFT JOIN best_peers USING (model, provider)
),
tested AS (
    SELECT *, {bh_inputs_sql("uptime_vs_best_p", "true")}
    FROM compared
),
verdicts AS (
    SELECT *,
        coalesce(uptime_vs_best_h <= -$routing_relative_min_effect_h
            AND uptime_vs_best_q < $routing_relative_alpha, false) AS behind_peers,
        coalesce(uptime_upper < $routing_min_uptime, false) AS below_uptime_floor,
        coalesce(uptime < $routing_min_uptime, false) AS misses_uptime_floor,
        coalesce(tool_call_validity < $routing_min_tool_validity, false) AS below_validity_floor
    FROM (SELECT *, {bh_q_sql("uptime_vs_best_p", "true")} AS uptime_vs_best_q FROM tested)
),
pools AS (
    SELECT *,
        count(*) FILTER (WHERE candidate) OVER pool AS candidates,
        count(*) FILTER (
            WHERE candidate AND NOT misses_uptime_floor AND NOT below_validity_floor
        ) OVER pool AS passing,
        count(*) FILTER (WHERE requests < $routing_min_requests) OVER pool AS thin_providers,
        count(*) FILTER (WHERE requests >= $routing_min_requests AND uptime IS NULL) OVER pool
            AS unmeasured_providers,
        count(*) FILTER (WHERE judged_requests AND divergent) OVER pool AS divergent_providers,
        count(*) FILTER (WHERE eligible AND misses_uptime_floor) OVER pool
            AS below_uptime_providers,
        count(*) FILTER (WHERE eligible AND below_validity_floor) OVER pool
            AS below_validity_providers
    FROM (SELECT *, eligible AND NOT behind_peers AS candidate FROM verdicts)
    WINDOW pool AS (PARTITION BY model)
),
scored AS (
    SELECT *, {SCORE_SQL} AS score_ms, {EXCLUSIONS_SQL} AS exclusions
    FROM (SELECT *, candidates > 0 AND passing = 0 AS waived FROM pools)
),
ranked AS (
    SELECT *, exclusions = '' AS included,
        CASE WHEN exclusions = '' THEN CAST(row_number() OVER (
            PARTITION BY model, exclusions = '' ORDER BY score_ms NULLS LAST, provider
        ) AS INTEGER) END AS rank
    FROM scored
)
SELECT * EXCLUDE ({", ".join(_WORKING_COLUMNS)}),
    CASE WHEN included THEN {RANK_REASON_SQL} ELSE exclusions END AS reason,
    waived OR candidates = 0 AS pool_degraded,
    {POOL_REASON_SQL} AS pool_reason
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
        "routing_relative_alpha",
        "routing_relative_min_effect_h",
        "routing_min_tool_validity",
        "routing_failure_penalty_ms",
    ),
)
