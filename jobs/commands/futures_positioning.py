"""``flowdesk futures-positioning``: equity-index, VIX and rates futures positioning from TFF files.

``flowdesk futures-positioning --tff FILE ... [--market ES ...] [--close SPX=FILE ...]
[--dv01 ZN=64 ...] [--markets-table FILE] [--min-share 0.9] [--last N] [--json]`` reads CFTC
Traders in Financial Futures futures-only files (``FinFutYY.txt`` or ``fut_fin_txt_YYYY.zip``;
several years, any order), keeps the markets of the markets table
(:mod:`flows.sources.tff_markets`; ``--market`` picks some by symbol) and computes every
market's history by trader class (:mod:`flows.futures_positioning`).

``--json`` prints one object (the rows are wrapped because the input quality is one object
for the whole run, not a field of every row)::

    {"rows": [{"as_of": "2024-12-31", "market": "ES", "code": "13874A", "name": "E-MINI S&P 500 - ...",
               "group": "equity_index", "open_interest": 2058648, "close": null,
               "dealer_net_contracts": ..., "asset_manager_net_contracts": ...,
               "leveraged_funds_net_contracts": ..., "leveraged_funds_percentile_3y": ..., ...}, ...],
     "crowding": [{"symbol": "ZN", "trader_class": "leveraged_funds", "flag": "...", "value": ...,
                   "threshold": 5.0, "flagged": false, ...}, ...],
     "extremes": [...], "headline": {...}, "notes": [...],
     "quality": {"skipped_rows": 0, "skipped_share": 0.0, "warnings": [], ...}}

Each row is one report date and market; per class (``dealer``, ``asset_manager``,
``leveraged_funds``, ``other_reportables``, ``nonreportables``): ``<class>_long``, ``_short``,
``_net_contracts``, ``_net_pct_oi``, ``_net_change_contracts``, ``_zscore_1y|3y|5y``,
``_percentile_1y|3y|5y``, ``_cot_index_1y|3y|5y``, ``_usd_per_point``, ``_notional_usd``
(equity/VIX), ``_dv01_usd_per_bp``, ``_ten_year_equivalents`` (rates).  Units: contracts,
percent of open interest, 0-100, USD, USD per basis point (see
:data:`flows.futures_positioning.UNITS`); null where not computed (a statistic without 90 % of
its window, a notional without a close).  ``--last N`` keeps the last N report weeks.

Exit status 2 with a message naming the file, the row and the field: a bad or implausible
file, an unknown ``--market``, a malformed ``--close``/``--dv01``, or an input whose skipped
share passes ``[quality]`` ``cftc`` (default 1 % of the positions' open interest).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import pandas as pd

from flows.errors import InputError
from jobs.commands._common import echo_quality, exit_on_input_error, plain, settings_or_default

QUALITY_FAMILY = "cftc"
"""The threshold of ``[quality]`` applied to the TFF files (the CFTC family's)."""
PRICES_FAMILY = "prices"


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    """``("SPX=path", ...)`` -> ``{"SPX": "path"}``; InputError naming the option otherwise."""
    out: dict[str, str] = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key.strip() or not val.strip():
            raise InputError(option, None, f"expected SYMBOL=VALUE, got {v!r}")
        out[key.strip().upper()] = val.strip()
    return out


def parse_files(paths: list[Path], codes: list[str]) -> tuple[pd.DataFrame, Any]:
    """Parse TFF files (every one with :func:`flows.sources.cftc_files.parse_report`, the
    ``contract_units`` column included) and concatenate; the same week of a market in two files
    keeps the later file's row, with a warning when the two differ (a revision)."""
    from flows.quality import Quality
    from flows.sources import cftc_files
    from jobs.commands.cftc import _named, _read_text

    quality = Quality(source=", ".join(str(p) for p in paths), basis="positions")
    frames = []
    for i, p in enumerate(paths):
        try:
            q = Quality(source=str(p), basis="positions")
            text = _read_text(p, "tff", q)
            frame, parsed = cftc_files.parse_report(
                text, "tff", str(p), codes, coverage=False, units=True
            )
        except InputError as exc:
            raise _named(exc, p) from None
        quality = quality.merge(q).merge(parsed)
        frames.append(frame.assign(_file=i))
    frame = pd.concat(frames, ignore_index=True)
    numbers = [
        c for c in frame.columns if c not in ("as_of", "code", "market", "contract_units", "_file")
    ]
    twice = frame[frame.duplicated(["as_of", "code"], keep=False)]
    if not twice.empty:
        revised = twice.groupby(["as_of", "code"])[numbers].nunique().max(axis=1) > 1
        for day, code in revised[revised].index[:3]:
            quality.warn(
                f"tff: {code} on {pd.Timestamp(day).date()} differs between two files; the later file's row is used"
            )
    frame = frame.drop_duplicates(["as_of", "code"], keep="last").drop(columns="_file")
    return frame.sort_values(["as_of", "code"], ignore_index=True), quality


def load_closes(
    spec: dict[str, str], threshold: float, quality: Any
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """Closes frame from ``SYMBOL -> file`` (any price layout, :mod:`flows.sources.price_files`);
    each file's findings are carried into ``quality`` as warnings; its own quality is returned."""
    from flows.futures_positioning import closes_frame
    from flows.quality import enforce
    from flows.sources import price_files

    if not spec:
        return None, {}
    frames, qualities = {}, {}
    for sym, path in spec.items():
        frame, q = price_files.read(path, sym)
        enforce(q, threshold)
        if q.skipped_rows:
            quality.warn(
                f"{path}: {q.skipped_rows} of {q.total_rows} close(s) skipped ({', '.join(q.reasons)})"
            )
        for w in q.warnings:
            quality.warn(w)
        frames[sym] = frame
        qualities[sym] = q.to_dict()
    return closes_frame(frames), qualities


def run(
    tff: list[Path],
    markets: list[str],
    closes: dict[str, str],
    dv01: dict[str, str],
    table_path: Path | None,
    min_share: float,
) -> tuple[Any, Any, dict[str, Any]]:
    """``(result, quality, closes quality)``; errors are :class:`InputError` (exit 2)."""
    from flows import futures_positioning as fp
    from flows.quality import enforce
    from flows.sources import tff_markets

    settings = settings_or_default()
    table = tff_markets.load(table_path)
    overrides = {}
    for sym, value in dv01.items():
        try:
            overrides[sym] = float(value)
        except ValueError:
            raise InputError(
                "--dv01", sym, f"not a number of USD per basis point: {value!r}"
            ) from None
    table = fp.with_dv01(table, overrides, source="--dv01")
    chosen = fp.select_markets(table, markets or None, source="--market")
    frame, quality = parse_files(tff, list(chosen["code"]))
    closes_df, closes_q = load_closes(closes, settings.quality.threshold(PRICES_FAMILY), quality)
    zn = table.loc[table["symbol"] == fp.TEN_YEAR, "dv01_usd_per_bp"]
    res = fp.analyse(
        frame,
        chosen,
        closes=closes_df,
        min_share=min_share,
        ten_year_dv01=float(zn.iloc[0]) if len(zn) else None,
        source="tff",
    )
    quality = fp.merge_quality(quality, res.quality)
    enforce(quality, settings.quality.threshold(QUALITY_FAMILY))
    return res, quality, closes_q


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-able rows: dates as ISO dates, NaN -> null, whole contract counts as integers."""
    out = []
    for rec in frame.to_dict("records"):
        row = {}
        for k, v in rec.items():
            if isinstance(v, pd.Timestamp):
                v = (
                    None
                    if pd.isna(v)
                    else (
                        v.date().isoformat()
                        if v == v.normalize() and v.tzinfo is None
                        else v.isoformat()
                    )
                )
            elif v is pd.NaT:
                v = None
            v = plain(v)
            if (
                isinstance(v, float)
                and v.is_integer()
                and (k in ("open_interest",) or k.endswith(("_long", "_short", "_contracts")))
            ):
                v = int(v)
            row[k] = v
        out.append(row)
    return out


def _num(x: Any, fmt: str = "{:,.0f}") -> str:
    return "n/a" if x is None or (isinstance(x, float) and x != x) else fmt.format(x)


@click.command("futures-positioning")
@click.option(
    "--tff",
    "tff",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="TFF futures-only file (FinFutYY.txt or fut_fin_txt_YYYY.zip); repeatable.",
)
@click.option(
    "--market",
    "markets",
    multiple=True,
    help="Market symbol of the markets table (ES, NQ, RTY, YM, VX, ZT, ZF, ZN, TN, ZB, UB, SR3, ES_CONS ...); repeatable; default all.",
)
@click.option(
    "--close",
    "closes",
    multiple=True,
    help="UNDERLYING=FILE: daily closes for the notional (SPX, NDX, RUT, DJI; VX = a VIX futures level), any price file layout; repeatable.",
)
@click.option(
    "--dv01",
    "dv01",
    multiple=True,
    help="SYMBOL=USD: contract DV01 override, USD per basis point (e.g. ZN=64); repeatable.",
)
@click.option(
    "--markets-table",
    "table_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Markets table CSV (default: the shipped flows/data/tff_markets.csv).",
)
@click.option(
    "--min-share",
    type=click.FloatRange(0.01, 1.0),
    default=0.9,
    show_default=True,
    help="Share of a window's weeks that must be present for its statistics.",
)
@click.option(
    "--last",
    "last",
    type=click.IntRange(min=1),
    default=None,
    help="Show the last N report weeks (text: one table per week; JSON: their rows).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the rows, crowding flags, extremes, headline and input quality as JSON.",
)
def futures_positioning(
    tff: tuple[Path, ...],
    markets: tuple[str, ...],
    closes: tuple[str, ...],
    dv01: tuple[str, ...],
    table_path: Path | None,
    min_share: float,
    last: int | None,
    as_json: bool,
) -> None:
    """Equity-index, VIX and Treasury futures positioning by trader class (CFTC TFF files)."""
    from flows import futures_positioning as fp

    with exit_on_input_error():
        res, quality, closes_q = run(
            list(tff),
            list(markets),
            _pairs(closes, "--close"),
            _pairs(dv01, "--dv01"),
            table_path,
            min_share,
        )
    rows = fp.wide(res.positions, res.reports)
    if last is not None and len(rows):
        keep = pd.Series(rows["as_of"].unique()).sort_values().iloc[-last:]
        rows = rows[rows["as_of"].isin(keep)].reset_index(drop=True)
    notes = list(res.info.get("notes", []))
    if as_json:
        doc = {
            "rows": _records(rows),
            "crowding": _records(res.crowding),
            "extremes": _records(res.extremes),
            "headline": res.headline,
            "notes": notes,
            "quality": quality.to_dict(),
        }
        if closes_q:
            doc["closes_quality"] = closes_q
        click.echo(json.dumps(doc, indent=1))
        return
    echo_quality(quality)
    for n in notes:
        click.echo(f"note: {n}", err=True)
    # the text shows the latest report week, or each of the last N with --last N
    weeks = sorted(rows["as_of"].unique()) if len(rows) else []
    shown = weeks[-1:] if last is None else weeks
    if not shown:
        click.echo("latest report week n/a: no rows")
    for week in shown:
        _echo_week(rows[rows["as_of"] == week], latest=week == weeks[-1])
    from flows.formatting import code_label

    flagged = res.crowding[res.crowding["flagged"]]
    for r in flagged.itertuples():
        click.echo(
            f"CROWDED {r.symbol} {code_label(r.trader_class)}: {r.flag} ({r.metric} {r.value:.1f} {r.op} {r.threshold:g})"
        )
    if not len(flagged):
        click.echo("no crowding flag this week")
    sys.stdout.flush()


def _echo_week(week_rows: pd.DataFrame, *, latest: bool) -> None:
    """One report week's table (net contracts, 3-year percentiles, exposure)."""
    day = pd.Timestamp(week_rows["as_of"].iloc[0]).date()
    label = "latest report week" if latest else "report week"
    click.echo(f"{label} {day}: net contracts (percentile over 3 years, 0-100)")
    click.echo(
        f"{'market':<8} {'open int.':>12} {'dealers':>12} {'asset managers':>22} {'leveraged funds':>22}  exposure (asset managers / leveraged funds)"
    )
    for r in week_rows.to_dict("records"):
        am = f"{_num(r['asset_manager_net_contracts'])} ({_num(r.get('asset_manager_percentile_3y'), '{:.0f}')})"
        lf = f"{_num(r['leveraged_funds_net_contracts'])} ({_num(r.get('leveraged_funds_percentile_3y'), '{:.0f}')})"
        if r["group"] == "rates":
            expo = f"DV01 USD {_num(r['asset_manager_dv01_usd_per_bp'])} / {_num(r['leveraged_funds_dv01_usd_per_bp'])} per bp"
        elif r["asset_manager_notional_usd"] == r["asset_manager_notional_usd"]:
            expo = f"USD {_num(r['asset_manager_notional_usd'])} / {_num(r['leveraged_funds_notional_usd'])} notional"
        else:
            expo = f"USD {_num(r['asset_manager_usd_per_point'])} / {_num(r['leveraged_funds_usd_per_point'])} per point (no close)"
        click.echo(
            f"{r['market']:<8} {_num(r['open_interest']):>12} {_num(r['dealer_net_contracts']):>12} {am:>22} {lf:>22}  {expo}"
        )


COMMANDS = [futures_positioning]
