"""How the web pages write signed numbers and money: the one display rule of the dashboard.

* A minus sign is U+2212 (``−0.94%``, ``−$57.19 bn``), as the grids' d3 formatters write it;
  never the ASCII hyphen-minus.
* Money keeps a space before its scale word (``+$262.69 bn``, ``−4.82 bn USD``): the default of
  :func:`flows.money.format_usd`.  Each page keeps its style (``symbol`` or ``code``, scale,
  digits); only the sign and the spacing are fixed here.
* A figure that rounds to zero as written carries no sign (``$0``, ``0.00%``), never ``−0.00%``.

Pages write values through :func:`value` (a value by its declared unit) and :func:`usd` (an
amount), never by passing ``minus=`` / ``space=`` themselves.  Texts written by the jobs and
stored in results (the brief's lines, the board's flags, CFTC notes) keep the ASCII hyphen in
storage, the CLI, webhooks and PDFs; the pages convert them as they show them with
:func:`minus_signs`, which changes only a hyphen that is a minus sign.  Formatting only: the
dashboard computes no analytics.
"""

from __future__ import annotations

import re
from typing import Any

from flows import money
from flows.formatting import format_value

MINUS = "\u2212"
"""The minus sign every web page writes."""

MINUS_SIGN = re.compile(r"(?:^|(?<=[\s(:=,]))-(?=\$?\d)")
"""A hyphen that is a minus sign: at the start of the text or after white space, ``(``, ``:``,
``=`` or ``,``, and before a digit or ``$`` (``-3%``, ``(-0.2% away)``, ``-$4.8bn``).  A date
(``2026-11-30``), a range (``months 1-2``), a code (``gamma_morning``, ``ES_CONS``), a word
(``z-score``) or ``+/-`` has no such hyphen."""

_ZERO = re.compile(rf"^[{MINUS}-](?=[^1-9]*0[^1-9]*$)")
"""A leading minus on a figure without a non-zero digit (``-0.00%``, ``-0``)."""


def minus_signs(text: str) -> str:
    """``text`` with every hyphen that is a minus sign (:data:`MINUS_SIGN`) written U+2212:
    ``"net GEX -7.46 bn"`` -> ``"net GEX −7.46 bn"``; ``"2026-11-30"`` unchanged."""
    return MINUS_SIGN.sub(MINUS, text)


def _shown(text: str) -> str:
    return minus_signs(_ZERO.sub("", text))


def value(x: Any, unit: Any, **style: Any) -> str:
    """``x`` written by its declared ``unit`` (:func:`flows.formatting.format_value`) in the
    display rule: ``−0.94%``, ``−$57.19 bn``, ``+162.45 bn USD``; ``style`` (``signed``, ``scale``,
    ``style``, ``digits``, ``tz``) passes through."""
    return _shown(format_value(x, unit, **style, minus=MINUS, space=True))


def usd(x: Any, **style: Any) -> str:
    """An amount in USD (:func:`flows.money.format_usd`) in the display rule: ``−$4.8 bn``;
    ``style`` (``signed``, ``scale``, ``style``, ``digits``) passes through."""
    return _shown(money.format_usd(x, **style, minus=MINUS, space=True))


def signed(x: float, spec: str = "+g") -> str:
    """A number with its sign always written (``+3``, ``−3``; ``+0``, never ``−0``): ``format(x, spec)`` with
    U+2212 for the minus (a move in a title: ``If NDX moves −3% today``)."""
    return _shown(format(x, spec))
