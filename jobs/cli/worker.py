"""``flowdesk worker``: an RQ worker for the fanned-out jobs (the universe's shards, names opened
on the Single names page).

Any number of workers, on any machine, pointing at the same Redis (``REDIS_URL``); each runs one
job at a time in a forked work horse.  SIGTERM or Ctrl-C finishes the job in hand, then stops
(a second one stops at once; the job is then retried elsewhere).  Without any worker, ``flowdesk
refresh`` and ``flowdesk run`` execute these jobs in-process.
"""

from __future__ import annotations

import click

from jobs.cli.state import EXIT_CONFIG, state, store_or_exit


@click.command()
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit (scripts and tests).")
@click.option("--name", default=None, help="Worker name (default: RQ's, host and pid).")
@click.pass_context
def worker(ctx: click.Context, burst: bool, name: str | None) -> None:
    """Run an RQ worker for the universe shards and on-demand names (any number, same REDIS_URL)."""
    from jobs import workers

    settings = state(ctx).setup_logging()
    store = store_or_exit(settings, code_without_url=EXIT_CONFIG)
    # import every task (numpy, pandas, pyarrow, the engines) and build the process-wide caches
    # (exchange calendar) once, here: each job runs in a work horse forked from this process,
    # which then starts with them loaded (measured ~2.7 s of imports and ~0.7 s of calendar per job)
    from jobs.tasks import load_tasks
    from jobs.tasks.universe import warm_up

    load_tasks()
    warm_up(settings)
    u = settings.universe
    w = workers.make_worker(
        store.redis,
        name=name,
        timing=workers.WorkerTiming(u.worker_heartbeat_seconds, u.abandoned_after_seconds),
    )
    click.echo(f"flowdesk worker {w.name}: queue {workers.QUEUE}", err=True)
    w.work(burst=burst, logging_level=settings.service.log_level, with_scheduler=False)
