"""A price file of any supported layout, recognised by its header (for the CLI and drop folder).

=========================  ===========================================  =========================
first header cell          layout                                        parser
=========================  ===========================================  =========================
``observation_date``       FRED ``fredgraph.csv``                        :mod:`flows.sources.fred`
``DATE`` (upper case)      Cboe daily prices (or a pre-2024 FRED file)   :mod:`flows.sources.cboe_prices`
``Date``                   Yahoo-style OHLCV / ``Date,<name>``           :mod:`flows.sources.yahoo_csv`
=========================  ===========================================  =========================

The pre-2024 FRED header ``DATE,SP500`` reads the same through the Cboe parser (one value
column, ``.`` for a missing value).  The connector contract's steps (:mod:`flows.sources.contract`):
:func:`build_query` (the path), :func:`fetch` (the only I/O), :func:`parse` (pure); :func:`read`
chains them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from flows.errors import InputError
from flows.quality import Quality
from flows.sources import cboe_prices, fred, yahoo_csv
from flows.sources.contract import read_file
from flows.sources.textio import decode_text

LAYOUTS = ("fred", "cboe", "yahoo")


def detect_layout(raw: bytes, source: str) -> str:
    """``"fred"``, ``"cboe"`` or ``"yahoo"`` from the first header cell; InputError otherwise."""
    text = decode_text(raw, source).text
    first_line = text.lstrip().split("\n", 1)[0]
    first = first_line.split(",", 1)[0].strip().strip('"')
    if first == "observation_date":
        return "fred"
    if first == "DATE":
        return "cboe"
    if first.lower() == "date":
        return "yahoo"
    raise InputError(
        source,
        "line 1",
        f"unknown price file layout (header {first_line[:80]!r}): expected FRED 'observation_date,...', Cboe 'DATE,OPEN,HIGH,LOW,CLOSE' or Yahoo 'Date,Open,High,Low,Close,...'",
    )


def build_query(path: str | Path) -> Path:
    """The file to read."""
    return Path(path)


def fetch(query: Path) -> bytes:
    """The file's bytes (:func:`flows.sources.contract.read_file`)."""
    return read_file(query)


def parse(raw: bytes, source: str, symbol: str | None = None) -> tuple[pd.DataFrame, Quality]:
    """Parse with the parser of the detected layout (pure)."""
    layout = detect_layout(raw, source)
    if layout == "fred":
        return fred.parse(raw, source, symbol)
    if layout == "cboe":
        return cboe_prices.parse(
            raw, source, symbol or yahoo_csv.symbol_from_name(source).split("_HISTORY")[0]
        )
    return yahoo_csv.parse(raw, source, symbol)


def read(path: str | Path, symbol: str | None = None) -> tuple[pd.DataFrame, Quality]:
    """Read and parse the file at ``path`` (any layout)."""
    query = build_query(path)
    return parse(fetch(query), str(query), symbol)
