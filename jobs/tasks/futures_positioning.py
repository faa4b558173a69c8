"""Task ``futures_positioning``: equity-index, VIX and rates futures positioning from the CFTC TFF
report, after the Friday release (``cftc.futures_positioning``).

Wiring only.  Markets: ``flows/data/tff_markets.csv`` (or ``[futures_positioning] markets_file``),
narrowed by ``[futures_positioning] markets``, with the DV01 overrides of
``[futures_positioning] dv01_usd_per_bp``.

Sources, as the currency ingest (:mod:`jobs.tasks.cftc_ingest`):

* **sample**: TFF text generated in the real ``FinFutYY.txt`` layout for the markets
  (:func:`flows.sources.sample_cftc.tff_markets_text`, ``[futures_positioning] sample_years``),
  parsed by the real parser, weeks whose scheduled release has passed; labelled SAMPLE;
* **live**: with nothing stored, the CFTC yearly TFF zips from ``history_from_year``
  (:func:`flows.sources.cftc_files.fetch_years`, topped up from the Socrata API while the
  current year's zip is not out); afterwards only the Socrata rows from the last stored report
  date on, merged into the stored rows (table ``rows`` of the result): the annual files are
  never downloaded twice.  ``args.endpoints`` points the live sources elsewhere (tests).

Closes for the USD notional come from the store (``prices.<SYMBOL>``, see
``[futures_positioning] closes``); a market without one keeps its notional missing, stated in
the result (``notional_missing``, the notes), never guessed.

Input quality: the parsers' :class:`flows.quality.Quality` (basis positions, weighed by open
interest) merged with the analysis step's, enforced with ``[quality]`` family ``cftc`` before
publishing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from flows import futures_positioning as fp
from flows.errors import InputError
from flows.quality import Quality, enforce
from jobs.store import ResultNotFound
from jobs.tasks import TaskContext, TaskOutcome, cftc_ingest, task
from jobs.tasks import prices as prices_task

RESULT = "cftc.futures_positioning"
VX = "VX"
"""The VIX futures market's underlying in the markets table (valued at the front-month VX)."""
QUALITY_FAMILY = "cftc"
ROW_COLUMNS = [
    "as_of",
    "code",
    "market",
    "open_interest",
    "dealer_long",
    "dealer_short",
    "asset_mgr_long",
    "asset_mgr_short",
    "lev_money_long",
    "lev_money_short",
    "other_rept_long",
    "other_rept_short",
    "nonrept_long",
    "nonrept_short",
    "contract_units",
]


def markets_table(settings: Any) -> pd.DataFrame:
    from flows.sources import tff_markets

    cfg = settings.futures_positioning
    table = tff_markets.load(cfg.markets_file)
    table = fp.with_dv01(
        table,
        cfg.dv01_usd_per_bp,
        source=f"{settings.source_path}: futures_positioning.dv01_usd_per_bp",
    )
    return table


def read_rows(store: Any) -> pd.DataFrame | None:
    """The stored parsed TFF rows (table ``rows``), or None."""
    try:
        res = store.read(RESULT, tables=["rows"])
    except (ResultNotFound, KeyError):
        return None
    frame = res.table("rows")
    frame["as_of"] = pd.to_datetime(frame["as_of"]).astype("datetime64[ns]")
    return frame


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[[c for c in ROW_COLUMNS if c in frame.columns]].copy()
    if "contract_units" not in out:
        out["contract_units"] = ""
    for c in ROW_COLUMNS[3:-1]:
        out[c] = out[c].astype("int64")
    for c in ("code", "market", "contract_units"):
        out[c] = out[c].astype(str)
    return out[ROW_COLUMNS]


def fetch_rows(
    ctx: TaskContext, codes: list[str], args: dict[str, Any]
) -> tuple[pd.DataFrame, Quality, str]:
    """Every TFF row of ``codes`` (stored + new), its quality and the source text."""
    s = ctx.settings
    now = pd.Timestamp(ctx.now)
    end = (
        now.tz_localize(None).normalize()
        if now.tzinfo is None
        else now.tz_convert(s.service.timezone).tz_localize(None).normalize()
    )
    if s.sample_mode:
        from flows.sources import cftc_files, sample_cftc

        start = end - pd.DateOffset(years=s.futures_positioning.sample_years)
        text = sample_cftc.tff_markets_text(s.service.sample_seed, end, start)
        frame, q = cftc_files.parse_report(
            text, "tff", "SAMPLE FinFutYY.txt (markets)", codes, coverage=False, units=True
        )
        frame = cftc_ingest._released(frame, now)
        return (
            _rows(frame),
            q,
            f"SAMPLE CFTC TFF futures-only (seed {s.service.sample_seed}, generated in the FinFutYY.txt layout)",
        )
    from flows.sources import cftc_files, cftc_socrata
    from flows.sources.http import HttpClient

    ep = _endpoints(args) or cftc_ingest.Endpoints()
    client = HttpClient.from_settings(s)
    stored = read_rows(ctx.store)
    q = Quality(source=f"{RESULT} TFF", basis="positions")
    if stored is None or stored.empty:
        years = list(range(s.futures_positioning.history_from_year, end.year + 1))
        files = cftc_files.fetch_years(
            "tff", years, client, ctx.progress, base=ep.cftc_history, current_year=end.year
        )
        frame, fq = files.parse_report(codes, units=True)
        q = q.merge(fq)
        for note in files.notes:
            q.warn(note)
        if files.missing_current is not None:
            since = (
                frame["as_of"].max() + pd.Timedelta(days=1)
                if not frame.empty
                else pd.Timestamp(files.missing_current, 1, 1)
            )
            query = cftc_socrata.build_query("tff", codes, since, base=ep.socrata)
            top, tq = cftc_socrata.parse_rows(
                cftc_socrata.fetch(query, client), "tff", query.url, codes, units=True
            )
            q = q.merge(tq)
            frame = (
                cftc_ingest.merge_positions(_rows(frame), _rows(top)) if not top.empty else frame
            )
        return (
            _rows(frame),
            q,
            "CFTC TFF futures-only (historical compressed files + Public Reporting API)",
        )
    last = stored["as_of"].max()
    query = cftc_socrata.build_query("tff", codes, last, base=ep.socrata)
    new, nq = cftc_socrata.parse_rows(
        cftc_socrata.fetch(query, client), "tff", query.url, codes, units=True
    )
    cftc_ingest.check_no_regression("tff", new, last, query.url)
    q = q.merge(nq)
    merged = stored if new.empty else cftc_ingest.merge_positions(stored, _rows(new))
    return _rows(merged), q, "CFTC TFF futures-only (stored history + Public Reporting API)"


def _endpoints(args: dict[str, Any]) -> cftc_ingest.Endpoints | None:
    given = args.get("endpoints")
    if not given:
        return None
    return cftc_ingest.Endpoints(**given)


def load_closes(ctx: TaskContext, markets: pd.DataFrame) -> tuple[pd.DataFrame | None, list[str]]:
    """Closes of the markets' underlyings from ``prices.<SYMBOL>`` (None when none is stored)
    and the underlyings without one.  VX, unless ``[futures_positioning] closes`` maps it to a
    price result: the front-month settlement of ``vx.settlements`` (the systematic job's VX
    history; :func:`flows.futures_positioning.vx_front_month`), never the spot VIX."""
    from jobs.tasks.systematic import read_vx  # late: the systematic task module is large

    mapping = ctx.settings.futures_positioning.closes
    frames, missing = {}, []
    for und in sorted({u for u in markets["underlying"].astype(str) if u and u != "nan"}):
        sym = mapping.get(und)
        hist = prices_task.read_history(ctx.store, sym) if sym else None
        if hist is None and und == VX and sym is None:
            stored = read_vx(ctx.store)
            front = fp.vx_front_month(stored[0]) if stored is not None else None
            hist = front if front is not None and len(front) else None
        if hist is None:
            missing.append(und)
            continue
        frames[und] = hist
    return (fp.closes_frame(frames) if frames else None), missing


@task(
    "futures_positioning",
    results=[RESULT],
    description="Equity-index, VIX and rates futures positioning (CFTC TFF) into cftc.futures_positioning.",
)
def futures_positioning(ctx: TaskContext, args: dict[str, Any]) -> TaskOutcome:
    """Fetch (or generate) the TFF rows, analyse every market, publish ``cftc.futures_positioning``."""
    s = ctx.settings
    cfg = s.futures_positioning
    table = markets_table(s)
    chosen = fp.select_markets(
        table, cfg.markets or None, source=f"{s.source_path}: futures_positioning.markets"
    )
    codes = list(chosen["code"])
    ctx.progress("TFF rows")
    rows, quality, source = fetch_rows(ctx, codes, args)
    if rows.empty:
        raise InputError(source, None, "no TFF row for the configured markets")
    closes, no_close = load_closes(ctx, chosen)
    zn = table.loc[table["symbol"] == fp.TEN_YEAR, "dv01_usd_per_bp"]
    ctx.progress("analysis")
    res = fp.analyse(
        rows,
        chosen,
        closes=closes,
        windows=cfg.windows_weeks,
        min_share=cfg.min_share,
        ten_year_dv01=float(zn.iloc[0]) if len(zn) else None,
        tz=s.service.timezone,
        source=source,
    )
    quality = fp.merge_quality(quality, res.quality)
    for und in no_close:
        where = (
            "no vx.settlements result"
            if und == VX and und not in cfg.closes
            else f"no prices.{cfg.closes.get(und, und)} result"
        )
        quality.warn(f"{where}: {und} notional not computed")
    enforce(quality, s.quality.threshold(QUALITY_FAMILY))
    head = dict(res.headline)
    head["notional_missing"] = ", ".join(res.info.get("notional_missing", []))
    as_of = pd.Timestamp(res.latest_as_of).tz_localize(s.service.timezone)
    tables = {
        "latest": res.latest,
        "positions": res.positions,
        "extremes": res.extremes,
        "crowding": res.crowding.assign(flagged=res.crowding["flagged"].astype(bool)),
        "reports": res.reports,
        "markets": res.markets,
        "rows": rows,
    }
    ctx.store.publish(
        RESULT,
        tables,
        as_of=as_of,
        source=source,
        sample=s.sample_mode,
        headline=head,
        quality=quality.to_dict(),
        extra={
            "release_time": head.get("release_time"),
            "notes": list(res.info.get("notes", [])),
            "coverage": {k: v for k, v in res.info.items() if k != "notes"},
            "windows_weeks": dict(cfg.windows_weeks),
            "convention": "net = long - short, contracts; equity/VIX notional = net x multiplier x close (USD); rates DV01 = net x contract DV01 (USD per bp, + = long duration)",
        },
    )
    return TaskOutcome(
        published=[RESULT],
        rows=len(res.latest),
        detail=f"{len(chosen)} markets, latest week {pd.Timestamp(res.latest_as_of).date()}, {head.get('crowding_flags', 0)} crowding flags",
    )
