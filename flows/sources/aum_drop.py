"""User-dropped CSV files for the leveraged-ETF job: fund assets and underlying dollar volume.

Two small layouts a desk can drop into ``service.drop_dir`` (file names in ``[letf]``):

* assets (``letf_aum.csv``): ``ticker, aum_usd[, shares_outstanding][, as_of]``: net assets in
  USD (not thousands) and shares outstanding in shares; overrides any other AUM source.
* volume (``letf_adv.csv``): ``underlying, adv_usd[, auction_usd]``: average daily dollar volume
  and closing-auction notional of each underlying, USD per day.

Three steps as every source: :func:`build_query` (path), :func:`fetch` (read bytes; a missing
file returns ``None``: the drop is optional), :func:`parse_aum` / :func:`parse_adv` (pure), each
returning a :class:`DropTable` (``frame``, ``skipped``: ``ticker, line, reason``, ``quality``:
:class:`flows.quality.Quality`, basis AUM for assets and ADV for volumes).

* Decoding by :func:`flows.sources.textio.decode_text` (the one rule: gzip, byte-order marks, UTF-8, cp1252, Latin-1).
* A malformed file (no header, a required column missing, a row with the wrong number of fields,
  a header without rows) raises :class:`~flows.errors.InputError` with the file, line and column.
* A value that is not a number (``-``, ``NaN``, text) skips its row, reported in ``skipped`` and
  in the quality (unreadable assets: the conservative row share of :mod:`flows.quality`).
* Values outside their plausibility limit (:data:`flows.limits.LIMITS`: ``letf.aum_usd``,
  ``letf.shares_outstanding``; dollar volumes must be >= 0) are an :class:`InputError`.
* A key listed twice: identical rows are dropped (repair), different values are an
  :class:`InputError` naming the key.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from flows.errors import InputError
from flows.limits import check_range
from flows.quality import Quality
from flows.sources.textio import decode_text


class DropTable(NamedTuple):
    """A parsed drop file: usable rows, skipped rows and the input quality."""

    frame: pd.DataFrame
    skipped: pd.DataFrame
    quality: Quality


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


def _table(
    raw: bytes, source: str, key: str, required: list[str], quality: Quality
) -> pd.DataFrame:
    decoded = decode_text(raw, source)
    text = decoded.text
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise InputError(source, None, f"malformed CSV: {exc}") from None
    if not records:
        raise InputError(source, "line 1", "empty file (expected a header row)")
    header = [h.strip().lower() for h in records[0]]
    for col in [key, *required]:
        if col not in header:
            raise InputError(
                source,
                f"line 1, column '{col}'",
                f"required column missing (header: {', '.join(header)})",
            )
    rows, lines = [], []
    for i, rec in enumerate(records[1:], start=2):
        if not rec or all(not f.strip() for f in rec):
            continue
        if len(rec) != len(header):
            raise InputError(
                source,
                f"line {i}, column {min(len(rec), len(header)) + 1}",
                f"row has {len(rec)} fields, the header has {len(header)}",
            )
        rows.append([f.strip() for f in rec])
        lines.append(i)
    if not rows:
        raise InputError(
            source, "line 2", "no data rows (a header only): remove the file or fill it"
        )
    quality.total_rows = len(rows)
    decoded.note(quality, len(rows))
    if not text.endswith(("\n", "\r")):
        quality.warn(
            f"no line break at the end of the file: its last row (line {lines[-1]}) may be cut off"
        )
    frame = pd.DataFrame(rows, columns=header, dtype=str)
    frame["line"] = pd.Series(lines, dtype="int64")
    frame[key] = frame[key].str.upper()
    return _dedupe(frame, header, key, source, quality)


def _dedupe(
    frame: pd.DataFrame, header: list[str], key: str, source: str, quality: Quality
) -> pd.DataFrame:
    dup = frame[key].ne("") & frame[key].duplicated(keep=False)
    if not dup.any():
        return frame
    for k in pd.unique(frame.loc[dup, key]):
        rows = frame[frame[key].eq(k)]
        if len(rows[header].drop_duplicates()) > 1:
            raise InputError(
                source,
                f"{key} {k}",
                f"listed twice with different values (lines {', '.join(map(str, rows['line']))}): which one is right cannot be told",
            )
    exact = frame[key].ne("") & frame[header].duplicated(keep="first")
    quality.repair("exact duplicate row dropped", int(exact.sum()))
    return frame.loc[~exact].reset_index(drop=True)


def _numbers(
    frame: pd.DataFrame, key: str, cols: list[str], weight: str, quality: Quality
) -> tuple[pd.DataFrame, pd.DataFrame]:
    reasons = pd.Series("", index=frame.index, dtype=str)
    for col in cols:
        if col not in frame:
            frame[col] = float("nan")
            continue
        text = frame[col].astype(str)
        values = pd.to_numeric(
            text.str.replace(",", "", regex=False).where(text.ne("")), errors="coerce"
        )
        required = col == weight
        bad = (text.ne("") & values.isna()) | (required & text.eq(""))
        reasons = reasons.where(~(bad & reasons.eq("")), col + " '" + text + "' is not a number")
        frame[col] = values
    w = frame[weight]
    quality.total_weight = float(w[w >= 0].sum())
    bad = reasons.ne("")
    known = bad & w.notna()
    where = frame[key].astype(str) + " line " + frame["line"].astype(str)  # names a refusal
    quality.skip("not a number", int(known.sum()), float(w[known].sum()), where[known])
    quality.skip("not a number", int((bad & w.isna()).sum()), None, where[bad & w.isna()])
    skipped = pd.DataFrame(
        {"ticker": frame.loc[bad, key], "line": frame.loc[bad, "line"], "reason": reasons[bad]}
    ).reset_index(drop=True)
    return frame.loc[~bad].drop(columns="line").reset_index(drop=True), skipped


def parse_aum(raw: bytes, source: str) -> DropTable:
    """``frame``: ``ticker``, ``aum_usd`` (USD), ``shares_outstanding`` (shares, NaN when not
    given), ``as_of`` (text as given, may be blank).  Quality basis: AUM."""
    quality = Quality(source=source, basis="AUM")
    frame = _table(raw, source, "ticker", ["aum_usd"], quality)
    if "as_of" not in frame:
        frame["as_of"] = ""
    where = "line " + frame["line"].astype(str)
    _limits(
        frame,
        source,
        where,
        {"aum_usd": "letf.aum_usd", "shares_outstanding": "letf.shares_outstanding"},
    )
    frame, skipped = _numbers(
        frame, "ticker", ["aum_usd", "shares_outstanding"], "aum_usd", quality
    )
    return DropTable(frame[["ticker", "aum_usd", "shares_outstanding", "as_of"]], skipped, quality)


def parse_adv(raw: bytes, source: str) -> DropTable:
    """``frame``: ``underlying``, ``adv_usd``, ``auction_usd`` (USD per day).  Quality basis: ADV."""
    quality = Quality(source=source, basis="ADV")
    frame = _table(raw, source, "underlying", ["adv_usd"], quality)
    for col in ("adv_usd", "auction_usd"):
        if col in frame:
            values = pd.to_numeric(
                frame[col].str.replace(",", "", regex=False).where(frame[col].ne("")),
                errors="coerce",
            ).to_numpy(dtype=float)
            bad = (values < 0) | np.isinf(values)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise InputError(
                    source,
                    col,
                    f"line {int(frame['line'].iloc[i])}: a dollar volume is a finite number >= 0 (got {frame[col].iloc[i]!r})",
                )
    frame, skipped = _numbers(frame, "underlying", ["adv_usd", "auction_usd"], "adv_usd", quality)
    return DropTable(frame[["underlying", "adv_usd", "auction_usd"]], skipped, quality)


def _limits(frame: pd.DataFrame, source: str, where: pd.Series, limits: dict[str, str]) -> None:
    for col, key in limits.items():
        if col in frame:
            values = pd.to_numeric(
                frame[col].str.replace(",", "", regex=False).where(frame[col].ne("")),
                errors="coerce",
            )
            check_range(values, key, source, rows=where, field=col)
