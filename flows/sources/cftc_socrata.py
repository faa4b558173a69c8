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

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from flows.errors import InputError, SourceError
from flows.schema import COT_LEGACY_COLUMNS, COT_TFF_COLUMNS

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
        raise InputError("cftc-socrata", "report", f"must be one of {', '.join(DATASETS)} (got {report!r})")


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
            if not str(c).isalnum() or len(str(c)) != 6:
                raise InputError("cftc-socrata", "codes", f"contract market codes are 6 letters/digits (got {c!r})")
        clauses.append(f"{CODE_FIELD} in ({', '.join(repr(str(c)) for c in codes)})")
    if since is not None:
        day = pd.Timestamp(since).strftime("%Y-%m-%d")
        clauses.append(f"{DATE_FIELD} >= '{day}T00:00:00'")
    params = {
        "$select": ", ".join(names[0] for names in FIELDS[report].values()),
        "$order": f"{DATE_FIELD} ASC, {CODE_FIELD} ASC",
        "$limit": str(int(page_size)),
        "$offset": "0",
    }
    if clauses:
        params["$where"] = " AND ".join(clauses)
    return SocrataQuery(f"{base.rstrip('/')}/{DATASETS[report]}.json", params)


def fetch(query: SocrataQuery, client, app_token: str | None = None) -> list[dict[str, Any]]:
    """All rows of ``query``: pages of ``$limit`` rows with growing ``$offset`` until a short page.

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
    for page in range(MAX_PAGES):
        params = dict(query.params, **{"$offset": str(page * size)})
        body = client.get_json(query.url, params=params, headers=headers, source=query.url)
        if not isinstance(body, list):
            snippet = str(body)[:200]
            raise SourceError(query.url, f"expected a JSON array of rows, got {type(body).__name__}: {snippet}")
        rows.extend(body)
        if len(body) < size:
            return rows
    raise SourceError(query.url, f"more than {MAX_PAGES} pages of {size} rows; narrow the query")


def parse(rows: Iterable[Mapping[str, Any]], report: str, source: str, codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Socrata rows -> the same frame as :func:`flows.sources.cftc_files.parse` for ``report``.

    Values arrive as strings and are converted to int64 contracts; the floating timestamp
    becomes a tz-naive datetime64[ns] date.  Raises :class:`InputError` naming ``source``, the
    row and the field for a missing required key or an unreadable number/date, and for duplicate
    (as_of, code) rows.  Extra keys are ignored.
    """
    _check_report(report)
    spec = FIELDS[report]
    wanted = {str(c).strip() for c in codes} if codes is not None else None
    columns: dict[str, list[Any]] = {c: [] for c in spec}
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise InputError(source, f"row {i}", f"expected an object, got {type(row).__name__}")
        code = str(row.get(CODE_FIELD, "")).strip()
        if wanted is not None and code not in wanted:
            continue
        for col, names in spec.items():
            key = next((n for n in names if n in row), None)
            if key is None:
                raise InputError(source, names[0], f"missing in row {i} (code {code or '?'}, date {row.get(DATE_FIELD, '?')})")
            columns[col].append(row[key])
    frame = pd.DataFrame(columns)
    numeric = [c for c in spec if c not in _TEXT]
    if frame.empty:
        out = pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "as_of" else ("str" if c in _TEXT else "int64")) for c in _COLUMNS[report]})
        return out
    frame["code"] = frame["code"].astype(str).str.strip()
    frame["market"] = frame["market"].astype(str).str.strip()
    for col in numeric:
        values = pd.to_numeric(frame[col].astype(str).str.strip(), errors="coerce")
        bad = values.isna() | (values != np.round(values))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(source, spec[col][0], f"not a whole number of contracts: {frame[col].iloc[i]!r} (code {frame['code'].iloc[i]})")
        frame[col] = values.astype(np.int64)
    dates = pd.to_datetime(frame["as_of"].astype(str).str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise InputError(source, DATE_FIELD, f"unreadable date {frame['as_of'].iloc[i]!r}")
    frame["as_of"] = dates.astype("datetime64[ns]")
    frame = frame[list(_COLUMNS[report])].sort_values(["as_of", "code"], kind="stable").reset_index(drop=True)
    dup = frame.duplicated(["as_of", "code"])
    if dup.any():
        row = frame[dup].iloc[0]
        raise InputError(source, CODE_FIELD, f"duplicate row for code {row['code']} on {row['as_of'].date()} (paging overlap?)")
    return frame
