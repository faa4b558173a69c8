"""The import contracts of docs/architecture.md (pyproject.toml) keep up with the code.

``lint-imports`` (run by ``scripts/test``) checks the contracts; this test checks that they still
name every module they are about, so that a new analytics module cannot slip past them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _contracts() -> dict[str, dict]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    return {c["name"].split(":")[0]: c for c in data["tool"]["importlinter"]["contracts"]}


def test_every_analytics_module_is_held_pure() -> None:
    listed = set(_contracts()["analytics are pure"]["source_modules"])
    on_disk = {f"flows.{p.stem}" for p in (REPO / "flows").glob("*.py") if p.stem != "__init__"}
    assert listed == on_disk, (
        f"add to or remove from the contract in pyproject.toml: {sorted(listed ^ on_disk)}"
    )


def test_every_engine_is_kept_out_of_the_dashboard() -> None:
    forbidden = set(_contracts()["the dashboard only draws"]["forbidden_modules"])
    shared = {
        "flows.calendars",
        "flows.errors",
        "flows.formatting",
        "flows.limits",
        "flows.money",
        "flows.products",
        "flows.quality",
        "flows.schema",
        "flows.units",
    }
    engines = {
        f"flows.{p.stem}" for p in (REPO / "flows").glob("*.py") if p.stem != "__init__"
    } - shared
    assert engines <= forbidden, (
        f"an engine the dashboard may import: {sorted(engines - forbidden)}"
    )


def test_every_jobs_part_has_a_layer() -> None:
    layers = " ".join(_contracts()["layers"]["layers"]).replace("|", " ").replace(":", " ").split()
    parts = {
        f"jobs.{p.stem}"
        for p in (REPO / "jobs").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__")
        or (p.is_dir() and (p / "__init__.py").exists())
    }
    assert parts <= set(layers), f"a part of jobs/ without a layer: {sorted(parts - set(layers))}"
