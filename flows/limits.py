"""Plausibility limits of every input, in one table.

A value outside its limit is not a market event but a broken input (a unit error, a shifted
column, a corrupted download), and a desk tool must refuse it rather than print a number from
it.  :data:`LIMITS` is the single documented table; parsers and analytics check against it with
:func:`check_range`, which raises :class:`flows.errors.InputError` naming the file, the first
offending row and the field.  ``docs/limits.md`` is rendered from this table
(:func:`markdown_table`).

Pure: data and a vectorised check, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from flows.errors import InputError


@dataclass(frozen=True)
class Limit:
    """An inclusive range ``[low, high]`` (None = unbounded) for one field, with its reason."""

    key: str
    low: float | None
    high: float | None
    unit: str
    why: str


LIMITS: dict[str, Limit] = {
    lim.key: lim
    for lim in (
        Limit(
            "option.spot",
            0.0,
            1e6,
            "index points / USD per share",
            "finite and positive; spot must also lie within the listed strike range (checked against the chain's strikes)",
        ),
        Limit(
            "option.spot_vs_parity",
            -0.25,
            0.25,
            "relative difference of spot from the put-call parity spot",
            "spot against the spot implied by the nearest expiry's put-call parity (F e^-(r-q)T from the chain's own mids): beyond 25 % the spot is wrong (a shifted digit, another underlying); beyond 5 % a warning",
        ),
        Limit(
            "option.strike",
            0.0,
            1e7,
            "index points / USD per share",
            "positive; must equal the strike encoded in the OSI symbol to 0.0005 (the symbol's own precision)",
        ),
        Limit(
            "option.open_interest",
            0.0,
            5e7,
            "contracts",
            "non-negative; 50 million contracts on one series exceeds every listed series by 10x",
        ),
        Limit("option.volume", 0.0, 5e7, "contracts", "non-negative, as open interest"),
        Limit(
            "option.iv",
            0.0,
            20.0,
            "fraction per year",
            "0 (= not computed) to 2,000 %; meme-stock and VIX options reach several hundred percent, never 2,000 %",
        ),
        Limit(
            "option.delta",
            -1.0001,
            1.0001,
            "per option",
            "a Black-Scholes delta lies in [-1, 1] (the source rounds)",
        ),
        Limit(
            "option.gamma_x_spot",
            0.0,
            1e4,
            "gamma x spot (dimensionless)",
            "gamma is non-negative; gamma x spot above 1e4 needs a one-minute expiry at 1 % vol: a unit error",
        ),
        Limit(
            "option.price", 0.0, 1e7, "premium per unit of underlying", "bid/ask/last non-negative"
        ),
        Limit(
            "letf.leverage",
            -5.0,
            5.0,
            "dimensionless, signed",
            "listed daily leveraged and inverse funds run -3x..+3x (a few 4x/5x notes); beyond 5x is a parsing error",
        ),
        Limit(
            "letf.aum_usd",
            0.0,
            2e11,
            "USD",
            "non-negative; the largest leveraged fund (TQQQ) holds ~USD 30 bn: 200 bn is a unit error (thousands read as units)",
        ),
        Limit(
            "letf.price_usd",
            1e-4,
            1e6,
            "USD per share",
            "a fund's price or NAV is positive (a zero or negative price is a broken row); no listed fund share trades above USD 1 million",
        ),
        Limit(
            "letf.avg_volume",
            0.0,
            1e11,
            "shares per day",
            "non-negative; 100 billion shares a day exceeds a whole US session's volume",
        ),
        Limit(
            "letf.shares_outstanding",
            0.0,
            1e11,
            "shares",
            "non-negative; 100 billion shares of one fund is a unit error",
        ),
        Limit(
            "fx.usd_per_unit",
            1e-6,
            1e3,
            "USD per 1 unit of currency",
            "strictly positive; no traded currency is worth more than USD 1,000 or less than a millionth",
        ),
        Limit(
            "fx.daily_log_change",
            -0.3,
            0.3,
            "log change vs the previous ECB day",
            "the largest daily move of a major currency on the ECB fixing (CHF, January 2015) is ~0.2: a bigger jump is a misprint",
        ),
        Limit("cftc.open_interest", 0.0, 1e8, "contracts", "non-negative"),
        Limit(
            "cftc.position",
            0.0,
            1e8,
            "contracts",
            "each category's long and short is non-negative and at most the market's open interest",
        ),
        Limit(
            "cftc.oi_identity_gap",
            -5.0,
            5.0,
            "contracts",
            "each side of a COT row adds up to its open interest (legacy: non-commercial + spreading + commercial + non-reportable; TFF: every class + the spreads); exact on every currency row of the real files 2017-2026, off by up to 4 on consolidated index markets",
        ),
        Limit(
            "futures.contract_dv01",
            1.0,
            1000.0,
            "USD per basis point per contract",
            "a listed US rates future moves USD 25 (3-month SOFR) to ~USD 400 (Ultra Bond at low yields) per bp; outside [1, 1000] the figure is in the wrong unit (cents, per USD 1 million face)",
        ),
        Limit(
            "scenario.move_pct",
            -100.0,
            100.0,
            "percent",
            "an underlying cannot fall more than 100 %; +100 % in one session is outside any stress a desk runs",
        ),
        Limit("price.close", 0.0, 1e7, "index points / USD", "closes are positive"),
        Limit(
            "price.daily_log_change",
            -1.0,
            1.0,
            "log change vs the previous session",
            "the largest one-session moves in the shared histories are the VIX on 2018-02-05 (+0.77) and the S&P 500 on 1987-10-19 (-0.23); a factor e (2.7x) in one session is a misplaced decimal or a unit change",
        ),
        Limit(
            "vx.settle",
            0.0,
            150.0,
            "VIX points",
            "VIX futures settle in VIX points (record front-month settle ~ 80 in 2008 and 2020); 150 is twice the record: a price still on the pre-2007 10 x VIX scale or a unit error",
        ),
        Limit(
            "vixetp.leverage",
            -3.0,
            3.0,
            "dimensionless, signed",
            "listed VIX futures ETPs run -1x..+2x (TVIX / UVIX 2x, XIV / SVIX -1x); beyond 3x is a data error",
        ),
        Limit(
            "vixetp.aum_usd",
            0.0,
            5e10,
            "USD",
            "non-negative; the largest VIX ETP held a few USD bn: 50 bn is a unit error",
        ),
    )
}
"""Every plausibility limit, keyed ``<family>.<field>``."""


def check_range(
    values: Any,
    key: str,
    source: str,
    *,
    rows: Any = None,
    field: str | None = None,
    ignore_nan: bool = True,
) -> None:
    """Raise :class:`InputError` when any of ``values`` lies outside ``LIMITS[key]``.

    Parameters
    ----------
    values:
        Array-like of numbers.
    key:
        Key of :data:`LIMITS`.
    source:
        File, URL or symbol named in the error.
    rows:
        Row labels (source line numbers, symbols) aligned with ``values``; the first offender's
        is named in the message.  A callable ``rows(i) -> label`` builds the label of position
        ``i`` only when a value is refused (parsers check every row: no label list per call).
    field:
        Column name as the source spells it (default: the part of ``key`` after the dot).
    ignore_nan:
        NaN means "not given" and is checked elsewhere; infinities are always refused.
    """
    lim = LIMITS[key]
    arr = np.asarray(values, dtype=np.float64)
    bad = np.isinf(arr)
    if not ignore_nan:
        bad |= np.isnan(arr)
    with np.errstate(invalid="ignore"):
        if lim.low is not None:
            bad |= arr < lim.low
        if lim.high is not None:
            bad |= arr > lim.high
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    where = ""
    if callable(rows):
        where = f" (row {rows(i)})"
    elif rows is not None:
        where = f" (row {np.asarray(rows, dtype=object)[i]})"
    rng = f"[{'-inf' if lim.low is None else plain_number(lim.low)}, {'inf' if lim.high is None else plain_number(lim.high)}]"
    raise InputError(
        source,
        field or key.split(".", 1)[1],
        f"{int(bad.sum())} value(s) outside the plausible range {rng} {lim.unit}, e.g. {plain_number(float(arr[i]))}{where}: {lim.why}",
    )


def plain_number(x: float) -> str:
    """``x`` written for people in an error message: every digit it holds, thousands separated,
    never an exponent (``5e+07`` -> ``50,000,000``, ``-1000.0`` -> ``-1,000``, ``1e-08`` ->
    ``0.00000001``); ``inf``, ``-inf``, ``nan`` as such."""
    if not np.isfinite(x):
        return "nan" if np.isnan(x) else ("inf" if x > 0 else "-inf")
    if x == 0:
        return "0"  # -0.0 too
    text = np.format_float_positional(x, trim="-")  # the shortest digits that read back as x
    whole, dot, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}{dot}{frac}"


def markdown_table() -> str:
    """The limits as a Markdown table (``docs/limits.md``)."""
    lines = ["| field | low | high | unit | why |", "| --- | --- | --- | --- | --- |"]
    for lim in LIMITS.values():
        lo = "" if lim.low is None else plain_number(lim.low)
        hi = "" if lim.high is None else plain_number(lim.high)
        lines.append(f"| `{lim.key}` | {lo} | {hi} | {lim.unit} | {lim.why} |")
    return "\n".join(lines) + "\n"
