"""The one daily price frame every price connector returns, and the parsing they share.

The Cboe daily price files (:mod:`flows.sources.cboe_prices`), FRED's ``fredgraph.csv``
(:mod:`flows.sources.fred`) and Yahoo-style drop files (:mod:`flows.sources.yahoo_csv`) are all
"a date column and value columns"; they differ in column names, date layout and how a missing
value is written.  Each connector names its columns and calls :func:`parse_delimited`, which
returns the :data:`flows.schema.PRICE_COLUMNS` frame (``date, close, open, high, low, volume``;
tz-naive session dates, strictly increasing) and a :class:`flows.quality.Quality` (basis: rows).

Rules, in order
---------------
* Text: :func:`flows.sources.textio.decode_text` (the one rule: gzip, byte-order marks, UTF-8, cp1252, Latin-1).
* Rows: the header is the first line; blank lines are ignored; a row with a different number of
  fields (other than trailing empty ones) is an :class:`InputError` naming the line.
* Dates: ISO ``2024-08-05`` or US ``8/5/2024`` / ``08/05/2024``, decided by the first row; every
  row must parse in that layout (else :class:`InputError` naming the line and the value).
* Missing values (``""``, ``.``, ``null``, ``NaN``, ``NA``, ``N/A``, ``-``): a row without a close
  on an exchange holiday is a **gap** and is dropped (FRED lists holidays as empty rows), recorded
  as a repair; on a session it is **skipped** (a lost observation: counted in the skipped share,
  and a warning names the first line).  A close that is not a number or not positive is skipped
  the same way.
* Rows on non-session dates that do carry a value (Cboe publishes the VIX on some holidays since
  2022, computed in its global trading hours; the 2004-06-11 closure) are dropped when
  ``sessions_only`` (the default: the engines count exchange sessions), recorded as a repair.
* Order: rows are sorted by date (a repair when they were not); a repeated date with the same
  close is dropped (repair), with a different close it is an :class:`InputError` naming both lines.
* Plausibility (:data:`flows.limits.LIMITS`): closes in ``price.close``; the log change between
  consecutive rows within ``price.daily_log_change`` (a misplaced decimal), else InputError
  naming the line.
* Missing sessions between the first and last date are counted as a repair (returns span the
  gap); when one lies in the last 252 sessions of the file it is also a warning.
* A file that does not end with a newline may have been cut inside its last row: a warning.

Pure: bytes in, frame and quality out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.internals import create_dataframe_from_blocks

from flows import calendars
from flows.errors import InputError
from flows.limits import LIMITS, check_range
from flows.quality import Quality
from flows.schema import PRICE_COLUMNS
from flows.sources import columnar
from flows.sources.textio import GZIP_MAGIC, Decoded, decode_text

MISSING_TOKENS = frozenset({"", ".", "null", "nan", "na", "n/a", "-", "none"})
"""Cells meaning "no value" (compared lower-case, stripped)."""
VALUE_COLUMNS = tuple(c for c in PRICE_COLUMNS if c != "date")
"""The frame's value columns (``close`` first), held as one float block while parsing."""
_PRICE_INDEX = pd.Index(list(PRICE_COLUMNS))  # a view of it names each frame's columns
_DATE_POSITION = np.array([list(PRICE_COLUMNS).index("date")])
_VALUE_POSITIONS = np.array([list(PRICE_COLUMNS).index(c) for c in VALUE_COLUMNS])
SMALL_TEXT = 64_000
"""Characters below which a text is read by the bounds of its cells in its bytes (numpy); above,
by one typed ``pyarrow.csv`` read (its reader's hand-over to a background thread costs ~0.1 ms,
which pays on large files only)."""
STR = pd.StringDtype(na_value=np.nan)
"""pandas' default string dtype (``str``): what ``pd.DataFrame`` makes of Python strings."""
RECENT_SESSIONS = 252
"""A missing session within this many sessions of the file's end is a warning."""
ISO_FORMAT = "%Y-%m-%d"
US_FORMAT = "%m/%d/%Y"


def read_rows(
    text: str,
    source: str,
    *,
    header_contains: str | None = None,
    max_preamble: int = 5,
    allow_empty: bool = False,
) -> tuple[list[str], list[list[str]], np.ndarray, int]:
    """``(header, rows, line_numbers, preamble_lines)`` of a delimited text.

    With ``header_contains`` the header is the first line containing it (case-insensitive)
    within ``max_preamble + 1`` lines; earlier lines are a preamble (CFE's disclaimer line).
    Trailing empty fields beyond the header are dropped; any other field-count mismatch raises
    :class:`InputError` naming the line.  A file with a header and no rows is an error unless
    ``allow_empty``.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    preamble = 0
    start = 1
    try:
        for record in reader:
            if not header:
                if not record or all(not f.strip() for f in record):
                    start = reader.line_num + 1
                    continue
                if header_contains and not any(
                    header_contains.lower() in f.lower() for f in record
                ):
                    preamble += 1
                    if preamble > max_preamble:
                        raise InputError(
                            source,
                            f"line {start}",
                            f"no header row containing '{header_contains}' in the first {max_preamble + 1} lines",
                        )
                    start = reader.line_num + 1
                    continue
                header = [h.strip() for h in record]
                start = reader.line_num + 1
                continue
            if not record or all(not f.strip() for f in record):
                start = reader.line_num + 1
                continue
            if len(record) > len(header) and not any(f.strip() for f in record[len(header) :]):
                record = record[: len(header)]
            if len(record) != len(header):
                col = min(len(record), len(header)) + 1
                raise InputError(
                    source,
                    f"line {start}, column {col}",
                    f"row has {len(record)} fields, the header has {len(header)} (file cut or shifted?)",
                )
            rows.append(record)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(source, f"line {reader.line_num}", f"malformed CSV: {exc}") from None
    if not header:
        raise InputError(source, "line 1", "no header row")
    if not rows and not allow_empty:
        raise InputError(source, "line 2", "no data rows")
    return header, rows, np.asarray(lines, dtype=np.int64), preamble


@dataclass
class Cells:
    """The data cells of a delimited text, column by column (what :func:`read_cells` returns).

    ``header`` (stripped names), ``lines`` (the 1-based line each row starts on), ``preamble``
    (lines before the header).  A regular text is read by :mod:`flows.sources.columnar`: a
    small one as the bounds of its cells in its bytes (``chars``, ``starts``, ``ends``: cell
    ``k`` is row ``k // width``, column ``k % width``), a large one into ``arrow`` (one Arrow
    array per column read, typed where the caller asked); any other text by :func:`read_rows`
    (``rows``: a 2-D array of strings).  :meth:`text` gives a column as a numpy string array
    either way; ``source_text[body_start:]`` is the text of the rows.
    """

    header: list[str]
    lines: np.ndarray
    preamble: int
    arrow: list[pa.Array | None] | None = None
    rows: np.ndarray | None = None
    chars: np.ndarray | None = None
    starts: np.ndarray | None = None
    ends: np.ndarray | None = None
    width: int = 0
    source_text: str = ""
    body_start: int = 0
    _raw: list[pa.Array] | None = None
    _skip: int = 0

    def __len__(self) -> int:
        return int(self.lines.size)

    def _bounds(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        assert self.starts is not None and self.ends is not None
        k = j + self._skip
        return self.starts[k :: self.width], self.ends[k :: self.width]

    def text(self, j: int) -> np.ndarray:
        """Column ``j`` as written, a numpy string array (for the exact conversions and
        messages; a column the fast path read typed is split again as text, once)."""
        if self.chars is not None:
            return np.asarray(self.column_text(j).to_numpy(zero_copy_only=False), dtype=str)
        if self.arrow is not None:
            col = self.arrow[j]
            if col is None or not pa.types.is_string(col.type):
                if self._raw is None:
                    self._raw = columnar.split_lines_columns(
                        self.source_text[self.body_start :],
                        len(self.arrow) + self._skip,
                        plain=True,
                    )
                assert self._raw is not None
                col = self._raw[j + self._skip]
            return np.asarray(col.to_numpy(zero_copy_only=False), dtype=str)
        assert self.rows is not None
        return self.rows[:, j] if len(self.rows) else np.array([], dtype=str)

    def column_text(self, *js: int) -> pa.Array:
        """Columns ``js`` of a small text, one after the other, as one Arrow string array."""
        assert self.chars is not None
        bounds = [self._bounds(j) for j in js]
        if len(bounds) == 1:
            return columnar.cells_array(self.chars, *bounds[0])
        starts, ends = (np.concatenate(b) for b in zip(*bounds, strict=True))
        return columnar.cells_array(self.chars, starts, ends)

    def floats(self, *js: int) -> tuple[np.ndarray, np.ndarray] | None:
        """:func:`flows.sources.columnar.cell_floats` of :meth:`column_text` ``(*js)`` (a
        small text), read from the cells' bounds at once."""
        assert self.chars is not None
        if len(js) == 1:
            return columnar.bounds_floats(self.chars, *self._bounds(js[0]))
        # the cells row by row, columns left to right (their order in the text: read in place),
        # then back to one column after the other
        order = sorted(range(len(js)), key=lambda k: js[k])
        bounds = [self._bounds(js[k]) for k in order]
        starts, ends = (np.stack(b, axis=1).ravel() for b in zip(*bounds, strict=True))
        read = columnar.bounds_floats(self.chars, starts, ends)
        if read is None:
            return None
        back = np.argsort(order)

        def by_column(a: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(a.reshape(-1, len(js)).T[back]).ravel()

        return by_column(read[0]), by_column(read[1])

    def column(self, j: int) -> pa.Array | None:
        """Column ``j`` as an Arrow array when the fast path read the text, else None."""
        if self.chars is not None:
            return self.column_text(j)
        return self.arrow[j] if self.arrow is not None else None

    def same(self, j: int) -> str | None:
        """The text of every cell of column ``j`` when they are all written alike (checked on
        the bytes of a small text), else None (or when the text was read another way)."""
        if self.chars is None or not len(self):
            return None
        starts, ends = self._bounds(j)
        width = int(ends[0] - starts[0])
        if (ends - starts != width).any():
            return None
        cells = np.take(self.chars, starts[:, None] + np.arange(width))
        if (cells != cells[0]).any():
            return None
        return bytes(cells[0]).decode()

    def drop_first(self) -> Cells:
        """Without the first column (CFE's leading unnamed index column)."""
        if self.arrow is not None or self.chars is not None:
            return Cells(
                self.header[1:],
                self.lines,
                self.preamble,
                arrow=self.arrow[1:] if self.arrow is not None else None,
                chars=self.chars,
                starts=self.starts,
                ends=self.ends,
                width=self.width,
                source_text=self.source_text,
                body_start=self.body_start,
                _raw=self._raw,
                _skip=self._skip + 1,
            )
        return Cells(
            self.header[1:],
            self.lines,
            self.preamble,
            rows=self.rows[:, 1:] if self.rows is not None and len(self.rows) else self.rows,
        )


def _header_at(
    text: str, header_contains: str | None, max_preamble: int
) -> tuple[list[str], int, int, int] | None:
    """Header, position where the data lines start, header line number and preamble count by
    :func:`read_rows`' rules, for a text without quotes; None where the exact path must decide
    (no header found)."""
    pos, line_no, preamble = 0, 0, 0
    while pos <= len(text):
        end = text.find("\n", pos)
        line = text[pos : end if end >= 0 else len(text)].removesuffix("\r")
        line_no += 1
        fields = line.split(",")
        blank = all(not f.strip() for f in fields)
        if (
            not blank
            and header_contains
            and not any(header_contains.lower() in f.lower() for f in fields)
        ):
            preamble += 1
            if preamble > max_preamble:
                return None
        elif not blank:
            return (
                [h.strip() for h in fields],
                (end + 1 if end >= 0 else len(text)),
                line_no,
                preamble,
            )
        if end < 0:
            return None
        pos = end + 1
    return None


TypeHint = Callable[[list[str], list[str]], dict[int, pa.DataType]]
"""``(header, first data row's fields) -> {column position: Arrow type}``: the columns a large
regular text reads (:func:`flows.sources.columnar.read_typed`: typed, ``pa.string()`` for text;
the others are not read)."""


def _typed_cells(
    text: str,
    header_contains: str | None,
    max_preamble: int,
    types: TypeHint,
    missing: frozenset[str],
    encoded: bytes | None = None,
) -> Cells | None:
    """The fast path of :func:`read_cells`: one strict typed ``pyarrow.csv`` read of the data
    lines (:func:`flows.sources.columnar.read_typed`), or None where anything is irregular (a
    quote, a bare ``\\r``, a blank line, another field count, a typed cell that does not
    convert): the caller then reads the text its other ways, which name the line."""
    if '"' in text:
        return None
    found = _header_at(text, header_contains, max_preamble)
    if found is None or found[1] >= len(text):
        return None
    header, start, header_line, preamble = found
    head = text[:start]
    if head.count("\r") != head.count("\r\n") or text.endswith("\r"):
        return None  # a bare carriage return: a line end to the line-by-line reader
    end = text.find("\n", start)
    first = text[start : end if end >= 0 else len(text)]
    data = encoded if encoded is not None else text.encode()
    body = pa.py_buffer(data)[start if text.isascii() else len(head.encode()) :]
    columns = columnar.read_typed(
        body, len(header), types(header, first.removesuffix("\r").split(",")), missing=missing
    )
    if columns is None:
        return None
    n = next(len(c) for c in columns if c is not None)
    # (a bare carriage return inside a line ends it for Arrow as for the line-by-line reader:
    # the same rows, numbered alike; one that leaves a line short is a field count Arrow refuses)
    if _blank_row(columns):
        return None  # a blank line or a line of commas, skipped line by line
    lines = np.arange(header_line + 1, header_line + 1 + n, dtype=np.int64)
    return Cells(header, lines, preamble, arrow=columns, source_text=text, body_start=start)


def _blank_row(columns: list[pa.Array | None]) -> bool:
    """Whether a row of a strict typed read has every cell empty or whitespace: a blank line
    or a line of commas, which :func:`read_rows` skips and Arrow reads as a row (its typed
    cells are null there: a cell of spaces does not convert)."""
    read = [c for c in columns if c is not None]  # (the columns not read: none is blank)
    typed = [c for c in read if not pa.types.is_string(c.type)]
    if any(c.null_count == 0 for c in typed):
        return False
    rows = np.ones(len(read[0]), dtype=bool)
    for c in typed:
        rows &= columnar.null_mask(c)
    at = np.flatnonzero(rows)
    text = [c for c in read if pa.types.is_string(c.type)]
    if not at.size or not text:
        return bool(at.size)
    if at.size <= 4096:  # rows without any number (FRED's holidays): str.strip as there
        cells = zip(*(c.take(at).to_pylist() for c in text), strict=True)
        return any(all(not v.strip() for v in row) for row in cells)
    return bool(columnar.blank_rows([c.take(at) for c in text]).any())


_BAD_FIRST_BYTE = np.zeros(256, dtype=bool)
_BAD_FIRST_BYTE[: ord(" ") + 1] = _BAD_FIRST_BYTE[128:] = _BAD_FIRST_BYTE[ord(",")] = True
_BAD_FIRST_BYTE.setflags(write=False)
"""The first byte of a row's first cell that sends a small text to the line-by-line reader:
a space or control byte, a non-ASCII one, or the comma after an empty cell."""


def _small_cells(
    text: str,
    header_contains: str | None,
    max_preamble: int,
    allow_empty: bool,
    encoded: bytes | None,
) -> Cells | None:
    """The fast path of :func:`read_cells` for a small text: where its cells start and end in
    its bytes (:func:`flows.sources.columnar.split_bounds`: no Arrow reader, whose background
    thread costs more than that on a few hundred rows), or None where anything is irregular."""
    if '"' in text:
        return None
    found = _header_at(text, header_contains, max_preamble)
    if found is None:
        return None
    header, start, header_line, preamble = found
    head = text[:start]
    if head.count("\r") != head.count("\r\n"):
        return None  # a bare carriage return: a line end to the line-by-line reader
    width = len(header)
    data = encoded if encoded is not None else text.encode()
    bounds = columnar.split_bounds(data[start if text.isascii() else len(head.encode()) :], width)
    if bounds is None:
        return None
    chars, starts, ends = bounds
    n = starts.size // width
    if not (n or allow_empty):
        return None
    # a line of commas (every cell blank) is skipped line by line: refuse a text where a row's
    # first cell may be blank (empty, or opening with a space or a non-ASCII byte: rare)
    if _BAD_FIRST_BYTE[np.take(chars, starts[::width], mode="clip")].any():
        return None
    lines = np.arange(header_line + 1, header_line + 1 + n, dtype=np.int64)
    return Cells(
        header,
        lines,
        preamble,
        chars=chars,
        starts=starts,
        ends=ends,
        width=width,
        source_text=text,
        body_start=start,
    )


def own_bytes(raw: bytes, decoded: Decoded) -> bytes | None:
    """``raw`` when it is exactly ``decoded.text`` in UTF-8 (no gzip, no byte-order mark, not
    another encoding), for :func:`read_cells`' ``encoded`` (saves encoding the text again)."""
    plain = decoded.encoding == "utf-8" and not decoded.bom
    return raw if plain and isinstance(raw, bytes) and raw[:2] != GZIP_MAGIC else None


def read_cells(
    text: str,
    source: str,
    *,
    header_contains: str | None = None,
    max_preamble: int = 5,
    allow_empty: bool = False,
    types: TypeHint | None = None,
    missing: frozenset[str] = MISSING_TOKENS,
    encoded: bytes | None = None,
) -> Cells:
    """:func:`read_rows` column by column: the same header, rows, line numbers and errors.

    A regular text (no quotes, every data line with the header's number of fields, no blank
    data line) is read column-wise without a per-row Python step: at once with the ``types``
    columns converted when every cell converts (:func:`_typed_cells`), else split as strings
    (:func:`flows.sources.columnar.split_lines_columns`); any other text goes through
    :func:`read_rows`, whose errors name the line.  ``encoded``: ``text`` in UTF-8 when the
    caller has it (the file's own bytes), saving a copy.
    """
    if len(text) < SMALL_TEXT:
        cells = _small_cells(text, header_contains, max_preamble, allow_empty, encoded)
        if cells is not None:
            return cells
    elif types is not None:
        cells = _typed_cells(text, header_contains, max_preamble, types, missing, encoded)
        if cells is not None:
            return cells
    if columnar.is_plain(text):
        found = _header_at(text, header_contains, max_preamble)
        if found is not None:
            header, start, header_line, preamble = found
            body = text[start:]
            hint = (
                types(header, body[: body.find("\n")].removesuffix("\r").split(","))
                if types is not None
                else None
            )
            columns = columnar.split_lines_columns(
                body, len(header), types=hint, missing=missing, plain=True
            )
            if (
                columns is not None
                and (len(columns[0]) or allow_empty)
                and not (len(columns[0]) and _blank_row(columns))  # skipped there
            ):
                lines = np.arange(
                    header_line + 1, header_line + 1 + len(columns[0]), dtype=np.int64
                )
                return Cells(
                    header, lines, preamble, arrow=columns, source_text=text, body_start=start
                )
    header, rows, lines, preamble = read_rows(
        text,
        source,
        header_contains=header_contains,
        max_preamble=max_preamble,
        allow_empty=allow_empty,
    )
    return Cells(
        header,
        lines,
        preamble,
        rows=np.array(rows, dtype=str) if rows else np.empty((0, len(header)), dtype=str),
    )


def cell_days(cells: Cells, j: int, source: str, field: str) -> np.ndarray:
    """:func:`parse_dates` of column ``j`` as ``datetime64[D]``; the fast ISO / US readers of
    :mod:`flows.sources.columnar` first (the same values, or None and the exact reader)."""
    if cells.chars is not None:  # a small text: ISO or US dates straight from its bytes
        bounds = cells._bounds(j)
        fast = columnar.iso_cells(cells.chars, *bounds)
        if fast is None:
            fast = columnar.us_cells(cells.chars, *bounds)
        if fast is not None:
            return fast
    arr = cells.column(j)
    if arr is not None and len(arr):
        first = str(arr[0].as_py()).strip() if pa.types.is_string(arr.type) else ""
        # ISO: Arrow's strict cast; US: numpy on the cells' bytes, Arrow's kernels for the
        # years it leaves (a date outside a timestamp's range: the exact reader names it)
        if not first or (len(first) >= 8 and first[4:5] == "-"):
            fast = columnar.iso_days(arr)
        else:
            fast = columnar.us_dates(arr)
            if fast is None:
                fast = columnar.us_days(arr)
        if fast is not None:
            number = fast.view(np.int64)  # days since 1970
            if number.min() >= _FIRST_DATE and number.max() <= _LAST_DATE:
                return fast
    return np.asarray(
        parse_dates(cells.text(j), cells.lines, source, field).to_numpy(dtype="datetime64[ns]")
    ).astype("datetime64[D]")


def cell_dates(cells: Cells, j: int, source: str, field: str) -> np.ndarray:
    """:func:`cell_days` as ``datetime64[ns]``."""
    return cell_days(cells, j, source, field).astype("datetime64[ns]")


def cell_rows(cells: Cells, columns: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`to_numbers` of each of ``columns``: ``(values, given)`` (the values may be a
    read-only view of the reader's buffer): columns of plain numbers and missing tokens read at
    once (:func:`flows.sources.columnar.floats`; a small text's in one conversion), any other
    cell by cell."""
    n = len(cells)
    if cells.chars is not None and "" in MISSING_TOKENS:  # a small text: one conversion
        fast = cells.floats(*columns)
        if fast is not None:
            values, given = fast[0].reshape(len(columns), n), fast[1].reshape(len(columns), n)
            return list(zip(values, given, strict=True))
    rows = []
    for j in columns:
        arr = cells.column(j)
        fast = columnar.floats(arr, MISSING_TOKENS) if arr is not None else None
        rows.append(fast if fast is not None else to_numbers(cells.text(j)))
    return rows


def cell_block(cells: Cells, columns: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cell_rows` as one fresh block, one row per column (k x n)."""
    rows = cell_rows(cells, columns)
    nums = np.empty((len(columns), len(cells)), dtype=np.float64)
    given = np.empty((len(columns), len(cells)), dtype=bool)
    for k, (values, written) in enumerate(rows):
        nums[k], given[k] = values, written
    return nums, given


def parse_dates(
    values: np.ndarray | pd.Series, lines: np.ndarray, source: str, field: str
) -> pd.Series:
    """Dates in ISO or US layout (decided by the first row); InputError naming the first bad line."""
    stripped = np.strings.strip(np.asarray(values, dtype=str))
    first = str(stripped[0])
    fmt = ISO_FORMAT if len(first) >= 8 and first[4:5] == "-" else US_FORMAT
    if fmt == ISO_FORMAT and (np.strings.str_len(stripped) == 10).all():
        try:  # fast path: numpy reads YYYY-MM-DD itself (and refuses 2024-13-01)
            days = stripped.astype("datetime64[D]")
        except ValueError:
            pass  # fall through: pandas names the bad row
        else:
            _check_span(days, stripped, lines, source, field)
            return pd.Series(days.astype("datetime64[ns]"))
    text = pd.Series(stripped)
    dates = pd.to_datetime(text, format=fmt, errors="coerce")
    bad = dates.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        layout = "YYYY-MM-DD" if fmt == ISO_FORMAT else "M/D/YYYY"
        raise InputError(
            source,
            f"line {lines[i]}, column '{field}'",
            f"not a date in the file's layout {layout}: {text.iloc[i]!r}",
        )
    _check_span(dates.to_numpy().astype("datetime64[D]"), stripped, lines, source, field)
    return dates.astype("datetime64[ns]")  # one resolution whichever path parsed the file


FIRST_DATE, LAST_DATE = np.datetime64("1677-09-22"), np.datetime64("2262-04-11")
"""The dates a ``datetime64[ns]`` column holds (pandas' timestamp range, whole days)."""
_FIRST_DATE, _LAST_DATE = (int(d.astype(np.int64)) for d in (FIRST_DATE, LAST_DATE))


def _check_span(
    days: np.ndarray, text: np.ndarray, lines: np.ndarray, source: str, field: str
) -> None:
    """InputError naming the first date outside :data:`FIRST_DATE` .. :data:`LAST_DATE`
    (``0999`` typed for ``1999``): it would wrap around in nanoseconds."""
    outside = (days < FIRST_DATE) | (days > LAST_DATE)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise InputError(
            source,
            f"line {lines[i]}, column '{field}'",
            f"date {str(text[i])!r} outside the range a timestamp holds ({FIRST_DATE} .. {LAST_DATE})",
        )


def to_numbers(values: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(numbers, given)``: floats (NaN where missing or not a number) and "a value was
    written", same shape as ``values`` (1-D or a 2-D block of columns: one conversion for all)."""
    arr = np.asarray(values, dtype=str)
    text = np.strings.replace(np.strings.strip(arr), ",", "")
    given = ~np.isin(np.strings.lower(text), list(MISSING_TOKENS))
    filled = np.where(given, text, "nan")
    try:  # fast path: every written cell is a plain number
        nums = filled.astype(float)
        if not np.isnan(nums[given]).any():  # a literal "nan" written in a cell stays "not given"
            return nums, given
    except ValueError:
        pass
    flat = pd.Series(np.where(given, text, "").ravel())
    nums = (
        pd.to_numeric(flat.where(flat.ne("")), errors="coerce")
        .to_numpy(dtype=float)
        .reshape(arr.shape)
    )
    return nums, given


def _find(header: Sequence[str], names: Sequence[str]) -> int | None:
    low = [h.strip().lower() for h in header]
    for name in names:
        if name.lower() in low:
            return low.index(name.lower())
    return None


def parse_delimited(
    raw: bytes,
    source: str,
    *,
    symbol: str,
    date_names: Sequence[str],
    close_names: Sequence[str],
    optional: Mapping[str, Sequence[str]] | None = None,
    sessions_only: bool = True,
    calendar: str = calendars.DEFAULT_CALENDAR,
    decoded: Decoded | None = None,
) -> tuple[pd.DataFrame, Quality]:
    """Parse a date + values file into the price frame (see the module docstring for the rules).

    Parameters
    ----------
    raw:
        File bytes (gzip or text).
    source:
        File path or URL, named in every error and in the quality record.
    symbol:
        What the series is (``SPX``, ``VIX``, ``SP500``); stored in ``frame.attrs["symbol"]``.
    date_names, close_names:
        Accepted header names of the date and close columns (case-insensitive, first match).
        When no close name matches (or none is given) and the file has exactly one other
        column, that column is the close (FRED's ``SP500``, the ``arch`` VIX file's ``vix``).
    optional:
        ``{"open": ("Open",), ...}``: further frame columns and their header names.
    decoded:
        ``decode_text(raw, source)`` when the caller has it already (decoded once).

    Returns
    -------
    (frame, quality)
        :data:`flows.schema.PRICE_COLUMNS`, oldest first; ``quality.basis == "rows"``.
    """
    if decoded is None:
        decoded = decode_text(raw, source)
    text, repairs = decoded.text, decoded.repairs

    def types(header: list[str], first: list[str]) -> dict[int, pa.DataType]:
        out = {
            j: pa.float64()
            for names in (close_names, *(optional or {}).values())
            if (j := _find(header, names)) is not None
        }
        di = _find(header, date_names)
        if di is not None and _find(header, close_names) is None:  # the one value column
            others = [i for i in range(len(header)) if i != di and header[i]]
            if len(others) == 1:
                out[others[0]] = pa.float64()
        if di is not None:  # ISO dates read by Arrow; US ones as text (columnar.us_dates)
            iso = di < len(first) and len(first[di]) == 10 and first[di][4:5] == "-"
            out[di] = pa.date32() if iso else pa.string()
        return out

    cells = read_cells(text, source, types=types, encoded=own_bytes(raw, decoded))
    header, lines = cells.header, cells.lines
    q = Quality(source=source, basis="rows", total_rows=len(cells))
    for r in repairs:
        q.repair(r, len(cells))
    di = _find(header, date_names)
    if di is None:
        raise InputError(
            source,
            f"line 1, column '{date_names[0]}'",
            f"date column missing (header: {', '.join(header)})",
        )
    ci = _find(header, close_names)
    if ci is None:
        others = [i for i in range(len(header)) if i != di and header[i]]
        if len(others) != 1:
            if close_names:
                raise InputError(
                    source,
                    f"line 1, column '{close_names[0]}'",
                    f"close column missing (header: {', '.join(header)})",
                )
            raise InputError(
                source,
                "line 1",
                f"expected one value column besides '{header[di]}' (header: {', '.join(header)})",
            )
        ci = others[0]
    found = {"close": ci}
    for name in VALUE_COLUMNS[1:]:
        j = _find(header, (optional or {}).get(name, ()))
        if j is not None:
            found[name] = j
    clean = _clean(cells, di, found, calendar, sessions_only)
    if clean is not None:  # a regular file with nothing to name: the same records at once
        day, block, gaps, off = clean
        if gaps:
            q.repair("rows without a value on exchange holidays dropped (gaps)", gaps)
        if off:
            q.repair("rows on non-session dates dropped (published on an exchange holiday)", off)
    else:
        date_arr = cell_days(cells, di, source, header[di])
        nums = cell_rows(cells, list(found.values()))  # (values, given) of each found column
        close, given = nums[0]

        session = _session_mask(date_arr, calendar)
        has_close = np.isfinite(close) & (close > 0)
        keep = has_close & session if sessions_only else has_close
        if not keep.all():  # (every row kept: no gap, no skip, no off-session row to record)
            keep = _sort_out(q, cells, header, ci, date_arr, close, given, session, sessions_only)

        day, kept_lines = date_arr, lines
        if not keep.all():
            day, kept_lines = day[keep], lines[keep]
        if day.size == 0:
            raise InputError(source, header[ci], "no row with a usable close")
        # the frame's value columns as one block (NaN where the file has none), kept rows only
        shape = (len(VALUE_COLUMNS), len(day))
        block = np.empty(shape) if len(found) == len(VALUE_COLUMNS) else np.full(shape, np.nan)
        for name, (row, _) in zip(found, nums, strict=True):
            block[VALUE_COLUMNS.index(name)] = row if len(day) == len(row) else row[keep]
        day, block, kept_lines = _order(day, block, kept_lines, q, source, header[ci])
        close = block[0]
        lim = LIMITS["price.close"]
        if not (close.min() >= lim.low and close.max() <= lim.high):  # (NaN or inf: not within)
            check_range(  # the one plausibility check names the row
                close,
                "price.close",
                source,
                rows=lambda i: f"line {kept_lines[i]}",
                field=header[ci],
            )
        lim = LIMITS["price.daily_log_change"]
        log_close = np.log(close)
        step = log_close[1:] - log_close[:-1]  # (np.diff's arithmetic)
        if step.size and (step.min() < lim.low or step.max() > lim.high):
            i = int(np.flatnonzero((step < lim.low) | (step > lim.high))[0]) + 1
            raise InputError(
                source,
                f"line {kept_lines[i]}, column '{header[ci]}'",
                f"close {float(close[i])!r} on {pd.Timestamp(day[i]).date()} is {np.exp(step[i - 1]):.3g} x the previous row's {float(close[i - 1])!r} (log change outside [{lim.low:g}, {lim.high:g}]): {lim.why}",
            )
    missing_sessions = _missing_sessions(day, q, calendar, sessions_only)
    if not text.endswith(("\n", "\r")):
        q.warn(
            f"the file does not end with a newline: its last row ({pd.Timestamp(day[-1]).date()}) may be cut"
        )
    frame = create_dataframe_from_blocks(
        [(day.astype("datetime64[ns]").reshape(1, -1), _DATE_POSITION), (block, _VALUE_POSITIONS)],
        index=pd.RangeIndex.from_range(range(len(day))),
        columns=_PRICE_INDEX.view(),
    )  # what pd.DataFrame of the columns gives, without its per-column checks (fresh arrays)
    if missing_sessions:
        frame.attrs["missing_sessions"] = missing_sessions
    frame.attrs.update({"symbol": symbol, "source": source})
    return frame, q


def _clean_columns(
    cells: Cells, di: int, found: Mapping[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """``(days, values, given)`` for :func:`_clean`: day numbers (days since 1970) of column
    ``di``; the ``found`` columns' numbers, close first (a large text: one row per
    :data:`VALUE_COLUMNS`, NaN where the file has none; a small one: one row per found
    column); which cells were written (None: all) -- when the fast readers read every cell
    (a large text's typed columns without a missing cell and with finite numbers; a small
    text's cells by one conversion, :func:`cell_rows`' first step), else None."""
    if cells.arrow is not None:
        date = cells.arrow[di]
        arrays = [cells.arrow[j] for j in found.values()]
        typed = [c for c in arrays if c is not None and c.type == _F64 and not c.null_count]
        if date is None or date.null_count or len(typed) != len(arrays):
            return None
        if date.type == _DATE32:  # ISO dates, read by Arrow
            days = np.frombuffer(
                date.buffers()[1], dtype=np.int32, count=len(date), offset=4 * date.offset
            )
        else:  # US dates as text: read from their bytes (what cell_days reads first)
            us = columnar.us_dates(date) if pa.types.is_string(date.type) else None
            if us is None:
                return None
            days = us.view(np.int64)
        rows = [VALUE_COLUMNS.index(name) for name in found]
        shape = (len(VALUE_COLUMNS), len(date))
        values = np.empty(shape) if len(rows) == len(VALUE_COLUMNS) else np.full(shape, np.nan)
        for r, c in zip(rows, typed, strict=True):
            values[r] = c.to_numpy()
        if rows == list(range(len(rows))):
            finite = bool(np.isfinite(values[: len(rows)]).all())
        else:
            finite = all(np.isfinite(values[r]).all() for r in rows)
        return (days, values, None) if finite else None  # (else the exact conversion decides)
    if cells.chars is None:
        return None
    bounds = cells._bounds(di)
    fast = columnar.iso_cells(cells.chars, *bounds)
    if fast is None:
        fast = columnar.us_cells(cells.chars, *bounds)
    numbers = cells.floats(*found.values())
    if fast is None or numbers is None:
        return None
    shape = (len(found), len(cells))
    return fast.view(np.int64), numbers[0].reshape(shape), numbers[1].reshape(shape)


def _clean(
    cells: Cells, di: int, found: Mapping[str, int], calendar: str, sessions_only: bool
) -> tuple[np.ndarray, np.ndarray, int, int] | None:
    """``(days, block, gaps, off)`` when nothing in the text is for :func:`parse_delimited`'s
    rules to record or refuse but gaps (no value on a day without a session) and rows off the
    sessions: every date a calendar day of ``calendar``'s range, strictly increasing; every
    value written a finite number (:func:`_clean_columns`); every close written positive,
    one on every session, and within the plausibility limits, and so every log change (between
    the rows kept); else None (those rules decide: the same frame).  ``days``
    (``datetime64[D]``) and ``block`` (one row per :data:`VALUE_COLUMNS`, NaN where the file
    has none) of the rows kept; ``gaps`` and ``off``: the rows dropped as such.  A few
    whole-column steps, no row masks to record or line numbers: on a regular file the general
    path's fixed cost per step is most of its time."""
    got = _clean_columns(cells, di, found)
    if got is None:
        return None
    days, values, given = got
    n = days.size
    flags = calendars.session_flags(calendar)
    k = days - _FIRST_DAY_NUMBER  # position in the calendar
    if not n or k[0] < 0 or k[-1] >= flags.size or not (k[1:] > k[:-1]).all():
        return None  # (strictly increasing: its first and last dates bound it)
    session = np.take(flags, k)
    close = values[0]
    if given is None:  # every close written (and finite)
        if not close.min() > 0:
            return None  # a close not positive: a skipped row
        gaps, keep = 0, session
        n_kept = n if session.all() else int(np.count_nonzero(session))
        off = n - n_kept
    else:
        usable = close > 0  # (NaN, not written: not usable)
        n_usable = int(np.count_nonzero(usable))
        if n_usable != np.count_nonzero(given[0]):
            return None  # a close written but not positive: a skipped row
        keep = usable & session
        n_kept = int(np.count_nonzero(keep))
        if n_kept != np.count_nonzero(session):
            return None  # a session without a close: a skipped row
        gaps = n - n_usable  # (every row without a close is off the sessions)
        off = n_usable - n_kept
        if not sessions_only:
            keep = usable
    if not sessions_only:
        n_kept, off = n - gaps, 0
    if not n_kept:
        return None
    at = np.flatnonzero(keep) if n_kept != n else None  # (a gather: half a boolean index's time)
    if len(values) == len(VALUE_COLUMNS) and values.flags.owndata:
        block = values if at is None else values.take(at, axis=1)  # (a large text's fresh block)
    else:  # the found columns (a small text's), gathered into their rows of a fresh block
        block = np.full((len(VALUE_COLUMNS), n_kept), np.nan)
        for row, name in zip(values, found, strict=True):
            if at is None:
                block[VALUE_COLUMNS.index(name)] = row
            else:
                np.take(row, at, out=block[VALUE_COLUMNS.index(name)])
    if at is not None:
        days = np.take(days, at)
    close = block[0]
    lim = LIMITS["price.close"]
    if not (close.min() >= lim.low and close.max() <= lim.high):
        return None
    lim = LIMITS["price.daily_log_change"]
    log_close = np.log(close)
    step = log_close[1:] - log_close[:-1]  # (np.diff's arithmetic, as the general path)
    if step.size and (step.min() < lim.low or step.max() > lim.high):
        return None
    return days.astype("datetime64[D]"), block, gaps, off


_DATE32, _F64 = pa.date32(), pa.float64()


def _sort_out(
    q: Quality,
    cells: Cells,
    header: list[str],
    ci: int,
    days: np.ndarray,
    close: np.ndarray,
    given: np.ndarray,
    session: np.ndarray,
    sessions_only: bool,
) -> np.ndarray:
    """The rows to keep where some row has no usable close or lies off the sessions: gaps
    (no value on a day without a session) and off-session rows recorded as repairs, rows
    without a usable close on a session skipped (a warning names the first)."""
    has_close = np.isfinite(close) & (close > 0)
    keep = has_close
    gap = ~(given | session)
    if gap.any():
        q.repair("rows without a value on exchange holidays dropped (gaps)", int(gap.sum()))
    bad = ~(has_close | gap)
    if bad.any():
        not_number = bad & given & ~np.isfinite(close)
        not_positive = bad & np.isfinite(close)
        missing = bad & ~given
        for mask, reason in (
            (missing, "close missing on a session"),
            (not_number, "close not a number"),
            (not_positive, "close not positive"),
        ):
            if mask.any():
                q.skip(reason, int(mask.sum()))
        i = int(np.flatnonzero(bad)[0])
        q.warn(
            f"{int(bad.sum())} session row(s) without a usable close skipped, first on line {cells.lines[i]} ({pd.Timestamp(days[i]).date()}, {header[ci]}={str(cells.text(ci)[i])!r})"
        )
    if sessions_only:
        off = keep > session  # a value on a day without a session
        if off.any():
            q.repair(
                "rows on non-session dates dropped (published on an exchange holiday)",
                int(off.sum()),
            )
            keep = keep & session
    return np.asarray(keep)


_FIRST_DAY = np.datetime64(calendars.FIRST_DAY, "D")
_FIRST_DAY_NUMBER = int(_FIRST_DAY.astype(np.int64))


def _session_mask(days: np.ndarray, calendar: str) -> np.ndarray:
    """Is each date (``datetime64[D]``) a session of ``calendar``; a date outside the
    calendar's range (:data:`flows.calendars.FIRST_DAY` .. ``LAST_DAY``) counts as one
    (nothing to check it against)."""
    flags = calendars.session_flags(calendar)
    k = days.view(np.int64) - _FIRST_DAY_NUMBER
    return np.take(flags, k, mode="clip") | (k < 0) | (k >= flags.size)


def _order(
    day: np.ndarray,
    values: np.ndarray,
    lines: np.ndarray,
    q: Quality,
    source: str,
    field: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort by date; drop exact repeats; refuse a date repeated with another close
    (``values``: one row per :data:`VALUE_COLUMNS`, the close first)."""
    if len(day) > 1 and not (np.diff(day.view(np.int64)) > 0).all():
        order = np.argsort(day, kind="stable")
        if (np.diff(day) < np.timedelta64(0)).any():
            q.repair("rows sorted by date", len(day))
        day, lines = day[order], lines[order]
        values = values[:, order]
        same = np.flatnonzero(np.diff(day) == np.timedelta64(0))
        if len(same):
            close = values[0]
            conflict = same[close[same] != close[same + 1]]
            if len(conflict):
                i = int(conflict[0])
                raise InputError(
                    source,
                    f"line {lines[i + 1]}, column '{field}'",
                    f"date {pd.Timestamp(day[i]).date()} repeated with a different close ({float(close[i])!r} on line {lines[i]}, {float(close[i + 1])!r})",
                )
            drop = np.zeros(len(day), dtype=bool)
            drop[same + 1] = True
            q.repair("repeated rows dropped", int(drop.sum()))
            day, lines = day[~drop], lines[~drop]
            values = values[:, ~drop]
    return day, values, lines


def _missing_sessions(
    day: np.ndarray, q: Quality, calendar: str, all_sessions: bool = False
) -> list[str]:
    """Sessions between the first and last date (sorted ``datetime64[D]``, each date once)
    absent from the file: a repair, and a warning when one lies in the last
    :data:`RECENT_SESSIONS` sessions; their ISO dates.  ``all_sessions``: every date within
    the calendar's range is known to be a session (the rows off the sessions were dropped)."""
    flags = calendars.session_flags(calendar)
    k = day.view(np.int64) - _FIRST_DAY_NUMBER  # position in the calendar
    a, b = max(int(k[0]), 0), min(int(k[-1]), flags.size - 1)
    if a > b:
        return []
    if a != k[0] or b != k[-1]:  # dates outside the calendar's range: not checked
        k = k[np.searchsorted(k, a) : np.searchsorted(k, b, side="right")]
    window = flags[a : b + 1]  # is each day from the first to the last date a session
    present = k.size if all_sessions else np.count_nonzero(np.take(window, k - a))
    if np.count_nonzero(window) == present:
        return []  # every session present
    absent_flags = window.copy()
    absent_flags[k - a] = False  # (the file's dates, as positions in the window)
    absent = np.flatnonzero(absent_flags)  # sessions without a row, as positions
    q.repair("sessions absent from the file (returns span the gap)", len(absent))
    # the first of the last RECENT_SESSIONS sessions of the window (within its last 1,000 days,
    # which hold more than 600 sessions)
    tail = min(window.size, 1000)
    last = np.flatnonzero(window[window.size - tail :])[-RECENT_SESSIONS:]
    recent = absent[absent >= window.size - tail + last[0]] if last.size else absent[:0]
    if len(recent):
        q.warn(
            f"{len(recent)} session(s) missing in the last {RECENT_SESSIONS} sessions of the file (first {_FIRST_DAY + a + recent[0]}): returns span the gap"
        )
    absent_days = _FIRST_DAY + a + absent
    return list(np.datetime_as_string(absent_days, unit="D").tolist())
