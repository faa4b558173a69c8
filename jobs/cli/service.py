"""The long-running processes: ``flowdesk run``, ``web``, ``scheduler`` and ``redis``.

* ``run [--host H] [--port N] [--ephemeral] [--redis-dir D]``: everything on a desk laptop: the
  embedded Redis when no ``REDIS_URL`` is set (persisting to ``service.redis_dir``; restarted
  with its data if it dies, see :mod:`jobs.supervisor`), the web app on http://127.0.0.1:8050
  at once, one refresh of every enabled job beside it (progress in the page header), then the
  scheduler (a child process) and the alert delivery worker.
* ``scheduler``: the scheduler process (needs ``REDIS_URL``; never starts an embedded Redis).
* ``web [--host H] [--port N]``: the Dash development server (production: gunicorn, see Procfile).
* ``redis [--port N] [--ephemeral] [--redis-dir D]``: the embedded Redis in the foreground
  (``Procfile.dev``), persistent like ``run``'s.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from flows.errors import ConfigError, FlowdeskError
from jobs.cli.state import EXIT_CONFIG, EXIT_REDIS, store_or_exit
from jobs.cli.state import state as cli_state
from jobs.health import NO_REDIS_MESSAGE
from jobs.logs import configure_logging

log = logging.getLogger("flowdesk.cli")


# -- shared by the commands -------------------------------------------------------------
def _sigterm_is_ctrl_c(*, unless_handled: bool = False) -> None:
    """From now on SIGTERM raises KeyboardInterrupt (werkzeug and the clean-ups stop on it);
    ``unless_handled``: only when no handler is installed yet."""

    def interrupt(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    if not unless_handled or signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, interrupt)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # started in the background of a non-interactive shell (`scripts/run &`), the process
        # inherits "ignore SIGINT": Ctrl-C / kill -INT would then stop the children but not this
        # process, which restarts them; restore Python's KeyboardInterrupt
        signal.signal(signal.SIGINT, signal.default_int_handler)


@contextmanager
def _redis_start_errors() -> Iterator[None]:
    """An embedded Redis that cannot start: its data folder is locked (exit 2) or it failed (3)."""
    from jobs.redis_server import DataDirBusy

    try:
        yield
    except DataDirBusy as exc:
        click.echo(f"flowdesk: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from None
    except RuntimeError as exc:
        click.echo(f"flowdesk: {exc}", err=True)
        raise SystemExit(EXIT_REDIS) from None


def _web_app(host: str) -> Any:
    """The Dash app, set up before any server thread; an unservable configuration exits 2."""
    from dashboard.app import create_app, warm_up

    try:
        app = create_app(host=host)
        warm_up(app)  # Dash's one-time set-up, before the server's threads race into it
    except (
        FlowdeskError
    ) as exc:  # e.g. an exposed host without FLOWDESK_USERS / FLOWDESK_API_TOKENS
        click.echo(f"flowdesk: cannot serve the web app on {host}: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from None
    return app


def _announce(host: str, port: int) -> None:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(
        f"\n  flowdesk dashboard: http://{shown}:{port}/   (bound to {host}; Ctrl-C to stop)\n",
        err=True,
    )


# -- scheduler ----------------------------------------------------------------------------
@click.command()
@click.pass_context
def scheduler(ctx: click.Context) -> None:
    """Run the scheduler process (needs REDIS_URL; stop with SIGTERM or Ctrl-C)."""
    state = cli_state(ctx)
    settings = state.setup_logging()
    if not settings.service.redis_url:
        click.echo(
            f"flowdesk: the scheduler never starts an embedded Redis; {NO_REDIS_MESSAGE}", err=True
        )
        raise SystemExit(EXIT_CONFIG)
    from jobs.scheduler import run_scheduler

    try:
        code = run_scheduler(settings)
    except ConfigError as exc:
        click.echo(f"flowdesk: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from None
    if code == 1:
        code = EXIT_REDIS
    raise SystemExit(code)


# -- web ----------------------------------------------------------------------------------
def _cannot_listen(host: str, port: int, exc: OSError) -> NoReturn:
    """Exit 2 (a usage problem, not a failed job) naming the address and ``--port``."""
    click.echo(
        f"flowdesk: cannot listen on {host}:{port}: {exc.strerror or exc} (another server there? use --port)",
        err=True,
    )
    raise SystemExit(EXIT_CONFIG) from None


def _serve(host: str, port: int) -> None:
    from jobs.supervisor import check_port_free

    try:
        check_port_free(host, port)
    except OSError as exc:
        _cannot_listen(host, port, exc)
    app = _web_app(host)
    _sigterm_is_ctrl_c(unless_handled=True)
    _announce(host, port)
    app.run(host=host, port=port, debug=False)


@click.command()
@click.option(
    "--host",
    default=None,
    help="Address to bind (default: web.host, 127.0.0.1). Non-loopback requires login.",
)
@click.option("--port", default=None, type=int, help="Port (default: web.port, 8050).")
@click.pass_context
def web(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the Dash app with the development server (production: gunicorn via the Procfile)."""
    state = cli_state(ctx)
    settings = state.setup_logging()
    if not settings.service.redis_url:
        log.warning("web without Redis: %s", NO_REDIS_MESSAGE)
    else:
        os.environ["REDIS_URL"] = settings.service.redis_url
    _serve(host or settings.web.host, port or settings.web.port)


# -- run ----------------------------------------------------------------------------------
@click.command()
@click.option(
    "--host",
    default=None,
    help="Address to bind (default: web.host, 127.0.0.1). Non-loopback requires login.",
)
@click.option("--port", default=None, type=int, help="Port (default: web.port, 8050).")
@click.option("--no-refresh", is_flag=True, help="Skip the first refresh of every job.")
@click.option(
    "--ephemeral",
    is_flag=True,
    help="Embedded Redis without persistence (the data vanish when flowdesk stops).",
)
@click.option(
    "--redis-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data folder of the embedded Redis (default: service.redis_dir, var/redis).",
)
@click.pass_context
def run(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    no_refresh: bool,
    ephemeral: bool,
    redis_dir: Path | None,
) -> None:
    """Everything on one machine: Redis (embedded if none), the web app, a refresh, the scheduler.

    The web app answers at once; the first refresh runs beside it (progress in the page header)
    and the scheduler starts when it ends.  A dying embedded Redis is restarted with its data
    (see jobs.supervisor); after repeated failures flowdesk exits with code 3.
    """
    state = cli_state(ctx)
    settings = state.setup_logging()
    from jobs.redis_server import ensure_redis_url
    from jobs.supervisor import GaveUp, Supervisor, serve_in_thread

    # From here on SIGTERM is a KeyboardInterrupt, handled by the one clean-up below.
    _sigterm_is_ctrl_c()
    data_dir = None if ephemeral else (redis_dir or Path(settings.service.redis_dir))
    # Main thread, before any other thread: the embedded server's PDEATHSIG follows this thread.
    try:
        with _redis_start_errors():
            url, embedded = ensure_redis_url(
                os.environ, settings.service.redis_url, data_dir=data_dir
            )
    except KeyboardInterrupt:
        return
    supervisor = Supervisor(embedded, refresh=not no_refresh)
    web_server = worker = None
    code = 0
    try:
        os.environ["REDIS_URL"] = url
        settings.service.redis_url = url
        store = store_or_exit(settings)
        host = host or settings.web.host
        port = port or settings.web.port
        from jobs.scheduler import start_delivery_worker

        app = _web_app(host)
        try:
            web_server, supervisor.web_thread = serve_in_thread(app, host, port)
        except OSError as exc:
            _cannot_listen(host, port, exc)
        _announce(host, port)
        supervisor.begin()
        worker = start_delivery_worker(settings, store)
        supervisor.run()
    except KeyboardInterrupt:
        pass
    except GaveUp as exc:
        log.critical("flowdesk run gives up: %s", exc)
        click.echo(f"flowdesk: {exc}", err=True)
        code = EXIT_REDIS
    finally:
        log.info("flowdesk run stopping")
        # Web and worker first, then the children, then Redis: nothing should outlive its Redis.
        if web_server is not None:
            web_server.shutdown()
        if worker is not None:
            try:
                worker.stop()
            except Exception as exc:
                log.warning("alert delivery worker stop failed error=%s", exc)
        supervisor.shutdown()
    if code:
        raise SystemExit(code)


# -- redis --------------------------------------------------------------------------------
@click.command("redis")
@click.option("--port", default=6390, show_default=True, type=int, help="Port on 127.0.0.1.")
@click.option("--ephemeral", is_flag=True, help="No persistence (the data vanish when it stops).")
@click.option(
    "--redis-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data folder (default: service.redis_dir, var/redis).",
)
@click.pass_context
def redis_cmd(ctx: click.Context, port: int, ephemeral: bool, redis_dir: Path | None) -> None:
    """Run the embedded development Redis in the foreground (Procfile.dev); Ctrl-C stops it."""
    configure_logging(None)
    from jobs.redis_server import start_embedded_redis

    data_dir = (
        None if ephemeral else (redis_dir or Path(cli_state(ctx).settings().service.redis_dir))
    )
    with _redis_start_errors():
        server = start_embedded_redis(port=port, data_dir=data_dir)
    kept = f"persisting to {server.data_dir}" if server.persistent else "not persistent"
    click.echo(
        f"embedded redis ready: REDIS_URL={server.url}  (development only, {kept})", err=True
    )

    _sigterm_is_ctrl_c()
    try:
        code = server.process.wait()
        log.error("embedded redis exited code=%s", code)
        raise SystemExit(EXIT_REDIS)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        log.info("embedded redis stopped port=%d", port)
