"""The small-text cell readers of :mod:`flows.sources.columnar` (issue 17 §2).

:func:`~flows.sources.columnar.iso_cells` reads this century's dates by looking their text up
among those of every day of 2000-2099 (falling back to its digit-by-digit reading) and
:func:`~flows.sources.columnar.bounds_floats` reads numbers from the cells' bounds in one step:
both give exactly what the readers they replace give (a per-cell reference for the dates,
``cell_floats(cells_array(...))`` for the numbers), on valid cells and on every kind of bad one.
"""

from __future__ import annotations

import random
import re
from datetime import date

import numpy as np
import pytest

from flows.sources import columnar

ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def reference_days(cells: list[str]) -> np.ndarray | None:
    """``iso_cells``' rule cell by cell: exactly ``YYYY-MM-DD``, a valid date of 1900-2099."""
    out = []
    for cell in cells:
        if len(cell.encode()) != 10 or not cell.isascii() or ISO.fullmatch(cell) is None:
            return None
        year, month, day = int(cell[:4]), int(cell[5:7]), int(cell[8:])
        if not 1900 <= year <= 2099:
            return None
        try:
            out.append(np.datetime64(date(year, month, day), "D"))
        except ValueError:
            return None
    return np.array(out, dtype="datetime64[D]")


def bounds(cells: list[str], tail: str = ",1.5\n") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each cell on its own line, followed by ``tail``: the bytes and the cells' bounds."""
    data = "".join(c + tail for c in cells).encode()
    starts, ends, pos = [], [], 0
    for c in cells:
        starts.append(pos)
        ends.append(pos + len(c.encode()))
        pos += len((c + tail).encode())
    return (
        np.frombuffer(data, dtype=np.uint8),
        np.array(starts, dtype=np.int64),
        np.array(ends, dtype=np.int64),
    )


def assert_days(cells: list[str], tail: str = ",1.5\n") -> None:
    got = columnar.iso_cells(*bounds(cells, tail))
    want = reference_days(cells)
    if want is None:
        assert got is None, cells[:5]
    else:
        assert got is not None and got.dtype == want.dtype, cells[:5]
        np.testing.assert_array_equal(got, want)


def days_text(first: str, count: int, step: int = 1) -> list[str]:
    start = np.datetime64(first, "D")
    return [str(start + i * step) for i in range(count)]


CASES = {
    "weekdays 2016-2026": [
        d for d in days_text("2016-02-12", 3650) if np.is_busday(np.datetime64(d, "D"))
    ],
    "one date": ["2024-02-29"],
    "the century's first and last days": ["2000-01-01", "2099-12-31"],
    "last days of the century": days_text("2099-12-20", 12),
    "into the next century": days_text("2099-12-30", 3),
    "from the last century": days_text("1999-12-30", 3),
    "1900s only": days_text("1990-01-02", 400),
    "unsorted": ["2024-05-01", "2023-01-02", "2025-12-31", "2001-07-04"],
    "descending": days_text("2024-03-01", 40, -1),
    "repeated": ["2024-01-02", "2024-01-02", "2024-01-03"],
    "not a day (29 Feb 2023)": ["2023-02-28", "2023-02-29", "2023-03-01"],
    "month 13": ["2023-12-31", "2023-13-01"],
    "month 00": ["2023-00-10"],
    "day 00": ["2023-01-00"],
    "day 32": ["2023-01-31", "2023-01-32"],
    "slashes": ["2023/01/03"],
    "a letter": ["2023-01-0x"],
    "a colon (the byte after 9)": ["2023-01-0:"],
    "a slash (the byte before 0)": ["2023-01-0/"],
    "spaces": [" 2023-01-03"[:10]],
    "year 2100": ["2100-01-01"],
    "year 20ab": ["20ab-01-01"],
    "century only": ["20"],
    "first valid then bad": [*days_text("2020-01-01", 30), "2020-02-30"],
    "first bad then valid": ["2020-02-30", *days_text("2020-03-01", 30)],
    "bad inside the window": [*days_text("2020-01-01", 10), "2020-01-32", "2020-02-05"],
    "outside the window": ["2020-01-01", "2019-06-01", "2020-12-31"],
    "two centuries": ["1999-12-31", "2000-01-01"],
    "two centuries, 20.. first": ["2000-01-01", "1999-12-31"],
    "non-ASCII": ["2023-01-0\u00e9"],
}


@pytest.mark.parametrize("name", list(CASES))
def test_iso_cells_reads_as_the_per_cell_rule(name: str) -> None:
    assert_days(CASES[name])
    assert_days(CASES[name], tail="\r\n")


def test_iso_cells_on_random_damage() -> None:
    rng = random.Random(7)
    base = days_text("2010-01-01", 600)
    for _ in range(400):
        cells = list(base[: rng.randint(1, 600)])
        for _ in range(rng.randint(0, 2)):
            i = rng.randrange(len(cells))
            cell = list(cells[i])
            cell[rng.randrange(10)] = rng.choice("0123456789-/:. a")
            cells[i] = "".join(cell)
        if rng.random() < 0.2:
            rng.shuffle(cells)
        assert_days(cells)


def test_the_texts_of_the_century_are_its_days_in_order() -> None:
    days = np.arange(np.datetime64("2000-01-01"), np.datetime64("2100-01-01"))
    text = np.datetime_as_string(days, unit="D").astype("S10")
    want = np.ndarray((days.size,), dtype=columnar._ISO_TEXT, buffer=text)["rest"]
    got = columnar.iso_texts_2000s()
    np.testing.assert_array_equal(got, want.astype(np.uint64))
    assert (got[1:] > got[:-1]).all()


NUMBERS = {
    "plain": ["1864.78", "1895.58", "3", "0.5"],
    "gaps": ["1864.78", "", "1895.58", ""],
    "all empty": ["", "", ""],
    "none": [],
    "exponent": ["1e5", "2.5E-3"],
    "signs": ["-1.5", "+2"],
    "inf": ["1.0", "inf"],
    "nan": ["nan", "2.0"],
    "a dot": ["."],
    "a dash": ["-"],
    "text": ["1.5", "abc"],
    "spaces": [" 1.5"],
    "underscore": ["1_5"],
    "long": ["3.14159265358979323846264338327950288"],
}


@pytest.mark.parametrize("order", ["text order", "reversed"])
@pytest.mark.parametrize("name", list(NUMBERS))
def test_bounds_floats_is_cell_floats_of_the_cells(name: str, order: str) -> None:
    """In text order the cells are cast where they lie; reversed, their bytes are gathered
    first: both read what the gathered array reads."""
    cells = NUMBERS[name]
    chars, starts, ends = bounds(cells, tail="\n")
    if order == "reversed":
        starts, ends = starts[::-1].copy(), ends[::-1].copy()
    want = columnar.cell_floats(columnar.cells_array(chars, starts, ends))
    got = columnar.bounds_floats(chars, starts, ends)
    if want is None:
        assert got is None
        return
    assert got is not None
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[0].dtype == want[0].dtype and got[1].dtype == want[1].dtype


@pytest.mark.parametrize("columns", [(1, 2), (2, 1), (3, 1, 2), (2, 2)])
def test_small_text_numbers_of_several_columns_are_each_columns_own(columns: tuple) -> None:
    """``Cells.floats`` of several columns (read row by row in place, any order asked, a column
    asked twice) is the columns' numbers one after the other, as each column reads alone."""
    from flows.sources import price_frame

    text = "DATE,A,B,C\n2024-01-02,1.5,,3\n2024-01-03,2,20.25,-4e2\n2024-01-04,,7,0.5\n"
    cells = price_frame._small_cells(text, None, 5, False, None)
    assert cells is not None
    got = cells.floats(*columns)
    assert got is not None
    nan = float("nan")
    by_hand = {1: [1.5, 2.0, nan], 2: [nan, 20.25, 7.0], 3: [3.0, -400.0, 0.5]}
    np.testing.assert_array_equal(got[0], np.concatenate([by_hand[j] for j in columns]))
    np.testing.assert_array_equal(got[1], ~np.isnan(got[0]))
    alone = [cells.floats(j) for j in columns]
    np.testing.assert_array_equal(got[0], np.concatenate([a[0] for a in alone]))
