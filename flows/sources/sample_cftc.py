"""Sample-mode CFTC and ECB data: generated, deterministic, in the real files' layouts.

The generator writes text in exactly the layouts of the real files (legacy ``annual.txt``,
TFF ``FinFutYY.txt``, ECB ``eurofxref-hist.csv``), so sample data goes through the real parsers
of :mod:`flows.sources.cftc_files` and :mod:`flows.sources.ecb`.  Everything published from it
is labelled SAMPLE downstream.
"""

from __future__ import annotations

import pandas as pd


def report_dates(start: str | pd.Timestamp, end: str | pd.Timestamp) -> pd.DatetimeIndex:
    """Tuesdays from ``start`` to ``end`` (inclusive), the sample's report dates."""
    raise NotImplementedError


def legacy_text(seed: int, end: str | pd.Timestamp, years: int = 6) -> str:
    """Legacy futures-only text (real 129-column header, padded numbers, CRLF) for the 11
    flowdesk contracts, weekly Tuesdays over ``years`` years ending on or before ``end``."""
    raise NotImplementedError


def tff_text(seed: int, end: str | pd.Timestamp, years: int = 6) -> str:
    """TFF futures-only text (real 87-column header) for the same contracts and weeks."""
    raise NotImplementedError


def ecb_hist_csv(seed: int, end: str | pd.Timestamp, years: int = 6) -> str:
    """ECB ``eurofxref-hist.csv``-layout text (newest first, trailing commas), units per EUR."""
    raise NotImplementedError
