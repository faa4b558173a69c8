"""Yahoo-style OHLCV files dropped by hand: ``Date,Open,High,Low,Close,Adj Close,Volume``.

A desk downloads a history from a charting site and drops it into ``service.drop_dir``; the same
layout is used by many public datasets (the ``arch`` package's ``sp500.csv.gz``, the
``^GSPC`` history in ``../shared/data/prices/``).  Read: ISO (``2020-08-21``) and US-style
(``1/4/1999``) dates, gzip (``.csv.gz``), ``null`` for a missing value, and two-column files
(``Date,vix``) whose one value column is the close.  ``Close`` is used, not ``Adj Close``: for
an index they are equal, and the flows engines need the traded level.

Three steps as every source: :func:`build_query` (the path), :func:`fetch` (read bytes; the only
I/O), :func:`parse` (pure; the :data:`flows.schema.PRICE_COLUMNS` frame and a
:class:`flows.quality.Quality`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from flows.quality import Quality
from flows.sources.contract import read_file
from flows.sources.price_frame import parse_delimited

OPTIONAL = {"open": ("Open",), "high": ("High",), "low": ("Low",), "volume": ("Volume",)}


def build_query(drop_dir: str | Path, name: str) -> Path:
    """The dropped file ``drop_dir/name``."""
    return Path(drop_dir) / name


def fetch(query: Path) -> bytes:
    """The file's bytes (the only I/O): :func:`flows.sources.contract.read_file`."""
    return read_file(query)


def symbol_from_name(path: str | Path) -> str:
    """``^GSPC.csv`` -> ``^GSPC``; ``sp500.csv.gz`` -> ``SP500`` (upper case, suffixes removed)."""
    name = Path(path).name
    for suffix in (".gz", ".csv", ".txt"):
        name = name.removesuffix(suffix)
    return name.upper()


def parse(raw: bytes, source: str, symbol: str | None = None) -> tuple[pd.DataFrame, Quality]:
    """Parse a Yahoo-style OHLCV file (pure); ``symbol`` defaults to the file name."""
    return parse_delimited(
        raw,
        source,
        symbol=symbol or symbol_from_name(source),
        date_names=("Date",),
        close_names=("Close",),
        optional=OPTIONAL,
    )
