"""Calibrating an unpublished AUM to a published flow or position.

Vol-control funds and CTAs do not publish their assets.  Sell-side notes publish *estimates*
("vol-control funds sold USD 30 bn over the two weeks to 2024-08-09", "CTAs' modelled length
in S&P 500 futures is USD 80 bn").  Both engines are linear in AUM (flow = AUM x exposure
change, position = AUM x position fraction), so one published figure fixes the AUM:

    AUM = published USD / model quantity per USD of AUM

:class:`Calibration` records which figure the AUM in force came from, so pages can show it
("AUM USD 310 bn, calibrated to -30 bn over 2024-07-26..2024-08-09, <source>").  Pure.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from flows.errors import InputError


@dataclass(frozen=True)
class Calibration:
    """An AUM and where it came from.

    Attributes
    ----------
    aum_usd:
        The AUM in force, USD.
    method:
        ``"configured"`` (a number set by hand) or what was matched: ``"flow over window"``,
        ``"position on date"``.
    published_usd:
        The published figure matched, USD (NaN for ``configured``).
    model_per_usd:
        The model's quantity per USD of AUM over the same window / on the same date
        (exposure change, position fraction; dimensionless).
    start, end:
        The window (``start`` = ``end`` for a position on one date); None for ``configured``.
    source:
        Who published the figure (free text, shown with the result).
    """

    aum_usd: float
    method: str = "configured"
    published_usd: float = math.nan
    model_per_usd: float = math.nan
    start: str | None = None
    end: str | None = None
    source: str = ""

    def label(self) -> str:
        """One line for people."""
        if self.method == "configured":
            return f"AUM USD {self.aum_usd / 1e9:,.1f} bn (configured{', ' + self.source if self.source else ''})"
        when = self.end if self.start == self.end else f"{self.start}..{self.end}"
        return f"AUM USD {self.aum_usd / 1e9:,.1f} bn, calibrated to USD {self.published_usd / 1e9:+,.1f} bn ({self.method}, {when}{', ' + self.source if self.source else ''})"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["label"] = self.label()
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in out.items()
        }


def configured(aum_usd: float, source: str = "") -> Calibration:
    """A hand-set AUM (USD, > 0)."""
    if not (math.isfinite(aum_usd) and aum_usd > 0):
        raise InputError(
            "calibration", "aum_usd", f"AUM must be a positive number of USD, got {aum_usd!r}"
        )
    return Calibration(aum_usd=float(aum_usd), source=source)


def solve(
    published_usd: float,
    model_per_usd: float,
    *,
    method: str,
    start: pd.Timestamp | str,
    end: pd.Timestamp | str,
    source: str = "",
    min_abs_model: float = 1e-4,
) -> Calibration:
    """``AUM = published_usd / model_per_usd``.

    Raises :class:`InputError` when the model quantity is (nearly) zero (|x| < ``min_abs_model``:
    the window had no model flow, any AUM fits) or has the opposite sign to the published
    figure (the model disagrees on the direction: a negative AUM is not an answer).
    """
    if not math.isfinite(published_usd) or published_usd == 0:
        raise InputError(
            "calibration",
            "published_usd",
            f"published figure must be a non-zero number of USD, got {published_usd!r}",
        )
    if not math.isfinite(model_per_usd) or abs(model_per_usd) < min_abs_model:
        raise InputError(
            "calibration",
            "window",
            f"the model moves by {model_per_usd!r} per USD of AUM over {start}..{end}: too little to calibrate on; pick a window with a clear flow",
        )
    if (published_usd > 0) != (model_per_usd > 0):
        raise InputError(
            "calibration",
            "published_usd",
            f"published USD {published_usd:+,.0f} and the model's direction ({model_per_usd:+.4f} per USD of AUM) disagree over {start}..{end}",
        )

    def fmt(d: pd.Timestamp | str) -> str:
        return str(pd.Timestamp(d).date().isoformat())

    return Calibration(
        aum_usd=published_usd / model_per_usd,
        method=method,
        published_usd=float(published_usd),
        model_per_usd=float(model_per_usd),
        start=fmt(start),
        end=fmt(end),
        source=source,
    )
