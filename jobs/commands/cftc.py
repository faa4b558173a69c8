"""``flowdesk cftc`` (net USD positioning from local COT files) and ``flowdesk cftc-backfill``.

``flowdesk cftc [--legacy FILE ...] [--tff FILE ...] --fx FILE [--json]`` reads CFTC Historical
Compressed files (``annual.txt`` / ``FinFutYY.txt``, or their ``.zip``) and the ECB history
(``eurofxref-hist.csv`` or ``.zip``) and prints, for every report date, the net USD position of
each configured basket (``[cftc].baskets``) and the per-currency positions.  ``--json`` prints::

    {"weeks": [{"as_of": "2025-01-14", "partial": false, "partial_reason": null,
                "net_usd_reuters6": 3.17e10, "net_usd_wide9": 3.51e10,
                "net_usd_levfunds_wide9": ... (only with --tff),
                "currencies": [{"ccy": "EUR", "net_contracts": -60397, "usd": -7.73e9, ...}, ...]}, ...],
     "quality": {"skipped_rows": 0, "skipped_share": 0.0, "warnings": [], ...},
     "fx_quality": {...}}

``quality`` is the input quality of the COT files (basis: positions, weighed by open interest;
the ECB file's findings are repeated there as warnings), ``fx_quality`` the ECB file's (basis:
days).  A week is ``partial`` when a basket currency has no position or no FX rate that week;
``partial_reason`` says which (the human output prints it after ``PARTIAL``).

Units: USD (+ = speculators net long USD for ``net_usd_*``; ``usd`` of a currency: + = long that
currency), contracts.  Exit status 2, with a message naming the file, the row and the field: a
bad or implausible file, or an input whose skipped share passes ``[quality]`` ``cftc``
(default 1 % of open interest / of the ECB days).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NamedTuple

import click
import pandas as pd

from flows.errors import FlowdeskError, InputError
from jobs.commands._common import (
    echo_quality,
    exit_on_input_error,
    plain,
    settings_or_default,
    writer,
)

FX_FILE_CURRENCIES = (
    "USD",
    "EUR",
    "JPY",
    "GBP",
    "CHF",
    "CAD",
    "AUD",
    "NZD",
    "MXN",
    "BRL",
    "ZAR",
    "SEK",
)
"""ECB columns the command reads: the currency futures' and SEK (the reconstructed USD index)."""


class Loaded(NamedTuple):
    """Parsed inputs of ``flowdesk cftc`` and their quality."""

    legacy: pd.DataFrame | None
    tff: pd.DataFrame | None
    fx: pd.DataFrame
    quality: Any
    fx_quality: Any


def _read_text(path: Path, kind: str, quality: Any = None) -> str:
    """Text of ``path`` (``.zip``: its single member), decoded by the documented rule
    (:func:`flows.sources.textio.decode_text`); InputError naming the file otherwise."""
    from flows.sources import cftc_files
    from flows.sources.textio import decode_text

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), None, f"cannot read the file: {exc.strerror or exc}") from None
    source = str(path)
    if raw[:2] == b"PK":
        name, raw = cftc_files.zip_member(raw, source)
        source = f"{path} ({name})"
    decoded = decode_text(raw, source)
    if quality is not None:
        decoded.note(quality)
    return decoded.text


def _named(exc: InputError, path: Path) -> InputError:
    return exc if str(path) in str(exc) else InputError(str(path), exc.field, str(exc))


def load_files(legacy: list[Path], tff: list[Path], fx: Path) -> Loaded:
    """Parse the files with the project's source parsers (errors name the file) and collect
    their input quality."""
    from flows.cftc import contract_table
    from flows.quality import Quality
    from flows.sources import cftc_files, ecb

    codes = list(contract_table()["code"])
    quality = Quality(source=", ".join(str(p) for p in [*legacy, *tff]), basis="positions")

    def parse_all(paths: list[Path], report: str) -> pd.DataFrame | None:
        nonlocal quality
        if not paths:
            return None
        frames = []
        for i, p in enumerate(paths):
            try:
                q = Quality(source=str(p), basis="positions")
                text = _read_text(p, report, q)
                frame, parsed = cftc_files.parse_report(text, report, str(p), codes)  # type: ignore[arg-type]
            except InputError as exc:
                raise _named(exc, p) from None
            quality = quality.merge(q).merge(parsed)
            frames.append(frame.assign(_file=i))
        frame = pd.concat(frames, ignore_index=True)
        # The same week in two files (a yearly file and a newer copy): keep the later file's row,
        # and say so when the two differ (a revision).
        numbers = [c for c in frame.columns if c not in ("as_of", "code", "market", "_file")]
        twice = frame[frame.duplicated(["as_of", "code"], keep=False)]
        if not twice.empty:
            revised = twice.groupby(["as_of", "code"])[numbers].nunique().max(axis=1) > 1
            for day, code in revised[revised].index[:3]:
                quality.warn(
                    f"{report}: {code} on {pd.Timestamp(day).date()} differs between two files; the later file's row is used"
                )
        frame = frame.drop_duplicates(["as_of", "code"], keep="last").drop(columns="_file")
        return frame.sort_values(["as_of", "code"], ignore_index=True)

    legacy_frame = parse_all(legacy, "legacy")
    tff_frame = parse_all(tff, "tff")
    try:
        fq = Quality(source=str(fx), basis="rows")
        fx_frame, parsed = ecb.read_hist_csv(
            _read_text(fx, "fx", fq), str(fx), currencies=FX_FILE_CURRENCIES
        )
        fx_quality = fq.merge(parsed) if fq.repaired_rows else parsed
    except InputError as exc:
        raise _named(exc, fx) from None
    return Loaded(legacy_frame, tff_frame, fx_frame, quality, fx_quality)


def partial_reasons(
    res: Any, baskets: dict[str, list[str]], *, trader_col: str
) -> dict[pd.Timestamp, str]:
    """Why each partial week is partial: the basket currencies with no position (column
    ``trader_col`` of the ``currencies`` table) or no FX rate that week.  Formatting only."""
    members = list(dict.fromkeys(c for b in baskets.values() for c in b))
    cur = res.currencies[res.currencies["ccy"].isin(members)]
    report = "legacy" if trader_col == "net_contracts" else "TFF"
    reported = res.currencies.loc[res.currencies[trader_col].notna(), "as_of"]
    in_report = set(pd.DatetimeIndex(reported))  # weeks with a position for any currency
    span = (
        f"{pd.Timestamp(reported.min()).date()}..{pd.Timestamp(reported.max()).date()}"
        if len(reported)
        else "none"
    )
    out: dict[pd.Timestamp, str] = {}
    partial = res.weekly.loc[res.weekly["partial"], "as_of"]
    for day in partial:
        rows = cur[cur["as_of"] == day]
        no_pos = rows.loc[rows[trader_col].isna(), "ccy"].tolist()
        no_fx = rows.loc[rows["usd_per_unit"].isna(), "ccy"].tolist()
        parts = []
        if len(no_pos) == len(rows) and pd.Timestamp(day) not in in_report:
            parts.append(f"not in the {report} files (their weeks: {span})")
        elif no_pos:
            parts.append(f"no position for {', '.join(no_pos)}")
        if no_fx:
            parts.append(f"no ECB rate within 7 days for {', '.join(no_fx)}")
        out[pd.Timestamp(day)] = "; ".join(parts) or "a basket currency is missing"
    return out


def weeks_json(
    res: Any, baskets: dict[str, list[str]], *, with_tff: bool, with_legacy: bool
) -> list[dict[str, Any]]:
    """The ``weeks`` list of the ``--json`` document (see the module docstring)."""
    from flows.cftc import SERIES_PREFIX

    weekly = res.weekly
    cur = res.currencies
    cols = []
    for trader, prefix in SERIES_PREFIX.items():
        if (trader == "noncomm" and with_legacy) or (trader != "noncomm" and with_tff):
            cols += [f"{prefix}_{b}" for b in baskets]
    cur_cols = ["ccy", "code", "net_contracts", "usd", "usd_per_unit"]
    if with_tff:
        cur_cols += [
            "levfunds_net_contracts",
            "levfunds_usd",
            "assetmgr_net_contracts",
            "assetmgr_usd",
        ]
    why = partial_reasons(
        res, baskets, trader_col="net_contracts" if with_legacy else "levfunds_net_contracts"
    )
    groups = dict(tuple(cur.groupby("as_of", sort=True)))
    out = []
    for _, row in weekly.iterrows():  # one JSON object per week: output formatting, not analytics
        day = pd.Timestamp(row["as_of"])
        doc: dict[str, Any] = {
            "as_of": day.date().isoformat(),
            "release_time": pd.Timestamp(row["release_time"]).isoformat(),
            "partial": bool(row["partial"]),
            "partial_reason": why.get(day),
        }
        for c in cols:
            doc[c] = plain(row[c])
        rows = groups[day][cur_cols]
        doc["currencies"] = [
            {k: _contracts(k, plain(v)) for k, v in r.items()} for r in rows.to_dict("records")
        ]
        out.append(doc)
    return out


def _contracts(key: str, value: Any) -> Any:
    """Contract counts are whole numbers: print them as integers."""
    return int(value) if key.endswith("net_contracts") and isinstance(value, float) else value


def _partial_warnings(weeks: list[dict[str, Any]], quality: Any) -> None:
    """A week the files report, but incompletely (a currency or an FX rate missing), is warned
    about: its net USD is not computed (never a zero)."""
    for w in weeks:
        reason = w["partial_reason"]
        if w["partial"] and reason and not reason.startswith("not in the "):
            quality.warn(f"week {w['as_of']} is partial ({reason}): no net USD for it")


@click.command("cftc")
@click.option(
    "--legacy",
    "legacy",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Legacy futures-only file (annual.txt or deacotYYYY.zip); repeatable.",
)
@click.option(
    "--tff",
    "tff",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="TFF futures-only file (FinFutYY.txt or fut_fin_txt_YYYY.zip); repeatable.",
)
@click.option(
    "--fx",
    "fx",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="ECB eurofxref-hist.csv (or .zip).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the weeks and the input quality as JSON."
)
def cftc(legacy: tuple[Path, ...], tff: tuple[Path, ...], fx: Path, as_json: bool) -> None:
    """Net USD positioning (minus the sum of IMM currency positions) from local COT files."""
    from flows.cftc import REPORTS_SOURCE
    from flows.quality import enforce
    from jobs.tasks.cftc import compute
    from jobs.tasks.cftc_ingest import fx_quality_note

    if not legacy and not tff:
        click.echo("error: give at least one --legacy or --tff file", err=True)
        sys.exit(2)
    settings = settings_or_default()
    threshold = settings.quality.threshold("cftc")
    with exit_on_input_error():
        loaded = load_files(list(legacy), list(tff), fx)
        enforce(loaded.quality, threshold)
        enforce(loaded.fx_quality, threshold)
        try:
            res = compute(loaded.legacy, loaded.tff, loaded.fx, settings)
        except InputError as exc:
            if exc.source != REPORTS_SOURCE:
                raise
            files = ", ".join(str(p) for p in (legacy or tff))  # the headline class's report
            raise InputError(files, exc.field, exc.reason) from None
    quality = loaded.quality
    fx_quality_note(loaded.fx_quality, quality)
    weeks = weeks_json(
        res,
        settings.cftc.baskets,
        with_tff=loaded.tff is not None,
        with_legacy=loaded.legacy is not None,
    )
    _partial_warnings(weeks, quality)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "weeks": weeks,
                    "quality": quality.to_dict(),
                    "fx_quality": loaded.fx_quality.to_dict(),
                },
                indent=2,
            )
        )
        return
    echo_quality(quality)
    series = [k for k in weeks[0] if k.startswith("net_usd_")] if weeks else []
    w = writer("cftc.net_usd", "weekly")  # the units declared for cftc.net_usd's weekly table
    click.echo("as_of       " + "  ".join(f"{s:>24}" for s in series) + "  (USD, + = net long USD)")
    for week in weeks:
        flag = f"  PARTIAL ({week['partial_reason']})" if week["partial"] else ""
        click.echo(
            f"{week['as_of']}  "
            + "  ".join(
                f"{w(s, week[s], signed=True, scale='bn', style='bare', space=False):>24}"
                for s in series
            )
            + flag
        )


@click.command("cftc-backfill")
@click.option(
    "--from",
    "from_year",
    type=int,
    default=None,
    help="First report year (default [cftc].history_from_year).",
)
@click.option(
    "--to", "to_year", type=int, default=None, help="Last report year (default: the current one)."
)
@click.option(
    "--replace",
    is_flag=True,
    help="Replace a stored history that reaches further than the back-fill (refused otherwise).",
)
@click.pass_context
def cftc_backfill(
    ctx: click.Context, from_year: int | None, to_year: int | None, replace: bool
) -> None:
    """Backfill cftc.positions / cftc.fx (live: CFTC yearly files + ECB; sample: generated), then publish cftc.net_usd."""
    from tqdm import tqdm

    from jobs.cli.state import state, store_or_exit
    from jobs.store import utcnow
    from jobs.tasks import cftc_ingest
    from jobs.tasks.cftc import recompute

    settings = state(ctx).setup_logging()
    store = store_or_exit(settings)
    start = from_year or settings.cftc.history_from_year
    now = utcnow().astimezone(settings.tz)
    with tqdm(
        desc="cftc backfill", unit="step", file=sys.stderr, disable=not sys.stderr.isatty()
    ) as bar:

        def progress(msg: str) -> None:
            bar.update(1)
            bar.set_postfix_str(msg[:60])
            if not sys.stderr.isatty():
                click.echo(f"cftc backfill: {msg}", err=True)

        try:
            summary = cftc_ingest.backfill(
                settings, store, start, to_year, progress=progress, now=now, replace=replace
            )
            res = recompute(store, settings, now, replace=replace)
        except FlowdeskError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
    for note in summary["notes"]:
        click.echo(f"note: {note}", err=True)
    for w in summary["quality"]["warnings"]:
        click.echo(f"warning: {w}", err=True)
    click.echo(
        f"cftc.net_usd published: {len(res.weekly)} weeks, latest complete {res.latest_complete.date()}"
    )


COMMANDS = [cftc, cftc_backfill]
