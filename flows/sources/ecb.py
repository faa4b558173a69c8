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
import zlib
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from flows.errors import InputError
from flows.limits import LIMITS, check_range
from flows.quality import Quality, enforce
from flows.sources.contract import Client
from flows.sources.textio import Parsed, decode_text

BASE = "https://www.ecb.europa.eu/stats/eurofxref"
HIST_ZIP = "eurofxref-hist.zip"
DAILY_XML = "eurofxref-daily.xml"
DAILY_ZIP = "eurofxref.zip"
NS = {
    "g": "http://www.gesmes.org/xml/2002-08-01",
    "e": "http://www.ecb.int/vocabulary/2002-08-01/eurofxref",
}
FLOWDESK_CURRENCIES: tuple[str, ...] = (
    "USD",
    "EUR",
    "JPY",
    "GBP",
    "CHF",
    "CAD",
    "AUD",
    "NZD",
    "MXN",
    "BRL",
    "ZAR",
)
"""Currencies the CFTC analytics need (USD per unit), in display order."""
CHECKED_CURRENCIES: frozenset[str] = frozenset({*FLOWDESK_CURRENCIES, "SEK"})
"""Currencies whose rates are checked for plausibility (:func:`check_fx`): the ones flowdesk
uses (SEK for the reconstructed USD index).  Other columns pass unchecked: the real history holds
redenominations (TRL 2001), ISK's 2008 crisis quotes and TRY's December 2021 swings beyond the
daily band, and a price below USD 1e-6 (TRL)."""


# -- step 1: query -------------------------------------------------------------------------
def build_query(kind: str = "hist", *, base: str = BASE) -> str:
    """URL of ``kind``: ``"hist"`` (history zip), ``"daily_xml"`` or ``"daily_zip"``."""
    names = {"hist": HIST_ZIP, "daily_xml": DAILY_XML, "daily_zip": DAILY_ZIP}
    if kind not in names:
        raise InputError("ecb", "kind", f"must be one of {', '.join(names)} (got {kind!r})")
    return f"{base.rstrip('/')}/{names[kind]}"


# -- step 2: fetch (network only) ----------------------------------------------------------
def fetch(query: str, client: Client) -> bytes:
    """Download ``query`` (a URL from :func:`build_query`); raises SourceError."""
    return client.get_bytes(query, source=query)


# -- step 3: parse (pure) ------------------------------------------------------------------
def zip_text(data: bytes, source: str, quality: Quality | None = None) -> str:
    """Text of the single CSV member of an ECB zip; InputError naming ``source`` otherwise.

    Decoded by :func:`flows.sources.textio.decode_text` (recorded in ``quality`` when given).
    """
    if not data:
        raise InputError(source, None, "empty body: not a zip archive")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
            if len(members) != 1:
                raise InputError(
                    source,
                    None,
                    f"expected one file in the zip, found {[i.filename for i in members]}",
                )
            raw = zf.read(members[0])
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        NotImplementedError,
        zlib.error,
    ) as exc:
        raise InputError(
            source, None, f"not a zip archive or a damaged one ({type(exc).__name__}: {exc})"
        ) from None
    decoded = decode_text(raw, source)
    if quality is not None:
        decoded.note(quality)
    return decoded.text


def read_zip(data: bytes, source: str) -> str:
    """Text of the single CSV member of an ECB zip (see :func:`zip_text`)."""
    return zip_text(data, source)


def _collector(rows: list[object]) -> Callable[[object], str]:
    """An arrow ``invalid_row_handler`` that keeps each invalid row (for the error) and skips it."""

    def handle(row: object) -> str:
        rows.append(row)
        return "skip"

    return handle


def to_usd_per_unit(
    per_eur: pd.DataFrame, source: str, currencies: Iterable[str] | None = None
) -> pd.DataFrame:
    """Units-per-EUR rates (columns = ISO codes, ``USD`` required) -> USD per 1 unit.

    ``usd[CCY] = per_eur[USD] / per_eur[CCY]``, ``usd[EUR] = per_eur[USD]``, ``usd[USD] = 1``.
    ``currencies`` selects output columns (default: every input currency plus EUR); a requested
    currency absent from the input raises :class:`InputError`.  ``N/A`` stays NaN.
    """
    if "USD" not in per_eur.columns:
        raise InputError(
            source, "USD", "column missing: USD per EUR is needed for every conversion"
        )
    usd = per_eur["USD"].to_numpy(dtype=float)
    if np.any(usd <= 0):
        day = per_eur.index[np.flatnonzero(usd <= 0)[0]]
        raise InputError(source, "USD", f"non-positive EUR/USD rate on {pd.Timestamp(day).date()}")
    with np.errstate(divide="ignore"):
        out = per_eur.astype(float).rdiv(usd, axis=0)
    out["EUR"] = usd
    out["USD"] = 1.0
    if currencies is not None:
        wanted = list(currencies)
        missing = [c for c in wanted if c not in out.columns]
        if missing:
            raise InputError(
                source,
                missing[0],
                f"currency not in the ECB data (have {', '.join(per_eur.columns)})",
            )
        out = out[wanted]
    else:
        out = out[["USD", "EUR"] + [c for c in per_eur.columns if c != "USD"]]
    out.index.name = "date"
    out.columns.name = None
    return out


def _day_labels(index: pd.Index) -> Callable[[int], str]:
    """``i -> 'YYYY-MM-DD'`` of row ``i`` (built only for the row an error names)."""
    days = pd.DatetimeIndex(index).to_numpy(dtype="datetime64[D]")
    return lambda i: str(days[i])


def _check_band(
    frame: pd.DataFrame, cols: list[str], source: str, unit: str, new_from: pd.Timestamp | None
) -> None:
    """Log change of each column from the previous row where both are quoted, within
    ``fx.daily_log_change`` (rows from ``new_from`` on, each against its predecessor)."""
    if not cols or len(frame) < 2:
        return
    dates = pd.DatetimeIndex(frame.index)
    first = 0 if new_from is None else int(dates.searchsorted(pd.Timestamp(new_from)))
    label = _day_labels(dates)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.diff(np.log(frame[cols].to_numpy(dtype=float)), axis=0)  # row i+1 vs row i
    start = max(first - 1, 0)
    for j, c in enumerate(cols):
        check_range(
            change[start:, j],
            "fx.daily_log_change",
            source,
            rows=lambda i, start=start: label(start + 1 + i),
            field=f"{c} ({unit}; log change from the previous ECB day)",
        )


def check_fx(fx: pd.DataFrame, source: str, *, new_from: pd.Timestamp | None = None) -> None:
    """Plausibility of an FX frame (USD per unit, ascending dates), :mod:`flows.limits`.

    For the columns of :data:`CHECKED_CURRENCIES`: every rate within ``fx.usd_per_unit`` (> 0),
    and the log change from the previous row where both are quoted within
    ``fx.daily_log_change`` (a decimal-point misprint moves a rate by a factor of 10).  Only rows
    on or after ``new_from`` are checked (each against its predecessor) when it is given.  The
    parsers check the ECB's own columns (units per EUR) the same way first, so an error names
    the cell as printed.

    Raises
    ------
    InputError
        Naming ``source``, the currency and the date.
    """
    cols = [c for c in fx.columns if c in CHECKED_CURRENCIES and c != "USD"]
    if not cols or fx.empty:
        return
    dates = pd.DatetimeIndex(fx.index)
    first = 0 if new_from is None else int(dates.searchsorted(pd.Timestamp(new_from)))
    label = _day_labels(dates)
    values = fx[cols].to_numpy(dtype=float)
    for j, c in enumerate(cols):
        check_range(
            values[first:, j],
            "fx.usd_per_unit",
            source,
            rows=lambda i, first=first: label(first + i),
            field=c,
        )
    _check_band(fx, cols, source, "USD per unit", new_from)


def _finish(
    per_eur: pd.DataFrame, source: str, currencies: Iterable[str] | None, quality: Quality
) -> Parsed:
    """Sort, drop exact duplicate days (a repair; conflicting ones raise), convert, check."""
    per_eur = per_eur.sort_index(kind="stable")  # equal dates keep the file order (messages)
    if per_eur.index.has_duplicates:
        for day in per_eur.index[per_eur.index.duplicated()].unique():
            rows = per_eur.loc[[day]]
            if len(rows.drop_duplicates()) > 1:  # NaN (N/A) counts as equal to NaN here
                diff = next(c for c in rows.columns if len(rows[c].drop_duplicates()) > 1)
                raise InputError(
                    source,
                    "Date",
                    f"conflicting duplicate rows for {pd.Timestamp(day).date()}: {diff} {rows[diff].iloc[0]} vs {rows[diff].iloc[1]}",
                )
        exact = per_eur.index.duplicated(keep="first")
        quality.repair("exact duplicate day dropped", int(exact.sum()))
        per_eur = per_eur[~exact]
    if "USD" in per_eur.columns:
        # USD per EUR is the divisor of every conversion: a day it is not quoted (N/A) has no
        # usable rate at all, so it is skipped and the previous ECB day serves, as on a holiday
        no_usd = per_eur["USD"].isna().to_numpy()
        if no_usd.any() and not no_usd.all():
            days = ", ".join(str(pd.Timestamp(d).date()) for d in per_eur.index[no_usd][:3])
            quality.skip("USD per EUR not quoted (N/A)", int(no_usd.sum()))
            quality.warn(
                f"{source}: {int(no_usd.sum())} day(s) without a USD rate (N/A: {days}) skipped; the previous ECB day serves those dates"
            )
            per_eur = per_eur[~no_usd]
    if per_eur.empty:
        raise InputError(source, None, "no readable day of rates")
    _check_band(
        per_eur,
        [c for c in per_eur.columns if c in CHECKED_CURRENCIES],
        source,
        "units per EUR as printed",
        None,
    )
    fx = to_usd_per_unit(per_eur, source, currencies)
    check_fx(fx, source)
    return Parsed(fx, quality)


def _inside(values: np.ndarray, key: str) -> bool:
    """Every non-NaN value within ``LIMITS[key]`` (infinities refused): what
    :func:`flows.limits.check_range` passes, tested on the extremes of the whole matrix."""
    if values.size == 0:
        return True
    flat = values.reshape(-1)
    low, high = np.fmin.reduce(flat), np.fmax.reduce(flat)  # NaN only when every value is
    if np.isnan(low):
        return True
    lim = LIMITS[key]
    return bool(
        (low >= lim.low if lim.low is not None else low > -np.inf)
        and (high <= lim.high if lim.high is not None else high < np.inf)
    )


def _band_inside(values: np.ndarray) -> bool:
    """The log change of each column from the previous row within ``fx.daily_log_change``
    (what :func:`_check_band` passes; NaN, a rate not quoted on either day, ignored)."""
    if values.shape[0] < 2 or values.shape[1] == 0:
        return True
    with np.errstate(divide="ignore", invalid="ignore"):
        return _inside(np.diff(np.log(values), axis=0), "fx.daily_log_change")


def _finish_regular(
    dates: np.ndarray,
    per_eur: np.ndarray,
    names: list[str],
    currencies: Iterable[str] | None,
    quality: Quality,
) -> Parsed | None:
    """:func:`_finish` on whole arrays for regular rates, or None.

    ``dates`` (``datetime64[ns]``, file order), ``per_eur`` (rows x ``names``, units per EUR).
    Regular: no repeated day, USD quoted (and positive) every day, no ``EUR`` column, the
    requested currencies present once each, every rate and daily move within
    :mod:`flows.limits` as printed and as USD per unit.  Anything else returns None and
    :func:`_finish` decides (it repairs, skips or raises naming the currency and day); on
    regular rates both give the same frame (tests/sources/test_ecb_paths.py).
    """
    if "USD" not in names or "EUR" in names or len(set(names)) < len(names) or not len(dates):
        return None
    order = np.argsort(dates, kind="stable")
    dates, per_eur = dates[order], per_eur[order]
    if (dates[1:] == dates[:-1]).any():
        return None
    usd = per_eur[:, names.index("USD")]
    if not (usd > 0).all():  # (NaN compares False: a day without a USD rate)
        return None
    checked = [i for i, c in enumerate(names) if c in CHECKED_CURRENCIES]
    if not _band_inside(per_eur[:, checked]):
        return None
    if currencies is None:
        wanted = ["USD", "EUR", *(c for c in names if c != "USD")]
    else:
        wanted = list(currencies)
        if len(set(wanted)) < len(wanted) or any(c not in names and c != "EUR" for c in wanted):
            return None
    with np.errstate(divide="ignore", invalid="ignore"):
        per_unit = usd[:, None] / per_eur  # USD per unit: USD per EUR / CCY per EUR
    columns = []
    for c in wanted:
        if c == "USD":
            columns.append(np.ones_like(usd))
        elif c == "EUR":
            columns.append(usd)
        else:
            columns.append(per_unit[:, names.index(c)])
    fx = np.column_stack(columns) if columns else np.empty((len(dates), 0))
    checked = [j for j, c in enumerate(wanted) if c in CHECKED_CURRENCIES and c != "USD"]
    if not (_inside(fx[:, checked], "fx.usd_per_unit") and _band_inside(fx[:, checked])):
        return None
    frame = pd.DataFrame(
        fx, index=pd.DatetimeIndex(dates, name="date"), columns=pd.Index(wanted), copy=False
    )
    return Parsed(frame, quality)


def _numbers(
    raw: pd.DataFrame, columns: Sequence[str]
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Rates of ``columns`` as floats (``N/A`` = NaN), the rows holding a cell that is neither a
    number nor ``N/A``, and a description of the first few (``line 12: JPY '-'``)."""
    out = {}
    bad = np.zeros(len(raw), dtype=bool)
    for c in columns:
        text = raw[c].astype(str).str.strip()
        vals = pd.to_numeric(text.where(text != "N/A", None), errors="coerce").to_numpy(dtype=float)
        bad |= (text != "N/A").to_numpy() & ~np.isfinite(vals)
        out[c] = vals
    values = pd.DataFrame(out, index=raw.index)
    notes = []
    for i in np.flatnonzero(bad)[:3]:
        col = next(
            c
            for c in columns
            if str(raw[c].iloc[i]).strip() != "N/A" and not np.isfinite(values[c].iloc[i])
        )
        notes.append(f"line {raw.index[i]}: {col} {raw[col].iloc[i]!r}")
    return values, bad, notes


def _arrow_hist(
    text: str, header: list[str], cols: list[str]
) -> tuple[np.ndarray, pd.DataFrame] | None:
    """The history read column-wise by pyarrow: ``(dates, rates)`` in file order, or None when
    the file is not regular (a line of another field count, a blank line, a date that is not a
    valid ``YYYY-MM-DD``, a rate that is neither a number nor ``N/A``): the exact reader then
    decides line by line, as for any damaged file."""
    data = text.encode("utf-8")
    start = data.find(b"\n") + 1
    if start <= 0:
        return None
    names = [f"c{i}" for i in range(len(header))]
    pos = {c: header.index(c) for c in ["Date", *cols]}
    invalid: list[object] = []
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(memoryview(data)[start:])),
            read_options=pacsv.ReadOptions(
                column_names=names, use_threads=False, block_size=max(1 << 20, len(data) + 1)
            ),
            parse_options=pacsv.ParseOptions(
                quote_char=False, invalid_row_handler=_collector(invalid)
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=[names[p] for p in pos.values()],
                column_types={
                    names[pos["Date"]]: pa.date32(),
                    **{names[pos[c]]: pa.float64() for c in cols},
                },
                null_values=["N/A"],
                strings_can_be_null=False,
                true_values=[],
                false_values=[],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if invalid or table.num_rows != data.count(b"\n", start) + (0 if data.endswith(b"\n") else 1):
        return None  # a skipped line, a blank line or a bare carriage return: not regular
    days = table.column(names[pos["Date"]])
    if days.null_count:
        return None
    values = pd.DataFrame(
        {c: table.column(names[pos[c]]).to_numpy() for c in cols},
        index=pd.RangeIndex(2, table.num_rows + 2, name="line"),
        copy=False,
    )
    return days.to_numpy().astype("datetime64[D]"), values


def read_hist_csv(
    text: str, source: str, currencies: Iterable[str] | None = FLOWDESK_CURRENCIES
) -> Parsed:
    """``eurofxref-hist.csv`` -> FX frame (ascending DatetimeIndex ``date`` x currencies) and quality.

    Handles the trailing comma (an unnamed empty last column, dropped), newest-first order
    (sorted ascending) and ``N/A`` (NaN, no quote that day).  Values: USD per 1 unit (see the
    module docstring).  Quality (basis ``rows``: days): a day with a needed rate that is neither
    a number nor ``N/A`` (``-``, empty), an unreadable date, or a line cut short or with extra
    fields is skipped with the reason (the previous business day then serves, as on a TARGET
    holiday); an exact duplicate day is dropped (a repair).

    Raises
    ------
    InputError
        Naming ``source``: empty or header-only file, no ``Date``/``USD`` column, a requested
        currency missing, conflicting duplicate days, an implausible rate (:func:`check_fx`:
        names the currency and the date).
    """
    return _read_hist_csv(text, source, currencies, regular=True)


def _read_hist_csv(
    text: str, source: str, currencies: Iterable[str] | None, *, regular: bool
) -> Parsed:
    """:func:`read_hist_csv`; ``regular=False`` skips the one-pass finish
    (:func:`_finish_regular`), so the tests can compare both paths on the same text."""
    q = Quality(source=source, basis="rows")
    first_line = (text[: text.find("\n")] if "\n" in text else text).rstrip("\r")
    if not first_line.strip():
        raise InputError(source, None, "empty file (no header row)")
    header = [h.strip() for h in first_line.split(",")]
    names = [h for h in header if h]
    if "Date" not in names:
        raise InputError(source, "Date", "column missing (changed layout?)")
    if len(set(names)) < len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(source, dup, "column appears twice in the header")
    if currencies is None:
        cols = [c for c in names if c != "Date"]
    else:
        cols = list(dict.fromkeys(["USD", *[c for c in currencies if c not in ("USD", "EUR")]]))
    fast = (
        _arrow_hist(text, header, cols)
        if "USD" in names and all(c in names for c in cols)
        else None
    )
    if (
        fast is not None
    ):  # a regular file: one row per line, every date ISO, every rate a number or N/A
        days, values = fast
        if not len(days):
            raise InputError(source, None, "no data rows (header only)")
        q.total_rows = len(days)
        done = (
            _finish_regular(
                days.astype("datetime64[ns]"),
                values.to_numpy(),
                list(values.columns),
                currencies,
                q,
            )
            if regular
            else None
        )
        if done is not None:
            return done
        per_eur = values.set_axis(pd.DatetimeIndex(days.astype("datetime64[ns]"), name="date"))
        return _finish(per_eur, source, currencies, q)
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    data = [(i, ln) for i, ln in enumerate(lines[1:], start=2) if ln.strip()]
    if not data:
        raise InputError(source, None, "no data rows (header only)")
    q.total_rows = len(data)
    width = len(header)
    # The ECB file has no quoting: a line's field count is its comma count + 1.
    good = [ln.count(",") + 1 == width for _, ln in data]
    if not all(good):
        cut = [i for (i, _), g in zip(data, good, strict=True) if not g]
        q.skip(
            f"line has a different number of fields than the header's {width} (cut short or shifted)",
            len(cut),
        )
        q.warn(
            f"{source}: {len(cut)} line(s) skipped: wrong number of fields (line {cut[0]}{' and more' if len(cut) > 1 else ''})"
        )
    kept = [(i, ln) for (i, ln), g in zip(data, good, strict=True) if g]
    if currencies is None:
        cols = [c for c in names if c != "Date"]
    else:
        cols = list(dict.fromkeys(["USD", *[c for c in currencies if c not in ("USD", "EUR")]]))
        missing = [c for c in cols if c not in names]
        if missing:
            raise InputError(
                source,
                missing[0],
                f"currency not in the ECB data (have {', '.join(c for c in names if c != 'Date')})",
            )
    if "USD" not in names:
        raise InputError(
            source, "USD", "column missing: USD per EUR is needed for every conversion"
        )
    body = text if all(good) else "\n".join([lines[0], *(ln for _, ln in kept)])
    notes: list[str]
    try:
        # fast path: every needed cell a number or N/A (the real file)
        raw = pd.read_csv(
            io.StringIO(body),
            usecols=["Date", *cols],
            dtype={c: float for c in cols},
            na_values={c: ["N/A"] for c in cols},
            keep_default_na=False,
            engine="c",
        )
        values, unreadable, notes = raw[cols], np.zeros(len(raw), dtype=bool), []
        values.index = pd.Index([i for i, _ in kept], name="line")
    except ValueError:
        try:
            raw = pd.read_csv(
                io.StringIO(body),
                usecols=["Date", *cols],
                dtype=str,
                keep_default_na=False,
                engine="c",
            )
        except (ValueError, pd.errors.ParserError) as exc:
            raise InputError(source, None, f"malformed CSV: {exc}") from None
        raw.index = pd.Index([i for i, _ in kept], name="line")
        values, unreadable, notes = _numbers(raw, cols)
    except pd.errors.ParserError as exc:
        raise InputError(source, None, f"malformed CSV: {exc}") from None
    raw.index = pd.Index([i for i, _ in kept], name="line")
    dates = pd.to_datetime(raw["Date"].astype(str).str.strip(), format="%Y-%m-%d", errors="coerce")
    bad_date = dates.isna().to_numpy()
    if bad_date.any():
        q.skip("Date: unreadable (expected YYYY-MM-DD)", int(bad_date.sum()))
        q.warn(
            f"{source}: {int(bad_date.sum())} row(s) with an unreadable date skipped (line {raw.index[np.flatnonzero(bad_date)[0]]}: {raw['Date'].iloc[np.flatnonzero(bad_date)[0]]!r})"
        )
    unreadable &= ~bad_date
    if unreadable.any():
        q.skip("a rate that is neither a number nor N/A", int(unreadable.sum()))
        more = (
            f" and {int(unreadable.sum()) - len(notes)} more"
            if unreadable.sum() > len(notes)
            else ""
        )
        q.warn(
            f"{source}: {int(unreadable.sum())} day(s) skipped for a rate that is neither a number nor N/A ({'; '.join(notes)}{more}); the previous ECB day serves those dates"
        )
    keep = ~(bad_date | unreadable)
    per_eur = values[keep]
    per_eur.index = pd.DatetimeIndex(dates[keep].to_numpy(dtype="datetime64[ns]"), name="date")
    return _finish(per_eur, source, currencies, q)


def parse_hist_csv(
    text: str, source: str, currencies: Iterable[str] | None = FLOWDESK_CURRENCIES
) -> pd.DataFrame:
    """The frame of :func:`read_hist_csv`, refusing any skipped day (QualityError, an InputError)."""
    fx, q = read_hist_csv(text, source, currencies)
    enforce(q, 0.0)
    return fx


def read_daily_csv(
    text: str, source: str, currencies: Iterable[str] | None = FLOWDESK_CURRENCIES
) -> Parsed:
    """``eurofxref.csv`` (the daily zip's member; ``", "`` separators, ``13 April 2026``) -> FX frame."""
    return _read_daily_csv(text, source, currencies, regular=True)


def _read_daily_csv(
    text: str, source: str, currencies: Iterable[str] | None, *, regular: bool
) -> Parsed:
    """:func:`read_daily_csv`; ``regular=False`` skips the one-pass finish."""
    q = Quality(source=source, basis="rows")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        raise InputError(
            source, None, f"expected a header and a data line, got {len(lines)} line(s)"
        )
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
        raise InputError(
            source, "Date", f"unreadable date {values[0]!r} (expected e.g. 13 April 2026)"
        )
    rates = {}
    for ccy, v in zip(header[1:], values[1:], strict=True):
        try:
            rates[ccy] = np.nan if v == "N/A" else float(v)
        except ValueError:
            raise InputError(source, ccy, f"not a number: {v!r}") from None
    q.total_rows = 1
    done = (
        _finish_regular(
            np.array([day], dtype="datetime64[ns]"),
            np.array([list(rates.values())], dtype=float),
            list(rates),
            currencies,
            q,
        )
        if regular
        else None
    )
    if done is not None:
        return done
    frame = pd.DataFrame(
        [rates], index=pd.DatetimeIndex([day], name="date").astype("datetime64[ns]")
    )
    return _finish(frame, source, currencies, q)


def parse_daily_csv(
    text: str, source: str, currencies: Iterable[str] | None = FLOWDESK_CURRENCIES
) -> pd.DataFrame:
    """The frame of :func:`read_daily_csv`."""
    return read_daily_csv(text, source, currencies).frame


def read_daily_xml(
    data: str | bytes, source: str, currencies: Iterable[str] | None = FLOWDESK_CURRENCIES
) -> Parsed:
    """``eurofxref-daily.xml`` (namespaced, single-quoted attributes) -> FX frame (one or more days).

    Raises :class:`InputError` naming ``source`` for malformed XML (entity expansions and DTDs are
    refused: the ECB file has none), a rate that is not a number, no ``Cube`` day, an implausible
    rate (:func:`check_fx` within the file; the ingest also checks the new day against the stored
    history).
    """
    q = Quality(source=source, basis="rows")
    raw = data.encode() if isinstance(data, str) else data
    if b"<!DOCTYPE" in raw[:2048].upper() or b"<!ENTITY" in raw.upper():
        raise InputError(
            source, None, "XML with a DTD or entity declarations is refused (the ECB file has none)"
        )
    try:
        root = ET.fromstring(raw)
    except (ET.ParseError, RecursionError) as exc:
        raise InputError(
            source,
            None,
            f"malformed XML: {exc if not isinstance(exc, RecursionError) else 'nested too deeply'}",
        ) from None
    rows: dict[pd.Timestamp, dict[str | None, float]] = {}
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
        if day in rows:
            if rows[day] != rates:
                raise InputError(source, "time", f"conflicting duplicate days {day.date()}")
            q.repair("exact duplicate day dropped")
        rows[day] = rates
    if not rows:
        raise InputError(
            source, "Cube", "no <Cube time=...> element (namespace or layout changed?)"
        )
    q.total_rows = len(rows)
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = pd.DatetimeIndex(frame.index, name="date").astype("datetime64[ns]")
    return _finish(frame, source, currencies, q)


def parse_daily_xml(
    data: str | bytes, source: str, currencies: Iterable[str] | None = FLOWDESK_CURRENCIES
) -> pd.DataFrame:
    """The frame of :func:`read_daily_xml`."""
    return read_daily_xml(data, source, currencies).frame


def merge(older: pd.DataFrame, newer: pd.DataFrame) -> pd.DataFrame:
    """Union of two FX frames; where both have a date, ``newer`` wins.  Ascending index."""
    both = pd.concat([older, newer])
    both = both[~both.index.duplicated(keep="last")]
    return both.sort_index()


def fx_on(
    fx: pd.DataFrame,
    dates: Sequence[object] | pd.DatetimeIndex,
    max_lag_days: int = 5,
    source: str = "ECB reference rates",
) -> pd.DataFrame:
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


def fx_dates_for(
    fx: pd.DataFrame,
    dates: Sequence[object] | pd.DatetimeIndex,
    max_lag_days: int = 5,
    source: str = "ECB reference rates",
) -> pd.DatetimeIndex:
    """The ECB date used for each requested date by :func:`fx_on` (same errors)."""
    idx = pd.DatetimeIndex(fx.index)
    if not idx.is_monotonic_increasing:
        raise InputError(source, "date", "FX frame index must be sorted ascending")
    want = pd.DatetimeIndex(pd.to_datetime(list(dates))).astype("datetime64[ns]")
    pos = idx.searchsorted(want, side="right") - 1
    for i, p in enumerate(pos):
        if p < 0 or (want[i] - idx[p]).days > max_lag_days:
            have = (
                f"latest before it {idx[p].date()}"
                if p >= 0
                else f"history starts {idx[0].date() if len(idx) else 'nowhere'}"
            )
            raise InputError(
                source, f"date {want[i].date()}", f"no FX rate within {max_lag_days} days ({have})"
            )
    return idx[pos]


def parse(
    raw: bytes, source: str, currencies: Iterable[str] | None = FLOWDESK_CURRENCIES
) -> Parsed:
    """Any ECB body -> FX frame (USD per unit) and quality: the connector contract's ``parse``.

    The body says what it is: a zip (``PK``) holds the history CSV (ISO dates) or the daily CSV
    (``13 April 2026`` dates); anything else is the daily XML.  Raises :class:`InputError` naming
    ``source`` (via the readers below).
    """
    if raw[:2] == b"PK":
        q = Quality(source=source, basis="rows")
        text = zip_text(raw, source, q)
        first = next((line for line in text.splitlines()[1:] if line.strip()), "")
        if any(ch.isalpha() for ch in first.split(",", 1)[0]):
            return read_daily_csv(text, source, currencies)
        fx, parsed = read_hist_csv(text, source, currencies)
        return Parsed(fx, q.merge(parsed) if q.repaired_rows else parsed)
    return read_daily_xml(raw, source, currencies)


# -- convenience: fetch + parse ------------------------------------------------------------
def fetch_hist_parsed(
    client: Client, *, base: str = BASE, currencies: Iterable[str] | None = FLOWDESK_CURRENCIES
) -> Parsed:
    """Download and parse the full history (``eurofxref-hist.zip``) -> FX frame and quality."""
    url = build_query("hist", base=base)
    return parse(fetch(url, client), url, currencies)


def fetch_hist(
    client: Client, *, base: str = BASE, currencies: Iterable[str] | None = FLOWDESK_CURRENCIES
) -> pd.DataFrame:
    """Download and parse the full history (``eurofxref-hist.zip``) -> FX frame."""
    fx, q = fetch_hist_parsed(client, base=base, currencies=currencies)
    enforce(q, 0.0)
    return fx


def fetch_daily_parsed(
    client: Client,
    *,
    base: str = BASE,
    currencies: Iterable[str] | None = FLOWDESK_CURRENCIES,
    kind: str = "xml",
) -> Parsed:
    """Download and parse the latest day -> one-row FX frame and quality.

    ``kind="xml"`` reads ``eurofxref-daily.xml``; ``kind="zip"`` reads the CSV inside
    ``eurofxref.zip`` (same numbers; a fallback when the XML endpoint misbehaves).
    """
    if kind == "zip":
        url = build_query("daily_zip", base=base)
        return read_daily_csv(zip_text(fetch(url, client), url), url, currencies)
    if kind != "xml":
        raise InputError("ecb", "kind", f"must be 'xml' or 'zip' (got {kind!r})")
    url = build_query("daily_xml", base=base)
    return read_daily_xml(fetch(url, client), url, currencies)


def fetch_daily(
    client: Client,
    *,
    base: str = BASE,
    currencies: Iterable[str] | None = FLOWDESK_CURRENCIES,
    kind: str = "xml",
) -> pd.DataFrame:
    """Download and parse the latest day -> one-row FX frame (see :func:`fetch_daily_parsed`)."""
    return fetch_daily_parsed(client, base=base, currencies=currencies, kind=kind).frame
