"""VIX futures (VX) daily settlements, one file per monthly contract (Cboe Futures Exchange).

Live endpoint: ``GET https://cdn.cboe.com/data/us/futures/market_statistics/historical_data/VX/VX_{expiry}.csv``
with ``{expiry}`` the contract's final settlement date (``2018-02-14`` for February 2018), from
:func:`flows.calendars.vx_final_settlement`.  CFE formerly published the same history as
``CFE_{month code}{yy}_VX.csv``; the shared folder holds those files in three variants, all read:

* **clean**: header ``Trade Date,Futures,Open,High,Low,Close,Settle,Change,Total Volume,EFP,
  Open Interest``, ISO dates, ``Futures`` like ``G (Feb 2018)`` (files before 2018 in the same
  folder use US dates ``1/19/2005`` and two-digit years ``F (Jan 05)``);
* **index column**: the same with a leading unnamed index column (``,Trade Date,...``);
* **disclaimer line**: CFE's original download: one disclaimer line before the header, US dates
  ``04/22/2013``, CRLF line ends.

Quirks handled: a header-only file (a listed contract without settlements yet) is an empty frame;
rows before a contract trades carry a settle of 0 (no open interest): dropped as
"no settlement yet" with no weight; open/close 0.00 means "did not trade" (NaN); a trailing empty
field on some rows; **prices before 2007-03-26 are on the old 10 x VIX scale** (the VBI-based
contract, USD 100 per point) and are divided by 10 so that every settle is in VIX points with the
USD 1,000 multiplier (a repair); the last row of an expired contract is its final settlement
(the special opening quotation of the VIX), which may differ a lot from the previous close.

:func:`parse` returns the :data:`flows.schema.VX_COLUMNS` frame of one contract and a
:class:`flows.quality.Quality` whose basis is open interest (contracts): a skipped row weighs
its open interest.  A missing or zero settle on a row with open interest, a non-number, a
trade date after the contract's final settlement, a ``Futures`` value naming another contract,
a settle outside ``vx.settle`` (:data:`flows.limits.LIMITS`) or a lasting jump of a factor e
between two rows is reported with file, line and column; an isolated one-row misprint (CFE
printed ``1.00`` for VXF09 and VXG09 on 2008-04-21) is skipped with a warning.  :func:`combine` merges several files (rows present in two files must agree).

Three steps as every source: :func:`build_query` (pure), :func:`fetch` (network only) /
:func:`read_dir` (a local folder), :func:`parse` (pure).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.internals import create_dataframe_from_blocks
from pandas.arrays import ArrowStringArray

from flows import calendars
from flows.errors import InputError
from flows.limits import LIMITS, check_range
from flows.quality import Quality
from flows.quality import combine as combine_quality
from flows.schema import VX_COLUMNS
from flows.sources.http import HttpClient
from flows.sources.price_frame import STR, cell_block, cell_dates, own_bytes, read_cells
from flows.sources.textio import decode_text

URL_TEMPLATE = (
    "https://cdn.cboe.com/data/us/futures/market_statistics/historical_data/VX/VX_{expiry}.csv"
)
SOURCE = "cboe-vx"
RESCALE_DATE = pd.Timestamp("2007-03-26")
"""First trade date quoted in VIX points; earlier VX prices are 10 x VIX (divided by 10 here)."""
RESCALE_FACTOR = 10.0
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FUTURES_PATTERN = re.compile(r"^\s*([FGHJKMNQUVXZ])\s*\(\s*([A-Za-z]{3})\s+(\d{2}|\d{4})\s*\)\s*$")
REQUIRED = ("Trade Date", "Futures", "Settle")
OPTIONAL = {
    "open": "Open",
    "high": "High",
    "low": "Low",
    "close": "Close",
    "volume": "Total Volume",
    "open_interest": "Open Interest",
}


VALUES = tuple(VX_COLUMNS)[3:]
"""The frame's value columns (settle, open, high, low, close, volume, open interest), held as
one float block while parsing."""
_VOLUME, _OPEN_INTEREST = VALUES.index("volume"), VALUES.index("open_interest")
_VX_INDEX = pd.Index(list(VX_COLUMNS))  # a view of it names each frame's columns
_DATE_AT = np.array([list(VX_COLUMNS).index("date"), list(VX_COLUMNS).index("expiry")])
_CONTRACT_AT = np.array([list(VX_COLUMNS).index("contract")])
_VALUES_AT = np.array([list(VX_COLUMNS).index(c) for c in VALUES])


@dataclass(frozen=True)
class VxQuery:
    contract: str
    year: int
    month: int
    expiry: pd.Timestamp
    url: str


def build_query(year: int, month: int, *, url_template: str = URL_TEMPLATE) -> VxQuery:
    """The request for the contract expiring in ``year``/``month`` (pure)."""
    if not 1 <= int(month) <= 12:
        raise InputError(SOURCE, "month", f"not a month: {month!r}")
    expiry = calendars.vx_final_settlement([year], [month])[0]
    code = str(calendars.vx_contract_code([year], [month])[0])
    return VxQuery(
        contract=code,
        year=int(year),
        month=int(month),
        expiry=expiry,
        url=url_template.format(expiry=expiry.date().isoformat(), contract=code),
    )


def queries_for(
    as_of: pd.Timestamp | str,
    months_back: int = 2,
    months_ahead: int = 8,
    *,
    url_template: str = URL_TEMPLATE,
) -> list[VxQuery]:
    """Queries of every monthly contract from ``months_back`` before to ``months_ahead`` after
    the month of ``as_of`` (the short-term index needs months 1-2, the mid-term one months 4-7)."""
    base = pd.Period(pd.Timestamp(as_of), freq="M")
    out = []
    for k in range(-months_back, months_ahead + 1):
        p = base + k
        out.append(build_query(p.year, p.month, url_template=url_template))
    return out


def fetch(query: VxQuery, client: HttpClient) -> bytes:
    """GET one contract's CSV bytes (network only)."""
    return client.get_bytes(query.url, source=f"{SOURCE}:{query.contract} ({query.url})")


def _contract_of(text: str, source: str, line: int) -> tuple[int, int]:
    m = FUTURES_PATTERN.match(text)
    if not m:
        raise InputError(
            source,
            f"line {line}, column 'Futures'",
            f"not a VX contract like 'G (Feb 2018)': {text!r}",
        )
    code, mon, yy = m.groups()
    month = calendars.VX_MONTH_CODES.index(code) + 1
    if mon.capitalize() != MONTHS[month - 1]:
        raise InputError(
            source,
            f"line {line}, column 'Futures'",
            f"month code {code} is {MONTHS[month - 1]}, the text says {mon!r}",
        )
    year = int(yy) if len(yy) == 4 else 2000 + int(yy)
    return year, month


@functools.lru_cache(maxsize=1024)
def _contract(year: int, month: int, calendar: str) -> tuple[str, pd.Timestamp]:
    """Code and final settlement date of a contract (:mod:`flows.calendars`; once per contract)."""
    return str(calendars.vx_contract_code([year], [month])[0]), calendars.vx_final_settlement(
        [year], [month], calendar
    )[0]


def _types(header: list[str], first: list[str]) -> dict[int, pa.DataType]:
    """Columns a large regular file reads (:func:`flows.sources.price_frame.read_cells`)."""
    skip = 1 if header[:2] == ["", "Trade Date"] else 0
    out = {
        skip + header[skip:].index(c): pa.float64()
        for c in ("Settle", *OPTIONAL.values())
        if c in header[skip:]
    }
    if "Futures" in header:
        out[header.index("Futures")] = pa.string()
    if "Trade Date" in header:
        j = header.index("Trade Date")
        iso = j < len(first) and len(first[j]) == 10 and first[j][4:5] == "-"
        out[j] = pa.date32() if iso else pa.string()
    return out


def parse(
    raw: bytes, source: str, *, calendar: str = calendars.DEFAULT_CALENDAR
) -> tuple[pd.DataFrame, Quality]:
    """Parse one contract's settlement history (pure); see the module docstring.

    Returns ``(frame, quality)``: :data:`flows.schema.VX_COLUMNS`, oldest first.
    """
    decoded = decode_text(raw, source)
    text, repairs = decoded.text, decoded.repairs
    cells = read_cells(
        text,
        source,
        header_contains="Trade Date",
        allow_empty=True,
        types=_types,
        encoded=own_bytes(raw, decoded),
    )
    header = cells.header
    if header and header[0] == "" and len(header) > 1 and header[1] == "Trade Date":
        cells = cells.drop_first()  # leading unnamed index column
        header = cells.header
    for col in REQUIRED:
        if col not in header:
            raise InputError(
                source,
                f"line 1, column '{col}'",
                f"required column missing (header: {', '.join(header)})",
            )
    n = len(cells)
    if not n:  # a listed contract without any settlement yet (CFE publishes the header only)
        empty = pd.DataFrame(
            {
                k: pd.Series(
                    dtype="datetime64[ns]"
                    if k in ("date", "expiry")
                    else (str if k == "contract" else float)
                )
                for k in VX_COLUMNS
            }
        )
        return empty, Quality(source=source, basis="open interest")
    lines = cells.lines
    col = {name: header.index(name) for name in header}
    alike = cells.same(col["Futures"])
    if alike is not None:
        first = alike.strip()  # one contract written alike on every row (the rule)
    else:
        futures = np.strings.strip(cells.text(col["Futures"]))
        first = str(futures[0])
        if (futures != first).any():
            _contract_of(first, source, int(lines[0]))
            other = int(np.flatnonzero(futures != first)[0])
            raise InputError(
                source,
                f"line {lines[other]}, column 'Futures'",
                f"file mixes contracts: {first!r} and {str(futures[other])!r}",
            )
    year, month = _contract_of(first, source, int(lines[0]))
    code, expiry = _contract(year, month, calendar)
    day = cell_dates(cells, col["Trade Date"], source, "Trade Date")
    found = {"settle": col["Settle"]}
    found.update({name: col[c] for name, c in OPTIONAL.items() if c in col})
    nums, written = cell_block(cells, list(found.values()))  # one row per found column
    if len(found) == len(VALUES):
        block = nums  # already one row per frame column, in their order
    else:
        block = np.full((len(VALUES), n), np.nan)
        block[[VALUES.index(name) for name in found]] = nums
    settle, given = block[0], written[0]
    volume, oi = block[_VOLUME], block[_OPEN_INTEREST]
    total = oi.sum()  # (np.nansum's sum when no open interest is missing)
    q = Quality(
        source=source,
        basis="open interest",
        total_rows=n,
        total_weight=float(total if not np.isnan(total) else np.nansum(oi)),
    )
    for r in repairs:
        q.repair(r, n)

    after = day > expiry.to_datetime64()
    if after.any():
        i = int(np.flatnonzero(after)[0])
        raise InputError(
            source,
            f"line {lines[i]}, column 'Trade Date'",
            f"{pd.Timestamp(day[i]).date()} is after {code}'s final settlement {expiry.date()}",
        )
    # (NaN > 0 is False: a missing open interest or volume counts as none)
    no_trade_yet = (given & (settle == 0) & ~(oi > 0)) | (~given & ~(oi > 0) & ~(volume > 0))
    usable = np.isfinite(settle) & (settle > 0)
    bad = ~usable & ~no_trade_yet
    if bad.any():
        for mask, reason in (
            (bad & ~given, "settle missing"),
            (bad & given & ~np.isfinite(settle), "settle not a number"),
            (bad & np.isfinite(settle), "settle not positive"),
        ):
            if mask.any():
                w = oi[mask]
                q.skip(
                    reason, int(mask.sum()), float(np.nansum(w)) if np.isfinite(w).all() else None
                )
        i = int(np.flatnonzero(bad)[0])
        q.warn(
            f"{source}: {code}: {int(bad.sum())} row(s) without a usable settle skipped, first on line {lines[i]} ({pd.Timestamp(day[i]).date()}, Settle={str(cells.text(col['Settle'])[i])!r})"
        )
    keep = usable
    old = (day < RESCALE_DATE.to_datetime64()) & keep
    if old.any():  # settle, open, high, low, close
        block[:_VOLUME, old] /= RESCALE_FACTOR
        q.repair(
            f"prices before {RESCALE_DATE.date()} on the 10 x VIX scale divided by {RESCALE_FACTOR:g}",
            int(old.sum()),
        )
    prices = block[1:_VOLUME]  # open, high, low, close: 0.00 = no trade
    with np.errstate(invalid="ignore"):
        block[1:_VOLUME] = np.where(prices > 0, prices, np.nan)
    kept_lines = lines
    if not keep.all():
        day, block, kept_lines = day[keep], block[:, keep], lines[keep]
    if len(day) > 1 and not (np.diff(day) > np.timedelta64(0)).all():
        order = np.argsort(day, kind="stable")
        if (np.diff(order) < 0).any():
            q.repair("rows sorted by date", len(day))
        day, kept_lines, block = day[order], kept_lines[order], block[:, order]
        dup = np.zeros(len(day), dtype=bool)
        dup[1:] = day[1:] == day[:-1]
        if dup.any():
            # the first row of each date (stable sort: file order) against its repeats
            first_of = np.maximum.accumulate(np.where(dup, 0, np.arange(len(day))))
            conflict = dup & (block[0][first_of] != block[0])
            if conflict.any():
                i = int(np.flatnonzero(conflict)[0])
                raise InputError(
                    source,
                    f"line {kept_lines[i]}, column 'Settle'",
                    f"{pd.Timestamp(day[i]).date()} repeated with a different settle",
                )
            q.repair("repeated rows dropped", int(dup.sum()))
            day, kept_lines, block = day[~dup], kept_lines[~dup], block[:, ~dup]
    day, block, kept_lines = _drop_spikes(day, block, kept_lines, q, source, code)
    lim = LIMITS["vx.settle"]
    if not (
        block[0].min(initial=lim.high) >= lim.low and block[0].max(initial=lim.low) <= lim.high
    ):
        # (a settle outside the limits, inf or NaN: the one plausibility check decides)
        check_range(
            block[0], "vx.settle", source, rows=lambda i: f"line {kept_lines[i]}", field="Settle"
        )
    if not text.endswith(("\n", "\r")) and len(day):
        q.warn(
            f"{source}: {code}: the file does not end with a newline: its last row ({pd.Timestamp(day[-1]).date()}) may be cut"
        )
    dates = np.empty((2, len(day)), dtype="datetime64[ns]")
    dates[0], dates[1] = day, expiry.to_datetime64()
    frame = create_dataframe_from_blocks(
        [
            (dates, _DATE_AT),
            (
                ArrowStringArray(
                    pa.repeat(pa.scalar(code, pa.large_string()), len(day)), dtype=STR
                ),
                _CONTRACT_AT,
            ),
            (block, _VALUES_AT),
        ],
        index=pd.RangeIndex.from_range(range(len(day))),
        columns=_VX_INDEX.view(),
    )  # what pd.DataFrame of the columns gives, built from its three blocks at once
    frame.attrs.update({"contract": code, "source": source})
    return frame, q


def _drop_spikes(
    day: np.ndarray,
    values: np.ndarray,
    lines: np.ndarray,
    q: Quality,
    source: str,
    code: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Skip isolated misprints; refuse level shifts.

    A settle whose log change from the previous row and to the next row both exceed
    ``price.daily_log_change`` with opposite signs (a one-row spike, e.g. CFE's ``1.00`` for
    VXG09 on 2008-04-21 between 23.88 and 23.48), or the first / last row of the file jumping by
    that much, is skipped with a warning (weighed by its open interest).  A jump that persists
    (a change of scale inside the file) raises :class:`InputError` naming the line.
    """
    lim = LIMITS["price.daily_log_change"]
    settle = values[0]  # one row per VALUES column
    if len(settle) < 2:
        return day, values, lines
    step = np.diff(np.log(settle))
    big = (step < lim.low) | (step > lim.high)
    if not big.any():
        return day, values, lines  # no move of a factor e: neither a misprint nor a shift
    spike = np.zeros(len(settle), dtype=bool)
    spike[1:-1] = big[:-1] & big[1:] & (np.sign(step[:-1]) != np.sign(step[1:]))
    spike[0] |= big[0] and (len(settle) == 2 or not big[1])
    spike[-1] |= big[-1] and (len(settle) == 2 or not big[-2])
    if len(settle) == 2:
        spike[:] = False  # two rows: no way to tell which one is wrong
    if spike.any():
        oi = values[_OPEN_INTEREST][spike]
        q.skip(
            "settle an isolated misprint (a factor e or more off both neighbours)",
            int(spike.sum()),
            float(np.nansum(oi)) if np.isfinite(oi).all() else None,
        )
        i = int(np.flatnonzero(spike)[0])
        q.warn(
            f"{source}: {code}: {int(spike.sum())} isolated settle misprint(s) skipped, first on line {lines[i]} ({pd.Timestamp(day[i]).date()}, Settle={float(settle[i])!r})"
        )
        day, lines = day[~spike], lines[~spike]
        values = values[:, ~spike]
        settle = values[0]
    step = np.diff(np.log(settle))
    jump = (step < lim.low) | (step > lim.high)
    if jump.any():
        i = int(np.flatnonzero(jump)[0]) + 1
        raise InputError(
            source,
            f"line {lines[i]}, column 'Settle'",
            f"{code} settle {float(settle[i])!r} on {pd.Timestamp(day[i]).date()} is {np.exp(step[i - 1]):.3g} x the previous row's {float(settle[i - 1])!r} and stays there: a change of scale, not a market move ({lim.why})",
        )
    return day, values, lines


def combine(
    parts: Sequence[tuple[pd.DataFrame, Quality]], source: str | None = None
) -> tuple[pd.DataFrame, Quality]:
    """Merge parsed contract files into one frame sorted by ``(expiry, date)``.

    The merged quality is named ``source`` (the folder or URL list; default: the files joined).

    A ``(contract, date)`` present in several files (the shared folder's variants overlap) is
    kept once when the settles agree (to 1e-9), recorded as a repair; different settles raise
    :class:`InputError` naming both files.
    """
    if not parts:
        raise InputError(SOURCE, None, "no VX contract files")
    frames = []
    for i, (frame, _) in enumerate(parts):
        f = frame.copy()
        f["_src"] = i
        frames.append(f)
    allf = (
        pd.concat(frames, ignore_index=True)
        .sort_values(["expiry", "date", "_src"], kind="stable")
        .reset_index(drop=True)
    )
    q = combine_quality(p[1] for p in parts) or Quality(SOURCE)
    if source is not None:
        q.source = source
    dup = allf.duplicated(["contract", "date"], keep="first").to_numpy()
    if dup.any():
        first = allf.groupby(["contract", "date"])["settle"].transform("first").to_numpy()
        differ = dup & ~np.isclose(first, allf["settle"].to_numpy(), rtol=0, atol=1e-9)
        if differ.any():
            i = int(np.flatnonzero(differ)[0])
            row = allf.iloc[i]
            j = int(
                np.flatnonzero(
                    (allf["contract"] == row["contract"]).to_numpy()
                    & (allf["date"] == row["date"]).to_numpy()
                )[0]
            )
            a, b = parts[int(allf["_src"].iloc[j])][1].source, parts[int(row["_src"])][1].source
            raise InputError(
                b,
                "Settle",
                f"{row['contract']} on {row['date'].date()}: settle {float(row['settle'])!r} differs from {float(allf['settle'].iloc[j])!r} in {a}",
            )
        q.repair("rows present in two files (identical settles) kept once", int(dup.sum()))
        allf = allf.loc[~dup]
    out = allf.drop(columns="_src").reset_index(drop=True)
    return out, q


def files_in(folder: str | Path) -> list[Path]:
    """Every VX contract file under ``folder`` (recursively; names containing ``VX`` and ending
    in ``.csv``: Cboe's ``VX_2018-02-14.csv`` and CFE's ``CFE_G18_VX.csv``), sorted; other files
    are ignored.  InputError when there is none."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(str(root), None, "not a folder")
    files = sorted(p for p in root.rglob("*.csv") if p.is_file() and "VX" in p.name.upper())
    if not files:
        raise InputError(
            str(root), None, "no *.csv VX contract files (names containing 'VX') in the folder"
        )
    return files


def read_files(
    paths: Iterable[str | Path], source: str | None = None
) -> tuple[pd.DataFrame, Quality]:
    """Read and parse each file, then :func:`combine` (the only I/O: reading the files)."""
    parts = []
    for path in paths:
        p = Path(path)
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise InputError(str(p), None, f"cannot read the file: {exc.strerror or exc}") from None
        parts.append(parse(raw, str(p)))
    return combine(parts, source)


def read_dir(folder: str | Path) -> tuple[pd.DataFrame, Quality]:
    """All contract files under ``folder`` (see :func:`files_in`), merged."""
    files = files_in(folder)
    return read_files(files, f"{folder} ({len(files)} VX files)")
