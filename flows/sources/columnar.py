"""Column-wise reading of *regular* delimited text: the fast path the CSV parsers share.

Each parser keeps its own exact row-by-row rules (field counts, blank lines, quoting, preambles,
what a bad cell means) and the errors that name the line.  This module reads the common case, a
**regular** file, at the speed of a plain ``pandas.read_csv`` or faster, and answers ``None``
whenever the text is not regular, so that the caller takes its exact path.  Regular means: no
quote character, the same number of fields on every data line, no blank line among the data
lines, line ends ``\\n`` or ``\\r\\n``.  A fast path never decides anything the exact path would
decide differently: it only returns what the exact path would have read.

* :func:`split_lines_columns` -> one ``pyarrow`` string array per column of the data lines
  (``str.split`` for small texts, ``pyarrow.csv`` for large ones: its start-up costs ~0.4 ms);
* :func:`split_bounds` -> where every cell of a small text starts and ends in its bytes (the
  structure checked with numpy), :func:`cells_array` -> some of them as an Arrow string array;
* :func:`read_typed` -> one strict typed ``pyarrow.csv`` read of a large text (dates, floats
  and missing tokens converted by Arrow), or None;
* :func:`floats` -> float64 values and "given" when every cell is a plain finite number or a
  missing token (else None); :func:`cell_floats` the same for cells where empty = missing;
* :func:`iso_days` -> ``datetime64[D]`` when every cell is a valid ``YYYY-MM-DD`` (else None);
* :func:`us_days` / :func:`us_dates` -> ``datetime64[D]`` when every cell is a valid
  ``M/D/YYYY`` (else None; :func:`us_dates` reads the bytes with numpy, years 1900-2099);
* :func:`null_mask` -> which cells of an Arrow array are null (its validity bitmap).

Arrow's CSV reader hands its input to a background thread: on a small text that costs more
than finding its cells with numpy (:func:`split_bounds`), which the price parsers do there.

Pure: text in, arrays out.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import re
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from flows.errors import InputError

SMALL_TEXT = 20_000
"""Characters below which the data lines are split by Python's ``str.split`` (faster than
starting pyarrow's reader on a small file); above, ``pyarrow.csv`` reads them."""


THREADED_BYTES = 4 << 20
"""Texts above this size are read by pyarrow's threads (below, one thread is faster: no
hand-over between threads on a busy machine)."""
_BARE_CR = re.compile("\r(?!\n)")


def is_plain(text: str) -> bool:
    """No quote character and no bare carriage return (only ``\\n`` / ``\\r\\n`` line ends)."""
    return '"' not in text and ("\r" not in text or _BARE_CR.search(text) is None)


def case_variants(tokens: frozenset[str] | tuple[str, ...]) -> list[str]:
    """Every upper/lower-case spelling of each token (``na`` -> ``na``, ``nA``, ``Na``, ``NA``):
    Arrow's null markers match exactly, flowdesk's missing tokens case-insensitively."""
    out: set[str] = set()
    for token in tokens:
        out.update("".join(p) for p in itertools.product(*({c.lower(), c.upper()} for c in token)))
    return sorted(out)


def split_lines_columns(
    body: str,
    width: int,
    *,
    types: dict[int, pa.DataType] | None = None,
    missing: frozenset[str] = frozenset(),
    plain: bool = False,
) -> list[pa.Array] | None:
    """The data lines ``body`` (text after the header line) as ``width`` columns.

    Columns are strings, except those named in ``types`` (position -> Arrow type, e.g.
    ``pa.float64()``, ``pa.date32()``) when the large-text reader converted every cell of all of
    them (a cell spelled as one of the ``missing`` tokens, in any case, is null there); when one
    cell does not convert, every column is read as strings and the caller converts
    (:func:`floats`, :func:`iso_days`).  ``plain=True`` says the caller checked :func:`is_plain`.

    None when the body is not regular: a line with another number of fields, a blank or
    whitespace-only line (except the empty remainder after the final line end), a quote or a
    bare ``\r``.  An empty body gives ``width`` empty columns.
    """
    if width < 2 or not (plain or is_plain(body)):
        return None
    # A blank line splits into one field (pyarrow: "Expected N columns, got 1"): never regular.
    if len(body) < SMALL_TEXT:
        body = body.replace("\r\n", "\n") if "\r" in body else body
        body = body.removesuffix("\n")
        if not body:
            return [pa.array([], type=pa.string()) for _ in range(width)]
        rows = [line.split(",") for line in body.split("\n")]
        if any(len(r) != width for r in rows):
            return None
        return [pa.array(col, type=pa.string()) for col in zip(*rows, strict=True)]
    names = [f"f{i}" for i in range(width)]
    data = body.encode("utf-8")
    typed = {names[i]: t for i, t in (types or {}).items()}
    for column_types in ([typed] if typed else []) + [{}]:
        try:
            table = pacsv.read_csv(
                io.BytesIO(data),
                read_options=pacsv.ReadOptions(
                    column_names=names,
                    use_threads=len(data) > THREADED_BYTES,
                    block_size=max(1 << 20, min(len(data) + 1, THREADED_BYTES)),
                ),
                parse_options=pacsv.ParseOptions(quote_char=False, ignore_empty_lines=False),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: column_types.get(n, pa.string()) for n in names},
                    strings_can_be_null=False,
                    null_values=case_variants(missing) if column_types else [],
                    true_values=[],
                    false_values=[],
                ),
            )
        except pa.ArrowInvalid as exc:
            if "conversion error" in str(exc):
                continue  # a typed cell that did not convert: read strings
            return None  # the structure (a line with another field count): the exact path names the line
        return [table.column(i).combine_chunks() for i in range(width)]
    return None


def split_bounds(data: bytes, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(chars, starts, ends)`` of the data lines ``data`` (UTF-8 bytes after the header line)
    when they are regular: every line ``width`` fields, line ends ``\\r\\n`` or ``\\n`` (the
    last one optional); else None (a blank line has no comma: refused; so is a bare ``\\r``).

    ``chars`` are the bytes; cell ``k`` of the text (row ``k // width``, column ``k % width``)
    is ``chars[starts[k]:ends[k]]``.  Found with numpy on the bytes at once: no per-line Python
    step, no Python string per cell.  The caller checked for quotes.
    """
    chars = np.frombuffer(data, dtype=np.uint8)
    if chars.size and chars[-1] == 10:  # the last line end
        chars = chars[: -2 if chars.size > 1 and chars[-2] == 13 else -1]
    if width < 2:  # one column: a blank line would read as a cell
        return None
    if not chars.size:
        return chars, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # the cells' ends: every "\n" and "," and the end of the text (one mask, one pass)
    delimiter = np.empty(chars.size + 1, dtype=bool)
    newline = np.equal(chars, 10, out=delimiter[:-1])
    lines = int(np.count_nonzero(newline)) + 1
    np.logical_or(newline, chars == 44, out=newline)
    delimiter[-1] = True
    ends = np.flatnonzero(delimiter)
    # width - 1 commas then a line end, on every line
    if ends.size != lines * width or (
        lines > 1 and not (np.take(chars, ends[width - 1 : -1 : width]) == 10).all()
    ):
        return None
    starts = np.empty(ends.size, dtype=np.int64)
    starts[0] = 0
    np.add(ends[:-1], 1, out=starts[1:])
    cr = np.flatnonzero(chars == 13) if b"\r" in data else ends[:0]
    if cr.size:  # every "\r" right before a "\n", every "\n" right after a "\r"
        if cr.size != lines - 1 or not (np.take(chars, cr + 1, mode="clip") == 10).all():
            return None
        ends[width - 1 : -1 : width] -= 1
    return chars, starts, ends


def cells_array(chars: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """The cells ``chars[starts[k]:ends[k]]`` as one Arrow string array (their bytes gathered
    with numpy into one buffer)."""
    lengths = ends - starts
    offsets = np.zeros(lengths.size + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    at = np.arange(offsets[-1]) + np.repeat(starts - offsets[:-1], lengths)
    data = np.take(chars, at)
    return pa.Array.from_buffers(
        pa.string(), lengths.size, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def cell_floats(arr: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """``(values, given)`` of a string column (no nulls) whose cells are each a plain finite
    number (Arrow's cast: what Python's ``float`` reads the same) or empty (not given, NaN);
    else None."""
    _, offsets, data = arr.buffers()
    ends = np.frombuffer(offsets, dtype=np.int32, count=len(arr) + 1, offset=4 * arr.offset)
    empty = ends[1:] == ends[:-1]
    if empty.any():  # empty cells as nulls: the cast keeps them, as NaN
        valid = pa.py_buffer(np.packbits(~empty, bitorder="little"))
        arr = pa.Array.from_buffers(
            pa.string(), len(arr), [valid, offsets, data], offset=arr.offset
        )
    try:
        values = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)  # nulls as NaN
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if np.count_nonzero(np.isfinite(values)) != values.size - np.count_nonzero(empty):
        return None  # inf or NaN written as a number: the exact conversion decides
    return values, ~empty


def bounds_floats(
    chars: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`cell_floats` of :func:`cells_array` ``(chars, starts, ends)`` in one step: the
    empty cells (nulls of the cast) known from the bounds, not found again in the array.

    Cells in the order of the text (each ends before the next starts: one column top to
    bottom, or several row by row) are cast where they lie, no byte copied: one Arrow string
    array over ``chars`` whose even slots are the cells and odd slots the bytes between them,
    null (Arrow's cast reads only valid slots).  Other orders gather the cells' bytes first."""
    lengths = ends - starts
    n = lengths.size
    if n and chars.size < 1 << 31 and bool((starts[1:] >= ends[:-1]).all()):
        return _floats_in_place(chars, starts, ends, lengths != 0)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    at = np.repeat(starts - offsets[:-1], lengths)  # each byte's cell's shift, then its place
    at += np.arange(at.size)
    given = lengths != 0
    written = int(np.count_nonzero(given))
    valid = pa.py_buffer(np.packbits(given, bitorder="little")) if written < n else None
    arr = pa.Array.from_buffers(
        pa.string(), n, [valid, pa.py_buffer(offsets), pa.py_buffer(np.take(chars, at))]
    )
    try:
        values = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)  # nulls as NaN
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if np.count_nonzero(np.isfinite(values)) != written:
        return None  # inf or NaN written as a number: the exact conversion decides
    return values, given


def _floats_in_place(
    chars: np.ndarray, starts: np.ndarray, ends: np.ndarray, given: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`bounds_floats` of cells in text order, read in ``chars`` itself."""
    n = starts.size
    offsets = np.empty(2 * n + 1, dtype=np.int32)
    offsets[0:-1:2] = starts  # slot 2k: cell k
    offsets[1::2] = ends  # slot 2k + 1: the bytes up to cell k + 1 (null)
    offsets[-1] = ends[-1]
    valid = np.zeros(2 * n, dtype=bool)
    valid[0::2] = given
    arr = pa.Array.from_buffers(
        pa.string(),
        2 * n,
        [
            pa.py_buffer(np.packbits(valid, bitorder="little")),
            pa.py_buffer(offsets),
            pa.py_buffer(chars),
        ],
    )
    try:
        values = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)[0::2]  # nulls: NaN
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if np.count_nonzero(np.isfinite(values)) != np.count_nonzero(given):
        return None  # inf or NaN written as a number: the exact conversion decides
    return np.ascontiguousarray(values), given


_STRICT_PARSE = pacsv.ParseOptions(quote_char=False, ignore_empty_lines=False)


@functools.lru_cache(maxsize=64)
def _read_options(width: int, threaded: bool, block_size: int) -> pacsv.ReadOptions:
    return pacsv.ReadOptions(
        column_names=[f"f{i}" for i in range(width)],
        use_threads=threaded,
        block_size=block_size,
    )


@functools.lru_cache(maxsize=64)
def _convert_options(
    width: int, types: tuple[tuple[int, pa.DataType], ...], missing: frozenset[str]
) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(
        column_types={f"f{i}": t for i, t in types},
        include_columns=[f"f{i}" for i, _ in types],
        strings_can_be_null=False,
        null_values=case_variants(missing),
        true_values=[],
        false_values=[],
        check_utf8=False,  # the bytes come from a Python str: valid UTF-8
    )


def read_typed(
    data: bytes | pa.Buffer,
    width: int,
    types: dict[int, pa.DataType],
    *,
    missing: frozenset[str] = frozenset(),
) -> list[pa.Array | None] | None:
    """The data lines ``data`` (UTF-8 after the header line) as ``width`` columns: those of
    ``types`` (position -> Arrow type, ``pa.string()`` for text) converted, the others not read
    (None); one ``pyarrow.csv`` read (single-threaded below :data:`THREADED_BYTES`).

    Strict: None when the text is not regular (a line with another number of fields, a blank
    line) or when one cell of a typed column does not convert; a cell spelled as one of the
    ``missing`` tokens (in any case) is null in a typed column.  The caller has checked that
    the text holds no quote, and handles a bare ``\\r`` (Arrow ends a line there).
    """
    if width < 2:  # one column: a blank line would read as a row
        return None
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=_read_options(
                width,
                len(data) > THREADED_BYTES,
                max(1 << 20, min(len(data) + 1, THREADED_BYTES)),
            ),
            parse_options=_STRICT_PARSE,
            convert_options=_convert_options(width, tuple(sorted(types.items())), missing),
        )
    except pa.ArrowInvalid:
        return None  # the exact path names the line or the cell
    read = {
        int(name[1:]): col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
        for name, col in zip(table.column_names, table.columns, strict=True)
    }
    return [read.get(i) for i in range(width)]


def null_mask(arr: pa.Array) -> np.ndarray:
    """Which cells of ``arr`` are null, read from its validity bitmap (no compute call)."""
    n = len(arr)
    bitmap = arr.buffers()[0]
    if not arr.null_count or bitmap is None:
        return np.zeros(n, dtype=bool)
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")
    return np.asarray(bits[arr.offset : arr.offset + n] == 0)


def _string_bytes(arr: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """``(bytes, offsets)`` of a string column without nulls: the cells' UTF-8 bytes, one
    after the other, and where each cell starts (``n + 1`` positions into them)."""
    n = len(arr)
    if not n or arr.null_count or not pa.types.is_string(arr.type):
        return None
    _, obuf, dbuf = arr.buffers()
    offsets = np.frombuffer(obuf, dtype=np.int32, count=n + 1, offset=arr.offset * 4)
    lo = int(offsets[0])
    if dbuf is None:
        return None
    return np.frombuffer(dbuf, dtype=np.uint8, count=int(offsets[-1]) - lo, offset=lo), offsets - lo


_MONTH_STARTS = np.arange("1900-01", "2100-02", dtype="datetime64[M]").astype("datetime64[D]")
_MONTH_FIRST = _MONTH_STARTS[:-1].view(np.int64)  # day number of the 1st of each month
_MONTH_LENGTH = np.diff(_MONTH_STARTS).astype(np.int64)  # its number of days
_MONTH_FIRST.setflags(write=False)
_MONTH_LENGTH.setflags(write=False)


def _civil_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray | None:
    """``datetime64[D]`` of year, month, day numbers when every one is a valid date in the
    years 1900-2099, else None (integer lookups: no datetime conversions per cell)."""
    if ((month < 1) | (month > 12) | (year < 1900) | (year > 2099)).any():
        return None
    i = (year - 1900) * 12 + (month - 1)
    if ((day < 1) | (day > np.take(_MONTH_LENGTH, i))).any():
        return None
    return np.asarray(np.take(_MONTH_FIRST, i) + (day - 1)).view("datetime64[D]")


def iso_cells(chars: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray | None:
    """``datetime64[D]`` of the cells ``chars[starts[k]:ends[k]]`` when each is exactly a valid
    ``YYYY-MM-DD`` date in the years 1900-2099 (read with numpy from the fixed-width bytes);
    else None (what Arrow's cast reads, less the years)."""
    if not starts.size or (ends - starts != 10).any():
        return None
    # the ten bytes from each position as one item (a view of the bytes: no index per byte),
    # the cells' items gathered at once
    items = np.ndarray((chars.size - 9,), dtype="V10", buffer=chars, strides=(1,))[starts]
    if chars[starts[0]] == 50 and chars[starts[0] + 1] == 48:  # "20..": this century's texts
        days = _iso_days_2000s(items)
        if days is not None:
            return days
    cells = items.view(np.uint8).reshape(-1, 10).T  # one row per character place
    if not ((cells[4] == 45) & (cells[7] == 45)).all():  # "-"
        return None
    d = cells[_ISO_DIGITS] - np.uint8(48)
    if (d > 9).any():
        return None
    d = d.astype(np.int32)
    year = 1000 * d[0] + 100 * d[1] + 10 * d[2] + d[3]
    return _civil_days(year, 10 * d[4] + d[5], 10 * d[6] + d[7])


_ISO_PLACES = np.arange(10)[:, None]
_ISO_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9])
_ISO_TEXT = np.dtype(
    {"names": ["century", "rest"], "formats": [">u2", ">u8"], "offsets": [0, 2], "itemsize": 10}
)
"""A ``YYYY-MM-DD`` text as two big-endian integers: its first two bytes and the eight after
(``YY-MM-DD``), which order the texts of one century as their days."""
_CENTURY_20 = int.from_bytes(b"20", "big")
_DAY_2000 = int(np.datetime64("2000-01-01", "D").astype(np.int64))


@functools.cache
def iso_texts_2000s() -> np.ndarray:
    """The ``YY-MM-DD`` integer (:data:`_ISO_TEXT`) of every day from 2000-01-01 to
    2099-12-31, increasing (a constant, built once: 36,525 days)."""
    days = np.arange(np.datetime64("2000-01-01"), np.datetime64("2100-01-01"))
    months = days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) - 30  # 2000 -> 0
    month = months.astype(np.int64) % 12 + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    text = np.full((days.size, 8), ord("-"), dtype=np.uint64)  # "YY-MM-DD"
    for place, value in ((0, year // 10), (1, year % 10), (3, month // 10), (4, month % 10)):
        text[:, place] = 48 + value
    text[:, 6], text[:, 7] = 48 + day // 10, 48 + day % 10
    keys = np.asarray((text << np.arange(56, -8, -8, dtype=np.uint64)).sum(axis=1, dtype=np.uint64))
    keys.setflags(write=False)
    return keys


def _iso_days_2000s(items: np.ndarray) -> np.ndarray | None:
    """``datetime64[D]`` of ten-byte cells (``V10`` items) when each is exactly the text of a
    day of 2000-2099, else None: each cell's text looked up among those of every such day
    (:func:`iso_texts_2000s`, between the first and the last cell's: a text found there is
    a valid date, read by equality) -- a few whole-column steps for the twenty of the
    digit-by-digit reading."""
    cells = items.view(_ISO_TEXT)
    if not (cells["century"] == _CENTURY_20).all():
        return None
    key = cells["rest"].astype(np.uint64)
    texts = iso_texts_2000s()
    lo, hi = (int(i) for i in np.searchsorted(texts, key[[0, -1]]))
    window = texts[lo : hi + 1] if lo <= hi else texts
    if not window.size:
        return None
    at = np.searchsorted(window, key)
    if not (np.take(window, at, mode="clip") == key).all():
        return None
    return np.asarray(at + (_DAY_2000 + (lo if lo <= hi else 0))).view("datetime64[D]")


def us_dates(arr: pa.Array) -> np.ndarray | None:
    """``datetime64[D]`` of a string column when every cell is a valid US ``M/D/YYYY`` date
    (one or two digits for month and day, four for the year, nothing else in the cell) in the
    years 1900-2099; else None.  What :func:`us_days` accepts (less the years), read with numpy
    from the column's bytes (:func:`us_cells`): no per-cell Python step, no Arrow kernel."""
    found = _string_bytes(arr)
    if found is None:
        return None
    buf, offsets = found
    return us_cells(buf, offsets[:-1], offsets[1:])


def us_cells(chars: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray | None:
    """:func:`us_dates` of the cells ``chars[starts[k]:ends[k]]`` (in order; ``chars`` may hold
    other cells between them, without a ``/``)."""
    n = starts.size
    if not n:
        return None
    slash = np.flatnonzero(chars == 47)  # "/"
    if slash.size != 2 * n:
        return None
    # two slashes in each cell (sorted positions taken pairwise; each pair inside its own cell)
    s1, s2 = slash[0::2], slash[1::2]
    m_len, d_len = s1 - starts, s2 - s1 - 1
    if not (((m_len == 1) | (m_len == 2)) & ((d_len == 1) | (d_len == 2)) & (ends - s2 == 5)).all():
        return None
    # every other byte of each cell, one row per place (M's and D's tens where they have two)
    at = np.stack([s1 - 2, s1 - 1, s2 - 2, s2 - 1, ends - 4, ends - 3, ends - 2, ends - 1])
    d = np.take(chars, at, mode="clip") - np.uint8(48)
    tens = np.stack([m_len == 2, d_len == 2])
    if (d[_US_ONES] > 9).any() or ((d[_US_TENS] > 9) & tens).any():
        return None  # not a digit
    d = d.astype(np.int32)
    month = 10 * d[0] * tens[0] + d[1]
    day = 10 * d[2] * tens[1] + d[3]
    year = 1000 * d[4] + 100 * d[5] + 10 * d[6] + d[7]
    return _civil_days(year, month, day)


_US_ONES, _US_TENS = np.array([1, 3, 4, 5, 6, 7]), np.array([0, 2])


PY_SPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
"""Every character Python's ``str.strip()`` removes (Unicode whitespace and ``\\x1c``-``\\x1f``)."""


def blank_rows(columns: list[pa.Array]) -> np.ndarray:
    """Rows whose every cell is empty or whitespace (``str.strip()`` leaves nothing): a line of
    commas only, which a line-by-line reader skips as it skips a blank line."""
    out = np.ones(len(columns[0]) if columns else 0, dtype=bool)
    for col in columns:
        out &= pc.fill_null(
            pc.equal(pc.utf8_length(pc.utf8_trim(col, characters=PY_SPACE)), 0), True
        ).to_numpy(zero_copy_only=False)
        if not out.any():
            break
    return out


PLAIN_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
"""A decimal number as written in data files (no spaces, thousands separators, NaN or inf)."""


def floats(
    arr: pa.Array, missing: frozenset[str] = frozenset()
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(values, given)`` of a column whose every cell is a plain finite number or a missing
    token (``given=False``, value NaN), else None: the caller's exact conversion then decides
    cell by cell (what ``"1,5"``, ``" 2"`` or ``"inf"`` is).

    A string column's cells are trimmed of spaces and thousands commas before the ``missing``
    tokens are compared lower-case; a float column (read typed) has its missing cells as nulls.
    """
    if pa.types.is_floating(arr.type):
        if not arr.null_count:
            values = arr.to_numpy()
            return (values, np.ones(len(values), dtype=bool)) if np.isfinite(values).all() else None
        values = arr.to_numpy(zero_copy_only=False)  # nulls as NaN: not finite
        given = np.isfinite(values)  # the cells given, when no written number is inf or NaN:
        return (values, given) if np.count_nonzero(given) == len(arr) - arr.null_count else None
    try:  # the common case first: every cell a number (one conversion)
        values = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = None
    if values is not None and np.isfinite(values).all():
        return values, np.ones(len(values), dtype=bool)
    if not missing:
        return None
    text = pc.replace_substring(pc.utf8_trim_whitespace(arr), ",", "")
    gap = pc.fill_null(
        pc.is_in(pc.utf8_lower(text), value_set=pa.array(sorted(missing), type=pa.string())), True
    )
    number = pc.fill_null(pc.match_substring_regex(text, PLAIN_NUMBER), False)
    if not pc.all(pc.or_(gap, number)).as_py():
        return None
    given = ~gap.to_numpy(zero_copy_only=False)
    values = np.full(len(arr), np.nan)
    if given.any():
        values[given] = pc.cast(pc.filter(text, pc.invert(gap)), pa.float64()).to_numpy(
            zero_copy_only=False
        )
    return values, given


def iso_days(arr: pa.Array) -> np.ndarray | None:
    """``datetime64[D]`` of a string column when every cell is a valid ``YYYY-MM-DD`` date
    (Arrow's strict ISO cast: ``2024-02-30`` is refused), else None."""
    if pa.types.is_date32(arr.type):
        if arr.null_count:
            return None
        days = np.frombuffer(
            arr.buffers()[1], dtype=np.int32, count=len(arr), offset=4 * arr.offset
        )
        return days.astype(np.int64).view("datetime64[D]")  # days since 1970-01-01
    if arr.null_count:
        return None
    try:  # Arrow's string to date cast reads exactly YYYY-MM-DD (ten characters) or fails
        return np.asarray(
            pc.cast(arr, pa.date32()).to_numpy(zero_copy_only=False).astype("datetime64[D]")
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def us_days(arr: pa.Array) -> np.ndarray | None:
    """``datetime64[D]`` of a string column when every cell is a valid US ``M/D/YYYY`` date
    (one or two digits for month and day, four for the year; ``2/30/1999`` is refused), else
    None."""
    if not len(arr):
        return np.array([], dtype="datetime64[D]")
    if not pc.all(pc.match_substring_regex(arr, r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$")).as_py():
        return None
    parts = pc.split_pattern(arr, "/")
    m, d, y = (pc.cast(pc.list_element(parts, i), pa.int64()).to_numpy() for i in range(3))
    if ((m < 1) | (m > 12) | (d < 1)).any():
        return None
    month = ((y - 1970) * 12 + (m - 1)).astype("datetime64[M]")
    days = month.astype("datetime64[D]") + (d - 1)
    if (days.astype("datetime64[M]") != month).any():  # day beyond the month's end
        return None
    return np.asarray(days)


# -- the exact row-by-row reader (appended: the diagnostic path of the strict CSV parsers) -------
class StrictRows(NamedTuple):
    """What :func:`strict_rows` read: stripped ``header``, the data ``rows`` (lists of the
    fields as written), the 1-based ``lines`` each row starts on, and ``cut``: ``(line, fields)``
    of a last row cut short (only with ``allow_cut_last_row``), else None."""

    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    cut: tuple[int, int] | None


def strict_rows(
    text: str,
    source: str,
    *,
    strip_bom: bool = False,
    allow_cut_last_row: bool = False,
) -> StrictRows:
    """Read a delimited text line by line, refusing what is malformed, naming the line.

    Python's ``csv`` reader in strict mode (``"a"b`` is an error, quoted fields may hold commas,
    quotes and line breaks).  The first record is the header (names stripped; with ``strip_bom``
    also of byte-order marks: a BOM file saved again with one); records that are empty or hold
    only whitespace are skipped, as a blank line.  Every other record must have the header's
    number of fields, else :class:`InputError` (``line L, column C``: "row has N fields, the
    header has M").  With ``allow_cut_last_row`` a last record with fewer fields and no line
    break after it (a download cut off) ends the reading instead and is returned as ``cut``.
    A ``csv.Error`` is an :class:`InputError` naming the reader's line ("malformed CSV: ...").

    The exact path of the parsers whose fast path reads regular text column-wise
    (:func:`split_lines_columns`, ``pyarrow.csv``): it decides whatever the fast path declines.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    cut: tuple[int, int] | None = None
    start = 1
    try:
        for record in reader:
            if not header:
                header = (
                    [h.strip().lstrip("\ufeff").strip() for h in record]
                    if strip_bom
                    else [h.strip() for h in record]
                )
                start = reader.line_num + 1
                continue
            if not record or all(not f.strip() for f in record):
                start = reader.line_num + 1
                continue
            if len(record) != len(header):
                if (
                    allow_cut_last_row
                    and len(record) < len(header)
                    and reader.line_num == text.count("\n") + 1
                    and not text.endswith(("\n", "\r"))
                ):
                    cut = (start, len(record))
                    break
                col = min(len(record), len(header)) + 1
                raise InputError(
                    source,
                    f"line {start}, column {col}",
                    f"row has {len(record)} fields, the header has {len(header)}",
                )
            rows.append(record)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(source, f"line {reader.line_num}", f"malformed CSV: {exc}") from None
    return StrictRows(header, rows, lines, cut)


def us_days_padded(arr: pa.Array) -> np.ndarray | None:
    """``datetime64[D]`` of a string column when every cell is a valid zero-padded US date
    ``MM/DD/YYYY`` (exactly ten characters), else None.

    The same dates as :func:`us_days` for such cells, read from the Arrow buffer at fixed
    positions (no regular expression, no split): the common layout of US files (ProShares).
    """
    n = len(arr)
    if not n:
        return np.array([], dtype="datetime64[D]")
    if arr.null_count or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, dtype=width)[arr.offset : arr.offset + n + 1]
    if (np.diff(offsets) != 10).any():
        return None
    data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(n, 10)
    # the bytes less "0", in one byte each (no int64 copy of the matrix): a byte below "0"
    # wraps above 9, "/" becomes 255
    d = data - np.uint8(48)
    if (d > _US_PADDED_MAX).any() or not ((d[:, 2] == 255) & (d[:, 5] == 255)).all():
        return None
    m = d[:, 0] * np.uint8(10) + d[:, 1]  # (at most 99: one byte holds it)
    day = d[:, 3] * np.uint8(10) + d[:, 4]
    y = (d[:, 6] * np.int16(10) + d[:, 7]) * np.int16(100) + (d[:, 8] * np.uint8(10) + d[:, 9])
    if m.min() < 1 or m.max() > 12 or day.min() < 1:
        return None
    month = (y.astype(np.int64) - 1970) * 12 + (m - 1)  # months since 1970-01
    first = int(month.min())
    # the first day of every month the column spans (a few hundred), then a lookup per cell
    starts = np.arange(first, int(month.max()) + 2).astype("datetime64[M]").astype("datetime64[D]")
    at = month - first
    first_day = starts[at]
    if (day > (starts[at + 1] - first_day).view(np.int64)).any():  # beyond the month's end
        return None
    return np.asarray(first_day + (day - 1))


_US_PADDED_MAX = np.array([9, 9, 255, 9, 9, 255, 9, 9, 9, 9], dtype=np.uint8)
"""The largest byte less "0" at each place of ``MM/DD/YYYY`` (a digit; anything at the slashes,
checked apart)."""
_US_PADDED_MAX.setflags(write=False)


SHORT_DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"
"""A decimal as data files write it (``-12.5``, ``3``, ``0.78``): no sign but ``-``, no exponent,
no spaces, no thousands separators."""


def short_decimals(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``(values, ok)`` of a string column: float64 where the cell is a :data:`SHORT_DECIMAL` of
    at most 15 characters (``ok``), NaN elsewhere (blank cells, other spellings).

    Such a cell is an integer below 10**15 over a power of ten, which every correctly rounded
    reader turns into the same float: Arrow's cast here, ``pandas.to_numeric`` and Python's
    ``float`` alike.  A caller decides the other cells (``~ok``) by its exact rule.
    """
    n = len(arr)
    values = np.full(n, np.nan)
    if not n:
        return values, np.zeros(0, dtype=bool)
    match = pc.and_(
        pc.match_substring_regex(arr, SHORT_DECIMAL), pc.less_equal(pc.utf8_length(arr), 15)
    )
    ok = pc.fill_null(match, False).to_numpy(zero_copy_only=False)
    if ok.all():
        values = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    elif ok.any():
        values[ok] = pc.cast(arr.filter(ok), pa.float64()).to_numpy(zero_copy_only=False)
    return values, ok


# -- small curated tables (a few dozen rows: Python per cell beats a pyarrow call per column) ---
_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\n\r"
_SHORT_DECIMAL_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_ISO_DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def plain_ascii(text: str) -> bool:
    """Printable ASCII and ``\\n`` / ``\\r\\n`` line ends only (no tab, no other control
    character, no bare ``\\r``): text on which ``str.strip``/``str.lower`` and Arrow's ASCII
    kernels agree, and every CSV reader splits alike."""
    return (
        text.isascii()
        and not text.encode("ascii").translate(None, _PRINTABLE)
        and text.count("\r") == text.count("\r\n")
    )


def small_decimals(cells: list[str]) -> np.ndarray | None:
    """float64 of a few stripped cells: ``""`` -> NaN, a :data:`SHORT_DECIMAL` of at most 15
    characters -> its value (what ``pandas.to_numeric`` and Arrow read alike, see
    :func:`short_decimals`); None when any other cell is present (the caller's exact rule
    decides)."""
    out = np.full(len(cells), np.nan)
    for i, cell in enumerate(cells):
        if cell:
            if len(cell) > 15 or _SHORT_DECIMAL_RE.fullmatch(cell) is None:
                return None
            out[i] = float(cell)
    return out


def small_iso_days(cells: list[str]) -> np.ndarray | None:
    """``datetime64[D]`` of a few stripped cells: ``""`` -> NaT, a valid ``YYYY-MM-DD`` date of
    the years 1900-2199 -> its day; None when any other cell is present (``2024-02-30``,
    ``2024-1-5``, a time of day: the caller's exact rule decides)."""
    out = np.full(len(cells), np.datetime64("NaT"), dtype="datetime64[D]")
    for i, cell in enumerate(cells):
        if cell:
            if _ISO_DAY_RE.fullmatch(cell) is None or not "1900" <= cell[:4] <= "2199":
                return None
            try:
                out[i] = np.datetime64(cell, "D")
            except ValueError:  # no such day
                return None
    return out


_NOT_DECIMAL_BYTE = np.ones(256, dtype=bool)
_NOT_DECIMAL_BYTE[list(b"0123456789.-")] = False


def decimal_cells(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """:func:`short_decimals` of a ``large_string`` column without a regular expression: the
    cells of at most 15 characters from ``0-9 . -`` are cast at once (one pass over the Arrow
    buffer finds them); when one of them is not a number after all (``-``, ``1-2``), the
    regular expression decides cell by cell."""
    n = len(arr)
    if not n or arr.null_count or not pa.types.is_large_string(arr.type):
        return short_decimals(arr)
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int64)[arr.offset : arr.offset + n + 1]
    lengths = np.diff(offsets)
    if data_buf is None or offsets[-1] == offsets[0]:
        return np.full(n, np.nan), np.zeros(n, dtype=bool)
    data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]]
    odd = np.concatenate(([0], np.cumsum(_NOT_DECIMAL_BYTE[data])))
    start = offsets - offsets[0]
    ok = (odd[start[1:]] == odd[start[:-1]]) & (lengths > 0) & (lengths <= 15)
    values = np.full(n, np.nan)
    if ok.any():
        try:
            values[ok] = pc.cast(arr.filter(pa.array(ok)), pa.float64()).to_numpy(
                zero_copy_only=False
            )
        except pa.ArrowInvalid:
            return short_decimals(arr)
    return values, ok
