"""Test helpers around :mod:`jobs.declarations`: every publish in the suite is declared.

``declared(decl, ...)`` registers declarations for the duration of a ``with`` block (the store's
own tests publish toy results); ``tables_for(name, **frames)`` is a publish of a declared result
with only the tables a test cares about filled, the others empty but typed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd

from jobs import declarations as d


@contextmanager
def declared(*decls: d.ResultDecl) -> Iterator[None]:
    """Register ``decls`` (as :func:`jobs.declarations.declare` does) until the block ends."""
    d.declarations()  # load the real ones first, so that they are not shadowed
    for decl in decls:
        d.declare(decl)
    try:
        yield
    finally:
        for decl in decls:
            d._REGISTRY.pop(decl.name, None)


def tables_for(name: str, **frames: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every required table of declared result ``name``, empty and typed, with ``frames``
    (table name -> frame) in their place; the main (first) table stays first."""
    out = d.empty_tables(name)
    out.update(frames)
    return out
