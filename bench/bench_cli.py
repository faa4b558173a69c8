"""Benchmark: the ``flowdesk`` entry points end to end, as a desk runs them (a fresh process each).

Targets: ``flowdesk --help`` under 0.5 s; ``flowdesk gamma FILE --json`` under 1.5 s (the
analysis itself is ~0.16 s: the rest is interpreter start-up and imports).

Run: ``python -m bench.bench_cli [--runs N] [--quick]`` (records in ``bench/results/``).  Measures, with ``hyperfine`` when it is
installed (``apt-get install hyperfine``) or else repeated runs timed here:

* ``flowdesk --help``;
* ``flowdesk gamma tests/data/options/spx_quotedata_2023-09-14_trimmed.csv --json``;
* ``flowdesk gamma <shared>/options/spx_quotedata_2023-09-14.csv --json`` (the full real file,
  19,920 contracts) when the shared data folder is present (``FLOWDESK_SHARED_DATA``).

Prints the median and min of the wall time per command, and which modules the help imports.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.harness import finish, value_figure  # noqa: E402

FLOWDESK = Path(sys.executable).parent / "flowdesk"
SHARED = Path(os.environ.get("FLOWDESK_SHARED_DATA", REPO.parent / "shared" / "data"))
TARGETS = {"help": 0.5, "gamma": 1.5}


def commands() -> list[tuple[str, str, list[str]]]:
    out = [
        ("flowdesk --help", "help", [str(FLOWDESK), "--help"]),
        (
            "flowdesk gamma <trimmed SPX 2023-09-14> --json",
            "gamma",
            [
                str(FLOWDESK),
                "gamma",
                str(REPO / "tests/data/options/spx_quotedata_2023-09-14_trimmed.csv"),
                "--json",
            ],
        ),
    ]
    full = SHARED / "options" / "spx_quotedata_2023-09-14.csv"
    if full.exists():
        out.append(
            (
                "flowdesk gamma <full SPX 2023-09-14, 19,920 contracts> --json",
                "gamma",
                [str(FLOWDESK), "gamma", str(full), "--json"],
            )
        )
    return out


def with_hyperfine(argv: list[str], runs: int) -> list[float]:
    with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
        subprocess.run(
            [
                "hyperfine",
                "--warmup",
                "1",
                "--runs",
                str(runs),
                "--export-json",
                tmp.name,
                "--output",
                "null",
                "-N",
                " ".join(argv),
            ],
            check=True,
            capture_output=True,
        )
        return json.loads(Path(tmp.name).read_text())["results"][0]["times"]


def by_hand(argv: list[str], runs: int) -> list[float]:
    subprocess.run(argv, check=True, capture_output=True)  # warm-up (file cache)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return times


def help_imports() -> list[str]:
    code = "import sys, jobs.cli; from click.testing import CliRunner; CliRunner().invoke(jobs.cli.main, ['--help']); print(' '.join(sorted(m for m in ('pandas', 'numpy', 'pyarrow', 'pydantic', 'redis', 'scipy', 'dash', 'exchange_calendars') if m in sys.modules)))"
    return subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="3 runs")
    args = parser.parse_args()
    if args.quick:
        args.runs = min(args.runs, 3)
    tool = "hyperfine" if shutil.which("hyperfine") else "subprocess timing"
    figs = []
    heavy = help_imports()
    for label, kind, argv in commands():
        times = with_hyperfine(argv, args.runs) if tool == "hyperfine" else by_hand(argv, args.runs)
        median, best = statistics.median(times), min(times)
        note = f"fresh process each, {args.runs} runs ({tool}), min {best:.3f} s"
        if kind == "help":
            note += f"; heavy modules imported by --help: {', '.join(heavy) or 'none'}"
        figs.append(
            value_figure(f"cli: {label}", median, "s", target=f"< {TARGETS[kind]} s", note=note)
        )
    finish("bench_cli", figs, area="Command line", quick=args.quick)


if __name__ == "__main__":
    main()
