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

from dashboard.components import FILTER_STORE_ID, POINTER_ID, URL_ID
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


def _distance(point: dict[str, Any], pointer: dict[str, float]) -> float:
    """Squared pixels from the pointer to a point's hover anchor."""
    box = point.get("bbox")
    if not box:
        return float("inf")
    dx = max(box["x0"] - pointer["x"], 0, pointer["x"] - box["x1"])
    dy = max(box["y0"] - pointer["y"], 0, pointer["y"] - box["y1"])
    return dx * dx + dy * dy


def _segment_under(points: list[dict[str, Any]], y: float) -> dict[str, Any] | None:
    """The stacked bar segment holding screen height `y`: a segment's anchor is its top, and
    it reaches down to the top of the segment below (an empty segment holds nothing). Traces
    stack in order, which orders segments with the same top."""
    bottom = float("inf")
    for point in sorted(points, key=lambda p: (-p["bbox"]["y0"], p.get("curveNumber", 0))):
        top = point["bbox"]["y0"]
        if top <= y < bottom:
            return point
        bottom = top
    return None


def _under_pointer(
    points: list[dict[str, Any]], traces: list[dict[str, Any]], pointer: dict[str, float]
) -> dict[str, Any]:
    """Of the points a unified hover reports (every series at that x), the one clicked."""
    anchored = [p for p in points if p.get("bbox")]
    if not anchored:
        return points[0]
    first = traces[anchored[0].get("curveNumber", 0)] if traces else {}
    if first.get("type") == "bar" and first.get("orientation") != "h":
        segment = _segment_under(anchored, pointer["y"])
        if segment is not None:
            return segment
    # The nearest anchor; of anchors on one spot, one with a value (an empty bar has none).
    return min(anchored, key=lambda p: (_distance(p, pointer), not p.get("y")))


def clicked(
    click_data: dict[str, Any] | None,
    figure: dict[str, Any] | None,
    pointer: dict[str, float] | None = None,
) -> Point | None:
    """The clicked point: the one under the pointer when the click reports several."""
    if not click_data or not click_data.get("points") or not figure:
        return None
    traces = figure.get("data") or []
    points = click_data["points"]
    point = _under_pointer(points, traces, pointer) if pointer else points[0]
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
        State(POINTER_ID, "data"),
        State(FILTER_STORE_ID, "data"),
        *states,
        prevent_initial_call=True,
    )
    def follow_click(
        click_data: dict[str, Any] | None,
        figure: dict[str, Any] | None,
        pointer: dict[str, float] | None,
        filters_data: dict[str, Any],
        *state_values: Any,
    ) -> Any:
        point = clicked(click_data, figure, pointer)
        if point is None:
            return no_update
        href = handler(point, Filters.from_store(filters_data), *state_values)
        return no_update if href is None else href
