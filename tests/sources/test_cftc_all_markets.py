"""The CFTC parsers read every market of the TFF files (not only currencies) and, when asked,
each row's contract unit (``units=True``): trimmed real files here, every full file extended."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from flows.errors import InputError
from flows.sources import cftc_files, cftc_socrata
from flows.sources.textio import decode_text

TFF_2021 = "cftc_tff/fut_fin_txt_2021_markets.zip"


def _text(test_data: Path) -> str:
    path = test_data / TFF_2021
    return cftc_files.read_zip(path.read_bytes(), str(path))


def test_every_market_and_its_units(test_data: Path) -> None:
    frame, q = cftc_files.parse_report(_text(test_data), "tff", "2021", None, units=True)
    assert frame["code"].nunique() == 15 and len(frame) == 780 and q.skipped_rows == 0
    assert list(frame.columns) == [*cftc_files.COT_TFF_COLUMNS, "contract_units"]
    units = frame.groupby("code")["contract_units"].unique().map(list).to_dict()
    assert units["13874+"] == ["(S&P 500 INDEX X $250.00)"] and units["134741"] == [
        "($2,500 x Contract IMM Index)"
    ]
    assert units["042601"] == [
        "(CONTRACTS OF $200,000 FACE VALUE)"
    ]  # a quoted comma inside the cell
    # without units=True the frame is exactly the schema's (the currency engine's input)
    plain, _ = cftc_files.parse_report(_text(test_data), "tff", "2021", ["13874+", "1170E1"])
    assert list(plain.columns) == list(cftc_files.COT_TFF_COLUMNS) and set(plain["code"]) == {
        "13874+",
        "1170E1",
    }
    # a file without the column: empty text, not an error
    header, *rows = _text(test_data).split("\r\n")
    cut = "\r\n".join(
        [",".join(header.split(",")[:81]), *(",".join(r.split(",")[:81]) for r in rows if r)]
    )
    no_units, q2 = cftc_files.parse_report(cut, "tff", "cut", ["043602"], units=True)
    assert set(no_units["contract_units"]) == {""} and len(no_units) == 52 and q2.skipped_rows == 0


def test_year_files_pass_units() -> None:
    empty = cftc_files.YearFiles(report="tff")
    frame, _ = empty.parse_report(["13874A"], units=True)
    assert frame.empty and "contract_units" in frame.columns


def test_socrata_consolidated_codes_and_units(test_data: Path) -> None:
    q = cftc_socrata.build_query("tff", ["13874+", "20974+", "1170E1"])
    assert q.params["$where"].startswith(
        "cftc_contract_market_code in ('13874+', '20974+', '1170E1')"
    )
    assert q.params["$select"].endswith(", contract_units")
    with pytest.raises(InputError, match="6 letters/digits"):
        cftc_socrata.build_query("tff", ["13874"])
    with pytest.raises(InputError):
        cftc_socrata.build_query("tff", ["1387'A"])
    rows = json.loads(
        (
            test_data
            / "cftc"
            / "socrata_6dca-aqww_legacy_futonly_six_markets_2026-09-08_to_2026-09-15.json"
        ).read_text()
    )
    legacy, _ = cftc_socrata.parse_rows(rows, "legacy", "socrata", ["13874A", "099741"], units=True)
    assert dict(zip(legacy["code"], legacy["contract_units"], strict=False)) == {
        "13874A": "($50 X S&P 500 INDEX)",
        "099741": "(CONTRACTS OF EUR 125,000)",
    }
    no_field = [{k: v for k, v in r.items() if k != "contract_units"} for r in rows]
    legacy2, _ = cftc_socrata.parse_rows(no_field, "legacy", "socrata", ["13874A"], units=True)
    assert set(legacy2["contract_units"]) == {""}


@pytest.mark.extended
def test_every_market_of_every_full_file(shared_data: Path) -> None:
    """50-103 markets a file, 2017-2026: none skipped, every row inside the plausibility limits
    (open interest, positions within it, both sides adding up to it)."""
    total = 0
    for path in sorted((shared_data / "cftc" / "tff_futures_only").glob("*.txt")):
        text = decode_text(path.read_bytes(), str(path)).text
        frame, q = cftc_files.parse_report(text, "tff", str(path), None, units=True)
        lines = sum(1 for ln in text.split("\n")[1:] if ln.strip())
        assert q.skipped_rows == 0 and len(frame) == lines, path.name
        assert (frame["contract_units"] != "").all()
        assert frame["code"].nunique() >= 50
        total += len(frame)
    assert total == pd.Series([2110, 2538, 2518, 2106, 2603, 3163, 1095, 2681]).sum()
