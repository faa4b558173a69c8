"""Time in one place: exchange sessions, closes, holidays and the CFTC release rule.

Every clock time flowdesk reasons with comes from here, never from a literal ``16:00``:

* **Exchange sessions** from `exchange-calendars <https://github.com/gerrymanoim/exchange_calendars>`_
  (``XNYS`` by default): the open and close instant of every session, early closes included
  (13:00 ET on the day after Thanksgiving, Christmas Eve, some 3 July sessions), holidays and
  weekends excluded.  One calendar object per name is built once per process for a fixed range
  (:data:`FIRST_DAY` .. :data:`LAST_DAY`, ~0.25 s) and shared by the gamma engine (settlement
  instants, charm's next close), the board (hours to the close) and the scheduler (trading-day
  gates).
* **US federal holidays** (pandas' ``USFederalHolidayCalendar``) and the CFTC's release rule:
  the Commitments of Traders report of a Tuesday is released on the 3rd federal business day
  after it, 15:30 Eastern (Friday; Monday when a federal holiday falls Wednesday-Friday).  The
  CFTC follows the federal, not the NYSE, calendar: Good Friday is a normal release day.

Pure: no clock is read (callers pass the instant they reason about), no I/O.  Instants are
tz-aware; calendar dates are tz-naive midnight timestamps or ``datetime64[D]``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from flows.errors import OutOfCalendarRange

EXCHANGE_TZ = "America/New_York"
"""Time zone of US listed options and futures (settlement clocks are read in it)."""
DEFAULT_CALENDAR = "XNYS"
FIRST_DAY = "1990-01-01"
LAST_DAY = "2040-12-31"
"""Range of the cached calendars: sessions outside it raise :class:`OutOfCalendarRange`."""
CFTC_RELEASE_LOCAL = pd.Timedelta(hours=15, minutes=30)
"""CFTC release clock, Eastern time, on the release day."""
CFTC_RELEASE_BUSINESS_DAYS = 3
"""Federal business days from the report (as-of) date to its scheduled release."""


@functools.lru_cache(maxsize=8)
def exchange_calendar(name: str = DEFAULT_CALENDAR) -> Any:
    """The ``exchange_calendars`` calendar ``name`` (MIC such as ``XNYS``) for 1990-2040, cached.

    Raises
    ------
    ValueError
        Unknown calendar name (the message names the valid kind of value).
    """
    import exchange_calendars as xcals  # ~0.4 s import: only when a calendar is needed

    if name not in xcals.get_calendar_names(include_aliases=True):
        raise ValueError(
            f"unknown exchange calendar {name!r} (exchange-calendars MIC such as XNYS, XLON, XTKS)"
        )
    with warnings.catch_warnings():
        # exchange-calendars trips pandas' deprecation warnings internally; not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return xcals.get_calendar(name, start=FIRST_DAY, end=LAST_DAY)


def _dates(days: Any) -> pd.DatetimeIndex:
    """Calendar dates as a tz-naive midnight DatetimeIndex (any time of day is discarded)."""
    if isinstance(days, str) or not isinstance(days, Iterable):
        days = [days]
    idx = pd.DatetimeIndex(pd.to_datetime(days))
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return idx.normalize()


def _day_numbers(days: Any) -> np.ndarray:
    """Calendar dates as ``datetime64[D]`` (NaT kept), the time of day discarded.

    numpy datetime arrays and tz-naive DatetimeIndex/Series take a direct conversion (no pandas
    parsing: this runs for every contract and price row); anything else goes through
    :func:`_dates` (strings, Timestamps, tz-aware values: their local date).
    """
    values = days.array if isinstance(days, pd.Series) else days
    if (
        isinstance(values, (np.ndarray, pd.DatetimeIndex, pd.arrays.DatetimeArray))
        and getattr(values, "tz", None) is None
        and np.asarray(values).dtype.kind == "M"
    ):
        return np.asarray(values).astype("datetime64[D]")  # floor: what normalize() does
    return np.asarray(_dates(days).to_numpy().astype("datetime64[D]"))


@functools.lru_cache(maxsize=8)
def _session_arrays(calendar: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(session dates as datetime64[D], opens, closes as UTC int64 ns)`` of ``calendar``,
    sorted: the calendar's own values, held as numpy arrays so that lookups are ``searchsorted``
    (exchange-calendars' pandas lookups cost ~1 ms per call)."""
    cal = exchange_calendar(calendar)
    days = cal.sessions.to_numpy().astype("datetime64[D]")
    opens = pd.DatetimeIndex(cal.opens).tz_convert("UTC").asi8
    closes = pd.DatetimeIndex(cal.closes).tz_convert("UTC").asi8
    for arr in (days, opens, closes):
        arr.setflags(write=False)
    return days, opens, closes


def session_table(calendar: str = DEFAULT_CALENDAR) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sessions of ``calendar`` as read-only numpy arrays, cached per process: dates
    (``datetime64[D]``, ascending), opens and closes (UTC, int64 ns), one entry per session of
    :data:`FIRST_DAY`..:data:`LAST_DAY`.  For hot paths that look up a few dates with
    ``searchsorted`` and cannot afford a DatetimeIndex per call
    (:func:`flows.products.settlement_instants_ns`); the lookups above are the reference."""
    return _session_arrays(calendar)


_LOW_DAY = np.datetime64(FIRST_DAY, "D")
_HIGH_DAY = np.datetime64(LAST_DAY, "D")


@functools.lru_cache(maxsize=8)
def session_flags(calendar: str = DEFAULT_CALENDAR) -> np.ndarray:
    """One bool per calendar day from :data:`FIRST_DAY` (position 0) to :data:`LAST_DAY`: is
    the day a session of ``calendar``.  Read-only, computed once per process, so that code
    checking many dates at once (the file parsers) looks them up by position
    (``day - FIRST_DAY`` in days) instead of searching the session list."""
    flags = np.zeros((_HIGH_DAY - _LOW_DAY).astype(np.int64) + 1, dtype=bool)
    flags[(_session_arrays(calendar)[0] - _LOW_DAY).astype(np.int64)] = True
    flags.setflags(write=False)
    return flags


def _check_days(d: np.ndarray) -> None:
    """:class:`OutOfCalendarRange` when a (non-NaT) date lies outside FIRST_DAY..LAST_DAY."""
    valid = d[~np.isnat(d)]
    if valid.size and (valid.min() < _LOW_DAY or valid.max() > _HIGH_DAY):
        raise OutOfCalendarRange(
            f"dates {pd.Timestamp(valid.min()).date()}..{pd.Timestamp(valid.max()).date()} outside the exchange calendar range {FIRST_DAY}..{LAST_DAY}"
        )


def _session_index(d: np.ndarray, calendar: str) -> tuple[np.ndarray, np.ndarray]:
    """Position of each date in the session array and whether it is a session (NaT: False)."""
    sessions = _session_arrays(calendar)[0]
    pos = np.searchsorted(sessions, d)
    hit = (pos < sessions.size) & ~np.isnat(d)
    hit[hit] = sessions[pos[hit]] == d[hit]
    return pos, hit


def _check_range(idx: pd.DatetimeIndex) -> None:
    valid = idx[~idx.isna()]
    if len(valid) and (
        valid.min() < pd.Timestamp(FIRST_DAY) or valid.max() > pd.Timestamp(LAST_DAY)
    ):
        raise OutOfCalendarRange(
            f"dates {valid.min().date()}..{valid.max().date()} outside the exchange calendar range {FIRST_DAY}..{LAST_DAY}"
        )


def is_session(days: Any, calendar: str = DEFAULT_CALENDAR) -> np.ndarray:
    """Boolean array: is each calendar date a trading session (not a weekend or holiday)?"""
    d = _day_numbers(days)
    _check_days(d)
    return _session_index(d, calendar)[1]


def session_on_or_before(days: Any, calendar: str = DEFAULT_CALENDAR) -> pd.DatetimeIndex:
    """Each date if it is a session, else the last session before it (tz-naive dates).

    This is how listed expiries move for holidays: a Good Friday third-Friday expiry settles on
    the Thursday session, a holiday Wednesday VIX settlement on the Tuesday.
    """
    d = _day_numbers(days)
    _check_days(d)
    sessions = _session_arrays(calendar)[0]
    pos = np.searchsorted(sessions, d, side="right") - 1
    out = sessions[np.clip(pos, 0, sessions.size - 1)].astype("datetime64[ns]")
    return pd.DatetimeIndex(np.where((pos >= 0) & ~np.isnat(d), out, np.datetime64("NaT", "ns")))


def _instants(days: Any, calendar: str, which: int) -> pd.DatetimeIndex:
    d = _day_numbers(days)
    _check_days(d)
    if d.size == 0:
        return pd.DatetimeIndex([], tz="UTC")
    pos, hit = _session_index(d, calendar)
    values = _session_arrays(calendar)[which]
    out = np.full(d.size, np.iinfo(np.int64).min, dtype=np.int64)
    out[hit] = values[pos[hit]]
    return pd.DatetimeIndex(out.view("datetime64[ns]"), tz="UTC")


def session_closes(days: Any, calendar: str = DEFAULT_CALENDAR) -> pd.DatetimeIndex:
    """Close instant (UTC) of the session on each date; NaT where the date is not a session.

    Early closes are the calendar's (13:00 ET on half days), not 16:00.
    """
    return _instants(days, calendar, 2)


def session_opens(days: Any, calendar: str = DEFAULT_CALENDAR) -> pd.DatetimeIndex:
    """Open instant (UTC) of the session on each date; NaT where the date is not a session."""
    return _instants(days, calendar, 1)


def next_close(at: pd.Timestamp, calendar: str = DEFAULT_CALENDAR) -> pd.Timestamp:
    """The first session close strictly after the instant ``at`` (tz-aware), as UTC.

    After today's close (or on a holiday) this is the next session's close, early closes
    included.  Raises :class:`OutOfCalendarRange` beyond the calendar's range and ``ValueError``
    for a naive ``at``.
    """
    ts = pd.Timestamp(at)
    if ts.tzinfo is None:
        raise ValueError(f"next_close needs a tz-aware instant, got {at!r}")
    closes = pd.DatetimeIndex(exchange_calendar(calendar).closes)  # UTC, increasing
    i = int(closes.searchsorted(ts.tz_convert("UTC"), side="right"))
    if i >= len(closes):
        raise OutOfCalendarRange(
            f"no session close after {ts.isoformat()} within {FIRST_DAY}..{LAST_DAY}"
        )
    return closes[i]


def hours_to_next_close(at: pd.Timestamp, calendar: str = DEFAULT_CALENDAR) -> float:
    """Hours from ``at`` to :func:`next_close` (> 0)."""
    return float(
        (next_close(at, calendar) - pd.Timestamp(at).tz_convert("UTC")).total_seconds() / 3600.0
    )


# -- US federal calendar and the CFTC release rule ----------------------------------------------
@functools.lru_cache(maxsize=1)
def _federal_holidays_all() -> np.ndarray:
    from pandas.tseries.holiday import USFederalHolidayCalendar

    return np.asarray(
        USFederalHolidayCalendar()
        .holidays(pd.Timestamp(FIRST_DAY), pd.Timestamp(LAST_DAY))
        .to_numpy()
        .astype("datetime64[D]")
    )


def us_federal_holidays(years: Iterable[int]) -> pd.DatetimeIndex:
    """US federal holidays (observed dates) of ``years``: the days the CFTC does not publish.

    pandas' ``USFederalHolidayCalendar`` (New Year's Day, MLK Day, Washington's Birthday,
    Memorial Day, Juneteenth from 2021, Independence Day, Labor Day, Columbus Day, Veterans Day,
    Thanksgiving, Christmas; Saturday holidays observed on Friday, Sunday ones on Monday).
    Built once for the whole calendar range and sliced.
    """
    ys = {int(v) for v in years}
    if not ys:
        return pd.DatetimeIndex([])
    hol = _federal_holidays_all()
    year_of = hol.astype("datetime64[Y]").astype(int) + 1970
    return pd.DatetimeIndex(hol[np.isin(year_of, sorted(ys))].astype("datetime64[ns]"))


def cftc_release_times(
    as_of: Sequence[object] | pd.DatetimeIndex,
    *,
    holidays: Sequence[object] | None = None,
    tz: str = EXCHANGE_TZ,
) -> pd.DatetimeIndex:
    """Scheduled release instant of each COT report: the 3rd US federal business day after the
    as-of date, 15:30 Eastern (vectorised: one ``numpy.busday_offset`` over all dates).

    A Tuesday report is released on Friday; a holiday on Wednesday-Friday pushes it to Monday
    (Thanksgiving, Christmas).  Shutdown delays cannot be predicted: the real release is later
    (the ingest records when data was first seen).  ``holidays`` defaults to the federal
    holidays.  Returns tz-aware times in ``tz``.
    """
    dates = pd.DatetimeIndex(as_of)
    if dates.tz is not None:
        dates = dates.tz_localize(None)
    days = dates.normalize().to_numpy().astype("datetime64[D]")
    hol = (
        _federal_holidays_all()
        if holidays is None
        else pd.DatetimeIndex(holidays).to_numpy().astype("datetime64[D]")
    )
    released = np.busday_offset(days, CFTC_RELEASE_BUSINESS_DAYS, roll="forward", holidays=hol)
    times = pd.DatetimeIndex(released.astype("datetime64[ns]")) + CFTC_RELEASE_LOCAL
    return times.tz_localize(tz)


# -- SPX standard expiries and the VIX futures (VX) contract calendar ---------------------------
VX_MONTH_CODES = "FGHJKMNQUVXZ"
"""Futures month codes, January (F) .. December (Z)."""
VX_SETTLEMENT_DAYS_BEFORE_SPX_EXPIRY = 30
"""Calendar days from a VX contract's final settlement (a Wednesday) to the SPX standard expiry
of the following month (a Friday)."""


def third_fridays(years: Any, months: Any) -> pd.DatetimeIndex:
    """The third Friday of each ``(year, month)`` (element-wise arrays of ints; tz-naive dates).

    Pure date arithmetic (the SPX standard monthly expiry *before* any holiday adjustment).
    """
    y = np.atleast_1d(np.asarray(years, dtype=np.int64))
    m = np.atleast_1d(np.asarray(months, dtype=np.int64))
    first = ((y - 1970) * 12 + (m - 1)).astype("datetime64[M]").astype("datetime64[D]")
    # weekday of the 1st (Monday = 0): 1970-01-01 was a Thursday (3)
    weekday = (first.astype(np.int64) + 3) % 7
    to_friday = (4 - weekday) % 7
    return pd.DatetimeIndex((first + to_friday + 14).astype("datetime64[ns]"))


def spx_standard_expiry(
    years: Any, months: Any, calendar: str = DEFAULT_CALENDAR
) -> pd.DatetimeIndex:
    """SPX standard (AM-settled monthly) expiry date of each ``(year, month)``: the third Friday,
    or the session before it when that Friday is a holiday (Good Friday 2014, 2025, ...)."""
    return session_on_or_before(third_fridays(years, months), calendar)


def vx_final_settlement(
    years: Any, months: Any, calendar: str = DEFAULT_CALENDAR
) -> pd.DatetimeIndex:
    """Final settlement date of the monthly VIX future (VX) expiring in each ``(year, month)``.

    Cboe Futures Exchange rule (VX contract specifications, "Final Settlement Date"): the
    Wednesday 30 days before the third Friday of the *following* month (the SPX standard expiry
    the VIX index of that morning is computed from).  If that Wednesday or that Friday is not a
    trading session, the final settlement date is the business day before the Wednesday (CFE
    formerly phrased the Friday case as "30 days before the business day preceding that Friday",
    which gives the same Tuesday).  Sessions are the exchange calendar's (``XNYS`` by default:
    Cboe options and CFE observe the same holidays, including the unscheduled closures of
    2012-10-29/30, 2018-12-05 and 2025-01-09).

    Checked in ``tests/flows/test_calendars.py`` against the last trade date of every contract
    file in the shared VX folder (a file ends on its final settlement day), e.g. G08 (Feb 2008)
    settled Tuesday 2008-02-19 because 2008-03-21 was Good Friday, and H14 on Tuesday 2014-03-18
    (2014-04-18 Good Friday).  Vectorised; returns tz-naive dates.
    """
    y = np.atleast_1d(np.asarray(years, dtype=np.int64))
    m = np.atleast_1d(np.asarray(months, dtype=np.int64))
    ny = y + (m == 12)
    nm = m % 12 + 1
    friday = third_fridays(ny, nm)
    wednesday = friday - pd.Timedelta(days=VX_SETTLEMENT_DAYS_BEFORE_SPX_EXPIRY)
    ok = is_session(wednesday, calendar) & is_session(friday, calendar)
    before = session_on_or_before(wednesday - pd.Timedelta(days=1), calendar)
    return pd.DatetimeIndex(np.where(ok, wednesday.to_numpy(), before.to_numpy()))


def vx_contract_code(years: Any, months: Any) -> np.ndarray:
    """``VX`` + month code + two-digit year, e.g. ``VXG18`` for February 2018 (string array)."""
    y = np.atleast_1d(np.asarray(years, dtype=np.int64))
    m = np.atleast_1d(np.asarray(months, dtype=np.int64))
    codes = np.asarray(list(VX_MONTH_CODES))[m - 1]
    return np.char.add(np.char.add("VX", codes), np.char.zfill((y % 100).astype(str), 2))


def sessions_between(start: Any, end: Any, calendar: str = DEFAULT_CALENDAR) -> np.ndarray:
    """Number of sessions in ``[start, end)`` for each pair (element-wise; 0 when end <= start).

    The business-day counts of index roll schedules (e.g. the S&P VIX futures indices' ``dt`` and
    ``dr``).  Vectorised with one ``searchsorted`` per side.
    """
    a = _dates(start)
    b = _dates(end)
    _check_range(a.append(b))
    sessions = exchange_calendar(calendar).sessions
    n = sessions.searchsorted(b, side="left") - sessions.searchsorted(a, side="left")
    return np.maximum(np.asarray(n, dtype=np.int64), 0)


def next_session(days: Any, calendar: str = DEFAULT_CALENDAR) -> pd.DatetimeIndex:
    """The first session strictly after each date (tz-naive dates)."""
    idx = _dates(days)
    _check_range(idx)
    sessions = exchange_calendar(calendar).sessions
    pos = sessions.searchsorted(idx, side="right")
    if len(pos) and pos.max() >= len(sessions):
        raise OutOfCalendarRange(
            f"no session after {idx.max().date()} within {FIRST_DAY}..{LAST_DAY}"
        )
    return pd.DatetimeIndex(sessions[pos].to_numpy())


def sessions_in(start: Any, end: Any, calendar: str = DEFAULT_CALENDAR) -> pd.DatetimeIndex:
    """The sessions from ``start`` to ``end``, both inclusive (tz-naive dates)."""
    a, b = (
        _day_numbers(np.asarray([x], dtype="datetime64[ns]"))
        if isinstance(x, (pd.Timestamp, np.datetime64)) and getattr(x, "tz", None) is None
        else _day_numbers(x)
        for x in (start, end)
    )
    _check_days(np.concatenate([a[:1], b[:1]]))
    sessions = _session_arrays(calendar)[0]
    lo, hi = np.searchsorted(sessions, a[0]), np.searchsorted(sessions, b[0], side="right")
    return pd.DatetimeIndex(sessions[lo:hi].astype("datetime64[ns]"))
