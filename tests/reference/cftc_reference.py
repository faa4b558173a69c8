"""Slow, obvious reference for the CFTC positioning engine (:mod:`flows.cftc`): one report row,
one currency, one week at a time.

Nothing here imports ``flows``: the COT text files and the ECB history are read with the ``csv``
module, and the formulas are written again from the docstrings of :mod:`flows.cftc`:

* ``net = long - short`` of a trader class (contracts), keyed on the 6-character market code;
* ``usd = net × contract size × USD per unit`` (USD per unit from the ECB file: the ``USD``
  column over the currency's column, on the latest ECB day at most 7 days before the report
  date); for the ICE U.S. Dollar Index ``usd = net × index level × 1,000``, the level rebuilt
  from the ECB rates with the ICE weights;
* net USD of a basket ``= -Σ usd_c`` over its currencies (``+ usd`` of the USD index), missing
  when any member has no position or no rate (a partial week);
* weekly change ``= position change + FX revaluation`` with position change
  ``-Σ (n_t - n_{t-1}) k p_{t-1}`` and revaluation ``-Σ n_t k (p_t - p_{t-1})``, missing across a
  gap of more than 14 days;
* over the last ``w`` reports including ``t`` (valid values only, at least
  ``max(2, w - w // 10)`` of them): z-score with the sample standard deviation, percentile
  ``100 × #{x_i <= x_t} / n``, COT index ``100 × (x_t - min) / (max - min)`` (50 with no range).
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

# CME / ICE contract specifications: currency units per contract (USD per index point for the
# U.S. Dollar Index).
CONTRACTS: dict[str, tuple[str, float]] = {
    "099741": ("EUR", 125_000.0),
    "097741": ("JPY", 12_500_000.0),
    "096742": ("GBP", 62_500.0),
    "092741": ("CHF", 125_000.0),
    "090741": ("CAD", 100_000.0),
    "232741": ("AUD", 100_000.0),
    "112741": ("NZD", 100_000.0),
    "095741": ("MXN", 500_000.0),
    "102741": ("BRL", 100_000.0),
    "122741": ("ZAR", 500_000.0),
    "098662": ("DXY", 1_000.0),
}
ICE_WEIGHTS = {"EUR": 0.576, "JPY": 0.136, "GBP": 0.119, "CAD": 0.091, "SEK": 0.042, "CHF": 0.036}
ICE_CONSTANT = 50.14348112

# (date column, code column, {trader class: (long column, short column)}) per report layout
LAYOUTS = {
    "legacy": (
        "As of Date in Form YYYY-MM-DD",
        "CFTC Contract Market Code",
        {"noncomm": ("Noncommercial Positions-Long (All)", "Noncommercial Positions-Short (All)")},
    ),
    "tff": (
        "Report_Date_as_YYYY-MM-DD",
        "CFTC_Contract_Market_Code",
        {
            "lev_money": ("Lev_Money_Positions_Long_All", "Lev_Money_Positions_Short_All"),
            "asset_mgr": ("Asset_Mgr_Positions_Long_All", "Asset_Mgr_Positions_Short_All"),
        },
    ),
}

Positions = dict[str, dict[date, dict[str, float]]]
"""trader class -> report date -> currency -> net contracts."""


def read_text(path: Path) -> str:
    """A COT text file, or the single member of its yearly zip."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            return zf.read(zf.namelist()[0]).decode()
    return path.read_text()


def read_cot(texts: Iterable[str], report: str) -> Positions:
    """Net contracts per trader class, report date and currency, row by row."""
    date_col, code_col, classes = LAYOUTS[report]
    out: Positions = {cls: {} for cls in classes}
    for text in texts:
        rows = csv.reader(io.StringIO(text))
        header = [h.strip() for h in next(rows)]
        at = {name: i for i, name in enumerate(header)}
        for row in rows:
            if not row:
                continue
            code = row[at[code_col]].strip()
            if code not in CONTRACTS:
                continue
            day = date.fromisoformat(row[at[date_col]].strip())
            ccy = CONTRACTS[code][0]
            for cls, (long_col, short_col) in classes.items():
                out[cls].setdefault(day, {})[ccy] = float(row[at[long_col]]) - float(
                    row[at[short_col]]
                )
    return out


def read_ecb(texts: Iterable[str]) -> dict[date, dict[str, float]]:
    """USD per 1 unit of each currency per ECB day: ``USD`` column / currency column (EUR: the
    ``USD`` column itself); ``N/A`` and empty cells are left out."""
    out: dict[date, dict[str, float]] = {}
    for text in texts:
        rows = csv.reader(io.StringIO(text))
        header = next(rows)
        for row in rows:
            if not row or not row[0]:
                continue
            cells = {h: v for h, v in zip(header, row, strict=False) if h}
            if cells.get("USD") in (None, "", "N/A"):
                continue
            usd = float(cells["USD"])
            rates = {"EUR": usd}
            for ccy, value in cells.items():
                if ccy not in ("Date", "USD") and value not in ("", "N/A"):
                    rates[ccy] = usd / float(value)
            out[date.fromisoformat(row[0])] = rates
    return out


def usd_per_unit(
    ecb: Mapping[date, Mapping[str, float]], day: date, ccy: str, max_lag_days: int = 7
) -> float | None:
    """The rate of the latest ECB day on or before ``day``, at most ``max_lag_days`` older; the
    U.S. Dollar Index level for ``DXY``."""
    for back in range(max_lag_days + 1):
        rates = ecb.get(day - timedelta(days=back))
        if rates is not None:
            if ccy == "DXY":
                if any(c not in rates for c in ICE_WEIGHTS):
                    return None
                level = ICE_CONSTANT
                for c, w in ICE_WEIGHTS.items():
                    level *= rates[c] ** -w
                return level
            return rates.get(ccy)
    return None


def usd_value(net: float | None, ccy: str, rate: float | None) -> float | None:
    """``net × contract size × USD per unit`` (for DXY ``net × level × 1,000``)."""
    if net is None or rate is None:
        return None
    size = next(s for c, s in CONTRACTS.values() if c == ccy)
    return net * size * rate


def contribution(ccy: str, usd: float) -> float:
    """A long foreign-currency position is short USD: ``-usd``; a long USD index is long USD."""
    return usd if ccy == "DXY" else -usd


def net_usd(
    positions: Mapping[date, Mapping[str, float]],
    ecb: Mapping[date, Mapping[str, float]],
    basket: Sequence[str],
) -> dict[date, float | None]:
    """Net USD position of ``basket`` per report date (None for a partial week)."""
    out: dict[date, float | None] = {}
    for day in sorted(positions):
        total: float | None = 0.0
        for ccy in basket:
            usd = usd_value(positions[day].get(ccy), ccy, usd_per_unit(ecb, day, ccy))
            if usd is None:
                total = None
                break
            total += contribution(ccy, usd)
        out[day] = total
    return out


def weekly_change(
    positions: Mapping[date, Mapping[str, float]],
    ecb: Mapping[date, Mapping[str, float]],
    basket: Sequence[str],
    max_gap_days: int = 14,
) -> dict[date, tuple[float, float] | None]:
    """``(position change, FX revaluation)`` of ``basket``'s net USD per report date against the
    previous report (None for the first report, across a gap or when a value is missing)."""
    days = sorted(positions)
    out: dict[date, tuple[float, float] | None] = {days[0]: None} if days else {}
    for prev, day in zip(days[:-1], days[1:], strict=True):
        if (day - prev).days > max_gap_days:
            out[day] = None
            continue
        pos = fx = 0.0
        for ccy in basket:
            n0, n1 = positions[prev].get(ccy), positions[day].get(ccy)
            p0, p1 = usd_per_unit(ecb, prev, ccy), usd_per_unit(ecb, day, ccy)
            if None in (n0, n1, p0, p1):
                pos = fx = math.nan
                break
            size = next(s for c, s in CONTRACTS.values() if c == ccy)
            pos += contribution(ccy, (n1 - n0) * size * p0)
            fx += contribution(ccy, n1 * size * (p1 - p0))
        out[day] = None if math.isnan(pos) else (pos, fx)
    return out


def rolling(
    values: Sequence[float | None], window: int, min_periods: int | None = None
) -> list[tuple[float, float, float] | None]:
    """``(zscore, percentile, cot_index)`` of each value over the last ``window`` values
    including it; None when the value is missing or fewer than ``min_periods`` are valid (z is
    NaN when the window has no dispersion)."""
    need = max(2, window - window // 10) if min_periods is None else min_periods
    out: list[tuple[float, float, float] | None] = []
    for t, x in enumerate(values):
        seen = [
            v for v in values[max(0, t - window + 1) : t + 1] if v is not None and not math.isnan(v)
        ]
        if x is None or math.isnan(x) or len(seen) < need:
            out.append(None)
            continue
        n = len(seen)
        mean = sum(seen) / n
        std = math.sqrt(sum((v - mean) ** 2 for v in seen) / (n - 1))
        z = (x - mean) / std if std > 0 else math.nan
        pct = 100.0 * sum(1 for v in seen if v <= x) / n
        lo, hi = min(seen), max(seen)
        cot = 100.0 * (x - lo) / (hi - lo) if hi > lo else 50.0
        out.append((z, pct, cot))
    return out
