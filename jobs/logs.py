"""Logging for every flowdesk process: one line per event, text or JSON, secrets masked.

Text (``service.log_format = "text"``)::

    2026-11-29T08:00:01Z INFO flowdesk.jobs job end job=gamma status=ok duration_s=1.2 rows=3456

JSON (``"json"``): one object per line with ``ts``, ``level``, ``logger``, ``msg`` (and ``exc``
when an exception is attached), for log shippers.

Messages follow the ``event key=value ...`` shape.  Tracebacks are folded onto the same line
(text) or into the ``exc`` field (JSON), so one event is always one line.

:class:`SecretFilter` masks, in every message and traceback: passwords in URLs
(``redis://:secret@host`` -> ``redis://:***@host``), ``Authorization`` header values,
``token=`` / ``password=`` / ``secret=`` / ``api_key=`` values, and the literal values of
secret-bearing environment variables (alert target URLs and signing secrets, anything named
``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``, ``*API_KEY*``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping
from typing import IO, Any

MASK = "***"

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:)(?P<secret>[^\s@/]+)(?P<tail>@)")
_AUTH_HEADER = re.compile(r"(?P<head>\bauthorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest)\s+)?)(?P<secret>[^\s\"',;}]+)", re.IGNORECASE)
_KEY_VALUE = re.compile(
    r"(?P<head>\b(?:[a-z_]*token|[a-z_]*secret|password|passwd|pwd|api[_-]?key)[\"']?\s*[:=]\s*[\"']?)(?P<secret>[^\s\"',;&}]+)",
    re.IGNORECASE,
)
_SECRET_ENV_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|WEBHOOK", re.IGNORECASE)
_MIN_LITERAL = 6
"""Environment values shorter than this are not masked literally (they would mask common words)."""

_HANDLER_FLAG = "_flowdesk_handler"
_NOISY = {"apscheduler.executors": logging.WARNING, "apscheduler.scheduler": logging.WARNING, "werkzeug": logging.WARNING, "urllib3": logging.WARNING}
"""Libraries that log a second line for events flowdesk already logs (or one per HTTP request)."""


def mask_secrets(text: str, literals: Iterable[str] = ()) -> str:
    """Return ``text`` with secrets replaced by ``***`` (see the module docstring)."""
    for value in literals:
        if value and len(value) >= _MIN_LITERAL and value in text:
            text = text.replace(value, MASK)
    text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK + m["tail"], text)
    text = _AUTH_HEADER.sub(lambda m: m["head"] + MASK, text)
    text = _KEY_VALUE.sub(lambda m: m["head"] + MASK, text)
    return text


def secret_literals(settings: Any | None = None, env: Mapping[str, str] | None = None) -> list[str]:
    """Values of environment variables that hold secrets (longest first, so overlaps mask fully).

    These are the alert targets' ``url_env`` / ``secret_env`` variables (a Slack or Teams
    webhook URL is itself a credential) and any variable whose name says token, secret,
    password, API key or webhook.
    """
    env = os.environ if env is None else env
    names = {name for name in env if _SECRET_ENV_NAME.search(name)}
    if settings is not None:
        for target in settings.alerts.targets.values():
            names.add(target.url_env)
            if target.secret_env:
                names.add(target.secret_env)
    values = {env[n] for n in names if env.get(n) and len(env[n]) >= _MIN_LITERAL}
    return sorted(values, key=len, reverse=True)


class SecretFilter(logging.Filter):
    """Mask secrets in the fully formatted message and in attached tracebacks.

    Installed on the handler, so it applies to records from every logger (a filter on a
    logger would only see that logger's own records).
    """

    def __init__(self, literals: Iterable[str] = ()) -> None:
        super().__init__()
        self.literals = list(literals)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the event
            message = f"{record.msg} {record.args}"
        record.msg = mask_secrets(message, self.literals)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text, self.literals)
        record.exc_info = None  # the masked exc_text is what gets printed
        return True


def _utc_stamp(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created))


class TextFormatter(logging.Formatter):
    """``<UTC time>Z LEVEL logger message`` on one line; a traceback is folded in with `` | ``."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_utc_stamp(record.created)} {record.levelname} {record.name} {record.getMessage()}"
        exc = record.exc_text or (self.formatException(record.exc_info) if record.exc_info else "")
        if exc:
            line += " exc=" + " | ".join(part.strip() for part in exc.splitlines() if part.strip())
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg``, ``pid`` and ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": _utc_stamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        exc = record.exc_text or (self.formatException(record.exc_info) if record.exc_info else "")
        if exc:
            payload["exc"] = exc
        return json.dumps(payload, ensure_ascii=False)


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is *now* (click's test runner swaps it per call)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure_logging(settings: Any | None = None, *, stream: IO[str] | None = None, level: str | None = None, fmt: str | None = None) -> logging.Handler:
    """Install flowdesk's handler on the root logger (idempotent: replaces a previous one).

    Parameters
    ----------
    settings:
        Validated settings; ``service.log_format`` and ``service.log_level`` are used, and the
        alert targets' environment variables are masked.  None: text at INFO.
    stream:
        Where to write (default ``sys.stderr``).
    level, fmt:
        Override the level (``"DEBUG"``...) and format (``"text"`` / ``"json"``).
    """
    service = getattr(settings, "service", None)
    fmt = fmt or (service.log_format if service else "text")
    level = level or (service.log_level if service else "INFO")
    handler = logging.StreamHandler(stream or _CurrentStderr())  # type: ignore[arg-type]
    setattr(handler, _HANDLER_FLAG, True)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(SecretFilter(secret_literals(settings)))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_FLAG, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, noisy_level in _NOISY.items():
        logging.getLogger(name).setLevel(max(noisy_level, logging.getLevelName(level)))
    logging.captureWarnings(True)
    return handler
