"""flows.calendars: exchange sessions (early closes, holidays) and the CFTC release rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flows import calendars

NY = "America/New_York"


def test_early_close_day_after_thanksgiving_is_13_00_et() -> None:
    closes = calendars.session_closes(
        ["2025-11-26", "2025-11-27", "2025-11-28", "2025-12-24", "2026-07-02"]
    )
    local = [c.tz_convert(NY).strftime("%H:%M") if not pd.isna(c) else None for c in closes]
    # Wednesday normal, Thanksgiving closed, Friday half day, Christmas Eve half day, 2 July 2026 normal
    assert local == ["16:00", None, "13:00", "13:00", "16:00"]


def test_sessions_and_good_friday_expiry_moves_to_thursday() -> None:
    assert calendars.is_session(["2026-04-03", "2026-04-02", "2026-04-04"]).tolist() == [
        False,
        True,
        False,
    ]
    moved = calendars.session_on_or_before(["2026-04-03", "2026-04-02", "2026-04-05"])
    assert [d.date().isoformat() for d in moved] == ["2026-04-02", "2026-04-02", "2026-04-02"]


def test_session_flags_by_day_number() -> None:
    flags = calendars.session_flags()
    first = np.datetime64(calendars.FIRST_DAY, "D")
    days = np.arange(first, np.datetime64(calendars.LAST_DAY, "D") + 1)
    assert flags.size == days.size and not flags.flags.writeable
    assert (flags == calendars.is_session(days)).all()  # every day of the calendar's range
    good_friday, thursday = (
        int((np.datetime64(d) - first).astype(int)) for d in ("2026-04-03", "2026-04-02")
    )
    assert not flags[good_friday] and flags[thursday]


def test_next_close_rolls_over_holidays_and_half_days() -> None:
    at = pd.Timestamp("2025-11-26 17:00", tz=NY)  # after Wednesday's close: Thanksgiving is closed
    assert calendars.next_close(at) == pd.Timestamp("2025-11-28 13:00", tz=NY)
    assert calendars.next_close(pd.Timestamp("2025-11-28 13:00", tz=NY)) == pd.Timestamp(
        "2025-12-01 16:00", tz=NY
    )
    assert calendars.hours_to_next_close(pd.Timestamp("2025-11-28 09:00", tz=NY)) == pytest.approx(
        4.0
    )
    with pytest.raises(ValueError, match="tz-aware"):
        calendars.next_close(pd.Timestamp("2025-11-28 09:00"))


def test_out_of_range_is_refused() -> None:
    with pytest.raises(calendars.OutOfCalendarRange):
        calendars.session_closes(["2050-01-03"])


def test_unknown_calendar_named() -> None:
    with pytest.raises(ValueError, match="unknown exchange calendar 'XXXX'"):
        calendars.exchange_calendar("XXXX")


def test_cftc_release_rule_matches_a_plain_day_by_day_reference() -> None:
    """Vectorised rule against a plain loop: 3rd federal business day after the report, 15:30 ET."""
    tuesdays = pd.date_range("2016-01-05", "2026-12-29", freq="W-TUE")
    got = calendars.cftc_release_times(tuesdays)
    hol = set(calendars.us_federal_holidays(range(2016, 2028)).date)
    for day, rel in zip(tuesdays[::7], got[::7], strict=True):
        d, n = day.date(), 0
        while n < 3:
            d = d + pd.Timedelta(days=1).to_pytimedelta()
            if d.weekday() < 5 and d not in hol:
                n += 1
        assert rel == pd.Timestamp(f"{d} 15:30", tz=NY)
    # hand-worked: Thanksgiving week 2025 -> Monday; Christmas 2024 -> Monday 30 Dec
    rel = calendars.cftc_release_times(pd.to_datetime(["2025-11-25", "2024-12-24", "2025-01-14"]))
    assert [r.strftime("%Y-%m-%d %H:%M") for r in rel] == [
        "2025-12-01 15:30",
        "2024-12-30 15:30",
        "2025-01-17 15:30",
    ]


def test_federal_holidays_equal_pandas_calendar() -> None:
    from pandas.tseries.holiday import USFederalHolidayCalendar

    ref = USFederalHolidayCalendar().holidays("2019-01-01", "2026-12-31")
    assert np.array_equal(calendars.us_federal_holidays(range(2019, 2027)), ref)


# -- SPX expiries and the VX contract calendar ---------------------------------------------------
def test_third_fridays_by_hand() -> None:
    got = calendars.third_fridays([2018, 2014, 2008, 2026, 2024], [3, 4, 3, 1, 12])
    assert [d.date().isoformat() for d in got] == [
        "2018-03-16",
        "2014-04-18",
        "2008-03-21",
        "2026-01-16",
        "2024-12-20",
    ]
    # Good Friday third Fridays move to the Thursday session
    exp = calendars.spx_standard_expiry([2014, 2025], [4, 4])
    assert [d.date().isoformat() for d in exp] == ["2014-04-17", "2025-04-17"]


def test_vx_final_settlement_hand_cases() -> None:
    got = calendars.vx_final_settlement([2018, 2020, 2008, 2014, 2025, 2024], [2, 3, 2, 3, 3, 5])
    assert [d.date().isoformat() for d in got] == [
        "2018-02-14",  # 2018-03-16 minus 30 days, a plain Wednesday
        "2020-03-18",
        "2008-02-19",  # 2008-03-21 was Good Friday: the business day before the Wednesday
        "2014-03-18",  # 2014-04-18 Good Friday
        "2025-03-18",  # 2025-04-18 Good Friday
        "2024-05-22",  # 2024-06-21 minus 30: Wednesday 2024-05-22 (Juneteenth is the week after)
    ]
    assert calendars.vx_contract_code([2018, 2005, 2020], [2, 1, 12]).tolist() == [
        "VXG18",
        "VXF05",
        "VXZ20",
    ]


def test_vx_rule_against_the_last_trade_date_of_every_shared_contract_file(test_data) -> None:
    """Every CFE file in the shared folder ends on its final settlement day (the README), except
    those cut by the source's collection date 2020-08-21, which must end before it."""
    import csv

    rows = list(
        csv.DictReader(open(test_data / "vix_futures" / "last_trade_dates.csv", newline=""))
    )
    assert len(rows) == 145
    codes = "FGHJKMNQUVXZ"
    checked = 0
    for row in rows:
        code, rest = row["futures"].split(" (", 1)
        yy = int(rest.rstrip(")").split()[1])
        year = yy if yy > 1000 else 2000 + yy
        month = codes.index(code) + 1
        last = pd.Timestamp(row["last_trade_date"])
        expiry = calendars.vx_final_settlement([year], [month])[0]
        if last == pd.Timestamp("2020-08-21") and expiry > last:
            continue  # still trading when the source stopped collecting
        assert last == expiry, (row["file"], last.date(), expiry.date())
        checked += 1
    assert checked == 134


def test_session_counts_for_the_roll_schedule() -> None:
    # Jan 17 (incl.) .. Feb 14 2018 (excl.): 11 January + 9 February sessions
    assert calendars.sessions_between(
        ["2018-01-17", "2018-02-05"], ["2018-02-14", "2018-02-14"]
    ).tolist() == [20, 7]
    assert calendars.sessions_between(["2018-02-14"], ["2018-02-14"]).tolist() == [0]
    assert [
        d.date().isoformat()
        for d in calendars.next_session(["2018-02-02", "2018-02-16", "2018-12-04"])
    ] == ["2018-02-05", "2018-02-20", "2018-12-06"]
    days = calendars.sessions_in("2018-02-14", "2018-02-21")
    assert [d.day for d in days] == [14, 15, 16, 20, 21]


FINISHED_CONTRACTS = 113
"""Distinct contracts in the shared VX folder (121) minus the 8 still trading on 2020-08-21."""


@pytest.mark.extended
def test_vx_rule_on_every_full_shared_contract_file(shared_data) -> None:
    from flows.sources import cboe_vx

    frame, _ = cboe_vx.read_dir(shared_data / "vix_futures")
    last = frame.groupby("contract").agg(last=("date", "max"), expiry=("expiry", "first"))
    finished = last[last["last"] < pd.Timestamp("2020-08-21")]
    assert len(finished) == FINISHED_CONTRACTS
    assert (finished["last"] == finished["expiry"]).all()
    unfinished = last[last["last"] == pd.Timestamp("2020-08-21")]
    assert (unfinished["expiry"] > unfinished["last"]).all()


def test_numpy_lookups_equal_exchange_calendars_own() -> None:
    """The searchsorted lookups (every contract and price row goes through them) give exactly
    the calendar object's own answers: sessions, the session on or before, opens and closes
    (early closes included), for every kind of input date (numpy, strings, tz-aware, NaT)."""
    cal = calendars.exchange_calendar()
    rng = np.random.default_rng(7)
    days = pd.DatetimeIndex(
        np.sort(
            rng.integers(
                np.datetime64("1990-01-01", "D").astype(int),
                np.datetime64("2040-12-31", "D").astype(int),
                3000,
            )
        )
        .astype("datetime64[D]")
        .astype("datetime64[ns]")
    )
    days = days.append(
        pd.DatetimeIndex(["2025-11-28", "2025-12-24", "2026-04-03", "1990-01-01", "2040-12-31"])
    )
    expected_session = days.isin(cal.sessions)
    assert calendars.is_session(days).tolist() == expected_session.tolist()
    assert calendars.is_session(days.to_numpy()).tolist() == expected_session.tolist()
    assert calendars.is_session(pd.Series(days)).tolist() == expected_session.tolist()
    assert (
        calendars.is_session([d.strftime("%Y-%m-%d") for d in days[:50]]).tolist()
        == expected_session[:50].tolist()
    )
    pos = cal.sessions.searchsorted(days, side="right") - 1
    before = calendars.session_on_or_before(days)
    assert (before[pos >= 0] == cal.sessions[pos[pos >= 0]]).all()
    assert before[pos < 0].isna().all() and (pos < 0).sum() == 1  # 1990-01-01: no session before it
    for got, want in (
        (calendars.session_closes(days), cal.closes),
        (calendars.session_opens(days), cal.opens),
    ):
        ref = pd.DatetimeIndex(want.reindex(days).to_numpy(), tz="UTC")
        assert got.equals(ref)
    # intraday and tz-aware values count by their (local) date; NaT is never a session
    assert calendars.is_session(pd.DatetimeIndex(["2025-11-28 15:00", "NaT"])).tolist() == [
        True,
        False,
    ]
    assert calendars.is_session([pd.Timestamp("2025-11-28 23:30", tz=NY)]).tolist() == [True]
    assert calendars.session_on_or_before(
        pd.DatetimeIndex(["NaT", "2026-04-05"])
    ).isna().tolist() == [True, False]
    assert calendars.session_closes(pd.DatetimeIndex(["NaT"])).isna().all()
    s = calendars.sessions_in("2025-11-26", "2025-12-01")
    assert [d.date().isoformat() for d in s] == ["2025-11-26", "2025-11-28", "2025-12-01"]
    with pytest.raises(calendars.OutOfCalendarRange):
        calendars.is_session(np.array(["1989-12-29"], dtype="datetime64[D]"))
