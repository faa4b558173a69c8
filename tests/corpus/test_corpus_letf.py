"""Bad-input corpus for the leveraged-ETF sources: mutated copies of a real universe snapshot and a
real ProShares NAV history, run through ``flowdesk letf ... --json``.

Universe cases (``tests/data/letf/leveraged_etf_data_2026-06-01_trimmed.csv``, 87 real rows):
every column set to ``-``, ``NaN`` and empty on four row sets (the largest daily fund TQQQ, a
small daily fund CONL, the monthly-reset MQQQ, every 7th row), the file cut mid-body, encodings
(Latin-1, cp1252, UTF-8 with BOM, UTF-16), exact and conflicting duplicates, negative / absurd
values, empty files.  NAV cases (``proshares_SSO-historical_nav_trimmed.csv``, the 150 newest real
rows, passed with ``--nav``: its latest assets replace SSO's): every column blanked the same way
on the newest, second-newest and a mid-history row, cuts, encodings, duplicates, absurd values.

The figure compared is the equity total ``per_1pct_usd``.  The assertion (issue 16 section 3):
no case ends ``wrong`` (exit 0, no warning, a figure different from the clean file's) and none
ends with a ``traceback``; every exit code is in the documented set.  Run this module as a
script to print the outcome tables.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.corpus import harness

DATA = Path(__file__).resolve().parents[1] / "data" / "letf"
UNIVERSE = DATA / "leveraged_etf_data_2026-06-01_trimmed.csv"
NAV = DATA / "proshares_SSO-historical_nav_trimmed.csv"
VALUES = {"-": "'-'", "NaN": "NaN", "": "empty"}

Case = tuple[str, str, bytes]


def _value(doc: dict) -> float | None:
    return doc.get("per_1pct_usd")


def _rows_of(text: str, tickers: list[str]) -> list[int]:
    rows = list(csv.reader(io.StringIO(text)))[1:]
    index = {r[0]: i for i, r in enumerate(rows) if r}
    return [index[t] for t in tickers]


def _replace_row(text: str, row: int, fn: Callable[[list[str]], list[str]]) -> str:
    lines = text.splitlines(keepends=True)
    fields = next(csv.reader([lines[row + 1].rstrip("\r\n")]))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fn(fields))
    lines[row + 1] = buf.getvalue() + "\n"
    return "".join(lines)


UNUSED_COLUMNS = {
    "created_at",
    "expense_ratio",
    "url",
    "exchange",
    "inception_date",
    "percent_change_from_prev_day",
    "ytd_returns",
    "options_enabled",
    "options_expiration_type",
    "weekly_returns",
    "fund_type",
}
"""Columns no figure reads: blanked on one row set only (the others would repeat the same case)."""


def universe_cases() -> list[Case]:
    text = UNIVERSE.read_text(
        encoding="utf-8-sig"
    )  # the real file starts with a BOM: bytes, not text
    header = next(csv.reader([text.splitlines()[0]]))
    n = len(text.splitlines()) - 1
    row_sets = {
        "TQQQ": _rows_of(text, ["TQQQ"]),
        "CONL": _rows_of(text, ["CONL"]),
        "MQQQ": _rows_of(text, ["MQQQ"]),
        "every 7th": list(range(0, n, 7)),
    }
    cases: list[Case] = []
    for column in header:
        for value, label in VALUES.items():
            for rows_name, rows in row_sets.items():
                if column in UNUSED_COLUMNS and rows_name != "every 7th":
                    continue
                mutated = harness.set_cells(text, 0, rows, column, value)
                cases.append(
                    (
                        f"{column}={label} on {rows_name}",
                        f"universe: cell {label}",
                        mutated.encode("utf-8"),
                    )
                )
    for fraction in (0.002, 0.05, 0.25, 0.5, 0.75, 0.9, 0.999):
        cases.append(
            (
                f"cut at {fraction:.1%} mid-line",
                "universe: cut mid-body",
                harness.cut(text, fraction).encode("utf-8"),
            )
        )
    cases += [
        ("latin-1", "universe: encoding", harness.encode(text, "latin-1")),
        ("cp1252", "universe: encoding", harness.encode(text, "cp1252")),
        ("utf-8 with BOM", "universe: encoding", harness.encode(text, "utf-8", bom=True)),
        ("utf-8 without BOM", "universe: encoding", harness.encode(text, "utf-8")),
        ("BOM twice", "universe: encoding", harness.encode("\ufeff" + text, "utf-8", bom=True)),
        ("utf-16", "universe: encoding", harness.encode(text, "utf-16")),
        ("CRLF line ends", "universe: encoding", text.replace("\n", "\r\n").encode("utf-8")),
    ]
    lines = text.splitlines(keepends=True)
    tqqq = _rows_of(text, ["TQQQ"])[0] + 1
    conl = _rows_of(text, ["CONL"])[0] + 1
    cases += [
        (
            "TQQQ row repeated at the end",
            "universe: duplicate",
            (text + lines[tqqq]).encode("utf-8"),
        ),
        (
            "CONL row repeated in the middle",
            "universe: duplicate",
            "".join(lines[:40] + [lines[conl]] + lines[40:]).encode("utf-8"),
        ),
        (
            "TQQQ repeated with other assets",
            "universe: duplicate",
            (
                text
                + harness.set_cells(lines[0] + lines[tqqq], 0, [0], "aum", "39349000001")[
                    len(lines[0]) :
                ]
            ).encode("utf-8"),
        ),
        (
            "CONL repeated with another name",
            "universe: duplicate",
            (
                text
                + lines[conl].replace(
                    "GraniteShares 2x Long Coin ETF", "GraniteShares 2x Long COIN ETF"
                )
            ).encode("utf-8"),
        ),
    ]
    absurd = [
        ("CONL", "aum", "-5"),
        ("CONL", "aum", "1e15"),
        ("TQQQ", "aum", "inf"),
        ("CONL", "aum", "1e400"),
        ("CONL", "leverage", "30x"),
        ("CONL", "leverage", "-2x"),
        ("CONL", "leverage", "0x"),
        ("TQQQ", "leverage", "infx"),
        ("CONL", "direction", "sideways"),
        ("CONL", "price", "0"),
        ("CONL", "price", "-1"),
        ("CONL", "avg_volume", "-5"),
        ("TQQQ", "aum", "3.9349e+10 USD"),
    ]
    for ticker, column, value in absurd:
        mutated = harness.set_cells(text, 0, _rows_of(text, [ticker]), column, value)
        cases.append(
            (f"{ticker} {column}={value}", "universe: absurd value", mutated.encode("utf-8"))
        )
    cases += [
        ("header only", "universe: empty", (lines[0]).encode("utf-8")),
        ("empty file", "universe: empty", b""),
        ("blank lines only", "universe: empty", b"\n\n  \n"),
        ("header and blank lines", "universe: empty", (lines[0] + "\n\n").encode("utf-8")),
        ("NUL bytes", "universe: empty", b"\x00" * 64),
    ]
    return cases


NAV_UNUSED_COLUMNS = {"ProShares Name", "Prior NAV", "NAV Change (%)", "NAV Change ($)"}


def nav_cases() -> list[Case]:
    text = NAV.read_text(encoding="utf-8-sig")
    header = next(csv.reader([text.splitlines()[0]]))
    cases: list[Case] = []
    for column in header:
        for value, label in VALUES.items():
            for rows_name, rows in {"newest": [0], "second newest": [1], "row 60": [60]}.items():
                if column in NAV_UNUSED_COLUMNS and rows_name != "newest":
                    continue
                mutated = harness.set_cells(text, 0, rows, column, value)
                cases.append(
                    (
                        f"{column}={label} on {rows_name}",
                        f"nav: cell {label}",
                        mutated.encode("utf-8"),
                    )
                )
    for fraction in (0.01, 0.3, 0.6, 0.95, 0.9995):
        cases.append(
            (
                f"cut at {fraction:.2%} mid-line",
                "nav: cut mid-body",
                harness.cut(text, fraction).encode("utf-8"),
            )
        )
    cases += [
        ("latin-1", "nav: encoding", harness.encode(text, "latin-1")),
        ("utf-8 with BOM", "nav: encoding", harness.encode(text, "utf-8", bom=True)),
        ("utf-16", "nav: encoding", harness.encode(text, "utf-16")),
        ("no trailing newline", "nav: encoding", text.rstrip("\n").encode("utf-8")),
    ]
    lines = text.splitlines(keepends=True)
    cases += [
        (
            "newest row repeated",
            "nav: duplicate",
            "".join(lines[:2] + [lines[1]] + lines[2:]).encode("utf-8"),
        ),
        (
            "newest date repeated with other assets",
            "nav: duplicate",
            "".join(lines[:2] + [lines[1].replace("5505732900", "5505732901")] + lines[2:]).encode(
                "utf-8"
            ),
        ),
    ]
    scale = {
        "NAV x10 on the newest row": lambda f: [*f[:3], str(float(f[3]) * 10), *f[4:]],
        "assets x10 on the newest row": lambda f: [*f[:8], str(int(f[8]) * 10)],
        "shares x10 on the newest row": lambda f: [*f[:7], str(float(f[7]) * 10), f[8]],
        "assets x1000 on the newest row": lambda f: [*f[:8], str(int(f[8]) * 1000)],
        "negative NAV on row 60": None,
        "negative shares on the newest row": lambda f: [*f[:7], "-" + f[7], f[8]],
        "another ticker on row 60": None,
    }
    for name, fn in scale.items():
        if name == "negative NAV on row 60":
            mutated = _replace_row(text, 60, lambda f: [*f[:3], "-" + f[3], *f[4:]])
        elif name == "another ticker on row 60":
            mutated = _replace_row(text, 60, lambda f: [f[0], f[1], "UPRO", *f[3:]])
        else:
            mutated = _replace_row(text, 0, fn)
        cases.append((name, "nav: absurd value", mutated.encode("utf-8")))
    cases += [
        ("header only", "nav: empty", lines[0].encode("utf-8")),
        ("empty file", "nav: empty", b""),
    ]
    return cases


def run_universe(tmp: Path) -> list[harness.Outcome]:
    clean = harness.run_cli(["letf", str(UNIVERSE), "--json"])
    assert clean[0] == 0, clean
    import json

    doc = json.loads(clean[1])
    assert doc["quality"]["skipped_rows"] == 0 and doc["quality"]["warnings"] == []  # a clean base
    clean_value = _value(doc)
    out = []
    for i, (case, kind, data) in enumerate(universe_cases()):
        path = tmp / f"u{i}.csv"
        path.write_bytes(data)
        out.append(harness.classify(case, kind, ["letf", str(path), "--json"], clean_value, _value))
    return out


def run_nav(tmp: Path) -> list[harness.Outcome]:
    import json

    clean = harness.run_cli(["letf", str(UNIVERSE), "--nav", str(NAV), "--json"])
    assert clean[0] == 0, clean
    doc = json.loads(clean[1])
    assert doc["quality"]["skipped_rows"] == 0 and doc["quality"]["warnings"] == []
    clean_value = _value(doc)
    out = []
    for i, (case, kind, data) in enumerate(nav_cases()):
        path = tmp / f"n{i}.csv"
        path.write_bytes(data)
        out.append(
            harness.classify(
                case,
                kind,
                ["letf", str(UNIVERSE), "--nav", str(path), "--json"],
                clean_value,
                _value,
            )
        )
    return out


def _check(outcomes: list[harness.Outcome]) -> None:
    bad = [
        o
        for o in outcomes
        if o.verdict in ("wrong", "traceback") or o.exit_code not in harness.DOCUMENTED_EXIT_CODES
    ]
    assert not bad, (
        "\n"
        + harness.outcome_table(outcomes)
        + "\n"
        + "\n".join(f"{o.kind} / {o.case}: {o.verdict} ({o.detail})" for o in bad[:20])
    )


@pytest.mark.slow
def test_universe_corpus_no_wrong_no_traceback(tmp_path) -> None:
    outcomes = run_universe(tmp_path)
    assert len(outcomes) > 200
    _check(outcomes)
    by_case = {o.case: o for o in outcomes}
    # the economically decisive damage is refused or warned, never silently absorbed
    assert (
        by_case["leverage='-' on TQQQ"].verdict == "clear error"
        and "refused" in by_case["leverage='-' on TQQQ"].detail
    )
    assert (
        by_case["TQQQ repeated with other assets"].verdict == "clear error"
        and "TQQQ" in by_case["TQQQ repeated with other assets"].detail
    )
    assert by_case["TQQQ row repeated at the end"].verdict == "correct"
    assert (
        by_case["latin-1"].verdict == "correct" and by_case["utf-8 with BOM"].verdict == "correct"
    )
    assert (
        by_case["header only"].verdict == "clear error"
        and "empty universe" in by_case["header only"].detail
    )
    # a monthly fund's damaged leverage does not touch the daily figure
    assert by_case["leverage=empty on MQQQ"].verdict == "correct"


@pytest.mark.slow
def test_nav_corpus_no_wrong_no_traceback(tmp_path) -> None:
    outcomes = run_nav(tmp_path)
    assert len(outcomes) > 70
    _check(outcomes)
    by_case = {o.case: o for o in outcomes}
    assert by_case["assets x10 on the newest row"].verdict in (
        "warned",
        "clear error",
    )  # refused: 6.5 % of AUM-days
    assert by_case["newest date repeated with other assets"].verdict == "clear error"
    assert by_case["ProShares Name=empty on newest"].verdict == "correct"


@pytest.mark.parametrize(
    "args",
    [
        ["letf", "{u}", "--move", "NVDA=-170", "--json"],
        ["letf", "{u}", "--move", "NOPE=-3", "--json"],
        ["letf", "{u}", "--move", "NVDA", "--json"],
    ],
)
def test_bad_moves_are_clear_errors(args: list[str]) -> None:
    code, _out, err, exc = harness.run_cli([a.format(u=UNIVERSE) for a in args])
    assert exc is None and code == 2 and err.startswith("error: --move")


if __name__ == "__main__":  # pragma: no cover - prints the tables a closing note quotes
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        u = run_universe(Path(d))
        print(f"universe corpus: {len(u)} cases\n" + harness.outcome_table(u))
        n = run_nav(Path(d))
        print(f"\nNAV corpus: {len(n)} cases\n" + harness.outcome_table(n))
