"""``flowdesk status [--json]``: the health report of :mod:`jobs.health`, as text or JSON.

Exit 0 (even when stale: it is a report), 3 when Redis is unreachable.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from jobs.cli.state import EXIT_REDIS
from jobs.cli.state import state as cli_state

if TYPE_CHECKING:
    from jobs.config import Settings


def collect_status(settings: Settings) -> tuple[dict[str, Any], bool]:
    """The status report as plain data (:meth:`jobs.health.Health.to_dict`), and whether Redis
    answered.

    Per job: ``job``, ``task``, ``cron``, ``second``, ``enabled``, ``trading_days_only``,
    ``last_run`` (run record or null), ``last_success`` (run record or null), ``age_minutes``
    (since the last success ended), ``stale_after_minutes``, ``stale`` (the job's state is not
    ``fresh``: last run failed, never succeeded, or last success older than
    ``stale_after_minutes``), ``error`` (of the last run when it did not succeed).  Per result:
    name, as-of, computed-at, source, status, rows, error, ``freshness`` (``ok``/``amber``/``red``
    by the as-of rule of :mod:`jobs.health`) and its reason, and ``warnings`` (the result's own,
    e.g. ``cftc.net_usd`` behind the CFTC release calendar: shown, never a failure).
    """
    from jobs.health import collect

    health = collect(settings)
    return health.to_dict(), health.redis_ok


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=False)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in rows
    ]
    return "\n".join(lines)


def _short_time(iso: str | None, tz: str | None = None) -> str:
    """An instant in the desk zone ``tz`` (``2026-11-30 09:14:03 EST``; ``-`` when none)."""
    from flows.formatting import format_time  # local: `flowdesk --help` stays light

    return format_time(iso, tz, seconds=True, missing="-")


def _fmt_minutes(m: float | None) -> str:
    """An age in minutes as :func:`jobs.health.format_age` writes it (``42 s``, ``7 min``, ``3.5 h``)."""
    from jobs.health import format_age

    return format_age(m * 60.0 if m is not None else None)


def format_status(
    report: dict[str, Any], states: dict[str, str] | None = None, tz: str | None = None
) -> str:
    """The text report: Redis, scheduler, a jobs table and a results table.

    ``states``: job -> :data:`jobs.health.JOB_STATES` word (shown upper-case unless ``fresh``);
    ``tz``: the desk zone every time is written in (``[service] timezone``; New York when None).
    """
    j_state = {
        job: (word if word == "fresh" else word.upper()) for job, word in (states or {}).items()
    }
    out = []
    redis_info = report["redis"]
    out.append(f"config:    {report['config']}")
    out.append(
        f"redis:     {'ok' if redis_info['ok'] else 'UNREACHABLE'}  {redis_info['url'] or '-'}"
        + (f"  ({redis_info['error']})" if redis_info.get("error") else "")
    )
    beat = report["scheduler"]
    if beat:
        state = "ok" if beat.get("alive") else "NOT BEATING"
        out.append(
            f"scheduler: {state}, heartbeat {beat['age_s']:.0f} s ago (pid {beat.get('pid')} on {beat.get('host')}, leader={beat.get('leader')})"
        )
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
                j["cron"]
                + (f" s={j['second']}" if j.get("second", "0") != "0" else "")
                + ("" if j["enabled"] else " (disabled)"),
                last.get("status", "never"),
                _short_time(last.get("started_at"), tz),
                f"{last['duration_s']:.2f}s" if last.get("duration_s") is not None else "-",
                str(last.get("rows", "-")),
                _short_time((j["last_success"] or {}).get("ended_at"), tz),
                _fmt_minutes(j["age_minutes"]),
                j_state.get(j["job"], "fresh" if not j["stale"] else "STALE"),
                (
                    j["error"]
                    or (last.get("detail") if last.get("status") == "skipped" else "")
                    or ""
                )[:80],
            ]
        )
    out.append(
        _table(
            rows,
            [
                "JOB",
                "TASK",
                "CRON",
                "LAST",
                "STARTED",
                "DURATION",
                "ROWS",
                "LAST SUCCESS",
                "AGE",
                "STATE",
                "ERROR",
            ],
        )
    )
    out.append("")
    if report["results"]:
        rrows = [
            [
                r["name"],
                _short_time(r["as_of"], tz),
                _short_time(r["computed_at"], tz),
                r["source"] + (" (SAMPLE)" if r["sample"] else ""),
                r["status"].upper() if r["status"] != "ok" else "ok",
                {"ok": "fresh", "amber": "AGING", "red": "STALE"}.get(
                    r.get("freshness") or "", "-"
                ),
                str(r["rows"]),
                (r["error"] or r.get("freshness_reason") or "")[:80],
            ]
            for r in report["results"]
        ]
        out.append(
            _table(
                rrows,
                ["RESULT", "AS OF", "COMPUTED", "SOURCE", "STATUS", "FRESHNESS", "ROWS", "ERROR"],
            )
        )
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
    from jobs.health import collect

    settings = cli_state(ctx).settings()
    health = collect(settings)
    report = health.to_dict()
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=False, default=str))
    else:
        click.echo(
            format_status(
                report, {j.job: j.state for j in health.jobs}, tz=settings.service.timezone
            )
        )
    if not health.redis_ok:
        raise SystemExit(EXIT_REDIS)
