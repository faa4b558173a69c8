"""Bad-input corpus for ``flowdesk gamma FILE --json`` (issue 16 §1-3 for option chains).

Mutations of real files (the trimmed SPX quote table and the MSTR options JSON in
``tests/data/options``) and the handed case files: cells set to ``-``, ``NaN``, empty, ``null``,
removed; files cut mid-line and at line ends; negative, absurd and non-finite values; encodings
and byte-order marks; duplicated rows; structural damage.  Every case runs the real command
in-process and is classified by :func:`tests.corpus.harness.classify`; the test asserts that
none is ``wrong`` or ``traceback`` except the documented undetectable ones
(:data:`KNOWN_UNDETECTABLE`), plus a few exact expectations.

``FLOWDESK_CORPUS_REPORT=path`` writes the outcome table (Markdown) and every case's verdict
(JSON next to it), e.g. to compare a run on the original code.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.corpus.harness import Outcome, classify, cut, encode, json_set, outcome_table, set_cells

DATA = Path(__file__).resolve().parents[1] / "data"
SPX = DATA / "options" / "spx_quotedata_2023-09-14_trimmed.csv"
MSTR = DATA / "options" / "options_MSTR_2026-07-10_trimmed.json"
CASES = DATA / "cases"
HEADER_LINE = 3
"""0-based line of the quote table's column header."""

CSV_COLUMNS = ("Bid", "Ask", "Volume", "IV", "Delta", "Gamma", "Open Interest", "Last Sale", "Net")
JSON_FIELDS = ("bid", "ask", "iv", "open_interest", "volume", "delta", "gamma")

KNOWN_UNDETECTABLE = {
    "csv cut at a line end above the money of the last expiry": "a quote table cut at a line boundary above spot in its last expiry, where the remaining top call's delta is already below 0.35, leaves well-formed lines and a plausible strike range (flows/sources/cboe_csv.py docstring)",
}
"""Cases a parser cannot tell from a clean file, documented where the rule lives."""


@dataclass
class Case:
    name: str
    kind: str
    content: bytes
    suffix: str
    clean: str  # "spx", "mstr" or a key of EXPECTED


EXPECTED = {
    "case missing gamma": -86_003_172.0,
    "case vix": 5_300_924.0,
    "case adjusted": 0.0,
}
"""Independent values of the handed case files (cases README; the adjusted series excluded)."""


def spx_text() -> str:
    return SPX.read_text()


def ntm_rows(
    text: str,
    width: float = 60.0,
    expiries: tuple[str, ...] = ("Fri Sep 15 2023", "Mon Sep 18 2023", "Fri Sep 22 2023"),
) -> list[int]:
    """0-based data rows (after the header) of live expiries with a strike within ``width`` of spot."""
    lines = text.splitlines()[HEADER_LINE + 1 :]
    out = []
    for i, line in enumerate(lines):
        cells = line.split(",")
        if cells[0] in expiries and abs(float(cells[11]) - 4505.1001) <= width:
            out.append(i)
    return out


def csv_cases() -> list[Case]:
    text = spx_text()
    rows = ntm_rows(text)
    few = rows[:4]
    out: list[Case] = []

    def add(name: str, kind: str, body: str | bytes) -> None:
        out.append(
            Case(name, kind, body if isinstance(body, bytes) else body.encode(), ".csv", "spx")
        )

    for value, kind in (("-", "csv cell '-'"), ("NaN", "csv cell NaN"), ("", "csv cell empty")):
        for col in CSV_COLUMNS:
            for occ, side in ((0, "call"), (1, "put")):
                add(
                    f"csv {col} ({side}) = {value!r} on {len(few)} near-the-money rows",
                    kind,
                    set_cells(text, HEADER_LINE, few, col, value, occurrence=occ),
                )
        for col in ("Strike", "Expiration Date", "Calls", "Puts"):
            add(
                f"csv {col} = {value!r} on {len(few)} near-the-money rows",
                kind,
                set_cells(text, HEADER_LINE, few, col, value),
            )
    # the field case: "-" in every numeric call column of the near-the-money contracts
    damaged = text
    for col in CSV_COLUMNS:
        damaged = set_cells(damaged, HEADER_LINE, rows, col, "-", occurrence=0)
    add(
        f"csv '-' in every call column of {len(rows)} near-the-money rows",
        "csv call columns '-'",
        damaged,
    )
    # gamma '-' on a single far-from-the-money line: the model fills it in, and says so
    add(
        "csv Gamma (put) = '-' on one line",
        "csv cell '-'",
        set_cells(text, HEADER_LINE, [rows[-1]], "Gamma", "-", occurrence=1),
    )
    for frac in (0.05, 0.3, 0.55, 0.8, 0.97):
        add(f"csv cut mid-line at {frac:.0%}", "csv cut mid-line", cut(text, frac))
    # cuts at a line end: in the near expiries (the last expiry then ends below or near spot, or
    # the last expiry is days away) and in the upper strikes of the last expiry
    lines = text.splitlines(keepends=True)
    body = lines[HEADER_LINE + 1 :]
    last_start = next(i for i, ln in enumerate(body) if ln.startswith("Fri Dec 19 2025"))
    for n_keep in (5, 120, 300, len(body) - 70, last_start):
        add(
            f"csv cut at a line end after {n_keep} data lines",
            "csv cut at a line end",
            "".join(lines[: HEADER_LINE + 1] + body[:n_keep]),
        )
    above = next(i for i in range(last_start, len(body)) if float(body[i].split(",")[11]) >= 6000)
    out.append(
        Case(
            "csv cut at a line end above the money of the last expiry",
            "csv cut at a line end",
            "".join(lines[: HEADER_LINE + 1] + body[:above]).encode(),
            ".csv",
            "spx",
        )
    )
    for col, value in (
        ("Open Interest", "-5"),
        ("IV", "-0.2"),
        ("Gamma", "-0.01"),
        ("Bid", "-1"),
        ("Strike", "-4500"),
        ("Volume", "-3"),
        ("Delta", "-3"),
    ):
        add(
            f"csv {col} = {value}",
            "csv negative",
            set_cells(text, HEADER_LINE, few[:1], col, value),
        )
    for col, value in (
        ("Open Interest", "1e9"),
        ("IV", "50"),
        ("Gamma", "1000"),
        ("Delta", "5"),
        ("Strike", "4550.00"),
    ):
        add(f"csv {col} = {value}", "csv absurd", set_cells(text, HEADER_LINE, few[:1], col, value))
    add("csv spot x10", "csv absurd", text.replace("Last: 4505.1001", "Last: 45051.001", 1))
    add("csv spot /10", "csv absurd", text.replace("Last: 4505.1001", "Last: 450.51001", 1))
    add(
        "csv spot 4055 (digit swap)",
        "csv absurd",
        text.replace("Last: 4505.1001", "Last: 4055.1001", 1),
    )
    for col, value in (
        ("Open Interest", "inf"),
        ("Gamma", "inf"),
        ("IV", "-inf"),
        ("Bid", "1e400"),
    ):
        add(
            f"csv {col} = {value}",
            "csv non-finite",
            set_cells(text, HEADER_LINE, few[:1], col, value),
        )
    add("csv UTF-8 with BOM", "csv encoding", encode(text, "utf-8", bom=True))
    add("csv UTF-16", "csv encoding", encode(text, "utf-16"))
    add(
        "csv cp1252 name with accents",
        "csv encoding",
        encode(
            text.replace("Standard & Poors 500 Index", "Índice Standard & Poor's 500 – SPX", 1),
            "cp1252",
        ),
    )
    add("csv CRLF line ends", "csv encoding", text.replace("\n", "\r\n"))
    dup = lines[: HEADER_LINE + 1] + body[:50] + body[40:50] + body[50:]
    add("csv 10 lines repeated", "csv duplicate", "".join(dup))
    clash = body[45].split(",")
    clash[10] = str(int(float(clash[10])) + 7)
    add(
        "csv a line repeated with another open interest",
        "csv duplicate",
        "".join(lines[: HEADER_LINE + 1] + body[:46] + [",".join(clash)] + body[46:]),
    )
    add("csv header only", "csv structure", "".join(lines[: HEADER_LINE + 1]))
    add(
        "csv date line garbage",
        "csv structure",
        text.replace("Date: September 14, 2023 at 4:31 PM EDT", "Date: sometime", 1),
    )
    add("csv Gamma header renamed", "csv structure", text.replace(",Gamma,", ",Gama,", 1))
    extra = body[60].rstrip("\n") + ",surplus\n"
    add(
        "csv a data line with an extra field",
        "csv structure",
        "".join(lines[: HEADER_LINE + 1] + body[:60] + [extra] + body[61:]),
    )
    short = ",".join(body[61].split(",")[:15]) + "\n"
    add(
        "csv a data line with 15 fields in the middle",
        "csv structure",
        "".join(lines[: HEADER_LINE + 1] + body[:61] + [short] + body[62:]),
    )
    add(
        "csv cut in the first row (bad-input file)",
        "csv cut mid-line",
        (CASES / "bad-input" / "gamma_cut_in_first_row.csv").read_bytes(),
    )
    return out


def json_cases() -> list[Case]:
    raw = MSTR.read_bytes()
    obj = json.loads(raw)
    out: list[Case] = []

    def add(name: str, kind: str, payload) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        out.append(Case(name, kind, body, ".json", "mstr"))

    rows = (0, 1, 16, 17)  # near-the-money rows of the first expiry
    for value, kind in (
        ("-", "json field '-'"),
        (None, "json field null"),
        (math.nan, "json field NaN"),
        ("", "json field empty string"),
    ):
        for field in JSON_FIELDS:
            p = json.loads(raw)
            for r in rows:
                p["data"]["options"][r][field] = value
            add(f"json {field} = {value!r} on {len(rows)} rows", kind, p)
        add(
            f"json current_price = {value!r}", kind, json_set(obj, ["data", "current_price"], value)
        )
    for field in ("gamma", "iv", "open_interest", "option", "delta"):
        p = json.loads(raw)
        for r in rows:
            p["data"]["options"][r].pop(field)
        add(f"json {field} removed from {len(rows)} rows", "json field removed", p)
    for frac in (0.05, 0.5, 0.95, 0.9999):
        add(f"json cut at {frac:.2%}", "json cut", raw[: int(len(raw) * frac)])
    for field, value in (
        ("open_interest", -5.0),
        ("iv", -0.3),
        ("gamma", -0.01),
        ("bid", -1.0),
        ("volume", -2.0),
    ):
        add(
            f"json {field} = {value}",
            "json negative",
            json_set(obj, ["data", "options", 0, field], value),
        )
    for field, value in (("open_interest", 1e9), ("iv", 77.3), ("gamma", 500.0), ("delta", 3.0)):
        add(
            f"json {field} = {value}",
            "json absurd",
            json_set(obj, ["data", "options", 0, field], value),
        )
    add(
        "json current_price x10",
        "json absurd",
        json_set(obj, ["data", "current_price"], obj["data"]["current_price"] * 10),
    )
    add(
        "json current_price /10",
        "json absurd",
        json_set(obj, ["data", "current_price"], obj["data"]["current_price"] / 10),
    )
    add(
        "json option symbol of another strike",
        "json absurd",
        json_set(obj, ["data", "options", 0, "option"], "MSTR260717C00950000"),
    )
    for field in ("open_interest", "gamma", "iv"):
        add(
            f"json {field} = Infinity",
            "json non-finite",
            json_set(obj, ["data", "options", 0, field], math.inf),
        )
    add(
        "json current_price = Infinity",
        "json non-finite",
        json_set(obj, ["data", "current_price"], math.inf),
    )
    add("json UTF-8 with BOM (bad-input file)", "json encoding", b"\xef\xbb\xbf" + raw)
    add("json UTF-16", "json encoding", encode(raw.decode(), "utf-16"))
    add("json cp1252", "json encoding", encode(raw.decode(), "cp1252"))
    dup = json.loads(raw)
    dup["data"]["options"].extend(dup["data"]["options"][:5])
    add("json 5 rows repeated", "json duplicate", dup)
    add(
        "json conflicting duplicate (bad-input file)",
        "json duplicate",
        (CASES / "bad-input" / "gamma_json_conflicting_duplicate.json").read_bytes(),
    )
    add("json options = []", "json structure", json_set(obj, ["data", "options"], []))
    add("json options = {}", "json structure", json_set(obj, ["data", "options"], {}))
    add("json data removed", "json structure", {k: v for k, v in obj.items() if k != "data"})
    add("json a list at the top", "json structure", [obj])
    add(
        "json nested 100,000 deep (bad-input file)",
        "json structure",
        b'{"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    )
    add(
        "json rows are strings",
        "json structure",
        json_set(obj, ["data", "options"], ["MSTR260717C00095000"] * 3),
    )
    add("json timestamp garbage", "json structure", json_set(obj, ["timestamp"], "yesterday"))
    return out


def case_file_cases() -> list[Case]:
    return [
        Case(
            "case missing gamma",
            "case files",
            (CASES / "gamma-missing-source-gamma" / "chain.json").read_bytes(),
            ".json",
            "case missing gamma",
        ),
        Case(
            "case vix",
            "case files",
            (CASES / "vix-options-settlement" / "chain.json").read_bytes(),
            ".json",
            "case vix",
        ),
        Case(
            "case adjusted",
            "case files",
            (CASES / "adjusted-option-series" / "chain.json").read_bytes(),
            ".json",
            "case adjusted",
        ),
    ]


def net(doc: dict) -> float | None:
    return doc.get("net_gex_usd_per_1pct")


def run_corpus(tmp_path: Path) -> list[Outcome]:
    clean: dict[str, float | None] = dict(EXPECTED)
    for key, path in (("spx", SPX), ("mstr", MSTR)):
        base = classify(f"clean {key}", "clean", ["gamma", str(path), "--json"], None, net)
        assert base.exit_code == 0 and base.exception is None, base.stderr or base.stdout
        clean[key] = json.loads(base.stdout)["net_gex_usd_per_1pct"]
    outcomes = []
    for i, case in enumerate(csv_cases() + json_cases() + case_file_cases()):
        path = tmp_path / f"case{i:03d}{case.suffix}"
        path.write_bytes(case.content)
        o = classify(case.name, case.kind, ["gamma", str(path), "--json"], clean[case.clean], net)
        outcomes.append(o)
    return outcomes


def _write_report(outcomes: list[Outcome]) -> None:
    target = os.environ.get("FLOWDESK_CORPUS_REPORT")
    if not target:
        return
    Path(target).write_text(outcome_table(outcomes) + "\n")
    Path(target).with_suffix(".json").write_text(
        json.dumps(
            [
                {
                    "case": o.case,
                    "kind": o.kind,
                    "exit": o.exit_code,
                    "verdict": o.verdict,
                    "detail": o.detail[:300],
                }
                for o in outcomes
            ],
            indent=1,
        )
    )


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    result = run_corpus(tmp_path_factory.mktemp("gamma-corpus"))
    _write_report(result)
    print("\n" + outcome_table(result))
    return {o.case: o for o in result}


@pytest.mark.slow
def test_no_wrong_number_and_no_traceback(outcomes: dict[str, Outcome]) -> None:
    assert len(outcomes) >= 150
    bad = [
        f"{o.verdict}: {o.case}: {o.detail}"
        for o in outcomes.values()
        if o.verdict in ("wrong", "traceback") and o.case not in KNOWN_UNDETECTABLE
    ]
    assert not bad, "\n".join(bad)
    for name in KNOWN_UNDETECTABLE:
        assert outcomes[name].verdict != "traceback"
    for o in outcomes.values():
        assert o.exit_code in (0, 2), (o.case, o.exit_code)  # 2 = bad input, named


def detail(outcomes: dict[str, Outcome], name: str) -> str:
    o = outcomes[name]
    return f"{o.verdict} (exit {o.exit_code}): {o.stderr.strip() or o.detail}"


def test_exact_expectations(outcomes: dict[str, Outcome]) -> None:
    o = outcomes
    # the field case: '-' in the call columns of the contracts near the money is refused, not -84.8bn
    call_case = next(k for k in o if k.startswith("csv '-' in every call column"))
    assert o[call_case].verdict == "clear error" and "refused" in o[call_case].stderr, detail(
        o, call_case
    )
    # cut files are refused naming the line
    for name in ("csv cut mid-line at 55%", "csv cut in the first row (bad-input file)"):
        assert (
            o[name].verdict == "clear error"
            and "cut mid-body" in o[name].stderr
            and "line" in o[name].stderr
        ), detail(o, name)
    assert "line 5" in o["csv cut in the first row (bad-input file)"].stderr
    # read as what they are
    for name in (
        "json UTF-8 with BOM (bad-input file)",
        "csv UTF-8 with BOM",
        "csv CRLF line ends",
        "json cp1252",
    ):
        assert o[name].verdict == "correct", detail(o, name)
    assert (
        o["json conflicting duplicate (bad-input file)"].verdict == "clear error"
        and "MSTR260717C00095000" in o["json conflicting duplicate (bad-input file)"].stderr
    )
    assert (
        o["json nested 100,000 deep (bad-input file)"].verdict == "clear error"
        and "nested too deeply" in o["json nested 100,000 deep (bad-input file)"].stderr
    )
    for name in ("csv header only", "json options = []"):
        assert o[name].verdict == "clear error" and "empty" in o[name].stderr, detail(o, name)
    # exact repeats are dropped: same number; a repeat with other values is an error naming it
    assert o["csv 10 lines repeated"].verdict in ("correct", "warned") and o[
        "json 5 rows repeated"
    ].verdict in ("correct", "warned")
    assert (
        o["csv a line repeated with another open interest"].verdict == "clear error"
        and "conflicting duplicate" in o["csv a line repeated with another open interest"].stderr
    )
    # plausibility limits name file, row and field
    assert (
        "Strike: line" in o["csv Strike = 4550.00"].stderr
        and "encodes" in o["csv Strike = 4550.00"].stderr
    )
    assert "outside the listed strikes" in o["csv spot x10"].stderr
    # the handed case files
    assert o["case vix"].verdict == "correct"
    assert (
        o["case missing gamma"].verdict == "warned"
        and round(json.loads(o["case missing gamma"].stdout)["net_gex_usd_per_1pct"]) == -86_003_172
    )
    assert (
        o["case adjusted"].verdict == "warned"
        and json.loads(o["case adjusted"].stdout)["excluded_contracts"] == 6
    )


@pytest.mark.extended
def test_rebuilt_bad_input_files_equal_the_shared_ones(shared_data: Path) -> None:
    bad = shared_data / "cases" / "bad-input"
    assert (bad / "gamma_json_with_bom.json").read_bytes() == b"\xef\xbb\xbf" + MSTR.read_bytes()
    assert (
        bad / "gamma_deeply_nested.json"
    ).read_bytes() == b'{"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
