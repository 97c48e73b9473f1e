"""Shown by Dash for any path no page claims (Dash looks this module up by its name)."""

from __future__ import annotations

import dash
from dash import dcc, html

dash.register_page(__name__, path="/404", name="Not found", title="Not found · gatewatch")


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H1("Page not found"),
            html.P("There is no dashboard page at this address."),
            dcc.Link("Back to the overview", href="/"),
        ],
        className="not-found",
    )
