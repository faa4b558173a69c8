"""``flowdesk volcontrol`` / ``cta`` / ``vixetp``: exactly the documented JSON keys, the engines'
numbers, the configuration's calibration, and exit status 2 with a named cause on bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from flows import cta, volcontrol
from flows.sources import fred
from jobs.cli import main

FRED = "fred_SP500_2023-01-03_2025-06-30.csv"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def sp500_file(test_data) -> Path:
    return test_data / "prices" / FRED


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path, monkeypatch) -> None:
    """Defaults unless a test writes a config (the commands must run without one)."""
    monkeypatch.setenv("FLOWDESK_CONFIG", str(tmp_path / "absent.toml"))


def test_volcontrol_json(sp500_file) -> None:
    code, out, err = run(
        "volcontrol", str(sp500_file), "--as-of", "2024-08-05", "--aum", "300e9", "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc) == ["exposure", "exposure_change_10d", "flow_usd_1d", "scenarios", "quality"]
    frame, _ = fred.parse(sp500_file.read_bytes(), str(sp500_file))
    rep = volcontrol.analyze(frame, as_of="2024-08-05", aum=300e9)
    assert doc["exposure"] == pytest.approx(rep.headline["exposure"]) and doc[
        "flow_usd_1d"
    ] == pytest.approx(rep.headline["flow_usd_1d"])
    assert doc["exposure_change_10d"] == pytest.approx(rep.headline["exposure_change_10d"])
    assert [list(s) for s in doc["scenarios"]] == [["daily_move_pct", "sessions", "flow_usd"]] * 4
    assert [(s["daily_move_pct"], s["sessions"]) for s in doc["scenarios"]] == [
        (0.5, 10),
        (1.0, 10),
        (1.5, 10),
        (2.0, 10),
    ]
    assert doc["quality"]["skipped_rows"] == 0 and doc["quality"]["source"] == str(sp500_file)


def test_volcontrol_text_sma_and_holiday(sp500_file) -> None:
    code, out, _ = run("volcontrol", str(sp500_file), "--as-of", "2025-04-07", "--estimator", "sma")
    assert (
        code == 0 and "vol-control (sma: target 10%, cap 100%, lag 2)" in out and "quality:" in out
    )
    code, out, err = run("volcontrol", str(sp500_file), "--as-of", "2024-07-04", "--json")
    doc = json.loads(out)
    assert (
        code == 0
        and "no close on 2024-07-04 in the file: the last close before it (2024-07-03) is used"
        in doc["quality"]["warnings"]
    )


def test_cta_json(sp500_file) -> None:
    code, out, err = run("cta", str(sp500_file), "--as-of", "2025-04-08", "--aum", "50e9", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc) == ["position", "triggers", "scenarios", "quality"]
    assert [list(t) for t in doc["triggers"]] == [
        ["lookback", "level", "distance_pct", "days_to_flip"]
    ] * 3
    assert [(s["tape"], s["horizon"]) for s in doc["scenarios"]] == [
        ("flat", "1w"),
        ("flat", "1m"),
        ("up", "1w"),
        ("up", "1m"),
        ("down", "1w"),
        ("down", "1m"),
    ]
    frame, _ = fred.parse(sp500_file.read_bytes(), str(sp500_file))
    rep = cta.analyze(frame, as_of="2025-04-08", aum=50e9)
    assert doc["position"] == pytest.approx(rep.headline["position"])
    assert doc["triggers"][2] == {
        "lookback": "252d return",
        "level": 5202.39,
        "distance_pct": pytest.approx(100 * (5202.39 / 4982.77 - 1)),
        "days_to_flip": 10,
    }
    code, out, _ = run("cta", str(sp500_file), "--as-of", "2025-04-08")
    assert (
        code == 0 and "252d return" in out and "AUM USD 50.0 bn (configured, [cta].aum_usd)" in out
    )


def test_vixetp_json(test_data, tmp_path) -> None:
    aum = tmp_path / "vixetp_aum.csv"
    aum.write_text(
        "ticker,aum_usd\nXIV,1.6e9\nSVXY,1.3e9\nUVXY,9e8\nTVIX,1.2e9\nVXX,1e9\nVIXY,3e8\nVIXM,5e7\nVXZ,2e7\n"
    )
    code, out, err = run(
        "vixetp",
        "--vx",
        str(test_data / "vix_futures"),
        "--date",
        "2018-02-05",
        "--aum",
        str(aum),
        "--json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc) == [
        "date",
        "index_return",
        "front",
        "second",
        "front_weight",
        "funds",
        "quality",
    ]
    assert (doc["date"], doc["front"], doc["second"]) == ("2018-02-05", "VXG18", "VXH18")
    assert doc["index_return"] == pytest.approx(29.8125 / 15.2025 - 1) and doc[
        "front_weight"
    ] == pytest.approx(0.35)
    funds = {f["ticker"]: f for f in doc["funds"]}
    assert all(
        list(f) == ["ticker", "leverage", "rebalance_usd", "roll_usd", "contracts"]
        for f in doc["funds"]
    )
    assert set(funds) == {"XIV", "SVXY", "UVXY", "TVIX", "VXX", "VIXY", "VIXM", "VXZ"}
    assert funds["XIV"]["rebalance_usd"] == pytest.approx(1.6e9 * 2 * (29.8125 / 15.2025 - 1))
    assert funds["XIV"]["contracts"] == pytest.approx(
        funds["XIV"]["rebalance_usd"] / (29.8125 * 1000)
    )
    assert funds["VXX"]["rebalance_usd"] == 0 and funds["VXX"]["roll_usd"] > 0
    assert doc["quality"]["basis"] == "open interest" and not doc["quality"]["warnings"]


def test_vixetp_without_assets_warns_and_lists_funds(test_data) -> None:
    code, out, err = run(
        "vixetp", "--vx", str(test_data / "vix_futures"), "--date", "2018-02-05", "--json"
    )
    doc = json.loads(out)
    assert code == 0
    assert any("SAMPLE" in w for w in doc["quality"]["warnings"])
    funds = {f["ticker"]: f for f in doc["funds"]}
    assert funds["XIV"] == {
        "ticker": "XIV",
        "leverage": -1.0,
        "rebalance_usd": None,
        "roll_usd": None,
        "contracts": None,
    }
    assert "XIV left out: no assets" in " ".join(doc["quality"]["warnings"])
    code, out, err = run("vixetp", "--vx", str(test_data / "vix_futures"), "--date", "2020-03-16")
    assert code == 0 and "VIX futures ETPs on 2020-03-16: short-term index +34.88%" in out


def test_calibration_from_the_config(sp500_file, tmp_path, monkeypatch) -> None:
    frame, _ = fred.parse(sp500_file.read_bytes(), str(sp500_file))
    h = volcontrol.history(frame, volcontrol.EWMA, 250e9)
    published = float(
        h[(h["date"] >= "2024-07-29") & (h["date"] <= "2024-08-09")]["flow_usd"].sum()
    )
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[volcontrol.calibration]\npublished_usd = {published!r}\nstart = "2024-07-29"\nend = "2024-08-09"\nsource = "test note"\n\n[cta.calibration]\npublished_usd = -20e9\nend = "2025-04-08"\n'
    )
    monkeypatch.setenv("FLOWDESK_CONFIG", str(cfg))
    code, out, _ = run("volcontrol", str(sp500_file), "--as-of", "2024-08-05")
    assert code == 0 and "AUM USD 250.0 bn, calibrated to USD" in out and "test note" in out
    code, out, _ = run("cta", str(sp500_file), "--as-of", "2025-04-08", "--json")
    rep = cta.analyze(frame, as_of="2025-04-08", aum=1.0)
    assert json.loads(out)["position"] == pytest.approx(rep.headline["position"])
    code, out, _ = run("cta", str(sp500_file), "--as-of", "2025-04-08")
    assert "calibrated to USD -20.0 bn (position on date, 2025-04-08)" in out
    # a window outside the file: the configured AUM, with a warning
    cfg.write_text(
        '[volcontrol.calibration]\npublished_usd = -3e10\nstart = "2018-01-02"\nend = "2018-02-09"\n'
    )
    code, out, _ = run("volcontrol", str(sp500_file), "--as-of", "2024-08-05", "--json")
    assert code == 0 and any(
        "[volcontrol.calibration] not usable" in w for w in json.loads(out)["quality"]["warnings"]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["volcontrol", "missing.csv", "--as-of", "2024-08-05"],
            "missing.csv: cannot read the file",
        ),
        (["volcontrol", "{sp}", "--as-of", "2024-13-45"], "--as-of: not a date"),
        (
            ["volcontrol", "{sp}", "--as-of", "2019-01-02"],
            "is before the file's first close (2023-01-03)",
        ),
        (
            ["volcontrol", "{sp}", "--as-of", "2024-08-05", "--aum", "-5"],
            "AUM must be a positive number",
        ),
        (["cta", "{sp}", "--as-of", "2023-03-01"], "the signals need at least"),
        # a session after the file's last close: a stale drop file is refused, not printed as today's
        (["cta", "{sp}", "--as-of", "2030-01-02"], "no close for the session of 2030-01-02"),
        (
            ["volcontrol", "{sp}", "--as-of", "2030-01-05"],
            "no close for the session of 2030-01-04 (the last session on or before 2030-01-05)",
        ),
        (["cta", "{bad}", "--as-of", "2024-08-05"], "unknown price file layout"),
        (["vixetp", "--vx", "{vx}", "--date", "2018-02-10"], "no VX settlements on 2018-02-10"),
        (["vixetp", "--vx", "{empty}", "--date", "2018-02-05"], "no *.csv VX contract files"),
        (
            ["vixetp", "--vx", "{vx}", "--date", "2018-02-05", "--aum", "{badaum}"],
            "line 3: UVXY: aum_usd 'lots' is not a number",
        ),
    ],
)
def test_bad_input_exits_2_with_the_cause(
    args: list[str], message: str, sp500_file, test_data, tmp_path
) -> None:
    (tmp_path / "bad.csv").write_text("when,price\n2024-01-02,1\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "aum.csv").write_text("ticker,aum_usd\nXIV,1e9\nUVXY,lots\n")
    subs = {
        "{sp}": str(sp500_file),
        "{bad}": str(tmp_path / "bad.csv"),
        "{vx}": str(test_data / "vix_futures"),
        "{empty}": str(tmp_path / "empty"),
        "{badaum}": str(tmp_path / "aum.csv"),
    }
    code, out, err = run(*[subs.get(a, a) for a in args])
    assert code == 2 and err.startswith("error: ") and message in err, err


def test_quality_threshold_refuses_a_lossy_file(sp500_file, tmp_path) -> None:
    lines = sp500_file.read_text().splitlines(keepends=True)
    # blank 10 session closes of ~650 rows (1.5 % > the 1 % default)
    blanked, n = [], 0
    for i, line in enumerate(lines):
        if i > 100 and i % 40 == 0 and not line.rstrip().endswith(",") and n < 10:
            line = line.split(",")[0] + ",\n"
            n += 1
        blanked.append(line)
    path = tmp_path / "lossy.csv"
    path.write_text("".join(blanked))
    code, _, err = run("volcontrol", str(path), "--as-of", "2025-06-30", "--json")
    assert code == 2 and "refused: 1.54 % of rows skipped (limit 1.00 %)" in err


def test_vx_folder_with_a_conflict(test_data, tmp_path) -> None:
    shutil.copytree(test_data / "vix_futures", tmp_path / "vx")
    src = test_data / "vix_futures" / "clean" / "CFE_G18_VX.csv"
    (tmp_path / "vx" / "more").mkdir()
    (tmp_path / "vx" / "more" / "CFE_G18_VX.csv").write_bytes(
        src.read_bytes().replace(b"33.225", b"33.250")
    )
    code, _, err = run("vixetp", "--vx", str(tmp_path / "vx"), "--date", "2018-02-05")
    assert code == 2 and "VXG18 on 2018-02-05: settle 33.25 differs from 33.225" in err


def test_vixetp_without_the_second_month_is_refused_naming_the_contracts(
    test_data, tmp_path
) -> None:
    """Only the front month's file: the short-term index cannot be computed; the command refuses
    (exit 2, naming both held contracts) instead of printing '+nan%' and a '+$0' total."""
    folder = tmp_path / "vx"
    folder.mkdir()
    front = next(p for p in (test_data / "vix_futures").rglob("*G18*"))
    (folder / front.name).write_bytes(front.read_bytes())
    code, out, err = run("vixetp", "--vx", str(folder), "--date", "2018-02-05")
    assert (
        code == 2
        and "no short-term VIX futures index return on 2018-02-05" in err
        and "(VXG18, VXH18)" in err
    ), err
