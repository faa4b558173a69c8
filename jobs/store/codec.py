"""How values leave Python: Arrow IPC for tables, JSON for metadata, both without NaN surprises.

Tables travel as Arrow IPC *stream* bytes (zstd-compressed in Redis); metadata as JSON.  Nothing
read from Redis or the network is ever unpickled: Arrow IPC is a data format, so a value planted
in Redis can at worst fail to decode, never execute code.  Arrow keeps every dtype flowdesk uses:
int64, float64 with NaN, tz-aware datetimes, categoricals, strings and booleans.

JSON has no NaN: :func:`plain` is the one cleaner every JSON writer uses (the store's metadata,
the API's answers, the CLI's ``--json`` output).
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

ZSTD = "zstd"
"""Compression of the tables kept in Redis."""


# -- JSON -----------------------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """A JSON-able copy of ``value``: NaN and infinities -> None, numpy scalars -> Python,
    timestamps and dates -> ISO 8601 strings; dicts, lists and tuples converted element by element
    (tuples become lists).  Anything else is returned unchanged."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):  # pd.Timestamp is a datetime
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        return plain(value.item())
    return value


def _strict_default(value: Any) -> Any:
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(value: Any, *, strict: bool = True) -> str:
    """Compact JSON of :func:`plain` (``value``); never writes NaN.

    ``strict``: raise ``TypeError`` for a value JSON cannot hold (the store refuses to keep it);
    otherwise write its ``str()`` (the API's answers).
    """
    return json.dumps(
        plain(value),
        default=_strict_default if strict else str,
        allow_nan=False,
        separators=(",", ":"),
    )


# -- Arrow ----------------------------------------------------------------------------------------
def frame_to_arrow(
    frame: pd.DataFrame, *, metadata: dict[str, Any] | None = None, compression: str | None = ZSTD
) -> bytes:
    """Serialise ``frame`` as Arrow IPC stream bytes (index included when it is not a default
    RangeIndex).  ``metadata``: JSON written into the schema metadata under ``flowdesk`` (the API's
    downloads carry their provenance there); ``compression``: ``"zstd"`` (Redis) or None (files
    for any Arrow reader)."""
    # one record batch: pandas' pyarrow-backed string columns arrive chunked after a concat (the
    # board grid had 136 chunks), and every batch costs its own zstd frames on each read
    table = pa.Table.from_pandas(frame, preserve_index=None).combine_chunks()
    if metadata is not None:
        schema_meta = dict(table.schema.metadata or {})
        schema_meta[b"flowdesk"] = dumps(metadata, strict=False).encode()
        table = table.replace_schema_metadata(schema_meta)
    options = pa.ipc.IpcWriteOptions(compression=compression)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


_READ_OPTIONS = pa.ipc.IpcReadOptions(use_threads=False)


def arrow_table(data: bytes) -> pa.Table:
    """The Arrow table of stored stream bytes (decompressed, not converted to pandas)."""
    # single-threaded: the tables are small (one batch) and the web tier's threads already use
    # the cores; pyarrow's pool costs more than it saves here (1.6 ms vs 0.35 ms on the board grid)
    with pa.ipc.open_stream(pa.BufferReader(data), options=_READ_OPTIONS) as reader:
        return reader.read_all()


def arrow_to_frame(data: bytes, *, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
    """Inverse of :func:`frame_to_arrow`; ``offset``/``limit``: only those rows are converted
    (a default RangeIndex then starts at 0)."""
    table = arrow_table(data)
    if offset or limit is not None:
        table = table.slice(offset, limit)
    return table.to_pandas()
