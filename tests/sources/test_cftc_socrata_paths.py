"""The Socrata rows' two paths give the same frame, quality and errors (issue 17 §2).

:func:`flows.sources.cftc_socrata.parse_rows` reads regular rows (every count a JSON string of
an integer, every date ``YYYY-MM-DD``, one row per report date and code) in one pass over whole
columns (``_regular_rows``) and anything else value by value (skips, repairs, duplicates).  Both
must agree on the recorded real responses and on damaged copies of them, for every code filter
and ``units`` setting the callers use: frames, quality records and error messages are equal.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from flows.errors import FlowdeskError
from flows.sources import cftc_socrata

DATA = Path(__file__).resolve().parents[1] / "data" / "cftc"
RESPONSES = {
    "legacy": DATA / "socrata_6dca-aqww_legacy_futonly_six_markets_2026-09-08_to_2026-09-15.json",
    "tff": DATA / "socrata_gpe5-46if_tff_futonly_es_2026-07-07_to_2026-07-14_subset.json",
}
SETTINGS = [(None, False), (None, True), (["13874A", "099741", "043602"], False)]


def outcome(rows: list[Any], report: str, regular: bool, codes, units) -> tuple[str, object]:
    try:
        return "parsed", cftc_socrata._parse_rows(
            copy.deepcopy(rows), report, "rows.json", codes, units=units, regular=regular
        )
    except FlowdeskError as exc:
        return "error", f"{type(exc).__name__}: {exc}"


def assert_same_outcome(rows: list[Any], report: str) -> list[str]:
    kinds = []
    for codes, units in SETTINGS:
        (k_fast, fast), (k_exact, exact) = (
            outcome(rows, report, True, codes, units),
            outcome(rows, report, False, codes, units),
        )
        assert k_fast == k_exact, (codes, units, fast, exact)
        kinds.append(k_fast)
        if k_fast == "error":
            assert fast == exact
            continue
        assert isinstance(fast, cftc_socrata.Parsed) and isinstance(exact, cftc_socrata.Parsed)
        pd.testing.assert_frame_equal(fast.frame, exact.frame, check_exact=True)
        assert fast.quality.to_dict() == exact.quality.to_dict()
    return kinds


def rows_of(report: str) -> list[dict[str, Any]]:
    return json.loads(RESPONSES[report].read_text())


def takes_one_pass(rows: list[dict[str, Any]], report: str) -> bool:
    spec = {**cftc_socrata.FIELDS[report], **cftc_socrata.CHECK_FIELDS[report]}
    columns = {c: [r.get(names[0]) for r in rows] for c, names in spec.items()}
    numbers = [c for c in cftc_socrata.FIELDS[report] if c not in cftc_socrata._TEXT] + list(
        cftc_socrata.CHECK_FIELDS[report]
    )
    code = np.array([str(v).strip() for v in columns["code"]], dtype=object)
    quality = cftc_socrata.Quality(source="rows.json", basis="positions")
    out_cols = list(cftc_socrata._COLUMNS[report])
    done = cftc_socrata._regular_rows(
        columns, np.arange(len(rows)), code, report, "rows.json", spec, numbers, out_cols, quality
    )
    return done is not None


@pytest.mark.parametrize("report", list(RESPONSES))
def test_real_responses_take_the_one_pass_path_with_the_same_frame(report: str) -> None:
    rows = rows_of(report)
    assert takes_one_pass(rows, report)
    assert set(assert_same_outcome(rows, report)) == {"parsed"}
    assert set(assert_same_outcome(rows[::-1], report)) == {"parsed"}  # any order: sorted


def _set(field: str, value: Any) -> Callable[[list[dict[str, Any]]], None]:
    return lambda rows: rows[0].__setitem__(field, value)


DAMAGE: dict[str, Callable[[list[dict[str, Any]]], None]] = {
    "open interest '-'": _set("open_interest_all", "-"),
    "open interest a JSON number": _set("open_interest_all", 1941500),
    "open interest a decimal": _set("open_interest_all", "1941500.0"),
    "open interest padded": _set("open_interest_all", " 1941500"),
    "open interest with underscores": _set("open_interest_all", "1_941_500"),
    "open interest null": _set("open_interest_all", None),
    "open interest beyond int64": _set("open_interest_all", "99999999999999999999999"),
    "open interest 1 (identity broken)": _set("open_interest_all", "1"),
    "open interest removed": lambda rows: rows[0].pop("open_interest_all"),
    "a date that does not exist": _set("report_date_as_yyyy_mm_dd", "2026-02-30T00:00:00.000"),
    "a date without padding": _set("report_date_as_yyyy_mm_dd", "2026-7-14"),
    "a date a number": _set("report_date_as_yyyy_mm_dd", 20260714),
    "a row repeated": lambda rows: rows.append(copy.deepcopy(rows[0])),
    "a row repeated with another open interest": lambda rows: rows.append(
        {**rows[0], "open_interest_all": str(int(rows[0]["open_interest_all"]) + 5)}
    ),
    "a padded code": _set("cftc_contract_market_code", " 13874A "),
    "a null code": _set("cftc_contract_market_code", None),
    "market removed": lambda rows: rows[0].pop("market_and_exchange_names"),
    "units removed": lambda rows: rows[0].pop("contract_units"),
    "a row that is a list": lambda rows: rows.__setitem__(0, [1, 2]),
}


@pytest.mark.parametrize("report", list(RESPONSES))
@pytest.mark.parametrize("name", list(DAMAGE))
def test_damaged_rows_give_the_same_outcome(report: str, name: str) -> None:
    rows = rows_of(report)
    DAMAGE[name](rows)
    assert_same_outcome(rows, report)
