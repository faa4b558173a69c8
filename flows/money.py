"""The one money formatter: USD amounts for people (CLI output, the brief, cards, alerts).

``format_usd(-1.234e10)`` -> ``-$12.34 bn``; ``format_usd(35.2e9)`` -> ``+$35.20 bn``;
``format_usd(5e5, signed=False)`` -> ``$500.00 k``; missing, NaN or infinite -> ``n/a``.
The scale is the largest of tn (1e12), bn (1e9), mn (1e6) and k (1e3) not above the amount;
below 1,000 the amount is written in whole dollars.  ``signed``: a ``+`` on positive amounts
(flows: + = buy); negative amounts always carry ``-``.
"""

from __future__ import annotations

import math
from typing import Any

SCALES = ((1e12, "tn"), (1e9, "bn"), (1e6, "mn"), (1e3, "k"))
"""Suffixes, largest first."""


def format_usd(x: Any, *, signed: bool = True, digits: int = 2) -> str:
    """``x`` USD as ``[+|-]$<amount> <scale>`` (module docstring); ``n/a`` when not a finite number."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(v):
        return "n/a"
    sign = "-" if v < 0 else ("+" if signed and v > 0 else "")
    a = abs(v)
    for div, suffix in SCALES:
        if a >= div:
            return f"{sign}${a / div:,.{digits}f} {suffix}"
    return f"{sign}${a:,.0f}"
