"""CBOE quote-table CSV source (interface; implementation follows)."""

from __future__ import annotations

from pathlib import Path

from flows.chain import Chain


def parse(raw: str | bytes, source: str, underlying: str | None = None) -> Chain:
    raise NotImplementedError


def read_file(path: str | Path, underlying: str | None = None) -> Chain:
    raise NotImplementedError


def list_drop_folder(folder: str | Path, underlying: str) -> Path | None:
    raise NotImplementedError
