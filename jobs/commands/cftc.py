"""``flowdesk cftc`` (net USD positioning from local COT files) and ``flowdesk cftc-backfill``.

``flowdesk cftc [--legacy FILE ...] [--tff FILE ...] --fx FILE [--json]`` reads CFTC Historical
Compressed files (``annual.txt`` / ``FinFutYY.txt``, or their ``.zip``) and the ECB history
(``eurofxref-hist.csv`` or ``.zip``) and prints, for every report date, the net USD position of
each configured basket (``[cftc].baskets``) and the per-currency positions.  ``--json`` prints a
list of weeks::

    [{"as_of": "2025-01-14", "partial": false, "net_usd_reuters6": 3.17e10, "net_usd_wide9": 3.51e10,
      "net_usd_levfunds_wide9": ... (only with --tff),
      "currencies": [{"ccy": "EUR", "net_contracts": -60397, "usd": -7.73e9, ...}, ...]}, ...]

Units: USD (+ = speculators net long USD for ``net_usd_*``; ``usd`` of a currency: + = long that
currency), contracts.  A bad file exits with status 2 and a message naming the file and field.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import pandas as pd

from flows.errors import FlowdeskError, InputError
from jobs.commands._common import exit_on_input_error, plain, settings_or_default


def _read_text(path: Path, kind: str) -> str:
    """Text of ``path`` (``.zip``: its single member); InputError naming the file otherwise."""
    from flows.sources import cftc_files, ecb

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), None, f"cannot read the file: {exc.strerror or exc}") from None
    if raw[:2] == b"PK":
        return ecb.read_zip(raw, str(path)) if kind == "fx" else cftc_files.read_zip(raw, str(path))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def _named(exc: InputError, path: Path) -> InputError:
    return exc if str(path) in str(exc) else InputError(str(path), exc.field, str(exc))


def load_files(legacy: list[Path], tff: list[Path], fx: Path) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame]:
    """Parse the files with the project's source parsers (errors name the file)."""
    from flows.cftc import contract_table
    from flows.sources import cftc_files, ecb

    codes = list(contract_table()["code"])

    def parse_all(paths: list[Path], report: str) -> pd.DataFrame | None:
        if not paths:
            return None
        frames = []
        for p in paths:
            try:
                text = _read_text(p, report)
                frames.append(cftc_files.parse_legacy(text, str(p), codes) if report == "legacy" else cftc_files.parse_tff(text, str(p), codes))
            except InputError as exc:
                raise _named(exc, p) from None
        frame = pd.concat(frames, ignore_index=True)
        # The same week in two files (a yearly file and a newer copy): keep the later file's row.
        return frame.drop_duplicates(["as_of", "code"], keep="last").sort_values(["as_of", "code"], ignore_index=True)

    legacy_frame = parse_all(legacy, "legacy")
    tff_frame = parse_all(tff, "tff")
    try:
        fx_frame = ecb.parse_hist_csv(_read_text(fx, "fx"), str(fx), currencies=None)
    except InputError as exc:
        raise _named(exc, fx) from None
    return legacy_frame, tff_frame, fx_frame


def weeks_json(res: Any, baskets: dict[str, list[str]], *, with_tff: bool, with_legacy: bool) -> list[dict[str, Any]]:
    """The ``--json`` document: one object per report date (see the module docstring)."""
    from flows.cftc import SERIES_PREFIX

    weekly = res.weekly
    cur = res.currencies
    cols = []
    for trader, prefix in SERIES_PREFIX.items():
        if (trader == "noncomm" and with_legacy) or (trader != "noncomm" and with_tff):
            cols += [f"{prefix}_{b}" for b in baskets]
    cur_cols = ["ccy", "code", "net_contracts", "usd", "usd_per_unit"]
    if with_tff:
        cur_cols += ["levfunds_net_contracts", "levfunds_usd", "assetmgr_net_contracts", "assetmgr_usd"]
    groups = dict(tuple(cur.groupby("as_of", sort=True)))
    out = []
    for _, row in weekly.iterrows():  # one JSON object per week: output formatting, not analytics
        day = pd.Timestamp(row["as_of"])
        doc: dict[str, Any] = {"as_of": day.date().isoformat(), "release_time": pd.Timestamp(row["release_time"]).isoformat(), "partial": bool(row["partial"])}
        for c in cols:
            doc[c] = plain(row[c])
        rows = groups[day][cur_cols]
        doc["currencies"] = [{k: _contracts(k, plain(v)) for k, v in r.items()} for r in rows.to_dict("records")]
        out.append(doc)
    return out


def _contracts(key: str, value: Any) -> Any:
    """Contract counts are whole numbers: print them as integers."""
    return int(value) if key.endswith("net_contracts") and isinstance(value, float) else value


def _money(x: Any) -> str:
    if x is None:
        return "n/a"
    return f"{x / 1e9:+8.2f}bn"


@click.command("cftc")
@click.option("--legacy", "legacy", multiple=True, type=click.Path(path_type=Path, dir_okay=False), help="Legacy futures-only file (annual.txt or deacotYYYY.zip); repeatable.")
@click.option("--tff", "tff", multiple=True, type=click.Path(path_type=Path, dir_okay=False), help="TFF futures-only file (FinFutYY.txt or fut_fin_txt_YYYY.zip); repeatable.")
@click.option("--fx", "fx", required=True, type=click.Path(path_type=Path, dir_okay=False), help="ECB eurofxref-hist.csv (or .zip).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of weeks.")
def cftc(legacy: tuple[Path, ...], tff: tuple[Path, ...], fx: Path, as_json: bool) -> None:
    """Net USD positioning (minus the sum of IMM currency positions) from local COT files."""
    from jobs.tasks.cftc import compute

    if not legacy and not tff:
        click.echo("error: give at least one --legacy or --tff file", err=True)
        sys.exit(2)
    settings = settings_or_default()
    with exit_on_input_error():
        legacy_frame, tff_frame, fx_frame = load_files(list(legacy), list(tff), fx)
        res = compute(legacy_frame, tff_frame, fx_frame, settings)
    doc = weeks_json(res, settings.cftc.baskets, with_tff=tff_frame is not None, with_legacy=legacy_frame is not None)
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    series = [k for k in doc[0] if k.startswith("net_usd_")] if doc else []
    click.echo("as_of       " + "  ".join(f"{s:>24}" for s in series) + "  (USD, + = net long USD)")
    for week in doc:
        flag = "  PARTIAL" if week["partial"] else ""
        click.echo(f"{week['as_of']}  " + "  ".join(f"{_money(week[s]):>24}" for s in series) + flag)


@click.command("cftc-backfill")
@click.option("--from", "from_year", type=int, default=None, help="First report year (default [cftc].history_from_year).")
@click.option("--to", "to_year", type=int, default=None, help="Last report year (default: the current one).")
@click.pass_context
def cftc_backfill(ctx: click.Context, from_year: int | None, to_year: int | None) -> None:
    """Backfill cftc.positions / cftc.fx (live: CFTC yearly files + ECB; sample: generated), then publish cftc.net_usd."""
    from tqdm import tqdm

    from jobs.cli import _state, _store_or_exit
    from jobs.store import utcnow
    from jobs.tasks import cftc_ingest
    from jobs.tasks.cftc import recompute

    settings = _state(ctx).setup_logging()
    store = _store_or_exit(settings)
    start = from_year or settings.cftc.history_from_year
    now = utcnow().astimezone(settings.tz)
    with tqdm(desc="cftc backfill", unit="step", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:

        def progress(msg: str) -> None:
            bar.update(1)
            bar.set_postfix_str(msg[:60])
            if not sys.stderr.isatty():
                click.echo(f"cftc backfill: {msg}", err=True)

        try:
            cftc_ingest.backfill(settings, store, start, to_year, progress=progress, now=now)
            res = recompute(store, settings)
        except FlowdeskError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
    click.echo(f"cftc.net_usd published: {len(res.weekly)} weeks, latest complete {res.latest_complete.date()}")


COMMANDS = [cftc, cftc_backfill]
