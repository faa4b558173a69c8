"""The Dash app: navigation built from ``dash.page_registry``, freshness badge, page container.

Pages live in :mod:`dashboard.pages` (one file per analytic, layout as a function, callbacks that
read the store).  The app reads only from Redis; all CSS/JS is served from the installed Dash
packages and ``dashboard/assets`` (``serve_locally=True``, no external stylesheet, no CDN), so it
works on a desk without internet access.

``create_app(host=...)`` builds a fresh app.  Settings come from :func:`dashboard.data.settings`
(``FLOWDESK_CONFIG``, else ``config.toml`` in the working directory, else the repository's); to
use other settings, point ``FLOWDESK_CONFIG`` at another file and call
``dashboard.data.settings.cache_clear()`` before ``create_app`` (the tests do this).

Access (see :mod:`dashboard.auth`): when the app is exposed (a non-loopback ``host``,
``production=True`` as under gunicorn, or ``web.require_login = "always"``; never with
``"never"``) every route but ``/healthz`` requires credentials, and an exposed app without any
configured credentials refuses to start.

The JSON/CSV/Arrow API (:mod:`dashboard.api`) is served by the same Flask server.

Under the header a service banner (:func:`banner_state`) says when Redis is unreachable (pages
then show the last results this process read, marked stale; see :mod:`dashboard.data`) and,
while ``flowdesk run``'s first refresh is running, how far it is (jobs done of all, the current
job, a progress bar, refreshed every 2 s only while it runs), so the server answers at once
instead of after the whole first refresh.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dash
import flask
from dash import Dash, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import api, auth, data, render_cache
from jobs import refresh_progress
from jobs.health import assess, format_time

HERE = Path(__file__).resolve().parent
DEFAULT_REFRESH_SECONDS = 30
SERVICE_POLL_MS = 2000
"""While the first refresh runs the banner's progress is refreshed this often (ms); otherwise the
banner follows the page refresh (``web.refresh_seconds``) and this fast poll is off."""

log = logging.getLogger("flowdesk.web")


def _page_order(page: dict) -> tuple[float, str]:
    order = page.get("order")  # present but None for pages registered without one
    return (order if order is not None else 99, page["name"])


def _nav_pages() -> list[dict]:
    """Registered pages shown in the navigation, in page order (the 404 page is left out)."""
    return [
        page
        for page in sorted(dash.page_registry.values(), key=_page_order)
        if page["module"].rsplit(".", 1)[-1] != "not_found_404" and not page.get("hidden")
    ]


def _nav_id(page: dict) -> str:
    return f"nav-{page['module'].rsplit('.', 1)[-1]}"


def _nav() -> html.Nav:
    links = [
        dcc.Link(
            page["name"], href=page["relative_path"], className="fd-nav-link", id=_nav_id(page)
        )
        for page in _nav_pages()
    ]
    return html.Nav(links, className="fd-nav")


def _is_current(pathname: str | None, page_path: str) -> bool:
    path = (pathname or "/").rstrip("/") or "/"
    page_path = page_path.rstrip("/") or "/"
    return path == page_path or (page_path != "/" and path.startswith(page_path + "/"))


def _web_settings() -> tuple[str, int, bool, auth.LoginLimits]:
    """``(require_login, refresh_seconds, sample_mode, login limits)``; safe defaults if the
    config is broken.

    A broken config must not kill the web server (the Status page shows the error), but it must
    not open it either: the login mode then falls back to ``auto``.
    """
    try:
        s = data.settings()
    except Exception as exc:
        log.error("web: cannot load settings (%s); using defaults, login mode 'auto'", exc)
        return "auto", DEFAULT_REFRESH_SECONDS, False, auth.LoginLimits()
    return (
        s.web.require_login,
        s.web.refresh_seconds,
        s.sample_mode,
        auth.LoginLimits.from_settings(s.web),
    )


def _progress() -> dict[str, Any] | None:
    """The first-refresh progress record, or None (never raises)."""
    try:
        return refresh_progress.read(data.live_store().redis)
    except Exception:
        return None


def _badge_state() -> tuple[str, str, str]:
    """``(text, className, title)`` of the freshness badge (never raises)."""
    try:
        fresh = assess(data.settings(), data.live_store())
    except Exception as exc:  # config or connection problem: say so on the badge
        return "status unknown", "fd-badge fd-badge-red", f"cannot read the store: {exc}"
    if fresh.level == "unknown":
        progress = _progress()
        if progress and progress.get("state") == "running":
            return (
                "first refresh running",
                "fd-badge fd-badge-unknown",
                "The first refresh of every job is running; results appear as each job publishes.",
            )
    return (
        fresh.label,
        f"fd-badge {fresh.css_class}",
        fresh.tooltip(_tz()),
    )  # times, not ages: unchanged until a publish


def _tz() -> str:
    try:
        return data.settings().service.timezone
    except Exception:
        return data.DEFAULT_TZ


def banner_state() -> tuple[list[Any], str, bool]:
    """``(children, className, poll disabled)`` of the service banner (never raises).

    Redis unreachable wins (red); else a running first refresh (blue, with a progress bar); else
    hidden.  The fast poll (:data:`SERVICE_POLL_MS`) runs only while the first refresh runs, the
    one state whose progress moves by the second; an outage is reported, and its end noticed, at
    the page refresh (a fast poll from every open browser would only add connection attempts to
    a Redis that is down).
    """
    since = data.check_redis()
    if since is not None:
        text = (
            f"Redis unreachable since {format_time(since, _tz())}: showing the last results this server read, "
            "marked stale; they update again once Redis is back."
        )
        return [html.Span(text, id="service-banner-text")], "fd-banner fd-banner-red", True
    progress = _progress()
    if not progress or progress.get("state") != "running":
        return [], "fd-banner fd-banner-hidden", True
    done, total = int(progress.get("done") or 0), int(progress.get("total") or 0)
    current = progress.get("current")
    detail = (
        f" · now: {current}" + (f" ({progress['message']})" if progress.get("message") else "")
        if current
        else ""
    )
    failed = progress.get("failed") or []
    text = (
        f"First refresh running: {done} of {total} jobs done{detail}"
        + (f" · failed: {', '.join(failed)}" if failed else "")
        + ". Pages fill in as results are published."
    )
    return (
        [
            html.Span(text, id="service-banner-text"),
            html.Progress(
                id="first-refresh-progress",
                value=str(done),
                max=str(max(total, 1)),
                className="fd-progress",
            ),
        ],
        "fd-banner fd-banner-info",
        False,
    )


def banner_update(shown_class: str | None) -> tuple[list[Any], str, bool]:
    """The service banner callback's answer: :func:`banner_state`, or
    :class:`~dash.exceptions.PreventUpdate` when the banner is hidden and stays hidden (nothing
    sent; the fast poll is then already off: it starts off and is switched on only with a running
    first refresh, whose end changes the class and so switches it off again)."""
    children, cls, disabled = banner_state()
    if not children and shown_class == cls:
        raise PreventUpdate
    return children, cls, disabled


def data_versions(shown: dict[str, str] | None) -> dict[str, str]:
    """The current version of every result (:meth:`jobs.store.ResultStore.versions`), the input
    of every result page's drawing callback.

    Raises :class:`~dash.exceptions.PreventUpdate` when it equals ``shown`` (what the browser
    holds): the page refresh then costs a version check and sends nothing (HTTP 204), and no page
    re-downloads its figures; a new publish (or a failed refresh marking a result stale) changes
    it and every page showing results redraws once.  While Redis is unreachable the last versions
    read are kept (pages show their remembered results, marked stale by their own reads).
    """
    try:
        current = data.store().versions()
    except Exception:  # Redis down and never read, or no Redis configured: keep what is shown
        if shown is not None:
            raise PreventUpdate from None
        return {}
    since = data.redis_outage().since
    if since is not None:  # the pages redraw once, from memory, marked stale
        current = {**current, "_redis_unreachable_since": since.isoformat()}
    else:
        render_cache.warm_if_new(current)  # draw the usual views of a new publish before users ask
    if shown is not None and current == shown:
        raise PreventUpdate
    return current


def warm_up(app: Dash) -> None:
    """Run Dash's one-time set-up now, in one thread, before the server takes requests.

    Dash finishes its set-up (callback maps, scripts) in a ``before_request`` hook on the first
    request, without a lock: a threaded server (gunicorn ``gthread``, ``flowdesk run``) whose
    first requests arrive together raced in it ("dictionary changed size during iteration",
    a 500 on ``/healthz``).  One request through the test client does it first; the path
    matches no route (404, or 401 behind the login) and touches neither Redis nor the pages.
    """
    app.server.test_client().get("/_flowdesk/warm-up")


def create_app(host: str | None = None, *, production: bool = False) -> Dash:
    """Build the Dash app with its API, freshness badge and, when exposed, the login.

    Parameters
    ----------
    host:
        Address the server will bind (``flowdesk web --host``).  ``None`` means loopback.
    production:
        True under gunicorn (:mod:`dashboard.wsgi`): login required unless
        ``web.require_login = "never"``.

    Raises
    ------
    dashboard.auth.AuthConfigError
        Login is required but ``FLOWDESK_USERS`` / ``FLOWDESK_API_TOKENS`` are empty or malformed.
    """
    require_mode, refresh_s, sample_mode, login_limits = _web_settings()
    need_login = auth.login_required(require_mode, host=host, production=production)
    # Check credentials before Dash imports the pages, so a refused start leaves nothing behind.
    creds = auth.Credentials.from_env() if need_login else None
    if creds is not None:
        auth.ensure_configured(creds)

    server = flask.Flask("dashboard")
    app = Dash(
        # "dashboard" (the package) makes Dash name the page modules "dashboard.pages.<page>",
        # as a normal import does, so importing a page elsewhere does not register it twice.
        "dashboard",
        server=server,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        title="flowdesk",
        suppress_callback_exceptions=True,
        serve_locally=True,
        external_stylesheets=[],
        external_scripts=[],
    )
    if creds is not None:
        auth.install(
            server, creds, limits=login_limits, redis_client=lambda: data.live_store().redis
        )
    server.register_blueprint(api.bp)

    sample_label = (
        [
            html.Span(
                "SAMPLE DATA",
                id="sample-mode-label",
                className="fd-label fd-label-sample",
                title="service.source_mode = 'sample': generated data, not market data",
            )
        ]
        if sample_mode
        else []
    )
    app.layout = html.Div(
        [
            html.Header(
                [
                    html.Div(
                        [
                            html.Span("flowdesk", className="fd-brand"),
                            html.Span("mechanical-flow risk", className="fd-tagline"),
                        ],
                        className="fd-brand-block",
                    ),
                    _nav(),
                    html.Div(
                        [
                            *sample_label,
                            html.Div(
                                "…",
                                id="freshness-badge",
                                className="fd-badge fd-badge-unknown",
                                title="checking data freshness",
                            ),
                        ],
                        className="fd-header-right",
                    ),
                ],
                className="fd-header",
            ),
            html.Div(
                [], id="service-banner", className="fd-banner fd-banner-hidden", role="status"
            ),
            dcc.Interval(id="refresh-interval", interval=refresh_s * 1000, n_intervals=0),
            dcc.Store(id="data-version", storage_type="memory"),
            # off until the banner callback (run at page load) finds a first refresh running
            dcc.Interval(
                id="service-interval", interval=SERVICE_POLL_MS, n_intervals=0, disabled=True
            ),
            html.Main(dash.page_container, className="fd-main"),
        ],
        className="fd-app",
    )

    @app.callback(
        Output("data-version", "data"),
        Input("refresh-interval", "n_intervals"),
        State("data-version", "data"),
    )
    def _data_version(_n: int, current: dict[str, str] | None) -> dict[str, str]:
        return data_versions(current)

    @app.callback(
        Output("freshness-badge", "children"),
        Output("freshness-badge", "className"),
        Output("freshness-badge", "title"),
        Input("refresh-interval", "n_intervals"),
        Input("_pages_location", "pathname"),
        State("freshness-badge", "children"),
        State("freshness-badge", "className"),
        State("freshness-badge", "title"),
    )
    def _update_badge(_n: int, _path: str | None, *shown: str | None) -> tuple[str, str, str]:
        state = _badge_state()
        if tuple(shown) == state:
            raise PreventUpdate  # unchanged: nothing is sent
        return state

    @app.callback(
        Output("service-banner", "children"),
        Output("service-banner", "className"),
        Output("service-interval", "disabled"),
        Input("refresh-interval", "n_intervals"),
        Input("service-interval", "n_intervals"),
        Input("_pages_location", "pathname"),
        State("service-banner", "className"),
    )
    def _update_banner(
        _n: int, _fast: int, _path: str | None, shown_class: str | None
    ) -> tuple[list[Any], str, bool]:
        return banner_update(shown_class)

    pages = _nav_pages()
    if pages:

        @app.callback(
            [Output(_nav_id(p), "className") for p in pages], Input("_pages_location", "pathname")
        )
        def _mark_current(pathname: str | None) -> list[str]:
            return [
                "fd-nav-link active" if _is_current(pathname, p["relative_path"]) else "fd-nav-link"
                for p in pages
            ]

    log.info(
        "web app built: login %s, refresh every %d s%s",
        "required" if need_login else "off (loopback)",
        refresh_s,
        ", SAMPLE mode" if sample_mode else "",
    )
    return app
