"""The units a published figure may carry: one vocabulary for declarations, headers and formats.

Every column and headline key of a published result is declared with one :class:`Unit`
(:mod:`jobs.declarations`); the dashboard's headers and the API show the unit's text verbatim and
:mod:`flows.formatting` maps each unit to how its numbers are written.  A unit says what the number
*is*, not how a page shows it: a fraction is stored 0-1 (``0.25``) whatever a card prints.

Signs are part of the description of a column, not of its unit: ``USD (+ = buy)`` is the unit of
every mechanical flow (dealers', funds'); who buys is said by the column's description.
"""

from __future__ import annotations

from enum import StrEnum


class Unit(StrEnum):
    """The units a column or headline figure may carry (shown verbatim on axes and headers)."""

    # money
    USD = "USD"
    USD_FLOW = "USD (+ = buy)"
    USD_PER_DAY = "USD per day"
    USD_PER_1PCT = "USD per 1% move"
    USD_PER_POINT = "USD per 1 point move"
    USD_PER_BP = "USD per basis point"
    USD_PER_VOL_POINT = "USD per volatility point"
    USD_PER_UNIT = "USD per unit of the currency"
    # quantities
    SHARES_PER_1PCT = "shares per 1% move"
    SHARES = "shares"
    CONTRACTS = "contracts"
    UNITS_PER_CONTRACT = "units of the underlying per contract"
    COUNT = "count"
    RANK = "1 = first"
    # ratios
    PERCENT = "%"
    PCT_OF_ADV = "% of ADV"
    PCT_OF_ADV_PER_1PCT = "% of ADV per 1% move"
    PCT_OF_AUCTION = "% of the closing auction"
    PCT_OF_OI = "% of open interest"
    FRACTION = "fraction (0-1)"
    FRACTION_PER_YEAR = "fraction per year"
    FRACTION_OF_AUM = "fraction of AUM (1 = 100 %)"
    PERCENTILE = "percentile (0-100)"
    INDEX_0_100 = "index (0-100)"
    STDEV = "standard deviations"
    DIMENSIONLESS = "dimensionless"
    MIXED = "the unit named in the row's label"
    # prices and levels
    PRICE = "index points / USD per share"
    INDEX_POINTS = "index points"
    VOL_POINTS = "volatility points"
    PER_POINT_PER_OPTION = "per 1 point per option"
    PER_OPTION = "per option"
    # time
    YEARS = "years"
    WEEKS = "weeks"
    DAYS = "days"
    SESSIONS = "sessions"
    HOURS = "hours"
    DATE = "date"
    TIME = "time (with time zone)"
    # not numbers
    LABEL = "label"
    FLAG = "true / false"
    TEXT = "text"
    LIST = "list"


def unit_of(text: str | None) -> Unit | None:
    """The :class:`Unit` whose text is ``text`` (None for text no unit carries, e.g. a unit
    written by an older flowdesk into a stored result)."""
    try:
        return Unit(text) if text is not None else None
    except ValueError:
        return None
