"""CFTC ingest on real Redis: sample backfill + weekly update; live mode over a local HTTP server."""

from __future__ import annotations

import pandas as pd
import pytest

from flows.errors import DataQualityWarning
from flows.schema import COT_LEGACY_COLUMNS, COT_TFF_COLUMNS
from flows.sources import cftc_files, cftc_socrata
from flows.sources.http import HttpClient
from jobs.config import parse_settings
from jobs.tasks import cftc_ingest
from tests import cftc_replay
from tests.cftc_replay import SocrataDataset
from tests.httpserver import Reply, Request

NY = "America/New_York"


def _socrata_rows(frame: pd.DataFrame, report: str) -> list[dict[str, str]]:
    """Schema rows -> Socrata-style rows (real field names, every value a string)."""
    fields = cftc_socrata.FIELDS[report]
    rows = []
    for rec in frame.to_dict("records"):
        row = {"id": rec["as_of"].strftime("%y%m%d") + rec["code"] + "F"}
        for col, names in fields.items():
            value = rec[col]
            row[names[0]] = (
                value.strftime("%Y-%m-%dT00:00:00.000") if col == "as_of" else str(value)
            )
        rows.append(row)
    return rows


@pytest.fixture()
def sample_settings():
    return parse_settings({"service": {"source_mode": "sample"}})


@pytest.fixture()
def live_settings():
    return parse_settings({"service": {"source_mode": "live"}})


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


def test_release_time_friday_1530_et_and_holidays() -> None:
    assert cftc_ingest.release_time("2025-01-14") == pd.Timestamp("2025-01-17 15:30", tz=NY)
    # Friday 2025-07-04 (Independence Day) -> Monday 2025-07-07
    assert cftc_ingest.release_time("2025-07-01") == pd.Timestamp("2025-07-07 15:30", tz=NY)
    # Christmas Friday 2020-12-25 -> Monday 2020-12-28; Veterans Day Friday 2022-11-11 -> Monday
    assert cftc_ingest.release_time("2020-12-22") == pd.Timestamp("2020-12-28 15:30", tz=NY)
    assert cftc_ingest.release_time("2022-11-08") == pd.Timestamp("2022-11-14 15:30", tz=NY)
    # Good Friday is not a federal holiday: normal Friday release
    assert cftc_ingest.release_time("2025-04-15") == pd.Timestamp("2025-04-18 15:30", tz=NY)
    # a Monday report date (2018-12-31) is released on the Friday of its week
    assert cftc_ingest.release_time("2018-12-31") == pd.Timestamp("2019-01-04 15:30", tz=NY)
    # Thanksgiving (Thu 2024-11-28): the report of Tue 2024-11-26 comes out on Monday 2024-12-02
    assert cftc_ingest.release_time("2024-11-26") == pd.Timestamp("2024-12-02 15:30", tz=NY)


def test_complete_weeks_withholds_a_partial_newest_week() -> None:
    frame = pd.DataFrame(
        {
            "as_of": pd.to_datetime(["2025-01-07"] * 3 + ["2025-01-14"] * 2),
            "code": ["099741", "097741", "096742", "099741", "097741"],
        }
    )
    with pytest.warns(DataQualityWarning, match="096742"):
        kept, info = cftc_ingest.complete_weeks(frame, "legacy")
    assert info == {
        "report": "legacy",
        "date": "2025-01-14",
        "missing": ["096742"],
        "accepted": False,
    }
    assert kept["as_of"].max() == pd.Timestamp("2025-01-07") and len(kept) == 3
    same, none = cftc_ingest.complete_weeks(frame.iloc[:3], "legacy")
    assert none is None and len(same) == 3
    # released Fri 2025-01-17 15:30 ET; 4 days later the week is kept (a market can drop out)
    with pytest.warns(DataQualityWarning, match="kept"):
        kept, info = cftc_ingest.complete_weeks(
            frame, "legacy", pd.Timestamp("2025-01-21 15:30", tz=NY)
        )
    assert len(kept) == 5 and info is not None and info["accepted"] is True


def test_sample_backfill_publishes_both_results_then_update_adds_a_week(
    store, sample_settings
) -> None:
    thursday = pd.Timestamp("2026-11-19 12:00", tz=NY)
    summary = cftc_ingest.backfill(sample_settings, store, 2024, now=thursday)
    # the report of Tue 2026-11-17 is released Fri 2026-11-20: not out yet on Thursday
    assert summary["as_of"] == "2026-11-10T00:00:00-05:00"
    assert summary["first"] == {"legacy": "2024-01-02", "tff": "2024-01-02"}
    pos = store.read(cftc_ingest.POSITIONS)
    assert pos.meta.sample and pos.meta.tables == ["legacy", "tff", "releases"]
    assert pos.meta.as_of_ts == pd.Timestamp("2026-11-10", tz=NY)
    # Veterans Day (Wed 2026-11-11) pushes the 3rd federal business day to Monday 2026-11-16
    assert pos.meta.extra["release_time"] == "2026-11-16T15:30:00-05:00"
    assert pos.meta.units["legacy"]["noncomm_long"] == "contracts"
    legacy, tff = pos.table("legacy"), pos.table("tff")
    assert list(legacy.columns) == list(COT_LEGACY_COLUMNS) and list(tff.columns) == list(
        COT_TFF_COLUMNS
    )
    assert set(legacy["code"]) == set(cftc_files.CURRENCY_CODES)
    assert (legacy.groupby("as_of").size() == 11).all()
    fx = store.read(cftc_ingest.FX)
    assert fx.meta.sample and fx.meta.as_of == pos.meta.as_of
    table = fx.table("data")
    assert list(table.columns) == ["date", *cftc_ingest.FX_CURRENCIES]
    assert (table["USD"] == 1.0).all() and table["date"].max() == pd.Timestamp("2026-11-19")
    assert (
        fx.meta.units["data"]["JPY"] == "USD per unit of the currency"
    )  # the declared unit (jobs.declarations.cftc)

    # before Friday 15:30 ET nothing new; after it the 2026-11-17 week appears
    assert (
        cftc_ingest.update_latest(
            sample_settings, store, now=pd.Timestamp("2026-11-20 15:00", tz=NY)
        )
        is False
    )
    assert (
        cftc_ingest.update_latest(
            sample_settings, store, now=pd.Timestamp("2026-11-20 16:00", tz=NY)
        )
        is True
    )
    after = store.read(cftc_ingest.POSITIONS)
    assert after.meta.as_of_ts == pd.Timestamp("2026-11-17", tz=NY)
    new_legacy = after.table("legacy")
    assert len(new_legacy) == len(legacy) + 11
    # history untouched: the earlier weeks are identical
    pd.testing.assert_frame_equal(new_legacy.iloc[: len(legacy)].reset_index(drop=True), legacy)
    assert store.read(cftc_ingest.FX).table("data")["date"].max() == pd.Timestamp("2026-11-20")
    assert (
        cftc_ingest.update_latest(
            sample_settings, store, now=pd.Timestamp("2026-11-20 17:00", tz=NY)
        )
        is False
    )


def test_update_latest_without_history_backfills(store, sample_settings) -> None:
    assert (
        cftc_ingest.update_latest(
            sample_settings, store, now=pd.Timestamp("2026-11-21 12:00", tz=NY)
        )
        is True
    )
    pos = store.read(cftc_ingest.POSITIONS)
    assert pos.table("legacy")["as_of"].min().year == 2020


@pytest.fixture()
def live_server(http_server):
    """The real 2025 yearly zips (trimmed copies, tests/data/cftc) and the ECB history slice."""
    http_server.route("/history/deacot2025.zip", Reply(200, cftc_replay.annual_zip("legacy")))
    http_server.route("/history/fut_fin_txt_2025.zip", Reply(200, cftc_replay.annual_zip("tff")))
    http_server.route("/fx/eurofxref-hist.zip", Reply(200, cftc_replay.ecb_hist_zip()))
    http_server.route("/fx/eurofxref-daily.xml", Reply(200, cftc_replay.ECB_DAILY_XML.read_bytes()))
    http_server.route(
        "/resource/6dca-aqww.json", Reply(200, "[]", {"Content-Type": "application/json"})
    )
    http_server.route(
        "/resource/gpe5-46if.json", Reply(200, "[]", {"Content-Type": "application/json"})
    )
    endpoints = cftc_ingest.Endpoints(
        cftc_history=f"{http_server.url}/history",
        socrata=f"{http_server.url}/resource",
        ecb=f"{http_server.url}/fx",
    )
    return http_server, endpoints


def test_live_backfill_from_real_yearly_zips(store, live_settings, client, live_server) -> None:
    srv, endpoints = live_server
    now = pd.Timestamp("2025-06-02 09:00", tz=NY)
    seen: list[str] = []
    # legacy 2024 is not on the server: ask for 2025 only for legacy by checking 2025 first
    summary = cftc_ingest.backfill(
        live_settings,
        store,
        2025,
        client=client,
        progress=seen.append,
        now=now,
        endpoints=endpoints,
    )
    assert summary["rows"] == {"legacy": 110, "tff": 17 * 11}
    assert summary["missing_current_year"] == []
    pos = store.read(cftc_ingest.POSITIONS)
    assert not pos.meta.sample
    assert pos.meta.as_of_ts == pd.Timestamp("2025-04-29", tz=NY)
    assert pos.meta.extra["last_dates"] == {"legacy": "2025-03-11", "tff": "2025-04-29"}
    assert pos.meta.extra["absent_codes"] == {"legacy": [], "tff": []}
    table = pos.table("legacy")
    eur = table[(table["code"] == "099741") & (table["as_of"] == pd.Timestamp("2025-03-11"))].iloc[
        0
    ]
    assert eur["noncomm_long"] == 188647 and eur["noncomm_short"] == 175557
    fx = store.read(cftc_ingest.FX).table("data").set_index("date")
    assert fx.loc["2025-01-14", "EUR"] == pytest.approx(1.0245, abs=1e-4)  # ECB EUR/USD that day
    assert fx.index.min() >= pd.Timestamp("2024-12-18")
    assert "ECB FX history" in seen and any("legacy 2025" in m for m in seen)


def test_live_backfill_current_year_404_falls_back_to_weekly_data(
    store, live_settings, client, live_server
) -> None:
    srv, endpoints = live_server
    now = pd.Timestamp("2026-01-03 10:00", tz=NY)  # deacot2026.zip / fut_fin_txt_2026.zip: 404
    summary = cftc_ingest.backfill(
        live_settings, store, 2025, client=client, now=now, endpoints=endpoints
    )
    assert summary["missing_current_year"] == [2026, 2026]
    legacy_q = srv.requests_to("/resource/6dca-aqww.json")
    assert len(legacy_q) == 1
    assert "report_date_as_yyyy_mm_dd >= '2025-03-12T00:00:00'" in legacy_q[0].query["$where"][0]
    tff_q = srv.requests_to("/resource/gpe5-46if.json")
    assert "report_date_as_yyyy_mm_dd >= '2025-04-30T00:00:00'" in tff_q[0].query["$where"][0]
    assert [r.path for r in srv.requests if r.path.startswith("/history/deacot")] == [
        "/history/deacot2025.zip",
        "/history/deacot2026.zip",
    ]


def test_live_update_adds_a_week_and_withholds_a_partial_one(
    store, live_settings, client, live_server
) -> None:
    srv, endpoints = live_server
    cftc_ingest.backfill(
        live_settings,
        store,
        2025,
        client=client,
        now=pd.Timestamp("2025-06-02", tz=NY),
        endpoints=endpoints,
    )
    before = store.meta(cftc_ingest.POSITIONS)
    text = cftc_replay.member_text(cftc_replay.LEGACY_ZIP)
    last_week = cftc_files.parse_legacy(text, "annual.txt", list(cftc_files.CURRENCY_CODES))
    last_week = last_week[last_week["as_of"] == "2025-03-11"].copy()
    # 1,000 contracts move from commercials to non-commercials: the sides still add up to open
    # interest (a row that does not is refused as implausible)
    next_week = last_week.assign(
        as_of=pd.Timestamp("2025-03-18"),
        noncomm_long=last_week["noncomm_long"] + 1000,
        comm_long=last_week["comm_long"] - 1000,
    )

    # a partial week (the yen missing): withheld, nothing published, no new week reported
    partial = _socrata_rows(next_week[next_week["code"] != "097741"], "legacy")
    srv.route("/resource/6dca-aqww.json", SocrataDataset(partial))
    with pytest.warns(DataQualityWarning, match="097741.*withheld"):
        # Friday evening of the release (2025-03-21 15:30 ET): within the grace period
        assert (
            cftc_ingest.update_latest(
                live_settings,
                store,
                client=client,
                now=pd.Timestamp("2025-03-21 18:00", tz=NY),
                endpoints=endpoints,
            )
            is False
        )
    assert store.meta(cftc_ingest.POSITIONS).version == before.version

    # the complete week: published, with the Socrata numbers
    complete = SocrataDataset(_socrata_rows(next_week, "legacy"))

    def serve(req: Request) -> Reply:
        assert "report_date_as_yyyy_mm_dd >= '2025-03-11T00:00:00'" in req.query["$where"][0]
        return complete(req)

    srv.route("/resource/6dca-aqww.json", serve)
    assert (
        cftc_ingest.update_latest(
            live_settings,
            store,
            client=client,
            now=pd.Timestamp("2025-06-03", tz=NY),
            endpoints=endpoints,
        )
        is True
    )
    legacy = store.read(cftc_ingest.POSITIONS).table("legacy")
    assert legacy["as_of"].max() == pd.Timestamp("2025-03-18") and len(legacy) == 121
    eur = legacy[
        (legacy["code"] == "099741") & (legacy["as_of"] == pd.Timestamp("2025-03-18"))
    ].iloc[0]
    assert eur["noncomm_long"] == 188647 + 1000
    # the daily ECB file (2025-05-09) was fetched and merged: the stored history ends that day
    assert srv.requests_to("/fx/eurofxref-daily.xml")
    assert store.read(cftc_ingest.FX).table("data")["date"].max() == pd.Timestamp("2025-05-09")

    # a week still lacking a market 4 days after its release is kept, flagged as accepted
    week3 = next_week.assign(as_of=pd.Timestamp("2025-03-25"))
    srv.route(
        "/resource/6dca-aqww.json",
        SocrataDataset(_socrata_rows(week3[week3["code"] != "122741"], "legacy")),
    )
    with pytest.warns(DataQualityWarning, match="122741.*kept"):
        assert (
            cftc_ingest.update_latest(
                live_settings,
                store,
                client=client,
                now=pd.Timestamp("2025-06-03", tz=NY),
                endpoints=endpoints,
            )
            is True
        )
    res = store.read(cftc_ingest.POSITIONS)
    assert res.meta.extra["withheld"] == [
        {"report": "legacy", "date": "2025-03-25", "missing": ["122741"], "accepted": True}
    ]
    assert len(res.table("legacy")) == 121 + 10
    # the late rand row for that week arrives: merged and published, but it is no new week
    srv.route("/resource/6dca-aqww.json", SocrataDataset(_socrata_rows(week3, "legacy")))
    assert (
        cftc_ingest.update_latest(
            live_settings,
            store,
            client=client,
            now=pd.Timestamp("2025-06-04", tz=NY),
            endpoints=endpoints,
        )
        is False
    )
    res = store.read(cftc_ingest.POSITIONS)
    assert len(res.table("legacy")) == 121 + 11 and res.meta.extra["withheld"] == []
