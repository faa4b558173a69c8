"""``flowdesk alerts ...``: test a target, list rules and the outbox, re-send, run the delivery worker."""

from __future__ import annotations

import json
import logging
import signal
import sys
from typing import Any

import click

from flows.formatting import format_time
from jobs.config import ConfigError, Settings
from jobs.logs import mask_secrets, secret_literals
from jobs.store import ResultStore
from jobs.validate import load_settings


def _settings(ctx: click.Context) -> Settings:
    """The CLI's settings when the parent group loaded them (``ctx.obj``), else ``config.toml``."""
    obj = ctx.find_root().obj
    found = obj.get("settings") if isinstance(obj, dict) else getattr(obj, "settings", None)
    if callable(found):  # jobs.cli.CliState.settings(): loads once, exits 2 on a config error
        found = found()
    if isinstance(found, Settings):
        return found
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _store(settings: Settings) -> ResultStore:
    """A connected store, or a clear message and exit (2 without a Redis URL, 3 if unreachable)."""
    try:
        store = ResultStore.from_settings(settings)
    except RuntimeError as exc:
        click.echo(f"flowdesk: {exc}", err=True)
        raise SystemExit(2) from None
    if not store.ping():
        click.echo(
            f"flowdesk: cannot reach Redis at {_masked(settings.service.redis_url or '')}", err=True
        )
        raise SystemExit(3)
    return store


def _masked(text: str, settings: Settings | None = None) -> str:
    """``text`` with every secret masked: URL passwords, tokens, and every form of the alert
    targets' URLs and secrets (never print a webhook URL: it is a credential)."""
    return mask_secrets(text, secret_literals(settings))


def _echo(text: str, settings: Settings, **kw: Any) -> None:
    click.echo(_masked(text, settings), **kw)


def _when(epoch: Any, tz: str | None = None) -> str:
    """Epoch seconds in the desk zone ``tz`` (:func:`flows.formatting.format_time`; ``-`` when none)."""
    if epoch in (None, ""):
        return "-"
    return format_time(float(epoch), tz, seconds=True)


@click.group("alerts")
def alerts() -> None:
    """Alert rules, targets and webhook delivery."""


@alerts.command("test")
@click.argument("target")
@click.pass_context
def test_cmd(ctx: click.Context, target: str) -> None:
    """Send a test message to TARGET now and report the HTTP status."""
    from jobs.alerts import TargetConfigError, send_test

    settings = _settings(ctx)
    try:
        result = send_test(settings, target)
    except TargetConfigError as exc:
        raise click.ClickException(_masked(str(exc), settings)) from None
    if result.ok:
        click.echo(f"{target}: HTTP {result.status} OK")
        return
    status = f"HTTP {result.status}" if result.status is not None else "no answer"
    raise click.ClickException(_masked(f"{target}: {status}: {result.error}", settings))


@alerts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option(
    "--limit", default=20, show_default=True, help="Rows of outbox, dead letters and events shown."
)
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool, limit: int) -> None:
    """Rules with their current state, the outbox (pending / in flight) and dead letters."""
    from jobs.alerts import (
        counts,
        dead_letters,
        fmt_value,
        outbox_entries,
        recent_events,
        rule_states,
    )

    settings = _settings(ctx)
    client = _store(settings).redis
    rules = rule_states(settings, client)
    outbox = outbox_entries(client, limit)
    dead = dead_letters(client, limit)
    events = [e.to_dict() for e in recent_events(client, limit)]
    totals = counts(client)
    if as_json:
        doc = {
            "rules": rules,
            "targets": {n: t.model_dump() for n, t in settings.alerts.targets.items()},
            "counts": totals,
            "outbox": outbox,
            "dead": dead,
            "events": events,
        }
        _echo(json.dumps(doc, indent=2, default=str), settings)
        return
    tz = settings.service.timezone
    click.echo(f"Rules ({len(rules)}):")
    for r in rules:
        value = fmt_value(r["last_value"])
        unit = f" {r['unit']}" if r.get("unit") else ""
        click.echo(
            f"  {r['rule']:<24} {r['state']:<8} {r['metric']} ({r.get('unit') or 'unit unknown'}) {r['condition']}  [{r['severity']}]  last value {value}{unit}  last fired {format_time(r['last_fired'], tz, seconds=True, missing='-')}  -> {r['targets'] or '(no targets)'}"
        )
    click.echo(
        f"Targets ({len(settings.alerts.targets)}): "
        + ", ".join(
            f"{n} ({t.kind}{', digest' if t.digest else ''})"
            for n, t in settings.alerts.targets.items()
        )
    )
    click.echo(
        f"Outbox: {totals['pending']} pending, {totals['inflight']} in flight; {totals['dead']} dead-lettered; {totals['delivered']} delivered (recent)"
    )
    for d in outbox:
        _echo(
            f"  {d['id']}  {d['state']:<8} target={d['target']} attempts={d['attempts']} next={_when(d.get('next_attempt_at'), tz)} {d.get('last_error') or ''}",
            settings,
        )
    if dead:
        click.echo("Dead letters (re-send with `flowdesk alerts resend ID`):")
        for d in dead:
            _echo(
                f"  {d['id']}  target={d['target']} attempts={d['attempts']} at={_when(d.get('dead_at'), tz)} {d.get('last_error') or ''}",
                settings,
            )


@alerts.command("resend")
@click.argument("delivery_id")
@click.pass_context
def resend_cmd(ctx: click.Context, delivery_id: str) -> None:
    """Put dead-lettered delivery DELIVERY_ID back in the outbox (same event id, attempts reset)."""
    from jobs.alerts import resend

    settings = _settings(ctx)
    try:
        resend(_store(settings).redis, delivery_id)
    except (KeyError, ValueError) as exc:
        raise click.ClickException(str(exc.args[0] if exc.args else exc)) from None
    click.echo(f"{delivery_id}: queued again; a running delivery worker will send it")


@alerts.command("deliver")
@click.option(
    "--threads", type=int, default=None, help="Worker threads (default: alerts.delivery_threads)."
)
@click.option(
    "--until-idle", is_flag=True, help="Exit once the outbox is empty instead of running forever."
)
@click.pass_context
def deliver_cmd(ctx: click.Context, threads: int | None, until_idle: bool) -> None:
    """Run the webhook delivery worker in the foreground (a Procfile line: `alerts: flowdesk alerts deliver`)."""
    from jobs.alerts import DeliveryWorker

    settings = _settings(ctx)
    store = _store(settings)
    setup = getattr(ctx.find_root().obj, "setup_logging", None)
    if callable(setup):  # the flowdesk group's logging (text or JSON, per config)
        setup()
    elif not logging.getLogger().handlers:
        logging.basicConfig(
            level=settings.service.log_level,
            format="%(asctime)s %(levelname)s %(name)s %(message)s",
        )
    worker = DeliveryWorker(settings, store.redis, threads=threads)
    if until_idle:
        worker.run_until_idle(timeout_s=3600)
        return

    def _term(_signo: int, _frame: Any) -> None:
        worker.stop(timeout=0)

    signal.signal(signal.SIGTERM, _term)
    click.echo(
        f"delivering alerts from the outbox ({worker.threads_n} threads); Ctrl-C to stop", err=True
    )
    try:
        worker.run_forever()
    except KeyboardInterrupt:
        worker.stop()
        sys.exit(0)


COMMANDS = [alerts]
