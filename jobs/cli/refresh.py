"""``flowdesk refresh [JOB...]``: run jobs now (all enabled ones by default); exit 1 if any failed."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from jobs.cli.state import EXIT_CONFIG, EXIT_FAILED, store_or_exit
from jobs.cli.state import state as cli_state

if TYPE_CHECKING:
    from jobs.config import Settings

log = logging.getLogger("flowdesk.cli")


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
                records.append(
                    run_job(
                        settings,
                        store,
                        name,
                        after_publish=after_publish,
                        progress=lambda msg, _n=name, _b=bar: _b.set_postfix_str(
                            f"{_n}: {msg}"[:60]
                        ),
                    )
                )
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


@click.command()
@click.argument("jobs", nargs=-1)
@click.option(
    "--record-progress",
    is_flag=True,
    hidden=True,
    help="Keep a progress record in Redis for the web header (flowdesk run's first refresh).",
)
@click.pass_context
def refresh(ctx: click.Context, jobs: tuple[str, ...], record_progress: bool) -> None:
    """Run JOBS now (every enabled job when none is named); exit 1 if any failed."""
    state = cli_state(ctx)
    settings = state.setup_logging()
    unknown = [j for j in jobs if j not in settings.jobs]
    if unknown:
        known = ", ".join(sorted(settings.jobs)) or "none configured"
        click.echo(
            f"flowdesk: unknown job(s): {', '.join(unknown)} (known jobs in {settings.source_path}: {known})",
            err=True,
        )
        raise SystemExit(EXIT_CONFIG)
    names = list(jobs) or [n for n, j in settings.jobs.items() if j.enabled]
    if not names:
        click.echo("flowdesk: no enabled jobs in the configuration; nothing to refresh", err=True)
        return
    store = store_or_exit(settings)
    from jobs.scheduler import alerts_hook

    record = None
    if record_progress:
        from jobs.refresh_progress import RefreshProgress

        record = RefreshProgress(store.redis, names)
    records = refresh_jobs(
        settings,
        store,
        names,
        after_publish=alerts_hook(settings, store),
        log_handler=state.log_handler,
        record=record,
    )
    _echo_records(records)
    if any(r.status != "ok" for r in records):
        raise SystemExit(EXIT_FAILED)
