"""``flowdesk futures-positioning``: the documented JSON, the engine's numbers, the human table,
and exit status 2 with a named cause on bad input (trimmed real TFF files, tests/data/cftc_tff)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from click.testing import CliRunner

from jobs.cli import main

TFF_2021 = "cftc_tff/fut_fin_txt_2021_markets.zip"
TFF_2024 = "cftc_tff/fut_fin_txt_2024_markets_through_2024-06-25.zip"
FRED = "prices/fred_SP500_2023-01-03_2025-06-30.csv"
REQUIRED = (
    "as_of",
    "market",
    "code",
    "asset_manager_net_contracts",
    "leveraged_funds_net_contracts",
    "dealer_net_contracts",
    "open_interest",
    "leveraged_funds_percentile_1y",
    "leveraged_funds_percentile_3y",
    "leveraged_funds_percentile_5y",
    "asset_manager_percentile_3y",
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path, monkeypatch) -> None:
    """Defaults unless a test writes a config (the command must run without one)."""
    monkeypatch.setenv("FLOWDESK_CONFIG", str(tmp_path / "absent.toml"))


@pytest.fixture()
def files(test_data) -> list[str]:
    return [str(test_data / TFF_2024), str(test_data / TFF_2021)]  # any order


def _rows(doc: dict, market: str, day: str) -> dict:
    return next(r for r in doc["rows"] if r["market"] == market and r["as_of"] == day)


def test_json_rows_and_quality(files) -> None:
    code, out, err = run("futures-positioning", "--tff", files[0], "--tff", files[1], "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc) == ["rows", "crowding", "extremes", "headline", "notes", "quality"]
    assert len(doc["rows"]) == 15 * (52 + 26)
    for key in REQUIRED:
        assert key in doc["rows"][0], key
    zn = _rows(doc, "ZN", "2024-06-25")
    assert zn["code"] == "043602" and zn["name"] == "UST 10Y NOTE - CHICAGO BOARD OF TRADE"
    assert zn["leveraged_funds_net_contracts"] == 248168 - 1454988 and isinstance(
        zn["leveraged_funds_net_contracts"], int
    )
    assert (
        zn["asset_manager_net_contracts"] == 2284583 - 1052492
        and zn["dealer_net_contracts"] == 182216 - 498293
    )
    assert (
        zn["open_interest"] == 4329856
        and zn["leveraged_funds_dv01_usd_per_bp"] == (248168 - 1454988) * 62
    )
    assert zn["leveraged_funds_percentile_1y"] is None  # 26 of 52 weeks present: not computed
    es = _rows(doc, "ES", "2021-12-28")
    assert (
        es["leveraged_funds_percentile_1y"] is not None
        and 0 <= es["leveraged_funds_percentile_1y"] <= 100
    )
    q = doc["quality"]
    assert q["basis"] == "positions" and q["skipped_rows"] == 0 and q["total_rows"] == 15 * 78
    assert q["repaired_rows"] == 3 * 52 and q["warnings"] == []
    assert any("3y statistics not computed" in n for n in doc["notes"])
    assert doc["headline"]["zn_leveraged_funds_net_contracts"] == 248168 - 1454988
    assert {c["flag"] for c in doc["crowding"]} >= {
        "rates_levfunds_short_extreme",
        "equity_assetmgr_long_top_decile",
    }


def test_market_filter_last_and_closes(files, test_data) -> None:
    code, out, err = run(
        "futures-positioning",
        "--tff",
        files[0],
        "--market",
        "ES",
        "--market",
        "zn",
        "--close",
        f"SPX={test_data / FRED}",
        "--last",
        "2",
        "--json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert {(r["market"], r["as_of"]) for r in doc["rows"]} == {
        (m, d) for m in ("ES", "ZN") for d in ("2024-06-18", "2024-06-25")
    }
    es = _rows(doc, "ES", "2024-06-25")
    assert es["close"] == 5469.3  # FRED SP500 on 2024-06-25
    assert es["asset_manager_notional_usd"] == pytest.approx(
        es["asset_manager_net_contracts"] * 50 * 5469.3
    )
    assert doc["closes_quality"]["SPX"]["basis"] == "rows"


def test_last_n_weeks_in_text_prints_each_week(files) -> None:
    code, out, err = run("futures-positioning", "--tff", files[0], "--market", "ES", "--last", "2")
    assert code == 0, err
    heads = [line for line in out.splitlines() if "report week" in line]
    assert [h.split(":")[0] for h in heads] == [
        "report week 2024-06-18",
        "latest report week 2024-06-25",
    ]
    assert sum(line.startswith("ES ") for line in out.splitlines()) == 2
    code, out, err = run("futures-positioning", "--tff", files[0], "--market", "ES")
    assert code == 0, err
    assert [line.split(":")[0] for line in out.splitlines() if "report week" in line] == [
        "latest report week 2024-06-25"
    ]


def test_dv01_override(files) -> None:
    code, out, _ = run(
        "futures-positioning",
        "--tff",
        files[0],
        "--market",
        "UB",
        "--dv01",
        "ZN=64",
        "--dv01",
        "UB=200",
        "--json",
    )
    assert code == 0
    ub = _rows(json.loads(out), "UB", "2024-06-25")
    assert ub["asset_manager_dv01_usd_per_bp"] == ub["asset_manager_net_contracts"] * 200
    assert ub["asset_manager_ten_year_equivalents"] == pytest.approx(
        ub["asset_manager_net_contracts"] * 200 / 64
    )


def test_human_table(files) -> None:
    code, out, err = run("futures-positioning", "--tff", files[1])
    assert code == 0, err
    assert "latest report week 2021-12-28" in out
    line = next(ln for ln in out.splitlines() if ln.startswith("ES "))
    assert "736,093" in line and "-97,267" in line and "per point (no close)" in line
    zn = next(ln for ln in out.splitlines() if ln.startswith("ZN "))
    assert "DV01 USD" in zn
    assert "no crowding flag this week" in out or "CROWDED" in out
    assert "note: no close for ES" in err


def _zip(member: str, text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(member, text)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--market", "XX"], "--market: unknown market 'XX' (known: ES, ES_CONS, NQ"),
        (["--dv01", "ZN"], "--dv01: expected SYMBOL=VALUE"),
        (["--dv01", "ZN=abc"], "not a number of USD per basis point"),
        (["--dv01", "ES=50"], "a DV01 applies to rates markets only"),
        (["--dv01", "ZN=6200"], "outside the plausible range [1, 1,000] USD per basis point"),
        (["--close", "SPX={missing}"], "missing.csv: cannot read the file"),
        (["--tff", "{legacy}"], "column missing from the header"),
        (["--tff", "{other}"], "none of the requested markets in the file"),
        (
            ["--tff", "{html}"],
            "page.zip: market_and_exchange_names: column missing from the header",
        ),
        (["--markets-table", "{table}"], "multiplier"),
    ],
)
def test_bad_input_exits_2_with_the_cause(
    args: list[str], message: str, files, test_data, tmp_path
) -> None:
    legacy = test_data / "cftc" / "deacot2025_currencies_2025-01-07_to_2025-03-11.zip"
    other = tmp_path / "other.txt"
    text = zipfile.ZipFile(test_data / TFF_2021).read("FinFutYY.txt").decode()
    lines = text.split("\n")
    other.write_text(
        "\n".join(
            [
                lines[0],
                *[
                    ln.replace("043602", "999999").replace("13874A", "99999A")
                    for ln in lines[1:]
                    if "043602" in ln or "13874A" in ln
                ],
            ]
        )
    )
    (tmp_path / "page.zip").write_bytes(b"<html>not found</html>")
    table = tmp_path / "table.csv"
    from flows.sources import tff_markets

    table.write_text(
        tff_markets.shipped_path()
        .read_text()
        .replace(
            "VX,vix,contract,true,Cboe VIX futures,1000,",
            "VX,vix,contract,true,Cboe VIX futures,zero,",
        )
    )
    subs = {
        "{legacy}": str(legacy),
        "{missing}": str(tmp_path / "missing.csv"),
        "{other}": str(other),
        "{html}": str(tmp_path / "page.zip"),
        "{table}": str(table),
    }
    full = [subs.get(a, a.replace("{missing}", str(tmp_path / "missing.csv"))) for a in args]
    base = [] if "--tff" in args else ["--tff", files[0]]
    if "--tff" in args and args[args.index("--tff") + 1] == "{other}":
        full += ["--market", "ZN"]
    code, out, err = run("futures-positioning", *base, *full)
    assert code == 2 and err.startswith("error: ") and message in err, err


def test_quality_threshold_refuses_a_lossy_file(files, tmp_path) -> None:
    text = zipfile.ZipFile(files[0]).read("FinFutYY.txt").decode()
    lines = text.split("\n")
    # 10 of the 390 rows have a position cell blanked: ~2.6 % of the open interest > 1 %
    hit = 0
    for i in range(1, len(lines)):
        if lines[i].strip() and i % 39 == 0 and hit < 10:
            fields = lines[i].split(",")
            fields[14] = " "
            lines[i] = ",".join(fields)
            hit += 1
    path = tmp_path / "fut_fin_txt_2024.zip"
    path.write_bytes(_zip("FinFutYY.txt", "\n".join(lines)))
    code, _, err = run("futures-positioning", "--tff", str(path), "--json")
    assert code == 2 and "refused:" in err and "limit 1.00 %" in err, err


def test_output_cut_by_a_closed_pipe_exits_141_without_a_traceback(files, tmp_path) -> None:
    """``flowdesk ... | head``: the reader goes away after a few bytes; the command ends quietly
    with 141 (128 + SIGPIPE, what shells report), never 1 (a failed job) or a traceback."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "FLOWDESK_CONFIG": str(tmp_path / "absent.toml")}
    cmd = [sys.executable, "-m", "jobs.cli", "futures-positioning"]
    # the text of 78 weeks, line by line (~200 KB: past a 64 KB pipe buffer); one big write, as
    # --json does, is cut short by the kernel without an error and ends 0
    cmd += ["--tff", files[0], "--tff", files[1], "--last", "78"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10) == b"quality: 1"
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err
