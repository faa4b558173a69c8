"""The quote table's two paths give the same chain, quality and errors (issue 17 §2).

:func:`flows.sources.cboe_csv.parse` turns a regular file (every real one) into the chain in one
pass over whole columns (``_regular_chain``) and sends anything else through the checks cell by
cell.  Both must agree: on the real files (trimmed copies; the full-size ones when the shared
folder is present), on every mutation of the gamma bad-input corpus and on damage aimed at the
one-pass path's own conditions, the frames, skipped rows, quality records and error messages of
``regular=True`` and ``regular=False`` are identical.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from flows.chain import validate_chain
from flows.errors import FlowdeskError
from flows.sources import cboe_csv
from tests.corpus.test_corpus_gamma import SPX, csv_cases
from tests.realdata import full, root, trimmed

FILES = [
    trimmed(f"options/{name}", id=name)
    for name in (
        "spx_quotedata_2023-09-14_trimmed.csv",
        "spx_quotedata_2024-01-07_trimmed.csv",
        "spy_quotedata_2023-09-14_trimmed.csv",
    )
] + [
    full(f"options/{name}", id=name)
    for name in (
        "spx_quotedata_2023-09-14.csv",
        "spx_quotedata_2024-01-07.csv",
        "spy_quotedata_2023-09-14.csv",
    )
]


def outcome(raw: bytes | str, regular: bool) -> tuple[str, object]:
    try:
        return "chain", cboe_csv._parse(raw, "quotes.csv", regular=regular)
    except FlowdeskError as exc:
        return "error", f"{type(exc).__name__}: {exc}"


def assert_same_outcome(raw: bytes | str) -> str:
    """Both paths on ``raw``: the same chain (frames, quality, fields) or the same error."""
    (kind_fast, fast), (kind_exact, exact) = outcome(raw, True), outcome(raw, False)
    assert kind_fast == kind_exact, (fast, exact)
    if kind_fast == "error":
        assert fast == exact
        return kind_fast
    assert isinstance(fast, cboe_csv.Chain) and isinstance(exact, cboe_csv.Chain)
    pd.testing.assert_frame_equal(fast.contracts, exact.contracts, check_exact=True)
    pd.testing.assert_frame_equal(fast.skipped, exact.skipped, check_exact=True)
    assert fast.quality is not None and exact.quality is not None
    assert fast.quality.to_dict() == exact.quality.to_dict()
    assert (fast.underlying, fast.spot, fast.as_of, fast.source) == (
        exact.underlying,
        exact.spot,
        exact.as_of,
        exact.source,
    )
    assert fast.is_validated() and exact.is_validated()
    # the one-pass path validated the arrays it built the frame from: the frame itself passes
    fast._validated = None
    validate_chain(fast, symbols_unique=True)
    return kind_fast


def takes_one_pass(raw: bytes) -> bool:
    """Whether the file is regular (the one-pass path builds its chain)."""
    starts = cboe_csv._line_starts(raw, 5)
    head = raw[: starts[4]].decode()
    lines = head.splitlines()
    table = cboe_csv._read_table_arrow(memoryview(raw)[starts[4] :])
    quality = cboe_csv.Quality(source="quotes.csv", basis="open interest")
    spot = cboe_csv.parse_spot_line(lines[1], "quotes.csv")
    as_of = cboe_csv.parse_date_line(lines[2].split('",')[0], "quotes.csv")
    return (
        table is not None
        and cboe_csv._regular_chain(table, spot, as_of, "quotes.csv", quality, None) is not None
    )


@pytest.mark.parametrize(("where", "name"), FILES)
def test_real_files_take_the_one_pass_path_with_the_same_chain(
    where: str, name: str, request: pytest.FixtureRequest
) -> None:
    raw = (root(request, where) / name).read_bytes()
    assert takes_one_pass(raw)
    assert assert_same_outcome(raw) == "chain"
    # other spellings of the same bytes: str, CRLF, a UTF-8 byte-order mark, no final newline
    text = raw.decode()
    assert assert_same_outcome(text) == "chain"
    assert assert_same_outcome(text.replace("\n", "\r\n").encode()) == "chain"
    assert assert_same_outcome(b"\xef\xbb\xbf" + raw) == "chain"
    assert assert_same_outcome(raw.rstrip(b"\n")) == "chain"


@pytest.mark.parametrize("case", csv_cases(), ids=lambda c: c.name)
def test_corpus_mutations_give_the_same_outcome_on_both_paths(case) -> None:
    assert_same_outcome(case.content)


def _lines() -> tuple[list[str], list[str]]:
    lines = SPX.read_text().splitlines(keepends=True)
    return lines[:4], lines[4:]


def _edit(row: int, change) -> bytes:
    """The trimmed SPX table with data row ``row``'s cells changed by ``change(cells)``."""
    head, body = _lines()
    cells = body[row].rstrip("\n").split(",")
    change(cells)
    body = [*body[:row], ",".join(cells) + "\n", *body[row + 1 :]]
    return "".join(head + body).encode()


def _set(pos: int, value: str):
    def change(cells: list[str]) -> None:
        cells[pos] = value

    return change


ONE_PASS_DAMAGE = {
    "lower-case call symbol": _edit(10, lambda c: c.__setitem__(1, c[1].lower())),
    "padded call symbol": _edit(10, lambda c: c.__setitem__(1, c[1][:4] + "  " + c[1][4:])),
    "put symbol of another strike": _edit(10, lambda c: c.__setitem__(12, c[12][:-4] + "9000")),
    "put symbol written as a call": _edit(10, lambda c: c.__setitem__(12, c[1])),
    "call symbol written as a put": _edit(10, lambda c: c.__setitem__(1, c[12])),
    "both symbols of another expiry": _edit(
        10, lambda c: [c.__setitem__(i, re.sub(r"\d{6}(?=[CP])", "230916", c[i])) for i in (1, 12)]
    ),
    "symbols of an impossible date": _edit(
        10, lambda c: [c.__setitem__(i, re.sub(r"\d{6}(?=[CP])", "230231", c[i])) for i in (1, 12)]
    ),
    "root of seven letters": _edit(
        10, lambda c: [c.__setitem__(i, "SPXWEEK" + c[i][4:]) for i in (1, 12)]
    ),
    "root with a lower-case letter": _edit(
        10, lambda c: [c.__setitem__(i, "SPXw" + c[i][4:]) for i in (1, 12)]
    ),
    "non-ASCII root": _edit(10, lambda c: [c.__setitem__(i, "SPXÉ" + c[i][4:]) for i in (1, 12)]),
    "strike digits with a letter": _edit(
        10, lambda c: [c.__setitem__(i, c[i][:-3] + "O00") for i in (1, 12)]
    ),
    "strike 0.0004 off the symbol": _edit(
        10, lambda c: c.__setitem__(11, f"{float(c[11]) + 4e-4}")
    ),
    "strike 0.001 off the symbol": _edit(10, lambda c: c.__setitem__(11, f"{float(c[11]) + 1e-3}")),
    "expiry a day off the symbol": _edit(10, lambda c: c.__setitem__(0, "Sat Sep 16 2023")),
    "expiry in another spelling": _edit(10, lambda c: c.__setitem__(0, "fri sep 15 2023")),
    "expiry with another weekday": _edit(10, lambda c: c.__setitem__(0, "Mon" + c[0][3:])),
    "expiry N/A": _edit(10, _set(0, "N/A")),
    "call symbol N/A": _edit(10, _set(1, "N/A")),
    "IV NaN": _edit(10, _set(7, "NaN")),
    "volume null": _edit(10, _set(17, "null")),
    "open interest -1.#IND": _edit(10, _set(10, "-1.#IND")),
    "strike 0": _edit(10, _set(11, "0")),
    "a row repeated": (lambda h, b: "".join(h + b[:20] + [b[19]] + b[20:]).encode())(*_lines()),
    "a row repeated with another bid": (
        lambda h, b: "".join(h + b[:20] + [b[19].replace(",", ",9", 5)] + b[20:]).encode()
    )(*_lines()),
    "expiry after the calendar": _edit(
        10,
        lambda c: [
            c.__setitem__(0, "Fri Sep 15 2045"),
            *(c.__setitem__(i, re.sub(r"\d{6}(?=[CP])", "450915", c[i])) for i in (1, 12)),
        ],
    ),
    "a blank line": (lambda h, b: "".join(h + b[:30] + ["\n"] + b[30:]).encode())(*_lines()),
    "a quoted cell": _edit(10, lambda c: c.__setitem__(11, f'"{c[11]}"')),
    "gamma x spot beyond its limit": _edit(10, _set(9, "50")),
    "delta -1.5": _edit(10, _set(19, "-1.5")),
    "IV 0 everywhere": (
        lambda h, b: "".join(
            h
            + [
                ",".join("0" if i in (7, 18) else c for i, c in enumerate(line.split(","))) + "\n"
                for line in (x.rstrip("\n") for x in b)
            ]
        ).encode()
    )(*_lines()),
    # IV, bids and asks 0 on both sides: nothing to solve an IV from
    "IV and quotes 0 everywhere": (
        lambda h, b: "".join(
            h
            + [
                ",".join(
                    "0" if i in (4, 5, 7, 15, 16, 18) else c for i, c in enumerate(line.split(","))
                )
                + "\n"
                for line in (x.rstrip("\n") for x in b)
            ]
        ).encode()
    )(*_lines()),
}


STILL_REGULAR = {"a quoted cell", "strike 0.0004 off the symbol", "expiry with another weekday"}
"""Edits the one-pass path accepts: a quoted number, a strike within the symbol's precision, an
expiry whose weekday is not its date's (not CBOE's spelling: read text by text, as pandas'
``%a %b %d %Y`` reads it, by its date)."""


@pytest.mark.parametrize("name", list(ONE_PASS_DAMAGE))
def test_damage_to_the_one_pass_conditions_gives_the_same_outcome(name: str) -> None:
    raw = ONE_PASS_DAMAGE[name]
    if name == "IV and quotes 0 everywhere":  # regular, refused by validate_chain on both paths
        with pytest.raises(FlowdeskError, match="no contract has a quote"):
            takes_one_pass(raw)
        assert assert_same_outcome(raw) == "error"
        return
    if name == "IV 0 everywhere":  # regular and kept: the IVs are solved from the mids
        assert takes_one_pass(raw)
        assert assert_same_outcome(raw) == "chain"
        return
    assert takes_one_pass(raw) == (name in STILL_REGULAR)
    assert_same_outcome(raw)
