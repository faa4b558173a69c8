"""flows.formatting: the one mapping unit -> format (tables, cards, CLI), worked by hand."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from flows.formatting import (
    FALLBACK,
    FORMATS,
    NOT_NUMBERS,
    format_value,
    header,
    shown_unit,
    significant,
    table_format,
    table_scale,
    time_format,
)
from flows.units import Unit, unit_of


def test_every_unit_has_a_format_or_is_not_a_number() -> None:
    assert set(FORMATS) | set(NOT_NUMBERS) == set(Unit)
    assert not set(FORMATS) & set(NOT_NUMBERS)


@pytest.mark.parametrize(
    ("value", "unit", "style", "text"),
    [
        (-1.234e10, Unit.USD_PER_1PCT, {}, "-$12.34 bn"),  # flows and sensitivities carry a sign
        (3.52e10, Unit.USD_FLOW, {}, "+$35.20 bn"),
        (5.688e10, Unit.USD, {}, "$56.88 bn"),  # an amount (AUM) has none unless asked
        (
            3.52e10,
            Unit.USD,
            {"signed": True, "digits": 1, "space": False},
            "+$35.2bn",
        ),  # the CFTC cards
        (2e8, Unit.USD_FLOW, {"scale": "bn", "style": "code"}, "+0.20 bn USD"),  # the board
        (-1.234e9, Unit.USD_PER_1PCT, {"minus": "\u2212"}, "\u2212$1.23 bn"),
        (1.2345, Unit.PERCENT, {}, "1.23%"),
        (1.2345, Unit.PERCENT, {"signed": True}, "+1.23%"),
        (-0.5, Unit.PCT_OF_ADV, {"signed": True}, "-0.50%"),
        (0.1234, Unit.FRACTION, {}, "12.3%"),  # stored 0-1, read as a percentage
        (12345.6, Unit.CONTRACTS, {}, "12,346"),
        (7, Unit.COUNT, {}, "7"),
        (4697.2371, Unit.PRICE, {}, "4,697.24"),
        (1.2345, Unit.STDEV, {}, "+1.23"),
        (57.4, Unit.PERCENTILE, {"signed": True}, "57"),  # signed only marks percentages and USD
        (0.006712345, Unit.USD_PER_UNIT, {}, "0.00671234"),
        (3.0, Unit.DIMENSIONLESS, {}, "3"),
        (0.25, Unit.FRACTION_PER_YEAR, {}, "25.0%"),  # an annual vol or rate, as a desk says it
        (0.4, Unit.FRACTION_OF_AUM, {}, "40.0%"),
        (876_300.0, Unit.MIXED, {}, "876,300"),  # the board CFTC grid printed 8.763e+5
        (1.2345e-7, Unit.PER_POINT_PER_OPTION, {}, "0.00000012345"),
        (-3.2e-9, Unit.DIMENSIONLESS, {}, "-0.0000000032"),
        (None, Unit.USD, {}, "n/a"),
        (math.nan, Unit.PERCENT, {}, "n/a"),
        (math.inf, Unit.CONTRACTS, {}, "n/a"),
        ("short gamma", Unit.LABEL, {}, "short gamma"),
        ("not a number", Unit.USD, {}, "not a number"),
        (1.23456, "furlongs", {}, "1.235"),  # a unit flowdesk does not know: 4 significant digits
        (1.23456, None, {}, "1.235"),
    ],
)
def test_format_value(value, unit, style, text) -> None:
    assert format_value(value, unit, **style) == text


def test_table_formats_and_headers() -> None:
    assert table_format(Unit.USD_PER_1PCT) == ",.0f" and table_format("USD per 1% move") == ",.0f"
    assert (
        table_format(Unit.PERCENT) == ",.2f" and table_format(Unit.PER_POINT_PER_OPTION) == ",.6~r"
    )
    # fractions: a table holds them x 100 under a "%" header
    assert table_scale(Unit.FRACTION) == 100.0 and table_scale(Unit.PERCENT) == 1.0
    assert table_scale("an old unit text") == 1.0 and table_format(Unit.FRACTION) == ",.2f"
    assert header("0DTE share of gross GEX", Unit.FRACTION) == "0DTE share of gross GEX (%)"
    assert header("Exposure", Unit.FRACTION_OF_AUM) == "Exposure (% of AUM)"
    # a flow's sign convention once, not "(USD (+ = buy))"
    assert header("Total", Unit.USD_FLOW) == "Total (USD, + = buy)"
    assert header("Net position", Unit.MIXED) == "Net position (in the row's unit)"
    assert (
        header("Percentile, 3 years", Unit.PERCENTILE) == "Percentile, 3 years (percentile, 0-100)"
    )
    assert table_format("an old unit text") == FALLBACK.table == table_format(None)
    assert time_format(Unit.DATE) == "%Y-%m-%d" and time_format(Unit.TIME) == "%Y-%m-%d %H:%M %Z"
    assert header("Net GEX", Unit.USD_PER_1PCT) == "Net GEX (USD per 1% move)"
    assert (
        header("regime", Unit.LABEL) == "regime"
        and header("expiry", Unit.DATE) == "expiry"
        and header("x", None) == "x"
    )
    assert header("share", "an old unit text") == "share (an old unit text)"  # shown as stored
    assert shown_unit(Unit.FLAG) is None and shown_unit("") is None
    assert unit_of("USD") is Unit.USD and unit_of("no such unit") is None and unit_of(None) is None


def test_format_time_in_the_desk_zone():
    from flows.formatting import format_time

    # 14:30 UTC in November is 09:30 in New York (EST, UTC-5); in July 10:30 (EDT).
    assert format_time("2026-11-30T14:30:00+00:00", "America/New_York") == "2026-11-30 09:30 EST"
    assert format_time("2026-07-01T14:30:00Z", "America/New_York") == "2026-07-01 10:30 EDT"
    assert (
        format_time("2026-11-30T14:30:05", "Europe/London", seconds=True)
        == "2026-11-30 14:30:05 GMT"
    )  # naive = UTC
    assert format_time(0, "UTC") == "1970-01-01 00:00 UTC"
    assert format_time("2026-11-17", "America/New_York") == "2026-11-17"  # a date has no zone
    assert format_time(None, "UTC") == "n/a" and format_time("None", "UTC", missing="-") == "-"
    assert format_time("not a time", "UTC") == "not a time"


def test_format_value_writes_times_by_the_time_unit():
    from flows.formatting import format_value
    from flows.units import Unit

    assert (
        format_value("2026-11-30T14:30:00+00:00", Unit.TIME, tz="America/New_York")
        == "2026-11-30 09:30 EST"
    )


_E_NOTATION = re.compile(r"\d[eE][+-]?\d")
_D3_SPEC = re.compile(r"^[ +\-(]?[$#]?0?\d*,?(\.\d+)?~?(?P<type>[a-z%]?)$")


def test_no_scientific_notation_in_any_unit() -> None:
    """No figure is written as 8.763e+5: every unit's text for tiny, ordinary and huge values of
    both signs, and every table specifier's d3 type (``g``/``e``/``s`` may switch to exponents or
    SI prefixes; ``r`` and ``f`` never do)."""
    for unit, fmt in (*FORMATS.items(), (None, FALLBACK)):
        m = _D3_SPEC.match(fmt.table)
        assert m is not None and m["type"] in ("f", "r", "d", "%"), (unit, fmt.table)
        for exponent in range(-12, 19):
            for sign in (1, -1):
                v = sign * 1.2345678 * 10.0**exponent
                text = format_value(v, unit)
                assert not _E_NOTATION.search(text), (unit, v, text)


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (876_312.0, 4, "876,300"),
        (0.000012345, 4, "0.00001234"),  # 1.2345e-05 is stored a hair below ...45
        (1.23456, 4, "1.235"),
        (9.99996, 4, "10"),  # rounding carries into the next decade
        (-0.5, 4, "-0.5"),
        (0.0, 4, "0"),
        (123_456_789.0, 6, "123,457,000"),
    ],
)
def test_significant_digits_in_decimal_notation(value, digits, text) -> None:
    assert significant(value, digits) == text


def test_codes_read_as_words() -> None:
    from flows.formatting import CODE_LABELS, code_label, format_value

    assert code_label("asset_manager") == "asset managers"
    assert code_label("calls_long_puts_short") == "calls long, puts short"
    assert code_label("percentile_3y") == "percentile, 3-year"
    assert (
        code_label("zscore_1y") == "z-score, 1-year"
        and code_label("cot_index_5y") == "COT index, 5-year"
    )
    assert code_label("net_usd_levfunds_wide9") == "leveraged funds' net USD, wide9"
    assert code_label(True) == "yes" and code_label(np.bool_(False)) == "no"
    # a name of the user's or a ticker stays as it is
    assert code_label("near_flip") == "near_flip" and code_label("SPX") == "SPX"
    assert format_value("short_term", "label") == "short-term (months 1-2)"
    # every code of the product's enumerations has words, and no words keep an underscore
    from flows import futures_positioning, gamma

    for code in (*gamma.CONVENTIONS, *futures_positioning.CLASSES, "short_term", "mid_term"):
        assert "_" not in code_label(code), code
    assert all("_" not in words for words in CODE_LABELS.values())
