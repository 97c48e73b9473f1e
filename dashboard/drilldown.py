"""From a chart to the requests behind it: clicked points become request-explorer links.

A page registers a handler per chart; a click turns the clicked point (its trace's name, x
and y) and the current filters into `/requests?…` with the point's filters, and the shell's
`dcc.Location` navigates there without reloading the app.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dash
from dash import Input, Output, State, no_update

from dashboard.components import FILTER_STORE_ID, URL_ID
from dashboard.data import Filters
from dashboard.url_state import encode, filters_query, with_days, with_window

EXPLORER_PATH = "/requests"
# The explorer's own query keys (the global ones are in `dashboard.url_state`).
EXPLORER_KEYS = (
    "tenant",
    "finish_reason",
    "status",
    "tool_calls",
    "min_ms",
    "max_ms",
    "sort",
    "dir",
    "page",
)


@dataclass(frozen=True, slots=True)
class Point:
    """A clicked point: its trace's name, its x and y (strings as Plotly sends them)."""

    series: str
    x: Any
    y: Any


def explorer_href(filters: Filters, **explorer: str | Sequence[str]) -> str:
    """The explorer's URL for `filters` plus explorer filters (`status="ok"`, ...)."""
    pairs = filters_query(filters)
    for key, value in explorer.items():
        pairs += [(key, v) for v in ([value] if isinstance(value, str) else value)]
    return f"{EXPLORER_PATH}?{encode(pairs)}"


def clicked(click_data: dict[str, Any] | None, figure: dict[str, Any] | None) -> Point | None:
    if not click_data or not click_data.get("points") or not figure:
        return None
    point = click_data["points"][0]
    traces = figure.get("data") or []
    curve = point.get("curveNumber", 0)
    name = traces[curve].get("name") if curve < len(traces) else None
    return Point(series=name or "", x=point.get("x"), y=point.get("y"))


def timestamp(value: str) -> datetime:
    """A Plotly date string ("2026-02-03" or "2026-02-03 09:00") as a UTC datetime."""
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def on_day(filters: Filters, value: str) -> Filters:
    """`filters` narrowed to the day of a clicked daily point."""
    day: date = timestamp(value).date()
    return with_days(filters, day, day)


def in_bucket(filters: Filters, value: str, width: timedelta) -> Filters:
    """`filters` narrowed to the bucket of `width` starting at a clicked point."""
    since = timestamp(value)
    return with_window(filters, since, since + width)


def only(filters: Filters, **keys: str) -> Filters:
    """`filters` restricted to one provider, model or app (`provider="openai"`)."""
    return replace(filters, **{f"{key}s": (value,) for key, value in keys.items()})


Handler = Callable[..., str | None]


def link_chart(app: dash.Dash, graph_id: str, handler: Handler, *states: State) -> None:
    """Navigate to `handler(point, filters, *state_values)` when a point of `graph_id` is
    clicked; a handler returning None (a point with no requests to show) stays put."""

    @app.callback(
        Output(URL_ID, "href", allow_duplicate=True),
        Input(graph_id, "clickData"),
        State(graph_id, "figure"),
        State(FILTER_STORE_ID, "data"),
        *states,
        prevent_initial_call=True,
    )
    def follow_click(
        click_data: dict[str, Any] | None,
        figure: dict[str, Any] | None,
        filters_data: dict[str, Any],
        *state_values: Any,
    ) -> Any:
        point = clicked(click_data, figure)
        if point is None:
            return no_update
        href = handler(point, Filters.from_store(filters_data), *state_values)
        return no_update if href is None else href
