"""Queries of the Routing pools page, on `routing_pools`.

The pools are judged on one fixed window (the last `routing_window_days` of traffic), so the
date range and the app filter do not apply; the provider and model filters do.
"""

from __future__ import annotations

import json

import polars as pl

from analytics.routing_export import ROUTING_EXPORT_QUERY, export
from dashboard.data import Filters
from dashboard.data_scope import key_clauses, where
from warehouse.db import Warehouse

POOLS_SQL = """
SELECT
    model, provider, provider_model, window_start, window_end, requests, uptime,
    tool_call_rate, tool_calls_checked, tool_call_validity, divergent, p50_latency_ms,
    p50_ttft_ms, output_tokens_per_s, score_ms, included, rank, reason, pool_degraded,
    pool_reason
FROM routing_pools
WHERE {where}
ORDER BY model, included DESC, rank, provider
"""

# The CLI's own query, narrowed to one model: the page shows exactly what
# `gatewatch routing export --model M` writes.
EXPORT_SQL = f"SELECT * FROM ({ROUTING_EXPORT_QUERY}) WHERE model = $model"


def routing_pools(warehouse: Warehouse, filters: Filters) -> pl.DataFrame:
    """Every (model, provider) of the pools: the included ones by rank, then the others."""
    clauses, params = key_clauses(filters)
    return warehouse.query_df(POOLS_SQL.format(where=where(clauses)), params)


def routing_export_text(warehouse: Warehouse, model: str, output_format: str) -> str | None:
    """The JSON `gatewatch routing export --format <output_format> --model <model>` prints;
    None when the model has no exportable pool."""
    rows = warehouse.query_arrow(EXPORT_SQL, {"model": model}).to_pylist()
    if not rows:
        return None
    return json.dumps(export(rows, output_format, model), indent=2)
