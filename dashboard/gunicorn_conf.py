"""gunicorn settings for the web tier: ``gunicorn -c python:dashboard.gunicorn_conf dashboard.wsgi:server``.

Worker model (see the README, "Production deployment").  ``gthread`` workers: ``WEB_CONCURRENCY``
processes (default 2, one per core) with ``WEB_THREADS`` threads each (default 16).  A sync worker
serves one request at a time, so two heavy board/Arrow requests (or two password hashes) left
``/healthz`` queued behind them (p50 1.1 s measured with 16 clients on 2 sync workers).  With
threads, a cheap request never waits for a slot: ``/healthz`` and cached pages are answered while
other threads decode Arrow tables or build figures, and a password hash (scrypt releases the GIL)
does not hold the process.  32 threads in all cover a desk of ~20 users with room to spare: a
page load fires about five Dash callbacks at once, and the pages poll every
``web.refresh_seconds`` (30 s); with 8 threads per worker a 16-client stress load still queued
``/healthz`` behind busy threads (p99 2 s), with 16 it did not (p99 0.3 s; ``bench/load_web.py``).  Memory stays that
of two processes (decoded results are cached per process, shared by its threads).

Access log.  One line per request with the duration; the request line, query string, referer
and every logged header go through :func:`jobs.logs.mask_secrets` (``token=``, ``sig=``,
``password=``..., webhook URLs, secret environment values) and control characters are escaped
(:func:`jobs.logs.escape_controls`): a Basic-auth user name with a newline cannot forge a line.
The ``Authorization`` and ``Cookie`` headers are never logged.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

from jobs.logs import LiveLiterals, escape_controls, mask_secrets

bind = f"{os.environ.get('WEB_BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8050')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "16"))
timeout = 60  # importing the app takes a few seconds per worker
graceful_timeout = 10
keepalive = 5
accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'
logger_class = "dashboard.gunicorn_conf.MaskingLogger"

_NEVER_LOGGED = ("{authorization}i", "{cookie}i", "{proxy-authorization}i", "{x-api-key}i")


class MaskingLogger(Logger):
    """gunicorn's logger with masked, single-line access-log fields."""

    _literals = LiveLiterals()

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any
    ) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        literals = self._literals()
        for key, value in list(atoms.items()):
            if key.lower() in _NEVER_LOGGED:
                atoms[key] = "***" if value and value != "-" else value
            elif isinstance(value, str):
                atoms[key] = escape_controls(mask_secrets(value, literals))
        return atoms
