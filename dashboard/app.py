"""The Dash app factory: shell layout (navbar, global filters, filter store) plus the pages.

The warehouse is injected, never global. Dash re-executes every module in `pages/` each
time an app is created; a page module that defines `register_callbacks(app, warehouse)`
gets its callbacks bound to that app with `app.callback`, so two apps over two warehouses
can live in one process (tests do this). `dash.page_registry` itself is process-global:
page layouts must therefore not depend on the warehouse (they are filled by callbacks).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, dcc, html, no_update

from dashboard.components import (
    APP_FILTER_ID,
    DATE_RANGE_ID,
    FILTER_STORE_ID,
    MODEL_FILTER_ID,
    PROVIDER_FILTER_ID,
    filters_bar,
    navbar,
)
from dashboard.data import Filters, filter_options
from warehouse.db import Warehouse

PAGES_DIR = Path(__file__).parent / "pages"
ASSETS_DIR = Path(__file__).parent / "assets"


def create_app(warehouse: Warehouse, *, title: str = "gatewatch") -> dash.Dash:
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(PAGES_DIR),
        assets_folder=str(ASSETS_DIR),
        title=title,
        update_title=None,
    )
    # Snapshot now: the registry is shared with apps created later in the same process.
    pages = list(dash.page_registry.values())

    def layout() -> html.Div:
        # Built per page load so new providers, models and days show up without a restart.
        options = filter_options(warehouse)
        selected = options.default_filters()
        return html.Div(
            [
                navbar(title, pages),
                filters_bar(options, selected),
                dcc.Store(id=FILTER_STORE_ID, data=selected.to_store()),
                html.Main(dash.page_container, className="page"),
            ],
            className="app-shell",
        )

    app.layout = layout
    _register_filter_store(app)
    for page in pages:
        register = getattr(sys.modules.get(page["module"]), "register_callbacks", None)
        if register is not None:
            register(app, warehouse)
    return app


def _register_filter_store(app: dash.Dash) -> None:
    @app.callback(
        Output(FILTER_STORE_ID, "data"),
        Input(DATE_RANGE_ID, "start_date"),
        Input(DATE_RANGE_ID, "end_date"),
        Input(PROVIDER_FILTER_ID, "value"),
        Input(MODEL_FILTER_ID, "value"),
        Input(APP_FILTER_ID, "value"),
        prevent_initial_call=True,
    )
    def store_filters(
        start: str | None,
        end: str | None,
        providers: list[str] | None,
        models: list[str] | None,
        apps: list[str] | None,
    ) -> dict[str, Any]:
        # Half-picked ranges keep the previous selection until both ends are set.
        if not start or not end:
            return no_update
        return Filters.from_store(
            {"start": start, "end": end, "providers": providers, "models": models, "apps": apps}
        ).to_store()
