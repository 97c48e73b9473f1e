"""Queries of the Model mix page: tiers, per-model requests and agent roles.

Tier shares are summed from `stats_daily_app` joined to `model_tiers` rather than read from
`model_mix_daily`: the same sums (both come from the same per-request counts), but with a
provider and an app to filter on. `agent_roles_daily` has days and models only, so the
provider and app filters do not apply to roles. Tokens are input + output tokens of ok
requests. Spend comes from `spend_daily` (same keys, same filters): the reported
`cost_usd` where a request has one, else its estimate, so it is shown as estimated.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import polars as pl

from analytics.jobs.model_mix import UNCLASSIFIED
from dashboard.data import Filters, _where
from warehouse.db import Warehouse

FRONTIER_TIER = "frontier"

_TIERED_ROWS_SQL = f"""
    SELECT stats_daily_app.*, coalesce(model_tiers.tier, '{UNCLASSIFIED}') AS tier,
        model_tiers.origin, model_tiers.pattern,
        input_tokens + output_tokens AS tokens
    FROM stats_daily_app LEFT JOIN model_tiers USING (model)
    WHERE {{where}}
"""

MIX_TOTALS_SQL = f"""
SELECT
    CAST(coalesce(sum(requests), 0) AS BIGINT) AS requests,
    CAST(coalesce(sum(requests) FILTER (WHERE tier = $frontier), 0) AS BIGINT)
        AS frontier_requests,
    CAST(coalesce(sum(tokens), 0) AS BIGINT) AS tokens,
    CAST(coalesce(sum(tokens) FILTER (WHERE tier = $frontier), 0) AS BIGINT) AS frontier_tokens,
    count(DISTINCT model) AS models,
    count(DISTINCT tier) AS tiers
FROM ({_TIERED_ROWS_SQL}) AS tiered
"""

# Only days with traffic in the selection have rows: a day without any is a gap in the bars.
TIER_MIX_DAILY_SQL = f"""
SELECT period_start, tier,
    CAST(sum(requests) AS BIGINT) AS requests,
    CAST(sum(tokens) AS BIGINT) AS tokens,
    sum(requests) / nullif(sum(sum(requests)) OVER (PARTITION BY period_start), 0)
        AS share_requests,
    sum(tokens) / nullif(sum(sum(tokens)) OVER (PARTITION BY period_start), 0) AS share_tokens
FROM ({_TIERED_ROWS_SQL}) AS tiered
GROUP BY period_start, tier
ORDER BY period_start, tier
"""

MODEL_REQUESTS_SQL = f"""
SELECT model, tier, origin, pattern,
    CAST(sum(requests) AS BIGINT) AS requests,
    CAST(sum(tokens) AS BIGINT) AS tokens,
    sum(requests) / nullif(sum(sum(requests)) OVER (PARTITION BY tier), 0) AS share_of_tier
FROM ({_TIERED_ROWS_SQL}) AS tiered
GROUP BY model, tier, origin, pattern
ORDER BY requests DESC, model
"""

_SPEND_ROWS_SQL = f"""
    SELECT spend_daily.*, coalesce(model_tiers.tier, '{UNCLASSIFIED}') AS tier
    FROM spend_daily LEFT JOIN model_tiers USING (model)
    WHERE {{where}}
"""

SPEND_TOTALS_SQL = f"""
SELECT
    coalesce(sum(spend_usd), 0) AS spend_usd,
    coalesce(sum(spend_usd) FILTER (WHERE tier = $frontier), 0) AS frontier_spend_usd,
    coalesce(sum(estimated_spend_usd), 0) AS estimated_spend_usd,
    CAST(coalesce(sum(requests - reported_requests - estimated_requests), 0) AS BIGINT)
        AS unpriced_requests
FROM ({_SPEND_ROWS_SQL}) AS tiered
"""

TIER_SPEND_DAILY_SQL = f"""
SELECT period_start, tier,
    sum(spend_usd) AS spend_usd,
    sum(estimated_spend_usd) AS estimated_spend_usd,
    sum(spend_usd) / nullif(sum(sum(spend_usd)) OVER (PARTITION BY period_start), 0)
        AS share_spend
FROM ({_SPEND_ROWS_SQL}) AS tiered
GROUP BY period_start, tier
ORDER BY period_start, tier
"""

AGENT_ROLES_SQL = """
SELECT model, role, CAST(sum(requests) AS BIGINT) AS requests
FROM agent_roles_daily
WHERE {where}
GROUP BY model, role
ORDER BY model, role
"""


def previous_period(filters: Filters) -> Filters:
    """The same selection over the equally long range that ends the day before `start`."""
    length = filters.end - filters.start + timedelta(days=1)
    return replace(filters, start=filters.start - length, end=filters.start - timedelta(days=1))


def _tiered(sql: str, warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    where, params = _where(filters)
    return warehouse.query_df(sql.format(where=where), params)


def mix_totals(warehouse: Warehouse, filters: Filters) -> dict[str, Any]:
    """Requests and tokens of the selection, in all and in the frontier tier, with its shares."""
    where, params = _where(filters)
    row = warehouse.query_df(
        MIX_TOTALS_SQL.format(where=where), {**params, "frontier": FRONTIER_TIER}
    ).row(0, named=True)
    for part in ("requests", "tokens"):
        row[f"frontier_share_{part}"] = row[f"frontier_{part}"] / row[part] if row[part] else None
    return row


def tier_mix_daily(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """Per day with traffic and tier: requests, tokens and the tier's share of the day."""
    return _tiered(TIER_MIX_DAILY_SQL, warehouse, filters)


def spend_totals(warehouse: Warehouse, filters: Filters) -> dict[str, Any]:
    """Spend of the selection (reported where known, else estimated), the frontier tier's
    share of it, the share of it that is estimated, and the requests without any price."""
    where, params = _where(filters)
    row = warehouse.query_df(
        SPEND_TOTALS_SQL.format(where=where), {**params, "frontier": FRONTIER_TIER}
    ).row(0, named=True)
    spend = row["spend_usd"]
    row["frontier_share_spend"] = row["frontier_spend_usd"] / spend if spend else None
    row["estimated_share"] = row["estimated_spend_usd"] / spend if spend else None
    return row


def tier_spend_daily(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """Per day with traffic and tier: spend, its estimated part and the tier's share of it."""
    return _tiered(TIER_SPEND_DAILY_SQL, warehouse, filters)


def model_requests(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """Per model: its tier (and the rule that set it), requests, tokens, share of its tier."""
    return _tiered(MODEL_REQUESTS_SQL, warehouse, filters)


def agent_roles(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """LLM calls per model and role over the date range (provider and app do not apply)."""
    where, params = _where(replace(filters, providers=(), apps=()))
    return warehouse.query_df(AGENT_ROLES_SQL.format(where=where), params)
