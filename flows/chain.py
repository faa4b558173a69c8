"""One option-chain snapshot, the common shape every chain source produces.

A :class:`Chain` is what a source's pure ``parse`` step returns (CBOE quote-table CSV, CBOE
delayed-quotes JSON, the sample generator) and what :func:`flows.gamma.analyze` consumes.

Contracts are keyed by their OSI option symbol (``SPXW230915C04500000``): the AM-settled ``SPX``
monthly and the PM-settled ``SPXW`` weekly at the same expiry and strike are two contracts, and
half-dollar strikes are never rounded.

Settlement rule (:func:`settlement_times`)
------------------------------------------
* AM-settled roots (:data:`AM_SETTLED_ROOTS`: ``SPX``, ``NDX``, ``RUT``, ``DJX``; the standard
  monthly index options): settle on the opening print of the expiry date, taken as 09:30 ET.
  They stop trading at the close of the previous business day, but the hedge stays live until
  the settlement value is known, so 09:30 ET is the time after which the contract is dead.
* Everything else is PM-settled at 16:00 ET on the expiry date: ``SPXW`` / ``NDXP`` / ``RUTW``
  weeklies and end-of-month, ``XSP``, ETF and single-stock options.

Only the root decides; the expiry date in the source already carries holiday shifts (a Good
Friday third-Friday expiry is listed on the Thursday).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from flows.errors import InputError
from flows.schema import CHAIN_COLUMNS

AM_SETTLED_ROOTS: frozenset[str] = frozenset({"SPX", "NDX", "RUT", "DJX"})
"""Option roots settled on the opening print (09:30 ET) of the expiry date."""

AM_SETTLE_LOCAL = pd.Timedelta(hours=9, minutes=30)
"""Settlement time of AM-settled roots, local exchange time after midnight of the expiry date."""

PM_SETTLE_LOCAL = pd.Timedelta(hours=16)
"""Settlement time of PM-settled roots (the 16:00 ET close)."""

EXCHANGE_TZ = "America/New_York"

ROOT_UNDERLYING: dict[str, str] = {
    "SPXW": "SPX",
    "SPXQ": "SPX",
    "SPXPM": "SPX",
    "NDXP": "NDX",
    "NQX": "NDX",
    "RUTW": "RUT",
    "DJXW": "DJX",
    "VIXW": "VIX",
}
"""Option roots whose underlying differs from the root (weeklies, PM-settled series)."""

DEALER_POSITION_COLUMN = "dealer_position_contracts"
"""Optional chain column: signed dealer position per contract (+ = dealers long), contracts.

Public files do not carry it; a source that knows dealer positioning may add it, and
:func:`flows.gamma.analyze` then reports a ``source_position`` convention."""

SKIPPED_COLUMNS = ("row", "field", "reason")

OSI_PATTERN = r"^[A-Z0-9.]{1,6}[0-9]{6}[CP][0-9]{8}$"
"""Compact OSI option symbol: root, YYMMDD, C/P, strike x 1000 (8 digits)."""


def empty_contracts() -> pd.DataFrame:
    """An empty contracts frame with the :data:`flows.schema.CHAIN_COLUMNS` columns."""
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in CHAIN_COLUMNS})


def empty_skipped() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series(dtype="int64"), "field": pd.Series(dtype="str"), "reason": pd.Series(dtype="str")})


@dataclass
class Chain:
    """An option-chain snapshot.

    Attributes
    ----------
    underlying:
        Underlying ticker as the desk names it (``SPX``, ``SPY``); ``SPXW`` rows belong to ``SPX``.
    spot:
        Underlying price at the snapshot, index points / USD per share.
    as_of:
        Snapshot time, tz-aware.
    source:
        Where it came from (file path, URL, ``sample:<seed>``); used in every error message.
    contracts:
        One row per OSI symbol, columns :data:`flows.schema.CHAIN_COLUMNS` (plus optionally
        :data:`DEALER_POSITION_COLUMN`).
    skipped:
        Rows the parser refused, columns ``row`` (1-based line number in the source, or index),
        ``field`` and ``reason``.
    """

    underlying: str
    spot: float
    as_of: pd.Timestamp
    source: str
    contracts: pd.DataFrame
    skipped: pd.DataFrame = field(default_factory=empty_skipped)


def underlying_from_root(root: str) -> str:
    """``SPXW`` -> ``SPX``, ``NDXP`` -> ``NDX``; other roots are their own underlying."""
    return ROOT_UNDERLYING.get(root, root)


def _parse_dates(values: pa.Array, fmt: str) -> np.ndarray:
    """Parse date strings via their distinct values (a chain has few expiries); NaT if invalid."""
    enc = pc.dictionary_encode(values)
    parsed = pd.to_datetime(pd.Series(enc.dictionary, dtype="str"), format=fmt, errors="coerce").to_numpy(dtype="datetime64[ns]")
    codes = enc.indices.to_numpy(zero_copy_only=False)
    nat = np.datetime64("NaT", "ns")
    if parsed.size == 0:
        return np.full(len(values), nat)
    valid = ~np.isnan(codes.astype(np.float64)) if codes.dtype.kind == "f" else np.ones(len(codes), dtype=bool)
    return np.where(valid, parsed[np.nan_to_num(codes, nan=0).astype(np.int64)], nat)


def parse_osi(symbols: Iterable[str] | pd.Series) -> pd.DataFrame:
    """Split OSI option symbols into root, expiry, type and strike (vectorised).

    Accepts the compact form (``SPXW230915C04500000``) and the padded 21-character form
    (``SPXW  230915C04500000``); spaces are removed first. The symbol is ``root`` (1-6 chars),
    ``YYMMDD``, ``C``/``P``, strike x 1000 in 8 digits; the fields after the root have fixed
    width, so after one anchored regex check (:data:`OSI_PATTERN`, run by Arrow's RE2 engine)
    the fields are plain slices.

    Returns
    -------
    DataFrame indexed like the input with ``symbol`` (the normalised compact symbol), ``root`` (str), ``expiry`` (datetime64, tz-naive
    date), ``type`` (``'C'``/``'P'``) and ``strike`` (float, strike = 8 digits / 1000). Symbols
    that do not match give NaN/NaT in every column (the caller decides whether that is fatal).
    """
    index = symbols.index if isinstance(symbols, pd.Series) else None
    values = symbols.to_numpy(dtype=object, na_value=None) if isinstance(symbols, pd.Series) else list(symbols)
    arr = pa.array(values, type=pa.string(), from_pandas=True)
    arr = pc.utf8_upper(pc.replace_substring(arr, " ", ""))
    ok = pc.fill_null(pc.match_substring_regex(arr, OSI_PATTERN), False)
    arr = pc.if_else(ok, arr, pa.scalar(None, pa.string()))
    out = pd.DataFrame(
        {
            "symbol": pd.Series(arr, dtype="str"),
            "root": pd.Series(pc.utf8_slice_codeunits(arr, 0, -15), dtype="str"),
            "expiry": _parse_dates(pc.utf8_slice_codeunits(arr, -15, -9), "%y%m%d"),
            "type": pd.Series(pc.utf8_slice_codeunits(arr, -9, -8), dtype="str"),
            "strike": pc.cast(pc.utf8_slice_codeunits(arr, -8), pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64) / 1000.0,
        }
    )
    if index is not None:
        out.index = index
    return out


def settlement_times(roots: Iterable[str] | pd.Series, expiries: Iterable | pd.Series, tz: str = EXCHANGE_TZ) -> pd.DatetimeIndex:
    """Settlement time per contract, tz-aware UTC.

    Parameters
    ----------
    roots:
        Option roots (``SPX``, ``SPXW``, ``SPY`` ...).
    expiries:
        Expiry calendar dates (tz-naive; any time of day is discarded).
    tz:
        Exchange time zone in which the settle clock times are read.

    Returns
    -------
    DatetimeIndex (UTC): 09:30 local for :data:`AM_SETTLED_ROOTS`, 16:00 local for every other
    root, on the expiry date. DST is handled by localising each date in ``tz``.
    """
    roots_s = roots if isinstance(roots, pd.Series) else pd.Series(list(roots), dtype="str")
    dates = pd.to_datetime(pd.Series(expiries).to_numpy()).to_numpy(dtype="datetime64[ns]")
    if dates.size == 0:
        return pd.DatetimeIndex([], dtype="datetime64[ns, UTC]")
    day = dates.astype("datetime64[D]").astype("datetime64[ns]")
    am = roots_s.isin(AM_SETTLED_ROOTS).to_numpy()
    offset = np.where(am, AM_SETTLE_LOCAL.value, PM_SETTLE_LOCAL.value).astype("timedelta64[ns]")
    local = day + offset
    # localise each distinct local time once (a chain has ~100 distinct settle times)
    uniq, inv = np.unique(local, return_inverse=True)
    utc = pd.DatetimeIndex(uniq).tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward").tz_convert("UTC")
    return utc[inv.ravel()]

def validate_chain(chain: Chain) -> None:
    """Refuse a chain that cannot be analysed, naming the source and the field.

    Checks: ``as_of`` is tz-aware; ``spot`` is a finite positive number; the contracts frame has
    every :data:`flows.schema.CHAIN_COLUMNS` column and at least one row; symbols are unique;
    no negative open interest; strikes positive; at least one positive implied volatility (a
    chain whose IV is zero or missing everywhere is a broken download, not a quiet market).

    Raises
    ------
    InputError
    """
    src = chain.source
    if not isinstance(chain.as_of, pd.Timestamp) or chain.as_of.tzinfo is None:
        raise InputError(src, "as_of", f"snapshot time must be a tz-aware timestamp, got {chain.as_of!r}")
    try:
        spot = float(chain.spot)
    except (TypeError, ValueError):
        raise InputError(src, "spot", f"spot is not a number: {chain.spot!r}") from None
    if not np.isfinite(spot) or spot <= 0:
        raise InputError(src, "spot", f"spot must be a finite positive price, got {chain.spot!r}")
    c = chain.contracts
    missing = [col for col in CHAIN_COLUMNS if col not in c.columns]
    if missing:
        raise InputError(src, missing[0], f"contracts frame lacks column(s) {', '.join(missing)}")
    if len(c) == 0:
        raise InputError(src, "contracts", "empty chain: no option rows")
    dup = c["symbol"].duplicated()
    if dup.any():
        raise InputError(src, "symbol", f"{int(dup.sum())} duplicate option symbols, e.g. {c.loc[dup, 'symbol'].iloc[0]}")
    oi = pd.to_numeric(c["open_interest"], errors="coerce").to_numpy(dtype=float)
    if np.isnan(oi).any():
        raise InputError(src, "open_interest", f"{int(np.isnan(oi).sum())} contracts with missing open interest")
    if (oi < 0).any():
        raise InputError(src, "open_interest", f"{int((oi < 0).sum())} contracts with negative open interest, e.g. {c.loc[oi < 0, 'symbol'].iloc[0]}")
    strike = pd.to_numeric(c["strike"], errors="coerce").to_numpy(dtype=float)
    if not (np.isfinite(strike) & (strike > 0)).all():
        raise InputError(src, "strike", "strikes must be finite and positive")
    iv = pd.to_numeric(c["iv"], errors="coerce").to_numpy(dtype=float)
    if not (np.nan_to_num(iv) > 0).any():
        raise InputError(src, "iv", "implied volatility is zero or missing on every contract")
