"""Bad-input corpus for the systematic file commands: mutations of the real price and VX files
run through ``flowdesk volcontrol`` / ``cta`` / ``vixetp`` in-process; none may end ``wrong``
(exit 0, no warning, a different figure) or in a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.corpus import harness

FRED = "fred_SP500_2023-01-03_2025-06-30.csv"
AS_OF = "2024-08-05"
HEADER_LINE = 0


def _price_cases(text: str) -> list[tuple[str, str, bytes]]:
    lines = text.splitlines(keepends=True)
    n = len(lines) - 1
    as_of_row = next(i for i, ln in enumerate(lines) if ln.startswith(AS_OF)) - 1
    cases: list[tuple[str, str, bytes]] = []
    for value in ("-", "NaN", "", "abc", "0", "-5186.33", "51863.3", "5.18633"):
        for label, rows in (
            ("one far row", [40]),
            ("the as-of row", [as_of_row]),
            ("three rows", [100, 250, as_of_row - 1]),
            ("every 25th row", list(range(5, n, 25))),
        ):
            cases.append(
                (
                    f"close={value!r} in {label}",
                    f"cell {value!r}",
                    harness.set_cells(text, HEADER_LINE, rows, "SP500", value).encode(),
                )
            )
    for value in ("2024-13-01", "", "08/05/2024", "2024-08-05 "):
        cases.append(
            (
                f"date={value!r} in row 200",
                "date cell",
                harness.set_cells(text, HEADER_LINE, [200], "observation_date", value).encode(),
            )
        )
    for frac in (0.2, 0.5, 0.62, 0.9, 0.999):
        cases.append((f"cut at {frac:.0%} (mid-line)", "cut", harness.cut(text, frac).encode()))
        cases.append(
            (
                f"cut at {frac:.0%} (line end)",
                "cut",
                harness.cut(text, frac, mid_line=False).encode(),
            )
        )
    for enc, bom in (("cp1252", False), ("latin-1", False), ("utf-8", True), ("utf-16", False)):
        cases.append(
            (
                f"encoded {enc}{' with BOM' if bom else ''}",
                "encoding",
                harness.encode(text, enc, bom=bom),
            )
        )
    cases.append(("CRLF line ends", "line ends", text.replace("\n", "\r\n").encode()))
    cases.append(("rows reversed", "order", (lines[0] + "".join(reversed(lines[1:]))).encode()))
    cases.append(("a row repeated", "order", (text + lines[300]).encode()))
    cases.append(
        (
            "header renamed",
            "header",
            text.replace("SP500", "CLOSE_PRICE", 1).replace("observation_date", "day", 1).encode(),
        )
    )
    cases.append(
        (
            "extra column",
            "header",
            "\n".join(ln + ",x" if ln else ln for ln in text.split("\n")).encode(),
        )
    )
    cases.append(("empty file", "empty", b""))
    cases.append(("header only", "empty", lines[0].encode()))
    return cases


def _value(doc: dict) -> float | None:
    return doc.get("flow_usd_1d", doc.get("position"))


@pytest.mark.parametrize("command", ["volcontrol", "cta"])
def test_price_file_corpus(command: str, test_data, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FLOWDESK_CONFIG", str(tmp_path / "absent.toml"))
    src = test_data / "prices" / FRED
    text = src.read_text()
    clean_args = [command, str(src), "--as-of", AS_OF, "--aum", "1e11", "--json"]
    code, out, err, exc = harness.run_cli(clean_args)
    assert code == 0 and exc is None, err
    clean = _value(json.loads(out))
    outcomes = []
    for case, kind, raw in _price_cases(text):
        path = tmp_path / f"case{len(outcomes)}.csv"
        path.write_bytes(raw)
        outcomes.append(
            harness.classify(
                case,
                kind,
                [command, str(path), "--as-of", AS_OF, "--aum", "1e11", "--json"],
                clean,
                _value,
            )
        )
    table = harness.outcome_table(outcomes)
    print(f"\n{command} corpus ({len(outcomes)} cases)\n{table}")
    bad = [(o.case, o.verdict, o.detail) for o in outcomes if o.verdict in ("wrong", "traceback")]
    assert not bad, bad


def _vx_cases(folder: Path) -> list[tuple[str, str, Path, bytes]]:
    g18 = folder / "clean" / "CFE_G18_VX.csv"
    h18 = folder / "clean" / "CFE_H18_VX.csv"
    j18 = folder / "indexed" / "CFE_J18_VX.csv"
    text = g18.read_text()
    lines = text.splitlines(keepends=True)
    day_row = next(i for i, ln in enumerate(lines) if ln.startswith("2018-02-05")) - 1
    cases: list[tuple[str, str, Path, bytes]] = []
    for value in ("-", "NaN", "", "0", "abc", "332.25", "3.3225"):
        cases.append(
            (
                f"G18 Settle={value!r} on the day",
                f"cell {value!r}",
                g18,
                harness.set_cells(text, 0, [day_row], "Settle", value).encode(),
            )
        )
        cases.append(
            (
                f"G18 Settle={value!r} the day before",
                f"cell {value!r}",
                g18,
                harness.set_cells(text, 0, [day_row - 1], "Settle", value).encode(),
            )
        )
        cases.append(
            (
                f"G18 Settle={value!r} a week later",
                f"cell {value!r}",
                g18,
                harness.set_cells(text, 0, [day_row + 5], "Settle", value).encode(),
            )
        )
    for value in ("", "-", "abc"):
        cases.append(
            (
                f"G18 Open Interest={value!r} on the day",
                "other cell",
                g18,
                harness.set_cells(text, 0, [day_row], "Open Interest", value).encode(),
            )
        )
        cases.append(
            (
                f"G18 Total Volume={value!r} on the day",
                "other cell",
                g18,
                harness.set_cells(text, 0, [day_row], "Total Volume", value).encode(),
            )
        )
    for value in ("2018-13-05", "", "H (Mar 2018)"):
        col = "Futures" if value.startswith("H") else "Trade Date"
        cases.append(
            (
                f"G18 {col}={value!r}",
                "key cell",
                g18,
                harness.set_cells(text, 0, [day_row], col, value).encode(),
            )
        )
    htext = h18.read_text()
    for frac in (0.3, 0.5, 0.8, 0.999):
        cases.append((f"H18 cut at {frac:.0%}", "cut", h18, harness.cut(htext, frac).encode()))
    jtext = j18.read_text()
    cases.append(
        (
            "J18 index column dropped from the header only",
            "header",
            j18,
            jtext.replace(",Trade Date", "Trade Date", 1).encode(),
        )
    )
    for enc, bom in (("cp1252", False), ("utf-8", True), ("utf-16", False)):
        cases.append(
            (
                f"G18 encoded {enc}{' with BOM' if bom else ''}",
                "encoding",
                g18,
                harness.encode(text, enc, bom=bom),
            )
        )
    cases.append(("G18 emptied", "empty", g18, b""))
    cases.append(("G18 header only", "empty", g18, lines[0].encode()))
    return cases


def _vx_value(doc: dict) -> float | None:
    funds = doc.get("funds") or []
    total = sum(f["rebalance_usd"] or 0.0 for f in funds)
    return None if doc.get("index_return") is None else doc["index_return"] + total * 1e-12


def test_vx_folder_corpus(test_data, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FLOWDESK_CONFIG", str(tmp_path / "absent.toml"))
    aum = tmp_path / "aum.csv"
    aum.write_text(
        "ticker,aum_usd\nXIV,1.6e9\nSVXY,1.3e9\nUVXY,9e8\nTVIX,1.2e9\nVXX,1e9\nVIXY,3e8\nVIXM,5e7\nVXZ,2e7\n"
    )
    args = ["vixetp", "--date", "2018-02-05", "--aum", str(aum), "--json", "--vx"]
    code, out, err, _ = harness.run_cli([*args, str(test_data / "vix_futures")])
    assert code == 0, err
    clean = _vx_value(json.loads(out))
    outcomes = []
    for k, (case, kind, target, raw) in enumerate(_vx_cases(test_data / "vix_futures")):
        folder = tmp_path / f"vx{k}"
        shutil.copytree(test_data / "vix_futures", folder)
        (folder / target.relative_to(test_data / "vix_futures")).write_bytes(raw)
        outcomes.append(harness.classify(case, kind, [*args, str(folder)], clean, _vx_value))
    table = harness.outcome_table(outcomes)
    print(f"\nvixetp corpus ({len(outcomes)} cases)\n{table}")
    bad = [(o.case, o.verdict, o.detail) for o in outcomes if o.verdict in ("wrong", "traceback")]
    assert not bad, bad
