"""``flowdesk vixetp --vx DIR --date D [--aum FILE] [--json]``: VIX ETP rebalance and roll.

Reads every VX settlement CSV under ``DIR`` (any of the CFE layouts; files overlapping on a
contract must agree), computes the S&P short- and mid-term VIX futures index returns of session
``D`` and each VIX ETP's trades at that close (:mod:`flows.vixetp`; universe with leverage
history from ``[vixetp].universe_file`` or the shipped table).  Assets: ``--aum FILE``
(``ticker, aum_usd[, as_of]``: prior-close net assets, USD); without it the shipped universe's
typical SAMPLE assets are used and a warning says so.

JSON keys: ``date``, ``index_return`` (fraction, the short-term index that session), ``front``,
``second`` (contract codes held over the session, e.g. ``VXG18``), ``front_weight`` (the front's
quantity weight over the session, set at the previous close), ``funds`` (list of ``ticker``,
``leverage`` (for that session), ``rebalance_usd`` (``A*(L**2-L)*R``, + = buy), ``roll_usd``
(USD moved from the front into the second month, signed as the exposure), ``contracts`` (the
rebalance in VX contracts, USD 1,000 per point; null for funds without assets)), ``quality``.
Bad input exits with status 2 naming the file, row and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from jobs.commands._common import (
    emit,
    exit_on_input_error,
    money,
    parse_day,
    plain,
    settings_or_default,
)

JSON_KEYS = ("date", "index_return", "front", "second", "front_weight", "funds", "quality")
QUALITY_FAMILY = "vix_futures"


def read_assets(path: Path) -> Any:
    """``ticker, aum_usd`` from a drop file; skipped rows are an error here (a fund would be lost)."""
    from flows.errors import InputError
    from flows.sources import aum_drop

    raw = aum_drop.fetch(path)
    if raw is None:
        raise InputError(str(path), None, "file not found")
    parsed = aum_drop.parse_aum(raw, str(path))
    frame, skipped = parsed.frame, parsed.skipped
    if len(skipped):
        row = skipped.iloc[0]
        raise InputError(str(path), f"line {row['line']}", f"{row['ticker']}: {row['reason']}")
    return frame


def vixetp_report(
    vx_dir: Path, date: str, aum_file: Path | None
) -> tuple[dict[str, Any], Any, Any]:
    """``(json document, report, quality)`` for the command."""
    import numpy as np

    from flows import vixetp
    from flows.limits import check_range
    from flows.quality import enforce
    from flows.sources import cboe_vx, vixetp_universe

    day = parse_day(date, "--date")
    settings = settings_or_default()
    settlements, q = cboe_vx.read_dir(vx_dir)
    enforce(q, settings.quality.threshold(QUALITY_FAMILY))
    universe = vixetp_universe.read(settings.vixetp.universe_file)
    if aum_file is not None:
        assets = read_assets(aum_file)
        check_range(
            assets["aum_usd"].to_numpy(),
            "vixetp.aum_usd",
            str(aum_file),
            rows=assets["ticker"].to_numpy(),
            field="aum_usd",
        )
    else:
        typical = universe.dropna(subset=["sample_aum_usd"]).drop_duplicates("ticker", keep="last")
        assets = dict(zip(typical["ticker"], typical["sample_aum_usd"], strict=True))
        q.warn(
            "assets: typical SAMPLE values from the shipped universe, not market data (pass --aum FILE with prior-close net assets)"
        )
    report = vixetp.analyze(
        settlements, universe, assets, date=day, moves_pct=settings.vixetp.scenario_moves_pct
    )
    for row in report.excluded.to_dict("records"):
        q.warn(f"{row['ticker']} left out: {row['reason']}")
    h = report.headline
    if not np.isfinite(h["index_return"]):
        # every fund would be left out and the page would print +nan% / +$0: refuse, naming what is missing
        from flows.errors import InputError

        raise InputError(
            str(vx_dir),
            "Settle",
            f"no short-term VIX futures index return on {day.date()}: the held contracts ({h.get('front') or '?'}, {h.get('second') or '?'}) need a settlement on that session and on the one before (a file, row or cell is missing)",
        )
    funds = [
        {
            "ticker": r["ticker"],
            "leverage": plain(r["leverage"]),
            "rebalance_usd": plain(r["rebalance_usd"]),
            "roll_usd": plain(r["roll_usd"]),
            "contracts": plain(r["rebalance_contracts"]),
        }
        for r in report.funds.to_dict("records")
    ]
    lev = {
        r["ticker"]: r["leverage"]
        for r in vixetp.active_funds(universe, day, day).to_dict("records")
    }
    funds += [
        {
            "ticker": t,
            "leverage": plain(lev.get(t, np.nan)),
            "rebalance_usd": None,
            "roll_usd": None,
            "contracts": None,
        }
        for t in report.excluded["ticker"]
    ]
    doc = {
        "date": h["date"],
        "index_return": plain(h["index_return"]),
        "front": h["front"],
        "second": h["second"],
        "front_weight": plain(h["front_weight"]),
        "funds": funds,
        "quality": q.to_dict(),
    }
    return doc, report, q


def _pct(x: float | None) -> str:
    """A fraction as ``+96.10%``; ``n/a`` when not computed (e.g. the mid-term months are not in the folder)."""
    return f"{x:+.2%}" if x is not None and np.isfinite(x) else "n/a"


def summary_text(doc: dict[str, Any], report: Any) -> str:
    h = report.headline
    lines = [
        f"VIX futures ETPs on {h['date']}: short-term index {h['index_return']:+.2%} (held {h['front']} {h['front_weight']:.0%} / {h['second']} {1 - h['front_weight']:.0%}), mid-term {_pct(h['mid_index_return'])}",
        f"rebalance {money(h['rebalance_usd'])} = {h['rebalance_contracts']:+,.0f} VX contracts ({h['pct_of_volume']:.1f} % of the traded contracts' volume with the roll), roll {money(h['roll_usd'])}",
        f"{'fund':<6}{'L':>6}{'assets':>14}{'rebalance':>14}{'contracts':>12}{'roll':>14}",
    ]
    for r in report.funds.to_dict("records"):
        lines.append(
            f"{r['ticker']:<6}{r['leverage']:>+6.1f}{money(r['aum_prev_usd'], signed=False):>14}{money(r['rebalance_usd']):>14}{r['rebalance_contracts']:>+12,.0f}{money(r['roll_usd']):>14}"
        )
    lines.append(
        f"next close: {money(h['per_1pct_usd'])} ({h['per_1pct_contracts']:+,.0f} contracts) per +1 % move of VIX futures (+ = buy)"
    )
    return "\n".join(lines)


@click.command("vixetp")
@click.option(
    "--vx",
    "vx_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of VX settlement CSVs (CFE per-contract files, any layout).",
)
@click.option(
    "--date",
    "date",
    required=True,
    metavar="YYYY-MM-DD",
    help="Session whose index return and trades to compute.",
)
@click.option(
    "--aum",
    "aum_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="CSV ticker,aum_usd of prior-close net assets (default: SAMPLE typical assets, warned).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON (date, index_return, front, second, front_weight, funds, quality).",
)
def vixetp_command(vx_dir: Path, date: str, aum_file: Path | None, as_json: bool) -> None:
    """VIX futures ETPs: index return, rebalance and roll per fund on DATE from the VX files in --vx."""
    with exit_on_input_error():
        doc, report, q = vixetp_report(vx_dir, date, aum_file)
    emit(doc, as_json, lambda: summary_text(doc, report), q)


COMMANDS = [vixetp_command]
