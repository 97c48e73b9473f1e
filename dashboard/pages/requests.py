"""Request explorer: the rows of `requests` behind every chart, filtered, sorted and paged
in the warehouse, a request's trace siblings together, and a CSV export of the filter."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import dash
import polars as pl
from dash import ALL, ClientsideFunction, Input, Output, State, ctx, dcc, html, no_update

from dashboard.components import FILTER_STORE_ID
from dashboard.data import CUSTOM, Filters
from dashboard.data_requests import (
    EXPORT_LIMIT,
    FINISH_REASONS,
    PAGE_SIZE,
    SORT_COLUMNS,
    STATUSES,
    RequestQuery,
    count_requests,
    export_rows,
    page_count,
    request_page,
    tenants,
    trace_siblings,
)
from dashboard.drilldown import EXPLORER_KEYS
from dashboard.explorer_table import SORT_LABELS, requests_table, siblings_panel
from dashboard.url_state import encode
from warehouse.db import Warehouse

dash.register_page(
    __name__, path="/requests", name="Requests", title="Requests · gatewatch", order=6
)

TENANT_ID = "explorer-tenant"
FINISH_ID = "explorer-finish"
STATUS_ID = "explorer-status"
TOOL_CALLS_ID = "explorer-tool-calls"
MIN_MS_ID = "explorer-min-ms"
MAX_MS_ID = "explorer-max-ms"
SORT_ID = "explorer-sort"
DIRECTION_ID = "explorer-direction"
PREV_ID = "explorer-prev"
NEXT_ID = "explorer-next"
SUMMARY_ID = "explorer-summary"
TABLE_ID = "explorer-table-panel"
STATE_ID = "explorer-state"
ROWS_ID = "explorer-rows"
TRACE_ID = "explorer-trace"
TRACE_PANEL_ID = "explorer-trace-panel"
EXPORT_ID = "explorer-export"
DOWNLOAD_ID = "explorer-download"
URL_STATE_ID = "explorer-url"
URL_TRACE_ID = "explorer-url-trace"
URL_WRITTEN_ID = "explorer-url-written"
URL_TRACE_WRITTEN_ID = "explorer-url-trace-written"
ROW_TYPE = "explorer-row"

TOOL_CALL_OPTIONS = {"any": "any", "yes": "with tool calls", "no": "none"}
CONTROL_IDS = (TENANT_ID, FINISH_ID, STATUS_ID, TOOL_CALLS_ID, MIN_MS_ID, MAX_MS_ID, SORT_ID)


def _many(query: dict[str, Any], key: str) -> list[str]:
    value = query.get(key)
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _one(query: dict[str, Any], key: str, allowed: Any, default: str) -> str:
    value = _many(query, key)
    return value[0] if value and value[0] in allowed else default


def _number(query: dict[str, Any], key: str) -> float | None:
    try:
        value = float(_many(query, key)[0])
    except (IndexError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _labelled(label: str, control: Any, control_id: str) -> html.Div:
    return html.Div(
        [html.Label(label, htmlFor=control_id, className="filter-label"), control],
        className="filter",
    )


def _multi(component_id: str, label: str, values: list[str], options: Any = ()) -> html.Div:
    dropdown = dcc.Dropdown(
        id=component_id,
        options=[{"label": o, "value": o} for o in options] or values,
        value=values,
        multi=True,
        placeholder="any",
    )
    return _labelled(label, dropdown, component_id)


def _controls(query: dict[str, Any]) -> html.Div:
    def latency(component_id: str, key: str, placeholder: str) -> dcc.Input:
        return dcc.Input(
            id=component_id,
            type="number",
            min=0,
            value=_number(query, key),
            placeholder=placeholder,
            debounce=True,
            className="number-input",
        )

    return html.Div(
        [
            _multi(TENANT_ID, "Tenant", _many(query, "tenant")),
            _multi(FINISH_ID, "Finish reason", _many(query, "finish_reason"), FINISH_REASONS),
            _multi(STATUS_ID, "Status", _many(query, "status"), STATUSES),
            _labelled(
                "Tool calls",
                dcc.RadioItems(
                    id=TOOL_CALLS_ID,
                    options=[{"label": v, "value": k} for k, v in TOOL_CALL_OPTIONS.items()],
                    value=_one(query, "tool_calls", TOOL_CALL_OPTIONS, "any"),
                    inline=True,
                ),
                TOOL_CALLS_ID,
            ),
            html.Div(
                [
                    html.Span("Duration (ms)", className="filter-label"),
                    html.Div(
                        [latency(MIN_MS_ID, "min_ms", "min"), latency(MAX_MS_ID, "max_ms", "max")],
                        className="range-inputs",
                    ),
                ],
                className="filter",
            ),
            _labelled(
                "Sort by",
                html.Div(
                    [
                        dcc.Dropdown(
                            id=SORT_ID,
                            options=[{"label": v, "value": k} for k, v in SORT_LABELS.items()],
                            value=_one(query, "sort", SORT_COLUMNS, "started_at"),
                            clearable=False,
                            searchable=False,
                        ),
                        dcc.RadioItems(
                            id=DIRECTION_ID,
                            options=[
                                {"label": "desc", "value": "desc"},
                                {"label": "asc", "value": "asc"},
                            ],
                            value=_one(query, "dir", ("asc", "desc"), "desc"),
                            inline=True,
                        ),
                    ],
                    className="sort-controls",
                ),
                SORT_ID,
            ),
        ],
        className="explorer-filters",
    )


def layout(**query: Any) -> html.Div:
    page = _number(query, "page")
    return html.Div(
        [
            html.Div(html.H1("Requests"), className="page-header"),
            html.P(
                "One row per request attempt: metadata only, never prompt or completion "
                "content. The range and the provider, model and app filters above apply; "
                "times are UTC. Click a row to see every request of its trace.",
                className="page-note",
            ),
            _controls(query),
            html.Div(
                [
                    html.Span(id=SUMMARY_ID, className="explorer-summary"),
                    html.Button("‹ Previous", id=PREV_ID, className="pager-button"),
                    html.Button("Next ›", id=NEXT_ID, className="pager-button"),
                    html.Button(
                        "Export CSV",
                        id=EXPORT_ID,
                        className="pager-button",
                        title=f"The current filter in this order, first {EXPORT_LIMIT:,} rows",
                    ),
                    html.Span(f"CSV: first {EXPORT_LIMIT:,} rows", className="page-note"),
                    dcc.Download(id=DOWNLOAD_ID),
                ],
                className="explorer-pager",
            ),
            html.Div(id=TABLE_ID, className="table-card explorer-table"),
            html.Div(id=TRACE_PANEL_ID),
            # The page a shared link names is kept until the filters change.
            dcc.Store(id=STATE_ID, data={"signature": None, "page": int(page or 1)}),
            dcc.Store(id=ROWS_ID),
            dcc.Store(id=TRACE_ID, data={"trace_id": (_many(query, "trace") or [None])[0]}),
            dcc.Store(id=URL_STATE_ID),
            dcc.Store(id=URL_TRACE_ID),
            dcc.Store(id=URL_WRITTEN_ID),
            dcc.Store(id=URL_TRACE_WRITTEN_ID),
        ]
    )


def _request_query(
    filters_data: dict[str, Any], controls: tuple[Any, ...], direction: str, page: int = 1
) -> RequestQuery:
    tenant, finish, status, tool_calls, min_ms, max_ms, sort = controls
    return RequestQuery(
        filters=Filters.from_store(filters_data),
        tenants=tuple(tenant or ()),
        finish_reasons=tuple(finish or ()),
        statuses=tuple(status or ()),
        tool_calls=tool_calls or "any",
        min_ms=min_ms,
        max_ms=max_ms,
        sort=sort or "started_at",
        descending=direction != "asc",
        page=page,
    )


def _signature(query: RequestQuery) -> list[Any]:
    """What decides the rows; a preset counts by name, so an auto-refresh keeps the page."""
    f = query.filters
    when = [f.preset] if f.preset != CUSTOM else [f.start, f.end, f.since, f.until]
    keys = [f.providers, f.models, f.apps, query.tenants, query.finish_reasons, query.statuses]
    rest = [query.tool_calls, query.min_ms, query.max_ms, query.sort, query.descending]
    return [str(value) for value in (*when, *keys, *rest)]


def _url_pairs(query: RequestQuery) -> list[tuple[str, str]]:
    pairs = [("tenant", t) for t in query.tenants]
    pairs += [("finish_reason", r) for r in query.finish_reasons]
    pairs += [("status", s) for s in query.statuses]
    for key, value, default in (
        ("tool_calls", query.tool_calls, "any"),
        ("min_ms", query.min_ms, None),
        ("max_ms", query.max_ms, None),
        ("sort", query.sort, "started_at"),
        ("dir", "desc" if query.descending else "asc", "desc"),
        ("page", query.page, 1),
    ):
        if value != default:
            pairs.append((key, f"{value:g}" if isinstance(value, float) else str(value)))
    return pairs


def _next_page(trigger: Any, state: dict[str, Any], signature: list[Any], pages: int) -> int:
    page = int(state.get("page") or 1)
    if trigger == PREV_ID:
        page -= 1
    elif trigger == NEXT_ID:
        page += 1
    elif state.get("signature") not in (None, signature):
        page = 1  # new filters start at the first page
    return min(max(page, 1), pages)


def register_callbacks(app: dash.Dash, warehouse: Warehouse) -> None:
    controls = [Input(control_id, "value") for control_id in CONTROL_IDS]

    @app.callback(
        Output(TABLE_ID, "children"),
        Output(SUMMARY_ID, "children"),
        Output(PREV_ID, "disabled"),
        Output(NEXT_ID, "disabled"),
        Output(STATE_ID, "data"),
        Output(ROWS_ID, "data"),
        Output(URL_STATE_ID, "data"),
        Input(FILTER_STORE_ID, "data"),
        *controls,
        Input(DIRECTION_ID, "value"),
        Input(PREV_ID, "n_clicks"),
        Input(NEXT_ID, "n_clicks"),
        State(STATE_ID, "data"),
    )
    def update_requests(filters_data: dict[str, Any], *values: Any) -> list[Any]:
        *control_values, direction, _prev, _next, state = values
        query = _request_query(filters_data, tuple(control_values), direction)
        total = count_requests(warehouse, query)
        pages = page_count(total)
        signature = _signature(query)
        page = _next_page(ctx.triggered_id, state, signature, pages)
        query = _request_query(filters_data, tuple(control_values), direction, page)
        rows = request_page(warehouse, query)
        first = (page - 1) * PAGE_SIZE + 1
        summary = (
            f"{first:,}–{first + rows.height - 1:,} of {total:,} requests · page {page:,} of "
            f"{pages:,}"
            if total
            else "No request matches these filters."
        )
        return [
            requests_table(rows, ROW_TYPE),
            summary,
            page <= 1,
            page >= pages,
            {"signature": signature, "page": page},
            rows.select("request_id", "trace_id").rows(),
            {"keys": list(EXPLORER_KEYS), "query": encode(_url_pairs(query))},
        ]

    @app.callback(Output(TENANT_ID, "options"), Input(FILTER_STORE_ID, "data"))
    def tenant_options(filters_data: dict[str, Any]) -> list[str]:
        return list(tenants(warehouse, Filters.from_store(filters_data)))

    @app.callback(
        Output(TRACE_ID, "data"),
        Input({"type": ROW_TYPE, "index": ALL}, "n_clicks"),
        State(ROWS_ID, "data"),
        prevent_initial_call=True,
    )
    def pick_row(clicks: list[int | None], rows: list[list[str | None]] | None) -> Any:
        # New rows (another page) fire this too, with no clicks: keep the shown trace then.
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not rows or not any(clicks):
            return no_update
        request_id, trace_id = rows[trigger["index"]]
        return {"trace_id": trace_id, "request_id": request_id}

    @app.callback(
        Output(TRACE_PANEL_ID, "children"),
        Output(URL_TRACE_ID, "data"),
        Input(TRACE_ID, "data"),
    )
    def show_trace(picked: dict[str, Any] | None) -> list[Any]:
        picked = picked or {}
        trace_id, request_id = picked.get("trace_id"), picked.get("request_id")
        url = {"keys": ["trace"], "query": encode([("trace", trace_id)] if trace_id else [])}
        if not trace_id and not request_id:
            return [None, url]
        rows = trace_siblings(warehouse, trace_id) if trace_id else pl.DataFrame()
        return [siblings_panel(trace_id, request_id, rows), url]

    @app.callback(
        Output(DOWNLOAD_ID, "data"),
        Input(EXPORT_ID, "n_clicks"),
        State(FILTER_STORE_ID, "data"),
        *[State(control_id, "value") for control_id in CONTROL_IDS],
        State(DIRECTION_ID, "value"),
        prevent_initial_call=True,
    )
    def export_csv(_clicks: int, filters_data: dict[str, Any], *values: Any) -> Any:
        *control_values, direction = values
        query = _request_query(filters_data, tuple(control_values), direction)
        since, until = query.filters.window()
        name = f"gatewatch-requests-{_stamp(since)}-{_stamp(until)}.csv"
        return dcc.send_string(export_rows(warehouse, query).write_csv(), name)

    for store_id, written_id in (
        (URL_STATE_ID, URL_WRITTEN_ID),
        (URL_TRACE_ID, URL_TRACE_WRITTEN_ID),
    ):
        app.clientside_callback(
            ClientsideFunction(namespace="gatewatch", function_name="writeQuery"),
            Output(written_id, "data"),
            Input(store_id, "data"),
        )


def _stamp(value: datetime) -> str:
    return f"{value:%Y%m%dT%H%M}"
