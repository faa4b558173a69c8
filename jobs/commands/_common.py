"""Helpers shared by the analytic sub-commands (``flowdesk gamma``, ``letf``, ``cftc``).

Not a command module: it defines no ``COMMANDS`` and has no row in :data:`jobs.cli.COMMANDS`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
import pandas as pd

from flows.errors import FlowdeskError
from flows.money import format_usd as money  # noqa: F401 (the one money formatter; commands import it from here)
from jobs.store.codec import plain  # noqa: F401 (the one JSON cleaner; commands import it from here)


def settings_or_default() -> Any:
    """The configured :class:`jobs.config.Settings`, or the defaults when there is no config file.

    The file commands work on local files and must run without a ``config.toml``; a config that
    exists (or is named by ``flowdesk --config``) but is unreadable, not TOML or invalid exits 2
    with the file, key and reason, as every other command does.  Only the
    schema is checked (:func:`jobs.config.load_settings`): the task registry and the alert
    catalogue play no part in a file command, and importing them would cost every call.
    """
    from jobs.config import ConfigError, Settings, default_config_path, load_settings

    path = default_config_path()
    root = click.get_current_context(silent=True)
    state = root.find_root().obj if root is not None else None
    explicit = getattr(state, "config_path", None) is not None  # flowdesk --config PATH
    if not explicit and not path.exists():
        return Settings()  # no config at all: the documented defaults
    try:
        return load_settings(path)
    except ConfigError as exc:
        # a config that exists (or was named) but cannot be used is never silently replaced by
        # the defaults: a deliverable or threshold the user set would be ignored without a word
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


def writer(result: str, table: str | None = None) -> Callable[..., str]:
    """``w(key, value, **style)``: ``value`` written by the unit the declaration of ``result``
    gives ``key`` (a headline key, or a column of ``table``): :func:`flows.formatting.format_value`
    (``style``: ``signed``, ``scale``, ``style``, ... for USD).  The summaries of the file
    commands write their figures through it, as the dashboard's cards and tables do."""
    from flows.formatting import format_value
    from jobs import declarations

    decl = declarations.lookup(result)
    declared = decl.table(table) if table is not None else None
    if table is not None and declared is None:
        raise KeyError(f"{result}: no declared table {table!r}")

    def unit(key: str) -> str | None:
        found = declared.column(key) if declared is not None else decl.headline_key(key)
        return str(found.unit) if found is not None else None

    return lambda key, value, **style: format_value(value, unit(key), **style)


def echo_quality(quality: Any) -> None:
    """Print a :class:`flows.quality.Quality` for people (``quality: ...``; warnings to stderr too)."""
    if quality is None:
        return
    click.echo(f"quality: {quality.summary()}")
    for w in quality.warnings:
        click.echo(f"warning: {w}", err=True)


def emit(doc: dict[str, Any], as_json: bool, text: Callable[[], str], quality: Any) -> None:
    """A file command's output: ``doc`` as JSON with ``--json``, else ``text()`` for people and
    the input quality (:func:`echo_quality`)."""
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(text())
    echo_quality(quality)


@contextmanager
def exit_on_input_error() -> Iterator[None]:
    """Turn a :class:`flows.errors.FlowdeskError` (bad file, field, ...) into ``error: ...`` on stderr and exit status 2."""
    try:
        yield
    except FlowdeskError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


def parse_day(value: str, option: str) -> pd.Timestamp:
    """``YYYY-MM-DD`` -> a tz-naive date; :class:`flows.errors.InputError` naming ``option``."""
    from flows.errors import InputError

    try:
        day = pd.Timestamp(str(value).strip())
    except (ValueError, TypeError):
        raise InputError(option, None, f"not a date YYYY-MM-DD: {value!r}") from None
    if pd.isna(day):
        raise InputError(option, None, f"not a date YYYY-MM-DD: {value!r}")
    return day.tz_localize(None).normalize() if day.tzinfo else day.normalize()
