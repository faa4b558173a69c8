"""The options JSON's two paths give the same chain, quality and errors (issue 17 §2).

:func:`flows.sources.cboe.parse` turns a regular option list (a real CDN response) into the
chain in one pass over whole columns (``_regular_chain``) and sends anything else through
:func:`flows.sources.cboe.rows_frame` and the checks after it.  Both must agree on the recorded
real response, generated chains in the real layout, the handed case files, every mutation of the
gamma bad-input corpus and damage aimed at the one-pass path's own conditions: the frames,
skipped rows, quality records and error messages of ``regular=True`` and ``regular=False`` are
identical.
"""

from __future__ import annotations

import copy
import json
import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from flows.chain import Chain, osi_fields
from flows.errors import FlowdeskError
from flows.sources import cboe, sample_options
from tests.corpus.test_corpus_gamma import MSTR, case_file_cases, json_cases

NOW = datetime(2026, 11, 18, 10, 30, tzinfo=ZoneInfo("America/New_York"))


def outcome(payload: Any, regular: bool) -> tuple[str, object]:
    try:
        return "chain", cboe._parse(payload, "options.json", regular=regular)
    except FlowdeskError as exc:
        return "error", f"{type(exc).__name__}: {exc}"


def assert_same_outcome(payload: Any) -> str:
    """Both paths on ``payload``: the same chain (frames, quality, fields) or the same error."""
    (kind_fast, fast), (kind_exact, exact) = (
        outcome(copy.deepcopy(payload), True),
        outcome(copy.deepcopy(payload), False),
    )
    assert kind_fast == kind_exact, (fast, exact)
    if kind_fast == "error":
        assert fast == exact
        return kind_fast
    assert isinstance(fast, Chain) and isinstance(exact, Chain)
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
    assert fast.as_of.unit == exact.as_of.unit and str(fast.as_of.tz) == str(exact.as_of.tz)
    return kind_fast


def takes_one_pass(payload: Any) -> bool:
    obj = json.loads(payload) if isinstance(payload, bytes | str) else payload
    data = obj["data"]
    quality = cboe.Quality(source="options.json", basis="open interest")
    ts = pd.Timestamp("2026-07-10 21:12:30", tz="UTC")
    return (
        cboe._regular_chain(data["options"], data["current_price"], ts, "w", "s", "X", quality)
        is not None
    )


REGULAR = {
    "recorded MSTR response": MSTR.read_bytes(),
    "generated SPX chain": json.dumps(sample_options.sample_options_json("SPX", NOW, 1)).encode(),
    "generated SPY chain, decoded": sample_options.sample_options_json("SPY", NOW, 2),
    "recorded MSTR response as text": MSTR.read_text(),
}


@pytest.mark.parametrize("name", list(REGULAR))
def test_regular_chains_take_the_one_pass_path_with_the_same_chain(name: str) -> None:
    payload = REGULAR[name]
    assert takes_one_pass(payload)
    assert assert_same_outcome(payload) == "chain"


@pytest.mark.parametrize("case", json_cases() + case_file_cases(), ids=lambda c: c.name)
def test_corpus_mutations_give_the_same_outcome_on_both_paths(case) -> None:
    assert_same_outcome(case.content)


def _edit(change) -> bytes:
    obj = json.loads(MSTR.read_bytes())
    change(obj["data"]["options"])
    return json.dumps(obj).encode()


def _set(row: int, field: str, value: Any):
    return lambda rows: rows[row].__setitem__(field, value)


ONE_PASS_DAMAGE = {
    "bid true": _edit(_set(3, "bid", True)),
    "volume false": _edit(_set(3, "volume", False)),
    "gamma as a numeric string": _edit(_set(3, "gamma", "0.01")),
    "open interest a huge integer": _edit(_set(3, "open_interest", 10**30)),
    "open interest an integer": _edit(_set(3, "open_interest", 12)),
    "iv NaN": _edit(_set(3, "iv", math.nan)),
    "delta an object": _edit(_set(3, "delta", {"v": 1})),
    "lower-case symbol": _edit(lambda r: r[3].__setitem__("option", r[3]["option"].lower())),
    "padded symbol": _edit(
        lambda r: r[3].__setitem__("option", r[3]["option"][:4] + "  " + r[3]["option"][4:])
    ),
    "symbol with a space around": _edit(lambda r: r[3].__setitem__("option", " " + r[3]["option"])),
    "symbol of an impossible date": _edit(
        lambda r: r[3].__setitem__("option", r[3]["option"][:4] + "260231" + r[3]["option"][10:])
    ),
    "symbol beyond the calendar": _edit(
        lambda r: r[3].__setitem__("option", r[3]["option"][:4] + "450717" + r[3]["option"][10:])
    ),
    "symbol with X for C/P": _edit(
        lambda r: r[3].__setitem__("option", r[3]["option"][:10] + "X" + r[3]["option"][11:])
    ),
    "symbol an integer": _edit(_set(3, "option", 5)),
    "a row a list": _edit(lambda r: r.__setitem__(3, [1, 2])),
    "a row repeated at the end": _edit(lambda r: r.append(dict(r[3]))),
    "a symbol repeated with another bid": _edit(lambda r: r.append({**r[3], "bid": 9.0})),
    "a root of seven letters": _edit(
        lambda r: r[3].__setitem__("option", "MSTRXYZ" + r[3]["option"][4:])
    ),
    "rows of two roots": _edit(
        lambda r: [row.__setitem__("option", "MSTR1" + row["option"][4:]) for row in r[:10]]
    ),
    "gamma beyond its limit": _edit(_set(3, "gamma", 5000.0)),
    "volume negative": _edit(_set(3, "volume", -1.0)),
    "iv zero everywhere": _edit(lambda r: [row.__setitem__("iv", 0.0) for row in r]),
}
STILL_REGULAR = {"open interest an integer", "rows of two roots", "gamma as a numeric string"}
"""Edits the one-pass path accepts: an integer count, a second (adjusted-series) root, and a
number written as a string (the exact path reads it as the same number, without a repair)."""


@pytest.mark.parametrize("name", list(ONE_PASS_DAMAGE))
def test_damage_to_the_one_pass_conditions_gives_the_same_outcome(name: str) -> None:
    raw = ONE_PASS_DAMAGE[name]
    assert takes_one_pass(raw) == (name in STILL_REGULAR or name == "iv zero everywhere")
    assert_same_outcome(raw)
    assert_same_outcome(json.loads(raw))  # the decoded object: booleans checked value by value


def test_plain_timestamps_read_as_pandas_reads_them() -> None:
    for value in ("2026-07-10 21:12:30", "2026-07-10T21:12:30", " 2026-01-31 00:00:00 "):
        fast = cboe.parse_timestamp(value, "x")
        exact = pd.Timestamp(pd.to_datetime(value.strip(), format="ISO8601")).tz_localize("UTC")
        assert fast == exact and fast.unit == exact.unit and str(fast.tz) == str(exact.tz)
    with pytest.raises(FlowdeskError, match="unknown date layout"):
        cboe.parse_timestamp("2026-02-31 10:00:00", "x")


def test_json_booleans_are_unreadable_not_one_and_zero() -> None:
    # numpy reads true/false as 1.0/0.0: the rule of the module docstring is "unreadable"
    chain = cboe.parse(ONE_PASS_DAMAGE["bid true"], "options.json")
    assert chain.quality is not None
    assert "bid: not a number (e.g. True), taken as missing" in chain.quality.repairs
    row = chain.contracts.iloc[3]
    assert pd.isna(row["bid"]) and bool(row["unreadable"])
    chain = cboe.parse(ONE_PASS_DAMAGE["volume false"], "options.json")
    assert chain.quality is not None and pd.isna(chain.contracts.iloc[3]["volume"])
    assert any(r.startswith("volume: not a number (e.g. False)") for r in chain.quality.repairs)


@pytest.mark.parametrize(
    "symbols",
    [
        ["MSTR260717C00095000", "MSTR260717P00095000", "MSTR260724C00100500"],
        ["SPX230915C04500000", "SPXW230915P04500000", "SPX230915P04500000"],  # two widths
        ["A230915C00001000"],  # a one-letter root, one symbol
        [f"SPY{d}C{k:08d}" for d in ("230914", "230915", "231020") for k in range(0, 900, 9)],
        [f"Q{d}P00000500" for d in ("230914", "230915") * 80],  # many runs: prefixes by hashing
    ],
)
def test_split_osi_gives_the_fields_of_osi_fields(symbols: list[str]) -> None:
    got = cboe.split_osi(pa.array(symbols, type=pa.large_string()))
    ref = osi_fields(symbols)
    assert got is not None and ref.ok.all()
    assert [got.roots[i] for i in got.prefix] == [ref.roots[c] for c in ref.root_code]
    assert np.array_equal(got.days.astype("datetime64[ns]")[got.prefix], ref.expiry)
    assert np.array_equal(got.is_call, ref.is_call)
    assert np.array_equal(got.strike_units / 1000.0, ref.strike)


@pytest.mark.parametrize(
    "symbols",
    [
        ["MSTR260717C00095000", "MSTR260717X00095000"],  # not C/P
        ["MSTR260717C0009500O"],  # a letter in the strike
        ["MSTR260231C00095000"],  # no such day
        ["mstr260717C00095000"],  # not upper case
        ["MSTRXYZ260717C00095000"],  # a root of seven
        ["260717C00095000"],  # no root
        ["SPX230915C04500000", "SPXW230915X04500000"],  # two widths, not C/P
    ],
)
def test_split_osi_declines_what_is_not_a_normal_osi_symbol(symbols: list[str]) -> None:
    assert cboe.split_osi(pa.array(symbols, type=pa.large_string())) is None


@pytest.mark.parametrize("n", [1, 1023, 1024, 5000])
def test_eight_digits_reads_every_row_as_int_does(n: int) -> None:
    rng = np.random.default_rng(n)
    numbers = rng.integers(0, 10**8, n)
    numbers[0] = 99_999_999
    text = "".join(f"{v:08d}" for v in numbers.tolist()).encode()
    block = np.frombuffer(text, dtype=np.uint8).reshape(n, 8)
    got = cboe.eight_digits(block)
    assert got is not None and got.dtype == np.int64 and np.array_equal(got, numbers)
    bad = block.copy()
    bad[n // 2, 3] = ord("x")
    assert cboe.eight_digits(bad) is None
