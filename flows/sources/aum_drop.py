"""User-dropped CSV files for the leveraged-ETF job: fund assets and underlying dollar volume.

Two small layouts a desk can drop into ``service.drop_dir`` (file names in ``[letf]``):

* assets (``letf_aum.csv``): ``ticker, aum_usd[, shares_outstanding][, as_of]``: net assets in
  USD (not thousands) and shares outstanding in shares; overrides any other AUM source.
* volume (``letf_adv.csv``): ``underlying, adv_usd[, auction_usd]``: average daily dollar volume
  and closing-auction notional of each underlying, USD per day.

Three steps as every source: :func:`build_query` (path), :func:`fetch` (read bytes; a missing
file returns ``None``: the drop is optional), :func:`parse_aum` / :func:`parse_adv` (pure).  A
malformed file raises :class:`~flows.errors.InputError` with the file, line and column; a row
with a non-numeric or negative value is skipped and reported in the returned ``skipped`` frame.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from flows.errors import InputError


def build_query(drop_dir: str | Path, name: str) -> Path:
    return Path(drop_dir) / name


def fetch(query: Path) -> bytes | None:
    """The file's bytes, or ``None`` when nothing was dropped."""
    try:
        return query.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(str(query), None, f"cannot read the file: {exc.strerror or exc}") from None


def _table(raw: bytes, source: str, key: str, required: list[str]) -> pd.DataFrame:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(source, None, "not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    records = [r for r in reader]
    if not records:
        raise InputError(source, "line 1", "empty file (expected a header row)")
    header = [h.strip().lower() for h in records[0]]
    for col in [key, *required]:
        if col not in header:
            raise InputError(source, f"line 1, column '{col}'", f"required column missing (header: {', '.join(header)})")
    rows, lines = [], []
    for i, rec in enumerate(records[1:], start=2):
        if not rec or all(not f.strip() for f in rec):
            continue
        if len(rec) != len(header):
            raise InputError(source, f"line {i}, column {min(len(rec), len(header)) + 1}", f"row has {len(rec)} fields, the header has {len(header)}")
        rows.append([f.strip() for f in rec])
        lines.append(i)
    frame = pd.DataFrame(rows, columns=header, dtype=str)
    frame["line"] = pd.Series(lines, dtype="int64")
    frame[key] = frame[key].str.upper()
    return frame


def _numbers(frame: pd.DataFrame, key: str, cols: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    reasons = pd.Series("", index=frame.index, dtype=str)
    for col in cols:
        if col not in frame:
            frame[col] = float("nan")
            continue
        text = frame[col].astype(str)
        values = pd.to_numeric(text.str.replace(",", "", regex=False).where(text.ne("")), errors="coerce")
        bad = (text.ne("") & values.isna()) | values.lt(0)
        reasons = reasons.where(~(bad & reasons.eq("")), col + " '" + text + "' is not a number >= 0")
        frame[col] = values
    bad = reasons.ne("")
    skipped = pd.DataFrame({"ticker": frame.loc[bad, key], "line": frame.loc[bad, "line"], "reason": reasons[bad]}).reset_index(drop=True)
    return frame.loc[~bad].drop(columns="line").reset_index(drop=True), skipped


def parse_aum(raw: bytes, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(frame, skipped)``: ``ticker``, ``aum_usd`` (USD), ``shares_outstanding`` (shares, NaN
    when not given), ``as_of`` (text as given, may be blank)."""
    frame = _table(raw, source, "ticker", ["aum_usd"])
    if "as_of" not in frame:
        frame["as_of"] = ""
    frame, skipped = _numbers(frame, "ticker", ["aum_usd", "shares_outstanding"])
    return frame[["ticker", "aum_usd", "shares_outstanding", "as_of"]], skipped


def parse_adv(raw: bytes, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(frame, skipped)``: ``underlying``, ``adv_usd``, ``auction_usd`` (USD per day)."""
    frame = _table(raw, source, "underlying", ["adv_usd"])
    frame, skipped = _numbers(frame, "underlying", ["adv_usd", "auction_usd"])
    return frame[["underlying", "adv_usd", "auction_usd"]], skipped
