"""flows.calendars: exchange sessions (early closes, holidays) and the CFTC release rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flows import calendars

NY = "America/New_York"


def test_early_close_day_after_thanksgiving_is_13_00_et() -> None:
    closes = calendars.session_closes(["2025-11-26", "2025-11-27", "2025-11-28", "2025-12-24", "2026-07-02"])
    local = [c.tz_convert(NY).strftime("%H:%M") if not pd.isna(c) else None for c in closes]
    # Wednesday normal, Thanksgiving closed, Friday half day, Christmas Eve half day, 2 July 2026 normal
    assert local == ["16:00", None, "13:00", "13:00", "16:00"]


def test_sessions_and_good_friday_expiry_moves_to_thursday() -> None:
    assert calendars.is_session(["2026-04-03", "2026-04-02", "2026-04-04"]).tolist() == [False, True, False]
    moved = calendars.session_on_or_before(["2026-04-03", "2026-04-02", "2026-04-05"])
    assert [d.date().isoformat() for d in moved] == ["2026-04-02", "2026-04-02", "2026-04-02"]


def test_next_close_rolls_over_holidays_and_half_days() -> None:
    at = pd.Timestamp("2025-11-26 17:00", tz=NY)  # after Wednesday's close: Thanksgiving is closed
    assert calendars.next_close(at) == pd.Timestamp("2025-11-28 13:00", tz=NY)
    assert calendars.next_close(pd.Timestamp("2025-11-28 13:00", tz=NY)) == pd.Timestamp("2025-12-01 16:00", tz=NY)
    assert calendars.hours_to_next_close(pd.Timestamp("2025-11-28 09:00", tz=NY)) == pytest.approx(4.0)
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
    assert [r.strftime("%Y-%m-%d %H:%M") for r in rel] == ["2025-12-01 15:30", "2024-12-30 15:30", "2025-01-17 15:30"]


def test_federal_holidays_equal_pandas_calendar() -> None:
    from pandas.tseries.holiday import USFederalHolidayCalendar

    ref = USFederalHolidayCalendar().holidays("2019-01-01", "2026-12-31")
    assert np.array_equal(calendars.us_federal_holidays(range(2019, 2027)), ref)
