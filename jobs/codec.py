"""Arrow IPC codec for DataFrames stored in Redis.

Tables travel as Arrow IPC *stream* bytes (zstd-compressed); metadata as JSON.  Nothing read from
Redis or the network is ever unpickled: Arrow IPC is a data format, so a value planted in Redis
can at worst fail to decode, never execute code.  Arrow keeps every dtype flowdesk uses: int64,
float64 with NaN, tz-aware datetimes, categoricals, strings and booleans.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

_WRITE_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")


def frame_to_arrow(frame: pd.DataFrame) -> bytes:
    """Serialise ``frame`` (index included when it is not a default RangeIndex)."""
    table = pa.Table.from_pandas(frame, preserve_index=None)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=_WRITE_OPTIONS) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def arrow_to_frame(data: bytes) -> pd.DataFrame:
    """Inverse of :func:`frame_to_arrow`."""
    with pa.ipc.open_stream(pa.BufferReader(data)) as reader:
        table = reader.read_all()
    return table.to_pandas()
