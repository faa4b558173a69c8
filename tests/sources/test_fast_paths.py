"""The fast paths of the leveraged-ETF and curated-table parsers read exactly what their exact
paths read: the same frames (values and dtypes), the same quality records and, on bad input,
the same error (the fast path declines and the exact path names the problem).

Each parser's ``_parse_fast`` is compared with the same parser forced onto its exact path
(``_parse_fast`` replaced by one that declines) on the trimmed real files, every mutation of the
bad-input corpus (tests/corpus/test_corpus_letf.py) and structural edits the corpus does not
make (quotes, line ends, blank lines, number spellings, scrape times, duplicates, curated
layout).  The clean files must take the fast path (else the figures of bench/bench_parsers.py
would time the exact one).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from flows.sources import letf_universe, proshares, tff_markets, vixetp_universe
from flows.sources.textio import decode_text
from tests.corpus import harness
from tests.corpus.test_corpus_letf import NAV, UNIVERSE, nav_cases, universe_cases

DATA = Path(__file__).resolve().parents[1] / "data"
TABLE = letf_universe.reset_table()
NO_TABLE = pd.DataFrame(columns=["ticker", "reset", "evidence"])


def _outcome(run: Callable[[], Any]) -> Any:
    try:
        return run()
    except Exception as exc:  # noqa: BLE001 - the error is part of the outcome compared
        return ("error", type(exc).__name__, str(exc))


def _assert_same(fast: Any, exact: Any) -> None:
    if isinstance(exact, pd.DataFrame):
        pd.testing.assert_frame_equal(fast, exact, check_exact=True)
    elif isinstance(exact, tuple) and exact and isinstance(exact[0], pd.DataFrame):
        assert isinstance(fast, tuple) and len(fast) == len(exact)
        for a, b in zip(fast, exact, strict=True):
            _assert_same(a, b)
    elif hasattr(exact, "to_dict") and not isinstance(exact, tuple):
        assert fast.to_dict() == exact.to_dict()
    else:
        assert fast == exact


def _both(
    module: ModuleType, run: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, Any]:
    fast = _outcome(run)
    with monkeypatch.context() as m:
        m.setattr(module, "_parse_fast", lambda *a, **k: None)
        exact = _outcome(run)
    return fast, exact


def _set(text: str, row: int, column: str | int, value: str) -> str:
    return harness.set_cells(text, 0, [row], column, value)


# -- leveraged-ETF universe ---------------------------------------------------------------------
def _universe_edits() -> dict[str, str]:
    text = UNIVERSE.read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    out = {
        "clean": text,
        "blank line": "".join(lines[:10] + ["\n"] + lines[10:]),
        "spaces line": "".join(lines[:10] + ["   \n"] + lines[10:]),
        "commas line": "".join(lines[:10] + ["," * (len(header) - 1) + "\n"] + lines[10:]),
        "blank lines at the end": text + "\n\n",
        "bare CR": text.replace("\n", "\r"),
        "CRLF": text.replace("\n", "\r\n"),
        "no final line break": text.rstrip("\n"),
        "quote inside a field": text.replace(",Tradr,", ',Tr"adr,', 1),
        "text after a closing quote": text.replace(",Tradr,", ',"Tr"adr,', 1),
        "line break in quotes": text.replace(",Tradr,", ',"Tr\nadr",', 1),
        "comma in quotes": text.replace(",Tradr,", ',"Tr,adr",', 1),
        "doubled quote": text.replace(",Tradr,", ',"Tr""adr",', 1),
        "space after a closing quote": text.replace(",Tradr,", ',"Tradr" ,', 1),
        "unterminated quote": text.replace(",Tradr,", ',"Tradr,', 1),
        "header with spaces": " ticker , name" + text[len("ticker,name") :],
        "column twice in the header": text.replace("created_at", "name", 1),
        "aum column renamed": text.replace(",aum,", ",aumx,", 1),
        "extra field": "".join(lines[:5] + [lines[5].rstrip("\n") + ",x\n"] + lines[6:]),
        "field missing": "".join(lines[:5] + [lines[5].rsplit(",", 1)[0] + "\n"] + lines[6:]),
        "field beyond Python's limit": _set(text, 3, "url", "x" * 140_000),
        "repeated row": text + lines[3],
        "repeated lower-case ticker": text + lines[3].lower(),
        "ticker padded, lower case": _set(text, 3, "ticker", " tqqx "),
        "non-ASCII ticker": _set(text, 3, "ticker", "straße"),
        "name with a payout 'Daily'": _set(text, 3, "name", "Foo Daily  Income 2x"),
        "name '-' and another family": _set(_set(text, 3, "fund_family", "Foo"), 3, "name", "-"),
        "family 'MAX'": _set(_set(text, 3, "fund_family", " MAX "), 3, "name", "Something 3x"),
        "family '-' with a brand name": _set(
            _set(text, 3, "fund_family", "-"), 3, "name", "ProShares thing 3x"
        ),
        "a second BOM": "\ufeff" + text,
        "optional columns dropped": "".join(
            ",".join(r[:15]) + "\n"
            for r in csv.reader(io.StringIO(text.replace('"', "").replace(", ", " ")))
        ),
    }
    for column in ("aum", "price", "avg_volume", "leverage"):
        for value in ("1,234", "+5", " 7 ", "1e5", "inf", "nan", "1_000", ".5", "5.", "-0", "١٢"):
            spelled = value + "x" if column == "leverage" else value
            out[f"{column}={spelled!r}"] = _set(text, 7, column, spelled)
    for value in (
        "2026-06-01T00:00:02.381123456+00:00",
        "2026-06-01",
        "garbage",
        "",
        "2026-02-30T00:00:02.381+00:00",
        "2026-06-01T24:00:00+00:00",
        "2026-06-01T00:00:60+00:00",
        "2026-06-01T00:00:02+00:00",
        "2026-06-01T00:00:02.123456+00:00",
        "2026-06-01T00:00:02.1234567+00:00",
        "2026-06-01T00:00:02.381Z",
        "2026-06-01 00:00:02.381+00:00",
        "2026-06-01T00:00:02.381+01:00",
        "1899-12-31T00:00:00+00:00",
        "2026-6-01T00:00:02.381+00:00",
    ):
        out[f"updated_at={value!r}"] = _set(text, 7, "updated_at", value)
    rows = range(len(lines) - 1)
    out["every updated_at blank"] = harness.set_cells(text, 0, rows, "updated_at", "")
    out["every updated_at whole seconds"] = harness.set_cells(
        text, 0, rows, "updated_at", "2026-06-01T00:00:02+00:00"
    )
    out["integers only"] = harness.set_cells(
        harness.set_cells(harness.set_cells(text, 0, rows, "aum", "12345"), 0, rows, "price", "10"),
        0,
        rows,
        "avg_volume",
        "7",
    )
    out["every leverage 'variable'"] = harness.set_cells(text, 0, rows, "leverage", "variable")
    out["every leverage '2x'"] = harness.set_cells(text, 0, rows, "leverage", "2x")
    out["curated layout"] = letf_universe.shipped_path().read_text(encoding="utf-8")
    return out


UNIVERSE_EDITS = _universe_edits()


def _universe_run(raw: bytes, variant: str) -> Callable[[], Any]:
    kwargs: dict[str, Any] = {
        "default": {},
        "table": {"reset_table": TABLE},
        "no table": {"reset_table": NO_TABLE},
        "overrides": {"reset_overrides": {"tqqq ": "weekly", "CONL": "daily"}},
    }[variant]
    return lambda: letf_universe.parse(raw, "universe.csv", **kwargs)


@pytest.mark.parametrize(
    ("edit", "variant"),
    [(e, "default") for e in UNIVERSE_EDITS]
    + [
        (e, v)
        for e in ("clean", "CRLF", "non-ASCII ticker", "family '-' with a brand name")
        for v in ("table", "no table", "overrides")
    ],
)
def test_universe_fast_path_equals_the_exact_path(
    edit: str, variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = UNIVERSE_EDITS[edit].encode("utf-8")
    fast, exact = _both(letf_universe, _universe_run(raw, variant), monkeypatch)
    _assert_same(fast, exact)


@pytest.mark.slow
@pytest.mark.parametrize("case", universe_cases(), ids=lambda c: f"{c[1]}: {c[0]}")
def test_universe_fast_path_equals_the_exact_path_on_the_corpus(
    case: tuple[str, str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, exact = _both(letf_universe, _universe_run(case[2], "default"), monkeypatch)
    _assert_same(fast, exact)


def test_a_clean_snapshot_takes_the_fast_path() -> None:
    raw = UNIVERSE.read_bytes()
    got = letf_universe._parse_fast(raw, decode_text(raw, "u"), "u", TABLE, None)
    assert got is not None and len(got.funds) > 80
    crlf = UNIVERSE_EDITS["CRLF"].encode()
    assert letf_universe._parse_fast(crlf, decode_text(crlf, "u"), "u", TABLE, None) is not None


@pytest.mark.extended
def test_the_real_snapshots_take_the_fast_path(shared_data, monkeypatch) -> None:
    for path in sorted((shared_data / "letf").glob("*leveraged_etf_data_*.csv")):
        raw = path.read_bytes()
        assert letf_universe._parse_fast(raw, decode_text(raw, "u"), "u", TABLE, None)
        fast, exact = _both(letf_universe, _universe_run(raw, "table"), monkeypatch)
        _assert_same(fast, exact)


# -- ProShares NAV histories ----------------------------------------------------------------------
def _nav_edits() -> dict[str, bytes]:
    text = NAV.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    out = {
        "clean": text,
        "UPRO": (DATA / "letf" / "proshares_UPRO-historical_nav_trimmed.csv").read_text(),
        "blank line": "".join(lines[:5] + ["\n"] + lines[5:]),
        "commas line": "".join(lines[:5] + [",,,,,,,,\n"] + lines[5:]),
        "CRLF": text.replace("\n", "\r\n"),
        "bare CR": text.replace("\n", "\r"),
        "quoted name": text.replace("ProShares Ultra S&P500", '"ProShares Ultra, S&P500"', 3),
        "column twice in the header": text.replace("Prior NAV", "NAV", 1),
        "lower-case ticker": text.replace(",SSO,", ",sso,", 2),
        "two tickers": text.replace(",SSO,", ",UPRO,", 1),
        "padded ticker": text.replace(",SSO,", ", SSO ,", 5),
        "cut mid field": text.rstrip("\n")[:-3],
        "no final line break": text.rstrip("\n"),
        "ISO dates": text.replace("05/12/2025", "2025-05-12"),
        "one-digit month": text.replace("05/12/2025", "5/12/2025"),
        "February 30": text.replace("05/12/2025", "02/30/2025"),
        "oldest first": lines[0] + "".join(reversed(lines[1:])),
    }
    for column in (0, 2, 3, 7, 8):  # the columns read
        for value in ("1,234", "+5", " 7 ", "1e5", "inf", "", "-", "0", "-1", "abc"):
            out[f"column {column}={value!r}"] = _set(text, 3, column, value)
    return {k: v.encode("utf-8") for k, v in out.items()}


NAV_EDITS = _nav_edits()


@pytest.mark.parametrize("edit", list(NAV_EDITS))
def test_nav_fast_path_equals_the_exact_path(edit: str, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = NAV_EDITS[edit]
    fast, exact = _both(proshares, lambda: proshares.parse(raw, "nav.csv"), monkeypatch)
    _assert_same(fast, exact)


@pytest.mark.slow
@pytest.mark.parametrize("case", nav_cases(), ids=lambda c: f"{c[1]}: {c[0]}")
def test_nav_fast_path_equals_the_exact_path_on_the_corpus(
    case: tuple[str, str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, exact = _both(proshares, lambda: proshares.parse(case[2], "nav.csv"), monkeypatch)
    _assert_same(fast, exact)


def test_a_clean_nav_history_takes_the_fast_path() -> None:
    for name in ("clean", "UPRO", "CRLF", "no final line break"):
        raw = NAV_EDITS[name]
        assert proshares._parse_fast(raw, decode_text(raw, "n"), "n") is not None, name


# -- the curated tables -----------------------------------------------------------------------------
def _table_edits(path: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Structural edits, and every column set to odd values on one row each."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    n = len(lines) - 1
    structure = {
        "clean": text,
        "header only": lines[0],
        "empty": "",
        "blank line": "".join(lines[:3] + ["\n"] + lines[3:]),
        "spaces line": "".join(lines[:3] + ["  \n"] + lines[3:]),
        "commas line": "".join(lines[:3] + ["," * (len(header) - 1) + "\n"] + lines[3:]),
        "repeated row": text + lines[2],
        "CRLF": text.replace("\n", "\r\n"),
        "bare CR": text.replace("\n", "\r"),
        "no final line break": text.rstrip("\n"),
        "cut": text[: len(text) // 2],
        "extra field": "".join(lines[:2] + [lines[2].rstrip("\n") + ",x\n"] + lines[3:]),
        "field missing": "".join(lines[:2] + [lines[2].rsplit(",", 1)[0] + "\n"] + lines[3:]),
        "upper-case header": lines[0].upper() + "".join(lines[1:]),
        "spaces after commas": ", ".join(header) + "\n" + "".join(lines[1:]),
        "tab before a field": text.replace(",", ",\t", 3),
        "column twice": text.replace(header[-1], header[0], 1),
        "column renamed": text.replace(header[1], header[1] + "z", 1),
        "extra column": "".join(
            [lines[0].rstrip("\n") + ",extra\n"] + [ln.rstrip("\n") + ",e\n" for ln in lines[1:]]
        ),
        "rows reversed": lines[0] + "".join(reversed(lines[1:])),
        "quote inside a field": text.replace(",", ',a"b', 1),
        "non-ASCII": text.replace(",", ",\u00e9", 1),
    }
    cells = {}
    values = ("", "-", "x", "0", "-1", " ", "1e400", "2x", "TRUE", "2024-02-30", "2024-1-5")
    values += ("1,000", "+5", "5.", "ES", "rates", "short_term")
    for column in header:
        for k, value in enumerate(values):
            cells[f"{column}={value!r}"] = _set(text, k % n, column, value)
    return {k: v.encode("utf-8") for k, v in structure.items()}, {
        k: v.encode("utf-8") for k, v in cells.items()
    }


TABLE_EDITS = {
    m: _table_edits(Path(m.__file__).resolve().parents[1] / "data" / m.SHIPPED)
    for m in (tff_markets, vixetp_universe)
}


def _table_ids(x: object) -> str:
    return x.__name__.rsplit(".", 1)[1] if isinstance(x, ModuleType) else str(x)


@pytest.mark.parametrize(
    ("module", "edit"),
    [(m, e) for m, edits in TABLE_EDITS.items() for e in edits[0]],
    ids=_table_ids,
)
def test_table_fast_path_equals_the_exact_path(
    module: ModuleType, edit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = TABLE_EDITS[module][0][edit]
    fast, exact = _both(module, lambda: module.parse(raw, "table.csv"), monkeypatch)
    _assert_same(fast, exact)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "edit"),
    [(m, e) for m, edits in TABLE_EDITS.items() for e in edits[1]],
    ids=_table_ids,
)
def test_table_fast_path_equals_the_exact_path_cell_by_cell(
    module: ModuleType, edit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = TABLE_EDITS[module][1][edit]
    fast, exact = _both(module, lambda: module.parse(raw, "table.csv"), monkeypatch)
    _assert_same(fast, exact)


def test_the_shipped_tables_take_the_fast_path() -> None:
    text = tff_markets.shipped_path().read_text(encoding="utf-8")
    assert tff_markets._parse_fast(text, "t") is not None
    raw = vixetp_universe.shipped_path().read_bytes()
    taken: list[bool] = []
    real = vixetp_universe._parse_fast

    def spy(*args: Any) -> Any:
        got = real(*args)
        taken.append(got is not None)
        return got

    vixetp_universe._parse_fast = spy
    try:
        vixetp_universe.parse(raw, "v")
    finally:
        vixetp_universe._parse_fast = real
    assert taken == [True]


def _plain_by_pieces(body: bytes) -> bool:
    """The definition of a plain body in words of its pieces between quotes (text outside
    quotes, inside, outside, ...), for bodies below Python's field limit."""
    if b'"' not in body:
        return True
    pieces = body.split(b'"')
    if len(pieces) % 2 == 0:
        return False  # an odd number of quotes
    outside, inside = pieces[0::2], pieces[1::2]
    return (
        all(b"\n" not in p for p in inside)
        and all(p.endswith((b",", b"\n")) for p in outside[:-1] if p)
        and all(not p or p.startswith((b",", b"\r", b"\n")) for p in outside[1:])
        and all(outside[1:-1])  # "a""b": a quote right after a closing one
    )


def test_the_quote_check_on_bytes_is_the_definition() -> None:
    import numpy as np

    rng = np.random.default_rng(17)
    alphabet = [b'"', b",", b"\n", b"\r", b"a", b" ", b"\r\n"]
    for _ in range(20_000):
        body = b"".join(rng.choice(alphabet, size=int(rng.integers(0, 14))))
        assert letf_universe._lines_are_plain(body) == _plain_by_pieces(body), body
        # read in place after a header line holding quotes of its own
        assert letf_universe._lines_are_plain(b'"h",x\n' + body, 6) == _plain_by_pieces(body)


def test_decimals_in_one_cast_are_the_column_wise_decimals() -> None:
    import numpy as np
    import pyarrow as pa

    from flows.sources import columnar

    rng = np.random.default_rng(5)
    pieces = ["1", "0", "9", ".", "-", "5", "12", " ", "e", "+", ",", "x", "7.25", "-3"]
    cells = ["".join(rng.choice(pieces, size=int(rng.integers(0, 6)))) for _ in range(5000)]
    cells += ["", "-", "--", "1-2", "1.2.3", "123456789012345", "1234567890123456", "-0", ".5"]
    digits = [c for c in cells if c and set(c) <= set("0123456789")]
    words = [c for c in cells if set(c) & set(" ex+,")]  # never cast: null for the cast
    for sample in (cells, digits, digits + words + ["", "7.25"]):
        arr = pa.array(sample, type=pa.large_string())
        got, got_ok = letf_universe._decimals(arr)
        want, want_ok = columnar.decimal_cells(arr)
        assert got_ok.tolist() == want_ok.tolist()
        np.testing.assert_array_equal(got, want)  # NaN where the other is NaN


def test_a_column_alike_throughout_is_read_from_its_bytes() -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    for cells in (["SSO"] * 5, ["SSO"] * 4 + ["SSX"], ["SSO", "SS0", "SSO"], ["", ""], ["a", ""],
                  ["é"] * 3, ["AB", "A", "ABC"], ["x"]):  # fmt: skip
        for kind in (pa.string(), pa.large_string()):
            arr = pa.array(["pad", *cells], type=kind).slice(1)
            expected = pc.all(pc.equal(arr, arr[0])).as_py()
            assert proshares._all_alike(arr) == expected, (cells, kind)


def test_padded_us_dates_are_pandas_dates_of_that_layout() -> None:
    """``columnar.us_days_padded`` (the ProShares fast path's dates, read byte by byte) gives
    pandas' ``%m/%d/%Y`` dates on every cell it accepts, and declines a column holding any cell
    that is not exactly a valid ``MM/DD/YYYY`` date (the exact path then decides)."""
    import numpy as np
    import pyarrow as pa

    from flows.sources import columnar

    rng = np.random.default_rng(11)
    good = [
        f"{m:02d}/{d:02d}/{y:04d}"
        for m, d, y in zip(
            rng.integers(1, 13, 3000).tolist(),
            rng.integers(1, 29, 3000).tolist(),
            rng.integers(1900, 2100, 3000).tolist(),
            strict=True,
        )
    ] + ["02/29/2024", "12/31/1999", "01/01/1970", "12/31/1969", "05/31/2025", "04/30/2025"]
    for kind in (pa.string(), pa.large_string()):
        arr = pa.array(["pad", *good], type=kind).slice(1)
        want = pd.to_datetime(pd.Series(good), format="%m/%d/%Y").to_numpy()
        got = columnar.us_days_padded(arr)
        assert got is not None and got.dtype == np.dtype("datetime64[D]")
        np.testing.assert_array_equal(got.astype("datetime64[ns]"), want)
        for bad in ("02/29/2023", "04/31/2025", "13/01/2020", "00/10/2020", "12/00/2020",
                    "12/32/2020", "1/01/2020 ", " 1/01/2020", "01-01-2020", "ab/cd/efgh",
                    "01/01/202x", "01/0:/2020", "01//1/2020", "0101/2020/"):  # fmt: skip
            assert columnar.us_days_padded(pa.array([good[0], bad], type=kind)) is None, bad
