"""Input quality of the leveraged-ETF task and commands: published, enforced, printed; --move checks.

Real Redis (``store``), the real CLI (click's runner), real trimmed files from ``tests/data/letf``
and the local HTTP server for the ProShares endpoint.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from flows.sources import letf_universe
from jobs.cli import main
from jobs.commands.scenario import scenario
from jobs.config import parse_settings
from jobs.runner import run_job
from tests.httpserver import Reply

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 2, 15, 30, tzinfo=NY)


def _universe(test_data) -> Path:
    return test_data / "letf" / "leveraged_etf_data_2026-06-01_trimmed.csv"


def _settings(extra: dict | None = None, **service):
    data = {
        "service": {"source_mode": "sample", "sample_seed": 11, **service},
        "jobs": {
            "letf_final": {
                "task": "letf",
                "cron": "30 15 * * mon-fri",
                "retries": 0,
                "args": {"phase": "final"},
            }
        },
    }
    data.update(extra or {})
    return parse_settings(data, env={})


def _damaged(tmp_path: Path, src: Path, ticker: str, column: str, value: str) -> Path:
    from tests.corpus import harness

    text = src.read_text(encoding="utf-8-sig")
    row = [i for i, line in enumerate(text.splitlines()[1:]) if line.startswith(ticker + ",")]
    out = tmp_path / f"{ticker}_{column}.csv"
    out.write_text(harness.set_cells(text, 0, row, column, value), encoding="utf-8")
    return out


# -- the task ---------------------------------------------------------------------------------
def test_task_publishes_quality_and_excluded_assets(store, test_data) -> None:
    settings = _settings({"letf": {"universe_file": str(_universe(test_data))}})
    record = run_job(settings, store, "letf_final", now=NOW)
    assert record.status == "ok", record.error
    result = store.read("letf.flows")
    meta = result.meta
    assert (
        meta.quality["basis"] == "AUM"
        and meta.quality["skipped_rows"] == 0
        and meta.quality["total_rows"] == 87
    )
    assert meta.headline["quality_skipped_share"] == 0.0 and meta.headline["quality_warnings"] == 0
    left = result.table("excluded_aum")
    h = meta.headline
    assert h["excluded_aum_usd"] == pytest.approx(float(left["aum_usd"].sum()))
    assert h["universe_aum_usd"] == pytest.approx(h["included_aum_usd"] + h["excluded_aum_usd"])
    assert h["excluded_not_daily_aum_usd"] == pytest.approx(
        float(left.loc[left["category"].str.startswith("reset: "), "aum_usd"].sum())
    )
    funds = result.table("funds")
    assert "MQQQ" not in set(funds["ticker"]) and "TQQQ" in set(funds["ticker"])
    excluded = result.table("excluded").set_index("ticker")
    assert (
        excluded.loc["MQQQ", "reset"] == "monthly"
        and excluded.loc["MQQQ", "exclusion"] == "reset: monthly"
    )
    assert excluded.loc["NVDW", "reason"].startswith("weekly reset")
    assert meta.units["excluded_aum"]["aum_usd"] == "USD"


def test_task_refuses_a_damaged_universe_and_keeps_the_last_good_result(
    store, test_data, tmp_path
) -> None:
    good = _settings({"letf": {"universe_file": str(_universe(test_data))}})
    assert run_job(good, store, "letf_final", now=NOW).status == "ok"
    before = store.meta("letf.flows")
    damaged = _damaged(tmp_path, _universe(test_data), "TQQQ", "leverage", "-")
    bad = _settings({"letf": {"universe_file": str(damaged)}})
    record = run_job(bad, store, "letf_final", now=NOW, sleep=lambda _s: None)
    assert (
        record.status == "failed"
        and "refused" in record.error
        and "leverage not readable" in record.error
    )
    meta = store.meta("letf.flows")
    assert meta.status == "stale" and meta.version == before.version


def test_task_threshold_override_lets_a_small_loss_through_with_its_share(
    store, test_data, tmp_path
) -> None:
    damaged = _damaged(tmp_path, _universe(test_data), "TQQQ", "leverage", "-")
    settings = _settings(
        {"letf": {"universe_file": str(damaged)}, "quality": {"overrides": {"letf": 0.5}}}
    )
    record = run_job(settings, store, "letf_final", now=NOW)
    assert record.status == "ok", record.error
    meta = store.meta("letf.flows")
    assert meta.quality["skipped_rows"] == 1 and meta.quality["reasons"] == {
        "leverage not readable": 1
    }
    assert (
        meta.headline["quality_skipped_share"] == pytest.approx(meta.quality["skipped_share"])
        and meta.quality["skipped_share"] > 0.2
    )


def test_live_nav_damage_is_a_warning_and_a_bad_drop_file_fails_the_job(
    store, http_server, test_data, tmp_path
) -> None:
    universe = tmp_path / "universe.csv"
    universe.write_text(
        "ticker,name,underlying,leverage,issuer,fund_type,asset_class,aum_usd\n"
        "SSO,ProShares Ultra S&P500,SPY,2,ProShares,Index,equity,8343340000\n"
        "MQQQ,Tradr 2X Long Innovation 100 Monthly ETF,QQQ,2,Tradr ETFs,Index,equity,327355000\n"
    )
    nav = (test_data / "letf" / "proshares_SSO-historical_nav_trimmed.csv").read_text()
    lines = nav.splitlines(keepends=True)
    damaged = (
        lines[0] + lines[1].replace("87.462", "-") + "".join(lines[2:])
    )  # newest NAV unreadable
    http_server.route("/nav/SSO-historical_nav.csv", [Reply(200, damaged.encode())])
    spy = {
        "timestamp": "2026-06-02 19:30:00",
        "data": {
            "symbol": "SPY",
            "current_price": 594.0,
            "prev_day_close": 600.0,
            "last_trade_time": "2026-06-02T15:29:59",
        },
    }
    http_server.route("/q/SPY.json", [Reply(200, json.dumps(spy))])
    drop = tmp_path / "drop"
    drop.mkdir()
    settings = _settings(
        {
            "letf": {
                "universe_file": str(universe),
                "quote_url": http_server.url + "/q/{symbol}.json",
                "proshares_url": http_server.url + "/nav/{ticker}-historical_nav.csv",
            }
        },
        source_mode="live",
        drop_dir=str(drop),
        http_min_interval_seconds=0.0,
        http_retries=0,
    )
    record = run_job(settings, store, "letf_final", now=NOW)
    assert record.status == "ok", record.error
    result = store.read("letf.flows")
    warnings = result.meta.quality["warnings"]
    assert any("proshares:SSO" in w and "NAV not a number" in w for w in warnings)
    assert any("latest usable date 2025-05-09" in w for w in warnings)
    funds = result.table("funds").set_index("ticker")
    assert funds.loc["SSO", "aum_usd"] == pytest.approx(
        5_168_396_440
    )  # 05/09/2025: the newest usable row
    assert set(funds.index) == {"SSO"}  # MQQQ (monthly) never quoted nor counted
    # a dropped assets file whose rows cannot be read: refused, the job fails, last result stays
    (drop / "letf_aum.csv").write_text("ticker,aum_usd\nSSO,-\nMQQQ,abc\n")
    version = store.meta("letf.flows").version
    record = run_job(settings, store, "letf_final", now=NOW, sleep=lambda _s: None)
    assert (
        record.status == "failed" and "letf_aum.csv" in record.error and "refused" in record.error
    )
    assert (
        store.meta("letf.flows").version == version and store.meta("letf.flows").status == "stale"
    )


# -- the command ------------------------------------------------------------------------------
def test_cli_prints_quality_and_excluded_assets(test_data) -> None:
    res = CliRunner().invoke(main, ["letf", str(_universe(test_data))])
    assert res.exit_code == 0, res.output
    assert "quality: 87 rows, none skipped" in res.output
    assert "assets left out of every daily figure:" in res.output and "reset: monthly" in res.output
    doc = json.loads(CliRunner().invoke(main, ["letf", str(_universe(test_data)), "--json"]).stdout)
    assert {"skipped_rows", "skipped_share", "warnings"} <= set(doc["quality"])
    assert doc["universe_aum_usd"] == pytest.approx(
        doc["included_aum_usd"] + doc["excluded_aum_usd"]
    )
    assert [r["reset"] for r in doc["by_reset"]] == [
        "daily",
        "weekly",
        "monthly",
        "quarterly",
        "options-based",
        "unknown",
    ]


def test_cli_refusal_exits_2_with_the_reason(test_data, tmp_path) -> None:
    damaged = _damaged(tmp_path, _universe(test_data), "TQQQ", "aum", "n/a")
    res = CliRunner().invoke(main, ["letf", str(damaged), "--json"])
    assert res.exit_code == 2
    assert (
        res.output.startswith(f"error: {damaged}: refused:") and "assets not readable" in res.output
    )


def test_cli_warns_and_counts_a_small_loss(test_data, tmp_path) -> None:
    damaged = _damaged(tmp_path, _universe(test_data), "CONL", "direction", "")
    res = CliRunner().invoke(main, ["letf", str(damaged)])
    assert res.exit_code == 0, res.output
    assert "1 of 87 rows skipped" in res.output and "direction not long/short" in res.output
    doc = json.loads(CliRunner().invoke(main, ["letf", str(damaged), "--json"]).stdout)
    assert doc["quality"]["skipped_rows"] == 1 and 0 < doc["quality"]["skipped_share"] < 0.01
    assert any(
        e["ticker"] == "CONL" and e["reason"].startswith("import, line") for e in doc["excluded"]
    )
    assert {r["category"]: r for r in doc["excluded_aum"]}["input row skipped (bad data)"][
        "funds"
    ] == 1


def test_cli_nav_and_aum_files_override_assets(test_data, tmp_path) -> None:
    u = _universe(test_data)
    nav = test_data / "letf" / "proshares_SSO-historical_nav_trimmed.csv"
    base = json.loads(CliRunner().invoke(main, ["letf", str(u), "--json"]).stdout)
    with_nav = json.loads(
        CliRunner().invoke(main, ["letf", str(u), "--nav", str(nav), "--json"]).output
    )
    sso_file = float(letf_universe.read(u).funds.set_index("ticker").loc["SSO", "aum_usd"])
    # SSO: +2x, L^2 - L = 2: the per-1% total moves by (A_nav - A_file) * 2 * 1 %
    assert with_nav["per_1pct_usd"] - base["per_1pct_usd"] == pytest.approx(
        (5_505_732_900 - sso_file) * 2 * 0.01, rel=1e-9
    )
    aum = tmp_path / "aum.csv"
    aum.write_text("ticker,aum_usd\nSSO,1000000000\nNOTAFUND,5\n")
    both = json.loads(
        CliRunner()
        .invoke(main, ["letf", str(u), "--nav", str(nav), "--aum", str(aum), "--json"])
        .output
    )
    assert both["per_1pct_usd"] - base["per_1pct_usd"] == pytest.approx(
        (1e9 - sso_file) * 2 * 0.01, rel=1e-9
    )  # --aum wins
    assert any("NOTAFUND" in w for w in both["quality"]["warnings"])


@pytest.mark.parametrize(
    ("move", "message"),
    [
        ("NVDA=-170", "outside the plausible range [-100, 100] percent"),
        ("NVDA=150%", "outside the plausible range [-100, 100] percent"),
        ("NVDA=nan", "expected SYMBOL=PCT"),
        ("NVDAX=-3", "unknown symbol 'NVDAX'"),
        ("ZZZZ=1", "unknown symbol 'ZZZZ'"),
    ],
)
def test_cli_move_is_validated(test_data, move: str, message: str) -> None:
    res = CliRunner().invoke(main, ["letf", str(_universe(test_data)), "--move", move])
    assert res.exit_code == 2 and res.output.startswith("error: --move") and message in res.output
    if "unknown symbol" in message:
        assert "known (" in res.output and "NVDA" in res.output and "QQQ" in res.output


def test_cli_move_known_symbols_and_index_mapping(test_data) -> None:
    res = CliRunner().invoke(
        main,
        [
            "letf",
            str(_universe(test_data)),
            "--move",
            "SPX=-2",
            "--move",
            "nvda=-17",
            "--move",
            "QQQ=20",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    rows = {r["underlying"]: r for r in json.loads(res.stdout)["by_underlying"]}
    assert rows["SPY"]["rebalance_usd"] == pytest.approx(
        rows["SPY"]["per_1pct_usd"] * -2
    )  # SPX -> SPY
    assert rows["NVDA"]["rebalance_usd"] == pytest.approx(rows["NVDA"]["per_1pct_usd"] * -17)
    assert rows["QQQ"]["rebalance_usd"] == pytest.approx(
        rows["QQQ"]["per_1pct_usd"] * 20
    )  # every QQQ fund survives +20 % (|L| <= 3)


# -- flowdesk scenario --move ---------------------------------------------------------------------
@pytest.fixture
def scenario_env(tmp_path, monkeypatch, redis_url):
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[service]\nsource_mode = "sample"\n[gamma]\nunderlyings = ["SPX", "SPY"]\n[board]\nindex = "NDX"\nbetas = { SPX = 0.8, SPY = 0.8, QQQ = 1.0 }\nhours_to_close = 0.0\n'
    )
    monkeypatch.setenv("FLOWDESK_CONFIG", str(cfg))
    monkeypatch.setenv("REDIS_URL", redis_url)


@pytest.mark.parametrize(
    ("move", "message"), [("SPX=-300", "[-100, 100]"), ("SPX=+101%", "[-100, 100]")]
)
def test_scenario_move_out_of_range_exits_2(scenario_env, move: str, message: str) -> None:
    res = CliRunner().invoke(scenario, ["--move", move])
    assert res.exit_code == 2 and message in res.output


def test_scenario_unknown_symbol_exits_2_naming_the_known_ones(scenario_env, store) -> None:
    run_job(
        _settings(), store, "letf_final", now=NOW
    )  # cached leveraged-ETF funds add their underlyings
    res = CliRunner().invoke(scenario, ["--move", "FOO=-3"])
    assert res.exit_code == 2
    assert res.output.startswith("error: --move: FOO: unknown symbol 'FOO'")
    for known in ("NDX", "SPX", "SPY", "QQQ", "NVDA"):
        assert known in res.output


def test_cli_move_past_minus_one_over_leverage_liquidates_and_warns(test_data) -> None:
    """A -40 % QQQ day wipes a 3x fund out (1 + 3 x -0.4 < 0): it sells what it holds after the move,
    3 x A x 0.6, not A x 6 x 0.4, and the output says so (a field report: -$94.44 bn printed for a
    fund holding $70.83 bn)."""
    case = test_data / "letf" / "leveraged_etf_data_2026-06-01_trimmed.csv"
    res = CliRunner().invoke(main, ["letf", str(case), "--move", "QQQ=-40", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert any(
        "wiped out by the move" in w and "TQQQ (+3x, -40%)" in w for w in doc["quality"]["warnings"]
    )
    row = next(r for r in doc["by_underlying"] if r["underlying"] == "QQQ")
    assert abs(row["rebalance_usd"]) < abs(
        row["per_1pct_usd"] * 40
    )  # less than the formula's linear figure


def test_cli_move_given_twice_is_refused(test_data) -> None:
    res = CliRunner().invoke(
        main, ["letf", str(_universe(test_data)), "--move", "QQQ=-3", "--move", "qqq=-5"]
    )
    assert res.exit_code == 2 and "moved twice" in res.output
    res = CliRunner().invoke(
        main, ["letf", str(_universe(test_data)), "--move", "SPX=-3", "--move", "SPY=-5"]
    )  # SPX maps to SPY
    assert res.exit_code == 2 and "moved twice (as SPY)" in res.output


def test_scenario_move_given_twice_exits_2(scenario_env) -> None:
    res = CliRunner().invoke(scenario, ["--move", "SPX=-3", "--move", "spx=-5"])
    assert res.exit_code == 2 and "SPX moved twice" in res.output
