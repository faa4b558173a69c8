"""CFTC "Historical Compressed" Commitments of Traders files (yearly zips and multi-year bundles).

Three steps, as every source: :func:`build_query` (the URL of a yearly zip or a bundle),
:func:`fetch` (network only) and the pure parsers :func:`read_zip`, :func:`parse_legacy`,
:func:`parse_tff` (tested on the real files in ``../shared/data/cftc/``).

Files (``https://www.cftc.gov/files/dea/history/``)
---------------------------------------------------
========  ==============================  ======================  ===========================
report    yearly zip                      member                  multi-year bundle (member)
========  ==============================  ======================  ===========================
legacy    ``deacot{YYYY}.zip``            ``annual.txt``          ``deacot1986_2016.zip``
                                                                  (``FUT86_16.txt``)
tff       ``fut_fin_txt_{YYYY}.zip``      ``FinFutYY.txt``        ``fin_fut_txt_2006_2016.zip``
                                                                  (``F_TFF_2006_2016.txt``)
========  ==============================  ======================  ===========================

The bundle names were checked against public download scripts that use them (the CFTC page
``HistoricalCompressed/index.htm`` lists them); yearly TFF zips exist from 2010 (2006-2009 only
in the bundle), yearly legacy zips for every year.  :func:`fetch_years` uses the bundle for every
requested year up to 2016 (one download) and the yearly zips from 2017 on.  The member name is
not relied on: a zip must hold exactly one text member.

Layout quirks handled by the parsers
------------------------------------
* quoted header row; the legacy header has ``" Total Reportable Positions-Long (All)"`` with a
  leading space, so header names are matched after normalisation (case, spaces, punctuation);
* numbers right-aligned (left-padded with spaces), ``.`` for "not available" (change columns);
* CRLF (most years) and LF (2026 TFF) line ends;
* the report date column is ISO ``YYYY-MM-DD`` in the yearly files but US
  ``M/D/YYYY 12:00:00 AM`` in the 2006-2016 TFF bundle: both are accepted;
* the contract market code is read as text so ``090741`` keeps its leading zero.

Only the needed columns are read (``usecols``): parsing the ~20 MB of real files takes well
under a second.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from flows.errors import DataQualityWarning, InputError, SourceError
from flows.schema import COT_LEGACY_COLUMNS, COT_TFF_COLUMNS

Report = Literal["legacy", "tff"]
REPORTS: tuple[str, ...] = ("legacy", "tff")

HISTORY_BASE = "https://www.cftc.gov/files/dea/history"
"""Folder of the CFTC historical compressed files."""

YEARLY_ZIP = {"legacy": "deacot{year}.zip", "tff": "fut_fin_txt_{year}.zip"}
YEARLY_MEMBER = {"legacy": "annual.txt", "tff": "FinFutYY.txt"}
BUNDLE_ZIP = {"legacy": "deacot1986_2016.zip", "tff": "fin_fut_txt_2006_2016.zip"}
BUNDLE_MEMBER = {"legacy": "FUT86_16.txt", "tff": "F_TFF_2006_2016.txt"}
BUNDLE_YEARS = {"legacy": (1986, 2016), "tff": (2006, 2016)}
"""First and last report year covered by each multi-year bundle."""

CURRENCY_CODES: Mapping[str, str] = {
    "099741": "EUR",
    "097741": "JPY",
    "096742": "GBP",
    "092741": "CHF",
    "090741": "CAD",
    "232741": "AUD",
    "112741": "NZD",
    "095741": "MXN",
    "102741": "BRL",
    "122741": "ZAR",
    "098662": "USD_INDEX",
}
"""The IMM currency futures (and the ICE USD index) flowdesk ingests, code -> currency."""

# Each schema column -> accepted header names, normalised with ``_norm`` (first found wins).
_LEGACY_HEADERS: Mapping[str, tuple[str, ...]] = {
    "market": ("market_and_exchange_names",),
    "as_of": ("as_of_date_in_form_yyyy_mm_dd", "report_date_as_yyyy_mm_dd"),
    "code": ("cftc_contract_market_code",),
    "open_interest": ("open_interest_all",),
    "noncomm_long": ("noncommercial_positions_long_all",),
    "noncomm_short": ("noncommercial_positions_short_all",),
    "noncomm_spread": ("noncommercial_positions_spreading_all",),
    "comm_long": ("commercial_positions_long_all",),
    "comm_short": ("commercial_positions_short_all",),
    "nonrept_long": ("nonreportable_positions_long_all",),
    "nonrept_short": ("nonreportable_positions_short_all",),
}
_TFF_HEADERS: Mapping[str, tuple[str, ...]] = {
    "market": ("market_and_exchange_names",),
    "as_of": ("report_date_as_yyyy_mm_dd", "as_of_date_in_form_yyyy_mm_dd"),
    "code": ("cftc_contract_market_code",),
    "open_interest": ("open_interest_all",),
    "dealer_long": ("dealer_positions_long_all",),
    "dealer_short": ("dealer_positions_short_all",),
    "asset_mgr_long": ("asset_mgr_positions_long_all",),
    "asset_mgr_short": ("asset_mgr_positions_short_all",),
    "lev_money_long": ("lev_money_positions_long_all",),
    "lev_money_short": ("lev_money_positions_short_all",),
    "other_rept_long": ("other_rept_positions_long_all",),
    "other_rept_short": ("other_rept_positions_short_all",),
    "nonrept_long": ("nonrept_positions_long_all",),
    "nonrept_short": ("nonrept_positions_short_all",),
}
_HEADERS = {"legacy": _LEGACY_HEADERS, "tff": _TFF_HEADERS}
_COLUMNS = {"legacy": COT_LEGACY_COLUMNS, "tff": COT_TFF_COLUMNS}
_TEXT_COLUMNS = ("as_of", "code", "market")


def _norm(name: str) -> str:
    """Header name -> comparison key: lower case, runs of non-alphanumerics -> ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _check_report(report: str) -> None:
    if report not in REPORTS:
        raise InputError("cftc", "report", f"must be one of {', '.join(REPORTS)} (got {report!r})")


# -- step 1: query -------------------------------------------------------------------------
def build_query(report: Report, year: int, *, base: str = HISTORY_BASE) -> str:
    """URL of the yearly zip of ``report`` for report year ``year``.

    ``report`` is ``"legacy"`` (Legacy, futures only) or ``"tff"`` (Traders in Financial
    Futures, futures only).  ``base`` is the folder (tests point it at a local server).
    """
    _check_report(report)
    if not 1986 <= int(year) <= 2100:
        raise InputError("cftc", "year", f"must be a report year from 1986 (got {year!r})")
    return f"{base.rstrip('/')}/{YEARLY_ZIP[report].format(year=int(year))}"


def bundle_query(report: Report, *, base: str = HISTORY_BASE) -> str:
    """URL of the multi-year bundle of ``report`` (legacy 1986-2016, TFF 2006-2016)."""
    _check_report(report)
    return f"{base.rstrip('/')}/{BUNDLE_ZIP[report]}"


# -- step 2: fetch (network only) ----------------------------------------------------------
def fetch(query: str, client) -> bytes:
    """Download the zip at ``query`` (a URL from :func:`build_query`); raises SourceError."""
    return client.get_bytes(query, source=query)


# -- step 3: parse (pure) ------------------------------------------------------------------
def read_zip(data: bytes, source: str) -> str:
    """Text of the single member of the zip ``data`` (CRLF/LF kept; parsers accept both).

    Raises :class:`InputError` naming ``source`` when the bytes are not a zip or the zip does not
    hold exactly one file.  Text is decoded as UTF-8, falling back to cp1252.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
            if len(members) != 1:
                names = ", ".join(i.filename for i in members) or "none"
                raise InputError(source, None, f"expected exactly one file in the zip, found {len(members)} ({names})")
            raw = zf.read(members[0])
    except zipfile.BadZipFile as exc:
        raise InputError(source, None, f"not a zip archive ({exc}; first bytes {data[:16]!r})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def _header(text: str, source: str) -> list[str]:
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        raise InputError(source, None, "empty file (no header row)")
    # The header is a plain quoted CSV row; names never contain commas.
    return [h.strip().strip('"') for h in first.split(",")]


def _parse_dates(values: pd.Series, source: str, column: str) -> pd.Series:
    """ISO ``YYYY-MM-DD`` (yearly files) or ``M/D/YYYY hh:mm:ss AM`` (2006-2016 TFF bundle)."""
    text = values.astype(str).str.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y"):
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if parsed.notna().all():
            return parsed.astype("datetime64[ns]")
    bad = text[pd.to_datetime(text, format="%Y-%m-%d", errors="coerce").isna()].iloc[0]
    raise InputError(source, column, f"unreadable report date {bad!r} (expected YYYY-MM-DD)")


def parse(text: str, report: Report, source: str, codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Parse one Historical Compressed text file into the schema frame of ``report``.

    Parameters
    ----------
    text:
        The whole file (header row first), CRLF or LF.
    report:
        ``"legacy"`` -> :data:`flows.schema.COT_LEGACY_COLUMNS`; ``"tff"`` ->
        :data:`flows.schema.COT_TFF_COLUMNS`.
    source:
        File name or URL, used in every error message.
    codes:
        Optional 6-character contract market codes to keep (others are dropped after reading).

    Returns
    -------
    DataFrame in exactly the schema's column order: ``as_of`` datetime64[ns] (the file's report
    date), ``code`` (str, leading zeros kept), ``market`` (str), position columns int64 in
    contracts.  Sorted by ``as_of`` then ``code``; one row per (as_of, code).

    Raises
    ------
    InputError
        Header changed (names the file and the missing column), unreadable dates, duplicate
        (as_of, code) rows.  Rows with a blank position are dropped with a
        :class:`DataQualityWarning` giving the count.
    """
    _check_report(report)
    spec = _HEADERS[report]
    header = _header(text, source)
    index = {}
    for pos, name in enumerate(header):
        index.setdefault(_norm(name), pos)
    positions: dict[str, int] = {}
    for col, candidates in spec.items():
        found = next((index[c] for c in candidates if c in index), None)
        if found is None:
            raise InputError(source, candidates[0], f"column missing from the header (changed layout?); expected one of {list(candidates)} for {col!r}; header has {len(header)} columns")
        positions[col] = found
    numeric = [c for c in spec if c not in _TEXT_COLUMNS]
    by_pos = {p: c for c, p in positions.items()}
    wanted = None
    if codes is not None:
        wanted = {str(c).strip() for c in codes}
        # Pre-filter lines before the CSV tokenizer sees them: a file holds every market (~300)
        # but flowdesk needs ~11.  The anchored pattern reads only the start of a line:
        # "name",YYMMDD,date,CODE,  (the exact code match after parsing still decides; a line
        # the pattern misses would only be a line in an unexpected layout).
        # Leading zeros and quotes are optional so a file that prints 99741 or "099741" is kept.
        alternatives = "|".join(re.escape(c.lstrip("0")) for c in sorted(wanted))
        pattern = re.compile(r'^\s*"[^"]*",[^,]*,[^,]*,\s*"?0*(?:' + alternatives + r')"?\s*,')
        lines = text.splitlines()
        text = "\n".join([lines[0], *filter(pattern.match, lines[1:])]) + "\n"
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=0,
            usecols=sorted(by_pos),
            dtype={p: str for p, c in by_pos.items() if c in _TEXT_COLUMNS},
            na_values=["."],
            keep_default_na=False,
            skipinitialspace=True,
            engine="c",
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(source, None, f"malformed CSV: {exc}") from None
    # read_csv keeps header order: rename by position.
    frame.columns = [by_pos[p] for p in sorted(by_pos)]
    if frame.empty and wanted is None:
        raise InputError(source, None, "no data rows")
    # codes are 6 characters with leading zeros; restore them if a file dropped them
    frame["code"] = frame["code"].str.strip().str.strip('"').str.zfill(6)
    frame["market"] = frame["market"].str.strip()
    if wanted is not None:
        frame = frame[frame["code"].isin(wanted)]
    for col in numeric:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            values = pd.to_numeric(frame[col].str.strip().replace({"": None, ".": None}), errors="coerce")
            frame[col] = values
    blank = frame[numeric].isna().any(axis=1).to_numpy()
    if blank.any():
        warnings.warn(f"{source}: dropped {int(blank.sum())} row(s) with a blank position value", DataQualityWarning, stacklevel=2)
        frame = frame[~blank]
    frame = frame.copy()
    frame[numeric] = frame[numeric].astype(np.int64)
    frame["as_of"] = _parse_dates(frame["as_of"], source, header[positions["as_of"]]) if len(frame) else frame["as_of"].astype("datetime64[ns]")
    frame = frame[list(_COLUMNS[report])].sort_values(["as_of", "code"], kind="stable").reset_index(drop=True)
    dup = frame.duplicated(["as_of", "code"])
    if dup.any():
        row = frame[dup].iloc[0]
        raise InputError(source, "CFTC Contract Market Code", f"duplicate row for code {row['code']} on {row['as_of'].date()}")
    return frame


def parse_legacy(text: str, source: str, codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Legacy futures-only text (``annual.txt`` / ``FUT86_16.txt``) -> ``COT_LEGACY_COLUMNS`` frame.

    See :func:`parse`.  Non-commercial = large speculators; all quantities in contracts.
    """
    return parse(text, "legacy", source, codes)


def parse_tff(text: str, source: str, codes: Iterable[str] | None = None) -> pd.DataFrame:
    """TFF futures-only text (``FinFutYY.txt`` / ``F_TFF_2006_2016.txt``) -> ``COT_TFF_COLUMNS``.

    See :func:`parse`.  Leveraged funds = ``lev_money``; all quantities in contracts.
    """
    return parse(text, "tff", source, codes)


# -- several years -------------------------------------------------------------------------
@dataclass
class YearFiles:
    """What :func:`fetch_years` downloaded.

    ``texts`` maps the URL of each downloaded zip to the text of its member, ``years`` the report
    years each URL is used for; ``missing_current`` is the current year when its zip was not
    published yet (HTTP 404, the first days of January): the caller fills the newest weeks from
    the weekly data (the Socrata API, :mod:`flows.sources.cftc_socrata`, since the last date found
    in the files).
    """

    report: str
    texts: dict[str, str] = field(default_factory=dict)
    years: dict[str, tuple[int, ...]] = field(default_factory=dict)
    missing_current: int | None = None

    def parse(self, codes: Iterable[str] | None = None) -> pd.DataFrame:
        """Parse every downloaded file, keep each file's requested years, concatenate."""
        frames = []
        for url, text in self.texts.items():
            frame = parse(text, self.report, url, codes)  # type: ignore[arg-type]
            keep = frame["as_of"].dt.year.isin(self.years[url])
            frames.append(frame[keep])
        if not frames:
            return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "as_of" else ("str" if c in _TEXT_COLUMNS else "int64")) for c in _COLUMNS[self.report]})
        out = pd.concat(frames, ignore_index=True)
        out = out.drop_duplicates(["as_of", "code"], keep="last")
        return out.sort_values(["as_of", "code"], kind="stable").reset_index(drop=True)


def fetch_years(
    report: Report,
    years: Sequence[int],
    client,
    progress: Callable[[str], None] | None = None,
    *,
    base: str = HISTORY_BASE,
    current_year: int | None = None,
) -> YearFiles:
    """Download the files covering ``years`` (network only; parse with :meth:`YearFiles.parse`).

    Years up to 2016 come from the multi-year bundle (one download), later years from the yearly
    zips.  ``current_year`` (default: the largest requested year) is the one year whose zip may
    not exist yet: a 404 for it is not an error; the previous year is then fetched as well (if it
    was not requested) and ``missing_current`` is set so the caller tops up from the weekly data.
    Any other failure raises :class:`flows.errors.SourceError` naming the URL.

    ``progress`` is called with a short message after each download.
    """
    _check_report(report)
    wanted = sorted({int(y) for y in years})
    if not wanted:
        raise InputError("cftc", "years", "no years requested")
    current = int(current_year if current_year is not None else wanted[-1])
    out = YearFiles(report=report)
    say = progress or (lambda _m: None)
    first, last = BUNDLE_YEARS[report]
    in_bundle = tuple(y for y in wanted if y <= last)
    if in_bundle:
        if in_bundle[0] < first:
            raise InputError("cftc", "years", f"{report} history starts in {first} (asked for {in_bundle[0]})")
        url = bundle_query(report, base=base)
        out.texts[url] = read_zip(fetch(url, client), url)
        out.years[url] = in_bundle
        for year in in_bundle:  # one message per year, so a progress bar counts years
            say(f"{report} {year} (bundle {first}-{last})")
    for year in (y for y in wanted if y > last):
        url = build_query(report, year, base=base)
        try:
            data = fetch(url, client)
        except SourceError as exc:
            if exc.status != 404 or year != current:
                raise
            out.missing_current = year
            prev = year - 1
            if prev not in wanted and prev > last:
                purl = build_query(report, prev, base=base)
                out.texts[purl] = read_zip(fetch(purl, client), purl)
                out.years[purl] = (prev,)
            say(f"{report} {year}: not published yet (404), using {prev} + weekly data")
            continue
        out.texts[url] = read_zip(data, url)
        out.years[url] = (year,)
        say(f"{report} {year}")
    return out
