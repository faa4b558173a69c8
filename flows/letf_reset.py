"""Reset period of leveraged and inverse funds: which funds rebalance every day, and which do not.

The daily rebalance trade ``A * (L**2 - L) * r`` (:mod:`flows.letf`) holds only for funds whose
leverage resets **every session**.  A fund that resets weekly, monthly or quarterly lets its
exposure drift between resets and trades only on its reset day (over the whole reset period); a
fund built from options (buffer, accelerated / capped, option-income overlays) has no leverage
reset at all.  Counting them as daily funds overstates the close-of-day flow (the field case
``letf-calendar-reset``: +10.4 million USD per 1 % from five non-daily funds next to TQQQ).

Reset classes (:data:`RESETS`)
------------------------------
``daily`` (the only class in the daily figures), ``weekly``, ``monthly``, ``quarterly``,
``options-based`` (buffer / accelerated / capped / option-income payoffs, whatever their outcome
period), ``unknown`` (nothing below decides; excluded, and listed as such).

Where a fund's class comes from, first match wins (``reset_source`` names the step):

1. ``override``: a per-deployment mapping (``[letf] reset_overrides`` in the configuration).
2. ``curated``: the curated table shipped in the repository, ``flows/data/letf_reset.csv``
   (``ticker, reset, evidence``), one row per fund whose class was checked against the issuer's
   stated objective; the ``evidence`` column says where from.  It wins over the rules.
3. ``name``: rules on the fund name (:data:`NAME_RULES`, in this order):

   * **daily**: the word ``Daily`` (or ``Dly``), unless it is followed by ``Income``, ``Pay``,
     ``Premium`` or ``Distribution`` (``Growth & Daily Income`` is a payout, not a reset); a
     name that says ``Daily`` wins over every rule below (``Direxion Daily High Yield Bear``);
   * **options-based**: ``YieldBoost``, ``Option(s)``, ``Buffer``, ``Accelerated``, ``Outcome``,
     ``Premium``, ``Enhanced Income``, ``+ Income``, ``Covered Call``, ``Boosted``.  ``Capped``
     alone is not one: it names an index's weight caps as often (ProShares ``Ultra MSCI Brazil
     Capped`` tracks the MSCI Brazil 25/50 Capped index, daily), and the capped payoffs say
     ``Accelerated`` or ``Buffer`` beside it (``2x Capped Accelerated ... Monthly ETF``).  The rule
     wins over the period words (``Accelerated ETF - Quarterly`` is an options payoff over a
     quarterly outcome period, not a quarterly leverage reset).  ``High Income`` alone is not
     enough: UBS's ``Monthly Pay 2x ... Diversified High Income`` note tracks a dividend index;
     a name saying ``Income`` without one of these words stays ``unknown`` (no daily figure);
   * **weekly**: ``Weekly`` (Roundhill ``WeeklyPay``: 1.2x the calendar-week return);
   * **monthly**: ``Monthly`` (Tradr ``... Monthly ETF``, UBS ETRACS ``Monthly Pay 2x`` notes,
     whose leverage compounds monthly);
   * **quarterly**: ``Quarterly`` (Tradr ``... Quarterly ETF``, ETRACS ``Quarterly Pay``).
4. ``family``: rules on the fund family, matched against the ``issuer`` column and, when that
   column is damaged, the brand in the name (:data:`FAMILY_RULES`): issuers whose leveraged
   lines are daily-reset only (ProShares, GraniteShares, Leverage Shares, BMO / REX
   MicroSectors and MAX notes, Volatility Shares, 21Shares, T-Rex / REX, Deutsche Bank's DB
   notes) -> ``daily``; issuers of defined-outcome or option-income funds only (Innovator, FT
   Vest, YieldMax, NEOS, Kurv) -> ``options-based``.  Issuers with several reset periods (Tradr
   sells daily, weekly, monthly and quarterly funds; Direxion also runs tactical funds; UBS
   ETRACS notes reset monthly or quarterly) have no family rule: the name or the curated table
   must decide.
5. ``unknown``: none of the above.

Pure: frames in, frames out, no I/O (the curated table is read by
:func:`flows.sources.letf_universe.reset_table`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.core.arrays.string_arrow import ArrowStringArray

from flows.errors import InputError

DAILY = "daily"
WEEKLY = "weekly"
MONTHLY = "monthly"
QUARTERLY = "quarterly"
OPTIONS = "options-based"
UNKNOWN = "unknown"
RESETS = (DAILY, WEEKLY, MONTHLY, QUARTERLY, OPTIONS, UNKNOWN)
"""Every reset class; only ``daily`` funds enter the daily rebalance figures."""

RESET_TABLE_COLUMNS = ["ticker", "reset", "evidence"]


_ASCII_SPACE = r"[\t\n\x0b\x0c\r\x1c-\x1f ]"
"""Python's ``\\s`` on ASCII text, spelled for RE2 (whose ``\\s`` lacks ``\\x0b`` and ``\\x1c``-``\\x1f``)."""


class _Bytes(NamedTuple):
    """ASCII cells as one run of lower-case bytes: cell ``i`` is ``text[starts[i]:starts[i + 1]]``
    (``chars``: the same bytes as a numpy array)."""

    text: bytes
    chars: np.ndarray
    starts: np.ndarray


def _bytes_of(arr: pa.Array) -> _Bytes:
    """The cells of an Arrow ``large_string`` array of ASCII cells (no nulls), lower-cased
    (``bytes.lower``: A-Z only, what Python's case-insensitive match does on ASCII)."""
    _, offsets_buf, data = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64, count=len(arr) + 1, offset=8 * arr.offset)
    lo, hi = int(offsets[0]), int(offsets[-1])
    text = bytes(memoryview(data)[lo:hi]).lower() if data is not None and hi > lo else b""
    return _Bytes(text, np.frombuffer(text, dtype=np.uint8), offsets - lo)


_WORD_BYTE = np.zeros(256, dtype=bool)
_WORD_BYTE[list(b"0123456789_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")] = True
_WORD_BYTE.setflags(write=False)
"""Python's ``\\w`` on ASCII (what ``\\b`` tells apart)."""
_SPACE_BYTE = np.zeros(256, dtype=bool)
_SPACE_BYTE[list(b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f ")] = True
_SPACE_BYTE.setflags(write=False)
"""Python's ``\\s`` on ASCII (:data:`_ASCII_SPACE`)."""


def _found(cells: _Bytes, word: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``(at, row)`` of every occurrence of ``word`` (lower-case ASCII, which cannot overlap
    itself: no proper prefix is also a suffix) inside one cell: ``bytes.split`` finds them
    left to right, the lengths of the pieces place them."""
    pieces = cells.text.split(word)
    if len(pieces) == 1:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    lengths = np.fromiter(map(len, pieces[:-1]), dtype=np.int64, count=len(pieces) - 1)
    at = np.cumsum(lengths) + len(word) * np.arange(lengths.size)
    row = np.searchsorted(cells.starts, at, side="right") - 1
    inside = at + len(word) <= cells.starts[row + 1]  # not across two cells
    return at[inside], row[inside]


def _bounded(cells: _Bytes, at: np.ndarray, row: np.ndarray, size: int) -> np.ndarray:
    """Whether the words of ``size`` bytes at ``at`` (word characters at both ends) stand
    between ``\\b`` boundaries: a cell edge or a non-word character on each side."""
    chars, end = cells.chars, at + size
    before = (at == cells.starts[row]) | ~_WORD_BYTE[chars[at - 1]]
    after = (end == cells.starts[row + 1]) | ~_WORD_BYTE[chars[np.minimum(end, chars.size - 1)]]
    return np.asarray(before & after)


def _contains(word: str) -> Callable[[_Bytes, int], np.ndarray]:
    """The byte matcher of a rule whose pattern is ``word`` alone (case-insensitive)."""
    needle = word.encode("ascii")

    def match(cells: _Bytes, n: int) -> np.ndarray:
        hits = np.zeros(n, dtype=bool)
        hits[_found(cells, needle)[1]] = True
        return hits

    return match


_PAYOUT_AFTER = re.compile(rb"daily[\t\n\x0b\x0c\r\x1c-\x1f ]+(?:income|pay|premium|distribution)")
"""A ``daily`` the payout words follow after spaces (Python's ``\\s`` on ASCII), lower case."""


def _daily_hits(cells: _Bytes, n: int) -> np.ndarray:
    """The ``daily`` name rule on ASCII cells, as Python reads its pattern
    ``\\bdaily\\b(?!\\s+(?:income|pay|premium|distribution))|\\bdly\\b``: a cell matches when
    one ``daily`` between word boundaries is not followed by spaces and a payout word (in the
    same cell; ``\\s+`` then a letter can only be the whole run of spaces), or one ``dly``
    stands between word boundaries."""
    hits = np.zeros(n, dtype=bool)
    at, row = _found(cells, b"daily")
    ok = _bounded(cells, at, row, 5)
    if ok.any():
        # the few payout spellings, found by their own pattern (its literal start is quick to
        # look for); a match running into the next cell does not count
        spans = [m.span() for m in _PAYOUT_AFTER.finditer(cells.text)]
        if spans:
            begin, end = np.asarray(spans, dtype=np.int64).T
            cell_end = cells.starts[np.searchsorted(cells.starts, begin, side="right")]
            ok &= ~np.isin(at, begin[end <= cell_end])
        hits[row[ok]] = True
    at, row = _found(cells, b"dly")
    hits[row[_bounded(cells, at, row, 3)]] = True
    return hits


@dataclass(frozen=True)
class Rule:
    """One classification rule: a case-insensitive pattern and the class it gives.

    ``pattern`` (Python ``re``) is the rule.  ``ascii_pattern`` is the same rule in RE2 syntax
    (pyarrow's regex engine, one call over a whole column), exact on ASCII text, where RE2's
    ``\\b`` and case folding agree with Python's; rows with other characters are matched with
    ``pattern`` (:func:`_first_match`).  RE2 has no look-ahead: ``unless`` (RE2) names the
    occurrences of ``ascii_pattern`` that do not count (each one starts at an occurrence of
    ``ascii_pattern``), and a row matches when it holds more occurrences of ``ascii_pattern``
    than of ``unless``.  ``keywords`` is a quick necessary test before ``pattern`` on ASCII
    text (:func:`_first_rule_py`).
    """

    key: str
    pattern: re.Pattern[str]
    reset: str
    why: str
    ascii_pattern: str = ""
    unless: str = ""
    keywords: tuple[str, ...] = ()
    """Lower-case words of which every match holds one (each branch of ``pattern`` spells one
    out; a test proves it): an ASCII cell holding none of them cannot match, so the Python
    pattern is not even tried (empty: always tried)."""

    matcher: Callable[[_Bytes, int], np.ndarray] | None = field(default=None, compare=False)
    """The rule on ASCII cells read from their bytes with numpy (:func:`_first_rule_of`), where
    it is cheaper than an RE2 call (pyarrow compiles the pattern at every call); None: RE2.
    A test compares it with ``pattern`` cell by cell."""

    keyword_pattern: re.Pattern[str] | None = field(default=None, init=False, compare=False)
    """The keywords as one pattern (compiled once), None without keywords."""

    def __post_init__(self) -> None:
        if not self.ascii_pattern:
            object.__setattr__(self, "ascii_pattern", self.pattern.pattern)
        if self.keywords:
            words = "|".join(re.escape(w) for w in self.keywords)
            object.__setattr__(self, "keyword_pattern", re.compile(words))


NAME_RULES: tuple[Rule, ...] = (
    Rule(
        "daily",
        re.compile(r"\bdaily\b(?!\s+(?:income|pay|premium|distribution))|\bdly\b", re.IGNORECASE),
        DAILY,
        "name says Daily",
        keywords=("daily", "dly"),
        ascii_pattern=r"\bdaily\b|\bdly\b",
        unless=rf"\bdaily{_ASCII_SPACE}+(?:income|pay|premium|distribution)",
        matcher=_daily_hits,
    ),
    Rule(
        "options",
        re.compile(
            r"yield\s*boost|\boptions?\b|buffer|accelerat|outcome|premium|enhanced income|\+\s*income|covered call|boosted",
            re.IGNORECASE,
        ),
        OPTIONS,
        "name names an options payoff (buffer / accelerated / outcome / option income)",
        keywords=(
            "yield",
            "option",
            "buffer",
            "accelerat",
            "outcome",
            "premium",
            "income",
            "covered call",
            "boosted",
        ),
        ascii_pattern=rf"yield{_ASCII_SPACE}*boost|\boptions?\b|buffer|accelerat|outcome|premium|enhanced income|\+{_ASCII_SPACE}*income|covered call|boosted",
    ),
    Rule(
        "weekly",
        re.compile(r"weekly", re.IGNORECASE),
        WEEKLY,
        "name says Weekly",
        keywords=("weekly",),
        matcher=_contains("weekly"),
    ),
    Rule(
        "monthly",
        re.compile(r"monthly", re.IGNORECASE),
        MONTHLY,
        "name says Monthly",
        keywords=("monthly",),
        matcher=_contains("monthly"),
    ),
    Rule(
        "quarterly",
        re.compile(r"quarterly", re.IGNORECASE),
        QUARTERLY,
        "name says Quarterly",
        keywords=("quarterly",),
        matcher=_contains("quarterly"),
    ),
)
"""Rules on the fund name, applied in this order (first match wins)."""

FAMILY_RULES: tuple[Rule, ...] = (
    Rule(
        "proshares",
        re.compile(r"\bproshares\b", re.IGNORECASE),
        DAILY,
        "ProShares leveraged and inverse funds reset daily",
        keywords=("proshares",),
    ),
    Rule(
        "graniteshares",
        re.compile(r"\bgraniteshares\b", re.IGNORECASE),
        DAILY,
        "GraniteShares leveraged funds reset daily (YieldBoost funds are caught by the name rules first)",
        keywords=("graniteshares",),
    ),
    Rule(
        "leverage-shares",
        re.compile(r"\bleverage\s?shares\b", re.IGNORECASE),
        DAILY,
        "Leverage Shares 2x funds reset daily (Capped Accelerated funds are caught by the name rules first)",
        keywords=("leverage",),
        ascii_pattern=rf"\bleverage{_ASCII_SPACE}?shares\b",
    ),
    Rule(
        "microsectors",
        re.compile(r"microsectors|\bbmo\b|bank of montreal|^\s*max\s*$|^\s*max\b", re.IGNORECASE),
        DAILY,
        "MicroSectors and MAX exchange-traded notes reset daily",
        keywords=("microsectors", "bmo", "bank of montreal", "max"),
        # Python's $ also matches before a final line break; the space class takes it here
        ascii_pattern=rf"microsectors|\bbmo\b|bank of montreal|^{_ASCII_SPACE}*max{_ASCII_SPACE}*$|^{_ASCII_SPACE}*max\b",
    ),
    Rule(
        "volatility-shares",
        re.compile(r"volatility shares|\bvs trust\b", re.IGNORECASE),
        DAILY,
        "Volatility Shares leveraged funds reset daily",
        keywords=("volatility shares", "vs trust"),
    ),
    Rule(
        "21shares",
        re.compile(r"\b21shares\b", re.IGNORECASE),
        DAILY,
        "21Shares 2x funds reset daily",
        keywords=("21shares",),
    ),
    Rule(
        "t-rex",
        re.compile(r"\bt-?rex\b|^\s*rex\s*$", re.IGNORECASE),
        DAILY,
        "T-Rex / REX leveraged funds reset daily",
        keywords=("rex",),
        ascii_pattern=rf"\bt-?rex\b|^{_ASCII_SPACE}*rex{_ASCII_SPACE}*$",
    ),
    Rule(
        "db-notes",
        re.compile(r"deutsche bank|^\s*db\s*$|^\s*db\s", re.IGNORECASE),
        DAILY,
        "Deutsche Bank DB double long/short notes reset daily",
        keywords=("deutsche bank", "db"),
        ascii_pattern=rf"deutsche bank|^{_ASCII_SPACE}*db{_ASCII_SPACE}*$|^{_ASCII_SPACE}*db{_ASCII_SPACE}",
    ),
    Rule(
        "defined-outcome",
        re.compile(r"\binnovator\b|\bft vest\b|\byieldmax\b|\bneos\b|\bkurv\b", re.IGNORECASE),
        OPTIONS,
        "issuer of defined-outcome / option-income funds only",
        keywords=("innovator", "ft vest", "yieldmax", "neos", "kurv"),
    ),
)
"""Rules on the fund family (``issuer``; the name when the family is not readable)."""

_BLANK_TEXT = {"", "-", "--", "nan", "n/a", "na", "none", "null"}
_BLANK_VALUES = pa.array(sorted(_BLANK_TEXT), type=pa.large_string())
_PY_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
"""Every character Python's ``str.strip()`` removes (``str.isspace``; written out, because
scanning all of Unicode for them cost 0.18 s at every import; a test holds it equal)."""


def _arrow_text(values: pd.Series) -> pa.Array:
    """The column as one Arrow string array ('' for missing cells); no copy for Arrow-backed text."""
    if not isinstance(values.dtype, pd.StringDtype) or values.dtype.storage != "pyarrow":
        values = values.fillna("").astype(str).astype(pd.StringDtype("pyarrow", na_value=np.nan))
    arr = pa.array(values.array).cast(pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pc.fill_null(arr, "")


def unreadable_text(values: pd.Series) -> pd.Series:
    """True where a text cell carries nothing: blank, ``-``, ``NaN``, ``N/A``, ``None``, ``null``
    (whitespace around them as Python's ``str.strip`` removes it, any case).

    One Arrow pass over the column (trim, lower, set lookup): :func:`unreadable`.
    """
    return pd.Series(unreadable(_arrow_text(values)), index=values.index)


_BLANK_SPELLINGS = pa.array(
    sorted(
        {"".join(p) for w in _BLANK_TEXT for p in itertools.product(*({c, c.upper()} for c in w))}
    ),
    type=pa.large_string(),
)
"""Every upper/lower-case spelling of the blank words (no other character lower-cases into
one of their letters, ``/`` or ``-``: a test checks every code point)."""


_BLANK_SPELLING_SET = frozenset(_BLANK_SPELLINGS.to_pylist())


def blank_spellings() -> frozenset[str]:
    """Every upper/lower-case spelling of the blank words (:func:`unreadable_stripped`)."""
    return _BLANK_SPELLING_SET


"""The same spellings as Python strings: a cell ``v`` is unreadable when ``v.strip()`` is one
(``str.strip`` removes :data:`_PY_SPACE`, a test holds them equal)."""


def unreadable_stripped(text: pa.Array) -> np.ndarray:
    """:func:`unreadable` of an Arrow ``large_string`` array already stripped of whitespace
    (``str.strip``; pandas' and Arrow's ``utf8_trim_whitespace`` remove the same characters, a
    test checks it): one set lookup of the blank words in any case."""
    return np.asarray(
        pc.is_in(text, value_set=_BLANK_SPELLINGS).to_numpy(zero_copy_only=False), dtype=bool
    )


def unreadable(text: pa.Array) -> np.ndarray:
    """:func:`unreadable_text` of an Arrow ``large_string`` array (no nulls): a bool array."""
    lowered = pc.utf8_lower(pc.utf8_trim(text, characters=_PY_SPACE))
    return np.asarray(pc.is_in(lowered, value_set=_BLANK_VALUES).to_numpy(zero_copy_only=False))


def _rule_matches(text: pd.Series, rules: tuple[Rule, ...]) -> list[np.ndarray]:
    """Per rule, whether each row matches it: one RE2 call per rule over the whole column
    (``Rule.ascii_pattern``), then the rows holding non-ASCII characters (rare: a few mojibake
    names) again with the Python pattern, where RE2's ``\\b`` and case folding differ."""
    arr = _arrow_text(text)
    other = np.flatnonzero(~pc.string_is_ascii(arr).to_numpy(zero_copy_only=False))
    # the few non-ASCII cells (mojibake, accented names) as Python strings, matched with ``re``
    others = arr.take(pa.array(other)).to_pylist() if other.size else []
    out = []
    for rule in rules:
        if rule.unless:
            hits = pc.greater(
                pc.count_substring_regex(arr, rule.ascii_pattern, ignore_case=True),
                pc.count_substring_regex(arr, rule.unless, ignore_case=True),
            )
        else:
            hits = pc.match_substring_regex(arr, rule.ascii_pattern, ignore_case=True)
        match = np.array(hits.to_numpy(zero_copy_only=False), dtype=bool)
        if others:
            match[other] = [rule.pattern.search(v) is not None for v in others]
        out.append(match)
    return out


def _first_rule(text: pd.Series, rules: tuple[Rule, ...]) -> np.ndarray:
    """Per row the position in ``rules`` of the first matching rule (``len(rules)``: none)."""
    return np.select(_rule_matches(text, rules), list(range(len(rules))), default=len(rules))


def _ascii_hits(arr: pa.Array, rule: Rule) -> np.ndarray:
    """Whether each ASCII cell of ``arr`` matches ``rule`` (RE2, :attr:`Rule.ascii_pattern`;
    with ``unless``: more occurrences of the pattern than of ``unless``, counted only on the
    cells where ``unless`` occurs at all)."""
    hits = np.asarray(
        pc.match_substring_regex(arr, rule.ascii_pattern, ignore_case=True).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    if rule.unless and hits.any():
        at = np.flatnonzero(hits)
        cand = arr.take(pa.array(at))
        both = np.asarray(
            pc.match_substring_regex(cand, rule.unless, ignore_case=True).to_numpy(
                zero_copy_only=False
            ),
            dtype=bool,
        )
        if both.any():
            twice = cand.filter(pa.array(both))
            more = pc.greater(
                pc.count_substring_regex(twice, rule.ascii_pattern, ignore_case=True),
                pc.count_substring_regex(twice, rule.unless, ignore_case=True),
            ).to_numpy(zero_copy_only=False)
            hits[at[both]] = more
    return hits


_SMALL = 48
"""Cells per remaining rule below which the rules run as Python patterns cell by cell: each RE2
call over a column costs 20-60 µs before its first row (pyarrow compiles the pattern at every
call), a Python search of a short cell about a microsecond (57 distinct fund families, 9 rules:
0.06 ms in Python against 0.5 ms in RE2)."""


def _any_keyword(rules: tuple[Rule, ...], start: int) -> re.Pattern[str] | None:
    """The keywords of ``rules[start:]`` as one alternation (lower-case letters, digits and
    spaces: the same pattern for Python and RE2), None when a rule has none."""
    if any(not r.keywords for r in rules[start:]):
        return None
    return re.compile("|".join(w for r in rules[start:] for w in r.keywords))


_FOLDS_TO_ASCII = frozenset("\u0130\u0131\u017f\u212a")
"""The characters other than ASCII that a case-insensitive Python pattern matches with an ASCII
letter or digit (İ ı ſ K; a test scans every code point).  A cell without them holds a
keyword of a rule exactly where its ``str.lower()`` spells it."""


def _first_rule_py(
    value: str, rules: tuple[Rule, ...], start: int = 0, words: re.Pattern[str] | None = None
) -> int:
    """Position of the first of ``rules[start:]`` whose Python pattern matches (``len(rules)``:
    none): the rule as :class:`Rule` defines it, tried only where a cell holds one of its
    :attr:`Rule.keywords` (``words``: :func:`_any_keyword` of ``rules[start:]``, a first test
    for all of them); a cell holding one of :data:`_FOLDS_TO_ASCII` is tried with every rule."""
    lower = value.lower() if value.isascii() or _FOLDS_TO_ASCII.isdisjoint(value) else None
    if lower is not None and words is not None and words.search(lower) is None:
        return len(rules)
    for k in range(start, len(rules)):
        rule = rules[k]
        pattern = rule.keyword_pattern
        if lower is not None and pattern is not None and pattern.search(lower) is None:
            continue
        if rule.pattern.search(value):
            return k
    return len(rules)


def _first_rule_of(arr: pa.Array, rules: tuple[Rule, ...]) -> np.ndarray:
    """:func:`_first_rule` of an Arrow ``large_string`` array (no nulls), rule by rule on the
    cells no earlier rule matched (most names are decided by the first rule or two).

    ASCII cells are matched by RE2 (:attr:`Rule.ascii_pattern`, one call per rule over the
    remaining cells) while more than :data:`_SMALL` per remaining rule remain; the last few
    cells, and cells with
    other characters (a few mojibake names), by the Python patterns (the rules themselves),
    tried where a cell holds a keyword (:attr:`Rule.keywords`).
    """
    out = np.full(len(arr), len(rules), dtype=np.int64)
    if not len(arr):
        return out
    ascii_cells = np.asarray(pc.string_is_ascii(arr).to_numpy(zero_copy_only=False), dtype=bool)
    if not ascii_cells.all():
        other = np.flatnonzero(~ascii_cells)
        words = _any_keyword(rules, 0)
        cells = arr.take(pa.array(other)).to_pylist()
        out[other] = [_first_rule_py(v, rules, 0, words) for v in cells]
    # ``cells`` are the cells of the rows ``todo``; ``pending``: which of them no rule decided
    # yet.  Byte matchers read every cell and keep the pending ones; the cells are narrowed to
    # the pending ones before an RE2 call or the Python patterns only.
    todo, cells, pending = np.arange(len(arr)), arr, ascii_cells
    cell_bytes: _Bytes | None = None
    for k, rule in enumerate(rules):
        if rule.matcher is None or np.count_nonzero(pending) <= _SMALL * (len(rules) - k):
            if not pending.all():
                todo, cells = todo[pending], cells.filter(pa.array(pending))
                pending, cell_bytes = np.ones(todo.size, dtype=bool), None
            if todo.size <= _SMALL * (len(rules) - k):
                words = _any_keyword(rules, k)
                out[todo] = [_first_rule_py(v, rules, k, words) for v in cells.to_pylist()]
                break
        if rule.matcher is not None:
            if cell_bytes is None:
                cell_bytes = _bytes_of(cells)
            hits = rule.matcher(cell_bytes, len(cells)) & pending
        else:
            hits = _ascii_hits(cells, rule)
        out[todo[hits]] = k
        pending = pending & ~hits
    return out


def _first_rule_distinct(arr: pa.Array, rules: tuple[Rule, ...]) -> np.ndarray:
    """:func:`_first_rule_of` of each distinct value once (a family column holds a few dozen
    issuers), spread back to the rows."""
    encoded = pc.dictionary_encode(arr)
    if len(encoded.dictionary) == len(arr):
        return _first_rule_of(arr, rules)
    codes: np.ndarray = _first_rule_of(encoded.dictionary, rules)
    return np.asarray(codes[encoded.indices.to_numpy(zero_copy_only=False)])


def _by_rule(values: list[str], none: str) -> np.ndarray:
    """One value per rule and ``none`` last, to be indexed by :func:`_first_rule`'s positions."""
    return np.array([*values, none], dtype=object)


def classify_reset(
    funds: pd.DataFrame,
    curated: pd.DataFrame | None = None,
    overrides: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Reset class of every fund (see the module docstring for the order of the sources).

    Parameters
    ----------
    funds:
        Needs ``ticker``; uses ``name`` and ``issuer`` where present.
    curated:
        The curated table (``ticker, reset, evidence``), e.g.
        :func:`flows.sources.letf_universe.reset_table`; ``None`` = rules only.
    overrides:
        Ticker -> reset class, winning over everything (configuration).

    Returns
    -------
    DataFrame
        Same index as ``funds``; columns ``reset`` (one of :data:`RESETS`), ``reset_source``
        (``override``, ``curated``, ``name``, ``family`` or ``none``) and ``reset_evidence``
        (the curated evidence or the rule that decided, one sentence).

    Raises
    ------
    InputError
        An override names a class not in :data:`RESETS`.
    """
    index = funds.index
    blank = pa.array([""] * len(index), type=pa.large_string())
    reset, source, evidence = classify_reset_arrays(
        _arrow_text(funds["ticker"]),
        _arrow_text(funds["name"]) if "name" in funds else blank,
        _arrow_text(funds["issuer"]) if "issuer" in funds else blank,
        curated,
        overrides,
    )
    str_dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    return pd.DataFrame(
        {
            "reset": ArrowStringArray(reset, dtype=str_dtype),
            "reset_source": ArrowStringArray(source, dtype=str_dtype),
            "reset_evidence": ArrowStringArray(evidence, dtype=str_dtype),
        },
        index=index,
    )


class ResetArrays(NamedTuple):
    """:func:`classify_reset` as Arrow ``large_string`` arrays, and the classes as numpy
    flags: ``daily`` (``reset == "daily"``) and ``unknown`` (``reset == "unknown"``)."""

    reset: pa.Array
    reset_source: pa.Array
    reset_evidence: pa.Array
    daily: np.ndarray
    unknown: np.ndarray


def classify_reset_arrays(
    ticker: pa.Array,
    name: pa.Array,
    family: pa.Array,
    curated: pd.DataFrame | None = None,
    overrides: Mapping[str, str] | None = None,
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """:func:`classify_reset` of Arrow ``large_string`` columns (no nulls): ``reset``,
    ``reset_source`` and ``reset_evidence`` as Arrow ``large_string`` arrays.

    The name rules run only on the funds no override or curated row decides, the family rules
    only on those no name rule decides (the result is the same as running every rule on every
    fund and taking the first source that decides).
    """
    return classify_reset_flags(ticker, name, family, curated, overrides)[:3]


def classify_reset_flags(
    ticker: pa.Array,
    name: pa.Array,
    family: pa.Array,
    curated: pd.DataFrame | None = None,
    overrides: Mapping[str, str] | None = None,
    family_codes: tuple[np.ndarray, list[str]] | None = None,
    tickers_normalized: bool = False,
) -> ResetArrays:
    """:func:`classify_reset_arrays` with the ``daily`` and ``unknown`` flags of each row
    (read from the position of its class in the short list of texts: no text comparison).

    ``family_codes`` (optional) is ``family`` as ``(at, distinct)``: ``family[i] ==
    distinct[at[i]]`` (a caller that has its distinct values already; the family rules then
    run once per distinct value without encoding the column again); ``tickers_normalized``
    says the tickers are stripped and upper-case already (Arrow's kernels, as here)."""
    n = len(ticker)
    if not tickers_normalized:
        ticker = pc.utf8_upper(pc.utf8_trim_whitespace(ticker))
    over = {str(k).strip().upper(): str(v).strip() for k, v in (overrides or {}).items()}
    for t, r in over.items():
        if r not in RESETS:
            raise InputError(
                "[letf] reset_overrides",
                t,
                f"unknown reset class {r!r} (use one of {', '.join(RESETS)})",
            )
    over_at = (
        _lookup(ticker, pa.array(list(over), type=pa.large_string()))
        if over
        else np.full(n, -1, dtype=np.int64)
    )
    cur_at = np.full(n, -1, dtype=np.int64)
    cur_reset: list[str] = []
    cur_evidence: list[str] = []
    if curated is not None and not curated.empty:
        # tickers are unique in a checked table (validate_reset_table): a lookup, -1 = not listed
        cur_at = _curated_rows(curated, ticker)
        resets = curated["reset"].tolist()
        evidence = curated["evidence"].tolist()
        given = [*resets, *evidence]
        missing = (
            np.zeros(len(given), dtype=bool)  # a checked table holds text only
            if all(isinstance(v, str) for v in given)
            else pd.isna(np.array(given, dtype=object))
        )
        listed = np.flatnonzero(cur_at >= 0)
        cur_at[listed[missing[cur_at[listed]]]] = -1  # no class given: the rules decide
        cur_reset = [str(v) for v in resets]
        cur_evidence = [
            "" if gone else str(v) for v, gone in zip(evidence, missing[len(resets) :], strict=True)
        ]
    by_override, by_curated = over_at >= 0, (cur_at >= 0) & (over_at < 0)
    # the rules, each only where no earlier source decides
    name_at = np.full(n, len(NAME_RULES), dtype=np.int64)
    rows = np.flatnonzero(~by_override & ~by_curated)
    if rows.size:
        name_at[rows] = _first_rule_of(_take(name, rows), NAME_RULES)
    family_at = np.full(n, len(FAMILY_RULES), dtype=np.int64)
    rows = rows[name_at[rows] == len(NAME_RULES)]
    if rows.size:
        # The family rule reads the issuer column, and the brand in the name when the column is
        # blank or damaged (a ProShares fund keeps its class when its family cell reads "-").
        if family_codes is not None:
            at, distinct = family_codes
            family_at[rows] = _family_rules_of(distinct, at[rows])
        else:
            family_at[rows] = _family_rule(_take(family, rows))
        rows = rows[family_at[rows] == len(FAMILY_RULES)]
        if rows.size:
            family_at[rows] = _first_rule_of(_take(name, rows), FAMILY_RULES)
    # each row's value is picked from a short list of texts (one per source and rule); the
    # sources exclude each other (a later one runs only where no earlier one decides), so each
    # row's position in the list is the sum of its parts
    n_over, n_cur, n_name = len(over), len(cur_reset), len(NAME_RULES)
    reset_texts = [*over.values(), *cur_reset, *(r.reset for r in NAME_RULES)]
    reset_texts += [*(r.reset for r in FAMILY_RULES), UNKNOWN]
    why_texts = ["configured in [letf] reset_overrides", *cur_evidence]
    why_texts += ["name rule: " + r.why for r in NAME_RULES]
    why_texts += ["family rule: " + r.why for r in FAMILY_RULES]
    why_texts += ["not in the curated table; no name or family rule applies"]
    by_rule = ~by_override & ~by_curated
    # the rules' texts follow each other: a name rule's position, else the family rule's after
    # them (no family rule: the last text)
    rule_at = np.where(name_at < n_name, name_at, n_name + family_at)
    source_at = np.where(by_override, 0, np.where(by_curated, 1, np.where(name_at < n_name, 2, 3)))
    source_at[by_rule & (rule_at == n_name + len(FAMILY_RULES))] = 4
    reset_at = np.where(
        by_override, over_at, np.where(by_curated, n_over + cur_at, n_over + n_cur + rule_at)
    )
    why_at = np.where(by_override, 0, np.where(by_curated, 1 + cur_at, 1 + n_cur + rule_at))
    # the three columns' texts from one list in one take
    sources = ["override", "curated", "name", "family", "none"]
    texts = pa.array([*reset_texts, *sources, *why_texts], type=pa.large_string())
    at = np.concatenate(
        [reset_at, len(reset_texts) + source_at, len(reset_texts) + len(sources) + why_at]
    )
    picked = texts.take(pa.array(at))
    return ResetArrays(
        picked.slice(0, n),
        picked.slice(n, n),
        picked.slice(2 * n, n),
        np.array([t == DAILY for t in reset_texts])[reset_at],
        np.array([t == UNKNOWN for t in reset_texts])[reset_at],
    )


def _family_rules_of(distinct: list[str], at: np.ndarray) -> np.ndarray:
    """:func:`_family_rule` of the rows holding ``distinct[at]``: the rules on the distinct
    values those rows hold (blank or unreadable: none), in Python."""
    used = np.zeros(len(distinct), dtype=bool)
    used[at] = True
    words = _any_keyword(FAMILY_RULES, 0)
    none = len(FAMILY_RULES)
    codes = np.array(
        [
            none
            if not u or v.strip() in _BLANK_SPELLING_SET
            else _first_rule_py(v, FAMILY_RULES, 0, words)
            for v, u in zip(distinct, used.tolist(), strict=True)
        ],
        dtype=np.int64,
    )
    return np.asarray(codes[at])


def _family_rule(family: pa.Array) -> np.ndarray:
    """Per row the position in :data:`FAMILY_RULES` of the first rule matching its family cell
    (``len(FAMILY_RULES)``: none, also for a blank or unreadable cell): once per distinct cell,
    in Python (a family column holds a few dozen issuers), or column-wise when there are many."""
    encoded = pc.dictionary_encode(family)
    distinct = encoded.dictionary
    at = encoded.indices.to_numpy(zero_copy_only=False)
    if len(distinct) > _SMALL * len(FAMILY_RULES):
        distinct = pc.if_else(pa.array(unreadable(distinct)), "", distinct)
        return np.asarray(_first_rule_of(distinct, FAMILY_RULES)[at])
    words = _any_keyword(FAMILY_RULES, 0)
    none = len(FAMILY_RULES)
    codes = np.array(
        [
            none if v.strip() in _BLANK_SPELLING_SET else _first_rule_py(v, FAMILY_RULES, 0, words)
            for v in distinct.to_pylist()
        ],
        dtype=np.int64,
    )
    return np.asarray(codes[at])


def _take(values: pa.Array, rows: np.ndarray) -> pa.Array:
    return values if rows.size == len(values) else values.take(pa.array(rows))


def _lookup(values: pa.Array, keys: pa.Array) -> np.ndarray:
    """Position in ``keys`` of each value (-1: absent), by exact string equality."""
    at = pc.index_in(values, value_set=keys)
    found = np.asarray(at.to_numpy(zero_copy_only=False))  # float64 with NaN where absent
    if at.null_count:
        found = np.where(np.isnan(found), -1, found)
    return found.astype(np.int64)


def _curated_rows(curated: pd.DataFrame, ticker: pa.Array) -> np.ndarray:
    """Row of the curated table listing each (stripped, upper-case) ticker, -1 = not listed."""
    tickers = curated["ticker"].tolist()
    if not all(isinstance(t, str) for t in tickers):  # what astype(str) makes of it: pandas'
        keys = pd.Index(curated["ticker"].astype(str).str.strip().str.upper())
        return np.asarray(keys.get_indexer(pd.array(ticker.to_pylist(), dtype="str")))
    if all(t.isascii() for t in tickers):  # str.strip/upper: Arrow's kernels on ASCII
        names = [t.strip().upper() for t in tickers]
        keys = pa.array(names, type=pa.large_string())
    else:
        keys = pc.utf8_upper(pc.utf8_trim_whitespace(pa.array(tickers, type=pa.large_string())))
        names = keys.to_pylist()
    if len(set(names)) != len(names):  # refused by pandas, as before
        pd.Index(names).get_indexer(ticker.to_pylist())
    return _lookup(ticker, keys)


def validate_reset_table(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check a curated table (``ticker, reset, evidence``): known classes, unique tickers,
    evidence given.  Returns it with upper-case tickers; :class:`InputError` names the row."""
    for col in RESET_TABLE_COLUMNS:
        if col not in table.columns:
            raise InputError(
                source,
                f"column '{col}'",
                f"required column missing (have: {', '.join(map(str, table.columns))})",
            )
    out = table[RESET_TABLE_COLUMNS].copy()
    for col in RESET_TABLE_COLUMNS:
        out[col] = out[col].fillna("").astype(str).str.strip()
    out["ticker"] = out["ticker"].str.upper()
    bad = ~out["reset"].isin(RESETS) | out["ticker"].eq("") | out["evidence"].eq("")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            source,
            f"line {i + 2}",
            f"every row needs a ticker, a reset class in {RESETS} and its evidence (got {out.iloc[i].to_dict()})",
        )
    dup = out["ticker"].duplicated(keep=False)
    if dup.any():
        raise InputError(
            source, "ticker", f"listed twice: {', '.join(sorted(set(out.loc[dup, 'ticker'])))}"
        )
    return out.reset_index(drop=True)
