"""Model mix: `model_tiers`, `model_mix_daily` and `agent_roles_daily`.

`model_tiers` gives every model seen a tier: the first matching `[tiers]` pattern of the
config file (`AnalyticsSettings.tier_rules`), else the first matching default rule below,
else `unclassified`. `model_mix_daily` sums `stats_daily` per tier, so both are rebuilt whole
each run and a changed tier rule applies to all history at once. `agent_roles_daily` is a
period job over `requests`: the role of each LLM call within its trace (see `ROLE_SQL`).
"""

from __future__ import annotations

from datetime import timedelta

from analytics.jobs.estimated_cost import exact_usd_sum_sql
from analytics.jobs.runner import PeriodJob, RebuildJob, touched_requests_sql
from analytics.jobs.stats import DAY_PERIOD_SQL

# (glob pattern on the canonical model id, tier): small/fast first, so that e.g.
# `openai/gpt-5-mini` is small before `openai/gpt-5*` would call it frontier.
DEFAULT_TIER_RULES: tuple[tuple[str, str], ...] = (
    ("anthropic/claude-*haiku*", "small"),
    ("openai/gpt-*-mini*", "small"),
    ("openai/gpt-*-nano*", "small"),
    ("openai/o*-mini*", "small"),
    ("google/gemini-*-flash*", "small"),
    ("google/gemma-*", "small"),
    ("meta-llama/llama-*-1b*", "small"),
    ("meta-llama/llama-*-3b*", "small"),
    ("meta-llama/llama-*-8b*", "small"),
    ("mistralai/mistral-small*", "small"),
    ("mistralai/ministral-*", "small"),
    ("qwen/qwen3-coder*", "small"),
    ("x-ai/grok-*mini*", "small"),
    ("anthropic/claude-*opus*", "frontier"),
    ("anthropic/claude-*sonnet*", "frontier"),
    ("openai/gpt-5*", "frontier"),
    ("openai/gpt-4.1*", "frontier"),
    ("openai/gpt-4o*", "frontier"),
    ("openai/o1*", "frontier"),
    ("openai/o3*", "frontier"),
    ("openai/o4*", "frontier"),
    ("google/gemini-*-pro*", "frontier"),
    ("x-ai/grok-*", "frontier"),
    ("deepseek/deepseek-r1*", "frontier"),
    ("deepseek/deepseek-v3*", "frontier"),
    ("deepseek/deepseek-chat*", "frontier"),
    ("qwen/qwen3-max*", "frontier"),
    ("qwen/qwen3-235b*", "frontier"),
    ("meta-llama/llama-*-405b*", "frontier"),
    ("meta-llama/llama-4-maverick*", "frontier"),
    ("mistralai/mistral-large*", "frontier"),
    ("mistralai/mistral-medium*", "frontier"),
    ("moonshotai/kimi-k2*", "frontier"),
    ("z-ai/glm-4.*", "frontier"),
)
UNCLASSIFIED = "unclassified"

_DEFAULT_RULES_VALUES = ",\n        ".join(
    f"('{pattern}', '{tier}', {priority})"
    for priority, (pattern, tier) in enumerate(DEFAULT_TIER_RULES, 1)
)
_CONFIG_RULES = "CAST($tier_rules AS VARCHAR[][])"

# Config rules rank before every default rule (priority 0 < 1), in file order.
MODEL_TIERS_INSERT_SQL = f"""
INSERT INTO model_tiers BY NAME
WITH rules AS (
    SELECT rule[1] AS pattern, rule[2] AS tier, 'config' AS origin, 0 AS priority, position
    FROM (SELECT unnest({_CONFIG_RULES}) AS rule,
                 generate_subscripts({_CONFIG_RULES}, 1) AS position)
    UNION ALL
    SELECT pattern, tier, 'default', 1, position
    FROM (VALUES
        {_DEFAULT_RULES_VALUES}
    ) AS defaults(pattern, tier, position)
),
models AS (SELECT DISTINCT model FROM stats_daily)
SELECT model,
    coalesce(first(tier ORDER BY priority, position), '{UNCLASSIFIED}') AS tier,
    coalesce(first(origin ORDER BY priority, position), 'default') AS origin,
    first(pattern ORDER BY priority, position) AS pattern
FROM models LEFT JOIN rules ON lower(models.model) GLOB lower(rules.pattern)
GROUP BY model
"""

_SHARE_SQL = "CAST({c} AS DOUBLE) / NULLIF(sum({c}) OVER (PARTITION BY period_start), 0)"

# Spend is the reported cost where a request has one, else its estimate (`spend_daily`).
MODEL_MIX_DAILY_INSERT_SQL = f"""
INSERT INTO model_mix_daily BY NAME
SELECT *,
    {_SHARE_SQL.format(c="requests")} AS share_requests,
    {_SHARE_SQL.format(c="input_tokens")} AS share_input_tokens,
    {_SHARE_SQL.format(c="output_tokens")} AS share_output_tokens,
    CAST(spend_usd AS DOUBLE) / NULLIF(
        CAST(sum(CAST(spend_usd AS DECIMAL(38, 12))) OVER (PARTITION BY period_start) AS DOUBLE),
        0
    ) AS share_spend
FROM (
    SELECT period_start, coalesce(model_tiers.tier, '{UNCLASSIFIED}') AS tier,
        CAST(count(DISTINCT stats_daily.model) AS INTEGER) AS models,
        CAST(sum(requests) AS BIGINT) AS requests,
        CAST(sum(ok_requests) AS BIGINT) AS ok_requests,
        CAST(sum(input_tokens) AS BIGINT) AS input_tokens,
        CAST(sum(output_tokens) AS BIGINT) AS output_tokens
    FROM stats_daily LEFT JOIN model_tiers USING (model)
    GROUP BY ALL
) LEFT JOIN (
    SELECT period_start, coalesce(model_tiers.tier, '{UNCLASSIFIED}') AS tier,
        {exact_usd_sum_sql("spend_usd")} AS spend_usd,
        {exact_usd_sum_sql("estimated_spend_usd")} AS estimated_spend_usd
    FROM spend_daily LEFT JOIN model_tiers USING (model)
    GROUP BY ALL
) USING (period_start, tier)
"""

# The role of an LLM call among the calls of its trace on the same UTC day (a trace that
# crosses midnight counts as two, which keeps each day's rows computable from that day):
# 'planner' = the earliest call of a trace with two or more calls; 'executor' = a later call
# started after an earlier call of the trace answered with tool calls; 'single' = everything
# else (no trace id, the only call of its trace, or a later call not following tool calls).
_TRACE_ORDER = "PARTITION BY period_start, trace_id ORDER BY started_at, span_id, request_id"
# Within a trace of two or more calls.
ROLE_SQL = """CASE
        WHEN call_index = 1 THEN 'planner'
        WHEN tool_call_answers_before > 0 THEN 'executor'
        ELSE 'single'
    END"""

# Most calls are the only call of their trace (or have none): they are 'single' without the
# window functions, which then sort only the traces with two or more calls.
AGENT_ROLES_INSERT_SQL = f"""
INSERT INTO agent_roles_daily BY NAME
WITH calls AS (
    SELECT period_start, trace_id, coalesce(model, 'unknown') AS model,
        started_at, span_id, request_id, finish_reason
    FROM ({touched_requests_sql(DAY_PERIOD_SQL)}) AS touched
),
traces AS (
    SELECT period_start, trace_id
    FROM calls
    WHERE trace_id IS NOT NULL
    GROUP BY ALL
    HAVING count(*) > 1
),
roles AS (
    SELECT period_start, model, {ROLE_SQL} AS role
    FROM (
        SELECT period_start, model,
            row_number() OVER ({_TRACE_ORDER}) AS call_index,
            coalesce(count(*) FILTER (WHERE finish_reason = 'tool_calls') OVER (
                {_TRACE_ORDER} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ), 0) AS tool_call_answers_before
        FROM calls SEMI JOIN traces USING (period_start, trace_id)
    )
    UNION ALL
    SELECT period_start, model, 'single' AS role
    FROM calls ANTI JOIN traces USING (period_start, trace_id)
)
SELECT period_start, model, role, count(*) AS requests
FROM roles
GROUP BY ALL
"""

MODEL_TIERS_JOB = RebuildJob(
    name="model_tiers",
    table="model_tiers",
    insert_sql=MODEL_TIERS_INSERT_SQL,
    settings=("tier_rules",),
)
MODEL_MIX_DAILY_JOB = RebuildJob(
    name="model_mix_daily", table="model_mix_daily", insert_sql=MODEL_MIX_DAILY_INSERT_SQL
)
AGENT_ROLES_JOB = PeriodJob(
    name="agent_roles_daily",
    table="agent_roles_daily",
    period_sql=DAY_PERIOD_SQL,
    period_span=timedelta(days=1),
    insert_sql=AGENT_ROLES_INSERT_SQL,
)
