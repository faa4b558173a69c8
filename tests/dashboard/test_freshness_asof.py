"""Freshness uses the data's as-of, not only the compute time: a 2023 file is not fresh.

Expected as-of instants are worked by hand from the NYSE calendar (exchange-calendars via
:mod:`flows.calendars`) and the CFTC release rule (third federal business day after the
Tuesday, 15:30 ET).  Grading runs on the real test Redis.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from jobs.health import as_of_cadence, assess, expected_as_of
from jobs.store import ResultMeta
from tests.dashboard.shell_helpers import reset_dashboard_caches, use_config
from tests.declared import tables_for

UTC = "UTC"

JOBS = """
[jobs.gamma_morning]
task = "gamma"
cron = "0 8 * * 1-5"
stale_after_minutes = 1440

[jobs.cftc_weekly]
task = "cftc"
cron = "45 15 * * fri"
trading_days_only = false
stale_after_minutes = 11520
"""


@pytest.fixture()
def settings(tmp_path, monkeypatch, redis_url):
    yield use_config(tmp_path, monkeypatch, redis_url, jobs=JOBS)
    reset_dashboard_caches()


def ts(text: str) -> pd.Timestamp:
    return (
        pd.Timestamp(text).tz_convert(UTC)
        if pd.Timestamp(text).tzinfo
        else pd.Timestamp(text, tz=UTC)
    )


@pytest.mark.parametrize(
    ("now", "session", "daily"),
    [
        # Monday 2026-11-30, 10:00 ET (15:00Z): in session -> now; daily -> Friday's early close
        ("2026-11-30T15:00Z", "2026-11-30T15:00Z", "2026-11-27T18:00Z"),
        # Sunday night: the last close is Friday 2026-11-27, the day after Thanksgiving, 13:00 ET
        ("2026-11-30T03:11Z", "2026-11-27T18:00Z", "2026-11-27T18:00Z"),
        # Monday 17:00 ET, after the close: Monday 16:00 ET for both
        ("2026-11-30T22:00Z", "2026-11-30T21:00Z", "2026-11-30T21:00Z"),
        # Thanksgiving 2026-11-26 (no session), noon ET: Wednesday's close
        ("2026-11-26T17:00Z", "2026-11-25T21:00Z", "2026-11-25T21:00Z"),
        # Monday 08:00 ET, before the open: Friday's close for both
        ("2026-11-30T13:00Z", "2026-11-27T18:00Z", "2026-11-27T18:00Z"),
    ],
)
def test_expected_as_of_of_session_and_daily_sources(now, session, daily):
    assert expected_as_of("session", ts(now)) == ts(session)
    assert expected_as_of("daily", ts(now)) == ts(daily)
    assert expected_as_of("none", ts(now)) is None


@pytest.mark.parametrize(
    ("now", "report"),
    [
        # Friday 2026-11-20 15:29 ET: the 11-17 report is not out yet -> 11-10
        ("2026-11-20T20:29Z", "2026-11-10"),
        # Friday 2026-11-20 15:31 ET: released -> 11-17
        ("2026-11-20T20:31Z", "2026-11-17"),
        # Friday 2026-11-27: Thanksgiving (Thu 11-26) pushes the 11-24 report to Monday 11-30
        ("2026-11-27T21:00Z", "2026-11-17"),
        # Monday 2026-11-30 15:31 ET: the 11-24 report is out
        ("2026-11-30T20:31Z", "2026-11-24"),
    ],
)
def test_expected_as_of_of_cftc_reports(now, report):
    assert expected_as_of("cftc_weekly", ts(now)) == pd.Timestamp(
        report, tz="America/New_York"
    ).tz_convert(UTC)


def test_cadence_from_the_declaration_or_the_producer():
    def meta(name: str, extra: dict | None = None) -> ResultMeta:
        return ResultMeta(
            name=name,
            version="v",
            as_of="2026-11-30T15:00:00+00:00",
            computed_at="2026-11-30T15:00:00+00:00",
            source="t",
            schema_version=1,
            rows=1,
            tables=["data"],
            extra=extra or {},
        )

    assert as_of_cadence(meta("gamma.SPX")) == ("session", 15.0)
    assert as_of_cadence(meta("cftc.net_usd")) == ("cftc_weekly", 0.0)
    assert as_of_cadence(meta("board.scenarios")) == ("none", 0.0)
    assert as_of_cadence(meta("cftc.fx")) == ("cftc_weekly", 0.0)
    assert as_of_cadence(meta("gamma.summary")) == ("session", 15.0)
    assert as_of_cadence(meta("demo")) == ("none", 0.0)
    assert as_of_cadence(meta("something.new")) == ("none", 0.0)
    assert as_of_cadence(
        meta("letf.flows", {"as_of_cadence": "daily", "as_of_lag_minutes": 90})
    ) == ("daily", 90.0)
    assert as_of_cadence(meta("gamma.SPX", {"as_of_cadence": "hourly?"})) == (
        "none",
        0.0,
    )  # unknown: no rule


def _publish(store, name: str, as_of: str, computed_at: pd.Timestamp, **extra) -> None:
    store.publish(
        name,
        tables_for(name),
        as_of=pd.Timestamp(as_of),
        source="test",
        computed_at=computed_at,
        extra=extra or None,
    )


def test_a_2023_file_computed_now_is_old_data(settings, store):
    now = ts("2026-11-30T15:00Z")  # Monday 10:00 ET, in session
    _publish(
        store, "gamma.SPX", "2023-09-14T16:00:00-04:00", now - timedelta(minutes=1)
    )  # a drop file from 2023
    _publish(
        store, "gamma.QQQ", "2026-11-30T09:45:00-05:00", now - timedelta(minutes=1)
    )  # 15-min delayed quotes
    _publish(
        store, "cftc.net_usd", "2026-11-17T00:00:00-05:00", now - timedelta(hours=3)
    )  # latest released report
    _publish(
        store, "board.scenarios", "2026-11-17T00:00:00-05:00", now - timedelta(minutes=1)
    )  # derived: no as-of rule
    fresh = assess(settings, store, now=now)
    grades = {i.name: i for i in fresh.items}
    assert grades["gamma.QQQ"].level == "ok"
    assert grades["cftc.net_usd"].level == "ok"
    assert grades["board.scenarios"].level == "ok"
    old = grades["gamma.SPX"]
    assert (old.level, old.old_data) == ("amber", True)
    assert old.expected_as_of == "2026-11-30T15:00:00+00:00"
    assert old.reason == (
        "old data: as of 2023-09-14 16:00:00 EDT, expected as of 2026-11-30 10:00:00 EST or later "
        "(session source; allowed 1455 min behind)"
    )
    assert (fresh.level, fresh.label) == ("amber", "old data: 1 result")


def test_old_data_boundaries(settings, store):
    now = ts("2026-11-30T15:00Z")
    allowed = timedelta(minutes=1440 + 15)  # gamma_morning's stale_after + the session lag
    _publish(store, "gamma.SPX", (now - allowed).isoformat(), now)
    _publish(store, "gamma.SPY", (now - allowed - timedelta(minutes=1)).isoformat(), now)
    # one missed weekly release: the 11-10 report when 11-17 is out, within 8 days -> ok; 11-03 -> old
    _publish(store, "cftc.net_usd", "2026-11-10T00:00:00-05:00", now)
    _publish(store, "cftc.positions", "2026-11-03T00:00:00-05:00", now)
    grades = {i.name: i.level for i in assess(settings, store, now=now).items}
    assert grades == {
        "gamma.SPX": "ok",
        "gamma.SPY": "amber",
        "cftc.net_usd": "ok",
        "cftc.positions": "amber",
    }


def test_weekend_keeps_fridays_close_fresh(settings, store):
    sunday = ts("2026-11-29T20:00Z")
    _publish(
        store, "gamma.SPX", "2026-11-27T13:00:00-05:00", sunday - timedelta(minutes=5)
    )  # Friday's early close
    assert assess(settings, store, now=sunday).level == "ok"
