"""ProShares NAV history: daily NAV, shares outstanding, net assets and net creations per fund.

Endpoint: ``GET https://accounts.profunds.com/etfdata/ByFund/{TICKER}-historical_nav.csv``.
Layout (CSV, header)::

    Date,ProShares Name,Ticker,NAV,Prior NAV,NAV Change (%),NAV Change ($),Shares Outstanding (000),Assets Under Management
    05/12/2025,ProShares UltraPro S&P500,UPRO,77.8027,70.8759,9.77314,6.9268,48500,3773430950

Quirks handled: newest row first; dates ``MM/DD/YYYY``; ``Shares Outstanding (000)`` in
**thousands** and sometimes fractional; ``Assets Under Management`` in USD with float noise in
old rows; some files end without a newline (UPRO).  NAV and shares are split-adjusted.

:func:`parse` returns a :class:`NavHistory`: ``history``, one row per date, **oldest first**:
``date`` (tz-naive calendar date), ``ticker``, ``nav`` (USD per share), ``shares_outstanding``
(shares, = file value x 1000), ``aum_usd`` (USD, as published), ``net_creations_usd`` (USD,
``(SO_t - SO_{t-1}) * NAV_t`` between consecutive usable rows; + = inflow; NaN on the first row);
and ``quality`` (:class:`flows.quality.Quality`, basis AUM summed over the rows, i.e. AUM-days).
Three steps as every source: :func:`build_query`, :func:`fetch` (network only), :func:`parse`
(pure).

Rows and checks
---------------
* Decoding by :func:`flows.sources.textio.decode_text` (the one rule: gzip, byte-order marks, UTF-8, cp1252, Latin-1).
* A row whose date, ticker, NAV, shares or assets is blank or unreadable is **skipped** (its
  assets count toward the skipped share; unreadable assets: the conservative row share).
* A row where NAV x shares x 1000 differs from the published assets by more than
  :data:`CONSISTENCY_TOLERANCE` is skipped: one of the three is damaged (on both real files the
  identity holds to 1e-6 on every row since 2006).
* Values outside their plausibility limit (:data:`flows.limits.LIMITS`: ``letf.price_usd`` for
  NAV, ``letf.shares_outstanding``, ``letf.aum_usd``) are an :class:`InputError` naming the line.
* A date listed twice with identical rows: the copy is dropped (repair); with different values:
  :class:`InputError` naming the date.  Two different tickers in one file: :class:`InputError`.
* A skipped row among the two newest dates gets a warning: the latest assets or net creations
  then come from an older row or span more than one day.
* A last row cut short (fewer fields, no line break after it) is the oldest date of the file:
  skipped with a warning; a short row elsewhere is an :class:`InputError`.

Speed: a clean file (no quotes, every row usable, one ticker, no repeated date, values within
their limits) is read in one pass by ``pyarrow.csv`` and checked column-wise
(:func:`_parse_fast`); anything else goes through :func:`_parse_exact`, which reads line by line
where needed and names what is wrong.  Both give the same history and quality on a clean file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pandas.api.internals import create_dataframe_from_blocks
from pandas.core.arrays.string_arrow import ArrowStringArray

from flows.errors import InputError
from flows.limits import check_range
from flows.quality import Quality
from flows.sources import columnar
from flows.sources.http import HttpClient
from flows.sources.textio import GZIP_MAGIC, Decoded, decode_text

URL_TEMPLATE = "https://accounts.profunds.com/etfdata/ByFund/{ticker}-historical_nav.csv"
SOURCE = "proshares"
COLUMNS = {
    "Date": "date",
    "Ticker": "ticker",
    "NAV": "nav",
    "Shares Outstanding (000)": "shares_thousands",
    "Assets Under Management": "aum_usd",
}
NAV_COLUMNS = ["date", "ticker", "nav", "shares_outstanding", "aum_usd", "net_creations_usd"]
CONSISTENCY_TOLERANCE = 1e-3
"""Largest relative gap between NAV x shares and published assets of a usable row (0.1 %)."""

_BLANK = {"", "-", "--", "nan", "n/a", "na", "none", "null"}


class NavHistory(NamedTuple):
    """A parsed NAV history (oldest first) and its input quality."""

    history: pd.DataFrame
    quality: Quality


@dataclass(frozen=True)
class NavQuery:
    ticker: str
    url: str


def build_query(ticker: str, *, url_template: str = URL_TEMPLATE) -> NavQuery:
    """The request for one fund (pure)."""
    sym = ticker.strip().upper()
    if not sym:
        raise InputError(SOURCE, "ticker", "empty ticker")
    return NavQuery(ticker=sym, url=url_template.format(ticker=sym))


def fetch(query: NavQuery, client: HttpClient) -> bytes:
    """GET the CSV bytes (network only)."""
    return client.get_bytes(query.url, source=f"{SOURCE}:{query.ticker} ({query.url})")


def _records(
    text: str, source: str, quality: Quality
) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows and their lines (:func:`flows.sources.columnar.strict_rows`); a last row cut
    short with no line break after it is the oldest date of the file: skipped with a warning."""
    header, rows, lines, cut = columnar.strict_rows(text, source, allow_cut_last_row=True)
    if cut is not None:
        line, fields = cut
        quality.total_rows += 1
        quality.skip("last row cut off", 1, None)
        quality.warn(
            f"the last row (line {line}) has {fields} of {len(header)} fields and no line break: the file was cut off there (oldest date lost)"
        )
    return header, rows, lines


def _regular_columns(text: str) -> tuple[list[str], list[pa.Array]] | None:
    """Header and data columns of a regular file (no quotes, the header's number of fields on
    every line, no blank line: :func:`flows.sources.columnar.split_lines_columns`), else None:
    :func:`_records` then reads it line by line and names what is wrong."""
    if not columnar.is_plain(text):
        return None
    end = text.find("\n")
    if end < 0:
        return None
    header = [h.strip() for h in text[:end].rstrip("\r").split(",")]
    if len(set(header)) != len(header):
        return None
    columns = columnar.split_lines_columns(text[end + 1 :], len(header), plain=True)
    if columns is None or columnar.blank_rows(columns).any():  # a line of commas: skipped there
        return None
    return header, columns


def _numbers(text: pd.Series) -> pd.Series:
    """Numbers of a stripped text column (thousands commas allowed); NaN where blank or unreadable."""
    fast = columnar.floats(pa.array(text.array)) if len(text) else None
    if fast is not None:  # every cell a plain finite number
        return pd.Series(fast[0], index=text.index)
    return pd.to_numeric(text.str.replace(",", "", regex=False).where(text.ne("")), errors="coerce")


def parse(raw: bytes, source: str) -> NavHistory:
    """Parse a NAV history CSV (see the module docstring).  Pure.

    Raises :class:`InputError` naming ``source`` and the column or line for a missing column, an
    empty file, conflicting duplicate dates, mixed tickers, a value outside its plausibility
    limit, or no usable row at all.
    """
    decoded = decode_text(raw, source)
    fast = _parse_fast(raw, decoded, source)
    return fast if fast is not None else _parse_exact(decoded, source)


def _parse_exact(decoded: Decoded, source: str) -> NavHistory:
    """Every rule of the module docstring, row by row where needed: the path that names what is
    wrong (and reads any file the fast path declines)."""
    text = decoded.text
    if not text.strip():
        raise InputError(source, "line 1", "empty file")
    quality = Quality(source=source, basis="AUM")
    regular = _regular_columns(text)
    if regular is not None:  # column-wise: what the exact reader below would read, line by line
        header, columns = regular
        n = len(columns[0]) if columns else 0
        lines: list[int] | np.ndarray = np.arange(n, dtype="int64") + 2
    else:
        header, rows, lines = _records(text, source, quality)
        n = len(rows)
    for col in COLUMNS:
        if col not in header:
            raise InputError(
                source,
                f"line 1, column '{col}'",
                f"required column missing (have: {', '.join(header)})",
            )
        if header.count(col) > 1:
            raise InputError(
                source,
                f"line 1, column '{col}'",
                "column named twice in the header: which one holds the values cannot be told",
            )
    if not n:
        raise InputError(source, "line 2", "no data rows")
    quality.total_rows += n
    decoded.note(quality, n)
    if regular is not None:
        frame = pd.DataFrame(
            {
                new: pd.Series(columns[header.index(old)], dtype="str")
                for old, new in COLUMNS.items()
            }
        )
    else:
        frame = pd.DataFrame(rows, columns=header, dtype=str)[list(COLUMNS)].rename(columns=COLUMNS)
    frame = frame.apply(lambda col: col.fillna("").str.strip())
    frame["line"] = np.asarray(lines, dtype="int64")
    text_of = {k: frame[k] for k in ("date", "ticker", "nav", "shares_thousands", "aum_usd")}
    days = columnar.us_days(pa.array(text_of["date"].array)) if regular is not None else None
    if days is not None:  # every cell a valid M/D/YYYY date: the same dates, read at once
        dates = pd.Series(days.astype("datetime64[us]"), index=frame.index)
    else:
        dates = pd.to_datetime(text_of["date"], format="%m/%d/%Y", errors="coerce")
    nums = {c: _numbers(text_of[c]) for c in ("nav", "shares_thousands", "aum_usd")}
    line_no = frame["line"].to_numpy()

    def where(i: int) -> str:  # the label of a refused row only
        return f"line {int(line_no[i])}"

    check_range(nums["nav"], "letf.price_usd", source, rows=where, field="NAV")
    check_range(
        nums["shares_thousands"] * 1000.0,
        "letf.shares_outstanding",
        source,
        rows=where,
        field="Shares Outstanding (000)",
    )
    check_range(
        nums["aum_usd"], "letf.aum_usd", source, rows=where, field="Assets Under Management"
    )
    ticker = text_of["ticker"].str.upper()
    bad_ticker = ticker.str.lower().isin(_BLANK)
    tickers = sorted(set(ticker[~bad_ticker]))
    if len(tickers) > 1:
        raise InputError(
            source,
            "column 'Ticker'",
            f"more than one fund in one NAV file: {', '.join(tickers[:5])}",
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = (nums["nav"] * nums["shares_thousands"] * 1000.0 / nums["aum_usd"] - 1.0).abs()
    conditions = [
        dates.isna(),
        bad_ticker,
        nums["nav"].isna(),
        nums["shares_thousands"].isna(),
        nums["aum_usd"].isna(),
        gap.gt(CONSISTENCY_TOLERANCE) & nums["aum_usd"].gt(0),
    ]
    keys = [
        "date not readable (MM/DD/YYYY)",
        "ticker not readable",
        "NAV not a number",
        "shares outstanding not a number",
        "assets not a number",
        "NAV x shares does not match the assets",
    ]
    reason = pd.Series(
        np.select([c.to_numpy(dtype=bool) for c in conditions], keys, default=""), index=frame.index
    )
    quality.total_weight = float(nums["aum_usd"][nums["aum_usd"] >= 0].sum())
    for why, grp in pd.DataFrame(
        {"why": reason[reason.ne("")], "aum": nums["aum_usd"][reason.ne("")]}
    ).groupby("why", sort=False):
        known = grp["aum"].notna()
        quality.skip(str(why), int(known.sum()), float(grp.loc[known, "aum"].sum()))
        quality.skip(str(why), int((~known).sum()), None)
    ok = reason.eq("")
    if not ok.any():
        raise InputError(source, None, f"no usable row: {quality.summary()}")
    out = pd.DataFrame(
        {
            "date": dates,
            "ticker": ticker,
            "nav": nums["nav"],
            "shares_outstanding": nums["shares_thousands"] * 1000.0,
            "aum_usd": nums["aum_usd"],
            "line": frame["line"],
        }
    )[ok]
    out = _dedupe_dates(out, source, quality)
    _warn_newest(out, frame["line"][~ok], quality)
    out = out.sort_values("date", kind="stable").reset_index(drop=True)
    out["net_creations_usd"] = out["shares_outstanding"].diff() * out["nav"]
    return NavHistory(out[NAV_COLUMNS], quality)


_STR = pd.StringDtype("pyarrow", na_value=np.nan)
"""pandas' default text dtype (``str``): what the exact path's text columns hold."""
_NAV_INDEX = pd.Index(NAV_COLUMNS)
_NUMBER_COLUMNS = ("NAV", "Shares Outstanding (000)", "Assets Under Management")


def _body_bytes(raw: bytes, decoded: Decoded, text: str, end: int) -> pa.Buffer:
    """The data lines (after the header) as UTF-8: a view of the file's bytes when they are
    that text's UTF-8 already (no copy), else the text encoded again."""
    if decoded.encoding == "utf-8" and not raw.startswith(GZIP_MAGIC):
        return pa.py_buffer(raw).slice(raw.index(b"\n") + 1)
    return pa.py_buffer(text[end + 1 :].encode("utf-8"))


def _parse_fast(raw: bytes, decoded: Decoded, source: str) -> NavHistory | None:
    """The history of a clean file in one pass: no quotes, the header's fields on every line,
    every date ``MM/DD/YYYY``, every number finite, one ticker, every row usable and consistent,
    no repeated date, every value within its limits.  None for anything else:
    :func:`_parse_exact` then decides, names what is wrong and records what it skips.

    Exactly what :func:`_parse_exact` returns for such a file (frame, dtypes and quality): the
    same Arrow conversions (``columnar.floats``' cast; :func:`columnar.us_days_padded` gives
    :func:`columnar.us_days`' dates), the same sums in the same order.
    """
    text = decoded.text
    end = text.find("\n")
    if end < 0 or not columnar.is_plain(text):
        return None
    header = [h.strip() for h in text[:end].rstrip("\r").split(",")]
    if len(set(header)) != len(header) or any(c not in header for c in COLUMNS):
        return None
    body = _body_bytes(raw, decoded, text, end)
    wanted = {f"f{header.index(c)}": c for c in COLUMNS}
    try:
        # the streaming reader, one block (about a tenth quicker than read_csv on these files)
        table = pacsv.open_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(
                column_names=[f"f{i}" for i in range(len(header))],
                use_threads=False,
                block_size=max(1 << 20, len(body) + 1),
            ),
            parse_options=pacsv.ParseOptions(quote_char=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(wanted),
                # numbers read as Arrow's cast reads them (spaces and tabs around them
                # trimmed, as str.strip does first there); a blank cell does not convert
                column_types={
                    f: pa.float64() if c in _NUMBER_COLUMNS else pa.large_string()
                    for f, c in wanted.items()
                },
                null_values=[],
                strings_can_be_null=False,
                check_utf8=False,  # the decoder read these bytes as UTF-8 already
            ),
        ).read_all()
    except (pa.ArrowInvalid, UnicodeEncodeError):  # a line with another field count, a blank line
        return None
    n = table.num_rows
    if not n:
        return None
    cols = {
        wanted[name]: column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        for name, column in zip(table.column_names, table.columns, strict=True)
    }
    days = columnar.us_days_padded(cols["Date"])
    if days is None:
        return None
    nums = {c: cols[c].to_numpy(zero_copy_only=False) for c in _NUMBER_COLUMNS}
    if not all(np.isfinite(v).all() for v in nums.values()):
        return None  # nan, inf: the exact path decides
    nav, aum = nums["NAV"], nums["Assets Under Management"]
    shares = nums["Shares Outstanding (000)"] * 1000.0
    # the ticker: its few distinct spellings by the exact rule (strip, upper), one fund only
    column = cols["Ticker"]
    first = column[0].as_py()
    same = _all_alike(column)  # one spelling throughout (the rule)
    if same and first.isascii():  # str.strip/upper/lower: Arrow's kernels on ASCII text
        spellings, tickers = [first], [first.strip().upper()]
        lowered = tickers[0].lower()
    else:
        unique = column.slice(0, 1) if same else pc.unique(column)
        normalized = pc.utf8_upper(pc.utf8_trim_whitespace(unique))
        spellings, tickers = unique.to_pylist(), normalized.to_pylist()
        lowered = pc.utf8_lower(normalized)[0].as_py()
    if len(set(tickers)) != 1 or lowered in _BLANK:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.abs(nav * shares / aum - 1.0)
    if ((gap > CONSISTENCY_TOLERANCE) & (aum > 0)).any():
        return None
    step = np.diff(days.view(np.int64))
    order: slice | np.ndarray
    if (step < 0).all():  # newest first, no date twice (the issuer's order): read backwards
        order = slice(None, None, -1)  # (views: the block below copies them once)
    else:
        order = np.argsort(days, kind="stable")
        if (np.diff(days[order]) == np.timedelta64(0, "D")).any():  # a repeated date
            return None
    try:  # a value outside its limit: the exact path names the line
        check_range(nav, "letf.price_usd", source)
        check_range(shares, "letf.shares_outstanding", source)
        check_range(aum, "letf.aum_usd", source)
    except InputError:
        return None
    quality = Quality(source=source, basis="AUM")
    quality.total_rows += n
    decoded.note(quality, n)
    quality.total_weight = float(aum[aum >= 0].sum())
    nav, shares, aum = nav[order], shares[order], aum[order]
    net = np.empty(n)
    net[0] = np.nan
    net[1:] = shares[1:] - shares[:-1]
    net *= nav
    ticker = (
        cols["Ticker"]  # as written: already the fund's ticker
        if spellings == tickers
        else pa.array(tickers[:1], type=cols["Ticker"].type).take(np.zeros(n, dtype=np.int64))
    )
    values = np.empty((4, n))  # one float block, as pandas consolidates the four columns
    values[0], values[1], values[2], values[3] = nav, shares, aum, net
    history = create_dataframe_from_blocks(
        [
            (days[order].astype("datetime64[us]").reshape(1, n), np.array([0])),
            (ArrowStringArray(ticker, dtype=_STR), np.array([1])),
            (values, np.array([2, 3, 4, 5])),
        ],
        index=pd.RangeIndex(n),
        columns=_NAV_INDEX.view(),
    )  # what pd.DataFrame of the columns gives (no type inference, no copy of the text)
    return NavHistory(history, quality)


def _all_alike(column: pa.Array) -> bool:
    """Whether every cell of a string column (no nulls) holds the first cell's bytes: read
    from its buffers (equal lengths, then the bytes row by row against the first row)."""
    wide = pa.types.is_large_string(column.type)
    _, offsets_buf, data = column.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64 if wide else np.int32)
    offsets = offsets[column.offset : column.offset + len(column) + 1]
    size = int(offsets[1] - offsets[0])
    if (np.diff(offsets) != size).any():
        return False
    if not size:
        return True
    chars = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(-1, size)
    return bool((chars == chars[0]).all())


def _dedupe_dates(out: pd.DataFrame, source: str, quality: Quality) -> pd.DataFrame:
    """Drop identical repeats of a date (repair); refuse a date listed with different values."""
    values = out[["date", "ticker", "nav", "shares_outstanding", "aum_usd"]]
    dup_date = out["date"].duplicated(keep=False)
    if not dup_date.any():
        return out
    conflicting = values[dup_date].drop_duplicates()["date"].duplicated(keep=False)
    if conflicting.any():
        day = values[dup_date].drop_duplicates().loc[conflicting, "date"].iloc[0]
        lines = out.loc[out["date"].eq(day), "line"].tolist()
        raise InputError(
            source,
            f"date {day:%m/%d/%Y}",
            f"listed on lines {', '.join(map(str, lines))} with different values: which one is right cannot be told",
        )
    exact = values.duplicated(keep="first")
    quality.repair("exact duplicate row dropped", int(exact.sum()))
    return out.loc[~exact]


def _warn_newest(kept: pd.DataFrame, skipped_lines: pd.Series, quality: Quality) -> None:
    """Warn when a skipped row sits among the two newest dates (by file position: newest first)."""
    if skipped_lines.empty:
        return
    newest = kept.sort_values("date", ascending=False)
    if len(newest) < 2:
        second_line = int(newest["line"].iloc[0])
    else:
        second_line = int(newest["line"].iloc[1])
    first = newest.iloc[0]
    hit = skipped_lines[skipped_lines < second_line]
    if hit.empty:
        return
    quality.warn(
        f"row(s) near the top of the file unusable (line {', '.join(map(str, hit.tolist()[:5]))}): latest usable date "
        f"{first['date']:%Y-%m-%d}; its assets or net creations may not be the newest / may span more than one day"
    )


def latest(history: pd.DataFrame | NavHistory) -> pd.Series:
    """The newest row of a parsed history (assets date = ``date``)."""
    frame = history.history if isinstance(history, NavHistory) else history
    return frame.iloc[-1]
