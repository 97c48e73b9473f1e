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

import dash
from dash import dcc, html

from dashboard.auth import DashboardAccess
from dashboard.auth.guard import current_user, install, signed_in_by_proxy
from dashboard.components import (
    FILTER_STORE_ID,
    POINTER_ID,
    REFRESH_TIMER_ID,
    URL_ID,
    URL_QUERY_ID,
    URL_WRITTEN_ID,
    account_menu,
    filters_bar,
    navbar,
)
from dashboard.data import FilterOptions, filter_options
from dashboard.filter_sync import register_filter_sync, url_query_state
from dashboard.scoped_warehouse import ScopedWarehouse
from dashboard.url_state import REFRESH_MS, REFRESH_OFF
from warehouse.db import Warehouse

PAGES_DIR = Path(__file__).parent / "pages"
ASSETS_DIR = Path(__file__).parent / "assets"


def create_app(
    warehouse: Warehouse, *, title: str = "gatewatch", access: DashboardAccess | None = None
) -> dash.Dash:
    """With `access`, every route needs a signed-in user and every query reads what that
    user may see (`dashboard.auth`, `dashboard.scoped_warehouse`)."""
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
    if access is not None:
        install(app.server, access.sign_in, access.secret_key)
        warehouse = ScopedWarehouse(warehouse, access.scopes, current_user)

    def account() -> html.Div | None:
        user = current_user() if access is not None else None
        if user is None:
            return None
        return account_menu(user.name, can_sign_out=not signed_in_by_proxy())

    def layout() -> html.Div:
        # Built per page load so new providers, models and days show up without a restart.
        # Dash also builds it to learn the ids (at startup, before the sign-in page): no
        # user then, so no data.
        signed_in = access is None or current_user() is not None
        options = filter_options(warehouse) if signed_in else FilterOptions(None, None)
        selected = options.default_filters()
        return html.Div(
            [
                dcc.Location(id=URL_ID, refresh="callback-nav"),
                navbar(title, pages, account()),
                filters_bar(options, selected),
                dcc.Store(id=FILTER_STORE_ID, data=selected.to_store()),
                dcc.Store(id=URL_QUERY_ID, data=url_query_state(selected, REFRESH_OFF)),
                dcc.Store(id=URL_WRITTEN_ID),
                dcc.Store(id=POINTER_ID),
                dcc.Interval(id=REFRESH_TIMER_ID, interval=REFRESH_MS["1m"], disabled=True),
                html.Main(dash.page_container, className="page"),
            ],
            className="app-shell",
        )

    app.layout = layout
    register_filter_sync(app)
    for page in pages:
        register = getattr(sys.modules.get(page["module"]), "register_callbacks", None)
        if register is not None:
            register(app, warehouse)
    return app
