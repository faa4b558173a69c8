"""One option-chain snapshot, the common shape every chain source produces.

A :class:`Chain` is what a source's pure ``parse`` step returns (CBOE quote-table CSV, CBOE
delayed-quotes JSON, the sample generator) and what :func:`flows.gamma.analyze` consumes.

Contracts are keyed by their OSI option symbol (``SPXW230915C04500000``): the AM-settled ``SPX``
monthly and the PM-settled ``SPXW`` weekly at the same expiry and strike are two contracts, and
half-dollar strikes are never rounded.

Settlement instants (:func:`settlement_times`)
----------------------------------------------
From the product table (:mod:`flows.products`) and the exchange calendar
(:mod:`flows.calendars`): AM-settled products (``SPX``, ``NDX``, ``RUT``, ``DJX`` monthlies,
``VIX``/``VIXW`` on the Wednesday Special Opening Quotation) settle at the open of their
settlement session, everything else at that session's close (13:00 ET on early-close days).  The
settlement session is the listed expiry date, or the previous session when that date is not one
(Good Friday -> Thursday).  No clock time is written here.

Optional contract columns
-------------------------
:data:`DEALER_POSITION_COLUMN` (a source's own dealer positions), :data:`FORWARD_COLUMN` (the
futures price a futures-priced product such as VIX options is valued off, per contract) and
:data:`UNREADABLE_COLUMN` (a parser's mark that an IV, gamma or quote cell was present but not a
number, so the engine can count what it could not repair).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from flows import calendars, products
from flows.errors import InputError
from flows.quality import Quality
from flows.schema import CHAIN_COLUMNS

EXCHANGE_TZ = calendars.EXCHANGE_TZ

DEALER_POSITION_COLUMN = "dealer_position_contracts"
"""Optional chain column: signed dealer position per contract (+ = dealers long), contracts.

Public files do not carry it; a source that knows dealer positioning may add it, and
:func:`flows.gamma.analyze` then reports a ``source_position`` convention."""

FORWARD_COLUMN = "forward"
"""Optional chain column: the futures price (index points) a futures-priced contract is valued
off (VIX options: the VIX future of the contract's expiry); NaN where the source gives none, and
the engine then derives it by put-call parity (:func:`flows.gamma.parity_forward`)."""

UNREADABLE_COLUMN = "unreadable"
"""Optional chain column (bool): the source had an IV, gamma, bid or ask cell for the contract that
was not a number ("-", "n/a"); the parser set it missing and the engine models around it."""

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
    quality:
        What the parser read, skipped and repaired (:class:`flows.quality.Quality`, basis open
        interest); ``None`` for hand-built chains.
    """

    underlying: str
    spot: float
    as_of: pd.Timestamp
    source: str
    contracts: pd.DataFrame
    skipped: pd.DataFrame = field(default_factory=empty_skipped)
    quality: Quality | None = None


def underlying_from_root(root: str) -> str:
    """``SPXW`` -> ``SPX``, ``VIXW`` -> ``VIX`` (:func:`flows.products.underlying_of_root`)."""
    return products.underlying_of_root(root)


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


def settlement_times(roots: Iterable[str] | pd.Series, expiries: Iterable[object] | pd.Series, calendar: str = calendars.DEFAULT_CALENDAR) -> pd.DatetimeIndex:
    """Settlement instant per contract, tz-aware UTC (see the module docstring).

    Parameters
    ----------
    roots:
        Option roots (``SPX``, ``SPXW``, ``SPY`` ...); the product table decides AM or PM.
    expiries:
        Listed expiry dates (tz-naive; any time of day is discarded).
    calendar:
        Exchange calendar (exchange-calendars MIC) whose sessions give the open and close.

    Returns
    -------
    DatetimeIndex (UTC), NaT where the expiry is missing or outside the calendar's range.
    """
    return products.settlement_instants(roots, expiries, calendar)[0]


def validate_chain(chain: Chain) -> None:
    """Refuse a chain that cannot be analysed, naming the source and the field.

    Checks: ``as_of`` is tz-aware; ``spot`` is a finite positive number; the contracts frame has
    every :data:`flows.schema.CHAIN_COLUMNS` column and at least one row; symbols are unique;
    every contract has a settlement instant; no missing or negative open interest; strikes positive; at least one positive implied volatility (a
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
    settle = pd.DatetimeIndex(c["settle_time"])
    if settle.isna().any():
        raise InputError(src, "settle_time", f"{int(settle.isna().sum())} contracts without a settlement instant (expiry missing or outside the exchange calendar), e.g. {c.loc[settle.isna(), 'symbol'].iloc[0]}")
    strike = pd.to_numeric(c["strike"], errors="coerce").to_numpy(dtype=float)
    if not (np.isfinite(strike) & (strike > 0)).all():
        raise InputError(src, "strike", "strikes must be finite and positive")
    iv = pd.to_numeric(c["iv"], errors="coerce").to_numpy(dtype=float)
    if not (np.nan_to_num(iv) > 0).any():
        raise InputError(src, "iv", "implied volatility is zero or missing on every contract")
