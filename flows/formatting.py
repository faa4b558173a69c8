"""How numbers of each :class:`flows.units.Unit` are written: the one mapping unit -> format.

Used by the dashboard's tables and cards and by the CLI summaries; the unit comes from the
result's declaration (:mod:`jobs.declarations`), never from a column's name.

* **Tables** (:func:`table_format`): a d3-format specifier for a table cell (the dashboard's AG Grid
  ``valueFormatter`` applies it with d3-format).  The cell
  stays a number (numeric sort, exact CSV export); only its display is rounded: USD amounts and
  counts whole with thousands separators, percentages two decimals, prices two decimals, small
  per-option figures six significant digits.  Never scientific notation (``8.763e+5`` is not
  for people): significant digits use d3's ``r`` type, decimal notation.  Fractions (0-1) are
  shown in tables as percentages: the table holds ``value x`` :func:`table_scale` (the CSV export
  then matches its header, ``0DTE share (%)``).
* **Text** (:func:`format_value`): a string for cards and the CLI.  USD amounts go through
  :func:`flows.money.format_usd` (``+$12.34 bn``; keywords such as ``scale``, ``style``,
  ``digits`` pass through, so each surface keeps its style); a fraction reads as a percentage
  (``0.123`` -> ``12.3%``); missing, NaN or not a number -> ``n/a``.
* **Times** (:func:`format_time`): an instant in the desk's time zone, ``2026-11-30 09:14 EST``
  (``seconds=True`` adds the seconds; a date alone ``2026-11-30``); naive instants are UTC.
  Every page, table, brief, CLI line and alert text writes times through it.
* **Labels** (:func:`code_label`): an enumeration's code as words (``asset_manager`` ->
  ``asset managers``, ``percentile_3y`` -> ``percentile, 3-year``); a boolean ``yes``/``no``.
  Tables and text show the words; the API and the stored tables keep the codes.
* **Headers** (:func:`header`): ``"Net GEX (USD per 1% move)"``: the unit's header phrase
  (:data:`HEADER_UNITS`, the unit's text where no shorter phrase reads better) after the title,
  except for labels, flags, dates and times (their kind says it).

Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flows.money import format_usd
from flows.units import Unit, unit_of

U = Unit

CODE_LABELS: Mapping[str, str] = {
    # dealer-position conventions (flows.gamma.CONVENTIONS)
    "calls_long_puts_short": "calls long, puts short",
    "short_all": "short every option",
    "source_position": "source's positions",
    # CFTC Traders in Financial Futures classes (flows.futures_positioning.CLASSES)
    "dealer": "dealers",
    "asset_manager": "asset managers",
    "leveraged_funds": "leveraged funds",
    "other_reportables": "other reportables",
    "nonreportables": "non-reportables",
    # futures market groups (flows/data/tff_markets.csv)
    "equity_index": "equity index",
    "vix": "VIX",
    # VIX futures indices (flows.vixetp)
    "short_term": "short-term (months 1-2)",
    "mid_term": "mid-term (months 4-7)",
}
"""Enumeration codes flowdesk publishes -> the words tables and text show (:func:`code_label`)."""

_STATISTICS = {"zscore": "z-score", "percentile": "percentile", "cot_index": "COT index"}
_STATISTIC = re.compile(r"(zscore|percentile|cot_index)_(\d+)y")
_SERIES = (
    ("net_usd_levfunds_", "leveraged funds' net USD, "),
    ("net_usd_assetmgr_", "asset managers' net USD, "),
    ("net_usd_", "speculators' net USD, "),
)


def series_label(series: str) -> str:
    """A CFTC net-USD series in words: ``net_usd_levfunds_wide9`` -> ``leveraged funds' net USD,
    wide9`` (its basket's name as it is); another name with its underscores as spaces."""
    for prefix, words in _SERIES:
        if series.startswith(prefix):
            return words + series.removeprefix(prefix)
    return series.replace("_", " ")


def code_label(value: object) -> str:
    """``value`` (a code of a ``LABEL`` column, or a boolean) as a desk reads it: the words of
    :data:`CODE_LABELS`; a statistic ``percentile_3y`` -> ``percentile, 3-year``; a net-USD series
    by :func:`series_label`; ``True``/``False`` -> ``yes``/``no``; any other value as it is
    (a ticker, a rule's own name)."""
    if type(value).__name__ in ("bool", "bool_"):  # Python's or numpy's (no numpy import here)
        return "yes" if value else "no"
    text = str(value)
    if text in CODE_LABELS:
        return CODE_LABELS[text]
    stat = _STATISTIC.fullmatch(text)
    if stat:
        return f"{_STATISTICS[stat[1]]}, {stat[2]}-year"
    if text.startswith("net_usd_"):
        return series_label(text)
    return text


@dataclass(frozen=True)
class UnitFormat:
    """How one unit is written: ``table`` a d3 specifier, ``text`` a function of a finite float."""

    table: str
    text: Callable[[float], str]


def _fixed(digits: int, suffix: str = "") -> Callable[[float], str]:
    return lambda v: f"{v:,.{digits}f}{suffix}"


def significant(v: float, digits: int) -> str:
    """``v`` rounded to ``digits`` significant digits in decimal notation, trailing zeros
    dropped: ``876312 -> 876,300``, ``0.000012345 -> 0.00001234`` (4 digits); never ``1.2e-05``
    (Python's ``g`` and d3's ``g`` switch to scientific notation; d3's ``r`` does not: the same
    figure in a table and in text)."""
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    exponent = math.floor(math.log10(abs(v)))
    decimals = digits - 1 - exponent
    rounded = round(v, decimals)
    if rounded != 0 and math.floor(math.log10(abs(rounded))) > exponent:  # 9.9996 -> 10.00
        decimals -= 1
        rounded = round(v, decimals)
    text = f"{rounded:,.{max(decimals, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _general(digits: int) -> Callable[[float], str]:
    return lambda v: significant(v, digits)


def _percent_of_fraction(v: float) -> str:
    return f"{100.0 * v:.1f}%"


_USD_SIGNED = (U.USD_FLOW, U.USD_PER_1PCT, U.USD_PER_POINT, U.USD_PER_BP, U.USD_PER_VOL_POINT)
"""USD units of flows and sensitivities: written with a sign (+ = buy / long)."""
USD_UNITS = frozenset({U.USD, U.USD_PER_DAY, *_USD_SIGNED})
"""Units written by :func:`flows.money.format_usd` (``USD_PER_UNIT``, an exchange rate, is not an amount)."""

PERCENT_UNITS = frozenset(
    {U.PERCENT, U.PCT_OF_ADV, U.PCT_OF_ADV_PER_1PCT, U.PCT_OF_AUCTION, U.PCT_OF_OI}
)
"""Percentages (of a price, of volume ...): written ``1.23%``; ``signed=True`` adds ``+``."""

_WHOLE = UnitFormat(",.0f", _fixed(0))
_PCT = UnitFormat(",.2f", _fixed(2, "%"))
_LEVEL = UnitFormat(",.2f", _fixed(2))
FORMATS: dict[Unit, UnitFormat] = {
    **{u: UnitFormat(",.0f", lambda v: format_usd(v)) for u in USD_UNITS},
    U.USD_PER_UNIT: UnitFormat(",.6~r", _general(6)),
    U.SHARES_PER_1PCT: _WHOLE,
    U.SHARES: _WHOLE,
    U.CONTRACTS: _WHOLE,
    U.COUNT: _WHOLE,
    U.RANK: _WHOLE,
    U.WEEKS: _WHOLE,
    U.SESSIONS: _WHOLE,
    U.UNITS_PER_CONTRACT: UnitFormat(",.6~r", _general(6)),
    U.PERCENT: _PCT,
    U.PCT_OF_ADV: _PCT,
    U.PCT_OF_ADV_PER_1PCT: _PCT,
    U.PCT_OF_AUCTION: _PCT,
    U.PCT_OF_OI: _PCT,
    # fractions: a table shows them x 100 (TABLE_SCALE) under a "%" header, text as "12.3%"
    U.FRACTION: UnitFormat(",.2f", _percent_of_fraction),
    U.FRACTION_PER_YEAR: UnitFormat(",.2f", _percent_of_fraction),
    U.FRACTION_OF_AUM: UnitFormat(",.2f", _percent_of_fraction),
    U.PERCENTILE: UnitFormat(".1f", _fixed(0)),
    U.INDEX_0_100: UnitFormat(".1f", _fixed(0)),
    U.STDEV: UnitFormat("+.2f", lambda v: f"{v:+.2f}"),
    U.DIMENSIONLESS: UnitFormat(",.4~r", _general(4)),
    U.MIXED: UnitFormat(",.4~r", _general(4)),
    U.PRICE: _LEVEL,
    U.INDEX_POINTS: _LEVEL,
    U.VOL_POINTS: _LEVEL,
    U.PER_POINT_PER_OPTION: UnitFormat(",.6~r", _general(6)),
    U.PER_OPTION: UnitFormat(",.6~r", _general(6)),
    U.YEARS: UnitFormat(".4f", _fixed(4)),
    U.DAYS: UnitFormat(",.1~f", _fixed(1)),
    U.HOURS: UnitFormat(",.2f", _fixed(1)),
}
"""Every numeric unit and how it is written (the non-numeric units are in :data:`NOT_NUMBERS`)."""

NOT_NUMBERS = frozenset({U.DATE, U.TIME, U.LABEL, U.FLAG, U.TEXT, U.LIST})
"""Units of dates, times, labels, flags, texts and lists: no number format, no unit in a header."""

FALLBACK = UnitFormat(",.4~r", _general(4))
"""For a unit flowdesk does not know (a result stored by an older version): 4 significant digits."""

TABLE_SCALE: dict[Unit, float] = {
    U.FRACTION: 100.0,
    U.FRACTION_PER_YEAR: 100.0,
    U.FRACTION_OF_AUM: 100.0,
}
"""Units a table holds scaled (a fraction x 100: a percentage), so that the cell, its sort and
filter, and the CSV export all read as the header says (``0DTE share (%)``: 23.4, not 0.234)."""

HEADER_UNITS: dict[Unit, str] = {
    U.USD_FLOW: "USD, + = buy",
    U.FRACTION: "%",
    U.FRACTION_PER_YEAR: "% per year",
    U.FRACTION_OF_AUM: "% of AUM",
    U.PERCENTILE: "percentile, 0-100",
    U.INDEX_0_100: "0-100",
    U.MIXED: "in the row's unit",
}
"""A header's unit phrase where the unit's own text would not read well in parentheses
(``Total (USD (+ = buy))``, ``0DTE share (fraction (0-1))``); other units show their text."""

DATE_FORMAT = "%Y-%m-%d"
TIME_FORMAT = "%Y-%m-%d %H:%M %Z"


def _unit(unit: Unit | str | None) -> Unit | None:
    return unit if isinstance(unit, Unit) else unit_of(unit)


def table_format(unit: Unit | str | None) -> str:
    """d3-format specifier of a table cell of ``unit`` (:data:`FALLBACK` for an unknown unit)."""
    u = _unit(unit)
    return FORMATS.get(u, FALLBACK).table if u is not None else FALLBACK.table


def table_scale(unit: Unit | str | None) -> float:
    """Factor a table cell of ``unit`` holds the value by (:data:`TABLE_SCALE`; 1 otherwise)."""
    u = _unit(unit)
    return TABLE_SCALE.get(u, 1.0) if u is not None else 1.0


def time_format(unit: Unit | str | None) -> str:
    """strftime pattern of a date (``DATE``) or time (anything else) cell."""
    return DATE_FORMAT if _unit(unit) is U.DATE else TIME_FORMAT


def format_value(value: Any, unit: Unit | str | None, **usd: Any) -> str:
    """``value`` written for people by its ``unit`` (rules in the module docstring).

    ``usd`` keywords go to :func:`flows.money.format_usd` for USD units (``signed``, ``scale``,
    ``style``, ``digits``, ``space``, ``minus``); ``signed=True`` also puts a ``+`` on a
    positive percentage (:data:`PERCENT_UNITS`; other units ignore the USD keywords).  Text,
    labels and flags come back as ``str(value)``; ``n/a`` for None or a number that is not
    finite.  A ``TIME`` is written by :func:`format_time` in the zone of the ``tz`` keyword.
    """
    u = _unit(unit)
    if value is None:
        return "n/a"
    if u is U.TIME:
        return format_time(value, usd.get("tz"))
    if u is U.LABEL or isinstance(value, bool):
        return code_label(value)
    if u in NOT_NUMBERS or isinstance(value, str):
        return str(value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(v):
        return "n/a"
    if u in USD_UNITS:
        return format_usd(v, **{"signed": u in _USD_SIGNED, **usd})
    text = (FORMATS.get(u, FALLBACK) if u is not None else FALLBACK).text(v)
    if usd.get("signed") and u in PERCENT_UNITS and v > 0:
        text = "+" + text
    return text


def shown_unit(unit: Unit | str | None) -> str | None:
    """The unit as a header shows it (:data:`HEADER_UNITS`, else its text): None for labels,
    flags, dates and times (and no unit)."""
    if unit is None or unit == "":
        return None
    u = _unit(unit)
    if u in NOT_NUMBERS:
        return None
    return HEADER_UNITS.get(u, str(unit)) if u is not None else str(unit)


def header(title: str, unit: Unit | str | None) -> str:
    """``"Net GEX (USD per 1% move)"``: ``title`` with its unit (see :func:`shown_unit`)."""
    shown = shown_unit(unit)
    return f"{title} ({shown})" if shown else title


DEFAULT_TZ = "America/New_York"
"""The desk time zone when the caller has none (``[service] timezone``'s default)."""


def format_time(
    value: object, tz: str | None = None, *, seconds: bool = False, missing: str = "n/a"
) -> str:
    """``value`` (an instant: ISO text, datetime, pandas Timestamp or epoch seconds) in the desk's
    time zone ``tz``: ``2026-11-30 09:14 EST`` (``seconds``: ``09:14:03``).  A date without a
    time (``datetime.date`` or ``"2026-11-17"``) is written as the date alone (a date has no time
    zone).  Naive instants are read as UTC.  ``missing`` for None, ``"None"``, ``""`` or NaT;
    text that is not a time comes back unchanged.
    """
    import pandas as pd  # local: flowdesk --help imports this module without pandas

    if value is None or (isinstance(value, str) and value.strip() in ("", "None", "nan", "NaT")):
        return missing
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, str) and len(value.strip()) == 10:
        return value.strip()
    try:
        stamp = (
            pd.Timestamp(value, unit="s") if isinstance(value, int | float) else pd.Timestamp(value)
        )
    except (ValueError, TypeError):
        return str(value)
    if stamp is pd.NaT:
        return missing
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return str(
        stamp.tz_convert(tz or DEFAULT_TZ).strftime(
            "%Y-%m-%d %H:%M:%S %Z" if seconds else TIME_FORMAT
        )
    )
