"""What every benchmark shares: figures with their baseline, timing, the machine, the data folder.

Every bench script (``bench/bench_*.py``) run as a program writes its figures as records to
``bench/results/<script stem>.json`` (:func:`write_results`; the shared convention: a JSON list of
``{"benchmark", "figure", "unit", "target", "baseline", "baseline_figure", "ratio", "notes"}``
plus ``area``, ``met``, ``machine``, ``date`` and ``commit``); ``scripts/bench`` runs them (all or
a named subset, ``--quick`` for short runs) and renders every file in ``bench/results/`` into
``docs/benchmarks.md`` (:mod:`bench.__main__`).  Every figure
names its **baseline** (the plainest way to do the same work, measured in the same run, e.g. a
plain ``pandas.read_csv`` of the same file for a parser) and its ratio to it, so a figure keeps
its meaning on another machine or under another load.

Timing: :func:`compare` runs the subject and its baseline **interleaved** (subject, baseline,
subject, ...) so that both see the same load on a shared machine, and reports medians of the wall
time and of the process CPU time.  Wall time is the figure (pyarrow's CSV reader uses threads:
its CPU time can exceed its wall time); the CPU time is kept in the note.  The quartiles of
the per-pair ratios (subject ÷ the baseline run beside it) go in the note too, so a reader sees
how far one run's ratio can move.

Isolation: a benchmark of many small figures (the parsers) can run each figure in a fresh
process (:func:`standalone` with ``isolate=True``; pyperf's practice), because a 1-5 ms figure
moved by 10-20 % with what ran before it in the same process (the heap other parsers left).
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = ROOT / "tests" / "data"


@dataclass
class Figure:
    """One measured figure.

    ``value`` in ``unit``; ``baseline`` says what it is compared with and ``baseline_value`` is
    that baseline measured in the same run and unit (None: no baseline for this figure, the
    benchmark's other figures carry one).  ``ratio = value / baseline_value``; ``higher_is_better``
    for rates (req/s).  ``target`` is the goal in words (``ratio <= 1.0``, ``< 250 ms``) and
    ``met`` whether this run meets it (None: no target).
    """

    name: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    target: str | None = None
    met: bool | None = None
    note: str = ""
    higher_is_better: bool = False

    @property
    def ratio(self) -> float | None:
        if self.baseline_value is None or not self.baseline_value:
            return None
        return self.value / self.baseline_value

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ratio"] = self.ratio
        return out

    def to_record(self) -> dict[str, Any]:
        """The shared record (``bench/results/*.json``): benchmark, figure, unit, target,
        baseline, baseline_figure, ratio, notes, met, higher_is_better."""
        ratio = self.ratio
        return {
            "benchmark": self.name,
            "figure": round(self.value, 6),
            "unit": self.unit,
            "target": self.target,
            "baseline": self.baseline,
            "baseline_figure": None
            if self.baseline_value is None
            else round(self.baseline_value, 6),
            "ratio": None if ratio is None else round(ratio, 4),
            "notes": self.note,
            "met": self.met,
            "higher_is_better": self.higher_is_better,
        }


@dataclass
class Timing:
    """Medians over runs: wall and CPU time of this process, seconds; ``runs`` timed runs;
    ``pair_quartiles``: (q1, q3) of the per-pair ratios when timed against a baseline."""

    wall: float
    cpu: float
    best: float
    runs: int
    pair_quartiles: tuple[float, float] | None = None

    @property
    def ms(self) -> float:
        return self.wall * 1e3


@dataclass
class Context:
    """What a benchmark is given: where the data is, how many repeats, and notes it adds."""

    data: Path
    full_data: bool
    quick: bool = False
    notes: list[str] = field(default_factory=list)
    only: str | None = None
    exact: bool = False
    plan: list[str] | None = None

    def wants(self, name: str) -> bool:
        """Whether the figure ``name`` is to be measured (``--only`` substring, case-insensitive;
        the whole name when ``exact``).  While ``plan`` is a list, nothing is measured: the
        names asked about are collected (what an isolated run will measure, one by one)."""
        if self.plan is not None:
            if name not in self.plan:
                self.plan.append(name)
            return False
        if self.only is None:
            return True
        return name == self.only if self.exact else self.only.lower() in name.lower()

    def runs(self, normal: int) -> int:
        """``normal`` repeats, or a third of them (at least 3) with ``--quick``."""
        return max(3, normal // 3) if self.quick else normal

    def path(self, shared: str, fallback: str | None = None) -> Path | None:
        """``shared`` under the full data folder, else ``fallback`` under ``tests/data`` (a note
        says so), else None."""
        if self.full_data and (self.data / shared).exists():
            return self.data / shared
        if fallback is not None and (TEST_DATA / fallback).exists():
            self.note(
                f"{shared}: the full file is absent, measured on tests/data/{fallback} (trimmed)"
            )
            return TEST_DATA / fallback
        return None

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def context(quick: bool = False) -> Context:
    """The data folder: ``FLOWDESK_SHARED_DATA``, else ``../shared/data`` beside the clone; when
    neither exists the benchmarks fall back to the trimmed copies in ``tests/data`` (noted)."""
    env = os.environ.get("FLOWDESK_SHARED_DATA")
    shared = Path(env) if env else ROOT.parent / "shared" / "data"
    if shared.is_dir():
        return Context(data=shared, full_data=True, quick=quick)
    ctx = Context(data=TEST_DATA, full_data=False, quick=quick)
    ctx.note(
        f"no full data folder ({shared}; set FLOWDESK_SHARED_DATA): figures on the trimmed files in tests/data"
    )
    return ctx


@contextmanager
def frozen_heap() -> Iterator[None]:
    """While timing: the objects alive now (modules, the data read) are out of the collector's
    reach (:func:`gc.freeze`), so the ``gc.collect()`` before each timed call frees what the
    previous call left without walking the whole heap.

    Before, each collect walked every object of pandas' and flowdesk's imports (about 35 ms
    here) just before the timed call: that evicted the CPU caches, so a 1-5 ms call was timed
    cache-cold (each numpy or pandas call 5-250 µs), and the benches spent most of their time
    collecting.  Every call is still timed after a collect, with no garbage of the previous
    one."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def timed(fn: Callable[[], object], runs: int, warmup: int = 1) -> tuple[Timing, object]:
    """Median wall and CPU time of ``runs`` calls of ``fn`` (after ``warmup`` untimed calls)."""
    out = None
    for _ in range(warmup):
        out = fn()
    walls, cpus = [], []
    with frozen_heap():
        for _ in range(runs):
            gc.collect()
            w, c = time.perf_counter(), time.process_time()
            out = fn()
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
    return Timing(statistics.median(walls), statistics.median(cpus), min(walls), runs), out


def compare(
    subject: Callable[[], object],
    baseline: Callable[[], object],
    runs: int,
    warmup: int = 1,
    *,
    min_seconds: float = 0.0,
    max_runs: int | None = None,
) -> tuple[Timing, Timing]:
    """Time ``subject`` and ``baseline`` interleaved (same load for both); medians of each.

    At least ``runs`` pairs, and more until the subject's timed calls add up to ``min_seconds``
    (at most ``max_runs`` pairs, default 20 x ``runs``): a 1 ms call timed 21 times moved by
    +-0.15 in ratio from run to run.  The subject's Timing carries the quartiles of the
    per-pair ratios."""
    for _ in range(warmup):
        subject()
        baseline()
    cap = max_runs if max_runs is not None else 20 * runs
    sw, sc, bw, bc = [], [], [], []
    with frozen_heap():
        while len(sw) < runs or (sum(sw) < min_seconds and len(sw) < cap):
            for fn, walls, cpus in ((subject, sw, sc), (baseline, bw, bc)):
                gc.collect()
                w, c = time.perf_counter(), time.process_time()
                fn()
                walls.append(time.perf_counter() - w)
                cpus.append(time.process_time() - c)
    pairs = [s / b for s, b in zip(sw, bw, strict=True) if b > 0]
    quartiles = None
    if len(pairs) >= 4:
        q = statistics.quantiles(pairs, n=4)
        quartiles = (q[0], q[2])
    n = len(sw)
    return (
        Timing(statistics.median(sw), statistics.median(sc), min(sw), n, quartiles),
        Timing(statistics.median(bw), statistics.median(bc), min(bw), n),
    )


def ratio_figure(
    name: str,
    subject: Timing,
    baseline: Timing,
    baseline_name: str,
    *,
    target_ratio: float | None = None,
    note: str = "",
) -> Figure:
    """A time figure (ms) with its baseline; ``target_ratio`` makes ``ratio <= x`` the target."""
    ratio = subject.wall / baseline.wall if baseline.wall else None
    cpu = f"CPU {subject.cpu * 1e3:.1f} ms vs {baseline.cpu * 1e3:.1f} ms"
    if subject.pair_quartiles is not None:
        q1, q3 = subject.pair_quartiles
        cpu += f"; {subject.runs} pairs, per-pair ratio quartiles {q1:.2f}-{q3:.2f}"
    return Figure(
        name=name,
        value=subject.ms,
        unit="ms",
        baseline=baseline_name,
        baseline_value=baseline.ms,
        target=f"ratio <= {target_ratio:g}" if target_ratio is not None else None,
        met=(ratio is not None and ratio <= target_ratio) if target_ratio is not None else None,
        note="; ".join(x for x in (cpu, note) if x),
    )


def time_figure(
    name: str,
    t: Timing,
    *,
    target_ms: float | None = None,
    baseline: str | None = None,
    baseline_t: Timing | None = None,
    note: str = "",
) -> Figure:
    """A time figure (ms), optionally with a target in ms and a baseline."""
    return Figure(
        name=name,
        value=t.ms,
        unit="ms",
        baseline=baseline,
        baseline_value=baseline_t.ms if baseline_t is not None else None,
        target=f"< {target_ms:g} ms" if target_ms is not None else None,
        met=(t.ms < target_ms) if target_ms is not None else None,
        note="; ".join(x for x in (f"CPU {t.cpu * 1e3:.1f} ms", note) if x),
    )


# -- the machine and the tree ---------------------------------------------------------------------
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
"""A quiet headless Chromium: no background traffic that would land in a timed page load."""


def headless_chromium(
    width: int = 1400, height: int = 1000, *, performance_log: bool = False
) -> Any:
    """A new headless Chromium (selenium webdriver) of ``width`` x ``height`` px, the system's
    ``/usr/bin/chromium``; ``performance_log`` records the DevTools network events
    (``driver.get_log("performance")``).  The caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    opts = Options()
    for flag in (*CHROMIUM_FLAGS, f"--window-size={width},{height}"):
        opts.add_argument(flag)
    opts.binary_location = "/usr/bin/chromium"
    if performance_log:
        opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(options=opts)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def commit() -> str:
    """Short commit of the tree, ``+ uncommitted changes`` when the work tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        # the records and their rendering are written by the runs themselves: not a change of the code measured
        dirty = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":(exclude)bench/results",
                ":(exclude)docs/benchmarks.md",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} + uncommitted changes" if dirty else head


def machine() -> dict[str, Any]:
    """CPU model, cores, load average now, Python, date (UTC) and commit."""
    import numpy
    import pandas
    import pyarrow

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "libraries": f"pandas {pandas.__version__}, numpy {numpy.__version__}, pyarrow {pyarrow.__version__}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(),
    }


def print_figures(figs: list[Figure]) -> None:
    """A plain-text table of figures (each module's ``python -m bench.<module>``)."""
    for f in figs:
        base = ""
        if f.baseline_value is not None:
            base = (
                f"  baseline {f.baseline_value:,.2f} {f.unit} ({f.baseline})  ratio {f.ratio:.2f}"
            )
        tgt = f"  target {f.target}: {'met' if f.met else 'NOT MET'}" if f.target else ""
        print(f"{f.name:<72} {f.value:>12,.2f} {f.unit}{base}{tgt}")
        if f.note:
            print(f"    {f.note}")


RESULTS = ROOT / "bench" / "results"
"""Where every bench script writes its records (one JSON file per script stem)."""


def value_figure(
    name: str,
    value: float,
    unit: str,
    *,
    target: str | None = None,
    met: bool | None = None,
    baseline: str | None = None,
    baseline_value: float | None = None,
    note: str = "",
    higher_is_better: bool = False,
) -> Figure:
    """A figure in any unit (s, MB, req/s, events/s, ...).  ``met`` is computed from ``target``
    (``< 1.5 s``, ``<= 300 MB``, ``>= 100 req/s``, ``ratio <= 1``) when not given."""
    fig = Figure(
        name=name,
        value=value,
        unit=unit,
        baseline=baseline,
        baseline_value=baseline_value,
        target=target,
        met=met,
        note=note,
        higher_is_better=higher_is_better,
    )
    if fig.met is None and target is not None:
        fig.met = target_met(target, value, unit, fig.ratio)
    return fig


_TARGET = None


def target_met(target: str, value: float, unit: str, ratio: float | None) -> bool | None:
    """Whether ``value`` (or ``ratio`` for a ``ratio ...`` target) meets ``target``: ``<``,
    ``<=``, ``>``, ``>=`` and a number, optionally its unit (``ms``/``s`` convert into each
    other); a number without an operator is a ceiling (``0 bytes``: at most 0).  None when the
    text is not of that form (:func:`bench.__main__.render` lists such targets as not graded)."""
    import re

    global _TARGET
    if _TARGET is None:
        _TARGET = re.compile(
            r"^\s*(ratio\s*)?(<=|<|>=|>)?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*(\S.*)?$"
        )
    m = _TARGET.match(target)
    if m is None:
        return None
    is_ratio, op, number, tunit = (
        m.group(1),
        m.group(2) or "<=",
        float(m.group(3).replace(",", "")),
        (m.group(4) or "").strip(),
    )
    x = ratio if is_ratio else value
    if x is None:
        return None
    if not is_ratio and tunit and tunit != unit:
        scale = {("ms", "s"): 1e-3, ("s", "ms"): 1e3}.get((unit, tunit))
        if scale is None:
            return None
        x = x * scale
    return {"<": x < number, "<=": x <= number, ">": x > number, ">=": x >= number}[op]


def write_results(
    stem: str, figs: list[Figure], *, area: str, notes: list[str] | None = None, quick: bool = False
) -> Path:
    """Write ``figs`` as records to ``bench/results/<stem>.json`` with ``area`` (the heading they
    are grouped under in ``docs/benchmarks.md``), the machine (CPU model, cores, load average),
    the date and the commit of this run, and the run's ``notes``."""
    import json

    m = machine()
    stamp = {
        "area": area,
        "machine": {k: m[k] for k in ("cpu", "cores", "load_average", "python", "libraries")},
        "date": m["date"],
        "commit": m["commit"],
        "quick": quick,
    }
    records = []
    for f in figs:
        rec = f.to_record()
        if rec["met"] is None and rec["target"]:
            rec["met"] = target_met(rec["target"], rec["figure"], rec["unit"], rec["ratio"])
        rec.update(stamp)
        records.append(rec)
    if notes:
        for rec in records:
            rec["run_notes"] = list(notes)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{stem}.json"
    path.write_text(json.dumps(records, indent=1) + "\n")
    return path


def quick_arg(argv: list[str] | None = None) -> bool:
    """Whether ``--quick`` is among the arguments (scripts with their own parser add it there)."""
    import sys

    return "--quick" in (sys.argv[1:] if argv is None else argv)


def standalone(
    figures: Callable[[Context], list[Figure]], stem: str, area: str, *, isolate: bool = False
) -> None:
    """Run one benchmark module: print its figures and write ``bench/results/<stem>.json``.

    ``isolate``: each figure is measured in a fresh process (``python -m bench.<stem> --figure
    NAME``, which prints the figure as JSON), so no figure depends on what ran before it."""
    import argparse
    import json
    import sys

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument(
        "--only",
        metavar="TEXT",
        help="measure only the figures whose name contains TEXT (printed, records not written)",
    )
    ap.add_argument(
        "--figure", metavar="NAME", help="measure the figure NAME alone and print it as JSON"
    )
    args = ap.parse_args()
    ctx = context(quick=args.quick)
    if args.figure is not None:
        ctx.only, ctx.exact = args.figure, True
        figs = [f for f in figures(ctx) if f is not None]
        print(json.dumps({"figures": [f.to_dict() for f in figs], "notes": ctx.notes}))
        return
    ctx.only = args.only
    print(f"machine: {machine()}")
    if isolate:
        ctx.plan = []
        figures(ctx)
        names = [n for n in ctx.plan if args.only is None or args.only.lower() in n.lower()]
        ctx.plan = None
        figs = []
        for name in names:
            argv = [sys.executable, "-m", f"bench.{stem}", "--figure", name]
            proc = subprocess.run(
                [*argv, *(["--quick"] if args.quick else [])],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                raise SystemExit(f"{stem}: the figure {name!r} failed:\n{proc.stderr[-2000:]}")
            doc = json.loads(proc.stdout.strip().splitlines()[-1])
            for d in doc["figures"]:
                d.pop("ratio", None)
                figs.append(Figure(**d))
            for n in doc["notes"]:
                ctx.note(n)
        ctx.note(
            f"each figure measured in its own fresh process (python -m bench.{stem} --figure NAME)"
        )
    else:
        figs = [f for f in figures(ctx) if f is not None and ctx.wants(f.name)]
    print_figures(figs)
    for n in ctx.notes:
        print(f"note: {n}")
    if args.only is not None:
        return
    print(f"records: {write_results(stem, figs, area=area, notes=ctx.notes, quick=args.quick)}")


def finish(
    stem: str, figs: list[Figure], *, area: str, notes: list[str] | None = None, quick: bool = False
) -> None:
    """Print ``figs`` and write them to ``bench/results/<stem>.json`` (scripts with a ``main``)."""
    print_figures(figs)
    for n in notes or []:
        print(f"note: {n}")
    print(f"records: {write_results(stem, figs, area=area, notes=notes, quick=quick)}")
