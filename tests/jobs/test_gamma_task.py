"""The ``gamma`` task through :func:`jobs.runner.run_job` on real Redis (sample and live mode with a
real local HTTP server and a drop folder), and the ``flowdesk gamma`` command on the real files."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from click.testing import CliRunner

from jobs.commands.gamma import JSON_KEYS, gamma
from jobs.config import parse_settings
from jobs.runner import run_job
from jobs.store import ResultStore
from jobs.tasks.gamma import TABLES, gamma_results
from tests.httpserver import Reply
from tests.realdata import full, root, trimmed

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 18, 10, 30, tzinfo=NY)
MSTR = "options/options_MSTR_2026-07-10_trimmed.json"
SPX_FILE = "options/spx_quotedata_2023-09-14_trimmed.csv"
SPY_FILE = "options/spy_quotedata_2023-09-14_trimmed.csv"
"""Trimmed copies of real files in tests/data (PROVENANCE.md there)."""


def _settings(
    underlyings: list[str],
    *,
    mode: str = "sample",
    base_url: str = "http://127.0.0.1:9",
    drop_dir: str = "var/drop",
    **gamma: object,
):
    return parse_settings(
        {
            "service": {
                "source_mode": mode,
                "http_retries": 0,
                "http_min_interval_seconds": 0,
                "http_timeout_seconds": 5,
                "drop_dir": drop_dir,
            },
            "jobs": {
                "gamma_test": {
                    "task": "gamma",
                    "cron": "*/15 9-16 * * 1-5",
                    "retries": 0,
                    "retry_delay_seconds": 0,
                    "args": {"underlyings": underlyings},
                }
            },
            "gamma": {"profile_points": 201, "cboe_base_url": base_url, **gamma},
        },
        env={},
    )


def test_results_function_lists_summary_and_every_underlying() -> None:
    s = _settings(["SPX", "spy"])
    assert gamma_results(s, {"underlyings": ["SPX", "spy"]}) == [
        "gamma.summary",
        "gamma.SPX",
        "gamma.SPY",
    ]
    assert gamma_results(s, {}) == ["gamma.summary"] + [f"gamma.{u}" for u in s.gamma.underlyings]


def test_sample_run_publishes_every_table_with_units(store: ResultStore) -> None:
    settings = _settings(["SPX", "SPY", "NVDA"])
    record = run_job(settings, store, "gamma_test", now=NOW)
    assert record.status == "ok", record.error
    assert set(record.results) == {"gamma.SPX", "gamma.SPY", "gamma.NVDA", "gamma.summary"}
    for u in ("SPX", "SPY", "NVDA"):
        res = store.read(f"gamma.{u}")
        meta = res.meta
        assert meta.tables == list(TABLES)
        assert meta.sample is True
        assert meta.source == (
            f"SAMPLE CBOE delayed quotes {u} (seed {settings.service.sample_seed}, generated "
            "in the CBOE delayed-quotes JSON layout)"
        )
        assert pd.Timestamp(meta.as_of) == pd.Timestamp(NOW)
        for t in TABLES:
            frame = res.table(t)
            assert set(meta.units[t]) == {str(c) for c in frame.columns}, t
            assert all(meta.units[t].values())
        assert meta.units["by_strike"]["net_gex_usd_per_1pct"] == "USD per 1% move"
        assert meta.units["hedge_flow"]["dealer_trade_usd"].startswith("USD")
        h = meta.headline
        assert (
            h["underlying"] == u
            and h["sample"] is True
            and h["convention"] == "calls_long_puts_short"
        )
        for key in (
            "net_gex_usd_per_1pct",
            "flip",
            "call_wall",
            "put_wall",
            "abs_gamma_strike",
            "regime",
            "zero_dte_share",
            "hedge_flow_down3_usd",
        ):
            assert key in h
        # the published net GEX is the by-strike sum, and call + put = net
        by_strike = res.table("by_strike")
        assert by_strike["net_gex_usd_per_1pct"].sum() == pytest.approx(
            h["net_gex_usd_per_1pct"], rel=1e-9
        )
        assert h["call_gex_usd_per_1pct"] + h["put_gex_usd_per_1pct"] == pytest.approx(
            h["net_gex_usd_per_1pct"]
        )
        assert len(res.table("profile")) == 201
        assert len(res.table("hedge_flow")) == 21
        assert meta.extra["params"]["q"] == settings.gamma.dividend_yield.get(u, 0.0)
        assert (
            meta.extra["params"]["next_close"] == "2026-11-18T21:00:00+00:00"
        )  # 16:00 EST that day
        assert meta.extra["sample_seed"] == settings.service.sample_seed
    summary = store.read("gamma.summary").frame
    assert list(summary["underlying"]) == ["SPX", "SPY", "NVDA"]
    assert store.meta("gamma.summary").source == (
        "flowdesk gamma summary of 3 underlyings: gamma.SPX, gamma.SPY, gamma.NVDA"
    )
    assert set(summary["status"]) == {"ok"}
    spx = store.meta("gamma.SPX").headline
    row = summary.set_index("underlying").loc["SPX"]
    assert row["net_gex_usd_per_1pct"] == pytest.approx(spx["net_gex_usd_per_1pct"])
    assert row["spot"] == pytest.approx(spx["spot"])


def test_sample_csv_format_goes_through_the_csv_parser(store: ResultStore) -> None:
    settings = _settings(["QQQ"], sample_format="csv")
    record = run_job(settings, store, "gamma_test", now=NOW)
    assert record.status == "ok", record.error
    meta = store.meta("gamma.QQQ")
    assert meta.extra["sample_format"] == "csv" and meta.sample
    assert meta.source == (
        f"SAMPLE CBOE delayed quotes QQQ (seed {settings.service.sample_seed}, generated in "
        "the CBOE quote table CSV layout)"
    )


def test_live_failure_of_one_underlying_leaves_the_others_and_the_last_good_result(
    store: ResultStore, http_server, test_data: Path, tmp_path: Path
) -> None:
    body = (test_data / MSTR).read_bytes()
    http_server.route("/o/MSTR.json", Reply(200, body, {"Content-Type": "application/json"}))
    http_server.route("/o/ZZZZ.json", Reply(200, body, {"Content-Type": "application/json"}))
    settings = _settings(
        ["MSTR", "ZZZZ"], mode="live", base_url=f"{http_server.url}/o", drop_dir=str(tmp_path)
    )
    first = run_job(settings, store, "gamma_test", now=NOW)
    assert first.status == "ok", first.error
    good = store.meta("gamma.ZZZZ")
    assert good.source == "cboe-json" and good.sample is False
    assert pd.Timestamp(good.as_of) == pd.Timestamp("2026-07-10 21:12:30", tz="UTC")

    # CBOE now answers 404 for ZZZZ: only ZZZZ fails, is marked stale and keeps its last data
    http_server.route("/o/ZZZZ.json", Reply(404, "Not Found"))
    second = run_job(settings, store, "gamma_test", now=NOW.replace(minute=45))
    assert second.status == "partial"
    assert "gamma.ZZZZ" in second.error and "unknown symbol" in second.error
    assert "gamma.MSTR" in second.results and "gamma.ZZZZ" not in second.results
    assert store.meta("gamma.MSTR").status == "ok"
    stale = store.read("gamma.ZZZZ")
    assert stale.meta.status == "stale"
    assert "unknown symbol" in stale.meta.failure["error"]
    assert stale.meta.version == good.version
    assert len(stale.table("by_strike")) > 0
    summary = store.read("gamma.summary").frame.set_index("underlying")
    assert summary.loc["MSTR", "status"] == "ok"
    assert summary.loc["ZZZZ", "status"] == "stale"
    assert "unknown symbol" in summary.loc["ZZZZ", "error"]
    assert summary.loc["ZZZZ", "net_gex_usd_per_1pct"] == pytest.approx(
        good.headline["net_gex_usd_per_1pct"]
    )


def test_drop_folder_file_is_used_and_a_broken_one_fails_only_its_underlying(
    store: ResultStore, http_server, test_data: Path, tmp_path: Path
) -> None:
    http_server.route("/o/MSTR.json", Reply(200, (test_data / MSTR).read_bytes()))
    http_server.route("/o/_SPX.json", Reply(404, "Not Found"))
    http_server.route("/o/SPY.json", Reply(404, "Not Found"))
    (tmp_path / "spx_quotedata_2023-09-14.csv").symlink_to(test_data / SPX_FILE)
    text = (test_data / SPY_FILE).read_text().splitlines()
    text[3] = text[3].replace("Open Interest", "OpenInt", 1)  # a renamed column
    (tmp_path / "spy_quotedata.csv").write_text("\n".join(text[:50]) + "\n")
    settings = _settings(
        ["SPX", "SPY", "MSTR"], mode="live", base_url=f"{http_server.url}/o", drop_dir=str(tmp_path)
    )
    record = run_job(settings, store, "gamma_test", now=NOW)
    assert record.status == "partial"
    assert set(record.results) == {"gamma.SPX", "gamma.MSTR", "gamma.summary"}
    spx = store.meta("gamma.SPX")
    assert spx.source == "cboe-csv:spx_quotedata_2023-09-14.csv"
    assert spx.extra["used"] == "drop folder" and "unknown symbol" in spx.extra["cboe_error"]
    assert spx.headline["spot"] == pytest.approx(4505.1001)
    assert pd.Timestamp(spx.as_of) == pd.Timestamp("2023-09-14 16:31", tz=NY)
    err = record.error
    assert "gamma.SPY" in err and "spy_quotedata.csv" in err and "Open Interest" in err
    with pytest.raises(KeyError):
        store.read("gamma.SPY")  # never published: nothing to fall back to
    summary = store.read("gamma.summary").frame.set_index("underlying")
    assert summary.loc["SPY", "status"] == "failed"


# -- flowdesk gamma FILE ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "name", "rows"),
    [
        trimmed(SPX_FILE, 608, id="trimmed"),
        full("options/spx_quotedata_2023-09-14.csv", 9960, id="full"),
    ],
)
def test_cli_json_keys_on_the_real_spx_file(
    where: str, name: str, rows: int, request: pytest.FixtureRequest
) -> None:
    res = CliRunner().invoke(gamma, [str(root(request, where) / name), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert list(doc) == list(JSON_KEYS)
    assert doc["underlying"] == "SPX"
    assert doc["spot"] == pytest.approx(4505.1001)
    assert pd.Timestamp(doc["as_of"]) == pd.Timestamp("2023-09-14 16:31", tz=NY)
    assert doc["contracts"] + doc["expired_dropped"] + doc["unsolved_dropped"] == 2 * rows
    assert (
        doc["quality"]["total_rows"] == 2 * rows
        and doc["quality"]["skipped_rows"] == 0
        and doc["quality"]["warnings"] == []
    )
    assert doc["regime"] == "long gamma" and 0 < doc["modelled_gamma_share"] < 0.01
    assert doc["expired_dropped"] > 0  # the Sep-14 expiry had settled at 16:31
    assert doc["net_gex_usd_per_1pct"] == pytest.approx(
        doc["call_gex_usd_per_1pct"] + doc["put_gex_usd_per_1pct"]
    )
    assert sum(r["net_gex_usd_per_1pct"] for r in doc["by_expiry"]) == pytest.approx(
        doc["net_gex_usd_per_1pct"], rel=1e-9
    )
    assert all(set(r) == {"expiry", "net_gex_usd_per_1pct"} for r in doc["by_expiry"])
    assert doc["by_expiry"][0]["expiry"] == "2023-09-15"
    assert [r["move_pct"] for r in doc["hedge_flow"]] == [float(m) for m in range(-10, 11)]
    assert all(set(r) == {"move_pct", "dealer_trade_usd"} for r in doc["hedge_flow"])
    assert doc["hedge_flow"][10]["dealer_trade_usd"] == pytest.approx(0.0, abs=1e-3)
    assert isinstance(doc["flips"], list)
    if doc["flip"] is not None:
        assert doc["flip"] in doc["flips"]
    for k in ("call_wall", "put_wall", "abs_gamma_strike"):
        assert doc[k] is None or doc[k] % 5 == 0


def test_cli_options_and_json_detection(test_data: Path) -> None:
    runner = CliRunner()
    base = json.loads(runner.invoke(gamma, [str(test_data / SPX_FILE), "--json"]).stdout)
    bus = json.loads(
        runner.invoke(
            gamma,
            [str(test_data / SPX_FILE), "--json", "--time-basis", "busdays262", "--window", "0.1"],
        ).output
    )
    # spot GEX is mostly the file's gamma: the modelled part (< 1 % of |GEX|) moves with the time basis
    assert bus["net_gex_usd_per_1pct"] == pytest.approx(base["net_gex_usd_per_1pct"], rel=0.05)
    assert bus["model_gex_at_spot_usd_per_1pct"] != pytest.approx(
        base["model_gex_at_spot_usd_per_1pct"]
    )
    assert all(abs(f / bus["spot"] - 1) <= 0.1 + 1e-9 for f in bus["flips"])
    js = runner.invoke(gamma, [str(test_data / MSTR), "--json"])
    assert js.exit_code == 0, js.output
    doc = json.loads(js.stdout)
    assert (
        doc["underlying"] == "MSTR"
        and doc["contracts"] == 48
        and doc["spot"] == pytest.approx(94.6604)
    )
    human = runner.invoke(gamma, [str(test_data / MSTR)])
    assert (
        human.exit_code == 0
        and "net GEX" in human.output
        and "per 1% move" in human.output
        and "MSTR" in human.output
    )


def test_cli_bad_file_exits_2_naming_file_and_field(test_data: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    bad_json = tmp_path / "chain.json"
    obj = json.loads((test_data / MSTR).read_text())
    del obj["data"]["current_price"]
    bad_json.write_text(json.dumps(obj))
    res = runner.invoke(gamma, [str(bad_json)])
    assert res.exit_code == 2
    assert str(bad_json) in res.output and "data.current_price" in res.output
    bad_csv = tmp_path / "spx_quotedata.csv"
    lines = (test_data / SPX_FILE).read_text().splitlines()
    lines[2] = '"Date: sometime last week",Bid: 1'
    bad_csv.write_text("\n".join(lines[:20]) + "\n")
    res = runner.invoke(gamma, [str(bad_csv)])
    assert res.exit_code == 2
    assert str(bad_csv) in res.output and "Date" in res.output
    missing = runner.invoke(gamma, [str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "nope.csv" in missing.output


def test_every_underlying_failing_fails_the_run_and_marks_all_stale(
    store: ResultStore, http_server, test_data: Path, tmp_path: Path
) -> None:
    http_server.route("/o/MSTR.json", Reply(200, (test_data / MSTR).read_bytes()))
    settings = _settings(
        ["MSTR"], mode="live", base_url=f"{http_server.url}/o", drop_dir=str(tmp_path)
    )
    assert run_job(settings, store, "gamma_test", now=NOW).status == "ok"
    http_server.route("/o/MSTR.json", Reply(503, "maintenance"))
    http_server.route("/o/_SPX.json", Reply(503, "maintenance"))
    settings = _settings(
        ["MSTR", "SPX"], mode="live", base_url=f"{http_server.url}/o", drop_dir=str(tmp_path)
    )
    settings.jobs["gamma_test"].retries = 1
    record = run_job(settings, store, "gamma_test", now=NOW, sleep=lambda _s: None)
    assert record.status == "failed" and record.attempts == 2
    assert "every underlying failed" in record.error and "503" in record.error
    for name in ("gamma.MSTR", "gamma.summary"):
        meta = store.meta(name)
        assert meta.status == "stale" and "every underlying failed" in meta.failure["error"]
    assert len(store.read("gamma.MSTR").table("by_strike")) > 0  # the last good data stays


def test_input_quality_is_published_and_a_damaged_chain_is_refused_keeping_the_last_good(
    store: ResultStore, http_server, test_data: Path, tmp_path: Path
) -> None:
    """Quality travels with the result; a chain that lost more than [quality] allows fails its
    underlying and the last good result stays, marked stale (issue 16 §1)."""
    body = (test_data / "options" / "options_MSTR_2026-07-10_trimmed.json").read_bytes()
    http_server.route(
        "/o/MSTR.json", Reply(200, b"\xef\xbb\xbf" + body, {"Content-Type": "application/json"})
    )
    settings = _settings(
        ["MSTR"], mode="live", base_url=f"{http_server.url}/o", drop_dir=str(tmp_path)
    )
    first = run_job(settings, store, "gamma_test", now=NOW)
    assert first.status == "ok", first.error
    good = store.meta("gamma.MSTR")
    assert good.quality["total_rows"] == 48 and good.quality["skipped_rows"] == 0
    assert good.quality["repairs"] == {}  # a UTF-8 byte-order mark is normal (flows.sources.textio)
    assert good.headline["quality_skipped_share"] == 0.0 and good.headline["quality_warnings"] == 0

    damaged = json.loads(body)
    for row in damaged["data"]["options"][:4]:
        row["open_interest"] = "-"  # 4 of 48 rows: 8 % of the rows, weight unknown
    http_server.route(
        "/o/MSTR.json",
        Reply(200, json.dumps(damaged).encode(), {"Content-Type": "application/json"}),
    )
    second = run_job(settings, store, "gamma_test", now=NOW.replace(minute=45))
    assert second.status == "failed"
    assert (
        "refused" in second.error
        and "open_interest: not a number" in second.error
        and "limit 1.00 %" in second.error
    )
    stale = store.read("gamma.MSTR")
    assert stale.meta.status == "stale" and stale.meta.version == good.version
    assert "refused" in stale.meta.failure["error"]

    # a looser threshold for the gamma family accepts it, with the skipped share published
    loose = _settings(
        ["MSTR"], mode="live", base_url=f"{http_server.url}/o", drop_dir=str(tmp_path)
    )
    loose.quality.overrides["gamma"] = 0.10
    third = run_job(loose, store, "gamma_test", now=NOW.replace(minute=50))
    assert third.status == "ok", third.error
    meta = store.meta("gamma.MSTR")
    assert meta.quality["skipped_rows"] == 4 and meta.headline[
        "quality_skipped_share"
    ] == pytest.approx(4 / 48)
    assert meta.quality["reasons"] == {"open_interest: not a number": 4}


def test_sample_run_carries_quality_without_warnings(store: ResultStore) -> None:
    record = run_job(_settings(["SPX", "NVDA"]), store, "gamma_test", now=NOW)
    assert record.status == "ok", record.error
    for u in ("SPX", "NVDA"):
        meta = store.meta(f"gamma.{u}")
        assert meta.quality["skipped_rows"] == 0 and meta.quality["warnings"] == [], meta.quality
        assert (
            meta.quality["total_rows"]
            == meta.headline["contracts"]
            + meta.headline["expired_dropped"]
            + meta.headline["unsolved_dropped"]
        )


def test_gamma_config_deliverables_and_consistency_factor() -> None:
    from jobs.config import ConfigError
    from jobs.tasks.gamma import gamma_params

    s = _settings(
        ["SDS"],
        deliverables={"sds1": {"shares": 20}, "LCID1": {"shares": 5, "cash": 50.0}},
        consistency_factor=4.0,
    )
    p = gamma_params(s, "SDS", pd.Timestamp("2025-11-28 11:00", tz=NY))
    assert {k: (v.shares, v.cash) for k, v in p.deliverables.items()} == {
        "SDS1": (20.0, 0.0),
        "LCID1": (5.0, 50.0),
    }
    assert p.consistency_factor == 4.0 and p.calendar == "XNYS"
    assert p.next_close == pd.Timestamp(
        "2025-11-28 13:00", tz=NY
    )  # the early close, from the calendar
    for bad in (
        {"deliverables": {"X1": {"shares": 0}}},
        {"deliverables": {"X1": {"shares": 20, "cash": -10.0}}},  # cash is received, never paid
        {"deliverables": {"X1": {"cash": 1.0}}},
        {"consistency_factor": 1.0},
    ):
        with pytest.raises(ConfigError):
            _settings(["SDS"], **bad)


def test_cli_text_lists_the_excluded_contracts(test_data: Path) -> None:
    """The adjusted-series case: the text summary names each excluded SDS1 contract with its open
    interest and reason (largest first), not a table the CLI does not show."""
    res = CliRunner().invoke(gamma, [str(test_data / "cases/adjusted-option-series/chain.json")])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("excluded: 6 contracts"))
    listed = lines[at + 1 : at + 7]
    assert all(line.startswith("  SDS1260821") for line in listed)
    assert [int(line.split("OI ")[1].split(" ")[0].replace(",", "")) for line in listed] == [
        25_000,
        25_000,
        25_000,
        20_000,
        20_000,
        20_000,
    ]  # 135,000 contracts of open interest in all, as the headline says
    assert all("non-standard deliverable: SDS1 is an adjusted series" in line for line in listed)
    assert not lines[at + 7].startswith("  SDS1")


def test_cli_text_lists_the_contracts_left_out_without_gamma_or_iv(
    test_data: Path, tmp_path: Path
) -> None:
    """The missing-gamma case with one contract's IV lost and its quote below intrinsic value
    (the 450 call, OI 5,000, bid/ask 40/41 with spot 500): the text summary says it was left
    out, with its open interest and why, as the JSON's ``unsolved_dropped`` does."""
    doc = json.loads((test_data / "cases/gamma-missing-source-gamma/chain.json").read_text())
    first = doc["data"]["options"][0]
    assert first["option"] == "SPY260821C00450000" and first["open_interest"] == 5000.0
    first.update(iv=0.0, bid=40.0, ask=41.0)
    path = tmp_path / "chain.json"
    path.write_text(json.dumps(doc))
    as_json = json.loads(CliRunner().invoke(gamma, [str(path), "--json"]).stdout)
    assert as_json["unsolved_dropped"] == 1
    res = CliRunner().invoke(gamma, [str(path)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    at = lines.index(
        "left out: 1 contract without a usable gamma or IV (5,000 contracts of open interest):"
    )
    assert lines[at + 1].startswith("  SPY260821C00450000  OI 5,000 contracts  unsolved IV: ")
    assert "the mid is at or below intrinsic value" in lines[at + 1]


def test_file_command_refuses_a_config_it_cannot_use(
    test_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No config at all: the documented defaults.  A config that exists but is not TOML, or is
    invalid (here the shipped file with a second ``[gamma.deliverables]``), or one named by
    ``--config`` that is missing: exit 2 naming the file and reason, never the defaults in
    silence (the SDS1 deliverable would be dropped without a word)."""
    from jobs.cli import main
    from jobs.config import PROJECT_ROOT

    monkeypatch.setenv("FLOWDESK_CONFIG", str(tmp_path / "unset.toml"))  # --config writes it
    case = str(test_data / "cases/adjusted-option-series/chain.json")
    shipped = (PROJECT_ROOT / "config.toml").read_text()
    good = tmp_path / "good.toml"
    good.write_text(shipped + "\n[gamma.deliverables]\nSDS1 = { shares = 20 }\n")
    res = CliRunner().invoke(main, ["--config", str(good), "gamma", case, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["net_gex_usd_per_1pct"] == pytest.approx(-71_009, abs=1)
    twice = tmp_path / "twice.toml"
    twice.write_text(
        shipped.replace("# [gamma.deliverables]", "[gamma.deliverables]")
        + "\n[gamma.deliverables]\n"
    )
    bad = tmp_path / "bad.toml"
    bad.write_text("nonsense = [\n")
    for path, reason in (
        (bad, "not valid TOML"),
        (twice, "not valid TOML"),
        (tmp_path / "absent.toml", "cannot read the file"),
    ):
        res = CliRunner().invoke(main, ["--config", str(path), "gamma", case])
        assert res.exit_code == 2, (path, res.output)
        assert str(path) in res.stderr and reason in res.stderr
    monkeypatch.setenv("FLOWDESK_CONFIG", str(tmp_path / "none-here.toml"))
    res = CliRunner().invoke(gamma, [case])  # no --config and no file: the defaults
    assert res.exit_code == 0, res.output
    assert "excluded: 6 contracts" in res.stdout


def test_config_option_after_the_command_name(
    test_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``flowdesk gamma FILE --config PATH`` reads PATH as ``flowdesk --config PATH gamma FILE``
    does: the SDS1 deliverable it sets is applied, a file it cannot use exits 2 naming it, and
    the command's help lists the option."""
    from jobs.cli import main
    from jobs.config import PROJECT_ROOT

    monkeypatch.setenv("FLOWDESK_CONFIG", str(tmp_path / "unset.toml"))  # --config writes it
    case = str(test_data / "cases/adjusted-option-series/chain.json")
    good = tmp_path / "good.toml"
    good.write_text(
        (PROJECT_ROOT / "config.toml").read_text()
        + "\n[gamma.deliverables]\nSDS1 = { shares = 20 }\n"
    )
    res = CliRunner().invoke(main, ["gamma", case, "--json", "--config", str(good)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["net_gex_usd_per_1pct"] == pytest.approx(-71_008.75, abs=0.01)
    # without it: the shipped config, no deliverable, SDS1 excluded (0 USD)
    monkeypatch.setenv("FLOWDESK_CONFIG", str(PROJECT_ROOT / "config.toml"))
    res = CliRunner().invoke(main, ["gamma", case, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["net_gex_usd_per_1pct"] == 0
    bad = tmp_path / "bad.toml"
    bad.write_text("nonsense = [\n")
    res = CliRunner().invoke(main, ["gamma", case, "--config", str(bad)])
    assert res.exit_code == 2 and str(bad) in res.stderr and "not valid TOML" in res.stderr
    res = CliRunner().invoke(main, ["gamma", "--help"])
    assert res.exit_code == 0 and "--config" in res.stdout
