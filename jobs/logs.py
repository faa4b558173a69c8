"""Logging for every flowdesk process: one line per event, text or JSON, secrets masked.

Text (``service.log_format = "text"``)::

    2026-11-29T08:00:01Z INFO flowdesk.jobs job end job=gamma status=ok duration_s=1.2 rows=3456

JSON (``"json"``): one object per line with ``ts``, ``level``, ``logger``, ``msg`` (and ``exc``
when an exception is attached), for log shippers.

Messages follow the ``event key=value ...`` shape.  Tracebacks are folded onto the same line
(text) or into the ``exc`` field (JSON), so one event is always one line.  In the text format
every line break and control character inside a message is escaped (``\\n``, ``\\r``,
``\\x1b``...): a user name or a path carrying a newline cannot forge a second log line.

:func:`mask_secrets` masks: passwords in URLs (``redis://:secret@host`` ->
``redis://:***@host``), ``Authorization`` header values, ``token=`` / ``password=`` /
``secret=`` / ``api_key=`` / ``sig=`` values, the path of Slack and Teams webhook URLs (their
path *is* the credential), and the literal values of secret-bearing environment variables:
alert target URLs and signing secrets, anything named ``*TOKEN*``, ``*SECRET*``,
``*PASSWORD*``, ``*API_KEY*``, ``*WEBHOOK*``.  A URL value is masked whole *and* by its path
and query alone, because ``requests``/``urllib3`` errors quote only the path
(``Max retries exceeded with url: /services/T0/B0/XXXX``).

Two lines of defence in every process that calls :func:`configure_logging`: a log-record
factory masks each record when it is created (so every handler, including pytest's ``caplog``
and gunicorn's, sees the masked text), and :class:`SecretFilter` on flowdesk's handler masks
again what reaches the output.  Code that stores error texts (webhook delivery records, job
run records) masks them itself before writing (:func:`mask_url_in` / :func:`mask_secrets`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any
from urllib.parse import quote, unquote, urlsplit

MASK = "***"

_URL_PASSWORD = re.compile(
    r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:)(?P<secret>[^\s@/]+)(?P<tail>@)"
)
_AUTH_HEADER = re.compile(
    r"(?P<head>\bauthorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest)\s+)?)(?P<secret>[^\s\"',;}]+)",
    re.IGNORECASE,
)
_KEY_VALUE = re.compile(
    r"(?P<head>\b(?:[a-z_]*token|[a-z_]*secret|password|passwd|pwd|api[_-]?key|access[_-]?key|sig|signature)[\"']?\s*[:=]\s*[\"']?)(?P<secret>[^\s\"',;&}]+)",
    re.IGNORECASE,
)
_WEBHOOK_URL = re.compile(
    r"(?P<head>\b(?:hooks\.slack\.com|(?:[a-z0-9-]+\.)*(?:webhook\.office\.com|outlook\.office(?:365)?\.com|logic\.azure\.com|api\.powerplatform\.com))(?::\d+)?)(?P<secret>/[^\s\"'<>)]+)",
    re.IGNORECASE,
)
"""Slack incoming webhooks and Teams connectors / workflows: the path is the credential."""
_WEBHOOK_PATH = re.compile(
    r"(?P<head>/(?:services|workflows|triggers|webhookb2|webhook))/(?P<secret>(?:T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]+|[0-9a-f]{32}/triggers/[^\s\"'<>)]+|[0-9a-f-]{36}@[^\s\"'<>)]+))",
)
"""The same credentials as quoted path-only by urllib3 (``with url: /services/T0/B0/XXXX``)."""
_SECRET_ENV_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|WEBHOOK", re.IGNORECASE)
_MIN_LITERAL = 6
"""Environment values (and URL paths) shorter than this are not masked literally (they would
mask common words such as ``/hook``)."""

_HANDLER_FLAG = "_flowdesk_handler"
_NOISY = {
    "apscheduler.executors": logging.WARNING,
    "apscheduler.scheduler": logging.WARNING,
    "werkzeug": logging.WARNING,
    "urllib3": logging.WARNING,
}
"""Libraries that log a second line for events flowdesk already logs, or one per HTTP request."""

_QUIET = {"choreographer": logging.CRITICAL, "kaleido": logging.WARNING}
"""Plotly's static export (the brief's PDF and PNG) drives Chromium through these.  At INFO
choreographer logs every temporary folder it removes, and at ERROR (with a traceback) a message
on Chromium's pipe that it could not decode and then ignores, while the export succeeds; the
brief job reports the export's outcome itself.  Their lines below these levels are dropped by
flowdesk's handler (:class:`_LibraryLevels`), not by setting their loggers' levels: their logging
layer (logistro) gives the loggers it makes a class of its own when it is imported, and a logger
made here first, before the brief imports kaleido, would lack its methods (``debug2``) and break
every export."""


class _LibraryLevels(logging.Filter):
    """Drops the lines of :data:`_QUIET` libraries below their level."""

    def filter(self, record: logging.LogRecord) -> bool:
        top = record.name.partition(".")[0]
        return record.levelno >= _QUIET.get(top, logging.NOTSET)


def url_secret_forms(url: str) -> list[str]:
    """The forms in which a secret URL shows up in error texts, longest first.

    The whole URL, the URL without its scheme, its path plus query, its path and its query,
    each also percent-encoded and -decoded (``requests`` re-quotes paths).  Forms shorter than
    :data:`_MIN_LITERAL` characters and a bare ``/`` are left out.
    """
    forms = {url}
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is not None and parts.scheme and parts.netloc:
        forms.add(url.split("://", 1)[1])
        path_query = parts.path + (f"?{parts.query}" if parts.query else "")
        forms.update({path_query, parts.path, parts.query})
    for form in list(forms):
        forms.add(unquote(form))
        forms.add(quote(form, safe="/:?&=@%+~"))
    return sorted(
        (f for f in forms if f and len(f) >= _MIN_LITERAL and f.strip("/")), key=len, reverse=True
    )


def mask_secrets(text: str, literals: Iterable[str] = ()) -> str:
    """Return ``text`` with secrets replaced by ``***`` (see the module docstring)."""
    for value in literals:
        if value and len(value) >= _MIN_LITERAL and value in text:
            text = text.replace(value, MASK)
    text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK + m["tail"], text)
    text = _AUTH_HEADER.sub(lambda m: m["head"] + MASK, text)
    text = _KEY_VALUE.sub(lambda m: m["head"] + MASK, text)
    text = _WEBHOOK_URL.sub(lambda m: m["head"] + "/" + MASK, text)
    text = _WEBHOOK_PATH.sub(lambda m: m["head"] + "/" + MASK, text)
    return text


def mask_url_in(text: str, url: str | None, literals: Iterable[str] = ()) -> str:
    """``text`` with every form of the secret ``url`` (:func:`url_secret_forms`) and every other
    secret (:func:`mask_secrets`) masked: for error texts that quote the URL they failed on."""
    forms = url_secret_forms(url) if url else []
    return mask_secrets(text, sorted([*forms, *literals], key=len, reverse=True))


def secret_env_names(settings: Any | None = None, env: Mapping[str, str] | None = None) -> set[str]:
    """Names of the environment variables whose values are secrets.

    The alert targets' ``url_env`` / ``secret_env`` variables (a Slack or Teams webhook URL is
    itself a credential) and any variable whose name says token, secret, password, API key or
    webhook.
    """
    env = os.environ if env is None else env
    names = {name for name in env if _SECRET_ENV_NAME.search(name)}
    if settings is not None:
        for target in settings.alerts.targets.values():
            names.add(target.url_env)
            if target.secret_env:
                names.add(target.secret_env)
    return names


def secret_literals(settings: Any | None = None, env: Mapping[str, str] | None = None) -> list[str]:
    """Values of environment variables that hold secrets, longest first (overlaps mask fully).

    A value that is a URL also contributes its path and query (:func:`url_secret_forms`); a
    comma-separated list, each item.
    """
    env = os.environ if env is None else env
    values: set[str] = set()
    for name in secret_env_names(settings, env):
        value = env.get(name)
        if not value or len(value) < _MIN_LITERAL:
            continue
        values.add(value)
        if "," in value:  # FLOWDESK_API_TOKENS="tok1,tok2": each token alone is a secret too
            values.update(
                part.strip() for part in value.split(",") if len(part.strip()) >= _MIN_LITERAL
            )
        if "://" in value:
            values.update(url_secret_forms(value))
    return sorted(values, key=len, reverse=True)


class LiveLiterals:
    """The secret literals of ``settings``, re-read from ``os.environ`` when it changes.

    A process may learn a webhook URL after logging was configured (tests, ``monkeypatch``);
    the environment is cheap to fingerprint, so the list is rebuilt only when it differs.
    """

    def __init__(self, settings: Any | None = None, literals: Iterable[str] | None = None) -> None:
        self.settings = settings
        self._fixed = list(literals) if literals is not None else None
        self._key: int | None = None
        self._values: list[str] = []

    def __call__(self) -> list[str]:
        if self._fixed is not None:
            return self._fixed
        key = hash(frozenset(os.environ.items()))
        if key != self._key:
            self._values = secret_literals(self.settings)
            self._key = key
        return self._values


def _mask_record(record: logging.LogRecord, literals: list[str]) -> None:
    """Mask the formatted message and the traceback of ``record`` in place."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not lose the event
        message = f"{record.msg} {record.args}"
    masked = mask_secrets(message, literals)
    if masked != message or not isinstance(record.msg, str):
        record.msg = masked
        record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_secrets(record.exc_text, literals)
        record.exc_info = None  # the masked exc_text is what gets printed
    if record.stack_info:
        record.stack_info = mask_secrets(record.stack_info, literals)


class SecretFilter(logging.Filter):
    """Mask secrets in the fully formatted message and in attached tracebacks.

    Installed on the handler, so it applies to records from every logger (a filter on a
    logger would only see that logger's own records).  ``literals``: a list, or a callable
    returning the current list (:class:`LiveLiterals`).
    """

    def __init__(self, literals: Iterable[str] | Callable[[], list[str]] = ()) -> None:
        super().__init__()
        self._literals = literals if callable(literals) else list(literals)

    @property
    def literals(self) -> list[str]:
        return self._literals() if callable(self._literals) else self._literals

    def filter(self, record: logging.LogRecord) -> bool:
        _mask_record(record, self.literals)
        return True


_base_factory: Callable[..., logging.LogRecord] | None = None
_factory_literals: LiveLiterals | None = None


def install_record_masking(literals: LiveLiterals) -> None:
    """Mask every log record of this process when it is created (idempotent; last call wins).

    Wraps the current log-record factory, so records reach *every* handler masked, not only
    flowdesk's (pytest's ``caplog``, gunicorn's error log, a library's own handler).
    """
    global _base_factory, _factory_literals
    _factory_literals = literals
    if _base_factory is not None:
        return
    _base_factory = logging.getLogRecordFactory()
    base = _base_factory

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        if _factory_literals is not None:
            _mask_record(record, _factory_literals())
        return record

    logging.setLogRecordFactory(factory)


_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r"}


def escape_controls(text: str) -> str:
    """``text`` with line breaks and other control characters (not tab) escaped: one line, always."""
    return _CONTROL.sub(
        lambda m: (
            _ESCAPES.get(m[0])
            or (f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}")
        ),
        text,
    )


def _utc_stamp(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created))


class TextFormatter(logging.Formatter):
    """``<UTC time>Z LEVEL logger message`` on one line; a traceback is folded in with `` | ``.

    Control characters in the message (a user name with a newline, say) are escaped, so one
    event is one line and no input can forge another.
    """

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_utc_stamp(record.created)} {record.levelname} {record.name} {escape_controls(record.getMessage())}"
        exc = record.exc_text or (self.formatException(record.exc_info) if record.exc_info else "")
        if exc:
            line += " exc=" + escape_controls(
                " | ".join(part.strip() for part in exc.splitlines() if part.strip())
            )
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
        # JSON escapes CR/LF; U+2028/U+2029 stay raw with ensure_ascii=False and some readers
        # split lines on them, so escape those too: one event, one line.
        return (
            json.dumps(payload, ensure_ascii=False)
            .replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029")
        )


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is *now* (click's test runner swaps it per call)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure_logging(
    settings: Any | None = None,
    *,
    stream: IO[str] | None = None,
    level: str | None = None,
    fmt: str | None = None,
) -> logging.Handler:
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
    literals = LiveLiterals(settings)
    handler.addFilter(SecretFilter(literals))
    handler.addFilter(_LibraryLevels())
    install_record_masking(literals)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_FLAG, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, noisy_level in _NOISY.items():
        logging.getLogger(name).setLevel(max(noisy_level, logging.getLevelName(level)))
    logging.captureWarnings(True)
    return handler
