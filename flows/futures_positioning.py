"""Futures positioning beyond FX: equity-index, VIX and rates futures from the CFTC TFF report.

Pure and vectorised: frames in, frames out; no I/O, no clock, no config.  Inputs:

* ``tff``: the TFF frame of :func:`flows.sources.cftc_files.parse_report` /
  :func:`flows.sources.cftc_socrata.parse_rows` (:data:`flows.schema.COT_TFF_COLUMNS`, one row per
  report date and contract market code), ideally with the ``contract_units`` column
  (``units=True``);
* ``markets``: the markets table (:mod:`flows.sources.tff_markets`), the rows to analyse;
* ``closes`` (optional): index levels, DatetimeIndex of session dates x one column per
  ``underlying`` of the table (``SPX``, ``NDX``, ``RUT``, ``DJI``, ``VX``), index points
  (:func:`closes_frame` builds it from :data:`flows.schema.PRICE_COLUMNS` frames).

Conventions and formulas
------------------------
Trader classes (:data:`CLASSES`): ``dealer``, ``asset_manager``, ``leveraged_funds``,
``other_reportables``, ``nonreportables`` (the TFF report's Dealer/Intermediary, Asset
Manager/Institutional, Leveraged Funds, Other Reportables, Nonreportable Positions).

* ``net_contracts = long - short`` (contracts; spreading positions are long and short at once
  and cancel).  ``net_pct_oi = 100 x net / open interest`` (percent).
* ``net_change_contracts``: change from the previous report *week*; NaN when the market has no
  report that week (a gap is not a weekly change).
* Statistics over the last 52 / 156 / 260 report weeks (``1y`` / ``3y`` / ``5y``,
  :data:`WINDOWS`) including the current one, on the **weeks present**: a week in which a
  market has no report is left out of its windows (never forward-filled), and a figure is
  NaN when fewer than ``min_share`` (default 90 %) of the window's weeks are present (a
  history gap, a market listed recently):

  - ``zscore = (x - mean) / std`` (sample std, ddof 1; NaN when the window has no range);
  - ``percentile = 100 x #{x_i <= x} / #{x_i}`` (0-100, the window's maximum is 100), the
    definition of :func:`flows.cftc.rolling_stats`;
  - ``cot_index = 100 x (x - min) / (max - min)`` (0-100; 50 when max = min).

  Weeks are calendar weeks (Saturday to Friday, one report each): a report dated Monday
  because of a Tuesday holiday stays in its week.
* Previous extremes (``extremes`` table, latest week): highest and lowest net position of the
  window's *earlier* weeks (the current week excluded), their dates, and
  ``distance = net - extreme`` (contracts; > 0 above the previous high = a new high).
* Exposure (on the net position of each class):

  - equity index and VIX: ``usd_per_point = net x multiplier`` (USD per index / VIX futures
    point) and ``notional_usd = usd_per_point x close`` with the close of the report date (the
    latest session on or before it, at most ``close_max_lag_days`` older); NaN and listed in
    ``info["notional_missing"]`` when no close is given: never guessed;
  - rates: ``dv01_usd_per_bp = net x contract DV01`` (USD gained per 1 bp *fall* in yields;
    + = long duration) and ``ten_year_equivalents = dv01 / DV01 of the 10-year note (ZN)``
    (contracts of ZN with the same DV01).
* Units: every row is converted to the table's contract unit: a row whose ``contract_units``
  text names another dollar amount is multiplied by ``row amount / table amount`` (the
  consolidated index rows were printed in USD 250 / 100 / 10 units through 2021 and in E-mini
  units from 2024); recorded as a repair in the quality.

Crowding flags (:class:`FlagRule`, :data:`DEFAULT_FLAGS`): one row per headline market and
rule on the latest report week: ``value`` of the rule's statistic, ``threshold``,
``flagged`` (True when the value is beyond the threshold and the net position has the rule's
sign).  Thresholds are parameters.

Input quality (:class:`flows.quality.Quality`, basis ``positions``, weighed by open interest):
rows whose unit cannot be read are skipped; rescaled rows are repairs; a market absent in a
week its history spans is a warning.  Plausibility: the positions are checked against
:mod:`flows.limits` (:func:`flows.cftc.check_report`), the DV01s against
``futures.contract_dv01``, the closes against ``price.close``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from flows.calendars import cftc_release_times
from flows.errors import InputError
from flows.formatting import code_label
from flows.limits import check_range
from flows.quality import Quality

CLASSES: Mapping[str, tuple[str, str]] = {
    "dealer": ("dealer_long", "dealer_short"),
    "asset_manager": ("asset_mgr_long", "asset_mgr_short"),
    "leveraged_funds": ("lev_money_long", "lev_money_short"),
    "other_reportables": ("other_rept_long", "other_rept_short"),
    "nonreportables": ("nonrept_long", "nonrept_short"),
}
"""Trader class -> (long, short) columns of :data:`flows.schema.COT_TFF_COLUMNS`."""

WINDOWS: Mapping[str, int] = {"1y": 52, "3y": 156, "5y": 260}
"""Look-back windows, in report weeks."""

DEFAULT_MIN_SHARE = 0.9
"""A window's statistic needs at least this share of its weeks present."""

TEN_YEAR = "ZN"
"""Symbol of the 10-year note: the unit of the 10-year note equivalents."""

HEADLINE_CLASSES = ("asset_manager", "leveraged_funds")
"""Classes with full statistics in the headline (dealers: net contracts only)."""

_WEEK_ORIGIN = np.datetime64("1970-01-03", "D")  # a Saturday: weeks run Saturday..Friday
_USD_AMOUNT = re.compile(r"\$\s*([0-9][0-9,]*(?:\.[0-9]+)?)")
_NEEDED = ("as_of", "code", "open_interest", *(c for pair in CLASSES.values() for c in pair))


@dataclass(frozen=True)
class FlagRule:
    """A crowding rule, evaluated on the latest week of every headline market of ``group``.

    Flagged when ``value <op> threshold`` (``op`` ``"<="`` or ``">="``) and the net position's
    sign agrees with ``sign`` (-1 net short, +1 net long, 0 either).  ``metric`` is a statistic
    of :data:`STAT_METRICS` (e.g. ``percentile_5y``).
    """

    name: str
    group: str
    trader_class: str
    metric: str
    op: str
    threshold: float
    sign: int
    description: str


DEFAULT_FLAGS: tuple[FlagRule, ...] = (
    FlagRule(
        "rates_levfunds_short_extreme",
        "rates",
        "leveraged_funds",
        "percentile_5y",
        "<=",
        5.0,
        -1,
        "leveraged funds net short at a 5-year extreme (bottom 5 % of 5 years of weeks): the basis-trade short a squeeze unwinds",
    ),
    FlagRule(
        "rates_assetmgr_long_extreme",
        "rates",
        "asset_manager",
        "percentile_5y",
        ">=",
        95.0,
        1,
        "asset managers net long at a 5-year extreme (top 5 %): the other side of the basis trade",
    ),
    FlagRule(
        "equity_assetmgr_long_top_decile",
        "equity_index",
        "asset_manager",
        "percentile_3y",
        ">=",
        90.0,
        1,
        "asset managers' equity-index length in the top decile of 3 years",
    ),
    FlagRule(
        "equity_levfunds_short_extreme",
        "equity_index",
        "leveraged_funds",
        "percentile_3y",
        "<=",
        10.0,
        -1,
        "leveraged funds' equity-index short in the bottom decile of 3 years",
    ),
    FlagRule(
        "vix_levfunds_short_extreme",
        "vix",
        "leveraged_funds",
        "percentile_3y",
        "<=",
        10.0,
        -1,
        "leveraged funds' VIX futures short (short volatility) in the bottom decile of 3 years",
    ),
)
"""Default crowding rules (thresholds are parameters of :func:`analyse`)."""

STAT_METRICS: tuple[str, ...] = tuple(
    f"{m}_{w}" for w in WINDOWS for m in ("zscore", "percentile", "cot_index")
)
"""Statistic columns of the positions table (for the default windows)."""

UNITS: Mapping[str, Mapping[str, str]] = {
    "positions": {
        "as_of": "report date (Tuesday; datetime64[ns], tz-naive)",
        "symbol": "market short name (markets table)",
        "code": "6-character CFTC contract market code",
        "group": "equity_index / vix / rates",
        "trader_class": "dealer / asset_manager / leveraged_funds / other_reportables / nonreportables",
        "open_interest": "contracts (in the table's contract unit)",
        "long": "contracts",
        "short": "contracts",
        "net_contracts": "contracts, long - short (+ = net long)",
        "net_pct_oi": "percent of open interest",
        "net_change_contracts": "contracts, change from the previous report week (NaN across a missing week)",
        **{f"zscore_{w}": "dimensionless (sample std)" for w in WINDOWS},
        **{f"percentile_{w}": "0-100" for w in WINDOWS},
        **{f"cot_index_{w}": "0-100" for w in WINDOWS},
        "usd_per_point": "USD per index point (equity) / per VIX futures point (VX); net x multiplier",
        "close": "index points (equity) / VIX futures points (VX): the level used for the notional",
        "notional_usd": "USD, net x multiplier x close (NaN when no close)",
        "dv01_usd_per_bp": "USD per basis point (gain for a 1 bp fall in yields; + = long duration)",
        "ten_year_equivalents": "contracts of the 10-year note (ZN) with the same DV01",
    },
    "reports": {
        "as_of": "report date",
        "symbol": "market short name",
        "code": "6-character CFTC contract market code",
        "market": "market and exchange name as printed that week",
        "contract_units": "Contract_Units text as printed that week",
        "unit_scale": "factor applied to the printed contracts (1 = the table's unit)",
        "open_interest": "contracts (in the table's contract unit)",
        "release_time": "scheduled release instant (tz-aware, America/New_York)",
    },
    "latest": {"*": "as the positions table, for the latest report week"},
    "extremes": {
        "window": "1y / 3y / 5y",
        "weeks_present": "earlier weeks of the window with a report",
        "net_contracts": "contracts, latest week",
        "previous_max_contracts": "contracts, highest net of the window's earlier weeks",
        "previous_max_date": "report date of that high (the most recent if tied)",
        "previous_min_contracts": "contracts, lowest net of the window's earlier weeks",
        "previous_min_date": "report date of that low (the most recent if tied)",
        "distance_to_max_contracts": "contracts, net - previous max (> 0 = new high)",
        "distance_to_min_contracts": "contracts, net - previous min (< 0 = new low)",
    },
    "crowding": {
        "value": "the rule's statistic (0-100 for percentiles and COT indices, dimensionless z)",
        "threshold": "same unit as value",
        "net_contracts": "contracts",
        "flagged": "bool",
    },
    "markets": {
        "multiplier": "USD per point of the quote",
        "dv01_usd_per_bp": "USD per basis point per contract (as applied)",
    },
}
"""Unit of every column of every table of :class:`FuturesPositioning` (``store.publish(units=...)``)."""

HEADLINE_UNITS: Mapping[str, str] = {
    "as_of": "ISO date of the latest report week",
    "release_time": "ISO instant of its scheduled release",
    "*_net_contracts": "contracts",
    "*_net_pct_oi": "percent of open interest",
    "*_net_change_contracts": "contracts (week-on-week)",
    "*_percentile_1y|3y|5y": "0-100",
    "*_zscore_3y": "dimensionless",
    "*_cot_index_3y": "0-100",
    "*_usd_per_point": "USD per index / VIX futures point",
    "*_notional_usd": "USD",
    "*_dv01_usd_per_bp": "USD per basis point (+ = long duration)",
    "*_ten_year_equivalents": "10-year note (ZN) contracts",
    "crowding_flags": "count of flagged (market, rule) pairs",
    "flag_<rule>": "count of markets flagged by the rule",
    "markets_reported": "count of analysed markets with a report in the latest week",
}
"""Unit of each headline key pattern (``*`` = ``<symbol>_<class>`` or ``<group>_<class>``)."""


def headline_unit(key: str) -> str:
    """The unit of headline key ``key`` (:data:`HEADLINE_UNITS`); ``""`` for the text keys
    (``flagged``, ``markets_missing``) and unknown keys."""
    if key in HEADLINE_UNITS:
        return HEADLINE_UNITS[key]
    if key.startswith("flag_"):
        return HEADLINE_UNITS["flag_<rule>"]
    for pattern, unit in HEADLINE_UNITS.items():
        if not pattern.startswith("*_"):
            continue
        stem = pattern[2:]  # "net_contracts", or "percentile_1y|3y|5y"
        head, _, alts = stem.rpartition("_") if "|" in stem else (stem, "", "")
        endings = [f"_{head}_{a}" for a in alts.split("|")] if alts else [f"_{stem}"]
        if any(key.endswith(e) for e in endings):
            return unit
    return ""


@dataclass
class FuturesPositioning:
    """Every table of a futures-positioning result (see :func:`analyse`, :data:`UNITS`).

    * ``positions``: one row per report date, market and trader class (long format);
    * ``reports``: one row per report date and market (name and unit as printed, open interest);
    * ``latest``: the positions rows of the latest report week;
    * ``extremes``: per market, class and window, the previous extremes and the distances;
    * ``crowding``: per headline market and rule, the flag;
    * ``markets``: the markets table as applied (DV01 overrides included);
    * ``headline``: flat dict (keys and units in :data:`HEADLINE_UNITS`);
    * ``quality``: the analysis step's own input quality over the rows it was given (combine it
      with the parsers' with :func:`merge_quality`: the same rows, counted once);
    * ``info``: coverage facts (``history_start`` / ``history_end`` per market, history gaps, windows'
      coverage of the latest week, markets without a close) and ``notes`` for people.
    """

    positions: pd.DataFrame
    reports: pd.DataFrame
    latest: pd.DataFrame
    extremes: pd.DataFrame
    crowding: pd.DataFrame
    markets: pd.DataFrame
    headline: dict[str, Any]
    quality: Quality
    latest_as_of: pd.Timestamp | None
    info: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables to publish, main table first."""
        return {
            "positions": self.positions,
            "reports": self.reports,
            "latest": self.latest,
            "extremes": self.extremes,
            "crowding": self.crowding,
            "markets": self.markets,
        }


def merge_quality(parsed: Quality, step: Quality) -> Quality:
    """The parsers' quality with the analysis step's findings added (skips, repairs, warnings).

    The step weighed the same rows the parsers read, so its totals are not added again
    (:meth:`Quality.merge` would count every row twice and halve the skipped share).
    """
    return parsed.merge(replace(step, total_rows=0, total_weight=0.0))


# -- inputs ---------------------------------------------------------------------------------------
def with_dv01(
    markets: pd.DataFrame, overrides: Mapping[str, float] | None, *, source: str = "dv01"
) -> pd.DataFrame:
    """The markets table with the DV01 of some rates markets replaced (symbol -> USD per bp).

    ``dv01_source`` of a replaced row says so.  Raises :class:`InputError` for an unknown
    symbol, a market that is not a rates market, or a value outside ``futures.contract_dv01``.
    """
    out = markets.copy()
    for symbol, value in (overrides or {}).items():
        hit = out.index[out["symbol"] == symbol]
        if not len(hit):
            raise InputError(source, symbol, f"unknown market (known: {', '.join(out['symbol'])})")
        if out.loc[hit[0], "group"] != "rates":
            raise InputError(source, symbol, "a DV01 applies to rates markets only")
        check_range([float(value)], "futures.contract_dv01", source, field=symbol, ignore_nan=False)
        out.loc[hit[0], "dv01_usd_per_bp"] = float(value)
        out.loc[hit[0], "dv01_source"] = "override"
    return out


def select_markets(
    markets: pd.DataFrame, symbols: Iterable[str] | None, *, source: str = "market"
) -> pd.DataFrame:
    """The rows of ``markets`` for ``symbols`` (case-insensitive; None = every row).

    Raises :class:`InputError` naming an unknown symbol and listing the known ones.
    """
    if symbols is None:
        return markets.reset_index(drop=True)
    wanted = [str(s).strip().upper() for s in symbols]
    known = list(markets["symbol"])
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise InputError(source, None, f"unknown market {unknown[0]!r} (known: {', '.join(known)})")
    return markets[markets["symbol"].isin(wanted)].reset_index(drop=True)


def closes_frame(prices: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Wide closes frame from price histories (:data:`flows.schema.PRICE_COLUMNS` frames).

    ``prices`` maps an underlying symbol (``SPX``, ``NDX``, ``RUT``, ``DJI``, ``VX``) to its frame
    (columns ``date``, ``close``).  Returns DatetimeIndex (union of dates) x symbols, index
    points; NaN where a symbol has no close that day.
    """
    cols = {
        sym: pd.Series(f["close"].to_numpy(dtype=float), index=pd.DatetimeIndex(f["date"]))
        for sym, f in prices.items()
    }
    if not cols:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="date"))
    out = pd.DataFrame(cols).sort_index()
    out.index.name = "date"
    return out


def vx_front_month(settlements: pd.DataFrame) -> pd.DataFrame:
    """The front-month VIX futures settlement per trade date: the level the VX positions'
    notional is valued at (all expiries together, as the TFF report sums them).

    ``settlements`` in the :data:`flows.schema.VX_COLUMNS` layout (one row per contract and
    date; ``settle`` VIX futures points).  The front month on a date is the contract with the
    earliest final settlement strictly after it (on its own final-settlement day a contract
    settles at the special opening quotation and is no longer the one positions roll into).
    Returns ``date`` (sorted, unique) and ``close`` (VIX futures points); rows without a finite
    positive settlement are not used.  Empty in, empty out.
    """
    date = pd.DatetimeIndex(settlements["date"]).to_numpy(dtype="datetime64[ns]")
    expiry = pd.DatetimeIndex(settlements["expiry"]).to_numpy(dtype="datetime64[ns]")
    settle = settlements["settle"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        use = (expiry > date) & np.isfinite(settle) & (settle > 0)
    date, expiry, settle = date[use], expiry[use], settle[use]
    order = np.lexsort((expiry, date))  # by date, then the nearest expiry first
    date, settle = date[order], settle[order]
    first = np.ones(date.size, dtype=bool)
    first[1:] = date[1:] != date[:-1]
    return pd.DataFrame({"date": date[first], "close": settle[first]})


def usd_amount(units: str) -> float:
    """The dollar amount of a ``Contract_Units`` text: ``($50 X S&P 500 INDEX)`` -> 50,
    ``(CONTRACTS OF $100,000 FACE VALUE)`` -> 100000; NaN when the text names none."""
    m = _USD_AMOUNT.search(units or "")
    return float(m.group(1).replace(",", "")) if m else math.nan


def unit_scale(printed: Sequence[str], table_units: Sequence[str]) -> np.ndarray:
    """Factor turning contracts printed in ``printed`` units into the table's units.

    ``printed amount / table amount`` of the two texts' dollar amounts (a $250 contract is five
    $50 contracts); 1 where the texts are equal or the row's text is blank (the unit the table
    documents); NaN where the row's text differs and names no dollar amount (unknown unit).
    """
    p = pd.Series(np.asarray(printed, dtype=object)).astype(str).str.strip().to_numpy(dtype=object)
    t = (
        pd.Series(np.asarray(table_units, dtype=object))
        .astype(str)
        .str.strip()
        .to_numpy(dtype=object)
    )
    texts = pd.unique(np.concatenate([p, t]))  # a handful of distinct texts: parse each once
    amount = dict(zip(texts, (usd_amount(u) for u in texts), strict=True))
    amounts_p = np.array([amount[u] for u in p], dtype=float)
    amounts_t = np.array([amount[u] for u in t], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = amounts_p / amounts_t
    same = (p == t) | (p == "")
    scale = np.where(same, 1.0, scale)
    return np.where(np.isfinite(scale) & (scale > 0), scale, np.nan)


# -- statistics -----------------------------------------------------------------------------------
@dataclass
class WindowStats:
    """Rolling statistics of weekly series (arrays shaped weeks x series), see the module docstring."""

    zscore: np.ndarray
    percentile: np.ndarray
    cot_index: np.ndarray
    count: np.ndarray


def window_stats(values: np.ndarray, window: int, min_periods: int) -> WindowStats:
    """z-score, percentile and COT index of each value over the last ``window`` rows (itself
    included), on the non-NaN values only; NaN where fewer than ``min_periods`` are present or
    the value itself is NaN.

    Same definitions as :func:`flows.cftc.rolling_stats` (tested equal), computed with pandas'
    rolling windows (O(rows x log window) instead of a rows x window array).  The series are
    laid end to end in one column, each preceded by ``window - 1`` NaN so no window reaches into
    the previous series: one pass per statistic instead of one per series (the whole
    2017-2026 history of 15 markets x 5 classes takes a few milliseconds per window).
    """
    x = np.asarray(values, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    n, k = x.shape
    padded = np.vstack([np.full((window - 1, k), np.nan), x])
    roll = pd.Series(padded.T.ravel()).rolling(window, min_periods=min_periods)

    def back(series: pd.Series) -> np.ndarray:
        return np.asarray(
            series.to_numpy(dtype=float).reshape(k, n + window - 1)[:, window - 1 :].T,
            dtype=np.float64,
        )

    mean = back(roll.mean())
    std = back(roll.std(ddof=1))
    lo = back(roll.min())
    hi = back(roll.max())
    rank = back(roll.rank(method="max", pct=True))
    count = back(roll.count())
    ok = np.isfinite(x) & np.isfinite(mean)
    rng = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        # rolling std of a constant window can come out as ~1e-10, not 0: no range = no z-score
        z = np.where(ok & (rng > 0) & (std > 0), (x - mean) / std, np.nan)
        cot = np.where(
            ok, np.where(rng > 0, 100.0 * (x - lo) / np.where(rng > 0, rng, 1.0), 50.0), np.nan
        )
    pct = np.where(ok, 100.0 * rank, np.nan)
    return WindowStats(zscore=z, percentile=pct, cot_index=cot, count=count)


def min_periods_for(window: int, min_share: float) -> int:
    """Weeks a window needs present: ``ceil(min_share x window)``, at least 2."""
    return max(2, int(math.ceil(min_share * window - 1e-9)))


# -- the analysis ---------------------------------------------------------------------------------
@dataclass
class _Grid:
    """Every market's reports on one calendar of weeks (weeks x markets arrays, NaN = no report)."""

    weeks: np.ndarray  # week number of each row (int)
    dates: np.ndarray  # report date per (week, market), NaT where absent
    week_dates: np.ndarray  # report date of each week (the latest one that week), NaT where none
    present: np.ndarray  # bool (weeks, markets)
    oi: np.ndarray
    long: np.ndarray  # (weeks, markets, classes)
    short: np.ndarray


def _check_input(tff: pd.DataFrame, source: str) -> None:
    missing = [c for c in _NEEDED if c not in tff.columns]
    if missing:
        raise InputError(
            source, missing[0], f"missing column (the TFF frame needs {', '.join(_NEEDED)})"
        )


def analyse(
    tff: pd.DataFrame,
    markets: pd.DataFrame,
    *,
    closes: pd.DataFrame | None = None,
    windows: Mapping[str, int] = WINDOWS,
    min_share: float = DEFAULT_MIN_SHARE,
    flags: Sequence[FlagRule] = DEFAULT_FLAGS,
    close_max_lag_days: int = 4,
    ten_year_dv01: float | None = None,
    tz: str = "America/New_York",
    source: str = "tff",
) -> FuturesPositioning:
    """Positioning of every market of ``markets`` by trader class, with statistics and exposure.

    Parameters
    ----------
    tff:
        TFF rows (see the module docstring); rows of other codes are ignored.
    markets:
        Markets table rows to analyse (:func:`flows.sources.tff_markets.parse`, optionally
        through :func:`select_markets` / :func:`with_dv01`).
    closes:
        Index levels by session date for the notional (columns = the table's ``underlying``).
    windows:
        Label -> window in report weeks (default 1y/3y/5y = 52/156/260).
    min_share:
        Share of a window's weeks that must be present (0 < min_share <= 1).
    flags:
        Crowding rules (:data:`DEFAULT_FLAGS`).
    close_max_lag_days:
        Oldest close accepted for a report date, calendar days.
    ten_year_dv01:
        DV01 of the 10-year note, USD per bp (default: the ``ZN`` row of ``markets``; pass it
        when ``markets`` lacks that row, else the 10-year equivalents are NaN).
    tz:
        Time zone of the release times.
    source:
        Named in errors and in the quality.

    Returns
    -------
    FuturesPositioning
        See its docstring and :data:`UNITS`; ``positions`` sorted by date, table order of the
        markets, class order of :data:`CLASSES`.

    Raises
    ------
    InputError
        A missing column, no row of any requested market, two reports of one market in one
        week, an implausible position (:func:`flows.cftc.check_report`) or close, an unknown
        flag metric or class, ``min_share`` outside (0, 1].
    """
    from flows.cftc import check_report

    _check_input(tff, source)
    if not 0 < float(min_share) <= 1:
        raise InputError(source, "min_share", f"must be in (0, 1] (got {min_share!r})")
    if markets.empty:
        raise InputError(source, "markets", "no market to analyse")
    for rule in flags:
        if rule.trader_class not in CLASSES:
            raise InputError(
                source, "flags", f"rule {rule.name}: unknown trader class {rule.trader_class!r}"
            )
        if rule.metric not in {
            f"{m}_{w}" for w in windows for m in ("zscore", "percentile", "cot_index")
        }:
            raise InputError(source, "flags", f"rule {rule.name}: unknown metric {rule.metric!r}")
        if rule.op not in ("<=", ">="):
            raise InputError(
                source, "flags", f"rule {rule.name}: op must be '<=' or '>=' (got {rule.op!r})"
            )
    markets = markets.reset_index(drop=True)
    codes = markets["code"].astype(str).tolist()
    rows = tff[tff["code"].astype(str).isin(codes)]
    if rows.empty:
        asked = ", ".join(f"{s} ({c})" for s, c in zip(markets["symbol"], codes, strict=True))
        raise InputError(source, "code", f"no rows of the requested markets: {asked}")
    check_report(
        rows, "tff", source
    )  # positions within [0, open interest]: rows may come from the store
    q = Quality(
        source=source,
        basis="positions",
        total_rows=len(rows),
        total_weight=float(rows["open_interest"].sum()),
    )
    rows, scale = _to_table_units(rows, markets, q)
    grid = _grid(rows, markets, scale, source)
    n_w, n_m = grid.present.shape
    names = list(CLASSES)
    n_k = len(names)
    net = grid.long - grid.short  # (w, m, k), NaN where absent
    with np.errstate(invalid="ignore", divide="ignore"):
        pct_oi = 100.0 * net / grid.oi[:, :, None]
    prev = np.vstack([np.full((1, n_m, n_k), np.nan), net[:-1]])
    change = net - prev  # NaN when the previous week is missing: no change across a gap
    flat = net.reshape(n_w, n_m * n_k)
    stats = {
        label: window_stats(flat, w, min_periods_for(w, min_share)) for label, w in windows.items()
    }

    # exposure
    symbols = markets["symbol"].astype(str).to_numpy()
    groups = markets["group"].astype(str).to_numpy()
    mult = markets["multiplier"].to_numpy(dtype=float)
    dv01 = markets["dv01_usd_per_bp"].to_numpy(dtype=float)
    priced = np.isin(groups, ["equity_index", "vix"])
    rates = groups == "rates"
    close, notional_missing = _aligned_closes(closes, markets, grid, close_max_lag_days, source)
    usd_per_point = np.where(priced[None, :, None], net * mult[None, :, None], np.nan)
    notional = usd_per_point * close[:, :, None]
    dv01_exp = np.where(
        rates[None, :, None], net * np.nan_to_num(dv01, nan=0.0)[None, :, None], np.nan
    )
    if ten_year_dv01 is None:
        zn = markets.loc[markets["symbol"] == TEN_YEAR, "dv01_usd_per_bp"]
        ten_year_dv01 = float(zn.iloc[0]) if len(zn) else math.nan
    zn_dv01 = float(ten_year_dv01)
    ten_year = dv01_exp / zn_dv01 if np.isfinite(zn_dv01) else np.full_like(dv01_exp, np.nan)

    # long table: present (week, market) cells x classes
    w_idx, m_idx = np.nonzero(grid.present)
    rep_w = np.repeat(w_idx, n_k)
    rep_m = np.repeat(m_idx, n_k)
    rep_k = np.tile(np.arange(n_k), len(w_idx))
    positions = pd.DataFrame(
        {
            "as_of": grid.dates[rep_w, rep_m],
            "symbol": symbols[rep_m].astype(object),
            "code": np.asarray(codes, dtype=object)[rep_m],
            "group": groups[rep_m].astype(object),
            "trader_class": np.asarray(names, dtype=object)[rep_k],
            "open_interest": grid.oi[rep_w, rep_m],
            "long": grid.long[rep_w, rep_m, rep_k],
            "short": grid.short[rep_w, rep_m, rep_k],
            "net_contracts": net[rep_w, rep_m, rep_k],
            "net_pct_oi": pct_oi[rep_w, rep_m, rep_k],
            "net_change_contracts": change[rep_w, rep_m, rep_k],
        }
    )
    col = rep_m * n_k + rep_k
    for label in windows:
        st = stats[label]
        positions[f"zscore_{label}"] = st.zscore[rep_w, col]
        positions[f"percentile_{label}"] = st.percentile[rep_w, col]
        positions[f"cot_index_{label}"] = st.cot_index[rep_w, col]
    positions["usd_per_point"] = usd_per_point[rep_w, rep_m, rep_k]
    positions["close"] = close[rep_w, rep_m]
    positions["notional_usd"] = notional[rep_w, rep_m, rep_k]
    positions["dv01_usd_per_bp"] = dv01_exp[rep_w, rep_m, rep_k]
    positions["ten_year_equivalents"] = ten_year[rep_w, rep_m, rep_k]
    for c in ("symbol", "code", "group", "trader_class"):
        positions[c] = positions[c].astype(str)

    reports = _reports(rows, markets, grid, tz)
    last_w = n_w - 1
    latest_as_of = pd.Timestamp(grid.week_dates[last_w])
    latest = positions[rep_w == last_w].reset_index(
        drop=True
    )  # the last report week (a Monday report included)
    extremes = _extremes(net, grid, symbols, codes, names, windows, min_share)
    crowd = _crowding(flags, markets, stats, net, grid, names, latest_as_of)
    info = _coverage(grid, markets, windows, min_share, notional_missing, q)
    head = headline(latest, crowd, markets, latest_as_of, reports)
    applied = markets.drop(columns=[c for c in ("line",) if c in markets.columns]).reset_index(
        drop=True
    )
    return FuturesPositioning(
        positions=positions,
        reports=reports,
        latest=latest,
        extremes=extremes,
        crowding=crowd,
        markets=applied,
        headline=head,
        quality=q,
        latest_as_of=latest_as_of,
        info=info,
    )


def _to_table_units(
    rows: pd.DataFrame, markets: pd.DataFrame, q: Quality
) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows with a readable unit and each one's scale to the table's unit (skips and repairs in ``q``)."""
    table_units = (
        markets.set_index("code")["contract_units"]
        .reindex(rows["code"].astype(str))
        .to_numpy(dtype=object)
    )
    if "contract_units" not in rows.columns:
        kinds = markets.set_index("code")["kind"]
        cons = sorted(set(rows["code"].astype(str)) & set(kinds[kinds == "consolidated"].index))
        if cons:
            q.warn(
                f"{q.source}: no contract_units column: the consolidated rows {', '.join(cons)} are taken in the table's unit, which they used only from 2024 (parse with units=True)"
            )
        return rows, np.ones(len(rows))
    printed = rows["contract_units"].astype(str).to_numpy(dtype=object)
    scale = unit_scale(printed, table_units)
    bad = ~np.isfinite(scale)
    if bad.any():
        oi = rows["open_interest"].to_numpy(dtype=float)
        first = rows[bad].iloc[0]
        reason = "contract_units: unit not readable (no dollar amount) and not the table's"
        q.skip(reason, int(bad.sum()), float(oi[bad].sum()))
        q.warn(
            f"{q.source}: {int(bad.sum())} row(s) skipped: {first['code']} on {pd.Timestamp(first['as_of']).date()} printed in {first['contract_units']!r}, the table's unit is {table_units[np.flatnonzero(bad)[0]]!r}"
        )
    rescaled = np.isfinite(scale) & (scale != 1.0)
    if rescaled.any():
        r = rows[rescaled]
        kinds = markets.set_index("code")["kind"]
        units_of = markets.set_index("code")["contract_units"]
        for (code, units), n in r.groupby(["code", "contract_units"]).size().items():
            s = float(
                scale[
                    np.flatnonzero(
                        rescaled & (rows["code"].to_numpy() == code) & (printed == units)
                    )[0]
                ]
            )
            q.repair(f"{code} printed in {units}: positions x {s:g} to the table's unit", int(n))
            if kinds.get(code) != "consolidated":
                # a consolidated row's unit changed by design (documented in the table); a single
                # contract printed in another unit is a respecification or a damaged cell: say so
                q.warn(
                    f"{q.source}: {code} printed in {units} on {int(n)} row(s), the table's unit is {units_of.get(code)}: positions rescaled x {s:g}"
                )
    keep = ~bad
    return rows[keep], scale[keep]


def _grid(rows: pd.DataFrame, markets: pd.DataFrame, scale: np.ndarray, source: str) -> _Grid:
    codes = markets["code"].astype(str).tolist()
    m = pd.Index(codes).get_indexer(rows["code"].astype(str))
    days = rows["as_of"].to_numpy(dtype="datetime64[ns]")
    week = ((days.astype("datetime64[D]") - _WEEK_ORIGIN) // np.timedelta64(7, "D")).astype(
        np.int64
    )
    key = (week - week.min()) * len(codes) + m
    uniq, counts = np.unique(key, return_counts=True)
    if (counts > 1).any():
        k = uniq[counts > 1][0]
        hit = rows[key == k]
        raise InputError(
            source,
            "as_of",
            f"two reports of {hit['code'].iloc[0]} in one week ({', '.join(str(pd.Timestamp(d).date()) for d in hit['as_of'])}): one report a week expected",
        )
    w0 = int(week.min())
    n_w, n_m, n_k = int(week.max()) - w0 + 1, len(codes), len(CLASSES)
    wi = week - w0
    present = np.zeros((n_w, n_m), dtype=bool)
    present[wi, m] = True
    dates = np.full((n_w, n_m), np.datetime64("NaT"), dtype="datetime64[ns]")
    dates[wi, m] = days
    week_dates = np.full(n_w, np.datetime64("NaT"), dtype="datetime64[ns]")
    order = np.argsort(days, kind="stable")
    week_dates[wi[order]] = days[order]  # the latest report date of each week
    oi = np.full((n_w, n_m), np.nan)
    oi[wi, m] = rows["open_interest"].to_numpy(dtype=float) * scale
    long = np.full((n_w, n_m, n_k), np.nan)
    short = np.full((n_w, n_m, n_k), np.nan)
    for k, (lc, sc) in enumerate(CLASSES.values()):
        long[wi, m, k] = rows[lc].to_numpy(dtype=float) * scale
        short[wi, m, k] = rows[sc].to_numpy(dtype=float) * scale
    return _Grid(
        weeks=np.arange(n_w) + w0,
        dates=dates,
        week_dates=week_dates,
        present=present,
        oi=oi,
        long=long,
        short=short,
    )


def _aligned_closes(
    closes: pd.DataFrame | None, markets: pd.DataFrame, grid: _Grid, max_lag_days: int, source: str
) -> tuple[np.ndarray, list[str]]:
    """Close of each market's underlying on each report date (weeks x markets; NaN = none)."""
    n_w, n_m = grid.present.shape
    out = np.full((n_w, n_m), np.nan)
    missing: list[str] = []
    under = markets["underlying"].astype(str).tolist()
    groups = markets["group"].astype(str).tolist()
    for j, (sym, und, grp) in enumerate(zip(markets["symbol"], under, groups, strict=True)):
        if grp == "rates":
            continue
        if closes is None or not und or und not in closes.columns:
            missing.append(str(sym))
            continue
        s = closes[und].dropna().sort_index()
        check_range(
            s.to_numpy(dtype=float),
            "price.close",
            f"closes ({und})",
            rows=[str(pd.Timestamp(d).date()) for d in s.index],
            field=und,
        )
        idx = (
            pd.DatetimeIndex(s.index).tz_localize(None)
            if pd.DatetimeIndex(s.index).tz is not None
            else pd.DatetimeIndex(s.index)
        )
        days = grid.dates[:, j]
        have = ~np.isnat(days)
        pos = idx.searchsorted(days[have], side="right") - 1
        ok = pos >= 0
        vals = np.full(have.sum(), np.nan)
        if len(idx):
            lag = (days[have] - idx.to_numpy()[np.where(ok, pos, 0)]) / np.timedelta64(1, "D")
            ok &= lag <= max_lag_days
            vals[ok] = s.to_numpy(dtype=float)[pos[ok]]
        col = np.full(n_w, np.nan)
        col[have] = vals
        out[:, j] = col
        if have.any() and np.isnan(vals).all():
            missing.append(str(sym))
    return out, missing


def _reports(rows: pd.DataFrame, markets: pd.DataFrame, grid: _Grid, tz: str) -> pd.DataFrame:
    sym = markets.set_index("code")["symbol"]
    table_units = markets.set_index("code")["contract_units"]
    out = pd.DataFrame(
        {
            "as_of": rows["as_of"].to_numpy(dtype="datetime64[ns]"),
            "code": rows["code"].astype(str).to_numpy(),
        }
    )
    out["symbol"] = sym.reindex(out["code"]).to_numpy()
    out["market"] = rows["market"].astype(str).to_numpy() if "market" in rows.columns else ""
    units = (
        rows["contract_units"].astype(str).to_numpy()
        if "contract_units" in rows.columns
        else table_units.reindex(out["code"]).to_numpy()
    )
    out["contract_units"] = units
    out["unit_scale"] = unit_scale(units, table_units.reindex(out["code"]).to_numpy())
    out["open_interest"] = (
        rows["open_interest"].to_numpy(dtype=float) * out["unit_scale"].to_numpy()
    )
    out["release_time"] = cftc_release_times(pd.DatetimeIndex(out["as_of"]), tz=tz)
    order = pd.Index(markets["code"]).get_indexer(out["code"])
    out = (
        out.assign(_m=order)
        .sort_values(["as_of", "_m"], kind="stable")
        .drop(columns="_m")
        .reset_index(drop=True)
    )
    for c in ("code", "symbol", "market", "contract_units"):
        out[c] = out[c].astype(str)
    return out[
        [
            "as_of",
            "symbol",
            "code",
            "market",
            "contract_units",
            "unit_scale",
            "open_interest",
            "release_time",
        ]
    ]


def _extremes(
    net: np.ndarray,
    grid: _Grid,
    symbols: np.ndarray,
    codes: list[str],
    names: list[str],
    windows: Mapping[str, int],
    min_share: float,
) -> pd.DataFrame:
    """Previous extremes of the latest week, per market, class and window (module docstring)."""
    n_w, n_m, n_k = net.shape
    t = n_w - 1
    parts = []
    for label, w in windows.items():
        lo_row = max(0, t - w + 1)
        earlier = net[lo_row:t]  # the window's weeks before the latest one
        dates = grid.dates[lo_row:t]
        count = np.isfinite(earlier).sum(axis=0)  # (m, k)
        need = min_periods_for(w - 1, min_share) if w > 1 else 1
        enough = count >= need
        filled_max = np.where(np.isfinite(earlier), earlier, -np.inf)
        filled_min = np.where(np.isfinite(earlier), earlier, np.inf)
        if len(earlier):
            # the most recent week holding the extreme: argmax over the reversed weeks
            i_max = len(earlier) - 1 - np.argmax(filled_max[::-1], axis=0)
            i_min = len(earlier) - 1 - np.argmin(filled_min[::-1], axis=0)
            vmax = np.take_along_axis(filled_max, i_max[None], axis=0)[0]
            vmin = np.take_along_axis(filled_min, i_min[None], axis=0)[0]
            d_max = dates[i_max, np.arange(n_m)[:, None]]
            d_min = dates[i_min, np.arange(n_m)[:, None]]
        else:
            vmax = vmin = np.full((n_m, n_k), np.nan)
            d_max = d_min = np.full((n_m, n_k), np.datetime64("NaT"), dtype="datetime64[ns]")
        vmax = np.where(enough, vmax, np.nan)
        vmin = np.where(enough, vmin, np.nan)
        d_max = np.where(enough, d_max, np.datetime64("NaT"))
        d_min = np.where(enough, d_min, np.datetime64("NaT"))
        cur = net[t]
        parts.append(
            pd.DataFrame(
                {
                    "as_of": np.repeat(grid.dates[t], n_k),
                    "symbol": np.repeat(symbols, n_k).astype(object),
                    "code": np.repeat(np.asarray(codes, dtype=object), n_k),
                    "trader_class": np.tile(np.asarray(names, dtype=object), n_m),
                    "window": label,
                    "weeks_present": count.ravel(),
                    "net_contracts": cur.ravel(),
                    "previous_max_contracts": vmax.ravel(),
                    "previous_max_date": d_max.ravel().astype("datetime64[ns]"),
                    "previous_min_contracts": vmin.ravel(),
                    "previous_min_date": d_min.ravel().astype("datetime64[ns]"),
                    "distance_to_max_contracts": (cur - vmax).ravel(),
                    "distance_to_min_contracts": (cur - vmin).ravel(),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    for c in ("symbol", "code", "trader_class", "window"):
        out[c] = out[c].astype(str)
    return out


def _crowding(
    flags: Sequence[FlagRule],
    markets: pd.DataFrame,
    stats: Mapping[str, WindowStats],
    net: np.ndarray,
    grid: _Grid,
    names: list[str],
    latest_as_of: pd.Timestamp,
) -> pd.DataFrame:
    """One row per (headline market of the rule's group, rule) on the latest week."""
    n_w, n_m, n_k = net.shape
    t = n_w - 1
    rows = []
    head = markets["headline"].to_numpy(dtype=bool)
    for rule in flags:
        k = names.index(rule.trader_class)
        metric, label = rule.metric.rsplit("_", 1)
        st = getattr(stats[label], metric)
        for j in np.flatnonzero(head & (markets["group"].to_numpy() == rule.group)):
            value = float(st[t, j * n_k + k])
            n = float(net[t, j, k])
            beyond = value <= rule.threshold if rule.op == "<=" else value >= rule.threshold
            signed = rule.sign == 0 or (np.sign(n) == rule.sign)
            rows.append(
                {
                    "as_of": latest_as_of,
                    "symbol": str(markets["symbol"].iloc[j]),
                    "code": str(markets["code"].iloc[j]),
                    "group": rule.group,
                    "trader_class": rule.trader_class,
                    "flag": rule.name,
                    "metric": rule.metric,
                    "op": rule.op,
                    "value": value,
                    "threshold": float(rule.threshold),
                    "net_contracts": n,
                    "flagged": bool(np.isfinite(value) and beyond and signed),
                    "description": rule.description,
                }
            )
    cols = [
        "as_of",
        "symbol",
        "code",
        "group",
        "trader_class",
        "flag",
        "metric",
        "op",
        "value",
        "threshold",
        "net_contracts",
        "flagged",
        "description",
    ]
    out = pd.DataFrame(rows, columns=cols)
    if out.empty:
        out = out.astype(
            {"value": float, "threshold": float, "net_contracts": float, "flagged": bool}
        )
    return out


def _coverage(
    grid: _Grid,
    markets: pd.DataFrame,
    windows: Mapping[str, int],
    min_share: float,
    notional_missing: list[str],
    q: Quality,
) -> dict[str, Any]:
    """Coverage facts for ``info``; a market absent in a week its history spans is a warning."""
    n_w, n_m = grid.present.shape
    reported = ~np.isnat(grid.week_dates)
    info: dict[str, Any] = {
        "weeks": int(reported.sum()),
        "markets": list(markets["symbol"].astype(str)),
        "history_start": {},
        "history_end": {},
        "notes": [],
    }
    for j, sym in enumerate(markets["symbol"].astype(str)):
        have = np.flatnonzero(grid.present[:, j])
        if not len(have):
            q.warn(f"{q.source}: no rows for {sym} ({markets['code'].iloc[j]})")
            continue
        info["history_start"][sym] = str(pd.Timestamp(grid.dates[have[0], j]).date())
        info["history_end"][sym] = str(pd.Timestamp(grid.dates[have[-1], j]).date())
        listed = markets["first_report"].iloc[j] if "first_report" in markets.columns else pd.NaT
        first_week = int(np.flatnonzero(reported)[0])
        if have[0] > first_week and (
            pd.isna(listed)
            or pd.Timestamp(grid.dates[have[0], j]) > pd.Timestamp(listed) + pd.Timedelta(days=6)
        ):
            since = (
                f"since {pd.Timestamp(listed).date()}"
                if not pd.isna(listed)
                else "since 2017-01-03 or earlier"
            )
            q.warn(
                f"{q.source}: {sym} starts on {info['history_start'][sym]}, {int(reported[first_week : have[0]].sum())} report week(s) after the history's first ({pd.Timestamp(grid.week_dates[first_week]).date()}), though it has reported {since}: its earlier weeks are missing (a cut file?)"
            )
        span = np.arange(have[0], have[-1] + 1)
        absent = span[reported[span] & ~grid.present[span, j]]
        if len(absent):
            days = [str(pd.Timestamp(grid.week_dates[i]).date()) for i in absent]
            more = f" and {len(days) - 3} more" if len(days) > 3 else ""
            q.warn(
                f"{q.source}: {sym} absent on {len(days)} of {int(reported[span].sum())} report weeks of its history ({', '.join(days[:3])}{more}): no figures for {sym} those weeks; its statistics use the weeks present (no forward fill)"
            )
        if have[-1] < n_w - 1:
            q.warn(
                f"{q.source}: {sym} has no report in the latest week {pd.Timestamp(grid.week_dates[-1]).date()} (last {info['history_end'][sym]})"
            )
    gaps: list[dict[str, Any]] = []
    missing = np.flatnonzero(~reported)
    if len(missing):
        breaks = np.flatnonzero(np.diff(missing) > 1)
        starts = np.concatenate([[missing[0]], missing[breaks + 1]])
        ends = np.concatenate([missing[breaks], [missing[-1]]])
        origin = _WEEK_ORIGIN.astype("datetime64[ns]")
        for a, b in zip(starts, ends, strict=True):
            first = origin + np.timedelta64(int(grid.weeks[a]) * 7 + 3, "D")  # that week's Tuesday
            last = origin + np.timedelta64(int(grid.weeks[b]) * 7 + 3, "D")
            gaps.append(
                {
                    "from": str(pd.Timestamp(first).date()),
                    "to": str(pd.Timestamp(last).date()),
                    "weeks": int(b - a + 1),
                }
            )
    info["history_gaps"] = gaps
    if gaps:
        total = sum(g["weeks"] for g in gaps)
        info["notes"].append(
            f"the history has no report in {total} week(s) ({'; '.join(g['from'] + '..' + g['to'] for g in gaps[:3])}{' ...' if len(gaps) > 3 else ''}): windows spanning them count only the weeks present"
        )
    cov = {}
    t = n_w - 1
    for label, w in windows.items():
        lo = max(0, t - w + 1)
        present = int(reported[lo : t + 1].sum())
        cov[label] = {
            "weeks_present": present,
            "window_weeks": int(w),
            "needed": min_periods_for(w, min_share),
        }
        if present < min_periods_for(w, min_share):
            info["notes"].append(
                f"latest week {pd.Timestamp(grid.week_dates[t]).date()}: {label} statistics not computed ({present} of {w} weeks present, {min_periods_for(w, min_share)} needed)"
            )
    info["window_coverage"] = cov
    info["min_share"] = float(min_share)
    info["notional_missing"] = list(notional_missing)
    if notional_missing:
        info["notes"].append(
            f"no close for {', '.join(notional_missing)}: notional_usd not computed (usd_per_point is)"
        )
    return info


# -- headline -------------------------------------------------------------------------------------
def headline(
    latest: pd.DataFrame,
    crowding: pd.DataFrame,
    markets: pd.DataFrame,
    as_of: pd.Timestamp | None,
    reports: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Flat headline of the latest week (keys and units in :data:`HEADLINE_UNITS`).

    Per headline market ``s`` (lower case) and class ``c`` of :data:`HEADLINE_CLASSES`:
    ``s_c_net_contracts``, ``_net_pct_oi``, ``_net_change_contracts``, ``_percentile_<w>``,
    ``_zscore_3y``, ``_cot_index_3y`` and the exposure (``_usd_per_point`` and
    ``_notional_usd`` for equity/VIX, ``_dv01_usd_per_bp`` and ``_ten_year_equivalents`` for
    rates); ``s_dealer_net_contracts``.  Aggregates per group and class:
    ``equity_index_c_notional_usd`` and ``rates_c_dv01_usd_per_bp`` /
    ``rates_c_ten_year_equivalents``: None unless every headline market of the group has the
    figure that week (a partial sum is never published).  ``crowding_flags``, ``flag_<rule>``,
    ``flagged`` (text), ``markets_reported``, ``markets_missing`` (text).  NaN -> None.
    """
    out: dict[str, Any] = {
        "as_of": None if as_of is None or pd.isna(as_of) else pd.Timestamp(as_of).date().isoformat()
    }
    if reports is not None and as_of is not None and len(reports):
        rel = reports.loc[reports["as_of"] == as_of, "release_time"]
        out["release_time"] = pd.Timestamp(rel.iloc[0]).isoformat() if len(rel) else None
    head = markets[markets["headline"].to_numpy(dtype=bool)]
    by = latest.set_index(["symbol", "trader_class"]) if len(latest) else None
    stat_cols = [c for c in latest.columns if c.startswith("percentile_")] + [
        c for c in ("zscore_3y", "cot_index_3y") if c in latest.columns
    ]
    reported = []
    for sym, grp in zip(head["symbol"].astype(str), head["group"].astype(str), strict=True):
        key = sym.lower()
        has = by is not None and (sym, "dealer") in by.index
        if has:
            reported.append(sym)
        out[f"{key}_dealer_net_contracts"] = (
            by.loc[(sym, "dealer"), "net_contracts"] if has and by is not None else None
        )
        for cls in HEADLINE_CLASSES:
            row = by.loc[(sym, cls)] if has and by is not None else None
            base = f"{key}_{cls}"
            for c in ("net_contracts", "net_pct_oi", "net_change_contracts", *stat_cols):
                out[f"{base}_{c}"] = row[c] if row is not None else None
            exposure = (
                ("usd_per_point", "notional_usd")
                if grp in ("equity_index", "vix")
                else ("dv01_usd_per_bp", "ten_year_equivalents")
            )
            for c in exposure:
                out[f"{base}_{c}"] = row[c] if row is not None else None
    for grp, cols in (
        ("equity_index", ("notional_usd",)),
        ("rates", ("dv01_usd_per_bp", "ten_year_equivalents")),
    ):
        members = head.loc[head["group"] == grp, "symbol"].astype(str).str.lower().tolist()
        if not members:
            continue
        for cls in HEADLINE_CLASSES:
            for c in cols:
                vals: list[Any] = [out.get(f"{s}_{cls}_{c}") for s in members]
                ok = all(v is not None and np.isfinite(float(v)) for v in vals)
                out[f"{grp}_{cls}_{c}"] = float(np.sum([float(v) for v in vals])) if ok else None
    flagged = crowding[crowding["flagged"]] if len(crowding) else crowding
    out["crowding_flags"] = len(flagged)
    for name in dict.fromkeys(crowding["flag"]) if len(crowding) else []:
        out[f"flag_{name}"] = int((flagged["flag"] == name).sum())
    out["flagged"] = (
        # a line a desk reads (the brief, alert texts): the class in words, the rule by its name
        ", ".join(
            f"{r.symbol} {code_label(r.trader_class)} ({r.flag})" for r in flagged.itertuples()
        )
        if len(flagged)
        else ""
    )
    out["markets_reported"] = len(reported)
    out["markets_missing"] = ", ".join(s for s in head["symbol"].astype(str) if s not in reported)
    return {k: _plain(v) for k, v in out.items()}


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# -- wide rows (CLI --json, API) ------------------------------------------------------------------
WIDE_METRICS: tuple[str, ...] = (
    "long",
    "short",
    "net_contracts",
    "net_pct_oi",
    "net_change_contracts",
    *STAT_METRICS,
    "usd_per_point",
    "notional_usd",
    "dv01_usd_per_bp",
    "ten_year_equivalents",
)
"""Per-class columns of :func:`wide` (``<class>_<metric>``)."""


def wide(positions: pd.DataFrame, reports: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per report date and market: ``as_of``, ``market`` (symbol), ``code``, ``group``,
    ``open_interest``, ``close``, then ``<class>_<metric>`` for every class of :data:`CLASSES` and
    metric of :data:`WIDE_METRICS` present (e.g. ``leveraged_funds_percentile_3y``), and
    ``name`` (the market name as printed) when ``reports`` is given.  Same units as
    ``positions``; rows sorted by date then table order."""
    if positions.empty:
        return pd.DataFrame(columns=["as_of", "market", "code", "group", "open_interest", "close"])
    keys = ["as_of", "symbol", "code", "group"]
    cell = positions.drop_duplicates(keys)[[*keys, "open_interest", "close"]].reset_index(drop=True)
    metrics = [m for m in WIDE_METRICS if m in positions.columns]
    table = positions.set_index([*keys, "trader_class"])[metrics].unstack("trader_class")
    table = table.reindex(pd.MultiIndex.from_frame(cell[keys]))
    cols = {
        f"{cls}_{metric}": table[(metric, cls)].to_numpy()
        if (metric, cls) in table.columns
        else np.nan
        for cls in CLASSES
        for metric in metrics
    }
    out = pd.concat([cell.rename(columns={"symbol": "market"}), pd.DataFrame(cols)], axis=1)
    if reports is not None and len(reports):
        names = reports.set_index(["as_of", "code"])["market"]
        out.insert(
            3, "name", names.reindex(pd.MultiIndex.from_frame(out[["as_of", "code"]])).to_numpy()
        )
    return out
