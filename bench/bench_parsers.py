"""Benchmark: every file parser against a plain ``pandas.read_csv`` of the same bytes (goal: ratio <= 1.0).

Each parser gets the file's bytes and does everything it does in production: decoding
(:func:`flows.sources.textio.decode_text`), reading, the input-quality record, the plausibility
limits, duplicates, dates, the product table.  The **baseline** is the plainest read of the same
bytes with pandas, timed interleaved with the parser in the same run:

* CSV files: ``pandas.read_csv(io.BytesIO(raw))`` with default options (``skiprows=3`` for the
  quote table's three preamble lines, ``skiprows=1`` for CFE's disclaimer line, the gzip
  compression named for ``.csv.gz``);
* the CBOE delayed-quotes JSON: ``pandas.DataFrame(json.loads(raw)["data"]["options"])``; the CFTC
  Socrata rows: ``pandas.DataFrame(json.loads(raw))``.

Files: the full real files in ``FLOWDESK_SHARED_DATA`` (``../shared/data``), else the trimmed
copies in ``tests/data`` (noted).  A family of several files (the CFTC reports, the VX contracts,
the universe snapshots) is timed as one loop over all of them, against one loop of plain reads.

Each figure is measured in a fresh process (``--figure NAME``): run after other parsers in the
same process, the price files read 10-20 % slower than alone while the plain read did not move,
so a figure depended on the order of this file.  Each figure times pairs until its parser calls
add up to :data:`MIN_SECONDS`, and its note gives the quartiles of the per-pair ratios.

Run ``python -m bench.bench_parsers [--quick]`` (records in ``bench/results/bench_parsers.json``)
or ``scripts/bench`` (every benchmark, rendered into ``docs/benchmarks.md``).  Not timed: the ECB
daily XML (``ecb.parse_daily_xml``; pandas' XML reader is not a plain baseline) and the hand-made
drop files (``aum_drop``), a few lines each.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from bench.harness import Context, Figure, compare, ratio_figure, standalone

TITLE = "Parsers against a plain pandas read of the same files"
AREA = "Parsers (ratio to a plain pandas read of the same bytes)"
TARGET = 1.0
READ_CSV = "plain pandas.read_csv of the same bytes"


MIN_SECONDS = 1.0
"""Each figure's parser calls add up to at least this much (more pairs for small files): with
11-21 calls a 1-5 ms figure moved by +-0.15 in ratio from run to run."""


def _min_seconds(ctx: Context) -> float:
    return 0.2 if ctx.quick else MIN_SECONDS


def _read_csv(raw: bytes, **kw) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(raw), **kw)


def _family(
    name: str,
    paths: list[Path],
    parse_one: Callable[[bytes, str], object],
    baseline_one: Callable[[bytes, str], object],
    ctx: Context,
    runs: int,
    baseline_name: str = READ_CSV,
    note: str = "",
    target: float | None = TARGET,
) -> Figure | None:
    if not ctx.wants(name):
        return None
    blobs = [(str(p), p.read_bytes()) for p in paths]
    mb = sum(len(b) for _, b in blobs) / 1e6

    def subject() -> None:
        for src, raw in blobs:
            parse_one(raw, src)

    def baseline() -> None:
        for src, raw in blobs:
            baseline_one(raw, src)

    s, b = compare(subject, baseline, ctx.runs(runs), min_seconds=_min_seconds(ctx))
    what = f"{len(blobs)} file(s), {mb:.2f} MB" + (f"; {note}" if note else "")
    return ratio_figure(name, s, b, baseline_name, target_ratio=target, note=what)


LETF_FLOOR = (
    "leveraged-ETF universe snapshots, the two steps any parse must take: Arrow's read of the "
    "13 used columns + the reset classification (flows.letf_reset)"
)


def _letf_floor(raw: bytes, table: pd.DataFrame) -> object:
    """The part of ``letf_universe.parse`` no implementation can leave out: the columns the
    figures read, as text (Arrow's reader, one thread: the parse's own options), and each
    fund's reset class from its ticker, name and family (the curated table, then the rules).
    Timed beside the parse so that ``docs/benchmarks.md`` shows how much of the plain pandas
    read these two steps alone take."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from flows import letf_reset
    from flows.sources.letf_universe import _READ

    read = pacsv.read_csv(
        pa.BufferReader(raw),
        read_options=pacsv.ReadOptions(use_threads=False, block_size=max(1 << 20, len(raw) + 1)),
        convert_options=pacsv.ConvertOptions(
            include_columns=list(_READ),
            column_types=dict.fromkeys(_READ, pa.large_string()),
            strings_can_be_null=False,
        ),
    )

    def text(c: str) -> pa.Array:
        col = read.column(c)
        return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()

    return letf_reset.classify_reset_flags(text("ticker"), text("name"), text("fund_family"), table)


def figures(ctx: Context) -> list[Figure]:
    from flows.sources import (
        cboe,
        cboe_csv,
        cboe_prices,
        cboe_vx,
        cftc_files,
        ecb,
        fred,
        letf_universe,
        tff_markets,
        yahoo_csv,
    )
    from flows.sources.textio import decode_text

    figs: list[Figure | None] = []

    # -- option chains ------------------------------------------------------------------------
    for shared, trimmed in (
        ("options/spx_quotedata_2023-09-14.csv", "options/spx_quotedata_2023-09-14_trimmed.csv"),
        ("options/spx_quotedata_2024-01-07.csv", "options/spx_quotedata_2024-01-07_trimmed.csv"),
        ("options/spy_quotedata_2023-09-14.csv", "options/spy_quotedata_2023-09-14_trimmed.csv"),
    ):
        path = ctx.path(shared, trimmed)
        if path is None:
            continue
        n = len(cboe_csv.parse(path.read_bytes(), str(path)).contracts)
        figs.append(
            _family(
                f"CBOE quote table {path.name} (cboe_csv.parse)",
                [path],
                lambda raw, src: cboe_csv.parse(raw, src),
                lambda raw, src: _read_csv(raw, skiprows=3),
                ctx,
                21,
                baseline_name=f"{READ_CSV} (skiprows=3)",
                note=f"{n:,} contracts",
            )
        )

    from flows.sources import sample_options

    now = datetime(2026, 11, 18, 10, 30, tzinfo=ZoneInfo("America/New_York"))
    spx_name = "CBOE delayed-quotes JSON, SAMPLE SPX chain (cboe.parse)"
    if ctx.wants(spx_name):
        spx_json = json.dumps(sample_options.sample_options_json("SPX", now, 1)).encode()
        n = len(cboe.parse(spx_json, source="sample").contracts)
        s, b = compare(
            lambda: cboe.parse(spx_json, source="sample SPX"),
            lambda: pd.DataFrame(json.loads(spx_json)["data"]["options"]),
            ctx.runs(15),
            min_seconds=_min_seconds(ctx),
        )
        figs.append(
            ratio_figure(
                spx_name,
                s,
                b,
                'plain pandas.DataFrame(json.loads(raw)["data"]["options"])',
                target_ratio=TARGET,
                note=f"{n:,} contracts, {len(spx_json) / 1e6:.2f} MB (generated in the real layout)",
            )
        )

    mstr = ctx.path("responses/cboe/options_MSTR_2026-07-10_trimmed.json")
    if mstr is not None:
        figs.append(
            _family(
                "CBOE delayed-quotes JSON, real MSTR response (cboe.parse)",
                [mstr],
                lambda raw, src: cboe.parse(raw, source=src),
                lambda raw, src: pd.DataFrame(json.loads(raw)["data"]["options"]),
                ctx,
                21,
                baseline_name='plain pandas.DataFrame(json.loads(raw)["data"]["options"])',
            )
        )

    # -- CFTC and ECB -------------------------------------------------------------------------
    legacy = (
        sorted((ctx.data / "cftc" / "legacy_futures_only").glob("*.txt")) if ctx.full_data else []
    )
    tff = sorted((ctx.data / "cftc" / "tff_futures_only").glob("*.txt")) if ctx.full_data else []
    if legacy or tff:

        def cot_all(raw: bytes, src: str) -> object:
            report = "legacy" if "legacy" in src else "tff"
            return cftc_files.parse_report(
                decode_text(raw, src).text, report, src, None, coverage=False
            )

        figs.append(
            _family(
                "CFTC COT files, every market (legacy + TFF, cftc_files.parse_report)",
                legacy + tff,
                cot_all,
                lambda raw, src: _read_csv(raw),
                ctx,
                7,
            )
        )
        codes = list(cftc_files.CURRENCY_CODES)

        def cot_fx(raw: bytes, src: str) -> object:
            report = "legacy" if "legacy" in src else "tff"
            return cftc_files.parse_report(decode_text(raw, src).text, report, src, codes)

        figs.append(
            _family(
                "CFTC COT files, the 11 currency markets (what the jobs read)",
                legacy + tff,
                cot_fx,
                lambda raw, src: _read_csv(raw),
                ctx,
                7,
            )
        )
        markets = list(tff_markets.load()["code"])

        def tff_fp(raw: bytes, src: str) -> object:
            return cftc_files.parse_report(
                decode_text(raw, src).text, "tff", src, markets, coverage=False, units=True
            )

        figs.append(
            _family(
                "TFF futures files, 15 markets with units (futures positioning)",
                tff,
                tff_fp,
                lambda raw, src: _read_csv(raw),
                ctx,
                7,
            )
        )
    else:
        ctx.note(
            "CFTC: the full yearly files are absent; the trimmed zips in tests/data hold a few markets only, not timed"
        )
    fx = ctx.path("cftc/fx/eurofxref-hist.csv", "cftc/eurofxref-hist_2024-11-15_to_2025-05-09.csv")
    if fx is not None:
        figs.append(
            _family(
                "ECB reference-rate history (ecb.read_hist_csv, 11 currencies)",
                [fx],
                lambda raw, src: ecb.read_hist_csv(decode_text(raw, src).text, src),
                lambda raw, src: _read_csv(raw),
                ctx,
                11,
            )
        )

    # -- CFTC Public Reporting API (Socrata JSON rows) ------------------------------------------
    from flows.sources import cftc_socrata

    for shared, report in (
        (
            "responses/cftc/socrata_6dca-aqww_legacy_futonly_six_markets_2026-09-08_to_2026-09-15.json",
            "legacy",
        ),
        (
            "responses/cftc/socrata_gpe5-46if_tff_futonly_es_2026-07-07_to_2026-07-14_subset.json",
            "tff",
        ),
    ):
        path = ctx.path(shared)
        if path is not None:
            figs.append(
                _family(
                    f"CFTC Socrata {report} rows {path.name} (cftc_socrata.parse_rows)",
                    [path],
                    lambda raw, src, report=report: cftc_socrata.parse_rows(
                        json.loads(raw), report, src
                    ),
                    lambda raw, src: pd.DataFrame(json.loads(raw)),
                    ctx,
                    21,
                    baseline_name="plain pandas.DataFrame(json.loads(raw))",
                )
            )
    ecb_daily = ctx.path("responses/ecb/eurofxref_2026-04-13.csv")
    if ecb_daily is not None:
        figs.append(
            _family(
                "ECB daily reference rates CSV (ecb.parse_daily_csv)",
                [ecb_daily],
                lambda raw, src: ecb.parse_daily_csv(decode_text(raw, src).text, src),
                lambda raw, src: _read_csv(raw),
                ctx,
                21,
            )
        )

    # -- leveraged ETFs -----------------------------------------------------------------------
    universes = (
        sorted((ctx.data / "letf").glob("*leveraged_etf_data_*.csv")) if ctx.full_data else []
    )
    if not universes:
        universes = [
            p
            for p in [
                ctx.path(
                    "letf/pokedo0_leveraged_etf_data_2026-06-01.csv",
                    "letf/leveraged_etf_data_2026-06-01_trimmed.csv",
                )
            ]
            if p
        ]
    if universes:
        table = letf_universe.reset_table()
        figs.append(
            _family(
                "leveraged-ETF universe snapshots (letf_universe.parse, reset classes)",
                universes,
                lambda raw, src: letf_universe.parse(raw, src, reset_table=table),
                lambda raw, src: _read_csv(raw),
                ctx,
                11,
                note="each ~740 funds x 23 columns; the parse also gives each fund its reset period "
                "(curated table, then 14 name and family rules) and checks every cell it reads",
            )
        )
        figs.append(
            _family(
                LETF_FLOOR,
                universes,
                lambda raw, src: _letf_floor(raw, table),
                lambda raw, src: _read_csv(raw),
                ctx,
                11,
                note="no cell check, no defect, no frame: a floor under any parse that gives "
                "each fund its reset class, not a target",
                target=None,
            )
        )

    from flows.sources import proshares

    navs = (
        sorted((ctx.data / "responses" / "letf").glob("proshares_*historical_nav*.csv"))
        if ctx.full_data
        else []
    )
    if navs:
        figs.append(
            _family(
                "ProShares NAV histories (proshares.parse)",
                navs,
                lambda raw, src: proshares.parse(raw, src),
                lambda raw, src: _read_csv(raw),
                ctx,
                11,
            )
        )

    # -- shipped tables -------------------------------------------------------------------------
    from flows.sources import vixetp_universe

    for mod, label in (
        (tff_markets, "TFF markets table flows/data/tff_markets.csv (tff_markets.parse)"),
        (
            vixetp_universe,
            "VIX ETP universe flows/data/vix_etp_universe.csv (vixetp_universe.parse)",
        ),
    ):
        shipped = Path(mod.__file__).resolve().parents[1] / "data" / mod.SHIPPED
        if shipped.exists():
            figs.append(
                _family(
                    label,
                    [shipped],
                    lambda raw, src, mod=mod: mod.parse(raw, src),
                    lambda raw, src: _read_csv(raw),
                    ctx,
                    21,
                )
            )
            # what a process pays: the table is read once per process and file version
            # (cached by path, modification time and size); the baseline reads the file too
            load = tff_markets.load if mod is tff_markets else vixetp_universe.read
            if not ctx.wants(label.split(" (")[0] + " cached"):
                continue
            load(shipped)
            s, b = compare(
                lambda load=load, shipped=shipped: load(shipped),
                lambda shipped=shipped: pd.read_csv(shipped),
                ctx.runs(21),
                min_seconds=_min_seconds(ctx),
            )
            figs.append(
                ratio_figure(
                    label.split(" (")[0]
                    + f" ({mod.__name__.rsplit('.', 1)[1]}.{load.__name__}, cached per process by path and mtime)",
                    s,
                    b,
                    "plain pandas.read_csv of the file",
                    target_ratio=TARGET,
                    note="a later call of the same file version: stat + a copy of the parsed table; the first call costs the parse above",
                )
            )

    # -- prices and VX settlements --------------------------------------------------------------
    for shared, trimmed, parse_fn, kw in (
        (
            "prices/VIX_History_1990-01-02_2026-07-23.csv",
            "prices/VIX_History_2017-12-01_2018-03-29.csv",
            lambda raw, src: cboe_prices.parse(raw, src, "VIX"),
            {},
        ),
        (
            "prices/fred_SP500_2016-02-12_2026-02-11.csv",
            "prices/fred_SP500_2023-01-03_2025-06-30.csv",
            lambda raw, src: fred.parse(raw, src),
            {},
        ),
        (
            "prices/GSPC_ohlcv_2005-01-03_2020-08-21.csv",
            "prices/GSPC_ohlcv_2019-01-02_2020-04-30.csv",
            lambda raw, src: yahoo_csv.parse(raw, src),
            {},
        ),
        (
            "prices/arch_8.0.0/sp500.csv.gz",
            "prices/arch_sp500_first120.csv.gz",
            lambda raw, src: yahoo_csv.parse(raw, src),
            {"compression": "gzip"},
        ),
    ):
        path = ctx.path(shared, trimmed)
        if path is not None:
            figs.append(
                _family(
                    f"price file {path.name}",
                    [path],
                    parse_fn,
                    lambda raw, src, kw=kw: _read_csv(raw, **kw),
                    ctx,
                    11,
                )
            )
    vx_dir = ctx.data / "vix_futures" if ctx.full_data else ctx.data / "vix_futures"
    vx_files = cboe_vx.files_in(vx_dir) if vx_dir.is_dir() else []
    if vx_files:

        def vx_plain(raw: bytes, src: str) -> object:
            skip = 1 if raw[:20].lstrip().startswith(b"CFE data") else 0
            try:
                return _read_csv(raw, skiprows=skip)
            except pd.errors.ParserError:  # rows with a trailing comma (CFE_H05): a 12th column
                return _read_csv(raw, skiprows=skip + 1, header=None, names=list(range(12)))

        figs.append(
            _family(
                "VX settlement files, every contract file (cboe_vx.parse)",
                vx_files,
                lambda raw, src: cboe_vx.parse(raw, src),
                vx_plain,
                ctx,
                5,
                baseline_name=f"{READ_CSV} (skiprows=1 after CFE's disclaimer line)",
                note="three layouts",
            )
        )
    return [f for f in figs if f is not None]


if __name__ == "__main__":
    standalone(figures, "bench_parsers", AREA, isolate=True)
