"""CFTC ingestion: backfill history and merge the newest weeks into ``cftc.positions`` / ``cftc.fx``.

Results
-------
``cftc.positions``
    tables ``legacy`` (:data:`flows.schema.COT_LEGACY_COLUMNS`) and ``tff``
    (:data:`flows.schema.COT_TFF_COLUMNS`), one row per (as_of, code), for the currency futures
    of :data:`flows.sources.cftc_files.CURRENCY_CODES`; complete weeks only; and ``releases``
    (:data:`RELEASE_COLUMNS`), one row per report date: when the report was scheduled, when this
    ingest first saw it, and its release time.
``cftc.fx``
    table ``data``: column ``date`` + one column per currency (``USD``, ``EUR``, ``JPY`` ...),
    USD per 1 unit (ECB reference rates; ``USD`` = 1).

Both carry ``as_of`` = the latest report date (midnight, desk time zone), the input quality of
what this ingest parsed (:class:`flows.quality.Quality`: basis ``positions`` for the COT
reports, ``rows`` for the ECB rates; refused above ``[quality]`` ``cftc`` before anything is
published) and ``extra.release_time`` of the latest report.

Release times
-------------
The scheduled release of a report is 15:30 America/New_York on the 3rd US federal business day
after its as-of date (:func:`flows.calendars.cftc_release_times`, applied to every date at once).
Shutdowns break that schedule: after the Oct-Nov 2025 US government shutdown the CFTC published
the missed reports several a week, on other days than Friday, until the report of 2026-01-23
caught up.  So a report's *release time* is the time this ingest first saw it (the ``now`` of
the run that stored it: an upper bound of the real release, never the nominal schedule).  Weeks
loaded by a back-fill were published before flowdesk looked; they keep their scheduled release
(``release_basis`` says which).  A report is published as soon as it is seen; being behind the
calendar is a warning of the ``cftc`` task, never a reason to hold data back.

Sources
-------
Live: the CFTC yearly zips (``cftc_files``; 2006-2016 from the bundles), topped up from the
Socrata API when the current year's zip is not published yet (first days of January: a 404, or
cftc.gov's HTML "page not found" served with status 200, or an empty body) and for every weekly
update; ECB history zip, then the daily XML.  Sample: the generator of
:mod:`flows.sources.sample_cftc` writes the real layouts, which go through the same parsers;
published with ``sample=True`` (labelled SAMPLE) and only weeks whose scheduled release has
passed.

Never a regression
------------------
A fetch whose newest report is older than what is already stored raises (a stale mirror, an
API answering from an old snapshot): the stored history is never replaced by a shorter one.
``backfill(..., replace=True)`` (``flowdesk cftc-backfill --replace``) overrides it on purpose.

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
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from flows.calendars import cftc_release_times
from flows.errors import DataQualityWarning, InputError
from flows.quality import Quality, enforce
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
REPORTS = ("legacy", "tff")

RELEASE_COLUMNS = ("as_of", "scheduled_release", "first_seen", "release_time", "release_basis")
"""Columns of the ``releases`` table of ``cftc.positions`` (kinds, units and meaning:
:mod:`jobs.declarations.cftc`)."""
FIRST_SEEN = "first seen"
SCHEDULED = "scheduled (back-fill)"


@dataclass(frozen=True)
class Endpoints:
    """Base URLs of the live sources (tests point them at a local HTTP server)."""

    cftc_history: str = cftc_files.HISTORY_BASE
    socrata: str = cftc_socrata.BASE
    ecb: str = ecb.BASE


class Stored(NamedTuple):
    """What ``cftc.positions`` / ``cftc.fx`` hold now."""

    positions: dict[str, pd.DataFrame]
    fx: pd.DataFrame | None
    releases: pd.DataFrame


# -- release times ------------------------------------------------------------------------------
def release_times(as_of: Iterable[Any]) -> pd.DatetimeIndex:
    """Scheduled CFTC release of every report date in ``as_of`` at once, 15:30 America/New_York
    (:func:`flows.calendars.cftc_release_times`: one vectorised business-day offset)."""
    idx = pd.DatetimeIndex(
        pd.to_datetime(list(as_of) if not isinstance(as_of, pd.DatetimeIndex) else as_of)
    )
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return cftc_release_times(idx.normalize(), tz=RELEASE_TZ)


def release_time(as_of: pd.Timestamp | str) -> pd.Timestamp:
    """Scheduled CFTC release of the one report dated ``as_of`` (see :func:`release_times`)."""
    return release_times([pd.Timestamp(as_of)])[0]


def report_dates(frames: Iterable[pd.DataFrame]) -> pd.DatetimeIndex:
    """Sorted distinct report dates of the ``as_of`` columns of ``frames`` (tz-naive)."""
    arrays = [f["as_of"].to_numpy(dtype="datetime64[ns]") for f in frames]
    return pd.DatetimeIndex(
        np.unique(np.concatenate(arrays)) if arrays else np.array([], dtype="datetime64[ns]")
    )


def update_releases(
    old: pd.DataFrame | None, dates: Iterable[Any], now: pd.Timestamp, *, backfill: bool
) -> pd.DataFrame:
    """The ``releases`` table (:data:`RELEASE_COLUMNS`) for ``dates``.

    Dates already in ``old`` keep their row (first seen once, never re-dated).  New dates get
    their scheduled release (vectorised), ``first_seen = now`` and, from a weekly update, the
    release time ``now`` (``release_basis`` "first seen"); from a back-fill the scheduled release
    (the report was out before flowdesk looked; "scheduled (back-fill)").
    """
    days = pd.DatetimeIndex(
        np.unique(
            pd.DatetimeIndex(
                dates if isinstance(dates, pd.DatetimeIndex | np.ndarray) else list(dates)
            ).to_numpy(dtype="datetime64[ns]")
        )
    )
    keep = old[old["as_of"].isin(days)] if old is not None and not old.empty else None
    new = days if keep is None else days[~days.isin(keep["as_of"])]
    seen = pd.Timestamp(now).tz_convert(RELEASE_TZ)
    scheduled = release_times(new)
    fresh = pd.DataFrame(
        {
            "as_of": new,
            "scheduled_release": scheduled,
            "first_seen": pd.DatetimeIndex([seen] * len(new), tz=RELEASE_TZ)
            if len(new)
            else pd.DatetimeIndex([], tz=RELEASE_TZ),
            "release_time": scheduled
            if backfill
            else pd.DatetimeIndex([seen] * len(new), tz=RELEASE_TZ),
            "release_basis": [SCHEDULED if backfill else FIRST_SEEN] * len(new),
        }
    )
    out = (
        fresh
        if keep is None or keep.empty
        else pd.concat([keep[list(RELEASE_COLUMNS)], fresh], ignore_index=True)
    )
    return out.sort_values("as_of", kind="stable").reset_index(drop=True)


def _released(frame: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """Rows whose scheduled release time is not after ``now`` (sample mode mimics the calendar).

    One vectorised release-rule call over the distinct report dates.
    """
    if frame.empty:
        return frame
    dates = pd.DatetimeIndex(frame["as_of"].drop_duplicates())
    ok = dates[release_times(dates) <= now]
    return frame[frame["as_of"].isin(ok)].reset_index(drop=True)


# -- merging and checks -------------------------------------------------------------------------
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


def complete_weeks(
    frame: pd.DataFrame,
    report: str,
    now: pd.Timestamp | None = None,
    grace: pd.Timedelta = PARTIAL_GRACE,
) -> tuple[pd.DataFrame, dict[str, Any] | None]:
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
    info = {
        "report": report,
        "date": last.strftime("%Y-%m-%d"),
        "missing": missing,
        "accepted": bool(accepted),
    }
    what = (
        f"kept without them ({grace} after its release)" if accepted else "withheld (partial week)"
    )
    warnings.warn(
        f"{POSITIONS} {report}: week {info['date']} lacks {', '.join(missing)}: {what}",
        DataQualityWarning,
        stacklevel=2,
    )
    if accepted:
        return frame, info
    return frame[frame["as_of"] != last].reset_index(drop=True), info


def check_fx_coverage(fx: pd.DataFrame, dates: Iterable[pd.Timestamp]) -> None:
    """Raise :class:`InputError` naming the first report date with no ECB rate within 5 days."""
    dates = sorted(set(pd.to_datetime(list(dates))))
    if dates:
        ecb.fx_dates_for(fx, dates, FX_LAG_DAYS, source=FX)


def check_no_regression(
    report: str, fetched: pd.DataFrame, stored_last: pd.Timestamp | None, source: str
) -> None:
    """Raise when ``fetched`` holds rows yet its newest report date is older than ``stored_last``.

    An empty fetch is "nothing new", not a regression.  The error names the source and both
    dates; nothing is published, so the stored history (and the results computed from it) stay.
    """
    if fetched.empty or stored_last is None or pd.isna(stored_last):
        return
    newest = fetched["as_of"].max()
    if newest < stored_last:
        raise InputError(
            source,
            "report date",
            f"{report}: the newest report fetched is {newest.date()}, older than the {stored_last.date()} already stored: refusing to publish a regression (a stale mirror or snapshot?)",
        )


def _now(settings: Any, now: datetime | None) -> pd.Timestamp:
    ts = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz=settings.tz)
    return ts if ts.tzinfo else ts.tz_localize(settings.tz)


def fx_quality_note(q: Quality, into: Quality) -> None:
    """Carry the FX input's findings into the positions quality as warnings (other basis)."""
    if q.skipped_rows:
        into.warn(
            f"ECB rates: {q.skipped_rows} of {q.total_rows} day(s) skipped ({', '.join(q.reasons)}); the previous ECB day serves those dates"
        )
    for w in q.warnings:
        into.warn(w)


def _publish(
    store: Any,
    settings: Any,
    positions: dict[str, pd.DataFrame],
    fx: pd.DataFrame | None,
    releases: pd.DataFrame,
    *,
    source: str,
    sample: bool,
    withheld: list[dict[str, Any]],
    quality: Quality,
    fx_quality: Quality | None,
    notes: list[str],
) -> pd.Timestamp:
    last = max((f["as_of"].max() for f in positions.values() if not f.empty), default=None)
    if last is None or pd.isna(last):
        raise InputError(POSITIONS, None, "no complete report week to publish")
    as_of = pd.Timestamp(last).tz_localize(settings.tz)
    # a currency absent from a whole table is named (the analytics then report it missing)
    absent = {k: sorted(set(CODES) - set(f["code"])) for k, f in positions.items()}
    for k, codes in absent.items():
        if codes:
            warnings.warn(
                f"{POSITIONS} {k}: no rows at all for {', '.join(codes)}",
                DataQualityWarning,
                stacklevel=2,
            )
    releases = releases[releases["as_of"].isin(report_dates(positions.values()))].reset_index(
        drop=True
    )
    row = releases.set_index("as_of").loc[pd.Timestamp(last)]
    extra = {
        "release_time": pd.Timestamp(row["release_time"]).isoformat(),
        "scheduled_release": pd.Timestamp(row["scheduled_release"]).isoformat(),
        "release_basis": str(row["release_basis"]),
        "report_date": last.strftime("%Y-%m-%d"),
        "last_dates": {
            k: (f["as_of"].max().strftime("%Y-%m-%d") if not f.empty else None)
            for k, f in positions.items()
        },
        "codes": list(CODES),
        "withheld": withheld,
        "absent_codes": absent,
        "notes": list(notes),
    }
    headline = {
        "report_date": extra["report_date"],
        "weeks_legacy": int(positions["legacy"]["as_of"].nunique()),
        "weeks_tff": int(positions["tff"]["as_of"].nunique()),
    }
    store.publish(
        POSITIONS,
        {**positions, "releases": releases},
        as_of=as_of,
        source=source,
        sample=sample,
        headline=headline,
        extra=extra,
        quality=quality.to_dict(),
    )
    if fx is not None:
        table = fx.reset_index().rename(columns={fx.index.name or "index": "date"})
        fx_extra = {
            "release_time": extra["release_time"],
            "report_date": extra["report_date"],
            "fx_last_date": fx.index.max().strftime("%Y-%m-%d"),
            "convention": "USD per 1 unit of the currency = ECB USD / ECB CCY",
        }
        store.publish(
            FX,
            {"data": table},
            as_of=as_of,
            source=f"SAMPLE ECB reference rates (seed {settings.service.sample_seed}, generated "
            "in the eurofxref-hist.csv layout)"
            if sample
            else "ECB euro foreign exchange reference rates",
            sample=sample,
            headline={"fx_last_date": fx_extra["fx_last_date"]},
            extra=fx_extra,
            quality=fx_quality.to_dict() if fx_quality is not None else None,
        )
    return as_of


def read_stored(store: Any) -> Stored | None:
    """The stored positions, FX and release table (None when nothing is stored yet).

    A result published before the ``releases`` table existed gets one built from the schedule.
    """
    from jobs.store import ResultNotFound

    try:
        res = store.read(POSITIONS)
    except ResultNotFound:
        return None
    positions = {t: res.table(t) for t in REPORTS}
    for frame in positions.values():
        frame["as_of"] = pd.to_datetime(frame["as_of"]).astype("datetime64[ns]")
    dates = report_dates(positions.values())
    if "releases" in res.meta.tables:
        releases = res.table("releases")
        releases["as_of"] = pd.to_datetime(releases["as_of"]).astype("datetime64[ns]")
        for col in ("scheduled_release", "first_seen", "release_time"):
            releases[col] = pd.to_datetime(releases[col]).dt.tz_convert(RELEASE_TZ)
        if not dates.isin(releases["as_of"]).all():
            releases = update_releases(
                releases,
                dates.union(pd.DatetimeIndex(releases["as_of"])),
                res.meta.computed_at_ts,
                backfill=True,
            )
    else:
        releases = update_releases(None, dates, res.meta.computed_at_ts, backfill=True)
    try:
        fxres = store.read(FX)
    except ResultNotFound:
        return Stored(positions, None, releases)
    fx = fxres.table("data").set_index("date")
    fx.index = pd.DatetimeIndex(pd.to_datetime(fx.index), name="date").astype("datetime64[ns]")
    return Stored(positions, fx, releases)


def _read_stored(store: Any) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None] | None:
    """``(positions, fx)`` of :func:`read_stored` (kept for callers of the two-part form)."""
    stored = read_stored(store)
    return None if stored is None else (stored.positions, stored.fx)


def _threshold(settings: Any) -> float:
    return float(settings.quality.threshold("cftc"))


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
    *,
    replace: bool = False,
) -> dict[str, Any]:
    """Fetch (live) or generate (sample) history ``from_year..to_year`` and publish both results.

    Replaces the stored history, keeping the release times already recorded for report dates it
    still holds.  Refuses (:class:`InputError`) to replace a history whose newest report is
    later than the back-filled one unless ``replace`` is set, and refuses an input whose skipped
    share passes ``[quality]`` ``cftc`` (:func:`flows.quality.enforce`).  Returns a summary:
    rows per table, first/last report date, the years whose zip was missing (topped up from
    Socrata), notes (why), withheld partial weeks and the input quality.  ``progress`` is called
    with a short message per year and file.
    """
    say = progress or (lambda _m: None)
    ts = _now(settings, now)
    to_year = int(to_year or ts.year)
    if from_year > to_year:
        raise InputError("cftc-backfill", "from_year", f"{from_year} is after {to_year}")
    start = pd.Timestamp(int(from_year), 1, 1)
    end = min(pd.Timestamp(to_year, 12, 31), ts.tz_localize(None).normalize())
    missing_years: list[int] = []
    notes: list[str] = []
    qualities: list[Quality] = []
    if settings.sample_mode:
        seed = settings.service.sample_seed
        positions = {}
        for report, text, name in (
            ("legacy", sample_cftc.legacy_text(seed, end, start), "sample annual.txt"),
            ("tff", sample_cftc.tff_text(seed, end, start), "sample FinFutYY.txt"),
        ):
            frame, q = cftc_files.parse_report(text, report, name, CODES)  # type: ignore[arg-type]
            positions[report] = frame
            qualities.append(q)
        for report in REPORTS:
            for year in range(int(from_year), to_year + 1):
                say(f"sample {report} {year}")
        fx, fx_q = ecb.read_hist_csv(
            sample_cftc.ecb_hist_csv(seed, end, start - pd.Timedelta(days=14)),
            "sample eurofxref-hist.csv",
            FX_CURRENCIES,
        )
        say("sample FX")
        positions = {k: _released(v, ts) for k, v in positions.items()}
        source = f"SAMPLE CFTC COT (seed {seed}, generated in the Historical Compressed layout)"
    else:
        from flows.sources.http import HttpClient

        ep = endpoints or Endpoints()
        client = client or HttpClient.from_settings(settings)
        years = list(range(int(from_year), to_year + 1))
        positions = {}
        for report in REPORTS:
            files = cftc_files.fetch_years(
                report, years, client, say, base=ep.cftc_history, current_year=ts.year
            )  # type: ignore[arg-type]
            frame, q = files.parse_report(CODES)
            qualities.append(q)
            notes += files.notes
            if files.missing_current is not None:
                missing_years.append(files.missing_current)
                since = (
                    frame["as_of"].max() + pd.Timedelta(days=1)
                    if not frame.empty
                    else pd.Timestamp(files.missing_current, 1, 1)
                )
                query = cftc_socrata.build_query(report, CODES, since, base=ep.socrata)
                top, tq = cftc_socrata.parse_rows(
                    cftc_socrata.fetch(query, client), report, f"{ep.socrata} ({report})", CODES
                )
                qualities.append(tq)
                frame = merge_positions(frame, top)
                say(f"{report} weekly data since {since.date()}")
            positions[report] = frame
        fx, fx_q = ecb.fetch_hist_parsed(client, base=ep.ecb, currencies=FX_CURRENCIES)
        fx = fx[fx.index >= start - pd.Timedelta(days=14)]
        say("ECB FX history")
        source = "CFTC Commitments of Traders (historical compressed files + Public Reporting API)"
    quality = Quality(source=f"{POSITIONS} back-fill", basis="positions")
    for q in qualities:
        quality = quality.merge(q)
    withheld = []
    for report in REPORTS:
        positions[report], info = complete_weeks(positions[report], report, ts)
        if info:
            withheld.append(info)
    enforce(quality, _threshold(settings))
    enforce(fx_q, _threshold(settings))
    fx_quality_note(fx_q, quality)
    stored = read_stored(store)
    if stored is not None and not replace:
        for report in REPORTS:
            old = stored.positions[report]
            check_no_regression(
                report,
                positions[report],
                old["as_of"].max() if not old.empty else None,
                f"{POSITIONS} back-fill {from_year}-{to_year} (pass replace=True / --replace to overwrite)",
            )
    check_fx_coverage(fx, pd.concat([f["as_of"] for f in positions.values()]))
    releases = update_releases(
        stored.releases if stored is not None else None,
        report_dates(positions.values()),
        ts,
        backfill=True,
    )
    as_of = _publish(
        store,
        settings,
        positions,
        fx,
        releases,
        source=source,
        sample=settings.sample_mode,
        withheld=withheld,
        quality=quality,
        fx_quality=fx_q,
        notes=notes,
    )
    return {
        "as_of": as_of.isoformat(),
        "rows": {k: len(v) for k, v in positions.items()},
        "first": {
            k: (v["as_of"].min().strftime("%Y-%m-%d") if not v.empty else None)
            for k, v in positions.items()
        },
        "missing_current_year": missing_years,
        "notes": notes,
        "withheld": withheld,
        "quality": quality.to_dict(),
    }


# -- weekly update -------------------------------------------------------------------------
def update_latest(
    settings: Any,
    store: Any,
    client: Any = None,
    now: datetime | None = None,
    endpoints: Endpoints | None = None,
) -> bool:
    """Merge the newest weeks into ``cftc.positions`` / ``cftc.fx``; True if a new week appeared.

    Live: Socrata rows from the last stored date on (both reports; every page, see
    :func:`flows.sources.cftc_socrata.fetch`), the ECB daily XML (and the history zip when the
    stored FX is more than a week behind).  Sample: generated weeks up to ``now`` (only those
    whose scheduled release has passed).  With nothing stored yet, backfills from
    ``settings.cftc.history_from_year`` (live) or 6 years back (sample) and returns True.

    Every new report date is published at once, however many arrive together (a backlog after
    a shutdown), with ``now`` as its release time (first seen).  A partial newest week is
    withheld (see the module docstring) and does not count as new.  Nothing is published when no
    new complete week and no late row appeared (the last good result stays); late rows for a
    stored week are published but return False.

    Raises
    ------
    InputError
        A fetched report older than the stored one (a regression), an input whose skipped share
        passes ``[quality]`` ``cftc``, an implausible value, an FX rate jumping beyond the daily
        band from the stored previous day.  Nothing is published then.
    """
    ts = _now(settings, now)
    stored = read_stored(store)
    if stored is None:
        start = ts.year - 6 if settings.sample_mode else settings.cftc.history_from_year
        backfill(settings, store, start, client=client, now=ts, endpoints=endpoints)
        return True
    old, old_fx = stored.positions, stored.fx
    last = {
        k: (v["as_of"].max() if not v.empty else pd.Timestamp("2005-12-31")) for k, v in old.items()
    }
    since = min(last.values()) + pd.Timedelta(days=1)
    end = ts.tz_localize(None).normalize()
    new: dict[str, pd.DataFrame] = {}
    qualities: list[Quality] = []
    fx_q: Quality | None = None
    if settings.sample_mode:
        seed = settings.service.sample_seed
        if len(sample_cftc.report_dates(since, end)) == 0:
            return False
        for report, text, name in (
            ("legacy", sample_cftc.legacy_text(seed, end, since), "sample annual.txt"),
            ("tff", sample_cftc.tff_text(seed, end, since), "sample FinFutYY.txt"),
        ):
            frame, q = cftc_files.parse_report(text, report, name, CODES)  # type: ignore[arg-type]
            new[report] = _released(frame, ts)
            qualities.append(q)
        fx_start = (
            old_fx.index.max() + pd.Timedelta(days=1)
            if old_fx is not None
            else since - pd.Timedelta(days=14)
        )
        fx_new = None
        if len(sample_cftc.target_business_days(fx_start, end)):
            fx_new, fx_q = ecb.read_hist_csv(
                sample_cftc.ecb_hist_csv(seed, end, fx_start),
                "sample eurofxref-hist.csv",
                FX_CURRENCIES,
            )
        fx_source = "sample eurofxref-hist.csv"
        source = f"SAMPLE CFTC COT (seed {seed}, generated in the Historical Compressed layout)"
    else:
        from flows.sources.http import HttpClient

        ep = endpoints or Endpoints()
        client = client or HttpClient.from_settings(settings)
        for report in REPORTS:
            # from the last stored week inclusive: a market that arrived late for that week
            # (an accepted partial week) is merged in too
            query = cftc_socrata.build_query(report, CODES, last[report], base=ep.socrata)
            frame, q = cftc_socrata.parse_rows(
                cftc_socrata.fetch(query, client), report, query.url, CODES
            )
            check_no_regression(report, frame, last[report], query.url)
            new[report] = frame
            qualities.append(q)
        fx_new, fx_q = ecb.fetch_daily_parsed(client, base=ep.ecb, currencies=FX_CURRENCIES)
        fx_source = ecb.build_query("daily_xml", base=ep.ecb)
        if old_fx is None or fx_new.index.min() - old_fx.index.max() > pd.Timedelta(days=7):
            hist, hq = ecb.fetch_hist_parsed(client, base=ep.ecb, currencies=FX_CURRENCIES)
            fx_new, fx_q = ecb.merge(hist, fx_new), hq.merge(fx_q)
            fx_source = ecb.build_query("hist", base=ep.ecb)
        source = "CFTC Commitments of Traders (historical compressed files + Public Reporting API)"
    quality = Quality(source=f"{POSITIONS} update", basis="positions")
    for q in qualities:
        quality = quality.merge(q)
    merged = {k: merge_positions(old[k], new[k]) for k in REPORTS}
    withheld = []
    for report in REPORTS:
        merged[report], info = complete_weeks(merged[report], report, ts)
        if info:
            withheld.append(info)
    grew = any((not merged[k].empty) and merged[k]["as_of"].max() > last[k] for k in merged)
    late_rows = any(len(merged[k]) > len(old[k]) for k in merged)
    if not (grew or late_rows):
        return False
    enforce(quality, _threshold(settings))
    if fx_q is not None:
        enforce(fx_q, _threshold(settings))
        fx_quality_note(fx_q, quality)
    fx = old_fx if fx_new is None else (fx_new if old_fx is None else ecb.merge(old_fx, fx_new))
    if fx_new is not None and old_fx is not None:
        # the new days against the stored previous day (a misprint in today's fixing)
        ecb.check_fx(fx, fx_source, new_from=fx_new.index.min())
    check_fx_coverage(fx, pd.concat([f["as_of"] for f in merged.values()]))
    releases = update_releases(stored.releases, report_dates(merged.values()), ts, backfill=False)
    _publish(
        store,
        settings,
        merged,
        fx,
        releases,
        source=source,
        sample=settings.sample_mode,
        withheld=withheld,
        quality=quality,
        fx_quality=fx_q,
        notes=[],
    )
    return grew
