"""Bad-input corpus for ``flowdesk cftc``: mutations of trimmed real files (issue 16).

The clean inputs are the real CFTC Legacy and TFF 2025 files and the ECB history (trimmed
copies in ``tests/data/cftc``, see its PROVENANCE.md).  Each case damages one of them the way
files get damaged in the field (a cell replaced by ``-``, ``NaN`` or nothing in every column the
command reads; a download cut mid-body; negative or absurd values; other encodings; duplicated
rows; an FX misprint; a file of the wrong kind) and runs ``flowdesk cftc ... --json`` in-process.
The figure compared with the clean file's is the 2025-01-14 wide-basket net USD (legacy
non-commercials; TFF leveraged funds for the TFF cases).

Asserted: no case gives a wrong number without a warning, none ends in a traceback, every exit
code is documented.  ``FLOWDESK_CORPUS_TABLE=path`` writes the outcome table (for the notes).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests import cftc_replay
from tests.corpus.harness import (
    DOCUMENTED_EXIT_CODES,
    Outcome,
    classify,
    cut,
    encode,
    outcome_table,
)

DAY = "2025-01-14"
EUR, BRL = "099741", "102741"
LEGACY_COLUMNS = {
    "market": 0,
    "date": 2,
    "code": 3,
    "open_interest": 7,
    "noncomm_long": 8,
    "noncomm_short": 9,
    "noncomm_spread": 10,
    "comm_long": 11,
    "comm_short": 12,
    "nonrept_long": 15,
    "nonrept_short": 16,
}
"""Columns ``flowdesk cftc`` reads from the legacy file (0-based positions in the real header)."""
TFF_COLUMNS = {
    "open_interest": 7,
    "lev_money_long": 14,
    "lev_money_short": 15,
    "asset_mgr_long": 11,
    "dealer_long": 8,
}


def _weeks(payload: Any) -> list[dict[str, Any]]:
    """The weeks of the ``--json`` output (a list before the quality object existed)."""
    return payload["weeks"] if isinstance(payload, dict) else payload


def _value(series: str) -> Callable[[Any], float | None]:
    def value_of(payload: Any) -> float | None:
        week = next((w for w in _weeks(payload) if w["as_of"] == DAY), None)
        return None if week is None else week.get(series)

    return value_of


def _lines(text: str) -> tuple[list[str], str]:
    nl = "\r\n" if "\r\n" in text else "\n"
    return text.split(nl), nl


def _row(lines: list[str], code: str, day: str) -> int:
    return next(
        i
        for i, ln in enumerate(lines)
        if ln.split(",")[3].strip().strip('"') == code and ln.split(",")[2].strip() == day
    )


def set_field(text: str, code: str, day: str, col: int, value: str) -> str:
    """The COT text with field ``col`` of the (code, day) row replaced, padding of the rest kept."""
    lines, nl = _lines(text)
    i = _row(lines, code, day)
    fields = lines[i].split(",")
    fields[col] = value
    lines[i] = ",".join(fields)
    return nl.join(lines)


def shift_field(text: str, code: str, day: str, col: int, delta: int) -> str:
    lines, _ = _lines(text)
    old = int(lines[_row(lines, code, day)].split(",")[col])
    return set_field(text, code, day, col, f"{old + delta:>8d}")


def set_fx(text: str, day: str, ccy: str, value: str) -> str:
    lines = text.split("\n")
    header = lines[0].split(",")
    i = next(k for k, ln in enumerate(lines) if ln.startswith(day))
    fields = lines[i].split(",")
    fields[header.index(ccy)] = value
    lines[i] = ",".join(fields)
    return "\n".join(lines)


def _cases(legacy: str, tff: str, fx: str) -> list[tuple[str, str, str, bytes | str]]:
    """(case, kind, which file is damaged: legacy/tff/fx, its content)."""
    out: list[tuple[str, str, str, bytes | str]] = []
    for name, col in LEGACY_COLUMNS.items():
        for label, value in (("dash", "-"), ("NaN", "NaN"), ("empty", "")):
            out.append(
                (
                    f"legacy {name} = {label} (EUR {DAY})",
                    f"cell {label}",
                    "legacy",
                    set_field(legacy, EUR, DAY, col, value),
                )
            )
    for name in ("noncomm_long", "open_interest"):
        out.append(
            (
                f"legacy {name} = '-' (BRL 2025-02-11)",
                "cell dash",
                "legacy",
                set_field(legacy, BRL, "2025-02-11", LEGACY_COLUMNS[name], "       -"),
            )
        )
    for name, col in TFF_COLUMNS.items():
        for label, value in (("dash", "-"), ("NaN", "NaN"), ("empty", "")):
            out.append(
                (
                    f"tff {name} = {label} (EUR {DAY})",
                    f"cell {label}",
                    "tff",
                    set_field(tff, EUR, DAY, col, value),
                )
            )
    for ccy in ("USD", "JPY", "BRL"):
        for label, value in (("dash", "-"), ("NaN", "NaN"), ("empty", "")):
            out.append(
                (f"fx {ccy} = {label} ({DAY})", f"cell {label}", "fx", set_fx(fx, DAY, ccy, value))
            )
    out.append((f"fx Date = '-' ({DAY})", "cell dash", "fx", fx.replace(f"{DAY},", "-,", 1)))
    # cut mid-body (a broken download): mid-line and at a line end
    for frac in (0.05, 0.3, 0.5, 0.62, 0.8, 0.97):
        out.append(
            (f"legacy cut at {frac:.0%} mid-line", "cut mid-body", "legacy", cut(legacy, frac))
        )
    out.append(
        (
            "legacy cut at 50% on a line end",
            "cut mid-body",
            "legacy",
            cut(legacy, 0.5, mid_line=False),
        )
    )
    out.append(("tff cut at 40% mid-line", "cut mid-body", "tff", cut(tff, 0.4)))
    for frac in (0.3, 0.5, 0.9):
        out.append((f"fx cut at {frac:.0%} mid-line", "cut mid-body", "fx", cut(fx, frac)))
    # negative and absurd values
    n = LEGACY_COLUMNS
    out += [
        (
            "legacy noncomm_long negative",
            "negative/absurd",
            "legacy",
            set_field(legacy, EUR, DAY, n["noncomm_long"], "  -60000"),
        ),
        (
            "legacy noncomm_short above open interest",
            "negative/absurd",
            "legacy",
            set_field(legacy, EUR, DAY, n["noncomm_short"], "99999999"),
        ),
        (
            "legacy open_interest 1e12",
            "negative/absurd",
            "legacy",
            set_field(legacy, EUR, DAY, n["open_interest"], "1000000000000"),
        ),
        (
            "legacy open_interest 0",
            "negative/absurd",
            "legacy",
            set_field(legacy, EUR, DAY, n["open_interest"], "       0"),
        ),
        (
            "legacy noncomm_long overflow 1e30",
            "negative/absurd",
            "legacy",
            set_field(legacy, EUR, DAY, n["noncomm_long"], "1" + "0" * 30),
        ),
        (
            "legacy noncomm_long 1.5 contracts",
            "negative/absurd",
            "legacy",
            set_field(legacy, EUR, DAY, n["noncomm_long"], "     1.5"),
        ),
        (
            "legacy noncomm_long misprint -10,000 (plausible)",
            "negative/absurd",
            "legacy",
            shift_field(legacy, EUR, DAY, n["noncomm_long"], -10000),
        ),
        (
            "tff lev_money_short negative",
            "negative/absurd",
            "tff",
            set_field(tff, EUR, DAY, TFF_COLUMNS["lev_money_short"], "  -1"),
        ),
        ("fx USD negative", "negative/absurd", "fx", set_fx(fx, DAY, "USD", "-1.0245")),
        ("fx USD zero", "negative/absurd", "fx", set_fx(fx, DAY, "USD", "0")),
        ("fx JPY 1e9", "negative/absurd", "fx", set_fx(fx, DAY, "JPY", "1000000000")),
    ]
    # an FX misprint: a decimal point in the wrong place on the report date
    out += [
        ("fx USD 10.245 for 1.0245", "FX misprint", "fx", set_fx(fx, DAY, "USD", "10.245")),
        ("fx JPY 16.19 for 161.9", "FX misprint", "fx", set_fx(fx, DAY, "JPY", "16.19")),
        ("fx MXN 2.1 for 21.1", "FX misprint", "fx", set_fx(fx, DAY, "MXN", "2.1")),
    ]
    # encodings
    out += [
        ("legacy UTF-8 with BOM", "encoding", "legacy", encode(legacy, "utf-8", bom=True)),
        (
            "legacy cp1252 (a market named Zürich)",
            "encoding",
            "legacy",
            encode(legacy.replace("WHEAT-SRW", "WHEAT-ZÜRICH"), "cp1252"),
        ),
        ("legacy UTF-16 with BOM", "encoding", "legacy", legacy.encode("utf-16")),
        ("legacy UTF-16 without BOM", "encoding", "legacy", legacy.encode("utf-16-le")),
        ("fx UTF-8 with BOM", "encoding", "fx", encode(fx, "utf-8", bom=True)),
        ("fx UTF-16 with BOM", "encoding", "fx", fx.encode("utf-16")),
        (
            "fx cp1252 bytes in a stray last line",
            "encoding",
            "fx",
            fx.encode("cp1252") + b"Fin de s\xe9rie\n",
        ),
    ]
    # duplicates
    lines, nl = _lines(legacy)
    eur = _row(lines, EUR, DAY)
    # a second EUR row for the same week with other numbers (sides still adding up)
    dup_conflict = lines[eur].split(",")
    dup_conflict[n["noncomm_long"]] = f"{int(dup_conflict[n['noncomm_long']]) + 500:>8d}"
    dup_conflict[n["comm_long"]] = f"{int(dup_conflict[n['comm_long']]) - 500:>8d}"
    fx_lines = fx.split("\n")
    fx_day = next(k for k, ln in enumerate(fx_lines) if ln.startswith(DAY))
    fx_conflict = fx_lines[fx_day].replace("1.0245", "1.0300", 1)
    out += [
        (
            "legacy exact duplicate row",
            "duplicates",
            "legacy",
            nl.join([*lines[: eur + 1], lines[eur], *lines[eur + 1 :]]),
        ),
        (
            "legacy conflicting duplicate row",
            "duplicates",
            "legacy",
            nl.join([*lines[: eur + 1], ",".join(dup_conflict), *lines[eur + 1 :]]),
        ),
        (
            "fx exact duplicate day",
            "duplicates",
            "fx",
            "\n".join([*fx_lines[: fx_day + 1], fx_lines[fx_day], *fx_lines[fx_day + 1 :]]),
        ),
        (
            "fx conflicting duplicate day",
            "duplicates",
            "fx",
            "\n".join([*fx_lines[: fx_day + 1], fx_conflict, *fx_lines[fx_day + 1 :]]),
        ),
    ]
    # structure: wrong or empty files
    header = lines[0] + nl
    out += [
        ("legacy header only", "structure", "legacy", header),
        ("legacy empty file", "structure", "legacy", ""),
        (
            "legacy no currency rows (cases/bad-input)",
            "structure",
            "legacy",
            (Path(cftc_replay.DATA) / "cftc_no_currency_rows.txt").read_bytes(),
        ),
        ("legacy binary garbage", "structure", "legacy", bytes(range(256)) * 4),
        (
            "legacy row shifted by an extra comma",
            "structure",
            "legacy",
            nl.join([*lines[:eur], lines[eur].replace(",", ",,", 1), *lines[eur + 1 :]]),
        ),
        (
            "legacy a zip cut in half",
            "structure",
            "legacy",
            cftc_replay.zip_bytes("annual.txt", legacy)[:9000],
        ),
        ("legacy a zip with two members", "structure", "legacy", _two_member_zip(legacy)),
        ("fx header only", "structure", "fx", fx.split("\n")[0] + "\n"),
        ("fx given the COT file", "structure", "fx", legacy),
    ]
    return out


def _two_member_zip(text: str) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("annual.txt", text)
        zf.writestr("readme.txt", "x")
    return buf.getvalue()


def run_corpus(tmp_path: Path) -> list[Outcome]:
    legacy_text = cftc_replay.member_text(cftc_replay.LEGACY_ZIP)
    tff_text = cftc_replay.member_text(cftc_replay.TFF_ZIP)
    fx_text = cftc_replay.ECB_CSV.read_text()
    clean = {
        "legacy": tmp_path / "annual.txt",
        "tff": tmp_path / "FinFutYY.txt",
        "fx": tmp_path / "eurofxref-hist.csv",
    }
    clean["legacy"].write_text(legacy_text)
    clean["tff"].write_text(tff_text)
    clean["fx"].write_text(fx_text)

    def args(files: dict[str, Path], report: str) -> list[str]:
        return ["cftc", f"--{report}", str(files[report]), "--fx", str(files["fx"]), "--json"]

    series = {"legacy": "net_usd_wide9", "tff": "net_usd_levfunds_wide9"}
    base = {}
    for report in ("legacy", "tff"):
        ref = classify(
            f"clean {report}", "clean", args(clean, report), None, _value(series[report])
        )
        assert ref.exit_code == 0, ref.stderr
        base[report] = _value(series[report])(json.loads(ref.stdout))
    assert base["legacy"] == pytest.approx(35_052_990_271.4, abs=1.0)
    outcomes = []
    for i, (case, kind, target, content) in enumerate(_cases(legacy_text, tff_text, fx_text)):
        files = dict(clean)
        path = tmp_path / f"case{i:03d}_{clean[target].name}"
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        files[target] = path
        report = "tff" if target == "tff" else "legacy"
        outcomes.append(
            classify(case, kind, args(files, report), base[report], _value(series[report]))
        )
    return outcomes


@pytest.mark.slow
def test_cftc_corpus_has_no_wrong_number_and_no_traceback(tmp_path: Path) -> None:
    outcomes = run_corpus(tmp_path)
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
    # the handed case: a clear error naming the file, not a ValueError traceback
    none = next(o for o in outcomes if o.case.startswith("legacy no currency rows"))
    assert none.exit_code == 2 and "no currency markets in the file" in none.stderr
