"""Slow, obvious reference for the leveraged-ETF engine (:mod:`flows.letf`): one fund at a time.

Nothing here imports ``flows``; the rules are written again from the docstrings of
:mod:`flows.letf` (module docstring, ``classify``, ``by_underlying``, ``excluded_aum``):

* per fund ``trade = A * (L**2 - L) * r`` USD (+ = buy), ``A`` prior-close assets, ``L`` signed
  leverage, ``r`` the underlying's move (fraction); per 1 % move ``A * (L**2 - L) * 0.01``;
* the underlying is the fund's ticker, or the hedge proxy of ``index_proxies`` when the ticker is
  an index ticker listed there, or (ticker blank) when the index *name* is listed there (case-,
  space- and trailing-"Index"-insensitive);
* a fund is left out, first match wins, for: a reset period other than daily, variable leverage,
  unknown leverage, unknown / zero / negative assets, a crypto or commodity asset class (own
  group, not in the equity totals), any other non-equity asset class, an unknown underlying;
* the assets left out are summed by category, and their share is of the universe's known assets.

The input is one dict per fund with the fields of the parsed universe (``ticker``,
``underlying``, ``underlying_asset``, ``leverage`` (None/NaN unknown), ``leverage_kind``,
``aum_usd``, ``asset_class``, ``reset``): the parse of the source file and the reset periods have
their own tests (``tests/sources/test_letf_sources.py``, ``tests/flows/test_letf_reset.py``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

GROUPS = ("crypto", "commodity")
RESET_CATEGORY = {
    r: f"reset: {r}" for r in ("weekly", "monthly", "quarterly", "options-based", "unknown")
}


def missing(value: object) -> bool:
    """None, NaN or an empty cell."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def trade_usd(aum: float, lev: float, r: float) -> float:
    """``A * (L**2 - L) * r``: target exposure minus drifted exposure (USD, + = buy)."""
    drifted = lev * aum * (1.0 + r)
    target = lev * aum * (1.0 + lev * r)
    return target - drifted


def per_1pct_usd(aum: float, lev: float) -> float:
    return aum * (lev * lev - lev) * 0.01


def _name_key(text: str) -> str:
    text = " ".join(text.split()).casefold()
    return re.sub(r" index$", "", text)


def hedge_underlying(fund: Mapping, proxies: Mapping[str, str]) -> tuple[str, str]:
    """``(underlying, source)``: source ``ticker``, ``proxy`` or ``""`` (nothing to map)."""
    ticker = "" if missing(fund.get("underlying")) else str(fund["underlying"]).strip().upper()
    by_ticker = {k.strip().upper(): v for k, v in proxies.items()}
    by_name = {_name_key(k): v for k, v in proxies.items()}
    if ticker in by_ticker:
        return by_ticker[ticker], "proxy"
    asset = "" if missing(fund.get("underlying_asset")) else str(fund["underlying_asset"])
    if _name_key(asset) in by_name:  # an index name beats an index code no proxy maps
        return by_name[_name_key(asset)], "proxy"
    if ticker:
        return ticker, "ticker"
    return "", ""


def classify_fund(fund: Mapping, proxies: Mapping[str, str]) -> tuple[str, str, str]:
    """``(underlying, group, category)``: group ``equity`` / ``crypto`` / ``commodity`` /
    ``excluded``; category ``""`` for a fund in a daily figure, else why it is left out."""
    underlying, _ = hedge_underlying(fund, proxies)
    reset = "unknown" if missing(fund.get("reset")) else str(fund["reset"])
    lev, aum = fund.get("leverage"), fund.get("aum_usd")
    aclass = (
        "equity"
        if "asset_class" not in fund
        else ("" if missing(fund["asset_class"]) else str(fund["asset_class"]).strip().lower())
    )
    if reset != "daily":
        return underlying, "excluded", RESET_CATEGORY[reset]
    if fund.get("leverage_kind") == "variable":
        return underlying, "excluded", "variable leverage"
    if missing(lev):
        return underlying, "excluded", "unknown leverage"
    if missing(aum):
        return underlying, "excluded", "unknown assets"
    if aum == 0:
        return underlying, "excluded", "zero assets"
    if aum < 0:
        return underlying, "excluded", "negative assets"
    if aclass in GROUPS:
        if not underlying:  # a grouped fund without a ticker is labelled by what it tracks
            underlying = (
                str(fund["underlying_asset"])
                if not missing(fund.get("underlying_asset"))
                else str(fund["ticker"])
            )
        return underlying, aclass, ""
    if aclass != "equity":
        return underlying, "excluded", "non-equity underlying"
    if not underlying:
        return underlying, "excluded", "unknown underlying"
    return underlying, "equity", ""


def per_underlying(
    funds: Iterable[Mapping],
    proxies: Mapping[str, str],
    moves_pct: Mapping[str, float] | None = None,
    adv_usd: Mapping[str, float] | None = None,
) -> dict[str, dict[str, float]]:
    """Equity funds summed per underlying: ``funds``, ``aum_usd``, ``long_per_1pct_usd``
    (L > 0), ``inverse_per_1pct_usd`` (L < 0), ``per_1pct_usd``, ``rebalance_usd`` for the move
    of ``moves_pct`` (percent; NaN when the underlying has none) and ``per_1pct_pct_adv``."""
    out: dict[str, dict[str, float]] = {}
    for fund in funds:
        underlying, group, _ = classify_fund(fund, proxies)
        if group != "equity":
            continue
        aum, lev = float(fund["aum_usd"]), float(fund["leverage"])
        row = out.setdefault(
            underlying,
            {
                "funds": 0,
                "aum_usd": 0.0,
                "long_per_1pct_usd": 0.0,
                "inverse_per_1pct_usd": 0.0,
                "per_1pct_usd": 0.0,
                "rebalance_usd": math.nan,
            },
        )
        per = per_1pct_usd(aum, lev)
        row["funds"] += 1
        row["aum_usd"] += aum
        row["per_1pct_usd"] += per
        if lev > 0:
            row["long_per_1pct_usd"] += per
        elif lev < 0:
            row["inverse_per_1pct_usd"] += per
        if moves_pct is not None and underlying in moves_pct:
            trade = trade_usd(aum, lev, moves_pct[underlying] / 100.0)
            row["rebalance_usd"] = (
                trade if math.isnan(row["rebalance_usd"]) else row["rebalance_usd"] + trade
            )
    for underlying, row in out.items():
        adv = (adv_usd or {}).get(underlying, math.nan)
        row["per_1pct_pct_adv"] = 100.0 * abs(row["per_1pct_usd"]) / adv if adv > 0 else math.nan
    return out


def scenario(
    funds: Iterable[Mapping], proxies: Mapping[str, str], moves_pct: Iterable[float]
) -> dict[tuple[str, float], float]:
    """``{(underlying, move_pct): trade USD}`` when every equity underlying moves ``move_pct``
    percent, plus ``("TOTAL", move)``: the trade of every fund, one at a time."""
    out: dict[tuple[str, float], float] = {}
    funds = list(funds)
    for move in moves_pct:
        for fund in funds:
            underlying, group, _ = classify_fund(fund, proxies)
            if group != "equity":
                continue
            trade = trade_usd(float(fund["aum_usd"]), float(fund["leverage"]), move / 100.0)
            out[(underlying, move)] = out.get((underlying, move), 0.0) + trade
            out[("TOTAL", move)] = out.get(("TOTAL", move), 0.0) + trade
    return out


def excluded_by_category(
    funds: Iterable[Mapping], proxies: Mapping[str, str], skipped_aum: Iterable[float] = ()
) -> tuple[dict[str, tuple[int, float]], float]:
    """``({category: (funds, assets USD)}, universe assets USD)``: the funds in no daily figure
    by category (unknown assets add 0) plus the rows the import skipped (``input row skipped
    (bad data)``); the universe's known assets include the skipped rows'."""
    out: dict[str, tuple[int, float]] = {}
    universe = 0.0
    for fund in funds:
        aum = 0.0 if missing(fund.get("aum_usd")) else float(fund["aum_usd"])
        universe += aum
        _, group, category = classify_fund(fund, proxies)
        if group == "excluded":
            n, total = out.get(category, (0, 0.0))
            out[category] = (n + 1, total + aum)
    for aum in skipped_aum:
        value = 0.0 if missing(aum) else float(aum)
        universe += value
        n, total = out.get("input row skipped (bad data)", (0, 0.0))
        out["input row skipped (bad data)"] = (n + 1, total + value)
    return out, universe
