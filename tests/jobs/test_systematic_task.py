"""The ``prices`` and ``systematic`` tasks on real Redis: sample mode end to end, live wiring on the
local HTTP server with recorded real files (FRED SP500, CFE VX settlements of February 2018)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from flows import volcontrol
from flows.sources import fred
from jobs.config import parse_settings
from jobs.runner import run_job
from jobs.tasks import prices as prices_task
from jobs.tasks import systematic as sys_task
from tests.httpserver import Reply

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 2, 17, 45, tzinfo=NY)  # a Tuesday, after the close
JOBS = {
    "prices": {"task": "prices", "cron": "15 17 * * mon-fri", "retries": 0},
    "systematic": {"task": "systematic", "cron": "30 17 * * mon-fri", "retries": 0},
}


def _settings(extra: dict | None = None, **service):
    data = {
        "service": {"source_mode": "sample", "sample_seed": 11, **service},
        "jobs": JOBS,
        "prices": {"sample_sessions": 1000},
    }
    for k, v in (extra or {}).items():
        data[k] = {**data.get(k, {}), **v}
    return parse_settings(data, env={})


# -- pure helpers, hand-worked -------------------------------------------------------------------
def test_merge_history_replaces_revised_dates_and_keeps_the_rest() -> None:
    d = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"])
    old = pd.DataFrame(
        {
            "date": d,
            "close": [100.0, 101.0, 102.0],
            "open": np.nan,
            "high": np.nan,
            "low": np.nan,
            "volume": np.nan,
        }
    )
    new = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-04", "2024-01-05"]),
            "close": [102.5, 103.0],
            "open": np.nan,
            "high": np.nan,
            "low": np.nan,
            "volume": np.nan,
        }
    )
    out = prices_task.merge_history(old, new)
    assert out["date"].dt.strftime("%m-%d").tolist() == ["01-02", "01-03", "01-04", "01-05"]
    assert out["close"].tolist() == [100.0, 101.0, 102.5, 103.0]  # 01-04 revised by the fetch


def test_last_closed_session_uses_the_calendar() -> None:
    # before the close on a session: the previous session; after it: that day; Saturday: Friday;
    # the day after Thanksgiving 2025 closes at 13:00 ET (early close)
    assert prices_task.last_closed_session(
        pd.Timestamp("2026-06-02 15:59", tz=NY), "XNYS"
    ) == pd.Timestamp("2026-06-01")
    assert prices_task.last_closed_session(
        pd.Timestamp("2026-06-02 16:00", tz=NY), "XNYS"
    ) == pd.Timestamp("2026-06-02")
    assert prices_task.last_closed_session(
        pd.Timestamp("2026-06-06 12:00", tz=NY), "XNYS"
    ) == pd.Timestamp("2026-06-05")
    assert prices_task.last_closed_session(
        pd.Timestamp("2025-11-28 13:05", tz=NY), "XNYS"
    ) == pd.Timestamp("2025-11-28")
    assert (
        prices_task.close_instant(pd.Timestamp("2025-11-28"), "America/New_York", "XNYS").hour == 13
    )


def test_merge_vx_replaces_fetched_contracts_only() -> None:
    def rows(contract, expiry, dates, settle):
        n = len(dates)
        return pd.DataFrame(
            {
                "date": pd.to_datetime(dates),
                "contract": contract,
                "expiry": pd.Timestamp(expiry),
                "settle": settle,
                "open": np.nan,
                "high": np.nan,
                "low": np.nan,
                "close": np.nan,
                "volume": [1000.0] * n,
                "open_interest": [10.0] * n,
            }
        )

    old = pd.concat(
        [
            rows("VXF18", "2018-01-17", ["2018-01-16", "2018-01-17"], [10.0, 10.5]),
            rows("VXG18", "2018-02-14", ["2018-01-16"], [11.0]),
        ]
    )
    new = rows("VXG18", "2018-02-14", ["2018-01-16", "2018-01-17"], [11.1, 11.2])
    out = sys_task.merge_vx(old, new)
    assert out[out["contract"] == "VXF18"]["settle"].tolist() == [10.0, 10.5]  # not fetched: kept
    assert out[out["contract"] == "VXG18"]["settle"].tolist() == [11.1, 11.2]  # fetched: replaced


# -- sample mode end to end ----------------------------------------------------------------------
def test_sample_prices_and_systematic_publish_every_declared_result(store) -> None:
    s = _settings()
    assert run_job(s, store, "prices", now=NOW).status == "ok"
    rec = run_job(s, store, "systematic", now=NOW)
    assert rec.status == "ok", rec.error
    names = set(store.names())
    assert {
        "prices.SPX",
        "prices.NDX",
        "prices.RUT",
        "volcontrol.SPX",
        "cta.SPX",
        "cta.NDX",
        "vx.settlements",
        "vixetp.flows",
    } <= names
    px = store.read("prices.SPX")
    assert px.meta.sample and "SAMPLE" in px.meta.source
    hist = px.table("history")
    assert len(hist) == 1000 and pd.Timestamp(hist["date"].iloc[-1]) == pd.Timestamp("2026-06-02")
    assert px.meta.headline["return_1d_pct"] == pytest.approx(
        100 * (hist["close"].iloc[-1] / hist["close"].iloc[-2] - 1)
    )
    assert px.meta.as_of.startswith("2026-06-02T16:00:00-04:00")  # the close, from the calendar

    vc = store.read("volcontrol.SPX")
    h = vc.meta.headline
    fwd, grid, vch = vc.table("forward"), vc.table("shock_grid"), vc.table("history")
    assert (
        vc.meta.units["history"]["flow_usd"] == "USD (+ = buy)"
        and vc.meta.units["history"]["exposure"] == "fraction of AUM (1 = 100 %)"
    )
    assert h["horizon"] == "next sessions (lagged)" and h["aum_usd"] == 300e9
    assert h["flow_usd_1d"] == pytest.approx(fwd["flow_usd"].iloc[0])
    assert h["flow_usd_1w_flat"] == pytest.approx(fwd["flow_usd"].iloc[:5].sum())
    assert h["flow_usd_shock_down_5pct_1w"] == pytest.approx(
        grid.set_index("shock_pct").loc[-5.0, "flow_1w_usd"]
    )
    # exposure = min(cap, target / sigma of the previous session), flow = AUM x its change
    e = np.minimum(1.5, 0.10 / vch["sigma"].shift(1))
    np.testing.assert_allclose(vch["exposure"].iloc[1:], e.iloc[1:], rtol=1e-12)
    np.testing.assert_allclose(
        vch["flow_usd"].iloc[1:], 300e9 * np.diff(vch["exposure"]), rtol=1e-9
    )
    assert len(vch) == 756 and len(grid) == 41
    assert vc.table("calibration")["method"].tolist() == ["configured"]

    ct = store.read("cta.SPX")
    trig = ct.table("triggers")
    i = int(np.argmin(np.abs(trig["distance_pct"].to_numpy())))
    assert ct.meta.headline["nearest_trigger_abs_distance_pct"] == pytest.approx(
        abs(trig["distance_pct"].iloc[i])
    )
    assert ct.meta.headline["nearest_trigger_level"] == pytest.approx(trig["level"].iloc[i])
    np.testing.assert_allclose(
        trig["distance_pct"], 100 * (trig["level"] / ct.meta.headline["close"] - 1), rtol=1e-12
    )
    assert (
        ct.meta.headline["horizon"] == "this week"
        and ct.meta.units["triggers"]["days_to_flip"] == "sessions"
    )
    assert (
        store.read("cta.NDX").meta.headline["aum_usd"] == 50e9
    )  # the default config has no NDX override

    etp = store.read("vixetp.flows")
    f, bc = etp.table("funds"), etp.table("by_contract")
    assert etp.meta.headline["rebalance_usd"] == pytest.approx(f["rebalance_usd"].sum())
    np.testing.assert_allclose(
        f["rebalance_usd"],
        f["aum_prev_usd"] * (f["leverage"] ** 2 - f["leverage"]) * f["index_return"],
        rtol=1e-12,
    )
    traded = bc[(bc["total_contracts"] != 0) & (bc["volume"] > 0)]
    assert etp.meta.headline["pct_of_volume"] == pytest.approx(
        100 * traded["total_contracts"].abs().sum() / traded["volume"].sum()
    )
    assert etp.meta.headline["horizon"] == "today" and "SAMPLE" in etp.meta.source

    # deterministic; the second run reuses the stored VX history (no new generation)
    vx_version = store.meta("vx.settlements").version
    assert run_job(s, store, "systematic", now=NOW).status == "ok"
    assert store.meta("vx.settlements").version == vx_version  # reused, not generated again
    assert store.read("volcontrol.SPX").meta.headline["flow_usd_1d"] == h["flow_usd_1d"]


def test_systematic_refreshes_missing_prices_itself(store) -> None:
    s = _settings({"systematic": {"volcontrol_indices": ["RUT"], "cta_indices": []}})
    rec = run_job(s, store, "systematic", now=NOW)
    assert rec.status == "ok", rec.error
    assert "prices.RUT" in store.names() and "volcontrol.RUT" in store.names()


# -- live wiring ---------------------------------------------------------------------------------
def test_live_prices_from_fred_then_engines_partly_fail_without_vx(
    store, http_server, test_data, tmp_path
) -> None:
    """FRED SP500 (the real file, holidays as empty rows) served by the local server; no VX file
    is served, so vol-control and CTA publish and the VIX ETP part fails naming the source."""
    raw = (test_data / "prices" / "fred_SP500_2023-01-03_2025-06-30.csv").read_bytes()
    http_server.route("/fred/SP500", Reply(200, raw, {"Content-Type": "text/csv"}))
    extra = {
        "prices": {
            "symbols": ["SPX"],
            "sources": {"SPX": "fred"},
            "fred_url": f"{http_server.url}/fred/{{series}}",
        },
        "systematic": {"volcontrol_indices": ["SPX"], "cta_indices": ["SPX"]},
        "vixetp": {"vx_url": f"{http_server.url}/vx/VX_{{expiry}}.csv"},
    }
    s = _settings(
        extra,
        source_mode="live",
        drop_dir=str(tmp_path),
        http_retries=0,
        http_min_interval_seconds=0,
    )
    now = datetime(2025, 6, 30, 17, 45, tzinfo=NY)
    assert run_job(s, store, "prices", now=now).status == "ok"
    rec = run_job(s, store, "systematic", now=now)
    assert rec.status == "partial" and "vixetp.flows" in rec.error and "cboe-vx" in rec.error
    # the stored history equals the file parsed directly: the engine's figures are the same
    direct, _ = fred.parse(raw, "fred", "SPX")
    assert len(store.read("prices.SPX").table("history")) == len(direct)
    want = volcontrol.analyze(direct, aum=300e9, params=sys_task.vc_params(s))
    got = store.read("volcontrol.SPX").meta.headline
    assert got["as_of"] == "2025-06-30" and got["flow_usd_1d"] == pytest.approx(
        want.headline["flow_usd_1d"], rel=1e-12
    )
    assert got["exposure"] == pytest.approx(want.headline["exposure"], rel=1e-12)
    # a later fetch serving only recent rows is merged into the stored history
    short = b"\n".join(raw.splitlines()[:1] + raw.splitlines()[-5:]) + b"\n"
    http_server.route("/fred/SP500", Reply(200, short, {"Content-Type": "text/csv"}))
    assert run_job(s, store, "prices", now=now).status == "ok"
    assert len(store.read("prices.SPX").table("history")) == len(direct)


def test_live_vix_etps_on_feb_5_2018(store, http_server, test_data, tmp_path) -> None:
    """The real CFE files of February 2018 served as Cboe's per-contract files; assets from a drop
    file.  The short-term index rose 96.10 % (hand-worked in tests/flows/test_vixetp.py) and each
    fund's rebalance is A (L^2 - L) R by hand."""
    vx = test_data / "vix_futures"
    files = {
        "2018-02-14": vx / "clean" / "CFE_G18_VX.csv",
        "2018-03-21": vx / "clean" / "CFE_H18_VX.csv",
    }
    for code, expiry in (
        ("J18", "2018-04-18"),
        ("K18", "2018-05-16"),
        ("M18", "2018-06-20"),
        ("N18", "2018-07-18"),
        ("Q18", "2018-08-22"),
        ("U18", "2018-09-19"),
    ):
        files[expiry] = vx / "indexed" / f"CFE_{code}_VX.csv"
    for expiry, path in files.items():
        http_server.route(
            f"/vx/VX_{expiry}.csv", Reply(200, path.read_bytes(), {"Content-Type": "text/csv"})
        )
    (tmp_path / "vixetp_aum.csv").write_text(
        "ticker,aum_usd,as_of\nUVXY,1000000000,2018-02-02\nSVXY,1500000000,2018-02-02\nVXX,800000000,2018-02-02\n"
    )
    extra = {
        "systematic": {
            "volcontrol_indices": [],
            "cta_indices": [],
            "vx_months_back": 0,
            "vx_months_ahead": 7,
        },
        "vixetp": {"vx_url": f"{http_server.url}/vx/VX_{{expiry}}.csv", "proshares_tickers": []},
    }
    s = _settings(
        extra,
        source_mode="live",
        drop_dir=str(tmp_path),
        http_retries=0,
        http_min_interval_seconds=0,
    )
    rec = run_job(s, store, "systematic", now=datetime(2018, 2, 5, 17, 45, tzinfo=NY))
    assert rec.status == "ok", rec.error
    etp = store.read("vixetp.flows")
    h = etp.meta.headline
    r = (
        29.8125 / 15.2025 - 1
    )  # (0.35 x 33.225 + 0.65 x 27.975) / (0.35 x 15.625 + 0.65 x 14.975) - 1
    assert h["date"] == "2018-02-05" and h["index_return"] == pytest.approx(r, rel=1e-12)
    assert (h["front"], h["second"], h["front_weight"]) == ("VXG18", "VXH18", pytest.approx(0.35))
    f = etp.table("funds").set_index("ticker")
    assert f.loc["UVXY", "rebalance_usd"] == pytest.approx(
        1e9 * (2 * 2 - 2) * r
    )  # 2x until 2018-02-27
    assert f.loc["SVXY", "rebalance_usd"] == pytest.approx(1.5e9 * (1 + 1) * r)  # -1x: L^2 - L = 2
    assert f.loc["VXX", "rebalance_usd"] == 0.0
    assert h["rebalance_usd"] == pytest.approx(2e9 * r + 3e9 * r)
    assert "vixetp_aum.csv" in etp.meta.source
    assert store.read("vx.settlements").meta.headline["last_date"] == "2018-02-05"
    vxs = store.read("vx.settlements").meta
    assert (
        vxs.headline["contracts"] == 8 and vxs.quality["warnings"] == []
    )  # every contract fetched, Feb..Sep 2018


def test_bad_price_file_fails_naming_it_and_the_last_good_result_stays(
    store, test_data, tmp_path
) -> None:
    """A dropped price file (source ``file``) that is good, then cut mid-row with a close of "-":
    the second run fails with the file, line and field named; prices.SPX keeps its last good
    version, marked stale."""
    good = (test_data / "prices" / "GSPC_ohlcv_2019-01-02_2020-04-30.csv").read_bytes()
    (tmp_path / "spx.csv").write_bytes(good)
    extra = {
        "prices": {"symbols": ["SPX"], "sources": {"SPX": "file"}, "drop_files": {"SPX": "spx.csv"}}
    }
    s = _settings(extra, source_mode="live", drop_dir=str(tmp_path))
    now = datetime(2020, 4, 30, 17, 45, tzinfo=NY)
    assert run_job(s, store, "prices", now=now).status == "ok"
    version = store.meta("prices.SPX").version
    lines = good.decode().splitlines()
    cells = lines[5].split(",")
    cells[4] = "-"  # the Close cell of the 5th data row
    bad = "\n".join([*lines[:5], ",".join(cells), *lines[6:]]) + "\n"
    (tmp_path / "spx.csv").write_text(bad[: len(bad) // 2])
    rec = run_job(s, store, "prices", now=now)
    assert rec.status == "failed"
    assert (
        "spx.csv: line 169" in rec.error
        and "file cut" in rec.error
        and "Traceback" not in rec.error
    )
    meta = store.meta("prices.SPX")
    assert meta.version == version and meta.status == "stale"
