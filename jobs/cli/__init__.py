"""The ``flowdesk`` command: a click group whose sub-commands are imported only when used.

``flowdesk [--config PATH] COMMAND [--config PATH]`` (the option on either side).  Every
command is listed in :data:`COMMANDS` with the module that defines it and its one-line help, so
that ``flowdesk --help`` imports nothing heavy and ``flowdesk gamma FILE`` imports only what the
gamma command needs.  A command whose module fails to import fails loudly (the import error and
its traceback), never silently.

Service commands live in this package (:mod:`jobs.cli.service`: ``run``, ``web``,
``scheduler``, ``redis``; :mod:`jobs.cli.refresh`; :mod:`jobs.cli.status`); the analytic file
commands live in :mod:`jobs.commands`.  A new command adds one row to :data:`COMMANDS` (the test
``tests/jobs/test_cli_table.py`` checks the table against every module's ``COMMANDS`` list and the
help lines against the commands' docstrings).

Exit codes (:mod:`jobs.cli.state`): 0 ok, 1 a job failed, 2 bad configuration, usage or input (the
message names the file, the key and the reason), 3 Redis unreachable.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any, NamedTuple

import click

from jobs.cli.state import (
    EXIT_BROKEN_PIPE,
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_REDIS,
    CliState,
    state,
    store_or_exit,
)

__all__ = [
    "COMMANDS",
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_REDIS",
    "CliState",
    "main",
    "state",
    "store_or_exit",
]


class Entry(NamedTuple):
    """Where a command lives: ``module:attribute``, and its one-line help for ``--help``."""

    target: str
    help: str


COMMANDS: dict[str, Entry] = {
    "run": Entry(
        "jobs.cli.service:run",
        "Everything on one machine: Redis (embedded if none), the web app, a refresh, the scheduler.",
    ),
    "refresh": Entry(
        "jobs.cli.refresh:refresh",
        "Run JOBS now (every enabled job when none is named); exit 1 if any failed.",
    ),
    "scheduler": Entry(
        "jobs.cli.service:scheduler",
        "Run the scheduler process (needs REDIS_URL; stop with SIGTERM or Ctrl-C).",
    ),
    "web": Entry(
        "jobs.cli.service:web",
        "Serve the Dash app with the development server (production: gunicorn via the Procfile).",
    ),
    "status": Entry(
        "jobs.cli.status:status",
        "Last run of every job, staleness, errors, results, Redis and scheduler health.",
    ),
    "worker": Entry(
        "jobs.cli.worker:worker",
        "Run an RQ worker for the universe shards and on-demand names (any number, same REDIS_URL).",
    ),
    "redis": Entry(
        "jobs.cli.service:redis_cmd",
        "Run the embedded development Redis in the foreground (Procfile.dev); Ctrl-C stops it.",
    ),
    "alerts": Entry("jobs.commands.alerts:alerts", "Alert rules, targets and webhook delivery."),
    "gamma": Entry(
        "jobs.commands.gamma:gamma",
        "Dealer gamma exposure of a local CBOE quote-table CSV or options JSON FILE.",
    ),
    "letf": Entry(
        "jobs.commands.letf:letf",
        "Leveraged/inverse ETF rebalance flows (USD per 1% move, trade for --move) of UNIVERSE_FILE.",
    ),
    "cftc": Entry(
        "jobs.commands.cftc:cftc",
        "Net USD positioning (minus the sum of IMM currency positions) from local COT files.",
    ),
    "cftc-backfill": Entry(
        "jobs.commands.cftc:cftc_backfill",
        "Backfill cftc.positions / cftc.fx (live: CFTC yearly files + ECB; sample: generated), then publish cftc.net_usd.",
    ),
    "scenario": Entry(
        "jobs.commands.scenario:scenario",
        "Mechanical flow (dealer hedging + leveraged ETFs) for a move, from the cached results.",
    ),
    "volcontrol": Entry(
        "jobs.commands.volcontrol:volcontrol_command",
        "Volatility-control funds: exposure, next-session flow and volatility scenarios from PRICES_FILE.",
    ),
    "cta": Entry(
        "jobs.commands.cta:cta_command",
        "CTA trend followers: position, trigger levels and tape scenarios from PRICES_FILE.",
    ),
    "vixetp": Entry(
        "jobs.commands.vixetp:vixetp_command",
        "VIX futures ETPs: index return, rebalance and roll per fund on DATE from the VX files in --vx.",
    ),
    "futures-positioning": Entry(
        "jobs.commands.futures_positioning:futures_positioning",
        "Equity-index, VIX and Treasury futures positioning by trader class (CFTC TFF files).",
    ),
    "hash-password": Entry(
        "jobs.commands.web_auth:hash_password",
        "Print a werkzeug password hash for FLOWDESK_USERS (the dashboard's login).",
    ),
}
"""Every ``flowdesk`` sub-command: name -> where it lives and its one-line help."""


CONFIG_HELP = (
    "config.toml to use (default: $FLOWDESK_CONFIG, else ./config.toml, else the repository's)."
)


def _use_config(ctx: click.Context, path: Path) -> None:
    """Select the config file: the group's state names it, and child processes (scheduler, web
    app) read the same file through ``$FLOWDESK_CONFIG``."""
    path = path.resolve()
    os.environ["FLOWDESK_CONFIG"] = str(path)
    found = ctx.find_object(CliState)
    if found is None:
        ctx.obj = CliState(path)
    else:
        found.select(path)  # the settings are read after the options


def _config_option(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        _use_config(ctx, value)


def with_config_option(command: click.Command) -> click.Command:
    """``command`` also taking ``--config PATH`` after its name (``flowdesk gamma FILE --config
    x.toml``), as the group takes it before (``flowdesk --config x.toml gamma FILE``); the
    option is eager, so the file is chosen before any other option is read."""
    if not any(p.name == "config_path" for p in command.params):
        command.params.append(
            click.Option(
                ["--config", "config_path"],
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                expose_value=False,
                is_eager=True,
                callback=_config_option,
                help=CONFIG_HELP,
            )
        )
    return command


def load_command(name: str) -> click.Command:
    """Import and return the command ``name`` of :data:`COMMANDS` (an import error propagates),
    with :func:`with_config_option`."""
    module_name, attr = COMMANDS[name].target.split(":")
    command = getattr(importlib.import_module(module_name), attr)
    if not isinstance(command, click.Command):
        raise TypeError(f"{COMMANDS[name].target} is not a click command")
    return with_config_option(command)


class LazyGroup(click.Group):
    """A group that imports a sub-command's module only when that sub-command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return with_config_option(self.commands[cmd_name])
        if cmd_name not in COMMANDS:
            return None
        return load_command(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; output cut by a closed pipe (``| head``) ends quietly with 141.

        Click would exit 1 there, which the README reserves for a failed job; 141 (128 + SIGPIPE)
        is what a shell reports for any Unix tool whose reader went away.  stdout is pointed at
        ``/dev/null`` so the interpreter's final flush does not raise again."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table's help lines (no import)."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            # a stand-in command carrying the table's help line: click shortens it as usual
            command = self.commands.get(name) or click.Command(name, help=COMMANDS[name].help)
            rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=CONFIG_HELP + " Also taken after the command's name.",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """flowdesk: positioning-flow risk dashboard (jobs, scheduler, web app)."""
    ctx.obj = CliState(None)
    if config_path is not None:
        _use_config(ctx, config_path)
