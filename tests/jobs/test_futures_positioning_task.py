"""The ``futures_positioning`` task on real Redis: sample mode, and live wiring on the local HTTP
server with the trimmed real TFF file of 2024 and a recorded real Socrata answer."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from jobs.config import parse_settings
from jobs.runner import run_job
from tests.httpserver import Reply

NY = ZoneInfo("America/New_York")
JOBS = {
    "fp": {
        "task": "futures_positioning",
        "cron": "50 15 * * fri",
        "retries": 0,
        "trading_days_only": False,
    }
}


def _settings(extra: dict | None = None, **service):
    data = {"service": {"source_mode": "sample", "sample_seed": 11, **service}, "jobs": JOBS}
    data.update(extra or {})
    return parse_settings(data, env={})


def test_sample_run_publishes_every_market_and_class(store) -> None:
    s = _settings()
    rec = run_job(
        s, store, "fp", now=datetime(2026, 6, 5, 16, 0, tzinfo=NY)
    )  # Friday after the release
    assert rec.status == "ok", rec.error
    res = store.read("cftc.futures_positioning")
    meta = res.meta
    assert meta.sample and "SAMPLE" in meta.source
    assert (
        meta.quality["skipped_rows"] == 0 and meta.quality["repaired_rows"] == 0
    )  # the sample prints each market in the table's unit
    assert meta.headline["as_of"] == "2026-06-02"  # the Tuesday report released that Friday 15:30
    latest, positions, crowding = res.table("latest"), res.table("positions"), res.table("crowding")
    assert set(latest["symbol"]) >= {
        "ES",
        "NQ",
        "RTY",
        "YM",
        "VX",
        "ZT",
        "ZF",
        "ZN",
        "TN",
        "ZB",
        "UB",
        "SR3",
    }
    assert len(latest) == 5 * latest["symbol"].nunique()
    # the sample covers every market of the shipped table, the consolidated rows included (a
    # fresh clone's futures tab warned "no rows for ES_CONS (13874+)" three times)
    from flows.sources import tff_markets

    assert set(latest["symbol"]) == set(tff_markets.load()["symbol"])
    assert not any("no rows for" in w for w in meta.quality["warnings"])
    es_all = latest[latest["symbol"] == "ES"].set_index("trader_class")["net_contracts"]
    cons = latest[latest["symbol"] == "ES_CONS"].set_index("trader_class")["net_contracts"]
    # the E-mini is ~99.5 % of the consolidated market (rounding: a contract per side)
    np.testing.assert_allclose(cons, es_all / 0.995, atol=3, rtol=1e-3)
    np.testing.assert_allclose(latest["net_contracts"], latest["long"] - latest["short"])
    last = positions[positions["as_of"] == positions["as_of"].max()].reset_index(drop=True)
    np.testing.assert_allclose(last["net_contracts"], latest["net_contracts"])
    assert meta.headline["crowding_flags"] == int(crowding["flagged"].sum())
    es = latest[(latest["symbol"] == "ES") & (latest["trader_class"] == "asset_manager")].iloc[0]
    assert meta.headline["es_asset_manager_net_contracts"] == es["net_contracts"]
    assert meta.headline["es_asset_manager_usd_per_point"] == pytest.approx(
        es["net_contracts"] * 50
    )
    assert (
        meta.units["latest"]["dv01_usd_per_bp"] == "USD per basis point"
        and meta.units["latest"]["net_pct_oi"] == "% of open interest"
    )
    # no prices.<SYMBOL> in the store: the notional is stated missing, never guessed
    assert (
        meta.headline["es_asset_manager_notional_usd"] is None
        and "ES" in meta.headline["notional_missing"]
    )
    assert any("notional not computed" in w for w in meta.quality["warnings"])
    zn = latest[(latest["symbol"] == "ZN") & (latest["trader_class"] == "leveraged_funds")].iloc[0]
    assert zn["dv01_usd_per_bp"] == pytest.approx(zn["net_contracts"] * 62.0)
    assert zn["ten_year_equivalents"] == pytest.approx(zn["net_contracts"])


def _file_row(zip_path, code: str, day: str) -> dict[str, str]:
    """The row of ``code`` on ``day`` read straight from the real file (csv module, no flowdesk)."""
    with zipfile.ZipFile(zip_path) as z:
        text = z.read(z.namelist()[0]).decode("utf-8")
    for row in csv.DictReader(io.StringIO(text)):
        if (
            row["CFTC_Contract_Market_Code"].strip() == code
            and row["Report_Date_as_YYYY-MM-DD"].strip() == day
        ):
            return row
    raise AssertionError(f"{code} {day} not in {zip_path}")


def test_live_backfill_then_weekly_update(store, http_server, test_data) -> None:
    zip_path = test_data / "cftc_tff" / "fut_fin_txt_2024_markets_through_2024-06-25.zip"
    http_server.route(
        "/history/fut_fin_txt_2024.zip",
        Reply(200, zip_path.read_bytes(), {"Content-Type": "application/zip"}),
    )
    socrata = (
        test_data / "cftc" / "socrata_gpe5-46if_tff_futonly_es_2026-07-07_to_2026-07-14_subset.json"
    ).read_bytes()
    # the API pages with $offset: the recorded rows, then an empty page
    http_server.route(
        "/resource/gpe5-46if.json",
        lambda req: Reply(
            200,
            socrata if req.query.get("$offset", ["0"])[0] == "0" else b"[]",
            {"Content-Type": "application/json"},
        ),
    )
    endpoints = {
        "cftc_history": f"{http_server.url}/history",
        "socrata": f"{http_server.url}/resource",
    }
    jobs = {"fp": {**JOBS["fp"], "args": {"endpoints": endpoints}}}
    s = parse_settings(
        {
            "service": {"source_mode": "live", "http_retries": 0, "http_min_interval_seconds": 0},
            "jobs": jobs,
            "futures_positioning": {"history_from_year": 2024},
        },
        env={},
    )
    # a close of the report date for the S&P 500 notional: SPX closed at 5,469.30 on 2024-06-25
    closes = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-06-24", "2024-06-25"]),
            "close": [5447.87, 5469.30],
            "open": np.nan,
            "high": np.nan,
            "low": np.nan,
            "volume": np.nan,
        }
    )
    store.publish(
        "prices.SPX",
        {"history": closes},
        as_of=pd.Timestamp("2024-06-25 16:00", tz=NY),
        source="test closes (Cboe SPX daily prices)",
        headline={
            "close": 5469.30,
            "return_1d_pct": None,
            "sessions": 2,
            "first_date": "2024-06-24",
            "last_date": "2024-06-25",
        },
    )
    rec = run_job(s, store, "fp", now=datetime(2024, 6, 29, 12, 0, tzinfo=NY))
    assert rec.status == "ok", rec.error
    meta = store.read("cftc.futures_positioning").meta
    assert meta.headline["as_of"] == "2024-06-25" and not meta.sample
    row = _file_row(zip_path, "13874A", "2024-06-25")
    am_net = int(row["Asset_Mgr_Positions_Long_All"]) - int(row["Asset_Mgr_Positions_Short_All"])
    lf_net = int(row["Lev_Money_Positions_Long_All"]) - int(row["Lev_Money_Positions_Short_All"])
    assert meta.headline["es_asset_manager_net_contracts"] == am_net
    assert meta.headline["es_leveraged_funds_net_contracts"] == lf_net
    assert meta.headline["es_asset_manager_net_pct_oi"] == pytest.approx(
        100 * am_net / int(row["Open_Interest_All"])
    )
    assert meta.headline["es_asset_manager_notional_usd"] == pytest.approx(am_net * 50 * 5469.30)
    assert (
        meta.headline["nq_asset_manager_notional_usd"] is None
    )  # no prices.NDX stored: stated missing
    zn = _file_row(zip_path, "043602", "2024-06-25")
    zn_lf = int(zn["Lev_Money_Positions_Long_All"]) - int(zn["Lev_Money_Positions_Short_All"])
    assert meta.headline["zn_leveraged_funds_dv01_usd_per_bp"] == pytest.approx(zn_lf * 62.0)
    # the weekly update: only the Public Reporting API from the last stored date; the yearly zip is
    # not downloaded again; the new ES weeks merge into the stored rows
    rec = run_job(s, store, "fp", now=datetime(2026, 7, 18, 12, 0, tzinfo=NY))
    assert rec.status == "ok", rec.error
    assert len(http_server.requests_to("/history/fut_fin_txt_2024.zip")) == 1
    res = store.read("cftc.futures_positioning")
    rows = res.table("rows")
    assert (
        pd.Timestamp(rows["as_of"].max()) == pd.Timestamp("2026-07-14")
        and (rows["as_of"] <= "2024-06-25").sum() == 390
    )
    assert (
        res.meta.headline["as_of"] == "2026-07-14" and "ZN" in res.meta.headline["markets_missing"]
    )


def test_vx_notional_at_the_front_month_settlement_of_the_stored_vx_history(store) -> None:
    """With ``vx.settlements`` stored (the systematic job), the VX positions are valued at the
    front-month VX settlement of the report date: a fresh clone's futures tab said "no
    prices.VX result: VX notional not computed"."""
    from flows import futures_positioning as fp
    from jobs.tasks.systematic import read_vx

    now = datetime(2026, 6, 5, 18, 0, tzinfo=NY)
    jobs = {**JOBS, "sys": {"task": "systematic", "cron": "30 17 * * mon-fri", "retries": 0}}
    s = parse_settings(
        {"service": {"source_mode": "sample", "sample_seed": 11}, "jobs": jobs}, env={}
    )
    assert run_job(s, store, "sys", now=now).status == "ok"
    rec = run_job(s, store, "fp", now=now)
    assert rec.status == "ok", rec.error
    res = store.read("cftc.futures_positioning")
    assert not any("VX notional" in w for w in res.meta.quality["warnings"])
    latest = res.table("latest")
    vx = latest[latest["symbol"] == "VX"].set_index("trader_class")
    front = fp.vx_front_month(read_vx(store)[0]).set_index("date")["close"]
    report = pd.Timestamp(res.meta.headline["as_of"])
    level = float(front[front.index <= report].iloc[-1])
    assert 9.0 < level < 80.0  # VIX futures points
    assert (vx["close"] == level).all()
    np.testing.assert_allclose(vx["notional_usd"], vx["net_contracts"] * 1000.0 * level)
