"""CFTC "Historical Compressed" Commitments of Traders files (yearly zips and multi-year bundles).

Three steps, as every source: :func:`build_query` (the URL of a yearly zip or a bundle),
:func:`fetch` (network only) and the pure parsers :func:`read_zip`, :func:`parse_legacy`,
:func:`parse_tff` (tested on the real files in ``../shared/data/cftc/``).

Files (``https://www.cftc.gov/files/dea/history/``)
---------------------------------------------------
========  ==============================  ======================  ===========================
report    yearly zip                      member                  multi-year bundle (member)
========  ==============================  ======================  ===========================
legacy    ``deacot{YYYY}.zip``            ``annual.txt``          ``deacot1986_2016.zip``
                                                                  (``FUT86_16.txt``)
tff       ``fut_fin_txt_{YYYY}.zip``      ``FinFutYY.txt``        ``fin_fut_txt_2006_2016.zip``
                                                                  (``F_TFF_2006_2016.txt``)
========  ==============================  ======================  ===========================

The bundle names were checked against public download scripts that use them (the CFTC page
``HistoricalCompressed/index.htm`` lists them); yearly TFF zips exist from 2010 (2006-2009 only
in the bundle), yearly legacy zips for every year.  :func:`fetch_years` uses the bundle for every
requested year up to 2016 (one download) and the yearly zips from 2017 on.  The member name is
not relied on: a zip must hold exactly one text member.

Layout quirks handled by the parsers
------------------------------------
* quoted header row; the legacy header has ``" Total Reportable Positions-Long (All)"`` with a
  leading space, so header names are matched after normalisation (case, spaces, punctuation);
* numbers right-aligned (left-padded with spaces), ``.`` for "not available" (change columns);
* CRLF (most years) and LF (2026 TFF) line ends;
* the report date column is ISO ``YYYY-MM-DD`` in the yearly files but US
  ``M/D/YYYY 12:00:00 AM`` in the 2006-2016 TFF bundle: both are accepted;
* the contract market code is read as text so ``090741`` keeps its leading zero.

Only the needed columns are read (``usecols``): parsing the ~20 MB of real files takes well
under a second.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from flows.errors import DataQualityWarning, InputError, SourceError
from flows.quality import Quality
from flows.schema import COT_LEGACY_COLUMNS, COT_TFF_COLUMNS
from flows.sources.contract import Client
from flows.sources.textio import Parsed, decode_text

Report = Literal["legacy", "tff"]
REPORTS: tuple[str, ...] = ("legacy", "tff")

HISTORY_BASE = "https://www.cftc.gov/files/dea/history"
"""Folder of the CFTC historical compressed files."""

YEARLY_ZIP = {"legacy": "deacot{year}.zip", "tff": "fut_fin_txt_{year}.zip"}
YEARLY_MEMBER = {"legacy": "annual.txt", "tff": "FinFutYY.txt"}
BUNDLE_ZIP = {"legacy": "deacot1986_2016.zip", "tff": "fin_fut_txt_2006_2016.zip"}
BUNDLE_MEMBER = {"legacy": "FUT86_16.txt", "tff": "F_TFF_2006_2016.txt"}
BUNDLE_YEARS = {"legacy": (1986, 2016), "tff": (2006, 2016)}
"""First and last report year covered by each multi-year bundle."""

CURRENCY_CODES: Mapping[str, str] = {
    "099741": "EUR",
    "097741": "JPY",
    "096742": "GBP",
    "092741": "CHF",
    "090741": "CAD",
    "232741": "AUD",
    "112741": "NZD",
    "095741": "MXN",
    "102741": "BRL",
    "122741": "ZAR",
    "098662": "USD_INDEX",
}
"""The IMM currency futures (and the ICE USD index) flowdesk ingests, code -> currency."""

# Each schema column -> accepted header names, normalised with ``_norm`` (first found wins).
_LEGACY_HEADERS: Mapping[str, tuple[str, ...]] = {
    "market": ("market_and_exchange_names",),
    "as_of": ("as_of_date_in_form_yyyy_mm_dd", "report_date_as_yyyy_mm_dd"),
    "code": ("cftc_contract_market_code",),
    "open_interest": ("open_interest_all",),
    "noncomm_long": ("noncommercial_positions_long_all",),
    "noncomm_short": ("noncommercial_positions_short_all",),
    "noncomm_spread": ("noncommercial_positions_spreading_all",),
    "comm_long": ("commercial_positions_long_all",),
    "comm_short": ("commercial_positions_short_all",),
    "nonrept_long": ("nonreportable_positions_long_all",),
    "nonrept_short": ("nonreportable_positions_short_all",),
}
_TFF_HEADERS: Mapping[str, tuple[str, ...]] = {
    "market": ("market_and_exchange_names",),
    "as_of": ("report_date_as_yyyy_mm_dd", "as_of_date_in_form_yyyy_mm_dd"),
    "code": ("cftc_contract_market_code",),
    "open_interest": ("open_interest_all",),
    "dealer_long": ("dealer_positions_long_all",),
    "dealer_short": ("dealer_positions_short_all",),
    "asset_mgr_long": ("asset_mgr_positions_long_all",),
    "asset_mgr_short": ("asset_mgr_positions_short_all",),
    "lev_money_long": ("lev_money_positions_long_all",),
    "lev_money_short": ("lev_money_positions_short_all",),
    "other_rept_long": ("other_rept_positions_long_all",),
    "other_rept_short": ("other_rept_positions_short_all",),
    "nonrept_long": ("nonrept_positions_long_all",),
    "nonrept_short": ("nonrept_positions_short_all",),
}
_HEADERS = {"legacy": _LEGACY_HEADERS, "tff": _TFF_HEADERS}
_CHECK_HEADERS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "legacy": {},
    "tff": {
        "dealer_spread": ("dealer_positions_spread_all",),
        "asset_mgr_spread": ("asset_mgr_positions_spread_all",),
        "lev_money_spread": ("lev_money_positions_spread_all",),
        "other_rept_spread": ("other_rept_positions_spread_all",),
    },
}
"""Columns read only to check the open-interest identity (:func:`flows.cftc.check_report`)."""
_COLUMNS = {"legacy": COT_LEGACY_COLUMNS, "tff": COT_TFF_COLUMNS}
_TEXT_COLUMNS = ("as_of", "code", "market")
UNITS_COLUMN = "contract_units"
"""Optional text column (``units=True``): the report's ``Contract_Units`` of each row, e.g.
``($50 X S&P 500 INDEX)``; consolidated index rows changed theirs between 2021 and 2024."""
_UNITS_HEADERS = ("contract_units",)


def _norm(name: str) -> str:
    """Header name -> comparison key: lower case, runs of non-alphanumerics -> ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _check_report(report: str) -> None:
    if report not in REPORTS:
        raise InputError("cftc", "report", f"must be one of {', '.join(REPORTS)} (got {report!r})")


# -- step 1: query -------------------------------------------------------------------------
def build_query(report: Report, year: int, *, base: str = HISTORY_BASE) -> str:
    """URL of the yearly zip of ``report`` for report year ``year``.

    ``report`` is ``"legacy"`` (Legacy, futures only) or ``"tff"`` (Traders in Financial
    Futures, futures only).  ``base`` is the folder (tests point it at a local server).
    """
    _check_report(report)
    if not 1986 <= int(year) <= 2100:
        raise InputError("cftc", "year", f"must be a report year from 1986 (got {year!r})")
    return f"{base.rstrip('/')}/{YEARLY_ZIP[report].format(year=int(year))}"


def bundle_query(report: Report, *, base: str = HISTORY_BASE) -> str:
    """URL of the multi-year bundle of ``report`` (legacy 1986-2016, TFF 2006-2016)."""
    _check_report(report)
    return f"{base.rstrip('/')}/{BUNDLE_ZIP[report]}"


# -- step 2: fetch (network only) ----------------------------------------------------------
def fetch(query: str, client: Client) -> bytes:
    """Download the zip at ``query`` (a URL from :func:`build_query`); raises SourceError."""
    return client.get_bytes(query, source=query)


# -- step 3: parse (pure) ------------------------------------------------------------------
def is_zip(data: bytes) -> bool:
    """True when ``data`` starts like a zip archive (local file header or an empty archive)."""
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def zip_member(data: bytes, source: str) -> tuple[str, bytes]:
    """Name and bytes of the single member of the zip ``data``.

    Raises :class:`InputError` naming ``source`` when the bytes are not a zip (an HTML error
    page, an empty body), the zip is damaged or does not hold exactly one file.
    """
    if not data:
        raise InputError(source, None, "empty body: not a zip archive")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
            if len(members) != 1:
                names = ", ".join(i.filename for i in members) or "none"
                raise InputError(
                    source,
                    None,
                    f"expected exactly one file in the zip, found {len(members)} ({names})",
                )
            return members[0].filename, zf.read(members[0])
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        NotImplementedError,
        zlib.error,
    ) as exc:
        raise InputError(
            source,
            None,
            f"not a zip archive or a damaged one ({type(exc).__name__}: {exc}; first bytes {data[:16]!r})",
        ) from None


def read_zip(data: bytes, source: str) -> str:
    """Text of the single member of the zip ``data`` (CRLF/LF kept; parsers accept both).

    The member is decoded by :func:`flows.sources.textio.decode_text` (UTF-8 with or without
    BOM, then cp1252, then Latin-1).  Errors as :func:`zip_member`.
    """
    name, raw = zip_member(data, source)
    return decode_text(raw, f"{source} ({name})").text


def _header(first: str, source: str) -> list[str]:
    if not first.strip():
        raise InputError(source, None, "empty file (no header row)")
    # The header is a plain quoted CSV row; names never contain commas.
    return [h.strip().strip('"') for h in first.rstrip("\r").split(",")]


def _parse_dates(values: np.ndarray) -> np.ndarray:
    """ISO ``YYYY-MM-DD`` (yearly files) or ``M/D/YYYY hh:mm:ss AM`` (2006-2016 TFF bundle).

    The format that reads the most rows is used; rows it cannot read are NaT (skipped).  A
    file has a few dozen distinct dates: each distinct text is parsed once, counted by its rows.
    """
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    if (codes >= 0).all() and all(
        isinstance(u, str) and len(u) == 10 and u[4] == "-" and u[7] == "-" for u in uniques
    ):
        try:  # every row ISO (the yearly files): numpy's strict reader, once per distinct date
            return np.asarray(
                np.asarray(uniques, dtype="datetime64[D]").astype("datetime64[ns]")[codes]
            )
        except ValueError:
            pass  # an impossible date: the rule below decides
    text = pd.Series(np.asarray(uniques, dtype=object), dtype=object).astype(str).str.strip()
    rows = np.bincount(codes[codes >= 0], minlength=len(uniques))
    best, best_rows = None, -1
    for fmt in ("%Y-%m-%d", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y"):
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        read = int(rows[parsed.notna().to_numpy()].sum())
        if best is None or read > best_rows:
            best, best_rows = parsed, read
        if parsed.notna().all() and (codes >= 0).all():
            break
    days = (
        best.to_numpy(dtype="datetime64[ns]")
        if best is not None
        else np.array([], dtype="datetime64[ns]")
    )
    return np.where(
        codes >= 0,
        days[np.maximum(codes, 0)] if days.size else np.datetime64("NaT", "ns"),
        np.datetime64("NaT", "ns"),
    )


_QUOTED = re.compile(r'"[^"]*"')


class _Cells:
    """The raw text of column ``pos`` of ``lines``, read only when a message quotes a cell.

    ``lines`` is a list of the kept rows' lines, or a callable ``i -> line`` (the fast reader
    splits the text into lines only when a message needs one)."""

    def __init__(self, lines: list[str] | Callable[[int], str], pos: int) -> None:
        self.lines, self.pos = lines, pos

    def __getitem__(self, i: int) -> str:
        line = self.lines(i) if callable(self.lines) else self.lines[i]
        row = next(csv.reader([line], skipinitialspace=True))
        return row[self.pos] if self.pos < len(row) else ""


def _strip_text(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A text column as an object array, each value ``.strip().strip('"').strip()`` (as the
    exact reader leaves it), computed once per distinct value."""
    enc = (arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr).dictionary_encode()
    uniques = np.array(
        [v.strip().strip('"').strip() if v is not None else "" for v in enc.dictionary.to_pylist()]
        + [""],
        dtype=object,
    )
    codes = enc.indices.to_numpy(zero_copy_only=False)
    codes = (
        np.where(np.isnan(codes), len(uniques) - 1, codes).astype(np.int64)
        if codes.dtype.kind == "f"
        else codes
    )
    return np.asarray(uniques[codes])


def _arrow_rows(
    text: str, width: int, text_pos: list[int], num_pos: list[int]
) -> tuple[int, dict[int, np.ndarray], dict[int, np.ndarray]] | None:
    """Every data line read column-wise by pyarrow (threads): ``(rows, text, numbers)`` with the
    text columns stripped as the exact reader strips them and the numbers as floats (``.`` =
    NaN), or None when the file is not regular: a blank or whitespace-only line, a bare ``\\r``,
    a line with another number of fields, a number cell that is neither a number nor ``.``
    (checked by counting the rows read against the lines).
    The exact reader then decides line by line (and names the lines it skips)."""
    data = text.encode("utf-8")
    start = data.find(b"\n") + 1
    if start <= 0:
        return None
    invalid: list[object] = []

    def on_invalid(row: object) -> str:
        invalid.append(row)
        return "skip"

    names = [f"c{i}" for i in range(width)]
    used = sorted({*text_pos, *num_pos})
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(memoryview(data)[start:])),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 20),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                include_columns=[names[i] for i in used],
                column_types={
                    **{names[i]: pa.string() for i in text_pos},
                    **{names[i]: pa.float64() for i in num_pos},
                },
                null_values=["."],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                true_values=[],
                false_values=[],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    # one row per physical line: no blank line (skipped by the reader), no bare carriage return
    # (a row end for the reader, not for the exact path), no line of another field count
    lines_after_header = data.count(b"\n", start) + (0 if data.endswith(b"\n") else 1)
    if invalid or table.num_rows != lines_after_header:
        return None
    return (
        table.num_rows,
        {p: _strip_text(table.column(names[p])) for p in text_pos},
        {p: table.column(names[p]).to_numpy() for p in num_pos},
    )


def _needed_fields(
    lines: list[str], whole: np.ndarray, width: int, text_pos: list[int], num_pos: list[int]
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """The fields of every line at ``text_pos`` (object arrays of text, stripped of spaces and
    quotes) and ``num_pos`` (float arrays; NaN where the cell is not a number: ``.``, ``-``, empty).

    Lines with the header's number of fields go through pandas' C parser (numbers read as floats
    directly, the slower text route only when a cell is not a number); the others (cut short or
    shifted, skipped by the caller) through :mod:`csv`, padded with ``""``.
    """
    n = len(lines)
    text = {p: np.full(n, "", dtype=object) for p in text_pos}
    nums = {p: np.full(n, np.nan) for p in num_pos}
    good_idx = np.flatnonzero(whole)
    used = sorted({*text_pos, *num_pos})
    if len(good_idx):
        body = io.StringIO("\n".join(lines[i] for i in good_idx))
        options = dict(
            header=None,
            names=list(range(width)),
            usecols=used,
            keep_default_na=False,
            skipinitialspace=True,
            engine="c",
        )
        try:
            parsed = pd.read_csv(
                body,
                dtype={**{p: str for p in text_pos}, **{p: float for p in num_pos}},
                na_values={p: ["."] for p in num_pos},
                **options,
            )
            for p in num_pos:
                nums[p][good_idx] = parsed[p].to_numpy(dtype=float)
        except (
            ValueError,
            pd.errors.ParserError,
        ):  # a cell that is not a number (or a quoting fault)
            try:
                body.seek(0)
                parsed = pd.read_csv(body, dtype=str, **options)
            except (ValueError, pd.errors.ParserError):
                parsed = pd.DataFrame(
                    [
                        [r[p] if p < len(r) else "" for p in used]
                        for r in csv.reader([lines[i] for i in good_idx], skipinitialspace=True)
                    ],
                    columns=used,
                    dtype=object,
                )
            for p in num_pos:
                nums[p][good_idx] = pd.to_numeric(
                    parsed[p].astype(object), errors="coerce"
                ).to_numpy(dtype=float)
        for p in text_pos:
            text[p][good_idx] = parsed[p].astype(object).to_numpy(dtype=object)
    bad = np.flatnonzero(~whole)
    if len(bad):
        rows = list(csv.reader([lines[i] for i in bad], skipinitialspace=True))
        for p in text_pos:
            text[p][bad] = [r[p] if p < len(r) else "" for r in rows]
        for p in num_pos:
            nums[p][bad] = pd.to_numeric(
                pd.Series([r[p] if p < len(r) else "" for r in rows], dtype=object), errors="coerce"
            ).to_numpy(dtype=float)
    for p in text_pos:
        text[p] = np.array([v.strip().strip('"').strip() for v in text[p].tolist()], dtype=object)
    return text, nums


def row_labels(
    prefix: str, numbers: np.ndarray, codes: np.ndarray, dates: np.ndarray
) -> np.ndarray:
    """``line 90 (099741 (EUR) 2025-01-14)`` per row (errors name the offending row)."""
    days = np.datetime_as_string(np.asarray(dates, dtype="datetime64[D]"), unit="D").tolist()
    names = {c: _label(c) for c in set(np.asarray(codes, dtype=object).tolist())}
    return np.array(
        [
            f"{prefix}{n} ({names[c]} {d})"
            for n, c, d in zip(
                np.asarray(numbers).tolist(),
                np.asarray(codes, dtype=object).tolist(),
                days,
                strict=True,
            )
        ],
        dtype=object,
    )


def _label(code: str) -> str:
    ccy = CURRENCY_CODES.get(code)
    return f"{code} ({ccy})" if ccy else code


def coverage_warnings(
    frame: pd.DataFrame,
    codes: Iterable[str],
    quality: Quality,
    skipped: Iterable[tuple[str, Any]] = (),
) -> None:
    """Warn (in ``quality``) about requested markets missing from some or all report dates.

    A market absent on a report date makes that week *partial* in the analytics (never a zero
    position); the warning says which weeks, so a cut or damaged file is never silent.
    ``skipped`` (code, date) pairs were skipped rows, already reported: not repeated.
    """
    if frame.empty:
        return
    known = {(str(c), pd.Timestamp(d)) for c, d in skipped if not pd.isna(d)}
    dates = np.sort(frame["as_of"].unique())
    by_code = frame.groupby("code")["as_of"].nunique()
    absent = [c for c in codes if c not in by_code.index and not any(k[0] == c for k in known)]
    if absent:
        quality.warn(
            f"{quality.source}: no rows for {', '.join(_label(c) for c in absent)}: every week of the file lacks them (partial)"
        )
    for code, n in by_code.items():
        if n < len(dates):
            have = set(frame.loc[frame["code"] == code, "as_of"]) | {
                d for c, d in known if c == code
            }
            gaps = [
                pd.Timestamp(d).date().isoformat() for d in dates if pd.Timestamp(d) not in have
            ]
            if not gaps:
                continue
            more = f" and {len(gaps) - 3} more" if len(gaps) > 3 else ""
            quality.warn(
                f"{quality.source}: {_label(str(code))} absent on {len(gaps)} of {len(dates)} report dates ({', '.join(gaps[:3])}{more}): those weeks are partial"
            )


def parse_report(
    text: str,
    report: Report,
    source: str,
    codes: Iterable[str] | None = None,
    *,
    coverage: bool = True,
    units: bool = False,
) -> Parsed:
    """Parse one Historical Compressed text file into the schema frame of ``report`` and its quality.

    Parameters
    ----------
    text:
        The whole file (header row first), CRLF or LF (decode bytes with
        :func:`flows.sources.textio.decode_text`).
    report:
        ``"legacy"`` -> :data:`flows.schema.COT_LEGACY_COLUMNS`; ``"tff"`` ->
        :data:`flows.schema.COT_TFF_COLUMNS`.
    source:
        File name or URL, used in every message.
    codes:
        6-character contract market codes to keep (flowdesk passes the currency futures of
        :data:`CURRENCY_CODES`); None keeps every market.
    coverage:
        Warn about requested markets missing on some report dates (:func:`coverage_warnings`).
    units:
        Add the text column :data:`UNITS_COLUMN` (``""`` where the file has no such column).

    Returns
    -------
    Parsed
        ``frame``: exactly the schema's columns: ``as_of`` datetime64[ns] (the report date),
        ``code`` (str, leading zeros kept), ``market`` (str), positions int64 in contracts;
        sorted by ``as_of`` then ``code``, one row per (as_of, code).  ``quality``: basis
        ``positions``, weighed by each row's open interest (contracts): rows skipped (a cell that
        is not a whole number, an unreadable date, a row cut short or with extra fields), exact
        duplicates dropped (repairs), markets missing on some dates (warnings).

    Raises
    ------
    InputError
        Empty file, changed header (names the missing column), no row of the requested markets
        ("no currency markets in the file"), conflicting duplicates (names the code and date),
        an implausible value (:func:`flows.cftc.check_report`: negative, above open interest,
        sides not adding up to open interest: names the line and the field).
    """
    from flows.cftc import check_report, row_weight

    _check_report(report)
    spec = _HEADERS[report]
    header = _header(text[: text.find("\n")] if "\n" in text else text, source)
    index: dict[str, int] = {}
    for pos, name in enumerate(header):
        index.setdefault(_norm(name), pos)
    positions: dict[str, int] = {}
    for col, candidates in spec.items():
        found = next((index[c] for c in candidates if c in index), None)
        if found is None:
            raise InputError(
                source,
                candidates[0],
                f"column missing from the header (changed layout?); expected one of {list(candidates)} for {col!r}; header has {len(header)} columns",
            )
        positions[col] = found
    # identity-check columns: read when present (every real TFF file has them)
    for col, candidates in _CHECK_HEADERS[report].items():
        found = next((index[c] for c in candidates if c in index), None)
        if found is not None:
            positions[col] = found
    numbers = [c for c in positions if c not in _TEXT_COLUMNS]
    units_pos = next((index[c] for c in _UNITS_HEADERS if c in index), None) if units else None
    names = {c: header[p] for c, p in positions.items()}
    width = len(header)
    text_pos = [positions[c] for c in _TEXT_COLUMNS] + (
        [units_pos] if units_pos is not None else []
    )
    num_pos = sorted({positions[c] for c in numbers})
    wanted = {str(c).strip() for c in codes} if codes is not None else None
    fast = _arrow_rows(text, width, text_pos, num_pos)
    if fast is not None:  # a regular file: every data line is one row, lines 2, 3, ...
        n_data, text_cols, nums = fast
        if not n_data:
            raise InputError(source, None, "no data rows (header only)")
        line_no = np.arange(2, n_data + 2, dtype=np.int64)
        n_fields = np.full(n_data, width, dtype=np.int64)
        code_text = text_cols[positions["code"]]
        zfilled = {c: c.zfill(6) for c in pd.unique(code_text)}
        code = (
            np.array([zfilled[c] for c in code_text.tolist()], dtype=object)
            if any(k != v for k, v in zfilled.items())
            else code_text
        )
        all_lines: list[str] = []

        def line_at(i: int) -> str:
            if not all_lines:
                all_lines.extend(ln.rstrip("\r") for ln in text.split("\n"))
            return all_lines[i - 1]

        keep = np.ones(n_data, dtype=bool) if wanted is None else np.isin(code, list(wanted))
        kept_line = line_no[keep]
        line_of: list[str] | Callable[[int], str] = lambda i: line_at(int(kept_line[i]))  # noqa: E731
    else:
        lines = text.split("\n")
        data = [(i, ln.rstrip("\r")) for i, ln in enumerate(lines[1:], start=2) if ln.strip()]
        if not data:
            raise InputError(source, None, "no data rows (header only)")
        n_data = len(data)
        if wanted is not None:
            # Pre-filter lines before the CSV tokenizer sees them: a file holds every market (~300)
            # but flowdesk needs ~11.  The anchored pattern reads only the start of a line:
            # "name",YYMMDD,date,CODE,  (the name quoted as CFTC writes it, or bare as a spreadsheet
            # re-save leaves it; the exact code match after parsing still decides; a line
            # the pattern misses would only be a line in an unexpected layout, or a damaged code:
            # the coverage warnings then name the market missing on that date).
            # Leading zeros and quotes are optional so a file that prints 99741 or "099741" is kept.
            alternatives = "|".join(re.escape(c.lstrip("0")) for c in sorted(wanted))
            pattern = re.compile(
                r'^\s*(?:"[^"]*"|[^,"]*),[^,]*,[^,]*,\s*"?0*(?:' + alternatives + r')"?\s*,'
            )
            kept = [(i, ln) for i, ln in data if pattern.match(ln)]
        else:
            kept = data
        line_no = np.array([i for i, _ in kept], dtype=np.int64)
        # fields per line (quoted fields hold no delimiter here once removed): a line cut short or
        # shifted by an extra comma is skipped below, never read into the wrong columns
        n_fields = np.array([_QUOTED.sub("", ln).count(",") + 1 for _, ln in kept], dtype=np.int64)
        text_cols, nums = _needed_fields(
            [ln for _, ln in kept], n_fields == width, width, text_pos, num_pos
        )
        code = np.array([c.zfill(6) for c in text_cols[positions["code"]].tolist()], dtype=object)
        keep = np.ones(len(kept), dtype=bool) if wanted is None else np.isin(code, list(wanted))
        line_of = [ln for (_, ln), k in zip(kept, keep, strict=True) if k]
    if not keep.any():
        what = (
            "no currency markets in the file"
            if wanted is not None and wanted <= set(CURRENCY_CODES)
            else "none of the requested markets in the file"
        )
        asked = (
            f" (looked for the contract market codes {', '.join(sorted(wanted))})"
            if wanted is not None
            else ""
        )
        raise InputError(
            source, names["code"], f"{what}{asked}; {n_data} data row(s) of other markets"
        )
    line_no, n_fields, code = line_no[keep], n_fields[keep], code[keep]
    q = Quality(source=source, basis="positions", total_rows=int(keep.sum()))
    raw = {c: text_cols[positions[c]][keep] for c in ("as_of", "market")}
    # padded numbers read as floats; '.', '-', '' and other text are NaN (unreadable)
    values = {c: nums[positions[c]][keep] for c in numbers}
    raw.update({c: _Cells(line_of, positions[c]) for c in numbers})
    dates = _parse_dates(raw["as_of"])
    oi = row_weight(values, report)  # open interest, or the long side where it is unreadable
    q.total_weight = float(np.nansum(oi)) if len(oi) else 0.0
    # Each skipped row is counted once, under its first reason.
    skipped = np.zeros(len(code), dtype=bool)
    reasons: list[tuple[np.ndarray, str, Callable[[int], str]]] = [
        (
            n_fields != width,
            f"row has a different number of fields than the header's {width} (cut short or shifted)",
            lambda i: f"{n_fields[i]} fields",
        ),
        (
            np.isnat(dates),
            f"{names['as_of']}: unreadable report date",
            lambda i: repr(raw["as_of"][i]),
        ),
    ]
    for c in numbers:
        v = values[c]
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(v) | (v != np.round(v))

        def cell(i: int, c: str = c) -> str:
            return f"{names[c]} = {raw[c][i]!r}"

        reasons.append((bad, f"{names[c]}: not a whole number of contracts", cell))
    notes: list[str] = []
    for bad, reason, show in reasons:
        new = bad & ~skipped
        if not new.any():
            continue
        weighed = new & np.isfinite(oi)
        q.skip(reason, int(weighed.sum()), float(oi[weighed].sum()))
        q.skip(reason, int((new & ~weighed).sum()), None)
        for i in np.flatnonzero(new)[: max(0, 3 - len(notes))]:
            notes.append(f"line {line_no[i]} ({_label(code[i])} {raw['as_of'][i]}): {show(i)}")
        skipped |= new
    if skipped.any():
        more = f" and {int(skipped.sum()) - len(notes)} more" if skipped.sum() > len(notes) else ""
        q.warn(
            f"{source}: {int(skipped.sum())} row(s) of the requested markets skipped ({'; '.join(notes)}{more})"
        )
    ok = ~skipped
    day, code_ok, line_ok = dates[ok], code[ok], line_no[ok]
    floats = {c: values[c][ok] for c in numbers}
    check_report(
        floats,
        report,
        source,
        rows=lambda i: row_labels("line ", line_ok[i : i + 1], code_ok[i : i + 1], day[i : i + 1])[
            0
        ],
        fields=names,
    )  # on the floats (file order): before any cast
    # sorted by (as_of, code, line) once, on integer keys; the frame is built in that order
    code_key = pd.factorize(code_ok, sort=True)[0]
    order = np.lexsort((line_ok, code_key, day.astype(np.int64)))
    day, code_ok, line_ok, code_key = day[order], code_ok[order], line_ok[order], code_key[order]
    columns: dict[str, object] = {
        "as_of": day,
        "code": code_ok.astype(str),
        "market": raw["market"][ok][order].astype(str),
    }
    if units:
        columns[UNITS_COLUMN] = (
            text_cols[units_pos][keep][ok][order].astype(str)
            if units_pos is not None
            else np.full(len(day), "", dtype=object)
        )
    columns.update({c: v[order].astype(np.int64) for c, v in floats.items()})
    columns["_line"] = line_ok
    frame = pd.DataFrame(columns, copy=False)
    same = np.zeros(len(day), dtype=bool)
    same[1:] = (day[1:] == day[:-1]) & (code_key[1:] == code_key[:-1])
    if same.any():  # a repeated (as_of, code): the exact rule (repair or refusal)
        frame = _drop_duplicates(frame, numbers, source, q, names["code"])
    if coverage and wanted is not None:
        coverage_warnings(frame, sorted(wanted), q, zip(code[skipped], dates[skipped], strict=True))
    return Parsed(
        frame[list(_COLUMNS[report]) + ([UNITS_COLUMN] if units else [])].reset_index(drop=True), q
    )


def _drop_duplicates(
    frame: pd.DataFrame, numbers: list[str], source: str, quality: Quality, code_field: str
) -> pd.DataFrame:
    """Drop exact duplicate (as_of, code) rows (a repair); conflicting ones are an InputError."""
    key = frame.duplicated(["as_of", "code"], keep=False)
    if not key.any():
        return frame
    dups = frame[key]
    exact = dups.duplicated(["as_of", "code", *numbers], keep="first")
    groups = dups.groupby(["as_of", "code"], sort=True)
    for (day, code), g in groups:
        if g[numbers].nunique().max() > 1:
            first, other = g.iloc[0], g[(g[numbers] != g.iloc[0][numbers]).any(axis=1)].iloc[0]
            field = next(c for c in numbers if first[c] != other[c])
            where = (
                f" (lines {first['_line']} and {other['_line']})" if "_line" in g.columns else ""
            )
            raise InputError(
                source,
                code_field,
                f"conflicting duplicate rows for code {_label(str(code))} on {pd.Timestamp(day).date()}{where}: {field} {first[field]} vs {other[field]}",
            )
    quality.repair("exact duplicate row dropped", int(exact.sum()))
    return frame.drop(index=dups.index[exact.to_numpy()])


def parse(
    text: str, report: Report, source: str, codes: Iterable[str] | None = None
) -> pd.DataFrame:
    """The frame of :func:`parse_report` alone (same errors).

    Skipped rows are announced with a :class:`DataQualityWarning` ("dropped N row(s)"); the
    refusal threshold is the caller's (the CLI and the jobs use :func:`parse_report` and
    :func:`flows.quality.enforce`).
    """
    frame, q = parse_report(text, report, source, codes)
    if q.skipped_rows:
        warnings.warn(
            f"{source}: dropped {q.skipped_rows} row(s) with a blank or unreadable position value: {q.summary()}",
            DataQualityWarning,
            stacklevel=2,
        )
    return frame


def parse_legacy(text: str, source: str, codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Legacy futures-only text (``annual.txt`` / ``FUT86_16.txt``) -> ``COT_LEGACY_COLUMNS`` frame.

    See :func:`parse_report`.  Non-commercial = large speculators; all quantities in contracts.
    """
    return parse(text, "legacy", source, codes)


def parse_tff(text: str, source: str, codes: Iterable[str] | None = None) -> pd.DataFrame:
    """TFF futures-only text (``FinFutYY.txt`` / ``F_TFF_2006_2016.txt``) -> ``COT_TFF_COLUMNS``.

    See :func:`parse_report`.  Leveraged funds = ``lev_money``; all quantities in contracts.
    """
    return parse(text, "tff", source, codes)


# -- several years -------------------------------------------------------------------------
@dataclass
class YearFiles:
    """What :func:`fetch_years` downloaded.

    ``texts`` maps the URL of each downloaded zip to the text of its member, ``years`` the report
    years each URL is used for; ``missing_current`` is the current year when its zip was not
    published yet (an HTTP 404, or any answer that is not a zip: an HTML "page not found" served
    with status 200, an empty body; the first days of January): the caller fills the newest weeks
    from the weekly data (the Socrata API, :mod:`flows.sources.cftc_socrata`, since the last date
    found in the files).  ``notes`` says so in words.
    """

    report: str
    texts: dict[str, str] = field(default_factory=dict)
    years: dict[str, tuple[int, ...]] = field(default_factory=dict)
    missing_current: int | None = None
    notes: list[str] = field(default_factory=list)

    def parse_report(self, codes: Iterable[str] | None = None, *, units: bool = False) -> Parsed:
        """Parse every downloaded file, keep each file's requested years, concatenate.

        ``units`` adds the :data:`UNITS_COLUMN` text column (see :func:`parse_report`).

        The quality merges every file's (basis ``positions``); coverage warnings are computed on
        the requested years only (a multi-year bundle starts before some contracts were listed).
        """
        frames = []
        quality = Quality(source=f"CFTC {self.report} history files", basis="positions")
        for url, text in self.texts.items():
            frame, q = parse_report(text, self.report, url, codes, coverage=False, units=units)  # type: ignore[arg-type]
            keep = frame["as_of"].dt.year.isin(self.years[url])
            frames.append(frame[keep])
            if codes is not None:
                coverage_warnings(frame[keep], sorted({str(c).strip() for c in codes}), q)
            quality = quality.merge(q)
        if not frames:
            cols = [*_COLUMNS[self.report], *([UNITS_COLUMN] if units else [])]
            return Parsed(
                pd.DataFrame(
                    {
                        c: pd.Series(
                            dtype="datetime64[ns]"
                            if c == "as_of"
                            else ("str" if c in (*_TEXT_COLUMNS, UNITS_COLUMN) else "int64")
                        )
                        for c in cols
                    }
                ),
                quality,
            )
        out = pd.concat(frames, ignore_index=True)
        out = out.drop_duplicates(["as_of", "code"], keep="last")
        return Parsed(
            out.sort_values(["as_of", "code"], kind="stable").reset_index(drop=True), quality
        )

    def parse(self, codes: Iterable[str] | None = None) -> pd.DataFrame:
        """The frame of :meth:`parse_report` alone."""
        return self.parse_report(codes).frame


def _not_published(data: bytes) -> str | None:
    """Why a current-year answer is "not published yet" (not a zip), or None for a zip."""
    if is_zip(data):
        return None
    if not data.strip():
        return "an empty body"
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")) or b"<html" in head:
        return "an HTML page"
    return f"a body that is not a zip ({data[:16]!r})"


def fetch_years(
    report: Report,
    years: Sequence[int],
    client: Client,
    progress: Callable[[str], None] | None = None,
    *,
    base: str = HISTORY_BASE,
    current_year: int | None = None,
) -> YearFiles:
    """Download the files covering ``years`` (network only; parse with :meth:`YearFiles.parse_report`).

    Years up to 2016 come from the multi-year bundle (one download), later years from the yearly
    zips.  ``current_year`` (default: the largest requested year) is the one year whose zip may
    not exist yet: a 404 for it, or any answer that is not a zip (cftc.gov answers a missing file
    with an HTML "page not found" and status 200; an empty body) is not an error: the previous
    year is then fetched as well (if it was not requested), ``missing_current`` is set so the
    caller tops up from the weekly data, and ``notes`` says why.  Earlier years go on either way.
    Any other failure (another HTTP error, a non-zip answer for an earlier year) raises
    :class:`flows.errors.SourceError` / :class:`flows.errors.InputError` naming the URL.

    ``progress`` is called with a short message after each download.
    """
    _check_report(report)
    wanted = sorted({int(y) for y in years})
    if not wanted:
        raise InputError("cftc", "years", "no years requested")
    current = int(current_year if current_year is not None else wanted[-1])
    out = YearFiles(report=report)
    say = progress or (lambda _m: None)
    first, last = BUNDLE_YEARS[report]
    in_bundle = tuple(y for y in wanted if y <= last)
    if in_bundle:
        if in_bundle[0] < first:
            raise InputError(
                "cftc", "years", f"{report} history starts in {first} (asked for {in_bundle[0]})"
            )
        url = bundle_query(report, base=base)
        out.texts[url] = read_zip(fetch(url, client), url)
        out.years[url] = in_bundle
        for year in in_bundle:  # one message per year, so a progress bar counts years
            say(f"{report} {year} (bundle {first}-{last})")
    for year in (y for y in wanted if y > last):
        url = build_query(report, year, base=base)
        why = None
        try:
            data = fetch(url, client)
        except SourceError as exc:
            if exc.status != 404 or year != current:
                raise
            why = "HTTP 404"
        else:
            if year == current:
                why = _not_published(data)
                if why is not None:
                    why = f"HTTP 200 with {why}"
        if why is not None:
            out.missing_current = year
            prev = year - 1
            if prev not in wanted and prev > last:
                purl = build_query(report, prev, base=base)
                out.texts[purl] = read_zip(fetch(purl, client), purl)
                out.years[purl] = (prev,)
            note = f"{url}: the {year} file is not published yet ({why}); using {prev} and the weekly data"
            out.notes.append(note)
            say(f"{report} {year}: not published yet ({why}), using {prev} + weekly data")
            continue
        out.texts[url] = read_zip(data, url)
        out.years[url] = (year,)
        say(f"{report} {year}")
    return out
