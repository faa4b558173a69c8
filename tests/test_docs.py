"""Generated reference documents equal their rendering (scripts/render-docs)."""

from __future__ import annotations

import importlib.util
from importlib.machinery import SourceFileLoader
from pathlib import Path

from flows.limits import LIMITS, plain_number

ROOT = Path(__file__).resolve().parent.parent


def _render_docs():
    loader = SourceFileLoader("render_docs", str(ROOT / "scripts" / "render-docs"))
    spec = importlib.util.spec_from_loader("render_docs", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_limits_doc_is_the_rendering_of_the_table() -> None:
    render = _render_docs()
    committed = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    assert committed == render.limits_markdown(), "docs/limits.md is stale: run scripts/render-docs"
    # every limit is in the document, with its range
    for lim in LIMITS.values():
        row = next(line for line in committed.splitlines() if line.startswith(f"| `{lim.key}` |"))
        assert lim.unit in row
        if lim.high is not None:
            assert f"| {plain_number(lim.high)} |" in row  # every digit, no exponent
    assert render.main(["--check"]) == 0
