"""The web pages' display rule for signed numbers and money (:mod:`dashboard.display`), on
hand-worked strings: a minus sign is U+2212, money keeps the space before its scale word, and
only a hyphen that is a minus sign is converted (never a date, a range, a code or ``+/-``)."""

from __future__ import annotations

import pytest

from dashboard.display import MINUS, minus_signs, signed, usd, value
from flows.units import Unit as U

M = MINUS


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        # the finding's strings, as the jobs and the pages wrote them
        ("-207.38 bn USD", f"{M}207.38 bn USD"),
        ("-0.94%", f"{M}0.94%"),
        ("-17.41 bn", f"{M}17.41 bn"),
        ("net GEX -7.46 bn", f"net GEX {M}7.46 bn"),
        ("-0.61% from the close", f"{M}0.61% from the close"),
        ("-$4.8 bn", f"{M}$4.8 bn"),
        ("+3%: -$55.04 bn", f"+3%: {M}$55.04 bn"),
        ("flip 551 (-0.2% away)", f"flip 551 ({M}0.2% away)"),
        (
            "If NDX moves -3% today: mechanical flow -162.45 bn USD",
            f"If NDX moves {M}3% today: mechanical flow {M}162.45 bn USD",
        ),
        ("x=-2, y=-3", f"x={M}2, y={M}3"),
        ("a,-1", f"a,{M}1"),
        ("line one\n-3% on the second", f"line one\n{M}3% on the second"),
        ("NVDD (-1x)", f"NVDD ({M}1x)"),
        # positive and already typographic: unchanged
        ("+$262.69 bn", "+$262.69 bn"),
        (f"{M}2σ week {M}$57.19 bn", f"{M}2σ week {M}$57.19 bn"),
        # not minus signs: dates, ranges, codes, words, +/-, a dash between words
        ("as of 2026-11-30 09:14 EST", "as of 2026-11-30 09:14 EST"),
        ("short-term (months 1-2)", "short-term (months 1-2)"),
        ("gamma_morning, ES_CONS, percentile_3y", "gamma_morning, ES_CONS, percentile_3y"),
        ("z-score, 3-year", "z-score, 3-year"),
        ("+/- 5%", "+/- 5%"),
        ("+/-5%", "+/-5%"),
        ("calls - puts", "calls - puts"),
        ("SPX-3", "SPX-3"),
        ("T-1 close", "T-1 close"),
        ("-", "-"),
        ("", ""),
        # zero: "$0" has no sign to convert
        ("$0", "$0"),
        ("net $0 today", "net $0 today"),
    ],
)
def test_minus_signs_converts_only_a_hyphen_that_is_a_minus_sign(stored: str, shown: str) -> None:
    assert minus_signs(stored) == shown
    assert minus_signs(shown) == shown  # idempotent: a page may convert twice


def test_values_by_unit_read_in_the_display_rule() -> None:
    assert value(-5.719e10, U.USD_FLOW) == f"{M}$57.19 bn"
    assert value(2.6269e11, U.USD_FLOW) == "+$262.69 bn"
    assert value(-2.0738e11, U.USD_FLOW, scale="bn", style="code") == f"{M}207.38 bn USD"
    assert value(-4.8e9, U.USD_FLOW, signed=True, digits=1) == f"{M}$4.8 bn"
    assert value(-0.94, U.PERCENT, signed=True) == f"{M}0.94%"
    assert value(0.94, U.PERCENT, signed=True) == "+0.94%"
    assert value(-1234.0, U.CONTRACTS) == f"{M}1,234"
    assert value(-0.63, U.STDEV) == f"{M}0.63"
    assert value(None, U.PERCENT) == "n/a"
    assert value("2026-11-30", U.DATE) == "2026-11-30"


def test_a_figure_that_rounds_to_zero_carries_no_sign() -> None:
    assert value(-1e-4, U.USD_FLOW) == "$0"
    assert usd(-1e-4) == "$0"
    assert usd(-1e6, scale="bn") == "$0.00 bn"
    assert value(-0.001, U.PERCENT) == "0.00%"
    assert value(-0.001, U.PERCENT, signed=True) == "0.00%"
    assert signed(-0.0) == "0"


def test_usd_and_signed_moves() -> None:
    assert usd(-4.8e9, digits=1) == f"{M}$4.8 bn"
    assert usd(3.8e9, digits=1) == "+$3.8 bn"
    assert usd(2.36e9, signed=False) == "$2.36 bn"
    assert usd(float("nan")) == "n/a"
    assert signed(-3.0) == f"{M}3"
    assert signed(3.0) == "+3"
    assert signed(0.0) == "+0"
    assert signed(-17.5) == f"{M}17.5"
