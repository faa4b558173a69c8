"""CFTC currency-futures positioning: net contracts, USD values, the net USD aggregate and its stats.

Pure and vectorised: frames in, frames out; no I/O, no clock, no config.  The inputs are the
frames of :mod:`flows.schema` (``COT_LEGACY_COLUMNS``, ``COT_TFF_COLUMNS``, one row per market
code and report date) and the FX frame (``FX_USD_PER_UNIT``: DatetimeIndex of ECB dates × one
column per ISO currency, USD per 1 unit of that currency).

Conventions
-----------
* Markets are keyed on the 6-character CFTC contract market code, never on the name.
* ``net_contracts = long - short`` (contracts; positive = speculators long the foreign currency;
  for the USD index contract positive = long USD).
* ``usd = net_contracts × contract_size × usd_per_unit`` (USD; the USD value of the speculative
  position in that currency, positive = long the currency).  For the USD index contract
  ``usd = net_contracts × index_level × 1,000`` (positive = long USD).
* ``contribution_usd`` is the position's contribution to the net USD position:
  ``-usd`` for a currency contract (short EUR = long USD), ``+usd`` for the USD index.
* **Net USD position** of a basket ``B``: ``net_usd_B = Σ_{c∈B} contribution_usd_c = -Σ usd_c``
  (plus ``usd`` of the USD index when the basket contains ``DXY``).  Positive = speculators net
  long USD, in USD.
* A week where any basket member has no position or no FX rate is *partial*: the basket's
  aggregate is NaN for that week (never published as complete).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from flows.calendars import cftc_release_times, us_federal_holidays  # noqa: F401 (re-exported)
from flows.errors import DataQualityWarning, InputError
from flows.money import format_usd

# -- contract table (data, not code) ---------------------------------------------------------
USD_INDEX = "DXY"
"""Label used for the ICE U.S. Dollar Index contract (098662) in every frame."""

_CONTRACT_ROWS: tuple[tuple[str, str, float, str, str], ...] = (
    # ccy, CFTC code, contract size, size unit, description
    ("EUR", "099741", 125_000.0, "EUR", "Euro FX (CME)"),
    ("JPY", "097741", 12_500_000.0, "JPY", "Japanese yen (CME)"),
    ("GBP", "096742", 62_500.0, "GBP", "British pound (CME)"),
    ("CHF", "092741", 125_000.0, "CHF", "Swiss franc (CME)"),
    ("CAD", "090741", 100_000.0, "CAD", "Canadian dollar (CME)"),
    ("AUD", "232741", 100_000.0, "AUD", "Australian dollar (CME)"),
    ("NZD", "112741", 100_000.0, "NZD", "New Zealand dollar (CME)"),
    ("MXN", "095741", 500_000.0, "MXN", "Mexican peso (CME)"),
    ("BRL", "102741", 100_000.0, "BRL", "Brazilian real (CME)"),
    ("ZAR", "122741", 500_000.0, "ZAR", "South African rand (CME)"),
    (
        USD_INDEX,
        "098662",
        1_000.0,
        "USD per index point",
        "U.S. Dollar Index (ICE); long = long USD",
    ),
)


def contract_table() -> pd.DataFrame:
    """The currency futures flowdesk aggregates, one row per contract.

    Columns: ``ccy`` (ISO code, ``DXY`` for the USD index), ``code`` (6-char CFTC code, the key),
    ``contract_size`` (units of ``ccy`` per contract; for DXY USD per index point),
    ``size_unit``, ``description``, ``sign`` (+1 when a long position is long the foreign
    currency, i.e. contributes ``-usd`` to net USD; -1 for the USD index, long = long USD).
    Crosses (EUR/GBP, EUR/JPY) are deliberately absent: they carry no USD leg.
    """
    frame = pd.DataFrame(
        _CONTRACT_ROWS, columns=["ccy", "code", "contract_size", "size_unit", "description"]
    )
    frame["sign"] = np.where(frame["ccy"] == USD_INDEX, -1, 1)
    return frame


TRADER_COLUMNS: Mapping[str, tuple[str, str]] = {
    "noncomm": ("noncomm_long", "noncomm_short"),
    "lev_money": ("lev_money_long", "lev_money_short"),
    "asset_mgr": ("asset_mgr_long", "asset_mgr_short"),
}
"""Trader class -> (long, short) columns: legacy non-commercials, TFF leveraged funds, TFF asset managers."""

ICE_DXY_WEIGHTS: Mapping[str, float] = {
    "EUR": 0.576,
    "JPY": 0.136,
    "GBP": 0.119,
    "CAD": 0.091,
    "SEK": 0.042,
    "CHF": 0.036,
}
ICE_DXY_CONSTANT = 50.14348112
"""ICE U.S. Dollar Index formula constant: DXY = 50.14348112 × Π (USD per ccy)^(-w_ccy)."""


# -- input plausibility ---------------------------------------------------------------------------
TFF_SPREADS: tuple[str, ...] = (
    "dealer_spread",
    "asset_mgr_spread",
    "lev_money_spread",
    "other_rept_spread",
)
"""TFF spreading columns: not in the schema frame, read by the parsers only to check the identity."""

POSITION_SIDES: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "legacy": (
        ("noncomm_long", "noncomm_spread", "comm_long", "nonrept_long"),
        ("noncomm_short", "noncomm_spread", "comm_short", "nonrept_short"),
    ),
    "tff": (
        (
            "dealer_long",
            "asset_mgr_long",
            "lev_money_long",
            "other_rept_long",
            "nonrept_long",
            *TFF_SPREADS,
        ),
        (
            "dealer_short",
            "asset_mgr_short",
            "lev_money_short",
            "other_rept_short",
            "nonrept_short",
            *TFF_SPREADS,
        ),
    ),
}
"""The columns whose sum is the open interest, per report and side (the COT report's identity:
every open contract has one long and one short holder, each in exactly one category)."""


def row_weight(values: Mapping[str, np.ndarray], report: str) -> np.ndarray:
    """The open interest each parsed row carries, contracts: the weight of its input quality.

    ``values`` maps schema columns to float arrays (NaN = unreadable).  The row's open interest
    where readable; otherwise its long side (non-commercial long + spreading + commercial long +
    non-reportable long; TFF: every class's long and the spreads), equal to the open interest by
    the report's identity; NaN when neither can be read.
    """
    oi = np.asarray(values["open_interest"], dtype=float)
    out = np.where(np.isfinite(oi) & (oi >= 0), oi, np.nan)
    side = POSITION_SIDES[report][0]
    if all(c in values for c in side):
        long_side = np.sum([np.asarray(values[c], dtype=float) for c in side], axis=0)
        out = np.where(np.isnan(out) & np.isfinite(long_side) & (long_side >= 0), long_side, out)
    return out


def check_report(
    frame: pd.DataFrame | Mapping[str, np.ndarray],
    report: str,
    source: str,
    *,
    rows: Sequence[object] | np.ndarray | Callable[[int], object] | None = None,
    fields: Mapping[str, str] | None = None,
) -> None:
    """Refuse a parsed COT frame holding an implausible value (:mod:`flows.limits`).

    ``frame``: the parsed frame, or a mapping of its columns (float arrays).  Checks, on every
    row: open interest within ``cftc.open_interest``; every position column
    (long, short, spreading, present in ``frame``) within ``[0, open interest]``
    (``cftc.position``); and, when every column of a side is present, ``Σ side - open interest``
    within ``cftc.oi_identity_gap`` (a single misprinted position breaks the identity).

    ``rows`` labels the rows (source line numbers, Socrata row indices; or a callable ``i ->
    label``, built only for the row an error names) and ``fields`` maps a column to the name the
    source uses; both appear in the error.  Values must be finite (the parsers skip unreadable
    cells before this check).

    Raises
    ------
    InputError
        Naming ``source``, the field and the first offending row.
    """
    from flows.limits import LIMITS, check_range

    columns = list(frame.columns) if isinstance(frame, pd.DataFrame) else list(frame)
    if not columns or not len(frame[columns[0]]):
        return
    col = {
        c: np.asarray(frame[c], dtype=float)
        for c in columns
        if c == "open_interest" or c in POSITION_SIDES[report][0] or c in POSITION_SIDES[report][1]
    }
    names = dict(fields or {})
    labels = (
        rows
        if callable(rows)
        else np.asarray(
            rows if rows is not None else np.arange(len(col["open_interest"])), dtype=object
        ).__getitem__
    )
    oi = col["open_interest"]
    check_range(
        oi,
        "cftc.open_interest",
        source,
        rows=labels,
        field=names.get("open_interest", "open_interest"),
    )
    positions = [
        c
        for c in dict.fromkeys((*POSITION_SIDES[report][0], *POSITION_SIDES[report][1]))
        if c in col
    ]
    for c in positions:
        v = col[c]
        bad = (v < 0) | (v > oi)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            lim = LIMITS["cftc.position"]
            raise InputError(
                source,
                names.get(c, c),
                f"{int(bad.sum())} value(s) outside [0, open interest], e.g. {v[i]:.0f} with open interest {oi[i]:.0f} (row {labels(i)}): {lim.why}",
            )
    for side, cols in zip(("long", "short"), POSITION_SIDES[report], strict=True):
        if all(c in col for c in cols):
            gap = np.sum([col[c] for c in cols], axis=0) - oi
            check_range(
                gap,
                "cftc.oi_identity_gap",
                source,
                rows=labels,
                field=f"{side} side - open interest",
            )


# -- positions -------------------------------------------------------------------------------
def net_contracts(
    cot: pd.DataFrame, trader: str, *, contracts: pd.DataFrame | None = None, source: str = "cot"
) -> pd.DataFrame:
    """Net position per report date and currency, in contracts.

    ``net = long - short`` of trader class ``trader`` (``noncomm`` for the legacy report;
    ``lev_money`` / ``asset_mgr`` for TFF), for every market of :func:`contract_table` present.

    Returns a wide frame: DatetimeIndex ``as_of`` (report dates where at least one of the
    contracts reported) × one column per ``ccy`` (float; NaN where that market did not report
    that week).  Duplicated (as_of, code) rows keep the last one and raise a
    :class:`DataQualityWarning` with the count.
    """
    if trader not in TRADER_COLUMNS:
        raise InputError(
            source,
            "trader",
            f"unknown trader class {trader!r} (known: {', '.join(TRADER_COLUMNS)})",
        )
    contracts = contract_table() if contracts is None else contracts
    long_col, short_col = TRADER_COLUMNS[trader]
    for col in ("as_of", "code", long_col, short_col):
        if col not in cot.columns:
            raise InputError(source, col, f"missing column (needed for {trader} net positions)")
    pos = pd.Index(contracts["code"]).get_indexer(cot["code"])
    keep = pos >= 0
    pos = pos[keep]
    net = cot[long_col].to_numpy(dtype=float)[keep] - cot[short_col].to_numpy(dtype=float)[keep]
    days = cot["as_of"].to_numpy(dtype="datetime64[ns]")[keep]
    uniq, row = np.unique(days, return_inverse=True)
    n_ccy = len(contracts)
    key = row * n_ccy + pos
    if len(np.unique(key)) < len(key):
        warnings.warn(
            f"{source}: {len(key) - len(np.unique(key))} duplicated (as_of, code) rows; kept the last of each",
            DataQualityWarning,
            stacklevel=2,
        )
        last = len(key) - 1 - np.unique(key[::-1], return_index=True)[1]
        row, pos, net = row[last], pos[last], net[last]
    matrix = np.full((len(uniq), n_ccy), np.nan)
    matrix[row, pos] = net
    present = np.zeros(n_ccy, dtype=bool)
    present[pos] = True
    cols = [c for c, ok in zip(contracts["ccy"], present, strict=True) if ok]
    wide = pd.DataFrame(
        matrix[:, present],
        index=pd.DatetimeIndex(uniq, name="as_of"),
        columns=pd.Index(cols, name="ccy"),
    )
    return wide


def align_fx(
    fx: pd.DataFrame,
    dates: Sequence[object] | pd.DatetimeIndex,
    currencies: Iterable[str],
    *,
    max_lag_days: int = 7,
    source: str = "fx",
) -> pd.DataFrame:
    """USD per unit of each currency on each date, taking the previous available ECB day.

    ECB TARGET holidays have no row; the rate of the latest ECB date ``<= date`` is used, as long
    as it is at most ``max_lag_days`` calendar days older (else NaN: the week becomes partial).
    A currency absent from ``fx`` is an :class:`InputError` (a configuration problem, not a gap).
    ``DXY`` is not looked up here (see :func:`dxy_from_fx`).

    Returns DatetimeIndex ``dates`` × currencies, USD per 1 unit.
    """
    dates = pd.DatetimeIndex(dates)
    wanted = [c for c in currencies if c != USD_INDEX]
    missing = [c for c in wanted if c not in fx.columns]
    if missing:
        raise InputError(
            source,
            missing[0],
            f"no FX column for {', '.join(missing)} (USD per unit needed for the USD value)",
        )
    fx = fx.sort_index()
    row, stale = _asof_rows(pd.DatetimeIndex(fx.index), dates, max_lag_days)
    values = fx[wanted].to_numpy(dtype=float)[row]
    values[stale] = np.nan
    out = pd.DataFrame(values, index=dates, columns=wanted)
    out.index.name = "as_of"
    return out


def dxy_from_fx(usd_per_unit: pd.DataFrame) -> pd.Series:
    """Reconstruct the ICE U.S. Dollar Index level from USD-per-unit rates.

    ``DXY = 50.14348112 × u_EUR^-0.576 × u_JPY^-0.136 × u_GBP^-0.119 × u_CAD^-0.091 ×
    u_SEK^-0.042 × u_CHF^-0.036`` where ``u_c`` is USD per 1 unit of ``c``.  Used when no index
    level is supplied; with ECB 14:15 CET rates it matches the ICE settlement to within a few
    tenths of an index point (an approximation: different fixing time).
    """
    logs = np.zeros(len(usd_per_unit))
    for ccy, weight in ICE_DXY_WEIGHTS.items():
        logs = logs - weight * np.log(usd_per_unit[ccy].to_numpy(dtype=float))
    return pd.Series(ICE_DXY_CONSTANT * np.exp(logs), index=usd_per_unit.index, name=USD_INDEX)


def usd_per_unit_frame(
    fx: pd.DataFrame,
    dates: Sequence[object] | pd.DatetimeIndex,
    currencies: Iterable[str],
    *,
    dxy: pd.Series | None = None,
    max_lag_days: int = 7,
    require_dxy: bool = True,
    source: str = "fx",
) -> pd.DataFrame:
    """USD per unit for every currency column of a positions frame, on the report dates.

    For ``DXY`` the column holds the index level (index points; a contract is worth
    ``level × USD 1,000``): from ``dxy`` (aligned like FX) when given, else
    :func:`dxy_from_fx` on the ECB rates (which needs EUR, JPY, GBP, CAD, SEK, CHF; when one is
    missing: InputError if ``require_dxy``, else the DXY column is NaN).
    """
    currencies = list(currencies)
    out = align_fx(fx, dates, currencies, max_lag_days=max_lag_days, source=source)
    if USD_INDEX in currencies:
        if dxy is not None:
            out[USD_INDEX] = _align_series(dxy, out.index, max_lag_days)
        elif all(c in fx.columns for c in ICE_DXY_WEIGHTS):
            needed = [c for c in ICE_DXY_WEIGHTS if c not in out.columns]
            extra = (
                align_fx(fx, dates, needed, max_lag_days=max_lag_days, source=source)
                if needed
                else None
            )
            rates = out if extra is None else pd.concat([out, extra], axis=1)
            out[USD_INDEX] = dxy_from_fx(rates).to_numpy()
        elif require_dxy:
            lacking = [c for c in ICE_DXY_WEIGHTS if c not in fx.columns]
            raise InputError(
                source,
                lacking[0],
                f"the USD index level is reconstructed from {', '.join(ICE_DXY_WEIGHTS)}; missing {', '.join(lacking)} (or pass the index level)",
            )
        else:
            out[USD_INDEX] = (
                np.nan
            )  # USD index not in any basket: its USD value is informative only
    return out[currencies]


def _asof_rows(
    index: pd.DatetimeIndex, dates: pd.DatetimeIndex, max_lag_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row of the latest ``index`` date ``<= date`` for each date, and whether it is unusable
    (before the index starts or more than ``max_lag_days`` older).  ``index`` sorted ascending."""
    pos = index.searchsorted(dates, side="right") - 1
    row = np.where(pos >= 0, pos, 0)
    lag = (
        (dates.to_numpy() - index.to_numpy()[row]) / np.timedelta64(1, "D")
        if len(index)
        else np.full(len(dates), np.inf)
    )
    return row, (pos < 0) | (lag > max_lag_days)


def _align_series(series: pd.Series, dates: pd.DatetimeIndex, max_lag_days: int) -> np.ndarray:
    s = series.sort_index()
    row, stale = _asof_rows(pd.DatetimeIndex(s.index), dates, max_lag_days)
    vals = s.to_numpy(dtype=float)[row]
    vals[stale] = np.nan
    return np.asarray(vals, dtype=np.float64)


def usd_values(
    net: pd.DataFrame, usd_per_unit: pd.DataFrame, *, contracts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """USD value of each net position: ``net × contract_size × usd_per_unit`` (USD).

    ``net`` and ``usd_per_unit`` are wide frames with the same index (report dates) and
    currency columns.  Positive = long the currency (for ``DXY``: long USD, value
    ``net × index level × 1,000``).  NaN propagates (missing position or FX -> NaN).
    """
    contracts = contract_table() if contracts is None else contracts
    size = contracts.set_index("ccy")["contract_size"].reindex(net.columns).to_numpy(dtype=float)
    fxv = usd_per_unit.reindex(index=net.index, columns=net.columns).to_numpy(dtype=float)
    return pd.DataFrame(
        net.to_numpy(dtype=float) * size * fxv, index=net.index, columns=net.columns
    )


def _signs(columns: Iterable[str]) -> np.ndarray:
    """+1 for a foreign currency (long ccy = short USD), -1 for the USD index."""
    return np.array([-1.0 if c == USD_INDEX else 1.0 for c in columns])


def net_usd(usd: pd.DataFrame, basket: Sequence[str]) -> pd.Series:
    """Net USD position of a basket (USD; positive = net long USD).

    ``net_usd = -Σ_{c∈basket, c≠DXY} usd_c + usd_DXY``.  NaN for a week where any member is
    missing (partial week) or when a member has never reported at all.
    """
    cols = list(basket)
    frame = usd.reindex(columns=cols)
    contrib = -frame.to_numpy(dtype=float) * _signs(cols)
    total = contrib.sum(axis=1)  # NaN if any member NaN: partial weeks never look complete
    return pd.Series(total, index=usd.index)


def partial_weeks(usd: pd.DataFrame, currencies: Iterable[str]) -> pd.Series:
    """True for a week where any of ``currencies`` has no USD value (no position or no FX)."""
    frame = usd.reindex(columns=list(currencies))
    return pd.Series(frame.isna().any(axis=1).to_numpy(), index=usd.index)


def change_decomposition(
    net: pd.DataFrame,
    usd_per_unit: pd.DataFrame,
    basket: Sequence[str],
    *,
    contracts: pd.DataFrame | None = None,
    max_gap_days: int = 14,
) -> pd.DataFrame:
    """Week-on-week change of the basket's net USD position, split into position and FX.

    For each currency ``c`` with size ``k_c`` between report dates ``t-1`` and ``t``
    (``n`` net contracts, ``p`` USD per unit):

    * position change ``= -Σ (n_t - n_{t-1}) × k × p_{t-1}`` (USD, at the old rate)
    * FX revaluation ``= -Σ n_t × k × (p_t - p_{t-1})`` (USD, on the new position)

    and ``change_usd = position + fx = net_usd_t - net_usd_{t-1}`` exactly (the identity
    ``n_t p_t - n_{t-1} p_{t-1} = Δn p_{t-1} + n_t Δp``).  The minus sign is the net-USD
    convention (``+`` for ``DXY``).  NaN when either week is partial or the previous report is
    more than ``max_gap_days`` older (a data gap, not a weekly change).

    Returns columns ``change_usd``, ``change_position_usd``, ``change_fx_usd`` indexed like ``net``.
    """
    contracts = contract_table() if contracts is None else contracts
    cols = list(basket)
    size = contracts.set_index("ccy")["contract_size"].reindex(cols).to_numpy(dtype=float)
    n = net.reindex(columns=cols).to_numpy(dtype=float)
    p = usd_per_unit.reindex(index=net.index, columns=cols).to_numpy(dtype=float)
    n_prev = np.vstack([np.full((1, len(cols)), np.nan), n[:-1]])
    p_prev = np.vstack([np.full((1, len(cols)), np.nan), p[:-1]])
    sign = -_signs(cols)
    pos = ((n - n_prev) * size * p_prev * sign).sum(axis=1)
    fxr = (n * size * (p - p_prev) * sign).sum(axis=1)
    dates = net.index.to_numpy()
    gap = np.full(len(dates), np.inf)
    if len(dates) > 1:
        gap[1:] = (dates[1:] - dates[:-1]) / np.timedelta64(1, "D")
    bad = gap > max_gap_days
    pos[bad] = np.nan
    fxr[bad] = np.nan
    # Summing the two parts (not differencing the levels) keeps the identity exact in floats.
    return pd.DataFrame(
        {"change_usd": pos + fxr, "change_position_usd": pos, "change_fx_usd": fxr}, index=net.index
    )


# -- statistics --------------------------------------------------------------------------------
def _min_periods(window: int) -> int:
    # Allow 10 % of a window to be missing (partial weeks, a late report) before giving NaN.
    return max(2, window - window // 10)


@dataclass
class RollingStats:
    """Rolling statistics of one or more weekly series over the last ``window`` reports.

    Arrays shaped like the input (reports × series).  ``count`` = valid values in the window;
    every other field is NaN where ``count < min_periods`` or the current value is NaN.
    """

    mean: np.ndarray
    std: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    zscore: np.ndarray
    percentile: np.ndarray
    cot_index: np.ndarray
    count: np.ndarray


def rolling_stats(
    values: np.ndarray, window: int, *, min_periods: int | None = None
) -> RollingStats:
    """Vectorised rolling statistics over the last ``window`` rows including the current one.

    For each row ``t`` and column, over the valid values ``x_i`` of rows ``t-window+1 .. t``:

    * ``zscore = (x_t - mean) / std`` (sample std, ddof=1; NaN when std = 0), dimensionless;
    * ``percentile = 100 × #{x_i <= x_t} / #{valid x_i}`` (0-100; the window maximum is 100);
    * ``cot_index = 100 × (x_t - min) / (max - min)`` (0-100; 50 when max = min).

    ``min_periods`` defaults to 90 % of the window (partial weeks may be missing).  One
    sliding-window view of the NaN-padded array; no Python loop over rows.
    """
    mp = _min_periods(window) if min_periods is None else min_periods
    x = np.asarray(values, dtype=float)
    squeeze = x.ndim == 1
    if squeeze:
        x = x[:, None]
    n, k = x.shape
    padded = np.vstack([np.full((window - 1, k), np.nan), x])
    view = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)  # (n, k, window)
    valid = ~np.isnan(view)
    count = valid.sum(axis=-1)
    filled = np.where(valid, view, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=-1) / count
        dev = np.where(valid, view - mean[..., None], 0.0)
        std = np.sqrt((dev * dev).sum(axis=-1) / (count - 1))
        lo = np.where(valid, view, np.inf).min(axis=-1)
        hi = np.where(valid, view, -np.inf).max(axis=-1)
        below = (valid & (view <= x[..., None])).sum(axis=-1)
        ok = (count >= mp) & ~np.isnan(x)
        z = np.where(ok & (std > 0), (x - mean) / std, np.nan)
        pct = np.where(ok, 100.0 * below / count, np.nan)
        rng = hi - lo
        cot = np.where(
            ok, np.where(rng > 0, 100.0 * (x - lo) / np.where(rng > 0, rng, 1.0), 50.0), np.nan
        )
    nan_if = ~ok
    out = RollingStats(
        mean=np.where(nan_if, np.nan, mean),
        std=np.where(nan_if, np.nan, std),
        lo=np.where(nan_if, np.nan, lo),
        hi=np.where(nan_if, np.nan, hi),
        zscore=z,
        percentile=pct,
        cot_index=cot,
        count=count,
    )
    if squeeze:
        for name in ("mean", "std", "lo", "hi", "zscore", "percentile", "cot_index", "count"):
            setattr(out, name, getattr(out, name)[:, 0])
    return out


def rolling_zscore(series: pd.Series, window: int, *, min_periods: int | None = None) -> pd.Series:
    """``z_t = (x_t - mean_w) / std_w`` over the last ``window`` observations including ``t``.

    ``std`` is the sample standard deviation (ddof=1).  NaN with fewer than ``min_periods``
    valid values (default: 90 % of the window) or zero dispersion.  Dimensionless.
    """
    return pd.Series(
        rolling_stats(series.to_numpy(dtype=float), window, min_periods=min_periods).zscore,
        index=series.index,
    )


def rolling_percentile(
    series: pd.Series, window: int, *, min_periods: int | None = None
) -> pd.Series:
    """Percentile rank of ``x_t`` in its last ``window`` observations, 0-100.

    ``100 × #{x_i <= x_t} / #{valid x_i}`` over the window including ``t`` (so the maximum of the
    window is 100).  NaN with fewer than ``min_periods`` valid values.
    """
    return pd.Series(
        rolling_stats(series.to_numpy(dtype=float), window, min_periods=min_periods).percentile,
        index=series.index,
    )


def cot_index(series: pd.Series, window: int, *, min_periods: int | None = None) -> pd.Series:
    """COT index: ``100 × (x_t - min_w) / (max_w - min_w)``, bounded 0-100.

    0 = the most bearish reading of the window, 100 = the most bullish; 50 when the window has no
    range.  NaN with fewer than ``min_periods`` valid values.
    """
    return pd.Series(
        rolling_stats(series.to_numpy(dtype=float), window, min_periods=min_periods).cot_index,
        index=series.index,
    )


WINDOWS_WEEKS: Mapping[str, int] = {"1y": 52, "3y": 156, "5y": 260}
"""Look-back windows of the z-scores and percentiles, in weekly reports."""


def previous_peaks(
    series: pd.Series, *, half_window: int = 26, current: float | None = None
) -> pd.DataFrame:
    """Previous cycle peaks and troughs of a weekly series.

    A week is a peak (trough) when its value is the maximum (minimum) of the centred window of
    ``2 × half_window + 1`` valid weeks around it; the last ``half_window`` weeks cannot be
    confirmed and are left out (only *previous* cycles).  Plateaus keep their first week.

    Returns columns ``as_of``, ``kind`` (``peak``/``trough``), ``value_usd``,
    ``distance_usd = current - value`` (USD; ``current`` defaults to the last valid value) and
    ``weeks_ago`` (reports since), newest first.
    """
    s = series.dropna()
    cols = ["as_of", "kind", "value_usd", "distance_usd", "weeks_ago"]
    if len(s) < 2 * half_window + 1:
        return pd.DataFrame(
            {c: pd.Series(dtype="datetime64[ns]" if c == "as_of" else float) for c in cols}
        ).assign(kind=pd.Series(dtype=str))[cols]
    w = 2 * half_window + 1
    hi = s.rolling(w, center=True).max()
    lo = s.rolling(w, center=True).min()
    vals = s.to_numpy()
    prev = np.concatenate([[np.nan], vals[:-1]])
    is_peak = (vals == hi.to_numpy()) & (vals != prev)
    is_trough = (vals == lo.to_numpy()) & (vals != prev)
    n = len(s)
    confirmed = np.arange(n) < n - half_window
    cur = float(vals[-1]) if current is None else float(current)
    rows = []
    for kind, mask in (("peak", is_peak & confirmed), ("trough", is_trough & confirmed)):
        where = np.flatnonzero(mask)
        rows.append(
            pd.DataFrame(
                {
                    "as_of": s.index[where],
                    "kind": kind,
                    "value_usd": vals[where],
                    "distance_usd": cur - vals[where],
                    "weeks_ago": (n - 1 - where).astype(float),
                }
            )
        )
    out = pd.concat(rows, ignore_index=True).sort_values(
        "as_of", ascending=False, ignore_index=True
    )
    return out[cols]


def crowding(
    net: pd.DataFrame, usd: pd.DataFrame, *, window: int = 156, by: str = "zscore"
) -> pd.DataFrame:
    """Crowding ranking of currencies on the latest report date.

    For each currency: ``net_contracts`` and ``usd`` on the last date, ``zscore`` and
    ``cot_index`` of its net contracts over ``window`` weeks (contracts, so FX moves do not look
    like positioning), ``extremity = |cot_index - 50| × 2`` (0-100).  Ranked (1 = most crowded)
    by ``|zscore|`` (``by="zscore"``) or by ``extremity`` (``by="cot_index"``); both rankings
    are returned (``rank_zscore``, ``rank_extremity``), ``rank`` is the chosen one.
    ``direction`` is ``long`` / ``short`` the currency (for DXY: long/short USD).
    """
    if by not in ("zscore", "cot_index"):
        raise InputError("crowding", "by", f"must be 'zscore' or 'cot_index' (got {by!r})")
    tail = net.to_numpy(dtype=float)[-window:]
    st = rolling_stats(tail, window)
    last = tail[-1]
    out = pd.DataFrame(
        {
            "ccy": net.columns.astype(str),
            "net_contracts": last,
            "usd": usd.reindex(columns=net.columns).to_numpy(dtype=float)[-1],
            "zscore": st.zscore[-1],
            "cot_index": st.cot_index[-1],
        }
    )
    out["extremity"] = (out["cot_index"] - 50.0).abs() * 2.0
    out["direction"] = np.where(out["net_contracts"] >= 0, "long", "short")
    out["rank_zscore"] = (
        out["zscore"].abs().rank(ascending=False, method="first", na_option="bottom").astype(int)
    )
    out["rank_extremity"] = (
        out["extremity"].rank(ascending=False, method="first", na_option="bottom").astype(int)
    )
    out["rank"] = out["rank_zscore"] if by == "zscore" else out["rank_extremity"]
    return out.sort_values("rank", ignore_index=True)


def unwind(usd_last: pd.Series, current_net_usd: float, target_net_usd: float) -> pd.DataFrame:
    """Unwind scenario: the net USD position reverts from ``current`` to ``target`` (USD).

    ``gap = current - target`` (USD of net-USD position to unwind; positive = long USD to cut).
    Each currency's contribution to net USD is ``contribution_usd = -usd`` (``+usd`` for DXY).
    Only the positions on the side being unwound take part (``contribution × gap > 0``), in
    proportion: ``share_c = contribution_c / Σ contribution`` over them, and
    ``cover_usd_c = gap × share_c`` is the USD notional to cover.  For a long-USD unwind the
    shorts in foreign currencies are bought back: ``currency_flow_usd = +cover`` (buying the
    currency; for DXY, ``-cover``: USD index sold), so those currencies *benefit*, ranked
    largest flow first.  Positions on the other side get zero.

    Returns columns ``ccy``, ``usd``, ``contribution_usd``, ``share``, ``cover_usd``,
    ``currency_flow_usd`` (USD bought (+) or sold (-) of that currency), ``benefits``, ``rank``
    (1 = largest beneficiary; 0 for non-participants).
    """
    usd_last = usd_last.astype(float)
    sign = _signs(usd_last.index)
    contrib = -usd_last.to_numpy() * sign
    gap = float(current_net_usd) - float(target_net_usd)
    part = np.nan_to_num(contrib) * np.sign(gap) > 0
    total = contrib[part].sum()
    share = np.where(part, contrib / total, 0.0) if total != 0 else np.zeros(len(contrib))
    cover = gap * share
    # Cutting a long-USD position (gap > 0) buys back the foreign currencies that were sold.
    flow = cover * sign
    out = pd.DataFrame(
        {
            "ccy": usd_last.index.astype(str),
            "usd": usd_last.to_numpy(),
            "contribution_usd": contrib,
            "share": share,
            "cover_usd": cover,
            "currency_flow_usd": flow,
        }
    )
    out["benefits"] = (out["currency_flow_usd"] > 0) & (out["ccy"] != USD_INDEX)
    order = out["currency_flow_usd"].where(out["benefits"]).rank(ascending=False, method="first")
    out["rank"] = order.fillna(0).astype(int)
    out = out.sort_values(
        ["benefits", "currency_flow_usd"], ascending=[False, False], ignore_index=True
    )
    return out


def unwind_target_label(scenario: str, unwind_weeks: int) -> str:
    """What an unwind scenario reverts to, in words: ``"its 3-year median"`` (``median`` over
    ``unwind_weeks`` weeks, in years when a whole number of them, else in weeks) or ``"zero"``."""
    if scenario == "zero":
        return "zero"
    years = unwind_weeks / 52
    span = f"{round(years)}-year" if abs(years - round(years)) < 0.05 else f"{unwind_weeks}-week"
    return f"its {span} median"


def unwind_reading(rows: pd.DataFrame, *, target_label: str) -> str:
    """One sentence saying which way an unwind trades and who benefits.

    ``rows``: the :func:`unwind` rows of one series and scenario, with ``current_net_usd`` and
    ``target_net_usd`` (as in :func:`analyse`'s ``unwind`` table); ``target_label`` what the target
    is (:func:`unwind_target_label`).  The direction follows :func:`unwind`: net USD above its
    target (``gap > 0``) falls: speculators sell USD by buying back the currencies they are short,
    which benefit (``benefits``, ranked); net USD below its target rises: they buy USD by selling
    the currencies they are long, no currency is bought, so none benefits (every ``rank`` is 0)
    and the USD is what gains.  The currencies named are those traded, largest first; the USD
    index (DXY) is left out of the names.  Amounts ``+$1.2 bn`` (:func:`flows.money.format_usd`; ASCII minus: the web pages show it as U+2212).
    """

    def usd(v: float, signed: bool = True) -> str:
        return format_usd(v, signed=signed, digits=1)

    if rows.empty:
        return "No unwind scenario."
    current = float(rows["current_net_usd"].iloc[0])
    target = float(rows["target_net_usd"].iloc[0])
    if not (np.isfinite(current) and np.isfinite(target)) or current == target:
        return f"Net USD is at {target_label}: nothing to unwind."
    gap = current - target
    flow = rows["currency_flow_usd"].to_numpy(dtype=float)
    ccy = rows["ccy"].astype(str).to_numpy()
    currency = ccy != USD_INDEX
    order = np.argsort(-np.abs(flow), kind="stable")
    ranked, flow, currency = ccy[order], flow[order], currency[order]
    head = f"Net USD {'falls' if gap > 0 else 'rises'} from {usd(current)} to {usd(target, target != 0)} ({target_label})"
    if gap > 0:
        names = ", ".join(ranked[currency & (flow > 0)]) or "none"
        return (
            f"{head}: speculators sell {usd(gap, False)} of USD by buying back the currencies they "
            f"are short, in proportion to those shorts: {names} benefit (bought, ranked 1 = bought "
            "most); the currencies they are long are not traded."
        )
    sold = ", ".join(ranked[currency & (flow < 0)]) or "none"
    return (
        f"{head}: speculators buy {usd(-gap, False)} of USD by selling the currencies they are "
        f"long, in proportion to those longs ({sold}); the currencies they are short are "
        "not traded. No currency is bought in this unwind, so none is a beneficiary (rank 0): the "
        "USD is what gains."
    )


def unwind_readings(unwind_table: pd.DataFrame, unwind_weeks: int) -> dict[str, dict[str, str]]:
    """:func:`unwind_reading` of every series and scenario of an ``unwind`` table (columns
    ``series``, ``scenario`` and those of :func:`unwind_reading`): ``{series: {scenario: text}}``."""
    out: dict[str, dict[str, str]] = {}
    if unwind_table.empty or "series" not in unwind_table.columns:
        return out
    for (series, scenario), rows in unwind_table.groupby(["series", "scenario"], sort=False):
        out.setdefault(str(series), {})[str(scenario)] = unwind_reading(
            rows, target_label=unwind_target_label(str(scenario), unwind_weeks)
        )
    return out


# -- release calendar ---------------------------------------------------------------------------
# The release rule lives with every other clock rule in flows.calendars; imported here under
# the names the CFTC analytics have always used.
expected_release = cftc_release_times


# -- everything at once ---------------------------------------------------------------------------
@dataclass
class CftcAnalytics:
    """Every table of the ``cftc.net_usd`` result (see :func:`analyse`)."""

    weekly: pd.DataFrame
    currencies: pd.DataFrame
    stats: pd.DataFrame
    peaks: pd.DataFrame
    crowding: pd.DataFrame
    unwind: pd.DataFrame
    latest_complete: pd.Timestamp | None
    headline_series: str
    info: dict[str, Any] = field(default_factory=dict)


SERIES_PREFIX: Mapping[str, str] = {
    "noncomm": "net_usd",
    "lev_money": "net_usd_levfunds",
    "asset_mgr": "net_usd_assetmgr",
}
"""Trader class -> weekly column prefix (``net_usd_<basket>``, ``net_usd_levfunds_<basket>`` ...)."""


REPORTS_SOURCE = "COT report"
"""The source :func:`analyse` names in an error about the reports as a whole (a caller that
knows the files names them instead)."""


def _require_a_basket(net: pd.DataFrame, baskets: Mapping[str, Sequence[str]]) -> None:
    """Refuse reports in which no week holds a position for every currency of any basket:
    every net USD would be n/a (a file of other currency markets only, such as the USD index,
    is "no currency markets" for the net USD).  ``net``: the headline trader class's net
    contracts, dates x currencies (NaN: no position reported)."""
    held = net.notna()
    if any(held[list(b)].all(axis=1).any() for b in baskets.values()):
        return
    members = list(dict.fromkeys(c for b in baskets.values() for c in b))
    never = [c for c in members if not held[c].any()]
    have = [c for c in held.columns if held[c].any()]
    raise InputError(
        REPORTS_SOURCE,
        "CFTC Contract Market Code",
        "no week has a position for every currency of a basket, so no net USD can be computed"
        + (f": never reported {', '.join(never)}" if never else "")
        + f" (the report holds {', '.join(have) if have else 'no currency market'})",
    )


def analyse(
    legacy: pd.DataFrame | None,
    tff: pd.DataFrame | None,
    fx: pd.DataFrame,
    baskets: Mapping[str, Sequence[str]],
    *,
    headline_basket: str = "wide9",
    dxy: pd.Series | None = None,
    unwind_weeks: int = 156,
    unwind_to: str = "median",
    peak_half_window: int = 26,
    stats_window: int = 156,
    release_times: pd.Series | None = None,
    tz: str = "America/New_York",
) -> CftcAnalytics:
    """Compute every CFTC table from parsed reports and ECB rates.

    Parameters
    ----------
    legacy, tff:
        Frames in the ``COT_LEGACY_COLUMNS`` / ``COT_TFF_COLUMNS`` layouts (either may be None).
    fx:
        ``FX_USD_PER_UNIT`` frame (ECB dates × currencies, USD per unit).
    baskets:
        Basket name -> currencies (``DXY`` allowed: the USD index contract).
    headline_basket:
        Basket of the headline series (legacy non-commercials), e.g. ``wide9``.
    unwind_weeks, unwind_to:
        The unwind scenarios revert each trader class's headline-basket series to its median
        over ``unwind_weeks`` (``scenario="median"``) and to zero (``"zero"``); ``unwind_to``
        names the one the page and headline use (``info["unwind_to"]``).
    dxy:
        ICE U.S. Dollar Index level by date (index points), for the ``DXY`` contract; default:
        reconstructed from the ECB rates with the ICE weights (:func:`dxy_from_fx`).
    peak_half_window:
        Previous peaks/troughs are extremes of ±this many weekly reports (:func:`previous_peaks`).
    stats_window:
        Look-back of the crowding ranking, weekly reports (156 = 3 years).
    release_times:
        Known release time per as-of date (tz-aware); default :func:`expected_release`.
    tz:
        Time zone of the release times.

    Notes
    -----
    Rolling statistics count weekly *reports* (rows), not calendar weeks: across a gap in the
    history (e.g. missing years) a 156-report window spans more than three years.  ``partial``
    is True for a week where any currency of any basket lacks a position or an FX rate in the
    headline trader class (legacy non-commercials when given, else TFF leveraged funds);
    ``partial_tff`` the same for leveraged funds when both reports are given.

    Returns
    -------
    CftcAnalytics
        ``weekly`` (one row per report date: each basket's net USD per trader class, the change
        decomposition, z-scores, percentiles, COT index of the headline series, ``partial``),
        ``currencies`` (long: one row per date and currency), ``stats``, ``peaks``,
        ``crowding``, ``unwind``.  Units: USD, contracts, USD per unit, 0-100, dimensionless z.
    """
    if legacy is None and tff is None:
        raise InputError("cftc", None, "no COT report given (need a legacy and/or a TFF frame)")
    if headline_basket not in baskets:
        raise InputError(
            "cftc",
            "headline_basket",
            f"basket {headline_basket!r} not configured (have {', '.join(baskets)})",
        )
    if unwind_to not in ("median", "zero"):
        raise InputError("cftc", "unwind_to", f"must be 'median' or 'zero' (got {unwind_to!r})")
    contracts = contract_table()
    members = list(dict.fromkeys(c for b in baskets.values() for c in b))
    unknown = [c for c in members if c not in set(contracts["ccy"])]
    if unknown:
        raise InputError(
            "cftc",
            "baskets",
            f"unknown currency {unknown[0]!r} (contracts: {', '.join(contracts['ccy'])})",
        )
    all_ccy = list(contracts["ccy"])

    nets: dict[str, pd.DataFrame] = {}
    if legacy is not None:
        nets["noncomm"] = net_contracts(legacy, "noncomm", contracts=contracts, source="legacy")
    if tff is not None:
        nets["lev_money"] = net_contracts(tff, "lev_money", contracts=contracts, source="tff")
        nets["asset_mgr"] = net_contracts(tff, "asset_mgr", contracts=contracts, source="tff")
    dates = pd.DatetimeIndex(
        sorted(set().union(*[set(n.index) for n in nets.values()])), name="as_of"
    )
    nets = {k: v.reindex(index=dates, columns=all_ccy) for k, v in nets.items()}
    _require_a_basket(nets["noncomm" if "noncomm" in nets else "lev_money"], baskets)
    # Basket members must have an FX column (InputError otherwise); other contracts only if quoted.
    priced = [c for c in all_ccy if c in members or c == USD_INDEX or c in fx.columns]
    rates = usd_per_unit_frame(
        fx, dates, priced, dxy=dxy, require_dxy=USD_INDEX in members, source="fx"
    ).reindex(columns=all_ccy)
    # Everything is aligned on (dates × all_ccy) now: USD values are one array product per class.
    usds = {k: usd_values(v, rates, contracts=contracts) for k, v in nets.items()}

    wk: dict[str, object] = {}
    releases = (
        expected_release(dates, tz=tz)
        if release_times is None
        else pd.DatetimeIndex(pd.Series(release_times).reindex(dates))
    )
    wk["release_time"] = releases
    for trader, prefix in SERIES_PREFIX.items():
        if trader not in usds:
            continue
        for bname, members_b in baskets.items():
            wk[f"{prefix}_{bname}"] = net_usd(usds[trader], members_b).to_numpy()
    main_trader = "noncomm" if "noncomm" in nets else "lev_money"
    head = f"{SERIES_PREFIX[main_trader]}_{headline_basket}"
    wk["partial"] = partial_weeks(usds[main_trader], members).to_numpy()
    if "noncomm" in nets and "lev_money" in nets:
        wk["partial_tff"] = partial_weeks(usds["lev_money"], members).to_numpy()
    # Decomposition and stats for the headline basket, per trader class present.
    for trader, prefix in SERIES_PREFIX.items():
        if trader not in nets:
            continue
        col = f"{prefix}_{headline_basket}"
        dec = change_decomposition(
            nets[trader], rates, baskets[headline_basket], contracts=contracts
        )
        for c in dec.columns:
            wk[f"{col}_{c}"] = dec[c].to_numpy()

    # z-scores, percentiles and COT index: one vectorised pass per window over every series.
    series_cols = [
        f"{prefix}_{b}"
        for trader, prefix in SERIES_PREFIX.items()
        if trader in nets
        for b in baskets
    ]
    mat = np.column_stack([np.asarray(wk[c], dtype=float) for c in series_cols])
    rolled = {label: rolling_stats(mat, w) for label, w in WINDOWS_WEEKS.items()}
    for trader, prefix in SERIES_PREFIX.items():
        if trader not in nets:
            continue
        col = f"{prefix}_{headline_basket}"
        j = series_cols.index(col)
        for label in WINDOWS_WEEKS:
            wk[f"{col}_z_{label}"] = rolled[label].zscore[:, j]
            wk[f"{col}_pct_{label}"] = rolled[label].percentile[:, j]
        wk[f"{col}_cot_index_3y"] = rolled["3y"].cot_index[:, j]

    weekly = pd.DataFrame(wk, index=dates)
    complete = weekly.index[~weekly["partial"].to_numpy() & weekly[head].notna().to_numpy()]
    latest = complete[-1] if len(complete) else None

    # Long per-currency table.
    cur_parts = {
        "net_contracts": nets.get("noncomm"),
        "levfunds_net_contracts": nets.get("lev_money"),
        "assetmgr_net_contracts": nets.get("asset_mgr"),
        "usd": usds.get("noncomm"),
        "levfunds_usd": usds.get("lev_money"),
        "assetmgr_usd": usds.get("asset_mgr"),
    }
    n_d, n_c = len(dates), len(all_ccy)
    currencies = pd.DataFrame(
        {
            "as_of": np.repeat(dates.to_numpy(), n_c),
            "ccy": np.tile(np.array(all_ccy, dtype=object), n_d),
        }
    )
    currencies["code"] = np.tile(contracts["code"].to_numpy(dtype=object), n_d)
    for name, frame in cur_parts.items():
        currencies[name] = frame.to_numpy(dtype=float).ravel() if frame is not None else np.nan
    currencies["usd_per_unit"] = rates.to_numpy(dtype=float).ravel()
    currencies["contract_size"] = np.tile(contracts["contract_size"].to_numpy(dtype=float), n_d)
    sign = np.tile(_signs(all_ccy), n_d)
    currencies["contribution_usd"] = -currencies["usd"].to_numpy() * sign
    currencies["levfunds_contribution_usd"] = -currencies["levfunds_usd"].to_numpy() * sign
    currencies["assetmgr_contribution_usd"] = -currencies["assetmgr_usd"].to_numpy() * sign
    currencies["ccy"] = currencies["ccy"].astype(str)
    currencies["code"] = currencies["code"].astype(str)

    # Stats, peaks, crowding, unwind on the complete part of each series.
    stat_rows = []
    peaks_frames = []
    crowd_frames = []
    unwind_frames = []
    for trader, prefix in SERIES_PREFIX.items():
        if trader not in nets:
            continue
        for bname in baskets:
            col = f"{prefix}_{bname}"
            s = weekly[col].dropna()
            if s.empty:
                continue
            last = float(s.iloc[-1])
            j = series_cols.index(col)
            t = int(np.flatnonzero(~np.isnan(mat[:, j]))[-1])
            for label, w in WINDOWS_WEEKS.items():
                st = rolled[label]
                tail = mat[max(0, t - w + 1) : t + 1, j]
                tail = tail[~np.isnan(tail)]
                stat_rows.append(
                    {
                        "series": col,
                        "trader": trader,
                        "basket": bname,
                        "window": label,
                        "window_weeks": w,
                        "as_of": s.index[-1],
                        "value_usd": last,
                        "zscore": float(st.zscore[t, j]),
                        "percentile": float(st.percentile[t, j]),
                        "cot_index": float(st.cot_index[t, j]),
                        "mean_usd": float(tail.mean()),
                        "median_usd": float(np.median(tail)),
                        "std_usd": float(tail.std(ddof=1)) if len(tail) > 1 else np.nan,
                        "min_usd": float(tail.min()),
                        "max_usd": float(tail.max()),
                        "weeks_available": int(len(tail)),
                    }
                )
            if bname == headline_basket:
                pk = previous_peaks(s, half_window=peak_half_window)
                pk.insert(0, "series", col)
                peaks_frames.append(pk)
                members_b = list(baskets[bname])
                ok_dates = s.index
                ok_rows = np.flatnonzero(~np.isnan(mat[:, j]))
                n_ok = nets[trader][members_b].iloc[ok_rows]
                u_ok = usds[trader][members_b].iloc[ok_rows]
                cr = crowding(n_ok, u_ok, window=stats_window)
                cr.insert(0, "series", col)
                cr.insert(1, "as_of", ok_dates[-1])
                crowd_frames.append(cr)
                # Both scenarios are published; ``unwind_to`` names the headline one.
                for scenario, target in (
                    ("median", float(s.iloc[-unwind_weeks:].median())),
                    ("zero", 0.0),
                ):
                    uw = unwind(u_ok.iloc[-1], last, target)
                    uw.insert(0, "series", col)
                    uw.insert(1, "scenario", scenario)
                    uw.insert(2, "as_of", ok_dates[-1])
                    uw["target_net_usd"] = target
                    uw["current_net_usd"] = last
                    unwind_frames.append(uw)

    stats = pd.DataFrame(stat_rows)
    peaks = (
        pd.concat(peaks_frames, ignore_index=True)
        if peaks_frames
        else pd.DataFrame(
            columns=["series", "as_of", "kind", "value_usd", "distance_usd", "weeks_ago"]
        )
    )
    crowd = pd.concat(crowd_frames, ignore_index=True) if crowd_frames else pd.DataFrame()
    unw = pd.concat(unwind_frames, ignore_index=True) if unwind_frames else pd.DataFrame()
    weekly = weekly.reset_index()
    return CftcAnalytics(
        weekly=weekly,
        currencies=currencies,
        stats=stats,
        peaks=peaks,
        crowding=crowd,
        unwind=unw,
        latest_complete=latest,
        headline_series=head,
        info={
            "partial_weeks": int(weekly["partial"].sum()),
            "weeks": int(len(weekly)),
            "unwind_to": unwind_to,
            "unwind_weeks": unwind_weeks,
        },
    )
