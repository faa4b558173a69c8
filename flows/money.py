"""The one money formatter: USD amounts for people (CLI output, the brief, cards, figures).

``format_usd(-1.234e10)`` -> ``-$12.34 bn``; ``format_usd(35.2e9)`` -> ``+$35.20 bn``;
``format_usd(2e8, scale="bn", style="code")`` -> ``+0.20 bn USD``; missing, NaN, infinite or
not a number -> ``n/a``.

* **Scale**: the largest of tn (1e12), bn (1e9), mn (1e6) and k (1e3) not above the amount
  (below 1,000: whole dollars), or a fixed ``scale`` (the board and the brief read everything in
  bn so that rows compare at a glance).
* **Sign**: with ``signed`` (flows: + = buy), ``+`` on positive amounts; negative amounts
  always carry ``minus`` (``-``, or the typographic ``−`` some figures use); an amount that
  rounds to zero as written (``$0``, ``0.00 bn USD``) carries none.
* **Style**: ``symbol`` writes ``$12.34 bn``; ``code`` writes ``12.34 bn USD``; ``bare`` writes
  ``12.34 bn`` (a table whose header states USD).  ``space``: a space before the scale suffix.

The surfaces keep the style their readers know (the CLI and the gamma cards ``symbol``; the
board, the explorer and the brief ``code`` in bn; the CFTC cards ``symbol`` with one decimal);
they all go through this one function.  The web pages write through
:mod:`dashboard.display` (``minus`` U+2212, a space before the scale word); text stored by the
jobs (the brief, CFTC readings) keeps the ASCII ``-`` and the pages convert it as they show it.
"""

from __future__ import annotations

import math
from typing import Any, Literal

SCALES = (("tn", 1e12), ("bn", 1e9), ("mn", 1e6), ("k", 1e3))
"""Suffixes and their size, largest first."""


def format_usd(
    x: Any,
    *,
    signed: bool = True,
    digits: int = 2,
    scale: Literal["tn", "bn", "mn", "k"] | None = None,
    style: Literal["symbol", "code", "bare"] = "symbol",
    space: bool = True,
    minus: str = "-",
) -> str:
    """``x`` USD for people (rules in the module docstring); ``n/a`` when not a finite number."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(v):
        return "n/a"
    sign = minus if v < 0 else ("+" if signed else "")
    a = abs(v)
    sizes = dict(SCALES)
    suffix: str
    if scale is not None:
        amount, suffix = f"{a / sizes[scale]:,.{digits}f}", scale
    else:
        amount, suffix = f"{a:,.0f}", ""
        for name, size in SCALES:
            if a >= size:
                amount, suffix = f"{a / size:,.{digits}f}", name
                break
    if not amount.strip("0.,"):
        sign = (
            ""  # an amount that rounds to zero has no direction: "$0", never "+$0" or "-$0.00 bn"
        )
    if suffix:
        amount += (" " if space else "") + suffix
    if style == "symbol":
        return f"{sign}${amount}"
    if style == "code":
        return f"{sign}{amount} USD"
    return f"{sign}{amount}"
