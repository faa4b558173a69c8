"""CFTC ingest after gaps (issue 10 §5), on the local HTTP server with the real 2025 files.

* A backlog after a shutdown: after the Oct-Nov 2025 US government shutdown the CFTC published
  the missed reports in order, several a week and on other days than Friday, from 2025-11-19
  until the report of 2026-01-23 caught up.  The same sequence is replayed here on the weeks of
  the real 2025 files (trimmed copies in ``tests/data/cftc``): the history zips hold the reports
  up to 2025-01-14, then nothing appears for three weeks, then the Socrata datasets (real body
  format, a server that caps pages at 7 rows) publish the missed weeks one or two at a time on
  Wednesdays, Fridays and a Tuesday.  Every run must succeed, publish each new week at once with
  the time it was first seen as its release time, say how many weeks it is behind the calendar,
  and end with exactly the figures of the complete files.
* The current year's zip not there yet: a 404, an HTML "page not found" served with 200, an empty
  body: earlier years go on and the weeks come from Socrata; a non-zip for an earlier year is an
  error naming the URL.
* A source answering with weeks older than those stored: refused, nothing published.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from flows.errors import InputError
from flows.sources import cftc_files, ecb
from flows.sources.http import HttpClient
from jobs.config import parse_settings
from jobs.runner import run_job
from jobs.tasks import cftc_ingest
from jobs.tasks.cftc import RESULT, compute
from tests import cftc_replay
from tests.cftc_replay import SocrataDataset
from tests.httpserver import Reply

NY = ZoneInfo("America/New_York")
CODES = list(cftc_files.CURRENCY_CODES)
NET_USD_WIDE9_2025_01_14 = 35_052_990_271.41589
"""Legacy non-commercials, wide basket, 2025-01-14: USD 35.05 bn net long (README)."""


def _settings(endpoints: dict[str, str]):
    job = {
        "task": "cftc",
        "cron": "45 15,18 * * mon-fri",
        "trading_days_only": False,
        "retries": 0,
        "retry_delay_seconds": 0,
        "args": {"endpoints": endpoints},
    }
    # no per-host pause between requests to the local server
    return parse_settings(
        {
            "service": {"source_mode": "live", "http_min_interval_seconds": 0},
            "cftc": {"history_from_year": 2025},
            "jobs": {"cftc_weekly": job},
        },
        env={},
    )


@pytest.fixture()
def client() -> HttpClient:
    return HttpClient(
        timeout_s=5,
        retries=1,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
        min_interval_s=0.0,
        sleep=lambda _s: None,
    )


@pytest.fixture()
def replay(http_server):
    """History zips through 2025-01-14, ECB history, and the two Socrata datasets (page cap 7)."""
    srv = http_server
    srv.route("/history/deacot2025.zip", Reply(200, cftc_replay.annual_zip("legacy", "2025-01-14")))
    srv.route(
        "/history/fut_fin_txt_2025.zip", Reply(200, cftc_replay.annual_zip("tff", "2025-01-14"))
    )
    srv.route("/ecb/eurofxref-hist.zip", Reply(200, cftc_replay.ecb_hist_zip()))
    srv.route("/ecb/eurofxref-daily.xml", Reply(200, cftc_replay.ECB_DAILY_XML.read_bytes()))
    legacy = SocrataDataset(cftc_replay.socrata_rows("legacy"), cap=7)
    tff = SocrataDataset(cftc_replay.socrata_rows("tff"), cap=7)
    for ds in (legacy, tff):
        ds.publish("2025-01-07", "2025-01-14")
    srv.route("/resource/6dca-aqww.json", legacy)
    srv.route("/resource/gpe5-46if.json", tff)
    endpoints = {
        "cftc_history": f"{srv.url}/history",
        "socrata": f"{srv.url}/resource",
        "ecb": f"{srv.url}/ecb",
    }
    return srv, legacy, tff, endpoints


def _full_files_weekly(settings) -> pd.DataFrame:
    """The weekly table computed straight from the complete trimmed files (no ingest)."""
    legacy = cftc_files.parse_legacy(
        cftc_replay.member_text(cftc_replay.LEGACY_ZIP), "annual.txt", CODES
    )
    tff = cftc_files.parse_tff(
        cftc_replay.cut_weeks(cftc_replay.member_text(cftc_replay.TFF_ZIP), "2025-03-11"),
        "FinFutYY.txt",
        CODES,
    )
    fx = ecb.parse_hist_csv(cftc_replay.ECB_CSV.read_text(), "eurofxref-hist.csv")
    return compute(legacy, tff, fx, settings).weekly.set_index("as_of")


def test_backlog_after_a_shutdown_is_published_as_it_arrives(store, replay) -> None:
    srv, legacy, tff, endpoints = replay
    settings = _settings(endpoints)
    # (run time, reports the CFTC publishes just before it, expected newest report, weeks behind)
    days = [
        (
            datetime(2025, 1, 17, 16, 0, tzinfo=NY),
            [],
            "2025-01-14",
            0,
        ),  # back-fill from the zips, on schedule
        (
            datetime(2025, 1, 31, 16, 0, tzinfo=NY),
            [],
            "2025-01-14",
            2,
        ),  # shutdown: two releases missed
        (datetime(2025, 2, 7, 16, 0, tzinfo=NY), [], "2025-01-14", 3),
        (datetime(2025, 2, 19, 11, 0, tzinfo=NY), ["2025-01-21"], "2025-01-21", 3),  # a Wednesday
        (
            datetime(2025, 2, 21, 16, 0, tzinfo=NY),
            ["2025-01-28", "2025-02-04"],
            "2025-02-04",
            2,
        ),  # two at once
        (datetime(2025, 2, 25, 12, 0, tzinfo=NY), ["2025-02-11"], "2025-02-11", 1),  # a Tuesday
        (
            datetime(2025, 2, 28, 16, 0, tzinfo=NY),
            ["2025-02-18", "2025-02-25"],
            "2025-02-25",
            0,
        ),  # caught up
        (
            datetime(2025, 3, 7, 16, 0, tzinfo=NY),
            ["2025-03-04"],
            "2025-03-04",
            0,
        ),  # back on the Friday schedule
    ]
    first_seen: dict[str, datetime] = {}
    for now, released, newest, behind in days:
        for ds in (legacy, tff):
            ds.publish(*released)
        for d in released:
            first_seen[d] = now
        record = run_job(settings, store, "cftc_weekly", now=now, sleep=lambda _s: None)
        assert record.status == "ok", (now, record.error)
        meta = store.meta(RESULT)
        assert meta.status == "ok" and meta.as_of_ts == pd.Timestamp(newest, tz=NY), now
        assert meta.headline["behind_schedule_weeks"] == behind, now
        assert meta.extra["schedule"]["behind"] is (behind > 0)
        if behind:
            assert meta.extra["warnings"] == [meta.extra["schedule"]["message"]]
            assert (
                f"is {behind} week" in meta.extra["warnings"][0]
                and "behind schedule" in record.detail
            )
        else:
            assert meta.extra["warnings"] == []
        # the new week's release time is when it was first seen, not its Friday
        if released:
            assert pd.Timestamp(meta.headline["release_time"]) == pd.Timestamp(now), now
    weekly = store.read(RESULT).table("weekly").set_index("as_of")
    releases = store.read(cftc_ingest.POSITIONS).table("releases").set_index("as_of")
    for day, seen in first_seen.items():
        assert pd.Timestamp(weekly.loc[day, "release_time"]) == pd.Timestamp(seen), day
        assert releases.loc[day, "release_basis"] == "first seen" and pd.Timestamp(
            releases.loc[day, "first_seen"]
        ) == pd.Timestamp(seen)
    # the back-filled weeks keep their scheduled Friday 15:30 ET
    assert pd.Timestamp(weekly.loc["2025-01-14", "release_time"]) == pd.Timestamp(
        "2025-01-17 15:30", tz=NY
    )
    assert releases.loc["2025-01-14", "release_basis"] == "scheduled (back-fill)"
    # the 2025-01-28 report was scheduled for Fri 2025-01-31 and first seen three weeks later
    assert pd.Timestamp(releases.loc["2025-01-28", "scheduled_release"]) == pd.Timestamp(
        "2025-01-31 15:30", tz=NY
    )
    # paging through the 7-row cap lost nothing: exactly the numbers of the complete files
    full = _full_files_weekly(settings)
    assert list(weekly.index) == list(full.index[: len(weekly)])
    pd.testing.assert_series_equal(
        weekly["net_usd_wide9"],
        full["net_usd_wide9"].iloc[: len(weekly)],
        check_exact=True,
        check_names=False,
        check_index_type=False,
    )
    assert weekly.loc["2025-01-14", "net_usd_wide9"] == pytest.approx(
        NET_USD_WIDE9_2025_01_14, rel=1e-12
    )
    # every Socrata answer was capped at 7 rows; paging went on past the short first page
    offsets = [int(r.query["$offset"][0]) for r in srv.requests_to("/resource/6dca-aqww.json")]
    assert 7 in offsets and 14 in offsets


def test_current_year_zip_html_or_empty_is_not_published_yet(store, http_server, client) -> None:
    """On 2026-01-05 the 2026 zips do not exist: cftc.gov answers 200 with an HTML page (or an
    empty body).  The 2025 files go on and the 2026 weeks come from Socrata."""
    srv = http_server
    html = b"<!DOCTYPE html>\n<html><head><title>Page Not Found | CFTC</title></head><body>The page you requested cannot be found.</body></html>"
    srv.route("/history/deacot2025.zip", Reply(200, cftc_replay.annual_zip("legacy")))
    srv.route(
        "/history/fut_fin_txt_2025.zip", Reply(200, cftc_replay.annual_zip("tff", "2025-03-11"))
    )
    srv.route("/history/deacot2026.zip", Reply(200, html, {"Content-Type": "text/html"}))
    srv.route("/history/fut_fin_txt_2026.zip", Reply(200, b""))
    srv.route("/ecb/eurofxref-hist.zip", Reply(200, cftc_replay.ecb_hist_zip()))
    for path in ("/resource/6dca-aqww.json", "/resource/gpe5-46if.json"):
        srv.route(path, SocrataDataset([]))
    endpoints = cftc_ingest.Endpoints(
        cftc_history=f"{srv.url}/history", socrata=f"{srv.url}/resource", ecb=f"{srv.url}/ecb"
    )
    settings = parse_settings({"service": {"source_mode": "live"}}, env={})
    summary = cftc_ingest.backfill(
        settings,
        store,
        2025,
        client=client,
        now=pd.Timestamp("2026-01-05 10:00", tz=NY),
        endpoints=endpoints,
    )
    assert summary["missing_current_year"] == [2026, 2026]
    assert summary["rows"] == {"legacy": 110, "tff": 110}
    assert any(
        "deacot2026.zip" in n and "HTTP 200 with an HTML page" in n for n in summary["notes"]
    )
    assert any("fut_fin_txt_2026.zip" in n and "an empty body" in n for n in summary["notes"])
    pos = store.read(cftc_ingest.POSITIONS)
    assert pos.meta.extra["notes"] == summary["notes"]
    # the newest weeks were asked from Socrata, from the day after each file's last week
    where = srv.requests_to("/resource/6dca-aqww.json")[0].query["$where"][0]
    assert "report_date_as_yyyy_mm_dd >= '2025-03-12T00:00:00'" in where

    # a non-zip answer for an EARLIER year is an error naming the URL (nothing published)
    srv.route("/history/deacot2025.zip", Reply(200, html, {"Content-Type": "text/html"}))
    with pytest.raises(InputError, match=r"deacot2025\.zip: not a zip archive"):
        cftc_ingest.backfill(
            settings,
            store,
            2025,
            client=client,
            now=pd.Timestamp("2026-01-05 10:00", tz=NY),
            endpoints=endpoints,
        )
    assert store.meta(cftc_ingest.POSITIONS).version == pos.meta.version


def test_a_fetch_older_than_the_stored_weeks_is_refused(store, replay) -> None:
    srv, legacy, tff, endpoints = replay
    settings = _settings(endpoints)
    assert (
        run_job(settings, store, "cftc_weekly", now=datetime(2025, 1, 17, 16, 0, tzinfo=NY)).status
        == "ok"
    )  # back-fill
    for ds in (legacy, tff):
        ds.publish("2025-01-21")
    assert (
        run_job(settings, store, "cftc_weekly", now=datetime(2025, 1, 24, 16, 0, tzinfo=NY)).status
        == "ok"
    )
    good = store.meta(RESULT)
    assert good.as_of_ts == pd.Timestamp("2025-01-21", tz=NY)
    # a mirror answering from an old snapshot, whatever the query asks
    stale = SocrataDataset(
        [
            r
            for r in cftc_replay.socrata_rows("legacy")
            if r["report_date_as_yyyy_mm_dd"] < "2025-01-15"
        ]
    )
    stale.ignore_where = True
    srv.route("/resource/6dca-aqww.json", stale)
    record = run_job(settings, store, "cftc_weekly", now=datetime(2025, 1, 31, 16, 0, tzinfo=NY))
    assert record.status == "failed"
    assert (
        "older than the 2025-01-21 already stored: refusing to publish a regression" in record.error
    )
    assert store.meta(RESULT).version == good.version and store.meta(RESULT).status == "stale"
    assert store.read(cftc_ingest.POSITIONS).table("legacy")["as_of"].max() == pd.Timestamp(
        "2025-01-21"
    )
    # a back-fill ending before the stored history is refused too, unless asked to replace it
    srv.route("/history/deacot2025.zip", Reply(200, cftc_replay.annual_zip("legacy", "2025-01-07")))
    with pytest.raises(InputError, match="refusing to publish a regression"):
        cftc_ingest.backfill(
            settings,
            store,
            2025,
            now=pd.Timestamp("2025-02-01", tz=NY),
            endpoints=cftc_ingest.Endpoints(**endpoints),
        )
