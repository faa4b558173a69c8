"""Input quality that travels with every result: what a parse skipped or repaired, and why.

Every parser (and every analytic that drops inputs) reports a :class:`Quality`: the rows it
skipped, the share of the *economic weight* those rows carry (open interest for option chains,
assets for leveraged-ETF universes, positions for CFTC reports), the rows it repaired, and
plain-language warnings.  Jobs store it in the result metadata (``ResultMeta.quality``), the CLI
prints it (``quality`` in ``--json``), pages show it next to the figure, the API returns it and
alerts can read ``quality_skipped_share`` / ``quality_warnings`` from the headline.

A result whose skipped share passes a threshold (``[quality] max_skipped_share``, default 1 %)
is refused by :func:`enforce`: a number computed on 80 % of a chain is a wrong number, not a
smaller one.

Skipped share
-------------
``skipped_share = skipped_weight / total_weight`` over the rows whose weight could be read.  A
skipped row whose weight itself is unreadable (open interest "-") cannot be weighed, so the share
is then ``max(weight share, row share)``: a conservative bound that still refuses a file whose
open-interest column was blanked.  With no weight at all (an empty basis) the row share is used.

Pure: dataclasses and numbers, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flows.errors import QualityError

EXAMPLES = 3
"""Skipped rows named per reason (:attr:`Quality.examples`)."""

DEFAULT_MAX_SKIPPED_SHARE = 0.01
"""Default refusal threshold: 1 % of the basis (open interest / AUM / positions)."""


@dataclass
class Quality:
    """What one input lost or had repaired on its way in.

    Attributes
    ----------
    source:
        File, URL or symbol the input came from (named in every message).
    basis:
        What ``*_weight`` measures: ``"open interest"`` (contracts), ``"AUM"`` (USD),
        ``"positions"`` (contracts) or ``"rows"``.
    total_rows, skipped_rows:
        Data rows read, and rows left out of every figure.
    total_weight, skipped_weight:
        The basis summed over all rows whose weight could be read, and over the skipped ones.
    unweighed_reasons:
        Skipped rows whose weight could not be read (see the module docstring), per reason:
        they make the share count rows, so the summary names them first
        (:attr:`unweighed_skipped_rows` is their sum).
    reasons:
        Skipped rows per reason, e.g. ``{"gamma: not a number ('-')": 770}``.
    repaired_rows, repairs:
        Rows kept after a documented repair (a missing greek modelled, a BOM removed), per kind.
    warnings:
        Suspicious but computable findings, one sentence each.
    examples:
        Where the first skipped rows of each reason are (``"TQQQ line 2"``), at most
        :data:`EXAMPLES` per reason: the summary and a refusal name them.
    """

    source: str
    basis: str = "rows"
    total_rows: int = 0
    skipped_rows: int = 0
    total_weight: float = 0.0
    skipped_weight: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)
    unweighed_reasons: dict[str, int] = field(default_factory=dict)
    repaired_rows: int = 0
    repairs: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    examples: dict[str, list[str]] = field(default_factory=dict)

    # -- building ---------------------------------------------------------------------------
    def skip(
        self,
        reason: str,
        rows: int = 1,
        weight: float | None = None,
        where: Iterable[str] = (),
    ) -> None:
        """Record ``rows`` skipped for ``reason`` carrying ``weight`` (None: unreadable);
        ``where`` names them (``"TQQQ line 2"``; the first :data:`EXAMPLES` are kept)."""
        if rows <= 0:
            return
        self.skipped_rows += int(rows)
        self.reasons[reason] = self.reasons.get(reason, 0) + int(rows)
        self._example(reason, where)
        if weight is None or not math.isfinite(float(weight)):
            self.unweighed_reasons[reason] = self.unweighed_reasons.get(reason, 0) + int(rows)
        else:
            self.skipped_weight += abs(float(weight))

    def _example(self, reason: str, where: Iterable[str]) -> None:
        kept = self.examples.get(reason, [])
        for w in where:
            if len(kept) >= EXAMPLES:
                break
            if w not in kept:
                kept.append(w)
        if kept:
            self.examples[reason] = kept

    def repair(self, kind: str, rows: int = 1) -> None:
        """Record ``rows`` kept after a documented repair of kind ``kind``."""
        if rows <= 0:
            return
        self.repaired_rows += int(rows)
        self.repairs[kind] = self.repairs.get(kind, 0) + int(rows)

    def warn(self, message: str) -> None:
        """Add a warning (kept once)."""
        if message not in self.warnings:
            self.warnings.append(message)

    def merge(self, other: Quality) -> Quality:
        """A new Quality adding ``other`` to this one (same basis expected; sources joined)."""
        out = Quality(
            source=_join_sources(self.source, other.source),
            basis=self.basis if self.basis == other.basis else f"{self.basis} / {other.basis}",
            total_rows=self.total_rows + other.total_rows,
            skipped_rows=self.skipped_rows + other.skipped_rows,
            total_weight=self.total_weight + other.total_weight,
            skipped_weight=self.skipped_weight + other.skipped_weight,
            reasons=dict(self.reasons),
            unweighed_reasons=dict(self.unweighed_reasons),
            repaired_rows=self.repaired_rows + other.repaired_rows,
            repairs=dict(self.repairs),
            warnings=list(self.warnings),
        )
        for k, v in other.reasons.items():
            out.reasons[k] = out.reasons.get(k, 0) + v
        for k, v in other.unweighed_reasons.items():
            out.unweighed_reasons[k] = out.unweighed_reasons.get(k, 0) + v
        for k, where in (*self.examples.items(), *other.examples.items()):
            out._example(k, where)
        for k, v in other.repairs.items():
            out.repairs[k] = out.repairs.get(k, 0) + v
        for w in other.warnings:
            out.warn(w)
        return out

    # -- reading ----------------------------------------------------------------------------
    @property
    def row_share(self) -> float:
        """Skipped rows / rows read (0 when nothing was read)."""
        return self.skipped_rows / self.total_rows if self.total_rows else 0.0

    @property
    def unweighed_skipped_rows(self) -> int:
        """Skipped rows whose weight could not be read (the sum of :attr:`unweighed_reasons`)."""
        return sum(self.unweighed_reasons.values())

    @property
    def skipped_share(self) -> float:
        """Share of the basis left out, 0-1 (see the module docstring for unweighed rows)."""
        weight_share = self.skipped_weight / self.total_weight if self.total_weight > 0 else None
        if weight_share is None:
            return self.row_share
        if self.unweighed_skipped_rows:
            return max(weight_share, self.row_share)
        return weight_share

    @property
    def counted_by_rows(self) -> bool:
        """The skipped share is the share of rows (:attr:`skipped_share`): skipped rows whose
        weight could not be read bound it, or no weight was read at all."""
        if self.basis == "rows" or not self.skipped_rows:
            return False
        if self.total_weight <= 0:
            return True
        return bool(self.unweighed_skipped_rows) and self.row_share >= (
            self.skipped_weight / self.total_weight
        )

    def share_text(self) -> str:
        """The skipped share in words: ``0.50 % of open interest``, or ``16.67 % of rows`` when
        rows decide it (:attr:`counted_by_rows`): never a row count presented as a share of
        the basis."""
        return (
            f"{self.skipped_share * 100:.2f} % of {'rows' if self.counted_by_rows else self.basis}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the ``quality`` object of the CLI, the API and the result metadata)."""
        return {
            "source": self.source,
            "basis": self.basis,
            "total_rows": int(self.total_rows),
            "skipped_rows": int(self.skipped_rows),
            "skipped_share": float(self.skipped_share),
            "share_text": self.share_text(),
            "total_weight": float(self.total_weight),
            "skipped_weight": float(self.skipped_weight),
            "reasons": dict(self.reasons),
            "unweighed_reasons": dict(self.unweighed_reasons),
            "repaired_rows": int(self.repaired_rows),
            "repairs": dict(self.repairs),
            "warnings": list(self.warnings),
            "examples": {k: list(v) for k, v in self.examples.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Quality:
        """Inverse of :meth:`to_dict` (derived fields are recomputed, not read)."""
        unweighed = {str(k): int(v) for k, v in dict(data.get("unweighed_reasons", {})).items()}
        return cls(
            source=str(data.get("source", "")),
            basis=str(data.get("basis", "rows")),
            total_rows=int(data.get("total_rows", 0)),
            skipped_rows=int(data.get("skipped_rows", 0)),
            total_weight=float(data.get("total_weight", 0.0)),
            skipped_weight=float(data.get("skipped_weight", 0.0)),
            reasons=dict(data.get("reasons", {})),
            unweighed_reasons=unweighed,
            repaired_rows=int(data.get("repaired_rows", 0)),
            repairs=dict(data.get("repairs", {})),
            warnings=list(data.get("warnings", [])),
            examples={str(k): list(v) for k, v in dict(data.get("examples", {})).items()},
        )

    def headline(self) -> dict[str, float | int]:
        """The two figures alerts can use: ``quality_skipped_share`` (0-1), ``quality_warnings``."""
        return {
            "quality_skipped_share": float(self.skipped_share),
            "quality_warnings": len(self.warnings),
        }

    def summary(self) -> str:
        """One line for people: ``12 rows skipped (0.3 % of open interest): ...; 1 warning``."""
        parts = []
        if self.skipped_rows:
            # "assets not readable (1 row: TQQQ line 2 reads 'NaN')": the reason first, so a
            # count never reads as part of it ("1 assets not readable")
            # the reasons of rows without a readable weight first when they make the share
            # count rows (a refusal over one unreadable cell names that cell), then by count
            by_rows = self.counted_by_rows
            order = sorted(
                self.reasons.items(),
                key=lambda kv: (not (by_rows and kv[0] in self.unweighed_reasons), -kv[1]),
            )
            why = ", ".join(
                f"{r} ({n} row{'' if n == 1 else 's'}"
                + (f": {', '.join(self.examples[r])})" if self.examples.get(r) else ")")
                for r, n in order[:3]
            )
            if len(order) > 3:
                more = len(order) - 3
                why += f" and {more} more reason{'' if more == 1 else 's'}"
            unread = self.unweighed_skipped_rows or self.skipped_rows
            share = (
                f"counted by rows: {unread} without a readable {self.basis}"
                if self.counted_by_rows
                else self.share_text()
            )
            parts.append(f"{self.skipped_rows} of {self.total_rows} rows skipped ({share}): {why}")
        else:
            parts.append(f"{self.total_rows} rows, none skipped")
        if self.repaired_rows:
            # "repairs", not rows: a parser may repair several cells of one row (the quote
            # table's IV, delta and gamma of one side), and "1176 repaired" beside "720 rows" read
            # as more rows repaired than the file holds
            n = self.repaired_rows
            parts.append(
                f"{n} repair{'' if n == 1 else 's'}: "
                + ", ".join(f"{k} ({m})" for k, m in self.repairs.items())
            )
        if self.warnings:
            parts.append(f"{len(self.warnings)} warning(s): " + " | ".join(self.warnings))
        return "; ".join(parts)


def enforce(quality: Quality, max_skipped_share: float = DEFAULT_MAX_SKIPPED_SHARE) -> Quality:
    """Return ``quality`` unchanged, or raise :class:`QualityError` when its skipped share
    exceeds ``max_skipped_share`` (a fraction, 0.01 = 1 %)."""
    if quality.skipped_share > max_skipped_share + 1e-12:
        raise QualityError(quality, max_skipped_share)
    return quality


def _join_sources(a: str, b: str) -> str:
    """``a`` and ``b`` joined with ``"; "``, each source named once (a merge of several files'
    qualities used to name each file once per table read from it)."""
    seen: list[str] = []
    for part in (*a.split("; "), *b.split("; ")):
        names = part.split(", ")
        if part and not all(n in seen for n in names):
            seen += [n for n in names if n not in seen]
    return "; ".join(seen)


def combine(qualities: Iterable[Quality]) -> Quality | None:
    """Merge several inputs' qualities (None for none)."""
    out: Quality | None = None
    for q in qualities:
        out = q if out is None else out.merge(q)
    return out
