"""Run the benchmarks and render ``docs/benchmarks.md`` from their records (``scripts/bench``).

``python -m bench [--quick] [NAME ...]`` runs every ``bench/bench_*.py`` (or only the NAMEs, with
or without the ``bench_`` prefix), each in its own process (``python -m bench.<stem>``), each
writing its records to ``bench/results/<stem>.json``; then renders **every** file in
``bench/results/`` (also those written by benchmarks not run this time, or by scripts outside this
runner that follow the convention) into ``docs/benchmarks.md``: grouped by area, each figure with
its unit, baseline and ratio, its target and whether it is met, the machine (CPU model, cores,
load average), date and commit of the run that produced it.  ``--render`` only renders.

A record (the shared convention, issue 17): ``{"benchmark", "figure", "unit", "target",
"baseline", "baseline_figure", "ratio", "notes"}``, optionally ``area``, ``met``, ``machine``
(``cpu``, ``cores``, ``load_average``), ``date`` and ``commit``.  A record without ``met`` is
graded from its target text (:func:`bench.harness.target_met`); one without ``area`` is grouped
under its file's stem; one without machine, date or commit says "not recorded".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.harness import RESULTS, ROOT, commit, machine, target_met

DOC = ROOT / "docs" / "benchmarks.md"
NOT_RECORDED = "not recorded"


def stems() -> list[str]:
    """Every benchmark script's stem, sorted."""
    return sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))


def select(names: list[str]) -> list[str]:
    """The stems named (``gamma`` or ``bench_gamma``); an unknown name is a usage error."""
    known = stems()
    if not names:
        return known
    out = []
    for n in names:
        stem = n if n.startswith("bench_") else f"bench_{n}"
        stem = stem.removesuffix(".py")
        if stem not in known:
            raise SystemExit(
                f"scripts/bench: no benchmark {n!r} (known: {', '.join(s.removeprefix('bench_') for s in known)})"
            )
        out.append(stem)
    return out


def run(stem: str, quick: bool) -> tuple[bool, float, str]:
    """Run one benchmark in its own process; (ok, seconds, last lines of its output)."""
    env = dict(os.environ)
    beside = ROOT.parent / "shared" / "data"
    if "FLOWDESK_SHARED_DATA" not in env and beside.is_dir():
        env["FLOWDESK_SHARED_DATA"] = str(beside)
    env["PYTHONPATH"] = os.pathsep.join(x for x in (str(ROOT), env.get("PYTHONPATH", "")) if x)
    argv = [sys.executable, "-m", f"bench.{stem}", *(["--quick"] if quick else [])]
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-6:])
    return proc.returncode == 0, time.perf_counter() - t0, tail


def stamp(path: Path) -> None:
    """Give the records of ``path`` that a script wrote without them the machine, date and
    commit of the run that just wrote it (the scripts that keep plain records), so that no
    section of ``docs/benchmarks.md`` says "run: not recorded" after a run."""
    if not path.exists():
        return
    records = json.loads(path.read_text())
    if not isinstance(records, list) or all(r.get("date") for r in records):
        return
    m = machine()
    here = {k: m[k] for k in ("cpu", "cores", "load_average", "python", "libraries")}
    for r in records:
        if not r.get("date"):
            r.update(machine=here, date=m["date"], commit=m["commit"])
    path.write_text(json.dumps(records, indent=1) + "\n")


# -- rendering ----------------------------------------------------------------------------------
def load_records(folder: Path = RESULTS) -> list[dict[str, Any]]:
    """Every record of every ``*.json`` file in ``folder``, each with ``_file`` (its stem).  A file
    that is not a JSON list of objects is reported as one record saying so (never skipped
    silently)."""
    out: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
                raise ValueError("not a JSON list of records")
        except (OSError, ValueError) as exc:
            out.append(
                {
                    "_file": path.stem,
                    "benchmark": f"{path.name}: unreadable ({exc})",
                    "figure": None,
                    "unit": "",
                }
            )
            continue
        for rec in data:
            out.append({**rec, "_file": path.stem})
    return out


def _num(x: Any) -> str:
    if x is None:
        return ""
    if not isinstance(x, int | float):
        return str(x)
    ax = abs(x)
    if ax >= 100:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:,.1f}"
    if ax >= 1:
        return f"{x:,.2f}"
    return f"{x:.3g}"


def _cell(text: Any) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def graded(rec: dict[str, Any]) -> bool | None:
    """Whether the record meets its target (its ``met``, else from the target's text)."""
    if rec.get("met") is not None:
        return bool(rec["met"])
    if not rec.get("target") or rec.get("figure") is None:
        return None
    return target_met(
        str(rec["target"]), float(rec["figure"]), str(rec.get("unit", "")), rec.get("ratio")
    )


def _run_of(rec: dict[str, Any]) -> str:
    m = rec.get("machine") or {}
    if not m and not rec.get("date"):
        return NOT_RECORDED
    load = m.get("load_average")
    cpu = f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores" if m else "machine not recorded"
    return (
        f"{rec.get('date') or 'date not recorded'}, {rec.get('commit') or 'commit not recorded'}; {cpu}"
        + (f", load {load}" if load is not None else "")
    )


def render(records: list[dict[str, Any]], *, now: dict[str, Any] | None = None) -> str:
    """``docs/benchmarks.md`` from ``records``."""
    now = now or machine()
    by_area: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        by_area[rec.get("area") or rec["_file"]].append(rec)
    grades = [(rec, graded(rec)) for rec in records]
    targeted = [(r, g) for r, g in grades if g is not None]
    missed = [r for r, g in targeted if g is False]
    ungraded = [r for r, g in grades if g is None and r.get("target")]
    lines = [
        "# Benchmarks",
        "",
        "Generated by `scripts/bench` (`python -m bench`) from the records in `bench/results/`; do not",
        "edit by hand: run `scripts/bench [--quick] [NAME ...]` and commit the result.  Every figure",
        "names its baseline, measured in the same run, and its ratio to it; the machine, date and commit",
        "of the run that produced it are beside it.  On a shared machine wall times move with the load",
        "average: read the ratio to the baseline (measured under the same load) first.",
        "",
        "How times are taken (`bench/harness.py`): a subject and its baseline run interleaved, each",
        "call after a `gc.collect()` that frees the previous call's garbage (the heap alive before",
        "timing is frozen, so the collect does not walk every imported object and leave the CPU",
        "caches cold); a figure is the median, a ratio is the ratio of the two medians, and the note",
        "gives the quartiles of the per-pair ratios.  The parsers are timed each in a fresh process.",
        "",
        f"Rendered {now['date']} at commit {now['commit']} on {now['cpu']} ({now['cores']} cores, load average {now['load_average']}); "
        f"{len(records)} figures from {len({r['_file'] for r in records})} files.",
        "",
        f"**Targets: {len(targeted) - len(missed)} of {len(targeted)} met.**"
        + (" Missed:" if missed else ""),
        "",
    ]
    for rec in missed:
        lines.append(
            f"- {rec.get('area') or rec['_file']}: {rec['benchmark']}: {_num(rec.get('figure'))} {rec.get('unit', '')} (target {rec['target']}"
            + (f", ratio {_num(rec.get('ratio'))}" if rec.get("ratio") is not None else "")
            + ")"
        )
    if missed:
        lines.append("")
    if ungraded:  # a target the grader cannot read is said, never left out of the count
        lines += [f"**Targets not graded ({len(ungraded)}):**", ""]
        lines += [
            f"- {rec.get('area') or rec['_file']}: {rec['benchmark']}: {_num(rec.get('figure'))} {rec.get('unit', '')} (target {rec['target']})"
            for rec in ungraded
        ]
        lines.append("")
    for area in sorted(by_area):
        recs = by_area[area]
        files = sorted({r["_file"] for r in recs})
        lines += [
            f"## {area}",
            "",
            "From " + ", ".join(f"`bench/results/{f}.json`" for f in files) + ".",
            "",
        ]
        runs = sorted({_run_of(r) for r in recs})
        for run_text in runs:
            lines.append(f"- run: {run_text}")
        lines += [
            "",
            "| benchmark | figure | baseline (same run) | ratio | target | met | notes |",
            "| --- | ---: | --- | ---: | --- | --- | --- |",
        ]
        for rec in recs:
            g = graded(rec)
            met = "" if g is None else ("yes" if g else "**no**")
            base = ""
            if rec.get("baseline"):
                base = (
                    f"{_cell(rec['baseline'])}: {_num(rec.get('baseline_figure'))} {_cell(rec.get('unit', ''))}"
                    if rec.get("baseline_figure") is not None
                    else _cell(rec["baseline"])
                )
            figure = f"{_num(rec.get('figure'))} {_cell(rec.get('unit', ''))}".strip()
            notes = _cell(rec.get("notes") or "")
            if len(runs) > 1:
                notes = (notes + "; " if notes else "") + f"run {_run_of(rec)}"
            lines.append(
                f"| {_cell(rec['benchmark'])} | {figure} | {base} | {_num(rec.get('ratio'))} | {_cell(rec.get('target') or '')} | {met} | {notes} |"
            )
        run_notes = sorted({n for r in recs for n in r.get("run_notes", [])})
        if run_notes:
            lines += [""] + [f"Note: {n}" for n in run_notes]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Run the benchmarks in bench/ and render docs/benchmarks.md.",
    )
    ap.add_argument(
        "names", nargs="*", help="benchmarks to run (gamma, parsers, ...; default: all)"
    )
    ap.add_argument("--quick", action="store_true", help="short runs (fewer repeats)")
    ap.add_argument(
        "--render", action="store_true", help="only render docs/benchmarks.md from bench/results/"
    )
    ap.add_argument("--list", action="store_true", help="list the benchmarks")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(s.removeprefix("bench_") for s in stems()))
        return 0
    failed = []
    if not args.render:
        for stem in select(args.names):
            print(f"{stem} ...", flush=True)
            ok, secs, tail = run(stem, args.quick)
            print(f"  {'ok' if ok else 'FAILED'} in {secs:.0f} s")
            if ok:
                stamp(RESULTS / f"{stem}.json")
            if not ok:
                failed.append(stem)
                print("  " + tail.replace("\n", "\n  "))
    DOC.write_text(render(load_records()))
    print(f"wrote {DOC.relative_to(ROOT)} (commit {commit()})")
    if failed:
        print(f"failed: {', '.join(failed)} (their previous records, if any, are rendered)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
