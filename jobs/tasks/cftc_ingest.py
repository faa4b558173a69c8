"""CFTC ingestion: backfill history and merge the newest weeks into ``cftc.positions`` / ``cftc.fx``.

Results
-------
``cftc.positions``
    tables ``legacy`` (:data:`flows.schema.COT_LEGACY_COLUMNS`) and ``tff``
    (:data:`flows.schema.COT_TFF_COLUMNS`), one row per (as_of, code), for the currency futures
    of :data:`flows.sources.cftc_files.CURRENCY_CODES`; complete weeks only.
``cftc.fx``
    table ``data``: column ``date`` + one column per currency (``USD``, ``EUR``, ``JPY`` ...),
    USD per 1 unit (ECB reference rates; ``USD`` = 1).

Both carry ``as_of`` = the latest report date (midnight, desk time zone) and
``extra.release_time`` = the scheduled CFTC release of that report: 15:30 America/New_York on
the 3rd US federal business day after the as-of date (Friday for a Tuesday report; Monday when a
federal holiday falls on Wednesday-Friday; CFTC follows the federal, not the NYSE, calendar, so
Good Friday is a normal release day), :func:`flows.cftc.expected_release`.  Shutdown delays cannot be predicted: the weekly job
retries until the new week appears.

Sources
-------
Live: the CFTC yearly zips (``cftc_files``; 2006-2016 from the bundles), topped up from the
Socrata API when the current year's zip is not published yet (first days of January) and for
every weekly update; ECB history zip, then the daily XML.  Sample: the generator of
:mod:`flows.sources.sample_cftc` writes the real layouts, which go through the same parsers;
published with ``sample=True`` (labelled SAMPLE) and only weeks whose release time has passed.

Partial weeks
-------------
When the newest report date lacks a currency that the previous week had (a late or partial
Socrata load), that date is withheld from the published tables, flagged in
``extra.withheld`` and warned about (:class:`flows.errors.DataQualityWarning`); it is never
published as complete.  ``update_latest`` then reports no new week, so the job retries.  A
market can really drop out of a report (below the reporting threshold), so
:data:`PARTIAL_GRACE` (4 days) after the nominal release the week is kept, still flagged in
``extra.withheld`` (``accepted: true``, with the missing codes): downstream must treat those
currencies as missing that week, not as zero.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from flows.cftc import expected_release
from flows.errors import DataQualityWarning, InputError
from flows.schema import COT_LEGACY_COLUMNS, COT_TFF_COLUMNS
from flows.sources import cftc_files, cftc_socrata, ecb, sample_cftc

POSITIONS = "cftc.positions"
FX = "cftc.fx"
CODES: tuple[str, ...] = tuple(cftc_files.CURRENCY_CODES)
FX_CURRENCIES: tuple[str, ...] = ecb.FLOWDESK_CURRENCIES
RELEASE_TZ = "America/New_York"
FX_LAG_DAYS = 5
"""Largest gap, calendar days, between a report date and the ECB day used for it."""
PARTIAL_GRACE = pd.Timedelta(days=4)
"""How long after its nominal release a week lacking a currency is withheld before it is
accepted as published (flagged in ``extra.withheld`` with ``accepted``)."""
_SCHEMAS = {"legacy": COT_LEGACY_COLUMNS, "tff": COT_TFF_COLUMNS}


@dataclass(frozen=True)
class Endpoints:
    """Base URLs of the live sources (tests point them at a local HTTP server)."""

    cftc_history: str = cftc_files.HISTORY_BASE
    socrata: str = cftc_socrata.BASE
    ecb: str = ecb.BASE


def release_time(as_of: pd.Timestamp | str) -> pd.Timestamp:
    """Scheduled CFTC release of the report dated ``as_of``, 15:30 America/New_York: the 3rd US
    federal business day after the as-of date (:func:`flows.cftc.expected_release`)."""
    ts = pd.Timestamp(as_of)
    day = ts.tz_localize(None) if ts.tzinfo else ts
    return expected_release(pd.DatetimeIndex([day.normalize()]), tz=RELEASE_TZ)[0]


def merge_positions(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Union of two schema frames; a (as_of, code) row in ``new`` replaces the old one."""
    if old.empty:
        out = new
    elif new.empty:
        out = old
    else:
        out = pd.concat([old, new[list(old.columns)]], ignore_index=True)
    out = out.drop_duplicates(["as_of", "code"], keep="last")
    return out.sort_values(["as_of", "code"], kind="stable").reset_index(drop=True)


def complete_weeks(frame: pd.DataFrame, report: str, now: pd.Timestamp | None = None, grace: pd.Timedelta = PARTIAL_GRACE) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """Withhold the newest report date when it lacks a code the week before had.

    Returns the frame without that date and a description (``report``, ``date``, ``missing``
    codes, ``accepted`` False) of what was withheld, or the frame unchanged and ``None``.

    A market can really drop out of a report (the rand missed weeks in 2018-2019: too few
    reportable traders), so withholding cannot last for ever: once ``now`` is ``grace`` past the
    week's nominal release the week is kept, and the description says ``accepted`` True (it is
    published in ``extra.withheld`` so the page can say which currency is missing).
    """
    dates = frame["as_of"].drop_duplicates().sort_values()
    if len(dates) < 2:
        return frame, None
    last, prev = dates.iloc[-1], dates.iloc[-2]
    have = set(frame.loc[frame["as_of"] == last, "code"])
    expected = set(frame.loc[frame["as_of"] == prev, "code"])
    missing = sorted(expected - have)
    if not missing:
        return frame, None
    accepted = now is not None and now >= release_time(last) + grace
    info = {"report": report, "date": last.strftime("%Y-%m-%d"), "missing": missing, "accepted": bool(accepted)}
    what = f"kept without them ({grace} after its release)" if accepted else "withheld (partial week)"
    warnings.warn(f"{POSITIONS} {report}: week {info['date']} lacks {', '.join(missing)}: {what}", DataQualityWarning, stacklevel=2)
    if accepted:
        return frame, info
    return frame[frame["as_of"] != last].reset_index(drop=True), info


def check_fx_coverage(fx: pd.DataFrame, dates: Iterable[pd.Timestamp]) -> None:
    """Raise :class:`InputError` naming the first report date with no ECB rate within 5 days."""
    dates = sorted(set(pd.to_datetime(list(dates))))
    if dates:
        ecb.fx_dates_for(fx, dates, FX_LAG_DAYS, source=FX)


def _now(settings: Any, now: datetime | None) -> pd.Timestamp:
    ts = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz=settings.tz)
    return ts if ts.tzinfo else ts.tz_localize(settings.tz)


def _released(frame: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """Rows whose nominal release time is not after ``now`` (sample mode mimics the calendar)."""
    if frame.empty:
        return frame
    dates = frame["as_of"].drop_duplicates()
    ok = {d for d in dates if release_time(d) <= now}
    return frame[frame["as_of"].isin(ok)].reset_index(drop=True)


def _publish(store: Any, settings: Any, positions: dict[str, pd.DataFrame], fx: pd.DataFrame | None, *, source: str, sample: bool, withheld: list[dict[str, Any]]) -> pd.Timestamp:
    last = max((f["as_of"].max() for f in positions.values() if not f.empty), default=None)
    if last is None or pd.isna(last):
        raise InputError(POSITIONS, None, "no complete report week to publish")
    as_of = pd.Timestamp(last).tz_localize(settings.tz)
    # a currency absent from a whole table is named (the analytics then report it missing)
    absent = {k: sorted(set(CODES) - set(f["code"])) for k, f in positions.items()}
    for k, codes in absent.items():
        if codes:
            warnings.warn(f"{POSITIONS} {k}: no rows at all for {', '.join(codes)}", DataQualityWarning, stacklevel=2)
    release = release_time(last)
    extra = {
        "release_time": release.isoformat(),
        "report_date": last.strftime("%Y-%m-%d"),
        "last_dates": {k: (f["as_of"].max().strftime("%Y-%m-%d") if not f.empty else None) for k, f in positions.items()},
        "codes": list(CODES),
        "withheld": withheld,
        "absent_codes": absent,
    }
    units = {t: {c: "contracts" for c in _SCHEMAS[t] if c not in ("as_of", "code", "market")} for t in positions}
    headline = {"report_date": extra["report_date"], "weeks_legacy": int(positions["legacy"]["as_of"].nunique()), "weeks_tff": int(positions["tff"]["as_of"].nunique())}
    store.publish(POSITIONS, positions, as_of=as_of, source=source, sample=sample, units=units, headline=headline, extra=extra)
    if fx is not None:
        table = fx.reset_index().rename(columns={fx.index.name or "index": "date"})
        fx_extra = {"release_time": release.isoformat(), "report_date": extra["report_date"], "fx_last_date": fx.index.max().strftime("%Y-%m-%d"), "convention": "USD per 1 unit of the currency = ECB USD / ECB CCY"}
        store.publish(FX, {"data": table}, as_of=as_of, source="sample ECB reference rates (generated)" if sample else "ECB euro foreign exchange reference rates", sample=sample, units={"data": {c: "USD per 1 unit" for c in fx.columns}}, headline={"fx_last_date": fx_extra["fx_last_date"]}, extra=fx_extra)
    return as_of


def _read_stored(store: Any) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None] | None:
    from jobs.store import ResultNotFound

    try:
        res = store.read(POSITIONS)
    except ResultNotFound:
        return None
    positions = {t: res.table(t) for t in ("legacy", "tff")}
    for frame in positions.values():
        frame["as_of"] = pd.to_datetime(frame["as_of"]).astype("datetime64[ns]")
    try:
        fxres = store.read(FX)
    except ResultNotFound:
        return positions, None
    fx = fxres.table("data").set_index("date")
    fx.index = pd.DatetimeIndex(pd.to_datetime(fx.index), name="date").astype("datetime64[ns]")
    return positions, fx


# -- backfill ------------------------------------------------------------------------------
def backfill(
    settings: Any,
    store: Any,
    from_year: int,
    to_year: int | None = None,
    client: Any = None,
    progress: Callable[[str], None] | None = None,
    now: datetime | None = None,
    endpoints: Endpoints | None = None,
) -> dict[str, Any]:
    """Fetch (live) or generate (sample) history ``from_year..to_year`` and publish both results.

    Replaces the stored history.  Returns a summary: rows per table, first/last report date,
    the years whose zip was missing (topped up from Socrata) and withheld partial weeks.
    ``progress`` is called with a short message per year and file.
    """
    say = progress or (lambda _m: None)
    ts = _now(settings, now)
    to_year = int(to_year or ts.year)
    if from_year > to_year:
        raise InputError("cftc-backfill", "from_year", f"{from_year} is after {to_year}")
    start = pd.Timestamp(int(from_year), 1, 1)
    end = min(pd.Timestamp(to_year, 12, 31), ts.tz_localize(None).normalize())
    missing_years: list[int] = []
    if settings.sample_mode:
        seed = settings.service.sample_seed
        positions = {
            "legacy": cftc_files.parse_legacy(sample_cftc.legacy_text(seed, end, start), "sample annual.txt", CODES),
            "tff": cftc_files.parse_tff(sample_cftc.tff_text(seed, end, start), "sample FinFutYY.txt", CODES),
        }
        for report in ("legacy", "tff"):
            for year in range(int(from_year), to_year + 1):
                say(f"sample {report} {year}")
        fx = ecb.parse_hist_csv(sample_cftc.ecb_hist_csv(seed, end, start - pd.Timedelta(days=14)), "sample eurofxref-hist.csv", FX_CURRENCIES)
        say("sample FX")
        positions = {k: _released(v, ts) for k, v in positions.items()}
        source = "sample CFTC COT (generated in the Historical Compressed layout)"
    else:
        from flows.sources.http import HttpClient

        ep = endpoints or Endpoints()
        client = client or HttpClient.from_settings(settings)
        years = list(range(int(from_year), to_year + 1))
        positions = {}
        for report in ("legacy", "tff"):
            files = cftc_files.fetch_years(report, years, client, say, base=ep.cftc_history, current_year=ts.year)  # type: ignore[arg-type]
            frame = files.parse(CODES)
            if files.missing_current is not None:
                missing_years.append(files.missing_current)
                since = frame["as_of"].max() + pd.Timedelta(days=1) if not frame.empty else pd.Timestamp(files.missing_current, 1, 1)
                rows = cftc_socrata.fetch(cftc_socrata.build_query(report, CODES, since, base=ep.socrata), client)
                frame = merge_positions(frame, cftc_socrata.parse(rows, report, f"{ep.socrata} ({report})", CODES))
                say(f"{report} weekly data since {since.date()}")
            positions[report] = frame
        fx = ecb.fetch_hist(client, base=ep.ecb, currencies=FX_CURRENCIES)
        fx = fx[fx.index >= start - pd.Timedelta(days=14)]
        say("ECB FX history")
        source = "CFTC Commitments of Traders (historical compressed files + Public Reporting API)"
    withheld = []
    for report in ("legacy", "tff"):
        positions[report], info = complete_weeks(positions[report], report, ts)
        if info:
            withheld.append(info)
    check_fx_coverage(fx, pd.concat([f["as_of"] for f in positions.values()]))
    as_of = _publish(store, settings, positions, fx, source=source, sample=settings.sample_mode, withheld=withheld)
    return {
        "as_of": as_of.isoformat(),
        "rows": {k: len(v) for k, v in positions.items()},
        "first": {k: (v["as_of"].min().strftime("%Y-%m-%d") if not v.empty else None) for k, v in positions.items()},
        "missing_current_year": missing_years,
        "withheld": withheld,
    }


# -- weekly update -------------------------------------------------------------------------
def update_latest(settings: Any, store: Any, client: Any = None, now: datetime | None = None, endpoints: Endpoints | None = None) -> bool:
    """Merge the newest weeks into ``cftc.positions`` / ``cftc.fx``; True if a new week appeared.

    Live: Socrata rows from the last stored date on (both reports), the ECB daily XML (and the
    history zip when the stored FX is more than a week behind).  Sample: generated weeks up to
    ``now`` (only those already "released").  With nothing stored yet, backfills from
    ``settings.cftc.history_from_year`` (live) or 6 years back (sample) and returns True.
    A partial newest week is withheld (see the module docstring) and does not count as new.
    Nothing is published when no new complete week and no late row appeared (the last good
    result stays); late rows for a stored week are published but return False.
    """
    ts = _now(settings, now)
    stored = _read_stored(store)
    if stored is None:
        start = ts.year - 6 if settings.sample_mode else settings.cftc.history_from_year
        backfill(settings, store, start, client=client, now=ts, endpoints=endpoints)
        return True
    old, old_fx = stored
    last = {k: (v["as_of"].max() if not v.empty else pd.Timestamp("2005-12-31")) for k, v in old.items()}
    since = min(last.values()) + pd.Timedelta(days=1)
    end = ts.tz_localize(None).normalize()
    new: dict[str, pd.DataFrame]
    if settings.sample_mode:
        seed = settings.service.sample_seed
        if len(sample_cftc.report_dates(since, end)) == 0:
            return False
        new = {
            "legacy": cftc_files.parse_legacy(sample_cftc.legacy_text(seed, end, since), "sample annual.txt", CODES),
            "tff": cftc_files.parse_tff(sample_cftc.tff_text(seed, end, since), "sample FinFutYY.txt", CODES),
        }
        new = {k: _released(v, ts) for k, v in new.items()}
        fx_start = old_fx.index.max() + pd.Timedelta(days=1) if old_fx is not None else since - pd.Timedelta(days=14)
        fx_new = None
        if len(sample_cftc.target_business_days(fx_start, end)):
            fx_new = ecb.parse_hist_csv(sample_cftc.ecb_hist_csv(seed, end, fx_start), "sample eurofxref-hist.csv", FX_CURRENCIES)
        source = "sample CFTC COT (generated in the Historical Compressed layout)"
    else:
        from flows.sources.http import HttpClient

        ep = endpoints or Endpoints()
        client = client or HttpClient.from_settings(settings)
        new = {}
        for report in ("legacy", "tff"):
            # from the last stored week inclusive: a market that arrived late for that week
            # (an accepted partial week) is merged in too
            query = cftc_socrata.build_query(report, CODES, last[report], base=ep.socrata)
            new[report] = cftc_socrata.parse(cftc_socrata.fetch(query, client), report, query.url, CODES)
        fx_new = ecb.fetch_daily(client, base=ep.ecb, currencies=FX_CURRENCIES)
        if old_fx is None or fx_new.index.min() - old_fx.index.max() > pd.Timedelta(days=7):
            fx_new = ecb.merge(ecb.fetch_hist(client, base=ep.ecb, currencies=FX_CURRENCIES), fx_new)
        source = "CFTC Commitments of Traders (historical compressed files + Public Reporting API)"
    merged = {k: merge_positions(old[k], new[k]) for k in ("legacy", "tff")}
    withheld = []
    for report in ("legacy", "tff"):
        merged[report], info = complete_weeks(merged[report], report, ts)
        if info:
            withheld.append(info)
    grew = any((not merged[k].empty) and merged[k]["as_of"].max() > last[k] for k in merged)
    late_rows = any(len(merged[k]) > len(old[k]) for k in merged)
    if not (grew or late_rows):
        return False
    fx = old_fx if fx_new is None else (fx_new if old_fx is None else ecb.merge(old_fx, fx_new))
    check_fx_coverage(fx, pd.concat([f["as_of"] for f in merged.values()]))
    _publish(store, settings, merged, fx, source=source, sample=settings.sample_mode, withheld=withheld)
    return grew
