"""ECB euro foreign exchange reference rates -> USD per 1 unit of each currency.

Endpoints (``https://www.ecb.europa.eu/stats/eurofxref/``)
---------------------------------------------------------
* ``eurofxref-hist.zip`` -> ``eurofxref-hist.csv``: every business day since 1999-01-04, newest
  first, header ``Date,USD,JPY,...,`` with a trailing comma on every line, ``N/A`` = no quote;
* ``eurofxref-daily.xml``: the latest day, ``gesmes`` envelope with the default namespace
  ``http://www.ecb.int/vocabulary/2002-08-01/eurofxref``, single-quoted attributes;
* ``eurofxref.zip`` -> ``eurofxref.csv``: the latest day as two CSV lines with ``", "``
  separators, a trailing ``", "`` and a ``13 April 2026`` date.

ECB rates are units of currency per 1 EUR (14:15 CET fixing).  flowdesk's FX frame
(:data:`flows.schema.FX_USD_PER_UNIT`) is **USD per 1 unit** of each currency::

    usd_per_unit[CCY] = rate[USD] / rate[CCY]      (USD per EUR / CCY per EUR)
    usd_per_unit[EUR] = rate[USD]
    usd_per_unit[USD] = 1.0

TARGET holidays (1 Jan, Good Friday, Easter Monday, 1 May, 25-26 Dec) have no row:
:func:`fx_on` takes the previous available business day, within ``max_lag_days``.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from flows.errors import InputError

BASE = "https://www.ecb.europa.eu/stats/eurofxref"
HIST_ZIP = "eurofxref-hist.zip"
DAILY_XML = "eurofxref-daily.xml"
DAILY_ZIP = "eurofxref.zip"
NS = {"g": "http://www.gesmes.org/xml/2002-08-01", "e": "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"}
FLOWDESK_CURRENCIES: tuple[str, ...] = ("USD", "EUR", "JPY", "GBP", "CHF", "CAD", "AUD", "NZD", "MXN", "BRL", "ZAR")
"""Currencies the CFTC analytics need (USD per unit), in display order."""


# -- step 1: query -------------------------------------------------------------------------
def build_query(kind: str = "hist", *, base: str = BASE) -> str:
    """URL of ``kind``: ``"hist"`` (history zip), ``"daily_xml"`` or ``"daily_zip"``."""
    names = {"hist": HIST_ZIP, "daily_xml": DAILY_XML, "daily_zip": DAILY_ZIP}
    if kind not in names:
        raise InputError("ecb", "kind", f"must be one of {', '.join(names)} (got {kind!r})")
    return f"{base.rstrip('/')}/{names[kind]}"


# -- step 2: fetch (network only) ----------------------------------------------------------
def fetch(query: str, client) -> bytes:
    """Download ``query`` (a URL from :func:`build_query`); raises SourceError."""
    return client.get_bytes(query, source=query)


# -- step 3: parse (pure) ------------------------------------------------------------------
def read_zip(data: bytes, source: str) -> str:
    """Text of the single CSV member of an ECB zip; InputError naming ``source`` otherwise."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
            if len(members) != 1:
                raise InputError(source, None, f"expected one file in the zip, found {[i.filename for i in members]}")
            return zf.read(members[0]).decode("utf-8")
    except zipfile.BadZipFile as exc:
        raise InputError(source, None, f"not a zip archive ({exc})") from None


def to_usd_per_unit(per_eur: pd.DataFrame, source: str, currencies: Iterable[str] | None = None) -> pd.DataFrame:
    """Units-per-EUR rates (columns = ISO codes, ``USD`` required) -> USD per 1 unit.

    ``usd[CCY] = per_eur[USD] / per_eur[CCY]``, ``usd[EUR] = per_eur[USD]``, ``usd[USD] = 1``.
    ``currencies`` selects output columns (default: every input currency plus EUR); a requested
    currency absent from the input raises :class:`InputError`.  ``N/A`` stays NaN.
    """
    if "USD" not in per_eur.columns:
        raise InputError(source, "USD", "column missing: USD per EUR is needed for every conversion")
    usd = per_eur["USD"].to_numpy(dtype=float)
    if np.any(usd <= 0):
        raise InputError(source, "USD", "non-positive EUR/USD rate")
    out = per_eur.astype(float).rdiv(usd, axis=0)
    out["EUR"] = usd
    out["USD"] = 1.0
    if currencies is not None:
        wanted = list(currencies)
        missing = [c for c in wanted if c not in out.columns]
        if missing:
            raise InputError(source, missing[0], f"currency not in the ECB data (have {', '.join(per_eur.columns)})")
        out = out[wanted]
    else:
        out = out[["USD", "EUR"] + [c for c in per_eur.columns if c != "USD"]]
    out.index.name = "date"
    out.columns.name = None
    return out


def _finish(per_eur: pd.DataFrame, source: str, currencies: Iterable[str] | None) -> pd.DataFrame:
    per_eur = per_eur.sort_index()
    if per_eur.index.has_duplicates:
        day = per_eur.index[per_eur.index.duplicated()][0]
        raise InputError(source, "Date", f"duplicate date {day.date()}")
    return to_usd_per_unit(per_eur, source, currencies)


def parse_hist_csv(text: str, source: str, currencies: Iterable[str] | None = FLOWDESK_CURRENCIES) -> pd.DataFrame:
    """``eurofxref-hist.csv`` -> FX frame (ascending DatetimeIndex ``date`` x currencies).

    Handles the trailing comma (an unnamed empty last column, dropped), newest-first order
    (sorted ascending) and ``N/A`` (NaN).  Values: USD per 1 unit (see module docstring).
    """
    try:
        raw = pd.read_csv(io.StringIO(text), na_values=["N/A"], keep_default_na=False, skipinitialspace=True)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(source, None, f"malformed CSV: {exc}") from None
    raw = raw.loc[:, [c for c in raw.columns if c.strip() and not c.startswith("Unnamed")]]
    raw.columns = [c.strip() for c in raw.columns]
    if "Date" not in raw.columns:
        raise InputError(source, "Date", "column missing (changed layout?)")
    if raw.empty:
        raise InputError(source, None, "no data rows")
    dates = pd.to_datetime(raw.pop("Date").astype(str).str.strip(), format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        raise InputError(source, "Date", "unreadable date (expected YYYY-MM-DD)")
    raw.index = pd.DatetimeIndex(dates.astype("datetime64[ns]"), name="date")
    try:
        raw = raw.astype(float)
    except ValueError as exc:
        raise InputError(source, None, f"non-numeric rate: {exc}") from None
    return _finish(raw, source, currencies)


def parse_daily_csv(text: str, source: str, currencies: Iterable[str] | None = FLOWDESK_CURRENCIES) -> pd.DataFrame:
    """``eurofxref.csv`` (the daily zip's member; ``", "`` separators, ``13 April 2026``) -> FX frame."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        raise InputError(source, None, f"expected a header and a data line, got {len(lines)} line(s)")
    header = [h.strip() for h in lines[0].split(",")]
    values = [v.strip() for v in lines[1].split(",")]
    while header and not header[-1]:
        header.pop()
    values = values[: len(header)]
    if not header or header[0] != "Date":
        raise InputError(source, "Date", f"first column is {header[0] if header else None!r}")
    if len(values) != len(header):
        raise InputError(source, None, f"{len(header)} header fields but {len(values)} values")
    day = pd.to_datetime(values[0], format="%d %B %Y", errors="coerce")
    if pd.isna(day):
        raise InputError(source, "Date", f"unreadable date {values[0]!r} (expected e.g. 13 April 2026)")
    rates = {}
    for ccy, v in zip(header[1:], values[1:], strict=True):
        try:
            rates[ccy] = np.nan if v == "N/A" else float(v)
        except ValueError:
            raise InputError(source, ccy, f"not a number: {v!r}") from None
    frame = pd.DataFrame([rates], index=pd.DatetimeIndex([day], name="date").astype("datetime64[ns]"))
    return _finish(frame, source, currencies)


def parse_daily_xml(data: str | bytes, source: str, currencies: Iterable[str] | None = FLOWDESK_CURRENCIES) -> pd.DataFrame:
    """``eurofxref-daily.xml`` (namespaced, single-quoted attributes) -> FX frame (one or more days)."""
    try:
        root = ET.fromstring(data.encode() if isinstance(data, str) else data)
    except ET.ParseError as exc:
        raise InputError(source, None, f"malformed XML: {exc}") from None
    rows = {}
    for day_cube in root.iterfind(".//e:Cube[@time]", NS):
        day = pd.to_datetime(day_cube.get("time"), format="%Y-%m-%d", errors="coerce")
        if pd.isna(day):
            raise InputError(source, "time", f"unreadable date {day_cube.get('time')!r}")
        rates = {}
        for c in day_cube.iterfind("e:Cube", NS):
            ccy, rate = c.get("currency"), c.get("rate")
            try:
                rates[ccy] = float(rate)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise InputError(source, str(ccy), f"not a number: {rate!r}") from None
        rows[day] = rates
    if not rows:
        raise InputError(source, "Cube", "no <Cube time=...> element (namespace or layout changed?)")
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = pd.DatetimeIndex(frame.index, name="date").astype("datetime64[ns]")
    return _finish(frame, source, currencies)


def merge(older: pd.DataFrame, newer: pd.DataFrame) -> pd.DataFrame:
    """Union of two FX frames; where both have a date, ``newer`` wins.  Ascending index."""
    both = pd.concat([older, newer])
    both = both[~both.index.duplicated(keep="last")]
    return both.sort_index()


def fx_on(fx: pd.DataFrame, dates: Sequence | pd.DatetimeIndex, max_lag_days: int = 5, source: str = "ECB reference rates") -> pd.DataFrame:
    """FX rows for ``dates``: each date takes the last ECB row on or before it.

    TARGET holidays have no row, so 2025-12-25 and 2025-12-26 take 2025-12-24.  Raises
    :class:`InputError` naming the first date with no row within ``max_lag_days`` calendar days
    before it (FX history missing or stale).  Returns a frame indexed by the requested dates
    (name ``date``) with the same currency columns; column ``fx_date`` is not added: use
    :func:`fx_dates_for` when the matched ECB date is needed.
    """
    matched = fx_dates_for(fx, dates, max_lag_days, source)
    out = fx.loc[matched]
    out.index = pd.DatetimeIndex(pd.to_datetime(list(dates)), name="date").astype("datetime64[ns]")
    return out


def fx_dates_for(fx: pd.DataFrame, dates: Sequence | pd.DatetimeIndex, max_lag_days: int = 5, source: str = "ECB reference rates") -> pd.DatetimeIndex:
    """The ECB date used for each requested date by :func:`fx_on` (same errors)."""
    idx = pd.DatetimeIndex(fx.index)
    if not idx.is_monotonic_increasing:
        raise InputError(source, "date", "FX frame index must be sorted ascending")
    want = pd.DatetimeIndex(pd.to_datetime(list(dates))).astype("datetime64[ns]")
    pos = idx.searchsorted(want, side="right") - 1
    for i, p in enumerate(pos):
        if p < 0 or (want[i] - idx[p]).days > max_lag_days:
            have = f"latest before it {idx[p].date()}" if p >= 0 else f"history starts {idx[0].date() if len(idx) else 'nowhere'}"
            raise InputError(source, f"date {want[i].date()}", f"no FX rate within {max_lag_days} days ({have})")
    return idx[pos]


# -- convenience: fetch + parse ------------------------------------------------------------
def fetch_hist(client, *, base: str = BASE, currencies: Iterable[str] | None = FLOWDESK_CURRENCIES) -> pd.DataFrame:
    """Download and parse the full history (``eurofxref-hist.zip``) -> FX frame."""
    url = build_query("hist", base=base)
    return parse_hist_csv(read_zip(fetch(url, client), url), url, currencies)


def fetch_daily(client, *, base: str = BASE, currencies: Iterable[str] | None = FLOWDESK_CURRENCIES, kind: str = "xml") -> pd.DataFrame:
    """Download and parse the latest day -> one-row FX frame.

    ``kind="xml"`` reads ``eurofxref-daily.xml``; ``kind="zip"`` reads the CSV inside
    ``eurofxref.zip`` (same numbers; a fallback when the XML endpoint misbehaves).
    """
    if kind == "zip":
        url = build_query("daily_zip", base=base)
        return parse_daily_csv(read_zip(fetch(url, client), url), url, currencies)
    if kind != "xml":
        raise InputError("ecb", "kind", f"must be 'xml' or 'zip' (got {kind!r})")
    url = build_query("daily_xml", base=base)
    return parse_daily_xml(fetch(url, client), url, currencies)

