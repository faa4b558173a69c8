"""The Dash app: navigation built from ``dash.page_registry``, freshness badge, page container.

Pages live in :mod:`dashboard.pages` (one file per analytic, layout as a function, callbacks that
read the store).  The app reads only from Redis; all CSS/JS is served from ``dashboard/assets``
(no CDN).  ``create_app()`` builds a fresh app; :mod:`dashboard.wsgi` exposes ``server`` for
gunicorn.
"""

from __future__ import annotations

from pathlib import Path

import dash
from dash import Dash, dcc, html

HERE = Path(__file__).resolve().parent


def _nav() -> html.Nav:
    links = [
        dcc.Link(page["name"], href=page["relative_path"], className="fd-nav-link", id=f"nav-{page['module'].rsplit('.', 1)[-1]}")
        for page in sorted(dash.page_registry.values(), key=lambda p: p.get("order", 99))
        if page["module"].rsplit(".", 1)[-1] != "not_found_404" and not page.get("hidden")
    ]
    return html.Nav(links, className="fd-nav")


def create_app() -> Dash:
    """Build the Dash app (pages are imported from ``dashboard/pages``)."""
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        title="flowdesk",
        suppress_callback_exceptions=True,
        serve_locally=True,
    )
    refresh_ms = 30_000
    try:
        from dashboard.data import settings

        refresh_ms = settings().web.refresh_seconds * 1000
    except Exception:  # config problems surface on the Status page, not as a dead app
        pass
    app.layout = html.Div(
        [
            html.Header(
                [
                    html.Div([html.Span("flowdesk", className="fd-brand"), html.Span("mechanical-flow risk", className="fd-tagline")]),
                    _nav(),
                    html.Div(id="freshness-badge", className="fd-badge fd-badge-unknown", children="…"),
                ],
                className="fd-header",
            ),
            dcc.Interval(id="refresh-interval", interval=refresh_ms, n_intervals=0),
            html.Main(dash.page_container, className="fd-main"),
        ],
        className="fd-app",
    )
    return app
