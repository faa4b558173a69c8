"""Production entry point: ``gunicorn dashboard.wsgi:server``.

Builds the app with ``production=True``: login is required (``FLOWDESK_USERS`` and/or
``FLOWDESK_API_TOKENS``) unless ``web.require_login = "never"``, and an exposed app without
credentials refuses to start.  It never starts the embedded development Redis: each gunicorn
worker would get its own empty server, so ``REDIS_URL`` (or ``service.redis_url``) is required.
"""

from __future__ import annotations

import os

from dash import Dash

from dashboard.app import create_app, warm_up
from flows.errors import WsgiConfigError


def build(env: dict[str, str] | None = None) -> Dash:
    """Create the production app; raise :class:`WsgiConfigError` when no Redis is configured."""
    from dashboard.data import settings

    env = dict(os.environ) if env is None else env
    if not env.get("REDIS_URL") and not settings().service.redis_url:
        raise WsgiConfigError(
            "dashboard.wsgi needs an external Redis: set REDIS_URL (e.g. redis://host:6379/0, "
            "rediss:// for TLS). The embedded development Redis is never started under gunicorn "
            "(each worker would get its own empty server); for a laptop use `flowdesk run`."
        )
    app = create_app(production=True)
    warm_up(app)  # before gunicorn's threads take requests
    return app


def _configure_logging() -> None:
    """One line per event (text or JSON per ``service.log_format``), secrets masked."""
    from dashboard.data import settings
    from jobs.logs import configure_logging

    try:
        configure_logging(settings())
    except Exception:  # an invalid config is reported by build(); log in the default format
        configure_logging(None)


_configure_logging()
app = build()
server = app.server
