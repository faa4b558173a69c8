"""Sample mode: a realistic option chain generated offline, in the real CBOE formats.

The generator is deterministic: the same ``(underlying, as_of, seed)`` always gives the same bytes.
Strikes, open interest and the IV surface depend on the snapshot *date* (open interest is
published once a day); spot moves intraday with the snapshot *minute*.  Output goes through the
very parsers the live data uses (:mod:`flows.sources.cboe_csv`, :mod:`flows.sources.cboe`), so
sample mode exercises the real path end to end.

What makes it realistic
-----------------------
* Expiries: dailies (0DTE included whenever the snapshot date is a session) for index and ETF
  underlyings, Friday weeklies, third-Friday monthlies and quarterly/December LEAPS.  SPX and NDX
  list AM-settled monthlies under ``SPX``/``NDX`` and PM-settled dailies under ``SPXW``/``NDXP``
  (both roots on the third Friday, as in the real files).
* Strikes: fine steps near the money, coarser round strikes further out (multiples of 25/100 for
  SPX-like, 5/10 for SPY-like); short-dated ETF expiries add half-dollar strikes within 1 %.
* IV surface (fraction per year): ``iv = atm(T) + a(T) m + b(T) m^2`` with ``m = ln(K/F)``,
  ``a(T) = -0.15 skew / sqrt(T)`` (put skew, steeper at short maturities), ``b(T) = 0.3 skew /
  sqrt(T)`` (smile) and an upward-sloping ``atm(T)``; floored at 35 % of ATM.
* Open interest (contracts) peaks near the money, is larger for OTM puts, clusters on round
  strikes and on monthly/quarterly expiries; lognormal noise.
* Delta and gamma come from :mod:`flows.greeks` (Black-Scholes-Merton with ``r``/``q``), so the
  file's gamma is consistent with the model.  Far-OTM options worth under 0.01 have IV 0 and zero
  greeks, and contracts already settled carry zero IV/greeks: the same quirks as the real files.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from flows import calendars
from flows.products import settlement_instants

NY = ZoneInfo("America/New_York")
RATE = 0.045
"""Risk-free rate used to price the sample chain, continuously compounded, fraction per year."""
LAYOUTS = {"json": "CBOE delayed-quotes JSON", "csv": "CBOE quote table CSV"}
"""The real layouts a sample chain is written in (``[gamma] sample_format``), as the source names them."""


def source_text(underlying: str, seed: int, layout: str = "json") -> str:
    """The ``source`` of a generated chain: ``SAMPLE`` first (what the dashboard and the API
    label), then the underlying, the seed and the layout it was written in and parsed from,
    e.g. ``SAMPLE CBOE delayed quotes SPX (seed 20240105, generated in the CBOE delayed-quotes
    JSON layout)``.  ``layout``: a key of :data:`LAYOUTS`."""
    return (
        f"SAMPLE CBOE delayed quotes {underlying} (seed {seed}, generated in the "
        f"{LAYOUTS[layout]} layout)"
    )


CSV_HEADER = (
    "Expiration Date,Calls,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest,Strike,"
    "Puts,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest"
)


@dataclass(frozen=True)
class UnderlyingProfile:
    """Shape of one sample underlying (prices in the underlying's units: index points or USD)."""

    name: str
    spot: float
    kind: str
    """``index``, ``etf`` or ``equity``."""
    step: float
    """Finest strike step near the money."""
    round1: float
    round2: float
    """Round-strike multiples where open interest clusters (and the coarse far-OTM grid)."""
    atm_vol: float
    skew: float
    q: float
    pm_root: str
    am_root: str | None = None
    dailies: bool = True
    oi_scale: float = 600.0
    """Typical open interest at a round near-the-money strike of a monthly, contracts."""


PROFILES: dict[str, UnderlyingProfile] = {
    "SPX": UnderlyingProfile(
        "S&P 500 Index", 6000.0, "index", 5, 25, 100, 0.15, 1.0, 0.013, "SPXW", "SPX", True, 520
    ),
    "NDX": UnderlyingProfile(
        "Nasdaq 100 Index", 21000.0, "index", 10, 50, 250, 0.19, 0.9, 0.007, "NDXP", "NDX", True, 60
    ),
    "SPY": UnderlyingProfile(
        "SPDR S&P 500 ETF Trust", 600.0, "etf", 1, 5, 10, 0.15, 0.9, 0.013, "SPY", None, True, 1900
    ),
    "QQQ": UnderlyingProfile(
        "Invesco QQQ Trust", 520.0, "etf", 1, 5, 10, 0.19, 0.8, 0.006, "QQQ", None, True, 1400
    ),
    "IWM": UnderlyingProfile(
        "iShares Russell 2000 ETF",
        230.0,
        "etf",
        1,
        5,
        10,
        0.21,
        0.7,
        0.012,
        "IWM",
        None,
        True,
        1000,
    ),
    "NVDA": UnderlyingProfile(
        "NVIDIA Corporation",
        180.0,
        "equity",
        2.5,
        5,
        10,
        0.45,
        0.5,
        0.0003,
        "NVDA",
        None,
        False,
        2500,
    ),
    "TSLA": UnderlyingProfile(
        "Tesla Inc", 400.0, "equity", 5, 25, 50, 0.55, 0.4, 0.0, "TSLA", None, False, 1500
    ),
}
"""Plausible late-2026 levels; unknown symbols get a generic single-name profile at 100."""


@dataclass(frozen=True)
class OiShape:
    """Shape of open interest across strikes, in units of the expiry's OI width
    ``0.7 * atm_vol * sqrt(T) + 0.02`` (log-moneyness).

    Calibrated so that the sample SPX and SPY chains fall within the range of the three real
    CBOE quote tables in ``tests/data/options`` (net and gross GEX, flip distance, share of open
    interest within 5 % and 15 % of spot, put share, OI-weighted log-moneyness mean and spread;
    ``tests/sources/test_sample_realism.py``).
    """

    call_center: float = 0.35
    """Calls cluster just above the money (overwriting)."""
    call_width: float = 1.0
    put_center: float = 1.6
    """Puts further out of the money (hedges): centre ``-put_center`` widths below."""
    put_width: float = 1.3
    tail_weight: float = 0.9
    """Far out-of-the-money put tail relative to the near put bell."""
    tail_by_kind: Mapping[str, float] = field(
        default_factory=lambda: {"index": 1.0, "etf": 0.6, "equity": 0.5}
    )
    """Index options carry the most far out-of-the-money put hedges (real SPX: an OI spread of
    0.37 in log-moneyness, SPY 0.20)."""
    tail_center: float = 2.0
    tail_width: float = 0.25
    """Tail width in log-moneyness per sqrt(year) (at least one month's)."""
    call_otm: float = 1.2
    put_otm: float = 1.4
    itm: float = 0.35
    """Weights of out-of-the-money calls, puts and of in-the-money contracts."""


OI_SHAPE = OiShape()
INTRADAY_VOL = 0.003
"""Standard deviation of the snapshot's spot around the day's level (log), fraction: open
interest is set at the day's level, so this is how far spot wanders from it intraday."""


def profile_for(underlying: str) -> UnderlyingProfile:
    """The profile of ``underlying`` (a generic USD 100 single name when not in :data:`PROFILES`)."""
    u = underlying.strip().upper().lstrip("_")
    if u in PROFILES:
        return PROFILES[u]
    return UnderlyingProfile(
        f"{u} (sample)", 100.0, "equity", 1, 5, 10, 0.35, 0.5, 0.0, u[:5] or "X", None, False, 2000
    )


def _rng(seed: int, *parts: Any) -> np.random.Generator:
    # Stable across processes (str hash() is salted): CRC32 of the parts.
    key = [int(seed) & 0xFFFFFFFF] + [zlib.crc32(str(p).encode()) for p in parts]
    return np.random.default_rng(key)


def _third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def _expiries(prof: UnderlyingProfile, today: date) -> list[tuple[date, str, str]]:
    """``(expiry, root, kind)`` with kind in ``daily``/``weekly``/``monthly``/``quarterly``."""
    monthly: set[date] = set()
    y, m = today.year, today.month
    for k in range(0, 10):
        yy, mm = y + (m - 1 + k) // 12, (m - 1 + k) % 12 + 1
        d = _third_friday(yy, mm)
        if d >= today:
            monthly.add(d)
    for yy in range(y, y + 3):
        for mm in (3, 6, 9, 12):
            d = _third_friday(yy, mm)
            if d >= today:
                monthly.add(d)
    for yy in range(y + 3, y + 5):
        monthly.add(_third_friday(yy, 12))
    quarterly = {d for d in monthly if d.month in (3, 6, 9, 12)}
    short: set[date] = set()
    if prof.dailies:  # dailies: the next 10 sessions
        days = [today + timedelta(days=k) for k in range(21)]
        sessions = calendars.is_session(days)
        short.update([d for d, ok in zip(days, sessions, strict=True) if ok][:10])
    friday = today + timedelta(days=(4 - today.weekday()) % 7)
    for k in range(8):
        short.add(friday + timedelta(weeks=k))
    # a Friday (weekly, monthly) that is not a session is listed on the session before it, as
    # the exchanges list them (Good Friday -> Thursday)
    listed = sorted(short | monthly)
    moved = dict(
        zip(listed, (t.date() for t in calendars.session_on_or_before(listed)), strict=True)
    )
    monthly = {moved[d] for d in monthly}
    quarterly = {moved[d] for d in quarterly}
    short = {moved[d] for d in short}
    out: list[tuple[date, str, str]] = []
    for d in sorted(short | monthly):
        kind = (
            "quarterly"
            if d in quarterly
            else "monthly"
            if d in monthly
            else ("weekly" if d.weekday() == 4 else "daily")
        )
        if d in monthly and prof.am_root:
            out.append((d, prof.am_root, kind))
        out.append((d, prof.pm_root, kind))
    return out


def _strikes(prof: UnderlyingProfile, ref: float, t_years: float) -> np.ndarray:
    """Strikes for one expiry: fine near the money, round multiples further out."""
    half = min(0.6, max(0.06, 4.5 * prof.atm_vol * math.sqrt(max(t_years, 1 / 365))))
    lo = math.floor(ref * (1 - half) / prof.round2) * prof.round2
    hi = math.ceil(ref * (1 + half) / prof.round2) * prof.round2
    grid = np.round(np.arange(lo, hi + prof.step / 2, prof.step), 4)
    dist = np.abs(grid / ref - 1)
    on1 = np.isclose(np.mod(grid, prof.round1), 0) | np.isclose(
        np.mod(grid, prof.round1), prof.round1
    )
    on2 = np.isclose(np.mod(grid, prof.round2), 0) | np.isclose(
        np.mod(grid, prof.round2), prof.round2
    )
    keep = (dist <= 0.025) | ((dist <= 0.08) & on1) | on2
    strikes = grid[keep & (grid > 0)]
    if prof.kind == "etf" and prof.step == 1 and t_years < 8 / 365:
        # Short-dated ETF chains also list half-dollar strikes near the money (SPY 450.5).
        halves = np.arange(math.floor(ref * 0.99) + 0.5, ref * 1.01, 1.0)
        strikes = np.union1d(strikes, halves)
    return strikes


def _bsm(
    spot: float,
    strike: np.ndarray,
    t: np.ndarray,
    r: float,
    q: float,
    iv: np.ndarray,
    is_call: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Price, delta and gamma (per 1 point of the underlying, per unit) from :mod:`flows.greeks`."""
    from flows.greeks import bsm_delta, bsm_gamma, bsm_price

    return (
        bsm_price(spot, strike, t, r, q, iv, is_call),
        bsm_delta(spot, strike, t, r, q, iv, is_call),
        bsm_gamma(spot, strike, t, r, q, iv),
    )


def sample_contracts(
    underlying: str, as_of: datetime, seed: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The generated chain as one row per (expiry, root, strike) with both sides, plus quote data.

    Returns
    -------
    rows:
        Columns ``expiry`` (date), ``root``, ``strike``, and per side ``c_``/``p_`` prefixed
        ``symbol, last, net, bid, ask, volume, iv, delta, gamma, oi`` (prices in underlying
        units per unit, IV fraction, gamma per point, OI and volume contracts).
    quote:
        Underlying quote: ``name, symbol, spot, change, bid, ask, volume, as_of`` (UTC).
    """
    u = underlying.strip().upper().lstrip("_")
    prof = profile_for(u)
    ts = pd.Timestamp(as_of)
    if ts.tzinfo is None:
        raise ValueError("as_of must be tz-aware")
    now_ny = ts.tz_convert(NY)
    today = now_ny.date()
    day_rng = _rng(seed, u, today.isoformat())
    min_rng = _rng(seed, u, now_ny.strftime("%Y-%m-%dT%H:%M"))
    ref = prof.spot * math.exp(
        0.04 * day_rng.standard_normal()
    )  # the day's level (strike grid, OI)
    prev_close = ref * math.exp(0.004 * day_rng.standard_normal())
    spot = float(np.round(ref * math.exp(INTRADAY_VOL * min_rng.standard_normal()), 2))
    if prof.kind == "index":
        spot = float(np.round(spot, 4))
    r, q = RATE, prof.q
    blocks = []
    listed = _expiries(prof, today)
    # settlement instants from the product table and the exchange calendar (early closes too)
    settles = settlement_instants(
        [root for _, root, _ in listed], [pd.Timestamp(e) for e, _, _ in listed]
    )[0]
    for (expiry, root, kind), settle in zip(listed, settles, strict=True):
        t = (settle - now_ny).total_seconds() / (365.0 * 86400.0)
        strikes = _strikes(prof, ref, max(t, 0.0))
        n = len(strikes)
        blocks.append(
            pd.DataFrame(
                {
                    "expiry": [expiry] * n,
                    "root": root,
                    "kind": kind,
                    "t": t,
                    "strike": strikes,
                    "prefix": f"{root}{expiry:%y%m%d}",
                }
            )
        )
    rows = pd.concat(blocks, ignore_index=True)
    n = len(rows)
    t = rows["t"].to_numpy()
    k = rows["strike"].to_numpy()
    alive = t > 0
    te = np.where(alive, t, 1e-6)
    fwd = spot * np.exp((r - q) * te)
    m = np.log(k / fwd)
    sqt = np.sqrt(np.maximum(te, 2 / 365))
    atm = prof.atm_vol * (0.9 + 0.2 * (1 - np.exp(-2 * te)))
    iv = atm - 0.15 * prof.skew / sqt * m + 0.3 * prof.skew / sqt * m**2
    iv = np.clip(iv, 0.35 * atm, 4 * atm) * np.exp(0.01 * day_rng.standard_normal(n))
    # Open interest is set once a day: its shape follows the day's level and date, not intraday spot.
    t_day = np.array([(d - today).days + 0.5 for d in rows["expiry"]]) / 365.0
    width = 0.7 * prof.atm_vol * np.sqrt(np.maximum(t_day, 2 / 365)) + 0.02
    m = np.log(k / ref)
    # Calls cluster just above the money (overwriting), puts further out of the money (hedges),
    # which gives the usual long-gamma-above / short-gamma-below shape with a flip under spot.
    sh = OI_SHAPE
    bell_c = np.exp(-0.5 * ((m - sh.call_center * width) / (sh.call_width * width)) ** 2)
    bell_p = np.exp(-0.5 * ((m + sh.put_center * width) / (sh.put_width * width)) ** 2)
    # far out-of-the-money put hedges (portfolio protection, mostly long-dated): a broad tail
    tail_w = sh.tail_width * np.sqrt(np.maximum(t_day, 1 / 12))
    bell_p = bell_p + sh.tail_weight * sh.tail_by_kind.get(prof.kind, 1.0) * np.exp(
        -0.5 * ((m + sh.tail_center * tail_w) / tail_w) ** 2
    )
    on2 = np.isclose(np.mod(k, prof.round2), 0) | np.isclose(np.mod(k, prof.round2), prof.round2)
    on1 = np.isclose(np.mod(k, prof.round1), 0) | np.isclose(np.mod(k, prof.round1), prof.round1)
    round_w = np.where(on2, 6.0, np.where(on1, 2.5, 0.6))
    kind_w = (
        rows["kind"]
        .map({"daily": 0.5, "weekly": 1.0, "monthly": 2.5, "quarterly": 3.5})
        .to_numpy(dtype=float)
    )
    zero_dte = np.array([d == today for d in rows["expiry"]])
    kind_w = np.where(zero_dte, 0.7, kind_w) / (1 + 0.8 * t_day)
    side: dict[str, dict[str, np.ndarray]] = {}
    # OSI symbol = root + YYMMDD + C/P + strike x 1000 on 8 digits (vectorised string building)
    prefix = rows["prefix"].to_numpy(dtype=str)
    strike_code = np.char.zfill(np.round(k * 1000).astype(np.int64).astype(str), 8)
    for cp, otm, pref, bell in (
        ("C", k >= ref, sh.call_otm, bell_c),
        ("P", k <= ref, sh.put_otm, bell_p),
    ):
        is_call = np.full(n, cp == "C")
        price, delta, gamma = _bsm(spot, k, te, r, q, iv, is_call)
        moneyness_w = np.where(otm, pref, sh.itm)
        oi = prof.oi_scale * bell * round_w * kind_w * moneyness_w * day_rng.lognormal(0.0, 0.6, n)
        oi = np.floor(oi).astype(np.int64)
        vol = np.floor(
            oi * day_rng.uniform(0.0, 0.25, n) * np.where(zero_dte, 3.0, 1.0)
            + min_rng.integers(0, 3, n)
        ).astype(np.int64)
        intrinsic = np.maximum(0.0, (spot - k) if cp == "C" else (k - spot))
        price = np.where(alive, price, intrinsic)
        tiny = alive & (price < 0.01)
        dead = ~alive | tiny
        half = np.maximum(0.01 if prof.kind != "index" else 0.05, 0.015 * price)
        bid = np.where(tiny, 0.0, np.maximum(0.0, price - half))
        ask = np.where(tiny, 0.05, price + half)
        side[cp] = {
            "symbol": np.char.add(np.char.add(prefix, cp), strike_code),
            "last": np.round(np.where(vol > 0, price, 0.0), 2),
            "net": np.round(np.where(vol > 0, 0.05 * price * min_rng.standard_normal(n), 0.0), 2),
            "bid": np.round(bid, 2),
            "ask": np.round(ask, 2),
            "volume": vol,
            "iv": np.where(dead, 0.0, np.round(iv, 4)),
            "delta": np.where(dead, 0.0, np.round(delta, 4)),
            "gamma": np.where(dead, 0.0, np.round(gamma, 6)),
            "oi": oi,
        }
    for cp, cols in side.items():
        for name, values in cols.items():
            rows[f"{cp.lower()}_{name}"] = values
    rows = (
        rows.drop(columns=["prefix"])
        .sort_values(["expiry", "root", "strike"], kind="stable")
        .reset_index(drop=True)
    )
    quote = {
        "name": prof.name,
        "symbol": u,
        "cdn_symbol": f"_{u}" if prof.kind == "index" else u,
        "spot": spot,
        "change": round(spot - prev_close, 4),
        "prev_close": round(prev_close, 4),
        "bid": round(spot - (0.0 if prof.kind == "index" else 0.01), 2),
        "ask": round(spot + (0.0 if prof.kind == "index" else 0.01), 2),
        "volume": int(0 if prof.kind == "index" else day_rng.integers(5_000_000, 80_000_000)),
        "as_of": ts.tz_convert("UTC"),
        "kind": prof.kind,
    }
    return rows, quote


def _num(values: np.ndarray) -> np.ndarray:
    """CBOE CSV number style, vectorised: no trailing zeros (``0.1283``, ``146.4``, ``0``)."""
    values = np.asarray(values, dtype=np.float64)
    text = np.char.rstrip(np.char.rstrip(np.char.mod("%.6f", values), "0"), ".")
    return np.where(values == 0, "0", text)


def sample_quotedata_csv(underlying: str, as_of: datetime, seed: int) -> str:
    """The sample chain as a CBOE quote-table CSV (``quotedata.csv``), byte layout of the real files.

    Line 1 empty, line 2 ``<name>,Last: <spot>,Change: <chg>``, line 3 ``"Date: <Month D, YYYY>
    at <h:mm AM|PM> <EDT|EST>",Bid: ..``, line 4 the 22-column header, then one row per
    (expiration, strike, root).  The snapshot time is written in New York time, to the minute.
    """
    rows, quote = sample_contracts(underlying, as_of, seed)
    t = pd.Timestamp(quote["as_of"]).tz_convert(NY)
    hour = t.hour % 12 or 12
    date_line = f"Date: {t:%B} {t.day}, {t.year} at {hour}:{t:%M} {'AM' if t.hour < 12 else 'PM'} {t.tzname()}"
    vol = (
        f'"Volume: {quote["volume"]:,}"'
        if quote["volume"] >= 1000
        else f"Volume: {quote['volume']}"
    )
    lines = [
        "",
        f"{quote['name']},Last: {quote['spot']:.4f},Change: {quote['change']: .4f}",
        f'"{date_line}",Bid: {quote["bid"]},Ask: {quote["ask"]},Size: 1*1,{vol}',
        CSV_HEADER,
    ]
    exp_txt = {d: pd.Timestamp(d).strftime("%a %b %d %Y") for d in rows["expiry"].unique()}
    cols = ["last", "net", "bid", "ask", "volume", "iv", "delta", "gamma", "oi"]
    columns: list[list[str]] = [
        rows["expiry"].map(exp_txt).tolist(),
        rows["c_symbol"].astype(str).tolist(),
    ]
    columns += [_num(rows[f"c_{name}"].to_numpy()).tolist() for name in cols]
    columns.append(np.char.mod("%.2f", rows["strike"].to_numpy(dtype=np.float64)).tolist())
    columns.append(rows["p_symbol"].astype(str).tolist())
    columns += [_num(rows[f"p_{name}"].to_numpy()).tolist() for name in cols]
    lines += [",".join(cells) for cells in zip(*columns, strict=True)]
    return "\n".join(lines) + "\n"


def sample_options_json(underlying: str, as_of: datetime, seed: int) -> dict[str, Any]:
    """The sample chain in the CBOE CDN JSON shape (``delayed_quotes/options/{SYMBOL}.json``).

    ``timestamp`` is the snapshot time in UTC without zone; option rows carry the 23 fields of
    the real response (``option``, ``bid``, ``ask``, ``iv``, ``open_interest``, ``volume``,
    ``delta``, ``gamma``, ...; sizes, volume and OI as floats as CBOE writes them).
    """
    rows, quote = sample_contracts(underlying, as_of, seed)
    t_ny = pd.Timestamp(quote["as_of"]).tz_convert(NY)
    last_trade = t_ny.strftime("%Y-%m-%dT%H:%M:%S")
    keys = (
        "option",
        "bid",
        "bid_size",
        "ask",
        "ask_size",
        "iv",
        "open_interest",
        "volume",
        "delta",
        "gamma",
        "vega",
        "theta",
        "rho",
        "theo",
        "change",
        "open",
        "high",
        "low",
        "tick",
        "last_trade_price",
        "last_trade_time",
        "percent_change",
        "prev_day_close",
    )
    options: list[dict[str, Any]] = []
    for pre in ("c", "p"):
        col = {
            name: rows[f"{pre}_{name}"].to_numpy()
            for name in (
                "symbol",
                "last",
                "net",
                "bid",
                "ask",
                "volume",
                "iv",
                "delta",
                "gamma",
                "oi",
            )
        }
        n = len(rows)
        last = col["last"].astype(np.float64)
        # Python lists (``tolist``) give plain floats/str for json; rows are zipped, not indexed.
        values = (
            col["symbol"].astype(str).tolist(),
            col["bid"].astype(np.float64).tolist(),
            [10.0] * n,
            col["ask"].astype(np.float64).tolist(),
            [10.0] * n,
            col["iv"].astype(np.float64).tolist(),
            col["oi"].astype(np.float64).tolist(),
            col["volume"].astype(np.float64).tolist(),
            col["delta"].astype(np.float64).tolist(),
            col["gamma"].astype(np.float64).tolist(),
            [0.0] * n,
            [0.0] * n,
            [0.0] * n,
            np.round((col["bid"] + col["ask"]) / 2, 4).tolist(),
            col["net"].astype(np.float64).tolist(),
            last.tolist(),
            last.tolist(),
            last.tolist(),
            ["no_change"] * n,
            last.tolist(),
            [last_trade if x > 0 else None for x in last.tolist()],
            [0.0] * n,
            np.round(last - col["net"], 4).tolist(),
        )
        options += [dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)]
    return {
        "timestamp": pd.Timestamp(quote["as_of"]).strftime("%Y-%m-%d %H:%M:%S"),
        "data": {
            "options": options,
            "symbol": quote["cdn_symbol"],
            "security_type": "index" if quote["kind"] == "index" else "stock",
            "exchange_id": 2,
            "current_price": quote["spot"],
            "price_change": quote["change"],
            "price_change_percent": round(100 * quote["change"] / quote["prev_close"], 4),
            "bid": quote["bid"],
            "ask": quote["ask"],
            "bid_size": 100,
            "ask_size": 100,
            "open": quote["prev_close"],
            "high": max(quote["spot"], quote["prev_close"]),
            "low": min(quote["spot"], quote["prev_close"]),
            "close": quote["spot"],
            "prev_day_close": quote["prev_close"],
            "volume": quote["volume"],
            "iv30": round(100 * profile_for(underlying).atm_vol, 3),
            "iv30_change": 0.0,
            "iv30_change_percent": 0.0,
            "seqno": 0,
            "last_trade_time": last_trade,
            "tick": "no_change",
        },
        "symbol": quote["cdn_symbol"],
    }


def sample_options_bytes(underlying: str, as_of: datetime, seed: int) -> bytes:
    """:func:`sample_options_json` serialised as the CDN sends it (one compact line)."""
    return json.dumps(sample_options_json(underlying, as_of, seed), separators=(",", ":")).encode()
