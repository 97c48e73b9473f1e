"""Layout pieces shared by the pages: navbar, global filters bar, KPI cards, chart frames.

The component ids below are the contract between the app shell (which owns the filters
and the filter store) and the pages (which read the store).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dash import dcc, html

from dashboard.data import FilterOptions, Filters
from dashboard.url_state import PRESET_LABELS, REFRESH_LABELS, REFRESH_OFF, window_note

FILTER_STORE_ID = "filters-store"
DATE_RANGE_ID = "filter-dates"
PROVIDER_FILTER_ID = "filter-providers"
MODEL_FILTER_ID = "filter-models"
APP_FILTER_ID = "filter-apps"
RANGE_PRESET_ID = "filter-range"
REFRESH_ID = "filter-refresh"
WINDOW_NOTE_ID = "filter-window"
REFRESH_TIMER_ID = "refresh-timer"
# The shell's own location: chart clicks navigate by setting its `href`.
URL_ID = "url"
URL_QUERY_ID = "url-query"
URL_WRITTEN_ID = "url-written"
# The last pointer position on a chart (client coordinates), set by assets/client.js.
POINTER_ID = "chart-pointer"

NOT_FOUND_MODULE_SUFFIX = "not_found_404"

GRAPH_CONFIG = {"displaylogo": False, "responsive": True}


def navbar(
    title: str, pages: Iterable[dict[str, Any]], account: html.Div | None = None
) -> html.Header:
    """Brand plus one link per registered page (the 404 page excluded), then the signed-in
    user's `account` menu when sign-in is on."""
    links = [
        dcc.Link(page["name"], href=page["relative_path"], className="nav-link")
        for page in pages
        if not page["module"].endswith(NOT_FOUND_MODULE_SUFFIX)
    ]
    parts: list[Any] = [html.Span(title, className="brand"), html.Nav(links, className="nav-links")]
    if account is not None:
        parts.append(account)
    return html.Header(parts, className="navbar")


def account_menu(name: str, *, can_sign_out: bool) -> html.Div:
    """The user's name and a sign-out button (a POST, so no link can sign anyone out);
    users signed in by the reverse proxy sign out there."""
    parts: list[Any] = [html.Span(name, id="nav-user", className="nav-user")]
    if can_sign_out:
        button = html.Button("Sign out", id="nav-signout", type="submit", className="nav-signout")
        parts.append(
            html.Form(button, method="post", action="/logout", className="nav-signout-form")
        )
    return html.Div(parts, className="nav-account")


def _multi_select(component_id: str, label: str, values: tuple[str, ...]) -> html.Div:
    return html.Div(
        [
            html.Label(label, htmlFor=component_id, className="filter-label"),
            dcc.Dropdown(
                id=component_id,
                options=[{"label": value, "value": value} for value in values],
                value=[],
                multi=True,
                placeholder=f"All {label.lower()}s",
            ),
        ],
        className="filter",
    )


def _range_presets(selected: Filters) -> html.Div:
    return html.Div(
        [
            html.Span("Range", className="filter-label"),
            dcc.RadioItems(
                id=RANGE_PRESET_ID,
                options=[{"label": label, "value": key} for key, label in PRESET_LABELS.items()],
                value=selected.preset,
                inline=True,
                className="range-presets",
            ),
            html.Span(
                window_note(selected),
                id=WINDOW_NOTE_ID,
                className="filter-window",
                title="Pages built from daily tables show the whole UTC days the range "
                "touches; the Requests page uses the exact range.",
            ),
        ],
        className="filter filter-range",
    )


def _refresh_picker() -> html.Div:
    return html.Div(
        [
            html.Label("Auto-refresh", htmlFor=REFRESH_ID, className="filter-label"),
            dcc.Dropdown(
                id=REFRESH_ID,
                options=[{"label": label, "value": key} for key, label in REFRESH_LABELS.items()],
                value=REFRESH_OFF,
                clearable=False,
                searchable=False,
            ),
        ],
        className="filter filter-refresh",
    )


def filters_bar(options: FilterOptions, selected: Filters) -> html.Div:
    """Range presets, date range, provider/model/app multi-selects (empty means "all") and
    auto-refresh."""
    return html.Div(
        [
            _range_presets(selected),
            html.Div(
                [
                    html.Label("Date range", htmlFor=DATE_RANGE_ID, className="filter-label"),
                    dcc.DatePickerRange(
                        id=DATE_RANGE_ID,
                        start_date=selected.start.isoformat(),
                        end_date=selected.end.isoformat(),
                        min_date_allowed=options.first_day and options.first_day.isoformat(),
                        max_date_allowed=options.last_day and options.last_day.isoformat(),
                        display_format="YYYY-MM-DD",
                        first_day_of_week=1,
                    ),
                ],
                className="filter filter-dates",
            ),
            _multi_select(PROVIDER_FILTER_ID, "Provider", options.providers),
            _multi_select(MODEL_FILTER_ID, "Model", options.models),
            _multi_select(APP_FILTER_ID, "App", options.apps),
            _refresh_picker(),
        ],
        className="filters-bar",
    )


def kpi_card(kpi_id: str, label: str) -> html.Div:
    """A headline number; a callback fills `<kpi_id>-value` and `<kpi_id>-detail`."""
    return html.Div(
        [
            html.Div(label, className="kpi-label"),
            html.Div(id=f"{kpi_id}-value", className="kpi-value"),
            html.Div(id=f"{kpi_id}-detail", className="kpi-detail"),
        ],
        id=kpi_id,
        className="kpi-card",
    )


def chart(graph_id: str) -> html.Div:
    return html.Div(dcc.Graph(id=graph_id, config=GRAPH_CONFIG), className="chart-card")


def table(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> html.Table:
    """A plain data table: one header row, then one row per item of `rows`."""
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(header) for header in headers])),
            html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows]),
        ],
        className="data-table",
    )


def no_data_message(message_id: str) -> html.Div:
    return html.Div(
        [
            html.Strong("No data for this selection."),
            html.Span(" Widen the date range or clear some filters."),
        ],
        id=message_id,
        className="no-data",
        hidden=True,
    )


def format_percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def format_count(value: int) -> str:
    return f"{value:,}"


def format_compact(value: int) -> str:
    """Token-sized numbers for one glance: 950, 12.7k, 37.2M, 1.5B."""
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"{value / threshold:.1f}{suffix}"
    return str(value)
