"""Price and VX files read column-wise give what the line-by-line reader gives (issue 17 §2).

The fast paths of :func:`flows.sources.price_frame.read_cells` (a small text split at once, a
large one read typed by ``pyarrow.csv``, the string split in between) are turned off here so
that every file also goes through :func:`flows.sources.price_frame.read_rows`; both must give
the same frame, the same quality record or the same error (source, field, reason), on the
trimmed real files, on the bad-input corpus of the systematic commands and on edits aimed at
what the fast paths decide: blank lines, lines of commas, quotes, carriage returns, spaces,
missing tokens, date layouts and years, field counts, order.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from flows.errors import InputError
from flows.sources import cboe_prices, cboe_vx, columnar, fred, price_files, price_frame
from tests.corpus import test_corpus_systematic as corpus

Parse = Callable[[bytes, str], object]


def _run(parse: Parse, raw: bytes) -> object:
    try:
        frame, quality = parse(raw, "file.csv")  # type: ignore[misc]
    except InputError as exc:
        return ("error", exc.source, exc.field, exc.reason)
    return frame, dict(frame.attrs), quality.to_dict()


def _both(parse: Parse, raw: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    fast = _run(parse, raw)
    with monkeypatch.context() as m:
        m.setattr(price_frame, "_small_cells", lambda *a, **k: None)
        m.setattr(price_frame, "_typed_cells", lambda *a, **k: None)
        m.setattr(columnar, "is_plain", lambda text: False)
        exact = _run(parse, raw)
    return fast, exact


def _assert_same(fast: object, exact: object, case: str) -> None:
    if isinstance(fast, tuple) and isinstance(fast[0], pd.DataFrame):
        assert isinstance(exact, tuple) and isinstance(exact[0], pd.DataFrame), (case, exact)
        pd.testing.assert_frame_equal(fast[0], exact[0], check_exact=True, obj=case)
        assert fast[1:] == exact[1:], case
    else:
        assert fast == exact, case


def _set(text: str, line: int, column: int, value: str) -> str:
    lines = text.split("\n")
    cells = lines[line].removesuffix("\r").split(",")
    cells[column] = value
    lines[line] = ",".join(cells) + ("\r" if lines[line].endswith("\r") else "")
    return "\n".join(lines)


NUMBER_CELLS = ("", " ", ".", "-", "NaN", "n/a", "null", "abc", "0", "-1", "inf", "1e3", " 12.5")
NUMBER_CELLS += ("+12.5", ".5", "5.", "1_000", "-nan", "\u00a012.5", "12.5\t")
DATE_CELLS = ("", "2024-13-01", "2024-8-5", " 2024-08-05", "9999-01-01", "1899-12-29")
DATE_CELLS += ("08/05/2024", "8/5/2024", "2/30/1999", "1/4/99", "1/4/0999", "1/4/2200", "abc")


def _edits(text: str, header: int, date: int, number: int) -> list[tuple[str, str]]:
    """(name, edited text) of a file whose data starts on line ``header + 1``."""
    lines = text.split("\n")
    head, body = lines[: header + 1], lines[header + 1 :]
    mid = len(body) // 2
    width = lines[header].count(",") + 1
    row = body[mid].removesuffix("\r")
    out = [("as is", text)]
    for r in (header + 1, header + 1 + mid):
        out += [(f"line {r + 1} number {v!r}", _set(text, r, number, v)) for v in NUMBER_CELLS]
        out += [(f"line {r + 1} date {v!r}", _set(text, r, date, v)) for v in DATE_CELLS]
    inserted = {
        "blank line": "",
        "blank CRLF line": "\r",
        "line of commas": "," * (width - 1),
        "commas and spaces": " ," * (width - 1),
        "spaces": "   ",
        "row repeated": body[mid],
        "extra field": row + ",7",
        "trailing comma": row + ",",
        "missing field": row.rsplit(",", 1)[0],
        "quoted cell": row.replace(",", ',"', 1) + '"',
        "bare CR inside": row.replace(",", "\r,", 1),
        "two rows on a line, a bare CR between": f"{row}\r{row}",
    }
    for name, line in inserted.items():
        out.append((name, "\n".join([*head, *body[:mid], line, *body[mid:]])))
    lf = text.replace("\r\n", "\n")
    out += [
        ("CRLF", lf.replace("\n", "\r\n")),
        ("LF", lf),
        ("bare CR line ends", lf.replace("\n", "\r")),
        ("no final newline", text.rstrip("\r\n")),
        ("two final newlines", text + "\n"),
        ("rows reversed", "\n".join([*head, *reversed([b for b in body if b.strip()])]) + "\n"),
        (
            "two rows swapped",
            "\n".join([*head, *body[:mid], body[mid + 1], body[mid], *body[mid + 2 :]]),
        ),
        ("header only", "\n".join(head) + "\n"),
        ("first row only", "\n".join([*head, body[0]]) + "\n"),
        ("cut mid-line", text[: len(text) * 2 // 3]),
        ("a preamble line", "some words first\n" + text),
        ("non-ASCII in a cell", _set(text, header + 1 + mid, number, "12\u00e9")),
    ]
    return out


def _us(text: str) -> str:
    """ISO dates at the start of each line written M/D/YYYY (Cboe's CDN layout)."""
    return re.sub(
        r"(?m)^(\d{4})-(\d{2})-(\d{2})", lambda m: f"{int(m[2])}/{int(m[3])}/{m[1]}", text
    )


def _price_files(test_data: Path) -> list[tuple[str, Parse, str]]:
    prices = test_data / "prices"
    gspc = (prices / "GSPC_ohlcv_2019-01-02_2020-04-30.csv").read_text()
    vix = (prices / "VIX_History_2017-12-01_2018-03-29.csv").read_text()
    return [
        ("fred", fred.parse, (prices / "fred_SP500_2023-01-03_2025-06-30.csv").read_text()),
        ("cboe", cboe_prices.parse, vix),
        ("cboe US dates", cboe_prices.parse, _us(vix)),
        ("yahoo", price_files.parse, gspc),
        ("yahoo US dates", price_files.parse, _us(gspc)),
        (
            "arch gzip US dates",
            price_files.parse,
            gzip.decompress((prices / "arch_sp500_first120.csv.gz").read_bytes()).decode(),
        ),
    ]


@pytest.fixture(params=["small", "large"])
def size(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every text read as a small one (its cells' bounds in its bytes) or as a large one (the
    typed Arrow read), whatever its length."""
    monkeypatch.setattr(price_frame, "SMALL_TEXT", 1 << 40 if request.param == "small" else 0)
    return str(request.param)


@pytest.mark.parametrize("which", range(6))
def test_price_files_columnwise_equals_line_by_line(
    test_data, monkeypatch, size: str, which: int
) -> None:
    name, parse, text = _price_files(test_data)[which]
    for case, edited in _edits(text, 0, 0, 1 if name == "fred" else 4):
        fast, exact = _both(parse, edited.encode(), monkeypatch)
        _assert_same(fast, exact, f"{name} ({size}): {case}")


@pytest.mark.parametrize(
    "path", ["clean/CFE_G18_VX.csv", "indexed/CFE_J18_VX.csv", "disclaimer/CFE_Q15_VX.csv"]
)
def test_vx_files_columnwise_equals_line_by_line(
    test_data, monkeypatch, size: str, path: str
) -> None:
    text = (test_data / "vix_futures" / path).read_bytes().decode()
    header = 1 if path.startswith("disclaimer") else 0
    names = text.split("\n")[header].removesuffix("\r").split(",")
    for case, edited in _edits(text, header, names.index("Trade Date"), names.index("Settle")):
        fast, exact = _both(cboe_vx.parse, edited.encode(), monkeypatch)
        _assert_same(fast, exact, f"{path} ({size}): {case}")


def test_every_trimmed_file_and_the_corpus(test_data, monkeypatch, size: str) -> None:
    files = [*(test_data / "prices").glob("*.csv*"), *cboe_vx.files_in(test_data / "vix_futures")]
    for path in files:
        parse = cboe_vx.parse if "VX" in path.name else price_files.parse
        fast, exact = _both(parse, path.read_bytes(), monkeypatch)
        _assert_same(fast, exact, f"{path.name} ({size})")
    fred_text = (test_data / "prices" / corpus.FRED).read_text()
    for case, _kind, raw in corpus._price_cases(fred_text):
        fast, exact = _both(price_files.parse, raw, monkeypatch)
        _assert_same(fast, exact, f"corpus ({size}) {case}")
    for case, _kind, _target, raw in corpus._vx_cases(test_data / "vix_futures"):
        fast, exact = _both(cboe_vx.parse, raw, monkeypatch)
        _assert_same(fast, exact, f"corpus ({size}) {case}")


def test_the_fast_paths_are_taken_on_regular_files(test_data, monkeypatch) -> None:
    """The equality above is not vacuous: regular files do read column-wise, small and large."""
    taken: list[str] = []
    for name in ("_small_cells", "_typed_cells"):
        real = getattr(price_frame, name)

        def spy(*a: object, _real: Callable[..., object] = real, _name: str = name) -> object:
            got = _real(*a)
            if got is not None:
                taken.append(_name)
            return got

        monkeypatch.setattr(price_frame, name, spy)
    prices = test_data / "prices"
    fred.parse((prices / "fred_SP500_2023-01-03_2025-06-30.csv").read_bytes(), "f.csv")
    cboe_vx.parse((test_data / "vix_futures" / "clean" / "CFE_G18_VX.csv").read_bytes(), "v.csv")
    monkeypatch.setattr(price_frame, "SMALL_TEXT", 1000)  # a text above it: the typed read
    price_files.parse((prices / "GSPC_ohlcv_2019-01-02_2020-04-30.csv").read_bytes(), "g.csv")
    assert taken == ["_small_cells", "_small_cells", "_typed_cells"]


def test_clean_large_files_skip_the_row_masks(test_data, monkeypatch) -> None:
    """A large regular file with nothing to record but rows off the sessions takes the short
    path (:func:`flows.sources.price_frame._clean`); the tests above compare it with the
    line-by-line reader on every edit (their "large" runs), where it must decline or agree."""
    taken: list[bool] = []
    real = price_frame._clean

    def spy(*a: object) -> object:
        got = real(*a)  # type: ignore[arg-type]
        taken.append(got is not None)
        return got

    monkeypatch.setattr(price_frame, "_clean", spy)
    monkeypatch.setattr(price_frame, "SMALL_TEXT", 0)
    prices = test_data / "prices"
    vix = (prices / "VIX_History_2017-12-01_2018-03-29.csv").read_bytes()
    gspc = (prices / "GSPC_ohlcv_2019-01-02_2020-04-30.csv").read_bytes()
    cboe_prices.parse(vix, "v.csv")
    holiday = vix.replace(b"2018-01-02,", b"2018-01-01,")  # a row on New Year's Day: dropped
    frame, quality = cboe_prices.parse(holiday, "h.csv")
    assert quality.repairs == {
        "rows on non-session dates dropped (published on an exchange holiday)": 1,
        "sessions absent from the file (returns span the gap)": 1,  # 2018-01-02
    }
    assert pd.Timestamp("2018-01-01") not in set(frame["date"])
    price_files.parse(gspc, "g.csv")
    zero_close = _set(gspc.decode(), 2, 4, "0").encode()  # a row skipped: the general path
    price_files.parse(zero_close, "bad.csv")
    assert taken == [True, True, True, False]
