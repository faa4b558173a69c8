"""Replay of the CFTC sources on the local HTTP server: yearly zips and a Socrata dataset.

:class:`SocrataDataset` answers ``/resource/<id>.json`` the way the CFTC Public Reporting API
does for the queries flowdesk sends: ``$where`` (``cftc_contract_market_code in (...)`` and
``report_date_as_yyyy_mm_dd >= '...'``), ``$order`` (date, then code), ``$select``, ``$offset``,
and ``$limit`` capped by an optional server-side maximum (``cap``), as some Socrata endpoints do.
Bodies are in the real format: a JSON array of compact rows separated by ``\\n,``, every value a
string, the report date a floating timestamp.  Which report dates are "published" can change
between requests (:meth:`SocrataDataset.publish`), to replay a catch-up after a shutdown.

Rows are built from the real annual text files (``tests/data/cftc``): each row starts from a
recorded real Socrata row of the same report (its key set and the values flowdesk does not read)
and takes every quantity flowdesk reads from the file row, so the numbers are the file's.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from flows.sources import cftc_files, cftc_socrata
from tests.httpserver import Reply, Request

DATA = Path(__file__).resolve().parent / "data" / "cftc"
LEGACY_ZIP = DATA / "deacot2025_currencies_2025-01-07_to_2025-03-11.zip"
TFF_ZIP = DATA / "fut_fin_txt_2025_currencies_2025-01-07_to_2025-04-29.zip"
ECB_CSV = DATA / "eurofxref-hist_2024-11-15_to_2025-05-09.csv"
ECB_DAILY_XML = DATA / "eurofxref-daily_2025-05-09.xml"
SOCRATA_LEGACY = DATA / "socrata_6dca-aqww_legacy_futonly_six_markets_2026-09-08_to_2026-09-15.json"
SOCRATA_TFF = DATA / "socrata_gpe5-46if_tff_futonly_es_2026-07-07_to_2026-07-14_subset.json"
MEMBERS = {"legacy": "annual.txt", "tff": "FinFutYY.txt"}


def member_text(path: Path) -> str:
    """The text of the single member of a zip in ``tests/data/cftc``."""
    with zipfile.ZipFile(path) as zf:
        return zf.read(zf.namelist()[0]).decode()


def zip_bytes(member: str, data: str | bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, data)
    return buf.getvalue()


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def cut_weeks(
    text: str, last: str | pd.Timestamp | None = None, first: str | pd.Timestamp | None = None
) -> str:
    """The annual text with only the rows dated within ``[first, last]`` (header and order kept)."""
    nl = _newline(text)
    lines = [ln for ln in text.split(nl) if ln.strip()]
    lo = pd.Timestamp(first) if first is not None else pd.Timestamp.min
    hi = pd.Timestamp(last) if last is not None else pd.Timestamp.max
    kept = [
        ln
        for ln in lines[1:]
        if lo <= pd.Timestamp(next(csv.reader([ln], skipinitialspace=True))[2].strip()) <= hi
    ]
    return nl.join([lines[0], *kept]) + nl


def annual_zip(report: str, last: str | pd.Timestamp | None = None) -> bytes:
    """The real yearly zip layout (``deacot2025.zip`` / ``fut_fin_txt_2025.zip``) holding the
    trimmed 2025 file cut at ``last``."""
    text = member_text(LEGACY_ZIP if report == "legacy" else TFF_ZIP)
    return zip_bytes(MEMBERS[report], cut_weeks(text, last))


def ecb_hist_zip() -> bytes:
    return zip_bytes("eurofxref-hist.csv", ECB_CSV.read_bytes())


def _records(text: str) -> list[dict[str, str]]:
    """Rows of an annual text file as {normalised header name: stripped value}."""
    lines = [ln for ln in text.replace("\r\n", "\n").split("\n") if ln.strip()]
    header = [cftc_files._norm(h.strip().strip('"')) for h in lines[0].split(",")]
    out = []
    for row in csv.reader(lines[1:], skipinitialspace=True):
        out.append({h: v.strip() for h, v in zip(header, row, strict=False)})
    return out


def socrata_rows(report: str, text: str | None = None) -> list[dict[str, str]]:
    """Every row of the trimmed 2025 ``report`` file as a Socrata row (real format, strings)."""
    text = text if text is not None else member_text(LEGACY_ZIP if report == "legacy" else TFF_ZIP)
    recorded = json.loads((SOCRATA_LEGACY if report == "legacy" else SOCRATA_TFF).read_text())
    template = recorded[0]
    file_names = {**cftc_files._HEADERS[report], **cftc_files._CHECK_HEADERS[report]}
    api_names = {**cftc_socrata.FIELDS[report], **cftc_socrata.CHECK_FIELDS[report]}
    rows = []
    for rec in _records(text):
        day = pd.Timestamp(rec[file_names["as_of"][0]])
        code = rec[file_names["code"][0]].strip('"')
        row = dict(template)
        for col, names in api_names.items():
            value = rec[file_names[col][0]]
            row[names[0]] = (
                day.strftime("%Y-%m-%dT00:00:00.000") if col == "as_of" else value.strip('"')
            )
        if "id" in row:
            row["id"] = day.strftime("%y%m%d") + code + "F"
        if "yyyy_report_week_ww" in row:
            row["yyyy_report_week_ww"] = f"{day.year} Report Week {int(day.strftime('%U'))}"
        rows.append(row)
    return rows


def socrata_body(rows: Iterable[dict[str, str]]) -> bytes:
    """A Socrata response body in the real layout: ``[{...}\\n,{...}]\\n``."""
    return ("[" + "\n,".join(json.dumps(r, separators=(",", ":")) for r in rows) + "]\n").encode()


class SocrataDataset:
    """One dataset answering SoQL queries (see the module docstring).

    ``published``: report dates currently visible (None = every row); ``cap``: the largest page
    the server returns whatever ``$limit`` asks; ``ignore_where``: a broken mirror that answers
    every query with all its visible rows (for the regression guard).
    """

    def __init__(self, rows: list[dict[str, str]], *, cap: int | None = None) -> None:
        self.rows = rows
        self.cap = cap
        self.published: set[pd.Timestamp] | None = None
        self.ignore_where = False

    def publish(self, *dates: str | pd.Timestamp) -> None:
        """Make the reports of ``dates`` visible (the first call hides every other date)."""
        if self.published is None:
            self.published = set()
        self.published |= {pd.Timestamp(d) for d in dates}

    def _day(self, row: dict[str, str]) -> pd.Timestamp:
        return pd.Timestamp(row[cftc_socrata.DATE_FIELD][:10])

    def __call__(self, req: Request) -> Reply:
        q = {k: v[0] for k, v in req.query.items()}
        rows = [r for r in self.rows if self.published is None or self._day(r) in self.published]
        where = q.get("$where", "")
        if where and not self.ignore_where:
            m = re.search(r"cftc_contract_market_code in \(([^)]*)\)", where)
            if m:
                codes = {c.strip().strip("'") for c in m.group(1).split(",")}
                rows = [r for r in rows if r[cftc_socrata.CODE_FIELD] in codes]
            m = re.search(r"report_date_as_yyyy_mm_dd >= '([0-9-]{10})", where)
            if m:
                since = pd.Timestamp(m.group(1))
                rows = [r for r in rows if self._day(r) >= since]
        if q.get("$order", "").startswith(cftc_socrata.DATE_FIELD):
            rows = sorted(
                rows, key=lambda r: (r[cftc_socrata.DATE_FIELD], r[cftc_socrata.CODE_FIELD])
            )
        offset = int(q.get("$offset", 0))
        limit = int(q.get("$limit", 1000))
        if self.cap is not None:
            limit = min(limit, self.cap)
        page = rows[offset : offset + limit]
        if "$select" in q:
            keys = [k.strip() for k in q["$select"].split(",")]
            page = [{k: r[k] for k in keys if k in r} for r in page]
        return Reply(200, socrata_body(page), {"Content-Type": "application/json;charset=utf-8"})
