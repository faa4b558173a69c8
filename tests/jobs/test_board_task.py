"""Board and brief tasks on real Redis, with the real SPX chain and a real leveraged-ETF universe
(trimmed copies in tests/data, see the PROVENANCE.md files there)."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from flows import scenarios
from flows.gamma import analyze
from flows.sources import cboe_csv
from jobs.commands.scenario import scenario
from jobs.config import parse_settings
from jobs.runner import run_job
from jobs.store import ResultStore, keys
from jobs.tasks import TaskContext
from jobs.tasks import board as board_task
from jobs.tasks.gamma import gamma_params, publish_report
from tests.reference import scenarios_reference

NOW = pd.Timestamp("2026-11-27 12:00", tz="America/New_York")


def _settings(test_data, **board):
    return parse_settings(
        {
            "service": {"source_mode": "sample"},
            "jobs": {
                "letf": {"task": "letf", "cron": "45 8 * * mon-fri", "args": {"phase": "intraday"}},
                "board": {"task": "board", "cron": "50 8 * * mon-fri", "retries": 0},
                "brief": {"task": "brief", "cron": "55 8 * * mon-fri", "retries": 0},
            },
            "gamma": {"underlyings": ["SPX", "SPY"]},
            "letf": {
                "universe_file": str(
                    test_data / "letf" / "leveraged_etf_data_2026-06-01_trimmed.csv"
                )
            },
            "board": {
                "index": "NDX",
                "betas": {"SPX": 0.8, "SPY": 0.8, "QQQ": 1.0},
                "moves_pct": [-5.0, -3.0, -1.0, 0.0, 1.0, 3.0, 5.0],
                "iv_shocks_pts": [0.0, 5.0],
                "hours_to_close": 4.0,
                "brief_documents": False,
                **board,
            },
        },
        env={},
    )


@pytest.fixture()
def published(test_data, store: ResultStore):
    settings = _settings(test_data)
    chain = cboe_csv.read_file(test_data / "options" / "spx_quotedata_2023-09-14_trimmed.csv")
    params = gamma_params(settings, "SPX", chain.as_of)
    report = analyze(chain, params)
    ctx = TaskContext(
        settings=settings,
        store=store,
        now=NOW.to_pydatetime(),
        job="test",
        slot="t",
        log=logging.getLogger("test"),
    )
    publish_report(ctx, "SPX", chain, report, False, {}, params)
    assert run_job(settings, store, "letf", now=NOW.to_pydatetime()).status == "ok"
    return settings, chain, report


def test_board_totals_match_independent_sums(published, store: ResultStore) -> None:
    settings, chain, report = published
    record = run_job(settings, store, "board", now=NOW.to_pydatetime())
    assert record.status == "ok", record.error
    res = store.read("board.scenarios")
    grid = res.table("grid")
    np.testing.assert_allclose(
        grid[list(scenarios.COMPONENTS)].sum(axis=1), grid["total_usd"], atol=1e-6
    )

    # The published board, scenario by scenario, against the plain reference fed with the
    # published inputs (the SPX contracts table and the leveraged-ETF funds table)
    spx_res = store.read("gamma.SPX", tables=["contracts"])
    head = spx_res.meta.headline
    books = {
        "SPX": scenarios_reference.book(
            spx_res.table("contracts").to_dict("records"),
            float(head["spot"]),
            float(head["r"]),
            float(head["q"]),
        )
    }
    funds = store.read("letf.flows", tables=["funds"]).frame
    funds = funds[funds["group"] == "equity"].to_dict("records")
    cfg = settings.board
    assert cfg.hours_to_close == 4.0  # configured: the board uses it as the time to the close
    want = scenarios_reference.board(
        books,
        funds,
        cfg.moves_pct,
        cfg.betas,
        shocks_pts=cfg.iv_shocks_pts,
        hours=cfg.hours_to_close,
        default_beta=cfg.default_beta,
    )
    published_totals = res.table("totals")
    assert len(published_totals) == len(want)
    for row in published_totals.itertuples():
        expected = want[(row.index_move_pct, row.iv_shock_pts)]["TOTAL"]
        for col in (*scenarios.COMPONENTS, "total_usd"):
            assert getattr(row, col) == pytest.approx(expected[col], rel=1e-9, abs=1.0), (
                row.index_move_pct,
                row.iv_shock_pts,
                col,
            )

    # Dealer part for SPX at an NDX move of -5 %: SPX moves -4 %; the gamma engine's own hedge
    # flow table gives the price component for -4 % (full re-pricing, same book).
    spx = grid[
        (grid["underlying"] == "SPX")
        & (grid["index_move_pct"] == -5.0)
        & (grid["iv_shock_pts"] == 0.0)
    ].iloc[0]
    assert spx["move_pct"] == pytest.approx(-4.0)
    engine = report.hedge_flow.set_index("move_pct").loc[-4.0, "dealer_trade_usd"]
    assert spx["dealer_gamma_usd"] == pytest.approx(engine, rel=1e-9)
    assert spx["dealer_charm_usd"] != 0.0  # four hours of decay to the close

    # Leveraged-ETF part for QQQ (beta 1) at -3 %: a plain sum over the published funds table.
    funds = store.read("letf.flows", tables=["funds"]).frame
    expected = sum(
        a * (lev * lev - lev) * -0.03
        for a, lev, u in zip(funds["aum_usd"], funds["leverage"], funds["underlying"], strict=True)
        if u == "QQQ" and math.isfinite(a)
    )
    qqq = grid[
        (grid["underlying"] == "QQQ")
        & (grid["index_move_pct"] == -3.0)
        & (grid["iv_shock_pts"] == 0.0)
    ].iloc[0]
    assert qqq["letf_usd"] == pytest.approx(expected, rel=1e-9)
    assert qqq["dealer_gamma_usd"] == 0.0  # no QQQ chain published

    tot = res.table("totals")
    row = tot[(tot["index_move_pct"] == -3.0) & (tot["iv_shock_pts"] == 0.0)].iloc[0]
    assert row["total_usd"] == pytest.approx(
        grid[(grid["index_move_pct"] == -3.0) & (grid["iv_shock_pts"] == 0.0)]["total_usd"].sum()
    )
    assert res.meta.headline["total_usd_at_flag_move"] == pytest.approx(row["total_usd"])
    assert res.meta.units["grid"]["total_pct_adv"] == "% of ADV"
    inputs = res.table("inputs").set_index("name")
    assert inputs.loc["gamma.SPX", "included"] and inputs.loc["letf.flows", "included"]
    assert not inputs.loc["gamma.SPY", "included"] and "missing" in inputs.loc["gamma.SPY", "note"]


def test_stale_input_is_flagged_and_left_out(published, store: ResultStore) -> None:
    settings, _chain, _report = published
    store.mark_failed(
        "gamma.SPX", "SourceError: cdn.cboe.com: gave up (HTTP 503)", job="gamma_intraday"
    )
    assert run_job(settings, store, "board", now=NOW.to_pydatetime()).status == "ok"
    res = store.read("board.scenarios")
    grid = res.table("grid")
    assert (grid.loc[grid["underlying"] == "SPX", "dealer_gamma_usd"] == 0).all()
    flags = res.table("flags")
    stale = flags[flags["kind"] == "stale_input"]
    assert "gamma.SPX" in set(stale["underlying"])
    assert "HTTP 503" in " ".join(stale["message"])
    assert res.meta.headline["stale_inputs"] == 3  # SPX stale; SPY and cftc.net_usd never published


def test_board_fails_clearly_without_inputs_and_keeps_last_good(
    store: ResultStore, published
) -> None:
    settings, _c, _r = published
    assert run_job(settings, store, "board", now=NOW.to_pydatetime()).status == "ok"
    good = store.meta("board.scenarios").version
    for name in ("gamma.SPX", "letf.flows"):
        store.redis.delete(keys.result_current(name))
    record = run_job(settings, store, "board", now=NOW.to_pydatetime())
    assert record.status == "failed"
    assert "no usable equity input" in record.error
    meta = store.meta("board.scenarios")
    assert meta.version == good and meta.status == "stale"


def test_brief_history_changes_and_digest(published, store: ResultStore) -> None:
    settings, _c, _r = published
    assert run_job(settings, store, "board", now=NOW.to_pydatetime()).status == "ok"
    first = run_job(settings, store, "brief", now=NOW.to_pydatetime())
    assert first.status == "ok", first.error
    b1 = store.read("board.brief")
    assert (
        "SPX: long gamma" in b1.meta.headline["text"]
        or "SPX: short gamma" in b1.meta.headline["text"]
    )
    assert b1.table("changes").empty  # nothing to compare with yet
    # a second brief after SPX moved: the change is listed
    chain = cboe_csv.read_file(
        _test_data(settings) / "options" / "spx_quotedata_2024-01-07_trimmed.csv"
    )
    params = gamma_params(settings, "SPX", chain.as_of)
    ctx = TaskContext(
        settings=settings,
        store=store,
        now=NOW.to_pydatetime(),
        job="t",
        slot="t",
        log=logging.getLogger("t"),
    )
    publish_report(ctx, "SPX", chain, analyze(chain, params), False, {}, params)
    assert run_job(settings, store, "brief", now=NOW.to_pydatetime()).status == "ok"
    b2 = store.read("board.brief")
    changes = b2.table("changes")
    assert "SPX net GEX (USD per 1%)" in set(changes["figure"])
    assert len(store.history("board.brief")) == 2
    events = [json.loads(e) for e in store.redis.lrange(keys.alert_events(), 0, -1)]
    assert sum(e["kind"] == "digest" for e in events) == 2


def _test_data(settings) -> object:
    from pathlib import Path

    return Path(settings.letf.universe_file).parent.parent


def test_scenario_cli_reads_cached_results(
    published, store: ResultStore, redis_url: str, tmp_path, monkeypatch
) -> None:
    settings, _c, report = published
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        """
[service]
source_mode = "sample"
[gamma]
underlyings = ["SPX", "SPY"]
[board]
index = "NDX"
betas = { SPX = 0.8, SPY = 0.8, QQQ = 1.0 }
hours_to_close = 0.0
"""
    )
    monkeypatch.setenv("FLOWDESK_CONFIG", str(cfg))
    monkeypatch.setenv("REDIS_URL", redis_url)
    out = CliRunner().invoke(scenario, ["--move", "SPX=-3%", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data) >= {"move", "total_usd", "components", "by_underlying", "flags", "inputs"}
    assert data["move"] == {"SPX": -3.0}
    assert set(data["components"]) == set(scenarios.COMPONENTS)
    assert data["total_usd"] == pytest.approx(sum(data["components"].values()))
    rows = {r["underlying"]: r for r in data["by_underlying"]}
    assert rows["SPX"]["move_pct"] == pytest.approx(-3.0)
    assert rows["QQQ"]["move_pct"] == pytest.approx(-3.75)  # index move -3 / 0.8, beta 1
    engine = report.hedge_flow.set_index("move_pct").loc[-3.0, "dealer_trade_usd"]
    assert rows["SPX"]["dealer_gamma_usd"] == pytest.approx(engine, rel=1e-9)
    assert {i["name"] for i in data["inputs"]} >= {"gamma.SPX", "letf.flows", "cftc.net_usd"}
    text = CliRunner().invoke(scenario, ["--move", "SPX=-3%", "--move", "QQQ=-4"])
    assert text.exit_code == 0 and "Mechanical flow:" in text.output
    assert (
        " bn USD (+ = buying)" in text.output and "-3.00%" in text.output
    )  # written by the declared units
    bad = CliRunner().invoke(scenario, ["--move", "SPX minus 3"])
    assert bad.exit_code == 2 and "SYMBOL=PCT" in bad.output
    # the flags state the move used, never "an index move of +0%"
    assert all("+0%" not in f["message"] for f in data["flags"])
    assert all(
        "SPX -3% (index-equivalent NDX -3.75%)" in f["message"]
        for f in data["flags"]
        if f["kind"] in ("amplifying", "letf_heavy")
    )
    unknown = CliRunner().invoke(scenario, ["--move", "ZZZZ=-3%"])
    assert unknown.exit_code == 2 and "unknown symbol 'ZZZZ'" in unknown.output
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    down = CliRunner().invoke(scenario, ["--move", "SPX=-3%"])
    assert down.exit_code == 3 and "cannot reach Redis" in down.output


def test_board_keeps_rows_without_adv_and_reads_the_sign_change(
    published, store: ResultStore, test_data
) -> None:
    """SPX has no ADV in the leveraged-ETF volume file: its row stays in the ranking, saying so;
    ``[board] adv_usd`` (index futures' dollar volume) gives it one.  The headline's sign changes
    are those of the published totals."""
    settings, _chain, _report = published
    assert run_job(settings, store, "board", now=NOW.to_pydatetime()).status == "ok"
    res = store.read("board.scenarios")
    rank = res.table("ranking").set_index("underlying")
    grid_names = set(res.table("grid")["underlying"])
    assert grid_names == set(rank.index)  # nothing dropped
    assert np.isnan(rank.loc["SPX", "flow_per_1pct_pct_adv"]) and rank.loc[
        "SPX", "adv_note"
    ].startswith("no ADV")
    head = res.meta.headline
    assert (
        head["dealer_flow_sign_change_down_pct"],
        head["dealer_flow_sign_change_up_pct"],
    ) == scenarios.dealer_sign_changes(res.table("totals"))

    with_adv = _settings(test_data, adv_usd={"SPX": 4.0e11})
    assert run_job(with_adv, store, "board", now=NOW.to_pydatetime()).status == "ok"
    rank = store.read("board.scenarios").table("ranking").set_index("underlying")
    assert rank.loc["SPX", "adv_usd"] == 4.0e11 and rank.loc["SPX", "adv_note"] == ""
    assert rank.loc["SPX", "flow_per_1pct_pct_adv"] == pytest.approx(
        rank.loc["SPX", "flow_per_1pct_usd"] / 4.0e11 * 100.0
    )


def test_expiry_calendar_of_the_real_chains_lists_only_what_rolls_off(test_data) -> None:
    """The board's calendar (:func:`jobs.tasks.board.levels_tables`) on the real SPX and SPY
    slices of Thu 2023-09-14 (expiries kept: SPX 09-15, 09-18, 09-22, 10-20, 2025-12-19; SPY
    09-15, 09-22, 10-06, 10-13, 2026-01-16).

    Events of the next four months: OPEX 09-15, 10-20, 11-17, 12-15; VIX expiries 09-20, 10-18,
    11-15, 12-20; quarter end 09-29, 12-29.  Only the September OPEX (both) and the October OPEX
    (SPX) have expiries in the slices: the VIX expiries and quarter ends (no SPX Wednesday or
    quarter-end expiry in the slice, no VIX options) are not listed, and no row is zero.  Each
    row equals the by-expiry table's row of that date and underlying."""
    settings = _settings(test_data, hours_to_close=None)
    inp = board_task.BoardInputs()
    for u, name in (
        ("SPX", "spx_quotedata_2023-09-14_trimmed.csv"),
        ("SPY", "spy_quotedata_2023-09-14_trimmed.csv"),
    ):
        chain = cboe_csv.read_file(test_data / "options" / name)
        report = analyze(chain, gamma_params(settings, u, chain.as_of))
        inp.gamma_headlines[u] = report.headline
        inp.gamma_by_expiry[u] = report.by_expiry
        inp.books[u] = scenarios.dealer_book(
            report.contracts, underlying=u, spot=float(report.headline["spot"]), r=0.05, q=0.0
        )
    now = pd.Timestamp("2023-09-14 17:00", tz="America/New_York").to_pydatetime()
    events = board_task.calendar_events(now)
    assert [d.strftime("%m-%d") for d in events["VIX expiry"][:2]] == ["09-20", "10-18"]
    cal = board_task.levels_tables(settings, inp, now)["expiries"]
    got = [
        (d.strftime("%Y-%m-%d"), e, u)
        for d, e, u in zip(cal["date"], cal["events"], cal["underlying"], strict=True)
    ]
    assert got == [
        ("2023-09-15", "OPEX", "SPX"),
        ("2023-09-15", "OPEX", "SPY"),
        ("2023-10-20", "OPEX", "SPX"),
    ]
    for r in cal.itertuples():
        be = inp.gamma_by_expiry[r.underlying]
        on = pd.to_datetime(be["expiry"]).dt.normalize() == r.date
        assert r.expiries == int(on.sum()) == 1
        assert r.net_gex_usd_per_1pct == pytest.approx(
            float(be.loc[on, "net_gex_usd_per_1pct"].sum())
        )
        assert (
            r.gross_gex_usd_per_1pct
            == pytest.approx(float(be.loc[on, "gross_gex_usd_per_1pct"].sum()))
            and r.gross_gex_usd_per_1pct > 0
        )
        assert r.share_of_gross == pytest.approx(
            r.gross_gex_usd_per_1pct / be["gross_gex_usd_per_1pct"].sum()
        )


def _unwind_rows(target: float, scenario: str) -> pd.DataFrame:
    """The cftc unwind rows of the hand-worked two-currency case (flows test): specs long EUR
    2bn, short JPY 1bn, net USD -1bn, reverting to ``target``."""
    from flows import cftc as analytics

    usd = pd.Series({"EUR": 2e9, "JPY": -1e9})
    out = analytics.unwind(usd, -1e9, target)
    out.insert(0, "series", "net_usd_wide9")
    out.insert(1, "scenario", scenario)
    out["target_net_usd"], out["current_net_usd"] = target, -1e9
    return out


def test_fx_unwind_buying_usd_is_explained_on_the_board_and_in_the_brief(test_data) -> None:
    """Net USD -1bn below both targets (median +1bn, zero): each unwind buys USD by selling the
    EUR long; no currency is bought, so the beneficiary ranks are all 0.  The board's extra and
    the brief's FX section carry the sentence saying so (it used to be a bare "none" and a
    column of zeros under a "blue = beneficiaries" caption)."""
    settings = _settings(test_data)
    inp = board_task.BoardInputs()
    inp.inputs.append(board_task._status(None, "cftc.net_usd", "cftc", 240.0, NOW))
    inp.cftc_unwind = pd.concat(
        [_unwind_rows(1e9, "median"), _unwind_rows(0.0, "zero")], ignore_index=True
    )
    fx = board_task._fx_table(inp)
    assert (fx["rank"] == 0).all() and not fx["benefits"].any()
    assert fx.set_index(["scenario", "ccy"]).loc[("median", "EUR"), "currency_flow_usd"] == (
        pytest.approx(-2e9)
    )
    readings = board_task.fx_readings(inp)
    assert list(readings) == ["median", "zero"]
    assert readings["median"].startswith(
        "Net USD rises from -$1.0 bn to +$1.0 bn (its 3-year median): speculators buy $2.0 bn of USD"
    )
    assert readings["zero"].startswith("Net USD rises from -$1.0 bn to $0 (zero)")
    tables = board_task._brief_tables(settings, inp, None)
    tables["changes"] = board_task._changes({}, {})
    fig = board_task.brief_figure(tables, title="t", subtitle="s", notes="", fx_unwind=readings)
    fx_cells = [
        t.cells.values
        for t in fig.data
        if t.type == "table" and list(t.header.values) == ["Unwind to", "No currency is bought"]
    ]
    assert [[list(c) for c in cells] for cells in fx_cells] == [
        [["median", "zero"], [readings["median"], readings["zero"]]]
    ]

    # median below (-3bn): that unwind buys back the JPY short (rank 1); zero still buys USD
    inp.cftc_unwind = pd.concat(
        [_unwind_rows(-3e9, "median"), _unwind_rows(0.0, "zero")], ignore_index=True
    )
    fig = board_task.brief_figure(
        board_task._brief_tables(settings, inp, None) | {"changes": tables["changes"]},
        title="t",
        subtitle="s",
        notes="",
        fx_unwind=board_task.fx_readings(inp),
    )
    (cells,) = [
        [list(c) for c in t.cells.values]
        for t in fig.data
        if t.type == "table" and "Bought in the unwind (USD bn)" in list(t.header.values)
    ]
    assert cells[0] == ["median", "zero"] and cells[1] == ["JPY", "none (the USD is bought)"]
