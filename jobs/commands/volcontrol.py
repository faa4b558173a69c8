"""``flowdesk volcontrol PRICES_FILE --as-of D [--aum USD] [--estimator ewma|sma] [--json]``.

Volatility-control funds' exposure and flows (:mod:`flows.volcontrol`) from a daily price file
of any supported layout (Cboe daily prices, FRED ``fredgraph.csv``, Yahoo-style OHLCV; gzip
allowed).  ``--as-of`` picks the close (the last one on or before the date, with a warning when
the date itself has none); later rows are ignored.  AUM: ``--aum``, else ``[volcontrol]``'s
calibration (when its window is in the file), else ``[volcontrol].aum_usd``.

JSON keys (USD unless named): ``exposure`` (fraction of AUM at the as-of close),
``exposure_change_10d`` (fraction, over the last 10 sessions), ``flow_usd_1d`` (the flow at the
next session's close, already fixed by the lagged rule; + = buy), ``scenarios`` (list of
``daily_move_pct``, ``sessions``, ``flow_usd``: the flow summed over that many sessions of moves
of that size with alternating sign, so the level stays put and only volatility changes), and
``quality`` (the price file's :class:`flows.quality.Quality`).  A bad file, date or option
exits with status 2 and names the file, row and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from jobs.commands._common import (
    emit,
    exit_on_input_error,
    money,
    parse_day,
    plain,
    settings_or_default,
)

JSON_KEYS = ("exposure", "exposure_change_10d", "flow_usd_1d", "scenarios", "quality")
QUALITY_FAMILY = "prices"


def load_prices(path: Path, as_of: str, family: str = QUALITY_FAMILY) -> tuple[Any, Any, Any, Any]:
    """``(frame, quality, as_of date, settings)``: parse the file, enforce the quality
    threshold, warn when ``as_of`` is not a session (the session before it is used); refuse an
    ``as_of`` whose session has no close in the file (InputError: a stale or gapped file)."""
    import pandas as pd

    from flows.errors import InputError
    from flows.quality import enforce
    from flows.sources import price_files

    day = parse_day(as_of, "--as-of")
    settings = settings_or_default()
    frame, q = price_files.read(path)
    dates = pd.DatetimeIndex(frame["date"])
    if day < dates[0]:
        raise InputError(
            str(path),
            "--as-of",
            f"{day.date()} is before the file's first close ({dates[0].date()})",
        )
    used = dates[int(dates.searchsorted(day, side="right")) - 1]
    from flows.calendars import session_on_or_before

    session = session_on_or_before([day])[0]
    if pd.notna(session) and used < session:
        # a holiday or weekend --as-of takes the session before it; a session the file lacks (a
        # stale drop file, a gap) would print old figures as today's: refused
        raise InputError(
            str(path),
            "--as-of",
            f"no close for the session of {session.date()} (the last session on or before {day.date()}): the file's last close before it is {used.date()}; is the file stale?",
        )
    if used != day:
        q.warn(
            f"no close on {day.date()} in the file: the last close before it ({used.date()}) is used"
        )
    enforce(q, settings.quality.threshold(family))
    return frame, q, used, settings


def volcontrol_report(
    path: Path, as_of: str, aum: float | None, estimator: str | None
) -> tuple[dict[str, Any], Any, Any]:
    """``(json document, report, quality)`` for the command."""
    from flows import calibration, volcontrol
    from flows.errors import InputError

    frame, q, day, settings = load_prices(path, as_of)
    cfg = settings.volcontrol
    est = estimator or cfg.estimator
    sub = cfg.ewma if est == "ewma" else cfg.sma
    extra = {"decays": tuple(sub.decays)} if est == "ewma" else {"windows": tuple(sub.windows)}
    params = volcontrol.preset(est, target_vol=sub.target_vol, cap=sub.cap, lag=sub.lag, **extra)
    if aum is not None:
        cal = calibration.configured(aum, "--aum")
    elif cfg.calibration is not None:
        c = cfg.calibration
        try:
            cal = volcontrol.calibrate(
                frame, c.published_usd, c.start or c.end, c.end, params, c.source
            )
        except InputError as exc:
            q.warn(
                f"[volcontrol.calibration] not usable on this file ({exc.reason}): configured aum_usd used"
            )
            cal = calibration.configured(cfg.aum_usd, "[volcontrol].aum_usd")
    else:
        cal = calibration.configured(cfg.aum_usd, "[volcontrol].aum_usd")
    report = volcontrol.analyze(
        frame,
        as_of=day,
        aum=cal,
        params=params,
        scenario_moves_pct=cfg.scenario_moves_pct,
        scenario_sessions=cfg.scenario_sessions,
        shock_grid_pct=cfg.shock_grid_pct,
    )
    h = report.headline
    doc = {
        "exposure": plain(h["exposure"]),
        "exposure_change_10d": plain(h["exposure_change_10d"]),
        "flow_usd_1d": plain(h["flow_usd_1d"]),
        "scenarios": [
            {
                "daily_move_pct": plain(r["daily_move_pct"]),
                "sessions": plain(r["sessions"]),
                "flow_usd": plain(r["flow_usd"]),
            }
            for r in report.scenarios.to_dict("records")
        ],
        "quality": q.to_dict(),
    }
    return doc, report, q


def summary_text(doc: dict[str, Any], report: Any) -> str:
    h = report.headline
    p = report.params
    lines = [
        f"vol-control ({p.estimator}: target {p.target_vol:.0%}, cap {p.cap:.0%}, lag {p.lag}) as of the close of {h['as_of']}: {h['close']:,.2f}",
        f"{report.calibration.label()}",
        f"volatility {h['sigma']:.1%}  exposure {h['exposure']:.1%} of AUM ({money(h['notional_usd'], signed=False)})  change over 10 sessions {h['exposure_change_10d']:+.1%}",
        f"flow at the next close (already fixed by the lag): {money(h['flow_usd_1d'])}   next 5 sessions, unchanged prices: {money(h['flow_usd_1w_flat'])}",
        f"{'daily move':>11}{'sessions':>10}{'flow':>18}",
    ]
    for s in doc["scenarios"]:
        lines.append(f"{s['daily_move_pct']:>10.2f}%{s['sessions']:>10}{money(s['flow_usd']):>18}")
    lines.append(
        "(+ = buy index futures; alternating moves keep the level and change only volatility)"
    )
    return "\n".join(lines)


@click.command("volcontrol")
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
    help="Vol-control AUM in USD (default: [volcontrol] calibration or aum_usd).",
)
@click.option(
    "--estimator",
    type=click.Choice(["ewma", "sma"]),
    default=None,
    help="ewma: max of EWMA 0.94/0.97 (default); sma: max of 20/40-session vol.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON (exposure, exposure_change_10d, flow_usd_1d, scenarios, quality).",
)
def volcontrol_command(
    prices_file: Path, as_of: str, aum: float | None, estimator: str | None, as_json: bool
) -> None:
    """Volatility-control funds: exposure, next-session flow and volatility scenarios from PRICES_FILE."""
    with exit_on_input_error():
        doc, report, q = volcontrol_report(prices_file, as_of, aum, estimator)
    emit(doc, as_json, lambda: summary_text(doc, report), q)


COMMANDS = [volcontrol_command]
