"""One callback owns the global filters: the controls, the filter store, the auto-refresh
timer and the URL query all follow from it, so they never disagree.

It fires when the address changes (a shared link, a chart click, back/forward), when a
control changes, and on every auto-refresh tick (which moves a preset's range to now). The
address bar is then rewritten client-side with `history.replaceState`, which leaves
`dcc.Location` alone: writing it through a Location would render the page again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import dash
from dash import ClientsideFunction, Input, Output, State, ctx, no_update

from dashboard.components import (
    APP_FILTER_ID,
    DATE_RANGE_ID,
    FILTER_STORE_ID,
    MODEL_FILTER_ID,
    PROVIDER_FILTER_ID,
    RANGE_PRESET_ID,
    REFRESH_ID,
    REFRESH_TIMER_ID,
    URL_ID,
    URL_QUERY_ID,
    URL_WRITTEN_ID,
    WINDOW_NOTE_ID,
)
from dashboard.data import Filters
from dashboard.url_state import (
    GLOBAL_KEYS,
    PRESETS,
    REFRESH_MS,
    REFRESH_OFF,
    encode,
    filters_from_query,
    filters_query,
    now_utc,
    parse_query,
    refresh_from_query,
    window_note,
    with_days,
    with_preset,
)

_OUTPUTS = 12


def url_query_state(filters: Filters, refresh: str) -> dict[str, Any]:
    """What the client-side writer puts in the address bar: the keys it owns and their values."""
    return {"keys": list(GLOBAL_KEYS), "query": encode(filters_query(filters, refresh))}


def _next_filters(
    trigger: str | None, values: dict[str, Any], current: Filters
) -> tuple[Filters, str] | None:
    """The selection after `trigger` changed, with the refresh period; None = nothing to do."""
    refresh = values["refresh"] or REFRESH_OFF
    if trigger in (None, URL_ID):
        query = parse_query(values["search"])
        if not any(key in query for key in GLOBAL_KEYS):
            return None  # a bare link (the navbar's): keep the selection, the writer restores it
        return filters_from_query(query, current, now_utc()), refresh_from_query(query) or refresh
    if trigger == RANGE_PRESET_ID:
        preset = values["preset"]
        if preset in PRESETS:
            return with_preset(current, preset, now_utc()), refresh
        return with_days(current, current.start, current.end), refresh
    if trigger == DATE_RANGE_ID:
        # Half-picked ranges keep the previous selection until both ends are set.
        if not values["start"] or not values["end"]:
            return None
        start, end = (date.fromisoformat(values[key][:10]) for key in ("start", "end"))
        return with_days(current, start, end), refresh
    if trigger == REFRESH_TIMER_ID and current.preset in PRESETS:
        return with_preset(current, current.preset, now_utc()), refresh
    lists = {key: tuple(values[key] or ()) for key in ("providers", "models", "apps")}
    return replace(current, **lists), refresh


def register_filter_sync(app: dash.Dash) -> None:
    @app.callback(
        Output(RANGE_PRESET_ID, "value"),
        Output(DATE_RANGE_ID, "start_date"),
        Output(DATE_RANGE_ID, "end_date"),
        Output(PROVIDER_FILTER_ID, "value"),
        Output(MODEL_FILTER_ID, "value"),
        Output(APP_FILTER_ID, "value"),
        Output(REFRESH_ID, "value"),
        Output(REFRESH_TIMER_ID, "disabled"),
        Output(REFRESH_TIMER_ID, "interval"),
        Output(FILTER_STORE_ID, "data"),
        Output(URL_QUERY_ID, "data"),
        Output(WINDOW_NOTE_ID, "children"),
        Input(URL_ID, "search"),
        Input(RANGE_PRESET_ID, "value"),
        Input(DATE_RANGE_ID, "start_date"),
        Input(DATE_RANGE_ID, "end_date"),
        Input(PROVIDER_FILTER_ID, "value"),
        Input(MODEL_FILTER_ID, "value"),
        Input(APP_FILTER_ID, "value"),
        Input(REFRESH_ID, "value"),
        Input(REFRESH_TIMER_ID, "n_intervals"),
        State(FILTER_STORE_ID, "data"),
    )
    def sync_filters(
        search: str | None,
        preset: str | None,
        start: str | None,
        end: str | None,
        providers: list[str] | None,
        models: list[str] | None,
        apps: list[str] | None,
        refresh: str | None,
        ticks: int | None,
        stored: dict[str, Any],
    ) -> list[Any]:
        values = {
            "search": search,
            "preset": preset,
            "start": start,
            "end": end,
            "providers": providers,
            "models": models,
            "apps": apps,
            "refresh": refresh,
        }
        current = Filters.from_store(stored)
        trigger = ctx.triggered_id
        found = _next_filters(trigger, values, current)
        if found is None:
            return [no_update] * _OUTPUTS
        filters, period = found
        unchanged = filters == current and period == stored.get("refresh", REFRESH_OFF)
        if unchanged and trigger != REFRESH_TIMER_ID:
            return [no_update] * _OUTPUTS
        return [
            filters.preset,
            filters.start.isoformat(),
            filters.end.isoformat(),
            list(filters.providers),
            list(filters.models),
            list(filters.apps),
            period,
            period not in REFRESH_MS,
            REFRESH_MS.get(period, REFRESH_MS["1m"]),
            # The tick count makes each refresh a new value, so every page reads again.
            {**filters.to_store(), "refresh": period, "refreshed": ticks or 0},
            url_query_state(filters, period),
            window_note(filters),
        ]

    app.clientside_callback(
        ClientsideFunction(namespace="gatewatch", function_name="writeQuery"),
        Output(URL_WRITTEN_ID, "data"),
        Input(URL_QUERY_ID, "data"),
        Input(URL_ID, "pathname"),
    )
