"""Page shown for unknown paths (left out of the navigation)."""

import dash
from dash import dcc, html

dash.register_page(__name__, path="/404")


def layout(**_query: str) -> html.Div:
    return html.Div(
        [html.H2("Page not found"), dcc.Link("Back to the board", href="/")], className="fd-page"
    )
