"""What the sub-commands share: exit codes, the loaded settings and the connected store.

Light on purpose (``click`` and the standard library at import): ``flowdesk --help`` imports it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from jobs.config import Settings

EXIT_FAILED = 1
"""A job failed (or partly)."""
EXIT_CONFIG = 2
"""Bad configuration, usage or input (the message names the file, the key and the reason)."""
EXIT_REDIS = 3
"""Redis unreachable."""
EXIT_BROKEN_PIPE = 141
"""The reader of stdout went away (``| head``): 128 + SIGPIPE, as shells report any tool."""


class CliState:
    """Shared by the sub-commands: the config path, the settings (loaded once) and the log handler."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._settings: Settings | None = None
        self.log_handler: logging.Handler | None = None

    def select(self, config_path: Path) -> None:
        """Use ``config_path`` from now on (``--config`` after a command's name)."""
        self.config_path, self._settings = config_path, None

    def settings(self) -> Settings:
        """The checked settings (:func:`jobs.validate.load_settings`); a config error prints its
        message and exits with code 2."""
        if self._settings is None:
            from jobs.config import ConfigError, default_config_path
            from jobs.validate import load_settings

            path = self.config_path or default_config_path()
            try:
                self._settings = load_settings(path)
            except ConfigError as exc:
                click.echo(f"flowdesk: {exc}", err=True)
                raise SystemExit(EXIT_CONFIG) from None
        return self._settings

    def setup_logging(self) -> Settings:
        from jobs.logs import configure_logging

        settings = self.settings()
        self.log_handler = configure_logging(settings)
        return settings


def state(ctx: click.Context) -> CliState:
    """The group's :class:`CliState` (a fresh one for a command invoked outside the group)."""
    obj = ctx.find_object(CliState)
    if obj is None:  # a command invoked outside the group (tests calling a command directly)
        obj = CliState(None)
        ctx.obj = obj
    return obj


def store_or_exit(settings: Settings, *, code_without_url: int = EXIT_CONFIG) -> Any:
    """A connected ResultStore, or a clear message and exit (2 without a URL, 3 if unreachable)."""
    from jobs.health import NO_REDIS_MESSAGE
    from jobs.logs import mask_secrets
    from jobs.store import ResultStore

    if not settings.service.redis_url:
        click.echo(f"flowdesk: {NO_REDIS_MESSAGE}", err=True)
        raise SystemExit(code_without_url)
    store = ResultStore.from_settings(settings)
    if not store.ping():
        click.echo(
            f"flowdesk: cannot reach Redis at {mask_secrets(settings.service.redis_url)}", err=True
        )
        raise SystemExit(EXIT_REDIS)
    return store
