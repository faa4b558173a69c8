"""``flowdesk cta PRICES_FILE --as-of D [--aum USD] [--json]``: CTA trend-follower positioning.

The modelled position (:mod:`flows.cta`, rules from ``[cta].signals``), the trigger level of
each rule for the next session and the flows on flat / up / down tapes, from a daily price file
of any supported layout.  ``--as-of``: the last close on or before it (warned when the date has
no close).  AUM: ``--aum``, else ``[cta]``'s calibration (a published modelled position, when
its date is in the file), else ``[cta].aum_usd``.

JSON keys (USD unless named): ``position`` (fraction of AUM, + = long), ``triggers`` (list of
``lookback``, ``level`` (index points; null when no level can flip the rule in one session),
``distance_pct`` (percent from the close), ``days_to_flip`` (sessions if the price stays flat;
null when never)), ``scenarios`` (list of ``tape`` flat/up/down, ``horizon`` 1w/1m, ``flow_usd``
(+ = buy)), ``quality``.  Bad input exits with status 2 naming the file, row and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from jobs.commands._common import emit, exit_on_input_error, money, plain
from jobs.commands.volcontrol import load_prices

JSON_KEYS = ("position", "triggers", "scenarios", "quality")


def cta_report(path: Path, as_of: str, aum: float | None) -> tuple[dict[str, Any], Any, Any]:
    """``(json document, report, quality)`` for the command."""
    from flows import calibration, cta
    from flows.errors import InputError

    frame, q, day, settings = load_prices(path, as_of)
    cfg = settings.cta
    params = cta.CtaParams(
        signals=tuple(cfg.signals),
        target_vol=cfg.target_vol,
        cap=cfg.cap,
        vol_com_days=cfg.vol_com_days,
        vol_lag=cfg.vol_lag,
        cash_rate=cfg.cash_rate,
    )
    if aum is not None:
        cal = calibration.configured(aum, "--aum")
    elif cfg.calibration is not None:
        c = cfg.calibration
        try:
            cal = cta.calibrate(frame, c.published_usd, c.end, params, c.source)
        except InputError as exc:
            q.warn(
                f"[cta.calibration] not usable on this file ({exc.reason}): configured aum_usd used"
            )
            cal = calibration.configured(cfg.aum_usd, "[cta].aum_usd")
    else:
        cal = calibration.configured(cfg.aum_usd, "[cta].aum_usd")
    report = cta.analyze(
        frame,
        as_of=day,
        aum=cal,
        params=params,
        tape_sigmas=cfg.tape_sigmas,
        shock_grid_pct=cfg.shock_grid_pct,
    )
    doc = {
        "position": plain(report.headline["position"]),
        "triggers": [
            {
                "lookback": r["lookback"],
                "level": plain(r["level"]),
                "distance_pct": plain(r["distance_pct"]),
                "days_to_flip": None
                if r["days_to_flip"] != r["days_to_flip"]
                else int(r["days_to_flip"]),
            }
            for r in report.triggers.to_dict("records")
        ],
        "scenarios": [
            {"tape": r["tape"], "horizon": r["horizon"], "flow_usd": plain(r["flow_usd"])}
            for r in report.scenarios.to_dict("records")
        ],
        "quality": q.to_dict(),
    }
    return doc, report, q


def summary_text(doc: dict[str, Any], report: Any) -> str:
    h = report.headline
    lines = [
        f"CTA trend ({', '.join(report.params.signals)}) as of the close of {h['as_of']}: {h['close']:,.2f}",
        report.calibration.label(),
        f"position {h['position']:+.1%} of AUM ({money(h['position_usd'])}), mean signal {h['signal_mean']:+.2f}, volatility {h['sigma']:.1%}",
        f"{'rule':<14}{'signal':>7}{'trigger':>12}{'distance':>10}{'days to flip (flat)':>22}",
    ]
    for t in report.triggers.to_dict("records"):
        level = f"{t['level']:,.2f}" if t["level"] == t["level"] else "none"
        dist = f"{t['distance_pct']:+.2f}%" if t["distance_pct"] == t["distance_pct"] else "n/a"
        days = f"{int(t['days_to_flip'])}" if t["days_to_flip"] == t["days_to_flip"] else "never"
        lines.append(f"{t['lookback']:<14}{int(t['signal']):>+7d}{level:>12}{dist:>10}{days:>22}")
    lines.append(f"{'tape':<6}{'horizon':>8}{'move':>9}{'flow':>16}")
    for s in report.scenarios.to_dict("records"):
        lines.append(
            f"{s['tape']:<6}{s['horizon']:>8}{s['move_pct']:>+8.2f}%{money(s['flow_usd']):>16}"
        )
    lines.append("(+ = buy index futures; up/down tapes move +/- 2 sigma over the horizon)")
    return "\n".join(lines)


@click.command("cta")
@click.argument("prices_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--as-of",
    "as_of",
    required=True,
    metavar="YYYY-MM-DD",
    help="Close to compute at (the last close on or before it).",
)
@click.option(
    "--aum",
    type=float,
    default=None,
    metavar="USD",
    help="CTA capital on this index in USD (default: [cta] calibration or aum_usd).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (position, triggers, scenarios, quality)."
)
def cta_command(prices_file: Path, as_of: str, aum: float | None, as_json: bool) -> None:
    """CTA trend followers: position, trigger levels and tape scenarios from PRICES_FILE."""
    with exit_on_input_error():
        doc, report, q = cta_report(prices_file, as_of, aum)
    emit(doc, as_json, lambda: summary_text(doc, report), q)


COMMANDS = [cta_command]
