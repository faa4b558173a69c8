"""Listed option products: one table of what each option root is, and the rules built on it.

Every fact flowdesk needs about an option *product* lives in :data:`PRODUCTS` (option roots) and
:data:`CASH_INDICES` (the indices they settle on); nothing else in the code base lists roots.
From the table:

* **Settlement instant** (:func:`settlement_instants`): the settlement session is the listed
  expiry date, or the last exchange session before it when that date is not a session (a Good
  Friday third-Friday expiry settles on the Thursday, a holiday Wednesday VIX settlement on the
  Tuesday).  ``AM``-settled products settle on the opening quotation of that session (its open,
  from the exchange calendar), ``PM``-settled ones at its close (13:00 ET on early-close days
  such as the day after Thanksgiving).  All instants come from :mod:`flows.calendars`; there is
  no clock time in this module.
* **Which contracts belong to a chain, and in which units** (:func:`classify_roots`): each
  root's underlying level relative to the chain's underlying (``XSP`` = 1/10 ``SPX``, ``NQX`` =
  1/5 ``NDX``, ``XND`` = 1/100 ``NDX``, ``MRUT`` = 1/10 ``RUT``), whether it is priced off a
  futures price (VIX options: the VIX future of their expiry), and whether its deliverable is
  standard.
* **Cash indices on the CBOE CDN** (:func:`cdn_index_symbols`): the symbols that take a leading
  underscore (``_SPX``) on ``cdn.cboe.com``.

Rules for roots not in the table
--------------------------------
* A root that equals the chain's underlying (letters and digits compared, so ``BRKB`` matches
  ``BRK.B``) is a standard equity or ETF option: American, PM-settled on the expiry date,
  100 shares (:func:`default_product`).
* A root ending in a digit (``SDS1``, ``LCID1``) is an **adjusted series**: after a split,
  reverse split, spin-off or merger the OCC adjusts the deliverable (e.g. 20 shares instead of
  100, plus cash) and lists the series under a new root.  Such a contract is modelled only when
  the desk gives its deliverable (:class:`Deliverable`, ``[gamma.deliverables]`` in the
  configuration): per-unit strike ``(strike * 100 - cash) / shares`` and ``shares`` units of the
  underlying per contract.  Without it, it is excluded from every figure and listed.
* Any other root (not in the table and not the chain's underlying) has an unknown deliverable
  and is excluded the same way.

Sources of the table (product specifications as published by the listing exchanges): Cboe
product specifications for SPX/SPXW (AM-settled standard monthlies on the Special Opening
Quotation, PM-settled weeklies/end-of-month/quarterlies), XSP ("1/10th the value of the S&P 500",
PM-settled since November 2013; the AM-settled contract then traded as XSPAM), RUT/RUTW and
MRUT ("1/10th the value of the Russell 2000", PM-settled), DJX ("1/100th of the DJIA", settlement
value from the opening prices), OEX/XEO (S&P 100, settlement on the closing prices; OEX American,
XEO European), VIX/VIXW (settlement on the Special Opening Quotation of the VIX Index, usually a
Wednesday 30 days before the following SPX monthly; priced off the VIX future expiring on the
same date); Nasdaq product specifications for NDX (AM-settled on the Nasdaq Official Opening
Price), NDXP (PM-settled), XND (Nasdaq-100 Micro, 1/100th of NDX, PM-settled) and NQX
(Nasdaq-100 Reduced Value, 1/5th of NDX, European, PM-settled).  Historical roots SPXQ
(end-of-quarter) and SPXPM (the 2011 PM-settled SPX pilot) are PM-settled.  Every product has a
$100 multiplier.  VIX futures trade in ticks of 0.05 index points (CFE VX specification).

Pure: data and vectorised rules, no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from flows import calendars

AM = "AM"
"""Settles on the opening quotation of the settlement session (the session's open)."""
PM = "PM"
"""Settles at the close of the settlement session (13:00 ET on early-close days)."""

STANDARD_MULTIPLIER = 100.0
"""Units of the underlying per standard listed contract (index options: USD 100 per point)."""


@dataclass(frozen=True)
class CashIndex:
    """A cash index: its level is ``scale`` times the level of ``family``'s base index."""

    symbol: str
    name: str
    family: str
    scale: float = 1.0


@dataclass(frozen=True)
class OptionProduct:
    """One option root.

    Attributes
    ----------
    root:
        OSI option root (``SPXW``).
    underlying:
        What the contract settles on: a :data:`CASH_INDICES` symbol, or the ETF/equity ticker.
    underlying_kind:
        ``index``, ``etf``, ``equity`` or ``vix_future`` (priced off the VIX future of the
        contract's own expiry, not the cash index).
    exercise:
        ``European`` or ``American``.
    settlement:
        :data:`AM` (opening quotation) or :data:`PM` (close).
    settlement_day:
        The settlement-day rule, in words (the listed expiry date carries it; a date that is not
        a session moves to the previous session).
    multiplier:
        Units of the underlying (or USD per index point) per contract.
    futures_tick:
        Tick of the futures price the product is priced off (``vix_future`` only), index points.
    """

    root: str
    underlying: str
    underlying_kind: str
    exercise: str
    settlement: str
    settlement_day: str
    multiplier: float = STANDARD_MULTIPLIER
    futures_tick: float | None = None


_THIRD_FRIDAY = "third Friday (previous session if not a session)"
_EXPIRY_DAY = "listed expiry date (previous session if not a session)"
_VIX_DAY = "Wednesday 30 days before the next SPX monthly, Special Opening Quotation (previous session if not a session)"

CASH_INDICES: dict[str, CashIndex] = {
    ix.symbol: ix
    for ix in (
        CashIndex("SPX", "S&P 500 Index", "SPX"),
        CashIndex("XSP", "Mini-SPX Index (1/10 of SPX)", "SPX", 0.1),
        CashIndex("NANOS", "S&P 500 Nanos Index (1/100 of SPX)", "SPX", 0.01),
        CashIndex("SPESG", "S&P 500 ESG Index", "SPESG"),
        CashIndex("NDX", "Nasdaq-100 Index", "NDX"),
        CashIndex("NQX", "Nasdaq-100 Reduced Value Index (1/5 of NDX)", "NDX", 0.2),
        CashIndex("XND", "Nasdaq-100 Micro Index (1/100 of NDX)", "NDX", 0.01),
        CashIndex("RUT", "Russell 2000 Index", "RUT"),
        CashIndex("MRUT", "Mini-Russell 2000 Index (1/10 of RUT)", "RUT", 0.1),
        CashIndex("DJX", "Dow Jones Industrial Average / 100", "DJX"),
        CashIndex("OEX", "S&P 100 Index", "OEX"),
        CashIndex("XEO", "S&P 100 Index (European-style options' symbol)", "OEX"),
        CashIndex("VIX", "Cboe Volatility Index", "VIX"),
        CashIndex("SOX", "PHLX Semiconductor Index", "SOX"),
    )
}
"""Cash indices: symbol -> family and level relative to the family's base index."""

PRODUCTS: dict[str, OptionProduct] = {
    p.root: p
    for p in (
        OptionProduct("SPX", "SPX", "index", "European", AM, _THIRD_FRIDAY),
        OptionProduct("SPXW", "SPX", "index", "European", PM, _EXPIRY_DAY),
        OptionProduct("SPXQ", "SPX", "index", "European", PM, "last session of the quarter"),
        OptionProduct("SPXPM", "SPX", "index", "European", PM, _THIRD_FRIDAY),
        OptionProduct("XSP", "XSP", "index", "European", PM, _EXPIRY_DAY),
        OptionProduct("XSPAM", "XSP", "index", "European", AM, _THIRD_FRIDAY),
        OptionProduct("NDX", "NDX", "index", "European", AM, _THIRD_FRIDAY),
        OptionProduct("NDXP", "NDX", "index", "European", PM, _EXPIRY_DAY),
        OptionProduct("NQX", "NQX", "index", "European", PM, _EXPIRY_DAY),
        OptionProduct("XND", "XND", "index", "European", PM, _EXPIRY_DAY),
        OptionProduct("RUT", "RUT", "index", "European", AM, _THIRD_FRIDAY),
        OptionProduct("RUTW", "RUT", "index", "European", PM, _EXPIRY_DAY),
        OptionProduct("MRUT", "MRUT", "index", "European", PM, _EXPIRY_DAY),
        OptionProduct("DJX", "DJX", "index", "European", AM, _THIRD_FRIDAY),
        OptionProduct("DJXW", "DJX", "index", "European", PM, _EXPIRY_DAY),
        OptionProduct("OEX", "OEX", "index", "American", PM, _EXPIRY_DAY),
        OptionProduct("XEO", "OEX", "index", "European", PM, _EXPIRY_DAY),
        OptionProduct("VIX", "VIX", "vix_future", "European", AM, _VIX_DAY, futures_tick=0.05),
        OptionProduct(
            "VIXW",
            "VIX",
            "vix_future",
            "European",
            AM,
            "weekly Wednesday, Special Opening Quotation (previous session if not a session)",
            futures_tick=0.05,
        ),
    )
}
"""Option roots with a rule of their own (index products); ETFs and equities follow
:func:`default_product`."""

KNOWN_ETFS: frozenset[str] = frozenset(
    {
        "SPY",
        "QQQ",
        "IWM",
        "DIA",
        "MDY",
        "GLD",
        "SLV",
        "TLT",
        "IEF",
        "HYG",
        "LQD",
        "EEM",
        "EFA",
        "FXI",
        "EWZ",
        "XLF",
        "XLE",
        "XLK",
        "XLV",
        "XLI",
        "XLY",
        "XLP",
        "XLU",
        "SMH",
        "SOXX",
        "KRE",
        "XBI",
        "ARKK",
        "USO",
        "UNG",
        "UVXY",
        "VXX",
        "SVXY",
        "TQQQ",
        "SQQQ",
        "SOXL",
        "SOXS",
        "UPRO",
        "SPXU",
        "SSO",
        "SDS",
        "QLD",
        "QID",
        "TNA",
        "TZA",
    }
)
"""ETFs/ETNs whose options follow the default rule but are labelled ``etf`` (documentation only:
ETF and equity options are treated alike)."""

_ADJUSTED_ROOT = re.compile(r"^[A-Z][A-Z.]*[0-9]+$")
"""An adjusted-series root: letters followed by a digit suffix (``SDS1``, ``LCID1``)."""

STATUS_STANDARD = "standard"
STATUS_DELIVERABLE = "deliverable"
STATUS_NONSTANDARD = "non-standard"
STATUS_OTHER_UNDERLYING = "other underlying"


@dataclass(frozen=True)
class Deliverable:
    """Deliverable of one contract of an adjusted series, as the desk enters it.

    ``shares`` of the chain's underlying per contract (20 after a 1-for-5 reverse split of a
    100-share contract) and optional ``cash`` (USD per contract).  Exercise pays
    ``shares * S + cash - strike * 100``, i.e. ``shares`` options on one share at the per-share
    strike ``(strike * 100 - cash) / shares``.
    """

    shares: float
    cash: float = 0.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.shares) and self.shares > 0):
            raise ValueError(f"deliverable shares must be a positive number, got {self.shares!r}")
        if not (np.isfinite(self.cash) and self.cash >= 0):
            raise ValueError(
                f"deliverable cash must be a finite amount of 0 or more, got {self.cash!r}"
            )


def _alnum(symbol: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(symbol).upper())


def default_product(root: str) -> OptionProduct:
    """The default rule for a plain root equal to its chain's underlying (ETF, equity, index)."""
    r = str(root).upper()
    if r in CASH_INDICES:
        return OptionProduct(r, r, "index", "European", PM, _EXPIRY_DAY)
    return OptionProduct(r, r, "etf" if r in KNOWN_ETFS else "equity", "American", PM, _EXPIRY_DAY)


def is_adjusted_root(root: str) -> bool:
    """``SDS1``, ``LCID1``: a root with a digit suffix (OCC's adjusted series)."""
    return bool(_ADJUSTED_ROOT.match(str(root).upper())) and str(root).upper() not in PRODUCTS


def product(root: str) -> OptionProduct:
    """The table row of ``root``, else the default rule (PM-settled, American, 100 units)."""
    r = str(root).upper()
    return PRODUCTS.get(r) or default_product(r)


def level(symbol: str) -> tuple[str, float]:
    """``(family, scale)`` of an underlying: ``XSP`` -> ``("SPX", 0.1)``; equities ``(sym, 1)``."""
    s = str(symbol).upper().lstrip("_")
    if s in CASH_INDICES:
        ix = CASH_INDICES[s]
        return ix.family, ix.scale
    if s in PRODUCTS:
        return level(PRODUCTS[s].underlying)
    return _alnum(s), 1.0


def underlying_of_root(root: str) -> str:
    """The underlying a root settles on: ``SPXW`` -> ``SPX``, ``VIXW`` -> ``VIX``, ``XSP`` ->
    ``XSP``; an adjusted root is attributed to its letters (``SDS1`` -> ``SDS``, for telling a
    chain's underlying from its roots only); other roots are their own underlying."""
    r = str(root).upper()
    if r in PRODUCTS:
        return PRODUCTS[r].underlying
    if is_adjusted_root(r):
        return re.sub(r"[0-9]+$", "", r)
    return r


def cdn_index_symbols() -> frozenset[str]:
    """Symbols that take a leading underscore on Cboe's CDN (``_SPX``): the cash indices and the
    roots of index products."""
    return frozenset(CASH_INDICES) | frozenset(
        r for r, p in PRODUCTS.items() if p.underlying_kind in ("index", "vix_future")
    )


def settlement_style(roots: Iterable[str] | pd.Series) -> np.ndarray:
    """Per root: ``True`` when AM-settled (opening quotation), ``False`` when PM-settled."""
    codes, uniques = pd.factorize(
        roots if isinstance(roots, pd.Series) else np.asarray(list(roots), dtype=object)
    )
    if len(codes) == 0:
        return np.zeros(0, dtype=bool)
    am = np.array([product(str(u)).settlement == AM for u in uniques], dtype=bool)
    return np.where(codes >= 0, am[np.maximum(codes, 0)], False)


def settlement_instants(
    roots: Iterable[str] | pd.Series,
    expiries: Iterable[object] | pd.Series,
    calendar: str = calendars.DEFAULT_CALENDAR,
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Settlement instant (UTC) of each contract and whether its expiry date was moved.

    The settlement session is the expiry date, or the last session before it when the date is not
    a session (:func:`flows.calendars.session_on_or_before`).  AM-settled roots settle at that
    session's open (the opening quotation), every other root at its close (early closes
    included).  Distinct ``(style, date)`` pairs are resolved once (a chain has ~100).

    Returns
    -------
    (instants, moved):
        ``DatetimeIndex`` (UTC; NaT where the expiry is NaT or outside the calendar's range
        :data:`flows.calendars.FIRST_DAY`..:data:`flows.calendars.LAST_DAY`) and a boolean
        array, True where the settlement session is before the listed date.
    """
    am = settlement_style(roots)
    raw = (
        expiries.to_numpy()
        if isinstance(expiries, pd.Series)
        else np.asarray(list(expiries) if not isinstance(expiries, np.ndarray) else expiries)
    )
    if raw.dtype.kind != "M":
        raw = pd.to_datetime(raw).to_numpy()
    days = raw.astype("datetime64[ns]")
    n = days.size
    if n == 0:
        return pd.DatetimeIndex([], dtype="datetime64[ns, UTC]"), np.zeros(0, dtype=bool)
    lo, hi = np.datetime64(calendars.FIRST_DAY, "ns"), np.datetime64(calendars.LAST_DAY, "ns")
    with np.errstate(invalid="ignore"):
        valid = ~np.isnat(days) & (days >= lo) & (days <= hi)
    nat = np.iinfo(np.int64).min
    # one int64 key per (day, style): days since the epoch * 2 + AM; -1 for no date
    day_no = days.astype("datetime64[D]").astype(np.int64)
    key = np.where(valid, day_no * 2 + am.astype(np.int64), -1)
    inv, uniq = pd.factorize(key)  # hashing: a chain's ~100 distinct keys, in O(n)
    u_valid = uniq >= 0
    u_days = (uniq[u_valid] // 2).astype("datetime64[D]").astype("datetime64[ns]")
    u_am = (uniq[u_valid] % 2).astype(bool)
    inst = np.full(len(uniq), nat, dtype=np.int64)
    moved_u = np.zeros(len(uniq), dtype=bool)
    if u_days.size:
        sessions = calendars.session_on_or_before(u_days, calendar)
        opens = calendars.session_opens(sessions, calendar).asi8
        closes = calendars.session_closes(sessions, calendar).asi8
        inst[u_valid] = np.where(u_am, opens, closes)
        moved_u[u_valid] = sessions.to_numpy(dtype="datetime64[ns]") != u_days
    out = pd.DatetimeIndex(inst[inv].astype("datetime64[ns]")).tz_localize("UTC")
    return out, moved_u[inv]


_NAT_NS = np.iinfo(np.int64).min


def settlement_instants_ns(
    roots: Sequence[str], expiries: np.ndarray, calendar: str = calendars.DEFAULT_CALENDAR
) -> np.ndarray:
    """:func:`settlement_instants`' instants as UTC int64 nanoseconds (NaT as the int64
    minimum), in numpy alone: for a parser that resolves each distinct ``(root, expiry)`` of a
    chain once (~100 of them) and cannot afford the per-call cost of DatetimeIndex lookups.
    The same rule: the session on or before the expiry date, its open for AM-settled roots, its
    close (early closes included) otherwise; NaT for a NaT date, one outside
    :data:`flows.calendars.FIRST_DAY`..:data:`flows.calendars.LAST_DAY` or before the first
    session.

    ``roots`` and ``expiries`` (dates, ``datetime64``; any time of day is discarded) align.
    """
    days = np.asarray(expiries, dtype="datetime64[D]")
    style = {r: product(r).settlement == AM for r in set(map(str, roots))}
    sessions, opens, closes = calendars.session_table(calendar)
    pos = sessions.searchsorted(days, side="right") - 1  # the session on or before
    # in the calendar's range and after its first session (NaT compares False: not valid)
    valid = (days >= _FIRST_DAY) & (days <= _LAST_DAY) & (pos >= 0)
    at = np.where(valid, pos, 0)
    if any(style.values()):  # an AM-settled root: its contracts settle at the open
        am = np.array([style[str(r)] for r in roots], dtype=bool)
        return np.where(valid, np.where(am, opens[at], closes[at]), _NAT_NS)
    return np.where(valid, closes[at], _NAT_NS)


_FIRST_DAY = np.datetime64(calendars.FIRST_DAY, "D")
_LAST_DAY = np.datetime64(calendars.LAST_DAY, "D")


def classify_roots(
    roots: Iterable[str], underlying: str, deliverables: Mapping[str, Deliverable] | None = None
) -> pd.DataFrame:
    """How each distinct root of a chain on ``underlying`` is modelled.

    Returns
    -------
    DataFrame indexed by root with columns ``status`` (:data:`STATUS_STANDARD`,
    :data:`STATUS_DELIVERABLE`, :data:`STATUS_NONSTANDARD`, :data:`STATUS_OTHER_UNDERLYING`),
    ``kind`` (underlying kind), ``units`` (units of the underlying per contract: the multiplier,
    or the deliverable's shares), ``cash`` (USD per contract in the deliverable), ``level_ratio``
    (level of the root's underlying / level of the chain's underlying; NaN when unrelated),
    ``forward_priced`` (priced off a futures price per expiry), ``futures_tick`` and ``reason``
    (why a root is excluded; empty otherwise).
    """
    deliverables = {str(k).upper(): v for k, v in (deliverables or {}).items()}
    u_family, u_scale = level(underlying)
    rows = []
    for root in dict.fromkeys(str(r).upper() for r in roots):
        rec = {
            "root": root,
            "status": STATUS_STANDARD,
            "kind": "",
            "units": STANDARD_MULTIPLIER,
            "cash": 0.0,
            "level_ratio": 1.0,
            "forward_priced": False,
            "futures_tick": np.nan,
            "reason": "",
        }
        if root in deliverables:
            d = deliverables[root]
            rec.update(
                status=STATUS_DELIVERABLE,
                kind="adjusted series",
                units=float(d.shares),
                cash=float(d.cash),
            )
        elif root in PRODUCTS:
            p = PRODUCTS[root]
            family, scale = level(p.underlying)
            rec.update(
                kind=p.underlying_kind,
                units=p.multiplier,
                forward_priced=p.underlying_kind == "vix_future",
                futures_tick=p.futures_tick if p.futures_tick else np.nan,
            )
            if family != u_family:
                rec.update(
                    status=STATUS_OTHER_UNDERLYING,
                    level_ratio=np.nan,
                    reason=f"root {root} is an option on {p.underlying}, not on the chain's underlying {underlying}",
                )
            else:
                rec["level_ratio"] = scale / u_scale
        elif is_adjusted_root(root):
            rec.update(
                status=STATUS_NONSTANDARD,
                kind="adjusted series",
                level_ratio=np.nan,
                reason=f"non-standard deliverable: {root} is an adjusted series (root with a digit suffix); give its deliverable in [gamma.deliverables] to model it",
            )
        elif _alnum(root) == _alnum(underlying) or level(root)[0] == u_family:
            p = default_product(root)
            rec.update(kind=p.underlying_kind, level_ratio=level(root)[1] / u_scale)
        else:
            rec.update(
                status=STATUS_NONSTANDARD,
                kind="unknown",
                level_ratio=np.nan,
                reason=f"non-standard: root {root} is not in the product table and is not the chain's underlying {underlying} (deliverable unknown)",
            )
        rows.append(rec)
    cols = [
        "root",
        "status",
        "kind",
        "units",
        "cash",
        "level_ratio",
        "forward_priced",
        "futures_tick",
        "reason",
    ]
    return pd.DataFrame(rows, columns=cols).set_index("root")


def table_frame() -> pd.DataFrame:
    """The product table as a frame (documentation, the README and tests)."""
    recs = []
    for p in PRODUCTS.values():
        family, scale = level(p.underlying)
        recs.append(
            {
                "root": p.root,
                "underlying": p.underlying,
                "family": family,
                "level_vs_family": scale,
                "kind": p.underlying_kind,
                "exercise": p.exercise,
                "settlement": p.settlement,
                "settlement_day": p.settlement_day,
                "multiplier": p.multiplier,
            }
        )
    return pd.DataFrame(recs)
