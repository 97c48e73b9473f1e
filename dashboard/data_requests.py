"""Queries of the request explorer: rows of `requests` (metadata only; the table holds no
prompt or completion content), filtered, sorted and paginated in the warehouse.

A time window is always applied (the global range, as a half-open UTC range on
`started_at`), so a page reads only the row groups of that window. A page is LIMIT/OFFSET
in the chosen order with the row's storage position (`rowid`; rows are only appended)
breaking ties, so pages never overlap or skip rows. The ordering runs over the sort key and
`rowid` alone and only the page's rows are then read whole: a page deep in 10 M rows would
otherwise carry every column of all the rows before it through the sort. Sort columns come
from a fixed list, and every value reaches the SQL as a `$parameter`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from dashboard.data import Filters
from warehouse.db import Warehouse

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000
SIBLINGS_LIMIT = 1_000

ToolCalls = Literal["any", "yes", "no"]

# Sort keys offered to users, mapped to the SQL they order by.
SORT_COLUMNS = {
    "started_at": "started_at",
    "duration_ms": "duration_ms",
    "ttft_ms": "ttft_ms",
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cost_usd": "cost_usd",
    "estimated_cost_usd": "estimated_cost_usd",
}

FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "error", "cancelled", "other")
STATUSES = ("ok", "error")

# What the explorer shows and exports, in display order; never any content.
COLUMNS = (
    "started_at",
    "provider",
    "model",
    "app",
    "tenant",
    "status",
    "error_type",
    "finish_reason",
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cached_input_tokens",
    "tool_calls",
    "duration_ms",
    "ttft_ms",
    "cost_usd",
    "estimated_cost_usd",  # from the price table, never reported (docs/cost.md)
    "request_id",
    "trace_id",
)
_SELECT = ", ".join(COLUMNS)

PAGE_SQL = f"""
SELECT {_SELECT}
FROM requests
WHERE rowid IN (
    SELECT rowid
    FROM requests
    WHERE {{where}}
    ORDER BY {{order}}
    LIMIT $limit OFFSET $offset
)
ORDER BY {{order}}
"""

COUNT_SQL = """
SELECT count(*) AS requests
FROM requests
WHERE {where}
"""

# A trace's requests may fall outside the filtered window, so siblings ignore the filters.
SIBLINGS_SQL = f"""
SELECT {_SELECT}
FROM requests
WHERE trace_id = $trace_id
ORDER BY started_at, request_id
LIMIT $limit
"""

TENANTS_SQL = """
SELECT DISTINCT tenant
FROM requests
WHERE started_at >= $since AND started_at < $until AND tenant IS NOT NULL
ORDER BY tenant
"""


@dataclass(frozen=True, slots=True)
class RequestQuery:
    """The global filters plus the explorer's own; empty tuples and None mean "any"."""

    filters: Filters
    tenants: tuple[str, ...] = ()
    finish_reasons: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    tool_calls: ToolCalls = "any"
    min_ms: float | None = None
    max_ms: float | None = None
    sort: str = "started_at"
    descending: bool = True
    page: int = 1
    page_size: int = field(default=PAGE_SIZE)


def where(query: RequestQuery) -> tuple[str, dict[str, Any]]:
    """The WHERE clause and its parameters: the window always, each other filter when set."""
    since, until = query.filters.window()
    clauses = ["started_at >= $since", "started_at < $until"]
    params: dict[str, Any] = {"since": since, "until": until}
    # The global options come from the metric tables, which name a NULL key 'unknown'.
    for name, column, values in (
        ("providers", "provider", query.filters.providers),
        ("models", "model", query.filters.models),
        ("apps", "app", query.filters.apps),
    ):
        if values:
            clauses.append(f"list_contains(${name}, coalesce({column}, 'unknown'))")
            params[name] = list(values)
    for name, column, values in (
        ("tenants", "tenant", query.tenants),
        ("finish_reasons", "finish_reason", query.finish_reasons),
        ("statuses", "status", query.statuses),
    ):
        if values:
            clauses.append(f"list_contains(${name}, {column})")
            params[name] = list(values)
    if query.tool_calls == "yes":
        clauses.append("tool_calls > 0")
    elif query.tool_calls == "no":
        clauses.append("tool_calls = 0")
    if query.min_ms is not None:
        clauses.append("duration_ms >= $min_ms")
        params["min_ms"] = query.min_ms
    if query.max_ms is not None:
        clauses.append("duration_ms <= $max_ms")
        params["max_ms"] = query.max_ms
    return " AND ".join(clauses), params


def _order(query: RequestQuery) -> str:
    direction = "DESC" if query.descending else "ASC"
    column = SORT_COLUMNS.get(query.sort, "started_at")
    return f"{column} {direction} NULLS LAST, rowid {direction}"


def count_requests(warehouse: Warehouse, query: RequestQuery) -> int:
    clause, params = where(query)
    return int(warehouse.query_df(COUNT_SQL.format(where=clause), params)["requests"][0])


def page_count(total: int, page_size: int = PAGE_SIZE) -> int:
    """Pages needed for `total` rows; an empty selection still has one (empty) page."""
    return max(1, -(-total // page_size))


def request_page(warehouse: Warehouse, query: RequestQuery) -> pl.DataFrame:
    """The rows of page `query.page` (1-based) in the chosen order."""
    clause, params = where(query)
    sql = PAGE_SQL.format(where=clause, order=_order(query))
    offset = (max(1, query.page) - 1) * query.page_size
    return warehouse.query_df(sql, {**params, "limit": query.page_size, "offset": offset})


def export_rows(warehouse: Warehouse, query: RequestQuery) -> pl.DataFrame:
    """The first `EXPORT_LIMIT` rows of the filter, in the chosen order (for CSV export)."""
    clause, params = where(query)
    sql = PAGE_SQL.format(where=clause, order=_order(query))
    return warehouse.query_df(sql, {**params, "limit": EXPORT_LIMIT, "offset": 0})


def trace_siblings(warehouse: Warehouse, trace_id: str) -> pl.DataFrame:
    """Every request of one trace, oldest first (at most `SIBLINGS_LIMIT`)."""
    return warehouse.query_df(SIBLINGS_SQL, {"trace_id": trace_id, "limit": SIBLINGS_LIMIT})


def tenants(warehouse: Warehouse, filters: Filters) -> tuple[str, ...]:
    """Tenants with requests in the window, for the tenant filter's options."""
    since, until = filters.window()
    rows = warehouse.query_df(TENANTS_SQL, {"since": since, "until": until})
    return tuple(rows["tenant"].to_list())
