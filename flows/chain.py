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

import re
from collections.abc import Iterable, Mapping
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
    return pd.DataFrame(
        {
            "row": pd.Series(dtype="int64"),
            "field": pd.Series(dtype="str"),
            "reason": pd.Series(dtype="str"),
        }
    )


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
    _validated: tuple[object, ...] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def is_validated(self) -> bool:
        """True when :func:`validate_chain` passed on exactly these contracts, spot and time
        (the parsers validate; :func:`flows.gamma.analyze` then does not check again).  A chain
        is a snapshot: change the contracts by building a new Chain (or a new frame), and it is
        checked again."""
        v = self._validated
        if v is None or v[0] is not self.contracts:
            return False
        return all(a is b or a == b for a, b in zip(v[1:], _fingerprint(self)[1:], strict=True))


def underlying_from_root(root: str) -> str:
    """``SPXW`` -> ``SPX``, ``VIXW`` -> ``VIX`` (:func:`flows.products.underlying_of_root`)."""
    return products.underlying_of_root(root)


def _parse_dates(values: pa.Array, fmt: str) -> np.ndarray:
    """Parse date strings via their distinct values (a chain has few expiries); NaT if invalid."""
    enc = pc.dictionary_encode(values)
    parsed = pd.to_datetime(
        pd.Series(enc.dictionary, dtype="str"), format=fmt, errors="coerce"
    ).to_numpy(dtype="datetime64[ns]")
    codes = enc.indices.to_numpy(zero_copy_only=False)
    nat = np.datetime64("NaT", "ns")
    if parsed.size == 0:
        return np.full(len(values), nat)
    valid = (
        ~np.isnan(codes.astype(np.float64))
        if codes.dtype.kind == "f"
        else np.ones(len(codes), dtype=bool)
    )
    return np.where(valid, parsed[np.nan_to_num(codes, nan=0).astype(np.int64)], nat)


@dataclass
class OsiFields:
    """OSI symbols split once, column-wise (:func:`osi_fields`).

    ``ok`` (bool, the symbol is an OSI symbol), ``symbol`` (Arrow string array: the normalised
    compact symbol, null where not ok), ``root_code`` (int, index into ``roots``; -1 where not
    ok), ``roots`` (the distinct roots), ``expiry`` (datetime64[ns], NaT where not ok or not a
    date), ``is_call`` (bool) and ``strike`` (float, NaN where not ok).
    """

    ok: np.ndarray
    symbol: pa.Array
    root_code: np.ndarray
    roots: list[str]
    expiry: np.ndarray
    is_call: np.ndarray
    strike: np.ndarray

    def root(self) -> pa.Array:
        """The root of each symbol as an Arrow string array (null where not ok)."""
        names = pa.array(self.roots + [None], type=pa.string())
        return names.take(pa.array(np.where(self.root_code >= 0, self.root_code, len(self.roots))))


_DIGIT_LO = ord("0")
_TAIL = 15
"""Characters after the root: YYMMDD (6), C/P (1), strike x 1000 (8)."""


def _as_string_array(symbols: Iterable[str] | pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    """Symbols as one Arrow ``string`` array (from a Series, an Arrow array or any iterable)."""
    if isinstance(symbols, pd.Series):
        if isinstance(symbols.array, pd.arrays.ArrowStringArray):
            symbols = pa.array(symbols.array)
        else:
            symbols = symbols.to_numpy(dtype=object, na_value=None)
    if not isinstance(symbols, (pa.Array, pa.ChunkedArray)):
        values = symbols if isinstance(symbols, np.ndarray) else list(symbols)
        symbols = pa.array(values, type=pa.string(), from_pandas=True)
    if isinstance(symbols, pa.ChunkedArray):
        symbols = symbols.combine_chunks()
    return symbols if symbols.type == pa.string() else symbols.cast(pa.string())


def _buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (int32, ``len + 1``) and data bytes of a string/binary array, without copying."""
    n = len(arr)
    bufs = arr.buffers()
    offsets = (
        np.frombuffer(bufs[1], dtype=np.int32, count=n + 1, offset=arr.offset * 4)
        if n
        else np.zeros(1, dtype=np.int32)
    )
    data = (
        np.frombuffer(bufs[2], dtype=np.uint8)
        if n and bufs[2] is not None
        else np.zeros(0, dtype=np.uint8)
    )
    return offsets, data


_ONES = np.frombuffer(bytes([1] * 8), dtype=np.uint64)[0]


def _rows_all(mask: np.ndarray) -> np.ndarray:
    """``mask.all(axis=1)`` for a (n, k <= 16) bool matrix, two 8-byte words per row."""
    n, k = mask.shape
    padded = np.ones((n, 16), dtype=np.uint8)
    padded[:, :k] = mask
    words = padded.view(np.uint64)
    return np.asarray((words[:, 0] == _ONES) & (words[:, 1] == _ONES))


def _yymmdd_dates(values: np.ndarray) -> np.ndarray:
    """``YYMMDD`` integers -> ``datetime64[ns]`` (NaT for -1 or an impossible date), by the
    ``%y`` rule of ``strptime``: 69-99 are 1969-1999, 00-68 are 2000-2068."""
    yy, mm, dd = values // 10000, values // 100 % 100, values % 100
    year = np.where(yy >= 69, 1900 + yy, 2000 + yy)
    month = ((year - 1970) * 12 + (mm - 1)).astype("datetime64[M]")
    day = month.astype("datetime64[D]") + (dd - 1)
    valid = (
        (values >= 0) & (mm >= 1) & (mm <= 12) & (dd >= 1) & (day.astype("datetime64[M]") == month)
    )
    return np.where(valid, day.astype("datetime64[ns]"), np.datetime64("NaT", "ns"))


def osi_fields(symbols: Iterable[str] | pd.Series | pa.Array) -> OsiFields:
    """Split OSI option symbols into their fields, vectorised on the symbols' bytes.

    The compact form (``SPXW230915C04500000``) and the padded 21-character form (``SPXW
    230915C04500000``) are accepted, in any case: spaces are removed and letters upper-cased
    first.  A symbol is ``root`` (1-6 characters of ``A-Z``, ``0-9``, ``.``), ``YYMMDD``,
    ``C``/``P``, strike x 1000 in 8 digits (:data:`OSI_PATTERN`).  The fields after the root have
    fixed width: the last 15 bytes of every symbol are sliced into one (n, 15) byte matrix and
    checked and read there (no per-symbol Python, no regular expression); distinct roots and
    expiries are checked and parsed once each.
    """
    arr = _as_string_array(symbols)
    n = len(arr)
    offsets, data = _buffers(arr)
    region = data[offsets[0] : offsets[-1]]
    if region.size and (
        (region == ord(" ")).any() or ((region >= ord("a")) & (region <= ord("z"))).any()
    ):
        arr = pc.utf8_upper(pc.replace_substring(arr, " ", ""))  # the normalised form
        offsets, data = _buffers(arr)
    length = np.diff(offsets.astype(np.int64))
    ok = (length >= _TAIL + 1) & (length <= _TAIL + 6)
    if arr.null_count:
        ok &= arr.is_valid().to_numpy(zero_copy_only=False)
    raw = arr.cast(pa.binary())  # zero-copy view: slices count bytes (non-ASCII fails the classes)
    tail_arr = pc.binary_slice(raw, -_TAIL)
    t_off, t_data = _buffers(tail_arr)
    if n and (np.diff(t_off) == _TAIL).all():
        tail = t_data[t_off[0] : t_off[0] + n * _TAIL].reshape(n, _TAIL)
    else:  # short or missing symbols (not OSI anyway): gather the well-formed ones
        tail = np.zeros((n, _TAIL), dtype=np.uint8)
        if ok.any():
            tail[ok] = data[offsets[1:][ok, None].astype(np.int64) - _TAIL + np.arange(_TAIL)]
    digit = (tail - np.uint8(_DIGIT_LO)) < 10
    digit[:, 6] = (tail[:, 6] == ord("C")) | (tail[:, 6] == ord("P"))
    ok &= _rows_all(digit)  # YYMMDD, C or P, 8 digits
    # the root: its distinct values are few (SPX, SPXW): each checked once
    enc = pc.binary_slice(raw, 0, -_TAIL).dictionary_encode()
    codes = enc.indices.to_numpy(zero_copy_only=False)
    codes = (
        np.where(np.isnan(codes), -1, codes).astype(np.int64)
        if codes.dtype.kind == "f"
        else codes.astype(np.int64)
    )
    names = [
        v.decode("ascii", "replace") if v is not None else "" for v in enc.dictionary.to_pylist()
    ]
    good = np.array(
        [bool(re.fullmatch(r"[A-Z0-9.]{1,6}", v)) and v.isascii() for v in names] + [False],
        dtype=bool,
    )
    ok &= good[codes]
    used = (
        np.flatnonzero(np.bincount(codes[ok], minlength=len(names) + 1))
        if ok.any()
        else np.zeros(0, dtype=np.int64)
    )
    roots = [names[i] for i in used]
    remap = np.full(len(names) + 1, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    root_code = np.where(ok, remap[codes], -1)
    # numbers from the digit matrix; distinct expiries turned into dates once
    strike_units = (tail[:, 7:].astype(np.int64) - _DIGIT_LO) @ (
        10 ** np.arange(7, -1, -1, dtype=np.int64)
    )
    yymmdd = np.where(
        ok,
        (tail[:, :6].astype(np.int64) - _DIGIT_LO) @ (10 ** np.arange(5, -1, -1, dtype=np.int64)),
        -1,
    )
    exp_code, uexp = pd.factorize(yymmdd)
    expiry = (
        _yymmdd_dates(np.asarray(uexp))[exp_code] if n else np.array([], dtype="datetime64[ns]")
    )
    return OsiFields(
        ok=ok,
        symbol=pc.if_else(pa.array(ok), arr, pa.scalar(None, pa.string())) if not ok.all() else arr,
        root_code=root_code,
        roots=roots,
        expiry=np.where(ok, expiry, np.datetime64("NaT", "ns")),
        is_call=ok & (tail[:, 6] == ord("C")),
        strike=np.where(ok, strike_units / 1000.0, np.nan),
    )


def parse_osi(symbols: Iterable[str] | pd.Series) -> pd.DataFrame:
    """Split OSI option symbols into root, expiry, type and strike (vectorised).

    Accepts the compact form (``SPXW230915C04500000``) and the padded 21-character form
    (``SPXW  230915C04500000``); spaces are removed first. The symbol is ``root`` (1-6 chars),
    ``YYMMDD``, ``C``/``P``, strike x 1000 in 8 digits (:data:`OSI_PATTERN`); see
    :func:`osi_fields`, which this wraps.

    Returns
    -------
    DataFrame indexed like the input with ``symbol`` (the normalised compact symbol), ``root`` (str), ``expiry`` (datetime64, tz-naive
    date), ``type`` (``'C'``/``'P'``) and ``strike`` (float, strike = 8 digits / 1000). Symbols
    that do not match give NaN/NaT in every column (the caller decides whether that is fatal).
    """
    index = symbols.index if isinstance(symbols, pd.Series) else None
    f = osi_fields(symbols)
    kind = np.where(f.is_call, "C", "P").astype(object)
    kind[~f.ok] = None
    out = pd.DataFrame(
        {
            "symbol": pd.Series(f.symbol, dtype="str"),
            "root": pd.Series(f.root(), dtype="str"),
            "expiry": f.expiry,
            "type": pd.Series(kind, dtype="str"),
            "strike": f.strike,
        }
    )
    if index is not None:
        out.index = index
    return out


def settlement_times(
    roots: Iterable[str] | pd.Series,
    expiries: Iterable[object] | pd.Series,
    calendar: str = calendars.DEFAULT_CALENDAR,
) -> pd.DatetimeIndex:
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


def _fingerprint(chain: Chain) -> tuple[object, ...]:
    """What a validation vouches for: the contracts frame object (held, so its id cannot be
    reused) and its length, the spot, the time and the source."""
    return (
        chain.contracts,
        id(chain.contracts),
        len(chain.contracts),
        chain.spot,
        chain.as_of,
        chain.source,
    )


def _numbers(col: pd.Series) -> np.ndarray:
    """``pd.to_numeric(col, errors="coerce")`` as float64 (NaN where not a number), without its
    per-call cost when the column is numeric already (numpy float or integer: the same values)."""
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "fiu":
        return np.asarray(col.to_numpy(dtype=np.float64))
    return np.asarray(pd.to_numeric(col, errors="coerce").to_numpy(dtype=float))


def _not_a_time(col: pd.Series) -> np.ndarray:
    """Where ``pd.DatetimeIndex(col)`` is NaT; a datetime column (tz-aware or not) is read as
    its datetime64 values, not copied (a DatetimeIndex costs ~10x more on a small chain)."""
    if isinstance(col.dtype, pd.DatetimeTZDtype) or (
        isinstance(col.dtype, np.dtype) and col.dtype.kind == "M"
    ):
        return np.asarray(np.isnat(np.asarray(col.array, dtype=col.dtype.base)))
    return np.asarray(pd.DatetimeIndex(col).isna())


def _any_quote(c: pd.DataFrame) -> bool:
    """Whether one contract has a quote an IV can be solved from (:func:`flows.gamma.analyze`'s
    rule for a mid: ``ask > 0`` and ``0 <= bid <= ask``)."""
    bid, ask = _numbers(c["bid"]), _numbers(c["ask"])
    with np.errstate(invalid="ignore"):
        return bool(((ask > 0) & (bid >= 0) & (ask >= bid)).any())


def validate_chain(
    chain: Chain,
    *,
    symbols_unique: bool = False,
    columns: Mapping[str, np.ndarray] | None = None,
) -> None:
    """Refuse a chain that cannot be analysed, naming the source and the field.

    Checks: ``as_of`` is tz-aware; ``spot`` is a finite positive number; the contracts frame has
    every :data:`flows.schema.CHAIN_COLUMNS` column and at least one row; symbols are unique;
    every contract has a settlement instant; no missing or negative open interest; strikes positive; at least one positive implied volatility or, where
    the source sends none (0 or missing on every contract), at least one quote to solve the IVs
    from (a chain with neither is a broken download, not a quiet market).
    ``symbols_unique=True``: the caller (a parser that keyed every contract) already knows the
    symbols are unique.  ``columns``: a parser that built the contracts frame from its own
    arrays passes them (``open_interest``, ``strike``, ``iv`` float64, ``settle_time``
    datetime64), the frame's values, not copies: they are checked instead of the frame's
    columns (four pandas column reads cost more than the checks on a small chain).  On success
    the chain is marked (:meth:`Chain.is_validated`).

    Raises
    ------
    InputError
    """
    src = chain.source
    if not isinstance(chain.as_of, pd.Timestamp) or chain.as_of.tzinfo is None:
        raise InputError(
            src, "as_of", f"snapshot time must be a tz-aware timestamp, got {chain.as_of!r}"
        )
    try:
        spot = float(chain.spot)
    except (TypeError, ValueError):
        raise InputError(src, "spot", f"spot is not a number: {chain.spot!r}") from None
    if not np.isfinite(spot) or spot <= 0:
        raise InputError(src, "spot", f"spot must be a finite positive price, got {chain.spot!r}")
    c = chain.contracts
    # (lookups in the columns' hash table, built once per Index: a parser's frames share one;
    # listing an Arrow-backed Index costs several times more)
    missing = [col for col in CHAIN_COLUMNS if col not in c.columns]
    if missing:
        raise InputError(src, missing[0], f"contracts frame lacks column(s) {', '.join(missing)}")
    if len(c) == 0:
        raise InputError(src, "contracts", "empty chain: no option rows")
    if not symbols_unique and not c["symbol"].is_unique:
        dup = c["symbol"].duplicated()
        raise InputError(
            src,
            "symbol",
            f"{int(dup.sum())} duplicate option symbols, e.g. {c.loc[dup, 'symbol'].iloc[0]}",
        )
    oi = _numbers(c["open_interest"]) if columns is None else columns["open_interest"]
    if np.isnan(oi).any():
        raise InputError(
            src, "open_interest", f"{int(np.isnan(oi).sum())} contracts with missing open interest"
        )
    if (oi < 0).any():
        raise InputError(
            src,
            "open_interest",
            f"{int((oi < 0).sum())} contracts with negative open interest, e.g. {c.loc[oi < 0, 'symbol'].iloc[0]}",
        )
    no_settle = (
        _not_a_time(c["settle_time"]) if columns is None else np.isnat(columns["settle_time"])
    )
    if no_settle.any():
        raise InputError(
            src,
            "settle_time",
            f"{int(no_settle.sum())} contracts without a settlement instant (expiry missing or outside the exchange calendar), e.g. {c.loc[no_settle, 'symbol'].iloc[0]}",
        )
    strike = _numbers(c["strike"]) if columns is None else columns["strike"]
    if not (np.isfinite(strike) & (strike > 0)).all():
        raise InputError(src, "strike", "strikes must be finite and positive")
    iv = _numbers(c["iv"]) if columns is None else columns["iv"]
    if not (iv > 0).any() and not _any_quote(c):  # (NaN and -inf are not positive, +inf is)
        raise InputError(
            src,
            "iv",
            "implied volatility is zero or missing on every contract, and no contract has a "
            "quote (ask > 0, 0 <= bid <= ask) to solve it from",
        )
    chain._validated = _fingerprint(chain)
