"""CFTC ingestion: backfill history and merge the newest weeks into ``cftc.positions`` / ``cftc.fx``.

Results
-------
``cftc.positions``: tables ``legacy`` (:data:`flows.schema.COT_LEGACY_COLUMNS`) and ``tff``
(:data:`flows.schema.COT_TFF_COLUMNS`), one row per (as_of, code), complete weeks only.
``cftc.fx``: table ``data``: column ``date`` + one column per currency, USD per 1 unit.
Both: ``as_of`` = latest report date; ``extra.release_time`` = the CFTC release (Friday 15:30 ET
after the report Tuesday; the next federal business day when that Friday is a US federal
holiday).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

POSITIONS = "cftc.positions"
FX = "cftc.fx"


def release_time(as_of: pd.Timestamp | str) -> pd.Timestamp:
    """Nominal CFTC release of the report dated ``as_of``: 15:30 America/New_York."""
    raise NotImplementedError


def backfill(settings: Any, store: Any, from_year: int, to_year: int | None = None, client: Any = None, progress: Any = None, now: datetime | None = None) -> dict[str, Any]:
    """Fetch (live) or generate (sample) history from ``from_year`` and publish both results."""
    raise NotImplementedError


def update_latest(settings: Any, store: Any, client: Any = None, now: datetime | None = None) -> bool:
    """Merge the newest weeks into ``cftc.positions`` / ``cftc.fx``; True if a new week appeared."""
    raise NotImplementedError
