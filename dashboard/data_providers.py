"""Queries of the Same model across providers page, on `provider_divergence`.

The table has one row per ISO week, model and provider; the selected date range picks the
weeks that overlap it. Several weeks are pooled per provider by weighting each week's rate
with its denominator (ok answers, or all requests for the error rate), which gives back the
ratio of the summed counts. Reasoning share and mean output tokens, whose exact denominators
the table does not keep, are weighted by ok answers: descriptive, as in the table. The app
filter does not apply (the table has no app key).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from dashboard.data import Filters
from dashboard.data_scope import first_week, key_clauses, where
from warehouse.db import Warehouse

FINISH_REASONS = ("stop", "tool_calls", "length", "content_filter", "other")

# (column, the count it is a ratio of); `peer_<column>` is weighted by `peer_<count>`.
POOLED_METRICS: tuple[tuple[str, str], ...] = (
    ("tool_call_rate", "ok_requests"),
    ("error_rate", "requests"),
    ("reasoning_share", "ok_requests"),
    ("mean_output_tokens", "ok_requests"),
    *((f"share_{reason}", "ok_requests") for reason in FINISH_REASONS),
)


def _pooled(column: str, weight: str) -> str:
    # Weeks where the value is NULL (e.g. no reasoning reported) carry no weight.
    return (
        f"sum({column} * {weight}) / nullif(sum({weight}) FILTER (WHERE {column} IS NOT NULL), 0)"
        f" AS {column}"
    )


_POOLED_SQL = ",\n    ".join(
    _pooled(prefix + column, prefix + weight)
    for column, weight in POOLED_METRICS
    for prefix in ("", "peer_")
)

_WEEKS = "period_start BETWEEN $first_week AND $end"

MODELS_SQL = f"""
SELECT
    model,
    CAST(count(DISTINCT provider) AS INTEGER) AS providers,
    CAST(sum(requests) AS BIGINT) AS requests
FROM provider_divergence
WHERE {_WEEKS} AND {{where}}
GROUP BY model
ORDER BY providers DESC, requests DESC, model
"""

COMPARISON_SQL = f"""
SELECT
    provider,
    CAST(count(*) AS INTEGER) AS weeks,
    CAST(count(*) FILTER (WHERE divergent) AS INTEGER) AS divergent_weeks,
    CAST(sum(requests) AS BIGINT) AS requests,
    CAST(sum(ok_requests) AS BIGINT) AS ok_requests,
    {_POOLED_SQL},
    arg_max(reason, period_start) FILTER (WHERE divergent) AS divergent_reason,
    max(period_start) FILTER (WHERE divergent) AS last_divergent_week
FROM provider_divergence
WHERE model = $model AND {_WEEKS} AND {{where}}
GROUP BY provider
ORDER BY provider
"""

DIVERGENT_CELLS_SQL = f"""
SELECT
    period_start, model, provider, ok_requests, tool_call_rate, peer_tool_call_rate,
    error_rate, peer_error_rate, reason
FROM provider_divergence
WHERE divergent AND {_WEEKS} AND {{where}}
ORDER BY period_start DESC, model, provider
"""


def _week_params(filters: Filters) -> dict[str, Any]:
    return {"first_week": first_week(filters.start), "end": filters.end}


def divergence_models(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """Models tested in the selected weeks, the most providers (then traffic) first."""
    clauses, params = key_clauses(filters)
    sql = MODELS_SQL.format(where=where(clauses))
    return warehouse.query_df(sql, {**_week_params(filters), **params})


def provider_comparison(warehouse: Warehouse, filters: Filters, model: str) -> pl.DataFrame:
    """Per provider of `model` over the selected weeks: its pooled metrics and its peers',
    how many weeks it was divergent, and the reason of the latest of them."""
    clauses, params = key_clauses(Filters(filters.start, filters.end, filters.providers))
    sql = COMPARISON_SQL.format(where=where(clauses))
    return warehouse.query_df(sql, {**_week_params(filters), **params, "model": model})


def divergent_cells(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """Every divergent (week, model, provider) of the selected weeks, newest first."""
    clauses, params = key_clauses(filters)
    sql = DIVERGENT_CELLS_SQL.format(where=where(clauses))
    return warehouse.query_df(sql, {**_week_params(filters), **params})
