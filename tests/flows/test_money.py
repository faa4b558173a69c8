"""The one money formatter (flows.money.format_usd) in every style the surfaces use."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flows.money import format_usd


@pytest.mark.parametrize(
    ("value", "kwargs", "text"),
    [
        (-1.234e10, {}, "-$12.34 bn"),
        (35.2e9, {}, "+$35.20 bn"),
        (2.5e12, {}, "+$2.50 tn"),
        (5e5, {"signed": False}, "$500.00 k"),
        (-5e5, {"signed": False}, "-$500.00 k"),
        (999.4, {}, "+$999"),
        (0.0, {"signed": False}, "$0"),
        (1_000_000.0, {"digits": 1}, "+$1.0 mn"),
        (np.float64(-2e9), {}, "-$2.00 bn"),
        (2e8, {"scale": "bn", "style": "code"}, "+0.20 bn USD"),  # the board and the brief
        (-1.5e9, {"scale": "bn", "style": "bare"}, "-1.50 bn"),
        (4.3e9, {"digits": 1, "space": False}, "+$4.3bn"),  # the CFTC cards
        (-8.6e7, {"minus": "\u2212"}, "\u2212$86.00 mn"),  # the gamma cards
        (None, {}, "n/a"),
        (math.nan, {}, "n/a"),
        (math.inf, {}, "n/a"),
        ("x", {}, "n/a"),
    ],
)
def test_format_usd(value, kwargs, text) -> None:
    assert format_usd(value, **kwargs) == text


def test_an_amount_rounding_to_zero_has_no_sign() -> None:
    from flows.money import format_usd

    assert format_usd(0.0) == "$0" and format_usd(-0.0) == "$0" and format_usd(-0.4) == "$0"
    assert format_usd(-1e-7, scale="bn", style="code") == "0.00 bn USD"
    assert format_usd(4e3, scale="bn") == "$0.00 bn"
    # the first figure that shows a digit keeps its sign
    assert format_usd(-5e6, scale="bn") == "-$0.01 bn" and format_usd(0.6) == "+$1"
