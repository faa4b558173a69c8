"""CFTC Public Reporting API (Socrata SODA 2.x): the newest Commitments of Traders weeks.

``https://publicreporting.cftc.gov/resource/{id}.json`` with the datasets

* ``6dca-aqww``: Legacy, futures only;
* ``gpe5-46if``: Traders in Financial Futures (TFF), futures only.

Three steps: :func:`build_query` -> :class:`SocrataQuery` (URL + SoQL parameters, always with
``$order`` and ``$limit``: without them Socrata answers 1,000 rows in no defined order),
:func:`fetch` (network only; pages with ``$offset`` until a short page) and the pure
:func:`parse`, which returns exactly the frames of :mod:`flows.sources.cftc_files`.

Quirks (seen in recorded real responses)
----------------------------------------
* every value is a JSON string, numbers included (``"920035"``, ``"-22429"``);
* ``report_date_as_yyyy_mm_dd`` is a floating timestamp ``"2026-09-15T00:00:00.000"``;
* CFTC's own misspelt field names are the real ones (``noncomm_postions_spread_all``), and the
  TFF trader classes other than dealers have no ``_all`` suffix (``asset_mgr_positions_long``);
* keys absent from a row are allowed unless :func:`parse` needs them.

An application token (optional, raises the rate limit) is read from the environment variable
``CFTC_APP_TOKEN`` and sent as the ``X-App-Token`` header; it is never logged or put in errors.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from pandas.api.internals import create_dataframe_from_blocks

from flows.errors import InputError, SourceError
from flows.quality import Quality, enforce
from flows.schema import COT_LEGACY_COLUMNS, COT_TFF_COLUMNS
from flows.sources.cftc_files import row_labels
from flows.sources.contract import Client
from flows.sources.textio import Parsed

BASE = "https://publicreporting.cftc.gov/resource"
DATASETS: Mapping[str, str] = {"legacy": "6dca-aqww", "tff": "gpe5-46if"}
APP_TOKEN_ENV = "CFTC_APP_TOKEN"
DATE_FIELD = "report_date_as_yyyy_mm_dd"
CODE_FIELD = "cftc_contract_market_code"
MAX_PAGES = 1000
"""Safety stop for paging (5,000 rows a page: 5 million rows)."""

# schema column -> Socrata field (first found wins; alternatives for spelling drift).
FIELDS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "legacy": {
        "as_of": (DATE_FIELD,),
        "code": (CODE_FIELD,),
        "market": ("market_and_exchange_names",),
        "open_interest": ("open_interest_all",),
        "noncomm_long": ("noncomm_positions_long_all",),
        "noncomm_short": ("noncomm_positions_short_all",),
        "noncomm_spread": ("noncomm_postions_spread_all", "noncomm_positions_spread_all"),
        "comm_long": ("comm_positions_long_all",),
        "comm_short": ("comm_positions_short_all",),
        "nonrept_long": ("nonrept_positions_long_all",),
        "nonrept_short": ("nonrept_positions_short_all",),
    },
    "tff": {
        "as_of": (DATE_FIELD,),
        "code": (CODE_FIELD,),
        "market": ("market_and_exchange_names",),
        "open_interest": ("open_interest_all",),
        "dealer_long": ("dealer_positions_long_all",),
        "dealer_short": ("dealer_positions_short_all",),
        "asset_mgr_long": ("asset_mgr_positions_long", "asset_mgr_positions_long_all"),
        "asset_mgr_short": ("asset_mgr_positions_short", "asset_mgr_positions_short_all"),
        "lev_money_long": ("lev_money_positions_long", "lev_money_positions_long_all"),
        "lev_money_short": ("lev_money_positions_short", "lev_money_positions_short_all"),
        "other_rept_long": ("other_rept_positions_long", "other_rept_positions_long_all"),
        "other_rept_short": ("other_rept_positions_short", "other_rept_positions_short_all"),
        "nonrept_long": ("nonrept_positions_long_all",),
        "nonrept_short": ("nonrept_positions_short_all",),
    },
}
CHECK_FIELDS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "legacy": {},
    "tff": {
        "dealer_spread": ("dealer_positions_spread_all",),
        "asset_mgr_spread": ("asset_mgr_positions_spread", "asset_mgr_positions_spread_all"),
        "lev_money_spread": ("lev_money_positions_spread", "lev_money_positions_spread_all"),
        "other_rept_spread": ("other_rept_positions_spread", "other_rept_positions_spread_all"),
    },
}
"""Fields read only to check the open-interest identity (:func:`flows.cftc.check_report`)."""
UNITS_FIELD = "contract_units"
"""Text field of both datasets (``($50 X S&P 500 INDEX)``); always selected, returned by
:func:`parse_rows` as the column ``contract_units`` when asked (``units=True``)."""
CODE_PATTERN = re.compile(r"[0-9A-Za-z+]{6}")
"""A contract market code: 6 letters/digits, ``+`` in the consolidated index rows (``13874+``)."""
_COLUMNS = {"legacy": COT_LEGACY_COLUMNS, "tff": COT_TFF_COLUMNS}
_TEXT = ("as_of", "code", "market")


class SocrataQuery(NamedTuple):
    """A Socrata request: ``url`` and the SoQL ``params`` of the first page (``$offset`` 0)."""

    url: str
    params: dict[str, str]

    @property
    def page_size(self) -> int:
        return int(self.params["$limit"])


def _check_report(report: str) -> None:
    if report not in DATASETS:
        raise InputError(
            "cftc-socrata", "report", f"must be one of {', '.join(DATASETS)} (got {report!r})"
        )


def build_query(
    report: str,
    codes: Sequence[str] | None,
    since: str | pd.Timestamp | None = None,
    page_size: int = 5000,
    *,
    base: str = BASE,
) -> SocrataQuery:
    """The request for ``report`` rows of ``codes`` with report date on or after ``since``.

    ``$where`` filters ``cftc_contract_market_code in (...)`` and
    ``report_date_as_yyyy_mm_dd >= 'YYYY-MM-DDT00:00:00'``; ``$order`` is report date then code
    (unique per row in a futures-only dataset: a total order, so ``$offset`` paging neither
    repeats nor skips rows);
    ``$select`` asks only for the fields :func:`parse` reads (alternative spellings excluded, the
    first one is the live name).
    """
    _check_report(report)
    if not 1 <= int(page_size) <= 50000:
        raise InputError("cftc-socrata", "page_size", f"must be 1..50000 (got {page_size})")
    clauses = []
    if codes:
        for c in codes:
            if not CODE_PATTERN.fullmatch(str(c)):
                raise InputError(
                    "cftc-socrata",
                    "codes",
                    f"contract market codes are 6 letters/digits, '+' for a consolidated row (got {c!r})",
                )
        clauses.append(f"{CODE_FIELD} in ({', '.join(repr(str(c)) for c in codes)})")
    if since is not None:
        day = pd.Timestamp(since).strftime("%Y-%m-%d")
        clauses.append(f"{DATE_FIELD} >= '{day}T00:00:00'")
    params = {
        "$select": ", ".join(
            [
                *(names[0] for names in {**FIELDS[report], **CHECK_FIELDS[report]}.values()),
                UNITS_FIELD,
            ]
        ),
        "$order": f"{DATE_FIELD} ASC, {CODE_FIELD} ASC",
        "$limit": str(int(page_size)),
        "$offset": "0",
    }
    if clauses:
        params["$where"] = " AND ".join(clauses)
    return SocrataQuery(f"{base.rstrip('/')}/{DATASETS[report]}.json", params)


def _load_json(body: bytes, source: str) -> Any:
    """JSON of a response body; SourceError naming ``source`` for malformed or absurdly deep JSON."""
    try:
        return json.loads(body)
    except RecursionError:
        raise SourceError(source, "malformed JSON in the response: nested too deeply") from None
    except ValueError as exc:
        raise SourceError(source, f"malformed JSON in the response: {exc}") from None


def fetch(
    query: SocrataQuery, client: Client, app_token: str | None = None
) -> list[dict[str, Any]]:
    """All rows of ``query``: pages with a growing ``$offset`` until the data ends.

    The data ends with an empty page, or with a page shorter than the page size the server
    really applies.  That size is ``$limit`` once a full page came back; a server may cap
    ``$limit`` lower than asked (Socrata endpoints have had caps of 1,000 and 50,000 rows), so a
    short *first* page is not trusted as the end: the next offset is asked too, and when it holds
    rows the first page's length is the server's cap.  Paging moves by the rows received, never
    by the size asked, so a capped server loses no row.  A page repeating the previous page's
    first row means the server ignored ``$offset``: :class:`SourceError` (never duplicated rows).

    ``app_token`` defaults to the ``CFTC_APP_TOKEN`` environment variable (sent as
    ``X-App-Token``).  Retries on 429/5xx are the client's; errors are
    :class:`flows.errors.SourceError` naming the dataset URL (never the token).
    """
    token = app_token if app_token is not None else os.environ.get(APP_TOKEN_ENV)
    headers = {"Accept": "application/json"}
    if token:
        headers["X-App-Token"] = token
    size = query.page_size
    rows: list[dict[str, Any]] = []
    applied: int | None = None  # the page size the server really applies, once known
    first_len = 0
    previous_first: Any = None
    offset = 0
    for page in range(MAX_PAGES):
        params = dict(query.params, **{"$offset": str(offset)})
        body = _load_json(
            client.get_bytes(query.url, params=params, headers=headers, source=query.url), query.url
        )
        if not isinstance(body, list):
            snippet = str(body)[:200]
            raise SourceError(
                query.url, f"expected a JSON array of rows, got {type(body).__name__}: {snippet}"
            )
        if not body:
            return rows
        if page > 0 and body[0] == previous_first:
            raise SourceError(
                query.url,
                f"the page at $offset {offset} repeats the previous page: the server ignores $offset",
            )
        previous_first = body[0]
        rows.extend(body)
        n = len(body)
        if applied is None:
            if n >= size:
                applied = size
            elif page == 0:
                first_len = n  # the end, or a server cap: the next page tells
            else:
                applied = first_len  # a short first page and more rows: the server caps pages
        if applied is not None and n < applied:
            return rows
        offset += n
    raise SourceError(
        query.url, f"more than {MAX_PAGES} pages of {applied or size} rows; narrow the query"
    )


def _value_error(value: Any) -> bool:
    """True for JSON values that cannot be a number of contracts (objects, lists, booleans)."""
    return isinstance(value, dict | list | bool)


def parse_rows(
    rows: Iterable[Mapping[str, Any]],
    report: str,
    source: str,
    codes: Iterable[str] | None = None,
    *,
    units: bool = False,
) -> Parsed:
    """Socrata rows -> the frame of :func:`flows.sources.cftc_files.parse_report` and its quality.

    ``units`` adds the text column ``contract_units`` (``""`` where a row lacks the field), as
    :func:`flows.sources.cftc_files.parse_report` does.

    Values arrive as strings (JSON numbers are accepted too) and are converted to int64
    contracts; the floating timestamp becomes a tz-naive datetime64[ns] date.  No rows (no new
    week) is an empty frame in the schema layout, not an error.

    Quality (basis ``positions``, weighed by open interest): a row whose needed value is missing
    or not a whole number, or whose date is unreadable, is skipped with the reason; an exact
    duplicate row (the same report date and code twice, same numbers) is dropped as a repair.

    Raises
    ------
    InputError
        Naming ``source``, the row and the field: a row that is not an object, a needed field
        missing from every row (changed layout), conflicting duplicates (same report date and
        code, different numbers), an implausible value (:func:`flows.cftc.check_report`).
    """
    return _parse_rows(rows, report, source, codes, units=units, regular=True)


def _parse_rows(
    rows: Iterable[Mapping[str, Any]],
    report: str,
    source: str,
    codes: Iterable[str] | None,
    *,
    units: bool,
    regular: bool,
) -> Parsed:
    """:func:`parse_rows`; ``regular=False`` skips the one-pass path for regular rows
    (:func:`_regular_rows`), so the tests can compare both paths on the same rows."""
    from flows.cftc import check_report, row_weight

    _check_report(report)
    spec = {
        **FIELDS[report],
        **CHECK_FIELDS[report],
        **({"contract_units": (UNITS_FIELD,)} if units else {}),
    }
    wanted = {str(c).strip() for c in codes} if codes is not None else None
    columns: dict[str, list[Any]] = {c: [] for c in spec}
    index: list[int] = []
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise InputError(source, f"row {i}", f"expected an object, got {type(row).__name__}")
        code = str(row.get(CODE_FIELD, "")).strip()
        if wanted is not None and code not in wanted:
            continue
        index.append(i)
        for col, names in spec.items():
            key = next((n for n in names if n in row), None)
            columns[col].append(row[key] if key is not None else None)
    q = Quality(source=source, basis="positions", total_rows=len(index))
    out_cols = [*_COLUMNS[report], *(["contract_units"] if units else [])]
    if not index:
        out = pd.DataFrame(
            {
                c: pd.Series(
                    dtype="datetime64[ns]"
                    if c == "as_of"
                    else ("str" if c in (*_TEXT, "contract_units") else "int64")
                )
                for c in out_cols
            }
        )
        return Parsed(out, q)
    rowno = np.array(index)
    for col, names in FIELDS[report].items():
        if all(v is None for v in columns[col]):
            raise InputError(
                source,
                names[0],
                f"missing in every row (row {index[0]} first, code {columns['code'][0]}, date {columns['as_of'][0]}): changed layout?",
            )
    checks = [
        c for c, names in CHECK_FIELDS[report].items() if any(v is not None for v in columns[c])
    ]
    numbers = [c for c in FIELDS[report] if c not in _TEXT] + [
        c for c in checks if all(v is not None for v in columns[c])
    ]
    code = np.array(
        [str(v).strip() if v is not None else "" for v in columns["code"]], dtype=object
    )
    if regular:
        done = _regular_rows(columns, rowno, code, report, source, spec, numbers, out_cols, q)
        if done is not None:
            return done
    values = {
        c: pd.to_numeric(
            pd.Series(
                [None if (v is None or _value_error(v)) else str(v).strip() for v in columns[c]],
                dtype=object,
            ),
            errors="coerce",
        ).to_numpy(dtype=float)
        for c in numbers
    }
    day_text = pd.Series(
        [str(v)[:10] if isinstance(v, str) else "" for v in columns["as_of"]], dtype=object
    )
    dates = pd.to_datetime(day_text, format="%Y-%m-%d", errors="coerce").to_numpy(
        dtype="datetime64[ns]"
    )
    oi = row_weight(values, report)  # open interest, or the long side where it is unreadable
    q.total_weight = float(np.nansum(oi))
    skipped = np.zeros(len(index), dtype=bool)
    notes: list[str] = []
    tests: list[tuple[np.ndarray, str, str]] = [
        (np.isnat(dates), f"{DATE_FIELD}: unreadable date", "as_of")
    ]
    for c in numbers:
        v = values[c]
        with np.errstate(invalid="ignore"):
            tests.append(
                (
                    ~np.isfinite(v) | (v != np.round(v)),
                    f"{spec[c][0]}: missing or not a whole number of contracts",
                    c,
                )
            )
    for bad, reason, col in tests:
        new = bad & ~skipped
        if not new.any():
            continue
        weighed = new & np.isfinite(oi)
        q.skip(reason, int(weighed.sum()), float(oi[weighed].sum()))
        q.skip(reason, int((new & ~weighed).sum()), None)
        for i in np.flatnonzero(new)[: max(0, 3 - len(notes))]:
            notes.append(
                f"row {rowno[i]} (code {code[i]}, date {columns['as_of'][i]}): {spec[col][0]} = {columns[col][i]!r}"
            )
        skipped |= new
    if skipped.any():
        more = f" and {int(skipped.sum()) - len(notes)} more" if skipped.sum() > len(notes) else ""
        q.warn(f"{source}: {int(skipped.sum())} row(s) skipped ({'; '.join(notes)}{more})")
    ok = ~skipped
    # frames built at once from column arrays (growing one column by column costs more than the rest)
    text_cols: dict[str, np.ndarray] = {
        "as_of": dates[ok],
        "code": code[ok].astype(str),
        "market": np.array([str(v).strip() for v in columns["market"]], dtype=object)[ok].astype(
            str
        ),
    }
    if units:
        text_cols["contract_units"] = np.array(
            [str(v).strip() if isinstance(v, str) else "" for v in columns["contract_units"]],
            dtype=object,
        )[ok].astype(str)
    kept = {c: values[c][ok] for c in numbers}
    labels = row_labels("row ", rowno[ok], code[ok], dates[ok])
    check_report(
        pd.DataFrame({**text_cols, **kept}),
        report,
        source,
        rows=labels,
        fields={c: spec[c][0] for c in numbers},
    )  # before any cast
    frame = pd.DataFrame(
        {**text_cols, **{c: v.astype(np.int64) for c, v in kept.items()}, "_row": rowno[ok]}
    )
    frame = frame.sort_values(["as_of", "code", "_row"], kind="stable").reset_index(drop=True)
    key = frame.duplicated(["as_of", "code"], keep=False)
    if key.any():
        dups = frame[key]
        for (day, c), g in dups.groupby(["as_of", "code"], sort=True):
            if g[numbers].nunique().max() > 1:
                other = g[(g[numbers] != g.iloc[0][numbers]).any(axis=1)].iloc[0]
                field = next(n for n in numbers if g.iloc[0][n] != other[n])
                raise InputError(
                    source,
                    CODE_FIELD,
                    f"conflicting duplicate rows for code {c} on {pd.Timestamp(day).date()} (rows {g.iloc[0]['_row']} and {other['_row']}): {spec[field][0]} {g.iloc[0][field]} vs {other[field]}",
                )
        exact = dups.duplicated(["as_of", "code"], keep="first")
        q.repair("exact duplicate row dropped (paging overlap?)", int(exact.sum()))
        frame = frame.drop(index=dups.index[exact.to_numpy()])
    return Parsed(frame[out_cols].reset_index(drop=True), q)


_INTEGER = re.compile(r"-?[0-9]+")
"""A count of contracts as Socrata writes it (a JSON string of ASCII digits)."""
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def _regular_rows(
    columns: Mapping[str, list[Any]],
    rowno: np.ndarray,
    code: np.ndarray,
    report: str,
    source: str,
    spec: Mapping[str, tuple[str, ...]],
    numbers: list[str],
    out_cols: list[str],
    q: Quality,
) -> Parsed | None:
    """The frame of regular rows in one pass over whole columns, or None.

    Regular: every needed count a JSON string of an integer (``"920035"``, ``"-22429"``), every
    report date ``YYYY-MM-DD`` (then anything), one row per report date and code.  That is a
    real response; anything else returns None and :func:`parse_rows` reads the rows value by
    value (skips, repairs and their reasons), so both paths give the same frame, quality and
    errors (tests/sources/test_cftc_socrata_paths.py).  The plausibility check
    (:func:`flows.cftc.check_report`) is the same call on the same values and raises the same
    error.
    """
    from flows.cftc import check_report, row_weight

    n = rowno.size
    counts = {}
    for c in numbers:
        column = columns[c]
        if not all(type(v) is str and _INTEGER.fullmatch(v) for v in column):
            return None  # a number, null, blank, decimal or padded string: read value by value
        try:
            counts[c] = np.array(column, dtype=np.int64)
        except OverflowError:
            return None
    day_of: dict[str, np.datetime64] = {}
    for v in columns["as_of"]:
        if v not in day_of:
            m = _DAY.match(v) if type(v) is str else None
            if m is None:
                return None
            try:
                day_of[v] = np.datetime64(date(*(int(g) for g in m.groups())), "ns")
            except ValueError:
                return None  # not a calendar date: an unreadable date, skipped
    dates = np.array([day_of[v] for v in columns["as_of"]], dtype="datetime64[ns]")
    values = {c: counts[c].astype(np.float64) for c in numbers}
    oi = row_weight(values, report)
    check_report(
        values,
        report,
        source,
        rows=lambda i: row_labels("row ", rowno[i : i + 1], code[i : i + 1], dates[i : i + 1])[0],
        fields={c: spec[c][0] for c in numbers},
    )
    # the exact path's order (report date, code, row) and its test for repeated rows
    order = np.lexsort((rowno, code.astype(str), dates))
    dates, code = dates[order], code[order]
    if n > 1 and ((dates[1:] == dates[:-1]) & (code[1:] == code[:-1])).any():
        return None  # a repeated report: dropped or refused on the exact path
    q.total_weight = float(np.nansum(oi))
    text = {
        "as_of": dates,
        "code": code.astype(str),
        "market": np.array([str(v).strip() for v in columns["market"]], dtype=object)[order].astype(
            str
        ),
    }
    if "contract_units" in columns:
        text["contract_units"] = np.array(
            [str(v).strip() if isinstance(v, str) else "" for v in columns["contract_units"]],
            dtype=object,
        )[order].astype(str)
    # the frame assembled from its blocks (no type inference: the per-call cost of
    # pd.DataFrame is most of a small response's time)
    ints = [j for j, c in enumerate(out_cols) if c not in text]
    blocks = [
        (dates.reshape(1, n), np.array([out_cols.index("as_of")])),
        (np.stack([counts[out_cols[j]][order] for j in ints]), np.array(ints)),
        *(
            (pd.array(text[c], dtype=_STR), np.array([out_cols.index(c)]))
            for c in text
            if c != "as_of"
        ),
    ]
    frame = create_dataframe_from_blocks(
        blocks, index=pd.RangeIndex(n), columns=_OUT_COLUMNS[report, "contract_units" in text]
    )
    return Parsed(frame, q)


_OUT_COLUMNS = {
    (report, units): pd.Index([*_COLUMNS[report], *(["contract_units"] if units else [])])
    for report in _COLUMNS
    for units in (False, True)
}
"""The frame's columns per report and ``units`` (:func:`parse_rows`' ``out_cols``)."""
_STR = pd.Series([], dtype="str").dtype
"""pandas' ``str`` dtype (the instance: resolving the name costs more than a small column)."""


def parse(
    rows: Iterable[Mapping[str, Any]], report: str, source: str, codes: Iterable[str] | None = None
) -> pd.DataFrame:
    """The frame of :func:`parse_rows`, refusing any skipped row (:class:`flows.quality.QualityError`,
    an InputError whose message names the field and the row)."""
    frame, q = parse_rows(rows, report, source, codes)
    enforce(q, 0.0)
    return frame
