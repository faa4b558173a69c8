"""Bad-input corpus for ``flowdesk futures-positioning``: mutations of a trimmed real TFF file.

The clean input is the real TFF 2024 file trimmed to the 15 markets of the markets table and
its first 26 weeks (``tests/data/cftc_tff``, see its PROVENANCE.md).  Each case damages it the
way files get damaged in the field (a cell replaced by ``-``, ``NaN`` or nothing in every
column the command reads; a misprinted or implausible value; a damaged unit text; a missing
week; a download cut mid-body; other encodings; duplicated rows; a file of the wrong kind) and
runs ``flowdesk futures-positioning --tff FILE --json`` in-process.  The figure compared with
the clean file's is the 10-year note's leveraged-funds net position on 2024-03-12 (the row the
cell mutations damage).

Asserted: no case gives a wrong number without a warning, none ends in a traceback, every exit
code is documented.  ``FLOWDESK_CORPUS_TABLE=path`` writes the outcome table (for the notes).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from tests.corpus.harness import (
    DOCUMENTED_EXIT_CODES,
    Outcome,
    classify,
    cut,
    encode,
    outcome_table,
)

DATA = Path(__file__).resolve().parents[1] / "data"
CLEAN_ZIP = DATA / "cftc_tff" / "fut_fin_txt_2024_markets_through_2024-06-25.zip"
LEGACY_ZIP = DATA / "cftc" / "deacot2025_currencies_2025-01-07_to_2025-03-11.zip"
DAY = "2024-03-12"
ZN, ES_CONS = "043602", "13874+"
COLUMNS = {
    "open_interest": 7,
    "dealer_long": 8,
    "dealer_short": 9,
    "dealer_spread": 10,
    "asset_mgr_long": 11,
    "asset_mgr_short": 12,
    "asset_mgr_spread": 13,
    "lev_money_long": 14,
    "lev_money_short": 15,
    "lev_money_spread": 16,
    "other_rept_long": 17,
    "other_rept_short": 18,
    "other_rept_spread": 19,
    "nonrept_long": 22,
    "nonrept_short": 23,
}
"""Number columns the command reads (0-based positions in the real header)."""


def value_of(payload: Any) -> float | None:
    row = next((r for r in payload["rows"] if r["market"] == "ZN" and r["as_of"] == DAY), None)
    return None if row is None else row["leveraged_funds_net_contracts"]


def _lines(text: str) -> list[str]:
    return text.split("\r\n")


def _row(lines: list[str], code: str, day: str) -> int:
    return next(
        i
        for i, ln in enumerate(lines)
        if ln.split(",")[3:4]
        and ln.split(",")[3].strip().strip('"') == code
        and ln.split(",")[2].strip() == day
    )


def set_field(text: str, code: str, day: str, col: int, value: str) -> str:
    """The text with number field ``col`` of the (code, day) row replaced (no quoted commas
    before column 81 in a TFF row, so a plain split finds the number columns)."""
    lines = _lines(text)
    i = _row(lines, code, day)
    fields = lines[i].split(",")
    fields[col] = value
    lines[i] = ",".join(fields)
    return "\r\n".join(lines)


def set_units(text: str, code: str, day: str, units: str) -> str:
    lines = _lines(text)
    i = _row(lines, code, day)
    head, _, tail = lines[i].partition(',"(')
    rest = tail.split(')"', 1)[1]
    lines[i] = f'{head},"{units}"{rest}'
    return "\r\n".join(lines)


def _zip(member: str, data: str | bytes, *, extra: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, data)
        if extra:
            zf.writestr("readme.txt", "x")
    return buf.getvalue()


def _cases(tff: str) -> list[tuple[str, str, bytes | str]]:
    out: list[tuple[str, str, bytes | str]] = []
    for name, col in COLUMNS.items():
        for label, value in (("dash", "-"), ("NaN", "NaN"), ("empty", "")):
            out.append(
                (
                    f"{name} = {label} (ZN {DAY})",
                    f"cell {label}",
                    set_field(tff, ZN, DAY, col, value),
                )
            )
    lines = _lines(tff)
    zn = _row(lines, ZN, DAY)
    old = {k: int(lines[zn].split(",")[c]) for k, c in COLUMNS.items()}
    out += [
        ("report date = '-' (ZN)", "cell dash", set_field(tff, ZN, DAY, 2, "-")),
        ("code blanked (ZN)", "cell empty", set_field(tff, ZN, DAY, 3, "")),
        (
            "lev_money_short negative",
            "negative/absurd",
            set_field(tff, ZN, DAY, COLUMNS["lev_money_short"], "  -1"),
        ),
        (
            "lev_money_short above open interest",
            "negative/absurd",
            set_field(tff, ZN, DAY, COLUMNS["lev_money_short"], "99999999"),
        ),
        (
            "open_interest 1e12",
            "negative/absurd",
            set_field(tff, ZN, DAY, COLUMNS["open_interest"], "1000000000000"),
        ),
        (
            "open_interest 0",
            "negative/absurd",
            set_field(tff, ZN, DAY, COLUMNS["open_interest"], "0"),
        ),
        (
            "lev_money_long 1.5 contracts",
            "negative/absurd",
            set_field(tff, ZN, DAY, COLUMNS["lev_money_long"], "1.5"),
        ),
        (
            "lev_money_long overflow 1e30",
            "negative/absurd",
            set_field(tff, ZN, DAY, COLUMNS["lev_money_long"], "1" + "0" * 30),
        ),
        (
            "lev_money_short misprint +10,000 (plausible)",
            "negative/absurd",
            set_field(
                tff, ZN, DAY, COLUMNS["lev_money_short"], str(old["lev_money_short"] + 10000)
            ),
        ),
        (
            "lev_money long/short swapped",
            "negative/absurd",
            set_field(
                set_field(tff, ZN, DAY, COLUMNS["lev_money_long"], str(old["lev_money_short"])),
                ZN,
                DAY,
                COLUMNS["lev_money_short"],
                str(old["lev_money_long"]),
            ),
        ),
        (
            "units text unreadable (ZN)",
            "contract units",
            set_units(tff, ZN, DAY, "(CONTRACTS OF TEN-YEAR NOTES)"),
        ),
        (
            "units text $200,000 (ZN)",
            "contract units",
            set_units(tff, ZN, DAY, "(CONTRACTS OF $200,000 FACE VALUE)"),
        ),
        (
            "units text $250 (S&P consolidated)",
            "contract units",
            set_units(tff, ES_CONS, DAY, "(S&P 500 INDEX X $250.00)"),
        ),
        ("units text blank (ZN)", "contract units", set_units(tff, ZN, DAY, "")),
        ("ZN week missing", "missing week", "\r\n".join(lines[:zn] + lines[zn + 1 :])),
    ]
    for frac in (0.05, 0.3, 0.5, 0.62, 0.97):
        out.append((f"cut at {frac:.0%} mid-line", "cut mid-body", cut(tff, frac)))
    out.append(("cut at 50% on a line end", "cut mid-body", cut(tff, 0.5, mid_line=False)))
    out.append(
        (
            "cut at 97% on a line end (VX's oldest weeks lost)",
            "cut mid-body",
            cut(tff, 0.97, mid_line=False),
        )
    )
    out += [
        ("UTF-8 with BOM", "encoding", encode(tff, "utf-8", bom=True)),
        (
            "cp1252 (a market named Zürich)",
            "encoding",
            encode(tff.replace("UST BOND - CHICAGO", "UST BOND - ZÜRICH"), "cp1252"),
        ),
        ("UTF-16 with BOM", "encoding", tff.encode("utf-16")),
        ("UTF-16 without BOM", "encoding", tff.encode("utf-16-le")),
    ]
    dup = lines[zn].split(",")
    dup[COLUMNS["lev_money_long"]] = str(old["lev_money_long"] + 500)
    dup[COLUMNS["other_rept_long"]] = str(old["other_rept_long"] - 500)
    out += [
        (
            "exact duplicate row",
            "duplicates",
            "\r\n".join([*lines[: zn + 1], lines[zn], *lines[zn + 1 :]]),
        ),
        (
            "conflicting duplicate row (sides still adding up)",
            "duplicates",
            "\r\n".join([*lines[: zn + 1], ",".join(dup), *lines[zn + 1 :]]),
        ),
        ("header only", "structure", lines[0] + "\r\n"),
        ("empty file", "structure", ""),
        ("binary garbage", "structure", bytes(range(256)) * 4),
        (
            "row shifted by an extra comma",
            "structure",
            "\r\n".join([*lines[:zn], lines[zn].replace(",", ",,", 1), *lines[zn + 1 :]]),
        ),
        ("a zip cut in half", "structure", _zip("FinFutYY.txt", tff)[:20000]),
        ("a zip with two members", "structure", _zip("FinFutYY.txt", tff, extra=True)),
        ("the legacy file given", "structure", LEGACY_ZIP.read_bytes()),
    ]
    return out


def run_corpus(tmp_path: Path) -> tuple[list[Outcome], float]:
    tff = zipfile.ZipFile(CLEAN_ZIP).read("FinFutYY.txt").decode()
    clean = tmp_path / "FinFutYY.txt"
    clean.write_text(tff, newline="")
    ref = classify(
        "clean", "clean", ["futures-positioning", "--tff", str(clean), "--json"], None, value_of
    )
    assert ref.exit_code == 0, ref.stderr
    base = value_of(json.loads(ref.stdout))
    outcomes = []
    for i, (case, kind, content) in enumerate(_cases(tff)):
        path = tmp_path / f"case{i:03d}_FinFutYY.txt"
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        outcomes.append(
            classify(
                case, kind, ["futures-positioning", "--tff", str(path), "--json"], base, value_of
            )
        )
    return outcomes, base


def test_futures_positioning_corpus_has_no_wrong_number_and_no_traceback(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("FLOWDESK_CONFIG", str(tmp_path / "absent.toml"))
    outcomes, base = run_corpus(tmp_path)
    assert base == 281599 - 1515557  # ZN leveraged funds on 2024-03-12, typed from the row
    table = outcome_table(outcomes)
    detail = "\n".join(
        f"- {o.verdict}: {o.case} (exit {o.exit_code}): {o.detail[:160]}" for o in outcomes
    )
    if os.environ.get("FLOWDESK_CORPUS_TABLE"):
        Path(os.environ["FLOWDESK_CORPUS_TABLE"]).write_text(
            f"{len(outcomes)} cases\n\n{table}\n\n{detail}\n"
        )
    print(f"\n{len(outcomes)} cases\n{table}")
    bad = [
        o
        for o in outcomes
        if o.verdict in ("wrong", "traceback") or o.exit_code not in DOCUMENTED_EXIT_CODES
    ]
    assert not bad, "\n".join(f"{o.verdict}: {o.case}: exit {o.exit_code}: {o.detail}" for o in bad)
    by = {o.case: o for o in outcomes}
    assert (
        by["ZN week missing"].verdict == "warned"
        and "ZN absent on 1 of 26 report weeks" in by["ZN week missing"].detail
    )
    assert (
        by["units text $250 (S&P consolidated)"].verdict == "correct"
    )  # a documented repair, ZN untouched
    assert by["units text $200,000 (ZN)"].verdict == "warned"
    assert by["the legacy file given"].exit_code == 2
    lost = by["cut at 97% on a line end (VX's oldest weeks lost)"]
    assert (
        lost.verdict == "warned"
        and "VX starts on 2024-03-26" in lost.detail
        and "a cut file?" in lost.detail
    )
