"""The board's systematic components, per-horizon totals and positioning panel, on real Redis
with results published by the real tasks (real SPX chain, trimmed leveraged-ETF universe, sample
systematic and futures-positioning results)."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from flows.gamma import analyze
from flows.sources import cboe_csv
from jobs.config import parse_settings
from jobs.runner import run_job
from jobs.tasks import TaskContext
from jobs.tasks.gamma import gamma_params, publish_report

NY = ZoneInfo("America/New_York")
NOW = pd.Timestamp("2026-11-27 12:00", tz="America/New_York")
SYSTEMATIC_AT = datetime(2026, 11, 25, 17, 45, tzinfo=NY)  # the last close before the board run


def _settings(test_data):
    return parse_settings(
        {
            "service": {"source_mode": "sample"},
            "jobs": {
                "letf": {"task": "letf", "cron": "45 8 * * mon-fri", "args": {"phase": "intraday"}},
                "board": {"task": "board", "cron": "50 8 * * mon-fri", "retries": 0},
                "systematic": {"task": "systematic", "cron": "30 17 * * mon-fri", "retries": 0},
                "fp": {
                    "task": "futures_positioning",
                    "cron": "50 15 * * fri",
                    "retries": 0,
                    "trading_days_only": False,
                },
            },
            "gamma": {"underlyings": ["SPX"]},
            "letf": {
                "universe_file": str(
                    test_data / "letf" / "leveraged_etf_data_2026-06-01_trimmed.csv"
                )
            },
            "prices": {"sample_sessions": 800},
            "futures_positioning": {"sample_years": 4},
            "board": {
                "index": "NDX",
                "betas": {"SPX": 0.8, "NDX": 1.0, "QQQ": 1.0},
                "moves_pct": [-5.0, -3.0, -1.0, 0.0, 1.0, 3.0, 5.0],
                "iv_shocks_pts": [0.0],
                "hours_to_close": 4.0,
            },
        },
        env={},
    )


def _publish(settings, store, test_data, systematic_at: datetime = SYSTEMATIC_AT) -> None:
    chain = cboe_csv.read_file(test_data / "options" / "spx_quotedata_2023-09-14_trimmed.csv")
    params = gamma_params(settings, "SPX", chain.as_of)
    ctx = TaskContext(
        settings=settings,
        store=store,
        now=NOW.to_pydatetime(),
        job="test",
        slot="t",
        log=logging.getLogger("test"),
    )
    publish_report(ctx, "SPX", chain, analyze(chain, params), False, {}, params)
    assert run_job(settings, store, "letf", now=NOW.to_pydatetime()).status == "ok"
    assert run_job(settings, store, "systematic", now=systematic_at).status == "ok"
    assert run_job(settings, store, "fp", now=NOW.to_pydatetime()).status == "ok"


def test_components_carry_their_horizon_and_totals_never_mix(test_data, store) -> None:
    settings = _settings(test_data)
    _publish(settings, store, test_data)
    rec = run_job(settings, store, "board", now=NOW.to_pydatetime())
    assert rec.status == "ok", rec.error
    res = store.read("board.scenarios")
    comp = res.table("systematic").set_index("component")
    totals = res.table("totals")
    flag = totals[
        np.isclose(totals["iv_shock_pts"], 0.0) & np.isclose(totals["index_move_pct"], -3.0)
    ].iloc[0]
    assert comp.loc["dealers", "usd"] == pytest.approx(
        flag["dealer_gamma_usd"] + flag["dealer_vanna_usd"] + flag["dealer_charm_usd"]
    )
    assert comp.loc["leveraged ETFs", "usd"] == pytest.approx(flag["letf_usd"])
    assert comp.loc["VIX ETPs", "usd"] == pytest.approx(
        store.meta("vixetp.flows").headline["rebalance_usd"]
    )
    # NDX -3 % is SPX -2.4 % (betas 0.8 / 1.0): between the grid's -2.5 and -2.0 points, 1/5 of the way
    grid = store.read("volcontrol.SPX").table("shock_grid").set_index("shock_pct")
    by_hand = grid.loc[-2.5, "flow_1w_usd"] + (0.1 / 0.5) * (
        grid.loc[-2.0, "flow_1w_usd"] - grid.loc[-2.5, "flow_1w_usd"]
    )
    assert comp.loc["vol-control funds", "usd"] == pytest.approx(by_hand, rel=1e-12)
    cta = store.read("cta.SPX").table("shock_grid").set_index("shock_pct")
    assert comp.loc["CTAs", "usd"] == pytest.approx(
        cta.loc[-2.5, "flow_usd"] + 0.2 * (cta.loc[-2.0, "flow_usd"] - cta.loc[-2.5, "flow_usd"]),
        rel=1e-12,
    )
    assert (
        comp.loc["vol-control funds", "horizon"] == "next sessions (lagged)"
        and comp.loc["CTAs", "horizon"] == "this week"
    )
    assert (
        comp.loc["dealers", "horizon_group"] == "today"
        and comp.loc["VIX ETPs", "instrument"] == "VX futures"
    )
    ht = res.table("horizon_totals").set_index(["horizon_group", "instrument"])
    assert ht.loc[("today", "index futures / stocks"), "usd"] == pytest.approx(
        comp.loc["dealers", "usd"] + comp.loc["leveraged ETFs", "usd"]
    )
    assert ht.loc[("this week", "index futures / stocks"), "usd"] == pytest.approx(
        comp.loc["vol-control funds", "usd"] + comp.loc["CTAs", "usd"]
    )
    assert ht.loc[("today", "VX futures"), "usd"] == pytest.approx(
        comp.loc["VIX ETPs", "usd"]
    )  # never added to index flows
    h = res.meta.headline
    assert h["today_index_usd_at_flag_move"] == pytest.approx(
        ht.loc[("today", "index futures / stocks"), "usd"]
    )
    assert h["week_index_usd_at_flag_move"] == pytest.approx(
        ht.loc[("this week", "index futures / stocks"), "usd"]
    )
    assert (
        h["cta_nearest_trigger_distance_pct"]
        == store.meta("cta.SPX").headline["nearest_trigger_distance_pct"]
    )
    # positioning panel: ES and ZN beside each other with their 3-year extremes
    pos = res.table("positioning")
    fp = store.read("cftc.futures_positioning")
    latest, ext = fp.table("latest"), fp.table("extremes")
    es = pos[(pos["market"] == "ES") & (pos["trader_class"] == "asset_manager")].iloc[0]
    want = latest[(latest["symbol"] == "ES") & (latest["trader_class"] == "asset_manager")].iloc[0]
    e3 = ext[
        (ext["symbol"] == "ES") & (ext["trader_class"] == "asset_manager") & (ext["window"] == "3y")
    ].iloc[0]
    assert es["net"] == want["net_contracts"] and es["percentile_3y"] == want["percentile_3y"]
    assert es["distance_to_max"] == pytest.approx(e3["distance_to_max_contracts"])
    assert set(pos["panel"]) >= {"equity index", "rates"}
    zn = pos[(pos["market"] == "ZN") & (pos["trader_class"] == "leveraged_funds")].iloc[0]
    assert zn["exposure_unit"].startswith("USD per basis point")


def test_stale_systematic_inputs_are_left_out_with_the_reason(test_data, store) -> None:
    settings = _settings(test_data)
    # as of Friday 2026-11-20: older than the session before the last close (Tue 11-24; Wed 11-25 is the last)
    _publish(settings, store, test_data, systematic_at=datetime(2026, 11, 20, 17, 45, tzinfo=NY))
    assert run_job(settings, store, "board", now=NOW.to_pydatetime()).status == "ok"
    comp = store.read("board.scenarios").table("systematic").set_index("component")
    for name in ("VIX ETPs", "vol-control funds", "CTAs"):
        assert not comp.loc[name, "included"] and "stale" in comp.loc[name, "note"]
    ht = store.read("board.scenarios").table("horizon_totals")
    assert set(ht["horizon_group"]) == {"today"}  # no this-week total from stale inputs
    assert store.meta("board.scenarios").headline["week_index_usd_at_flag_move"] is None
