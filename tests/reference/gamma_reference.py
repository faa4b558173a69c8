"""Slow, obvious references for the gamma engine: plain Python, one contract at a time.

Nothing here imports ``flows``: the formulas are written out again with ``math.erf`` and the
CBOE file is read with the ``csv`` module, so the tests compare two independent implementations.
"""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

NY = ZoneInfo("America/New_York")
AM_ROOTS = {"SPX", "NDX", "RUT", "DJX"}


def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def d1(S: float, K: float, T: float, r: float, q: float, sig: float) -> float:
    return (math.log(S / K) + (r - q + 0.5 * sig * sig) * T) / (sig * math.sqrt(T))


def price(S: float, K: float, T: float, r: float, q: float, sig: float, is_call: bool) -> float:
    a = d1(S, K, T, r, q, sig)
    b = a - sig * math.sqrt(T)
    if is_call:
        return S * math.exp(-q * T) * norm_cdf(a) - K * math.exp(-r * T) * norm_cdf(b)
    return K * math.exp(-r * T) * norm_cdf(-b) - S * math.exp(-q * T) * norm_cdf(-a)


def delta(S: float, K: float, T: float, r: float, q: float, sig: float, is_call: bool) -> float:
    a = d1(S, K, T, r, q, sig)
    return math.exp(-q * T) * (norm_cdf(a) if is_call else norm_cdf(a) - 1.0)


def gamma(S: float, K: float, T: float, r: float, q: float, sig: float) -> float:
    return math.exp(-q * T) * norm_pdf(d1(S, K, T, r, q, sig)) / (S * sig * math.sqrt(T))


# ---------------------------------------------------------------------------------------------
# the CBOE quote-table file, read the plain way


def _as_of(date_cell: str) -> datetime:
    """``Date: September 14, 2023 at 4:31 PM EDT`` -> aware datetime (UTC)."""
    text = date_cell.replace("Date:", "").strip()
    text, tz = text.rsplit(" ", 1)
    naive = datetime.strptime(text, "%B %d, %Y at %I:%M %p")
    offset = {"EDT": -4, "EST": -5}[tz]
    return (naive - timedelta(hours=offset)).replace(tzinfo=UTC)


def _settle(root: str, expiry: datetime) -> datetime:
    hour, minute = (9, 30) if root in AM_ROOTS else (16, 0)
    return expiry.replace(hour=hour, minute=minute, tzinfo=NY).astimezone(UTC)


def read_plain(path: Path) -> dict:
    """Spot, snapshot time and one dict per contract, with the ``csv`` module only."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    spot = float(rows[1][1].split(":")[1])
    as_of = _as_of(rows[2][0])
    contracts = []
    for row in rows[4:]:
        if not row:
            continue
        expiry = datetime.strptime(row[0], "%a %b %d %Y")
        strike = float(row[11])
        for sym, iv, gam, oi, bid, ask, is_call in (
            (row[1], row[7], row[9], row[10], row[4], row[5], True),
            (row[12], row[18], row[20], row[21], row[15], row[16], False),
        ):
            root = sym[:-15]
            contracts.append(
                {
                    "symbol": sym,
                    "root": root,
                    "is_call": is_call,
                    "strike": strike,
                    "expiry": expiry,
                    "settle": _settle(root, expiry),
                    "iv": float(iv),
                    "gamma": float(gam),
                    "oi": float(oi),
                    "bid": float(bid),
                    "ask": float(ask),
                }
            )
    return {"spot": spot, "as_of": as_of, "contracts": contracts}


def plain_file_gex(path: Path) -> dict:
    """Spot GEX of a quote-table file with the public convention, a plain loop.

    Calls +1, puts -1; contracts settled at or before the snapshot are left out;
    ``sign * gamma * OI * 100 * S**2 * 0.01`` summed per side.
    """
    data = read_plain(path)
    S, as_of = data["spot"], data["as_of"]
    call = put = 0.0
    alive = dropped = 0
    dropped_oi = 0.0
    for c in data["contracts"]:
        if c["settle"] <= as_of:
            dropped += 1
            dropped_oi += c["oi"]
            continue
        alive += 1
        value = c["gamma"] * c["oi"] * 100 * S * S * 0.01
        if c["is_call"]:
            call += value
        else:
            put -= value
    return {
        "call": call,
        "put": put,
        "net": call + put,
        "alive": alive,
        "dropped": dropped,
        "dropped_oi": dropped_oi,
        "spot": S,
        "as_of": as_of,
    }


# ---------------------------------------------------------------------------------------------
# model curves, one contract at a time


def profile_point(contracts: list[dict], s: float, r: float, q: float) -> float:
    """Model GEX at spot ``s`` (USD per 1 %): sum of w * gamma(s) * 100 * s**2 * 0.01.

    ``contracts``: dicts with ``w`` (signed dealer contracts), ``K``, ``T``, ``sig``.
    """
    total = 0.0
    for c in contracts:
        total += c["w"] * gamma(s, c["K"], c["T"], r, q, c["sig"]) * 100 * s * s * 0.01
    return total


def dealer_delta(
    contracts: list[dict], s: float, r: float, q: float, sig_shift: float = 0.0, T_key: str = "T"
) -> float:
    """Dealers' option delta in units of underlying: sum of w * delta(s) * 100."""
    total = 0.0
    for c in contracts:
        total += c["w"] * delta(s, c["K"], c[T_key], r, q, c["sig"] + sig_shift, c["is_call"]) * 100
    return total


def hedge_flow_brute(
    contracts: list[dict], S: float, moves_pct: list[float], r: float, q: float, shock: float
) -> list[dict]:
    """Per move: the USD dealers trade to re-hedge (+ = buy), vanna and charm flows (brute force).

    ``contracts`` also carry ``T_next`` (time to settlement at the next close, floored).
    """
    base = dealer_delta(contracts, S, r, q)
    out = []
    for m in moves_pct:
        s = S * (1 + m / 100)
        at_s = dealer_delta(contracts, s, r, q)
        out.append(
            {
                "move_pct": m,
                "dealer_trade_usd": -(at_s - base) * s,
                "vanna_flow_usd": -(dealer_delta(contracts, s, r, q, sig_shift=shock) - at_s) * s,
                "charm_flow_usd": -(dealer_delta(contracts, s, r, q, T_key="T_next") - at_s) * s,
            }
        )
    return out
