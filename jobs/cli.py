"""The ``flowdesk`` command.

``flowdesk [--config PATH] COMMAND``:

* ``run [--host H] [--port N] [--ephemeral] [--redis-dir D]``: everything on a desk laptop: the
  embedded Redis when no ``REDIS_URL`` is set (persisting to ``service.redis_dir``; restarted
  with its data if it dies, see :mod:`jobs.supervisor`), the web app on http://127.0.0.1:8050
  at once, one refresh of every enabled job beside it (progress in the page header), then the
  scheduler (a child process) and the alert delivery worker.
* ``refresh [JOB...]``: run jobs now (all enabled ones by default); exit 1 if any failed.
* ``scheduler``: the scheduler process (needs ``REDIS_URL``; never starts an embedded Redis).
* ``web [--host H] [--port N]``: the Dash development server (production: gunicorn, see Procfile).
* ``status [--json]``: last run of every job, staleness, errors, results, Redis and scheduler
  health.  Exit 0 (even when stale: it is a report), 3 when Redis is unreachable.
* ``redis [--port N] [--ephemeral] [--redis-dir D]``: the embedded Redis in the foreground
  (``Procfile.dev``), persistent like ``run``'s.

Analytic commands (``flowdesk gamma ...``) are discovered from :mod:`jobs.commands`: every module
there lists its click commands in ``COMMANDS``.

Exit codes: 0 ok, 1 a job failed, 2 bad configuration or usage (the message names the file, the
key and the reason), 3 Redis unreachable.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import pkgutil
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from jobs.config import ConfigError, Settings, default_config_path
from jobs.logs import configure_logging, mask_secrets
from jobs.validate import load_settings

log = logging.getLogger("flowdesk.cli")

EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_REDIS = 3

NO_REDIS_MESSAGE = (
    "no Redis configured: set REDIS_URL (e.g. export REDIS_URL=redis://127.0.0.1:6379/0) "
    "or service.redis_url in config.toml, or use `flowdesk run`, which starts an embedded "
    "development Redis"
)


class CliState:
    """Shared by the sub-commands: the config path, the settings (loaded once) and the log handler."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._settings: Settings | None = None
        self.log_handler: logging.Handler | None = None

    def settings(self) -> Settings:
        """The validated settings; a config error prints its message and exits with code 2."""
        if self._settings is None:
            path = self.config_path or default_config_path()
            try:
                self._settings = load_settings(path)
            except ConfigError as exc:
                click.echo(f"flowdesk: {exc}", err=True)
                raise SystemExit(EXIT_CONFIG) from None
        return self._settings

    def setup_logging(self) -> Settings:
        settings = self.settings()
        self.log_handler = configure_logging(settings)
        return settings


def _state(ctx: click.Context) -> CliState:
    obj = ctx.find_object(CliState)
    if obj is None:  # a command invoked outside the group (tests calling a command directly)
        obj = CliState(None)
        ctx.obj = obj
    return obj


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="config.toml to use (default: $FLOWDESK_CONFIG, else ./config.toml, else the repository's).",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """flowdesk: positioning-flow risk dashboard (jobs, scheduler, web app)."""
    if config_path is not None:
        config_path = config_path.resolve()
        # Child processes (scheduler, web app) read the same file.
        os.environ["FLOWDESK_CONFIG"] = str(config_path)
    ctx.obj = CliState(config_path)


# -- helpers ------------------------------------------------------------------------------
def _store_or_exit(settings: Settings, *, code_without_url: int = EXIT_CONFIG) -> Any:
    """A connected ResultStore, or a clear message and exit (2 without a URL, 3 if unreachable)."""
    from jobs.store import ResultStore

    if not settings.service.redis_url:
        click.echo(f"flowdesk: {NO_REDIS_MESSAGE}", err=True)
        raise SystemExit(code_without_url)
    store = ResultStore.from_settings(settings)
    if not store.ping():
        click.echo(f"flowdesk: cannot reach Redis at {mask_secrets(settings.service.redis_url)}", err=True)
        raise SystemExit(EXIT_REDIS)
    return store


class _TqdmStream:
    """A stream for the log handler that prints above the progress bar instead of through it."""

    def write(self, text: str) -> int:
        from tqdm import tqdm

        text = text.rstrip("\n")
        if text:
            tqdm.write(text, file=sys.stderr)
        return len(text)

    def flush(self) -> None:
        pass


def refresh_jobs(
    settings: Settings,
    store: Any,
    names: list[str],
    *,
    after_publish: Callable[[list[str]], None] | None = None,
    log_handler: logging.Handler | None = None,
    show_progress: bool | None = None,
    record: Any | None = None,
) -> list[Any]:
    """Run ``names`` one after the other now; returns their run records.

    On a terminal a tqdm bar advances per job, showing the job name and the task's latest
    ``ctx.progress(msg)``; log lines print above the bar.  Elsewhere progress messages are
    logged at DEBUG (one line each; job start and end are logged at INFO).  ``record``: a
    :class:`jobs.refresh_progress.RefreshProgress` kept up to date in Redis for the web header.
    """
    from jobs.runner import run_job

    tty = sys.stderr.isatty() if show_progress is None else show_progress
    records = []
    if record is not None or not tty:
        for name in names:
            if record is not None:
                record.job_started(name)

            def progress(msg: str, _n: str = name) -> None:
                log.debug("job progress job=%s msg=%s", _n, msg)
                if record is not None:
                    record.message(_n, msg)

            run = run_job(settings, store, name, after_publish=after_publish, progress=progress)
            records.append(run)
            if record is not None:
                record.job_finished(name, run.status == "ok")
        if record is not None:
            record.finish()
        return records

    from tqdm import tqdm

    old_stream = None
    if isinstance(log_handler, logging.StreamHandler):
        old_stream = log_handler.setStream(_TqdmStream())  # type: ignore[arg-type]
    try:
        with tqdm(names, desc="refresh", unit="job", file=sys.stderr, dynamic_ncols=True) as bar:
            for name in bar:
                bar.set_postfix_str(name)
                records.append(run_job(settings, store, name, after_publish=after_publish, progress=lambda msg, _n=name, _b=bar: _b.set_postfix_str(f"{_n}: {msg}"[:60])))
    finally:
        if old_stream is not None and isinstance(log_handler, logging.StreamHandler):
            log_handler.setStream(old_stream)
    return records


def _echo_records(records: list[Any]) -> None:
    for r in records:
        line = f"{r.job:<20} {r.status:<8} {r.duration_s or 0:8.2f} s  rows={r.rows}"
        if r.error:
            line += f"  error={r.error}"
        click.echo(line)


# -- refresh ------------------------------------------------------------------------------
@click.command()
@click.argument("jobs", nargs=-1)
@click.option("--record-progress", is_flag=True, hidden=True, help="Keep a progress record in Redis for the web header (flowdesk run's first refresh).")
@click.pass_context
def refresh(ctx: click.Context, jobs: tuple[str, ...], record_progress: bool) -> None:
    """Run JOBS now (every enabled job when none is named); exit 1 if any failed."""
    state = _state(ctx)
    settings = state.setup_logging()
    unknown = [j for j in jobs if j not in settings.jobs]
    if unknown:
        known = ", ".join(sorted(settings.jobs)) or "none configured"
        click.echo(f"flowdesk: unknown job(s): {', '.join(unknown)} (known jobs in {settings.source_path}: {known})", err=True)
        raise SystemExit(EXIT_CONFIG)
    names = list(jobs) or [n for n, j in settings.jobs.items() if j.enabled]
    if not names:
        click.echo("flowdesk: no enabled jobs in the configuration; nothing to refresh", err=True)
        return
    store = _store_or_exit(settings)
    from jobs.scheduler import alerts_hook

    record = None
    if record_progress:
        from jobs.refresh_progress import RefreshProgress

        record = RefreshProgress(store.redis, names)
    records = refresh_jobs(settings, store, names, after_publish=alerts_hook(settings, store), log_handler=state.log_handler, record=record)
    _echo_records(records)
    if any(r.status != "ok" for r in records):
        raise SystemExit(EXIT_FAILED)


# -- scheduler ----------------------------------------------------------------------------
@click.command()
@click.pass_context
def scheduler(ctx: click.Context) -> None:
    """Run the scheduler process (needs REDIS_URL; stop with SIGTERM or Ctrl-C)."""
    state = _state(ctx)
    settings = state.setup_logging()
    if not settings.service.redis_url:
        click.echo(f"flowdesk: the scheduler never starts an embedded Redis; {NO_REDIS_MESSAGE}", err=True)
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
def _serve(host: str, port: int) -> None:
    from dashboard.app import create_app, warm_up
    from flows.errors import FlowdeskError

    try:
        app = create_app(host=host)
        warm_up(app)
    except FlowdeskError as exc:  # e.g. an exposed host without FLOWDESK_USERS / FLOWDESK_API_TOKENS
        click.echo(f"flowdesk: cannot serve the web app on {host}: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from None

    def stop(signum: int, _frame: Any) -> None:  # werkzeug stops cleanly on KeyboardInterrupt
        raise KeyboardInterrupt(signal.Signals(signum).name)

    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, stop)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"\n  flowdesk dashboard: http://{shown}:{port}/   (bound to {host}; Ctrl-C to stop)\n", err=True)
    app.run(host=host, port=port, debug=False)


@click.command()
@click.option("--host", default=None, help="Address to bind (default: web.host, 127.0.0.1). Non-loopback requires login.")
@click.option("--port", default=None, type=int, help="Port (default: web.port, 8050).")
@click.pass_context
def web(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the Dash app with the development server (production: gunicorn via the Procfile)."""
    state = _state(ctx)
    settings = state.setup_logging()
    if not settings.service.redis_url:
        log.warning("web without Redis: %s", NO_REDIS_MESSAGE)
    else:
        os.environ["REDIS_URL"] = settings.service.redis_url
    _serve(host or settings.web.host, port or settings.web.port)


# -- run ----------------------------------------------------------------------------------
@click.command()
@click.option("--host", default=None, help="Address to bind (default: web.host, 127.0.0.1). Non-loopback requires login.")
@click.option("--port", default=None, type=int, help="Port (default: web.port, 8050).")
@click.option("--no-refresh", is_flag=True, help="Skip the first refresh of every job.")
@click.option("--ephemeral", is_flag=True, help="Embedded Redis without persistence (the data vanish when flowdesk stops).")
@click.option("--redis-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Data folder of the embedded Redis (default: service.redis_dir, var/redis).")
@click.pass_context
def run(ctx: click.Context, host: str | None, port: int | None, no_refresh: bool, ephemeral: bool, redis_dir: Path | None) -> None:
    """Everything on one machine: Redis (embedded if none), the web app, a refresh, the scheduler.

    The web app answers at once; the first refresh runs beside it (progress in the page header)
    and the scheduler starts when it ends.  A dying embedded Redis is restarted with its data
    (see jobs.supervisor); after repeated failures flowdesk exits with code 3.
    """
    state = _state(ctx)
    settings = state.setup_logging()
    from jobs.redis_server import DataDirBusy, ensure_redis_url
    from jobs.supervisor import GaveUp, Supervisor, serve_in_thread

    def terminate(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    # From here on SIGTERM is a KeyboardInterrupt, handled by the one clean-up below.
    signal.signal(signal.SIGTERM, terminate)
    data_dir = None if ephemeral else (redis_dir or Path(settings.service.redis_dir))
    # Main thread, before any other thread: the embedded server's PDEATHSIG follows this thread.
    try:
        url, embedded = ensure_redis_url(os.environ, settings.service.redis_url, data_dir=data_dir)
    except DataDirBusy as exc:
        click.echo(f"flowdesk: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from None
    except RuntimeError as exc:
        click.echo(f"flowdesk: {exc}", err=True)
        raise SystemExit(EXIT_REDIS) from None
    except KeyboardInterrupt:
        return
    supervisor = Supervisor(embedded, refresh=not no_refresh)
    web_server = worker = None
    code = 0
    try:
        os.environ["REDIS_URL"] = url
        settings.service.redis_url = url
        store = _store_or_exit(settings)
        host = host or settings.web.host
        port = port or settings.web.port
        from dashboard.app import create_app, warm_up
        from flows.errors import FlowdeskError
        from jobs.scheduler import start_delivery_worker

        try:
            app = create_app(host=host)
            warm_up(app)  # Dash's one-time set-up, before the server's threads race into it
            web_server, supervisor.web_thread = serve_in_thread(app, host, port)
        except FlowdeskError as exc:  # e.g. an exposed host without FLOWDESK_USERS / FLOWDESK_API_TOKENS
            click.echo(f"flowdesk: cannot serve the web app on {host}: {exc}", err=True)
            raise SystemExit(EXIT_CONFIG) from None
        except OSError as exc:
            click.echo(f"flowdesk: cannot listen on {host}:{port}: {exc.strerror or exc} (another server there? use --port)", err=True)
            raise SystemExit(EXIT_CONFIG) from None
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        click.echo(f"\n  flowdesk dashboard: http://{shown}:{port}/   (bound to {host}; Ctrl-C to stop)\n", err=True)
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


# -- status -------------------------------------------------------------------------------
def _age_minutes(iso: str | None, now: datetime) -> float | None:
    if not iso:
        return None
    then = datetime.fromisoformat(iso)
    return round((now - then).total_seconds() / 60.0, 2)


def collect_status(settings: Settings) -> tuple[dict[str, Any], bool]:
    """The status report as plain data, and whether Redis answered.

    Per job: ``job``, ``task``, ``cron``, ``second``, ``enabled``, ``trading_days_only``, ``last_run`` (run record or null),
    ``last_success`` (run record or null), ``age_minutes`` (since the last success ended),
    ``stale_after_minutes``, ``stale`` (no success yet, or older than ``stale_after_minutes``),
    ``error`` (of the last run when it did not succeed).  Per result: name, as-of, computed-at,
    source, status, rows, error, and ``warnings`` (the result's own, e.g. ``cftc.net_usd`` behind
    the CFTC release calendar: shown, never a failure).
    """
    from jobs.store import ResultStore

    url = settings.service.redis_url
    report: dict[str, Any] = {
        "config": settings.source_path,
        "generated_at": datetime.now(UTC).isoformat(),
        "redis": {"ok": False, "url": mask_secrets(url) if url else None},
        "scheduler": None,
        "jobs": [],
        "results": [],
    }
    store = None
    if not url:
        report["redis"]["error"] = NO_REDIS_MESSAGE
    else:
        store = ResultStore.from_settings(settings)
        try:
            store.redis.ping()
            report["redis"]["ok"] = True
        except Exception as exc:
            report["redis"]["error"] = f"{type(exc).__name__}: {mask_secrets(str(exc))}"
            store = None
    now = datetime.now(UTC)
    for name, job in settings.jobs.items():
        last = store.last_run(name) if store else None
        ok = store.last_success(name) if store else None
        age = _age_minutes((ok.ended_at or ok.started_at) if ok else None, now)
        report["jobs"].append(
            {
                "job": name,
                "task": job.task,
                "cron": job.cron,
                "second": job.second,
                "enabled": job.enabled,
                "trading_days_only": job.trading_days_only,
                "last_run": last.to_dict() if last else None,
                "last_success": ok.to_dict() if ok else None,
                "age_minutes": age,
                "stale_after_minutes": job.stale_after_minutes,
                "stale": age is None or age > job.stale_after_minutes,
                "error": last.error if last and last.status not in ("ok", "skipped") else None,
            }
        )
    if store is not None:
        for meta in store.summaries():
            report["results"].append(
                {
                    "name": meta.name,
                    "as_of": meta.as_of,
                    "computed_at": meta.computed_at,
                    "age_minutes": _age_minutes(meta.computed_at, now),
                    "source": meta.source,
                    "status": meta.status,
                    "sample": meta.sample,
                    "rows": meta.rows,
                    "error": (meta.failure or {}).get("error"),
                    # a result's own warnings (cftc.net_usd: "behind schedule: ..."); not failures
                    "warnings": [str(w) for w in (meta.extra or {}).get("warnings", [])],
                }
            )
        beat = store.heartbeat()
        if beat is not None:
            # Alive: beaten within the lease (a leader renews it at least three times per lease).
            beat["alive"] = beat["age_s"] <= max(settings.scheduler.leader_lease_seconds, 3 * settings.scheduler.heartbeat_seconds)
        report["scheduler"] = beat
    return report, bool(report["redis"]["ok"])


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=False)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in rows]
    return "\n".join(lines)


def _short_time(iso: str | None) -> str:
    if not iso:
        return "-"
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _fmt_minutes(m: float | None) -> str:
    if m is None:
        return "-"
    if m < 120:
        return f"{m:.1f}m"
    if m < 48 * 60:
        return f"{m / 60:.1f}h"
    return f"{m / 1440:.1f}d"


def format_status(report: dict[str, Any]) -> str:
    """The text report: Redis, scheduler, a jobs table and a results table."""
    out = []
    redis_info = report["redis"]
    out.append(f"config:    {report['config']}")
    out.append(f"redis:     {'ok' if redis_info['ok'] else 'UNREACHABLE'}  {redis_info['url'] or '-'}" + (f"  ({redis_info['error']})" if redis_info.get("error") else ""))
    beat = report["scheduler"]
    if beat:
        state = "ok" if beat.get("alive") else "NOT BEATING"
        out.append(f"scheduler: {state}, heartbeat {beat['age_s']:.0f} s ago (pid {beat.get('pid')} on {beat.get('host')}, leader={beat.get('leader')})")
    else:
        out.append("scheduler: no heartbeat (is `flowdesk scheduler` running?)")
    out.append("")
    rows = []
    for j in report["jobs"]:
        last = j["last_run"] or {}
        rows.append(
            [
                j["job"],
                j["task"],
                j["cron"] + (f" s={j['second']}" if j.get("second", "0") != "0" else "") + ("" if j["enabled"] else " (disabled)"),
                last.get("status", "never"),
                _short_time(last.get("started_at")),
                f"{last['duration_s']:.2f}s" if last.get("duration_s") is not None else "-",
                str(last.get("rows", "-")),
                _short_time((j["last_success"] or {}).get("ended_at")),
                _fmt_minutes(j["age_minutes"]),
                "STALE" if j["stale"] else "fresh",
                (j["error"] or (last.get("detail") if last.get("status") == "skipped" else "") or "")[:80],
            ]
        )
    out.append(_table(rows, ["JOB", "TASK", "CRON", "LAST", "STARTED", "DURATION", "ROWS", "LAST SUCCESS", "AGE", "STATE", "ERROR"]))
    out.append("")
    if report["results"]:
        rrows = [
            [r["name"], _short_time(r["as_of"]), _short_time(r["computed_at"]), r["source"] + (" (SAMPLE)" if r["sample"] else ""), r["status"].upper() if r["status"] != "ok" else "ok", str(r["rows"]), (r["error"] or "")[:80]]
            for r in report["results"]
        ]
        out.append(_table(rrows, ["RESULT", "AS OF", "COMPUTED", "SOURCE", "STATUS", "ROWS", "ERROR"]))
        for r in report["results"]:
            for w in r.get("warnings") or []:
                out.append(f"warning: {r['name']}: {w}")
    elif redis_info["ok"]:
        out.append("no results published yet (run `flowdesk refresh`)")
    return "\n".join(out)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (stable keys).")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Last run of every job, staleness, errors, results, Redis and scheduler health."""
    settings = _state(ctx).settings()
    report, redis_ok = collect_status(settings)
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=False, default=str))
    else:
        click.echo(format_status(report))
    if not redis_ok:
        raise SystemExit(EXIT_REDIS)


# -- redis --------------------------------------------------------------------------------
@click.command("redis")
@click.option("--port", default=6390, show_default=True, type=int, help="Port on 127.0.0.1.")
@click.option("--ephemeral", is_flag=True, help="No persistence (the data vanish when it stops).")
@click.option("--redis-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Data folder (default: service.redis_dir, var/redis).")
@click.pass_context
def redis_cmd(ctx: click.Context, port: int, ephemeral: bool, redis_dir: Path | None) -> None:
    """Run the embedded development Redis in the foreground (Procfile.dev); Ctrl-C stops it."""
    configure_logging(None)
    from jobs.redis_server import DataDirBusy, start_embedded_redis

    data_dir = None if ephemeral else (redis_dir or Path(_state(ctx).settings().service.redis_dir))
    try:
        server = start_embedded_redis(port=port, data_dir=data_dir)
    except DataDirBusy as exc:
        click.echo(f"flowdesk: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from None
    except RuntimeError as exc:
        click.echo(f"flowdesk: {exc}", err=True)
        raise SystemExit(EXIT_REDIS) from None
    kept = f"persisting to {server.data_dir}" if server.persistent else "not persistent"
    click.echo(f"embedded redis ready: REDIS_URL={server.url}  (development only, {kept})", err=True)

    def stop(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    try:
        code = server.process.wait()
        log.error("embedded redis exited code=%s", code)
        raise SystemExit(EXIT_REDIS)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        log.info("embedded redis stopped port=%d", port)


for _cmd in (run, refresh, scheduler, web, status, redis_cmd):
    main.add_command(_cmd)


def _discover_commands() -> None:
    """Add every command listed in ``COMMANDS`` by the modules of :mod:`jobs.commands`."""
    import jobs.commands as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        module_name = f"{pkg.__name__}.{info.name}"
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # one broken plug-in must not take the whole CLI down
            click.echo(f"flowdesk: warning: cannot load commands from {module_name}: {type(exc).__name__}: {exc}", err=True)
            continue
        for command in getattr(module, "COMMANDS", []):
            if command.name in main.commands:
                click.echo(f"flowdesk: warning: {module_name} redefines command {command.name!r}; ignored", err=True)
                continue
            main.add_command(command)


_discover_commands()


if __name__ == "__main__":
    # ``python -m jobs.cli``: run the group of the importable module, not of this ``__main__``
    # copy, so plug-in commands that import helpers from ``jobs.cli`` share its classes.
    from jobs.cli import main as _main

    _main()
