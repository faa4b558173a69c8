"""The benchmark records convention (issue 17 section 1): targets graded from their text, every
file in bench/results rendered, records from other scripts without machine/date/commit kept."""

from __future__ import annotations

import json

from bench.__main__ import graded, load_records, render
from bench.harness import Figure, target_met, value_figure

NOW = {
    "date": "2026-11-30 07:00 UTC",
    "commit": "abc1234",
    "cpu": "Test CPU",
    "cores": 2,
    "load_average": 1.5,
}


def test_target_met_reads_the_target_text() -> None:
    assert target_met("< 250 ms", 249.9, "ms", None) is True
    assert target_met("< 250 ms", 250.0, "ms", None) is False
    assert target_met("<= 300 ms", 300.0, "ms", None) is True
    assert target_met("< 1.5 s", 1400.0, "ms", None) is True  # 1.4 s
    assert target_met("< 0.5 s", 600.0, "ms", None) is False
    assert target_met(">= 100 req/s", 120.0, "req/s", None) is True
    assert target_met("ratio <= 1", 5.0, "ms", 0.98) is True
    assert target_met("ratio <= 1", 5.0, "ms", 1.02) is False
    assert target_met("ratio <= 1", 5.0, "ms", None) is None
    assert target_met("fast enough", 5.0, "ms", None) is None
    assert target_met("< 3 MB", 5.0, "ms", None) is None  # units that do not convert: not graded
    # a number without an operator is a ceiling: "0 bytes" was left ungraded, and three pages
    # sending 1-10 KB per refresh were counted neither as met nor as missed
    assert target_met("0 bytes", 3908.0, "bytes", None) is False
    assert target_met("0 bytes", 0.0, "bytes", None) is True
    assert target_met("<= 16,384 bytes", 9837.0, "bytes", None) is True


def test_figure_record_has_the_shared_keys() -> None:
    rec = value_figure(
        "x", 8.0, "ms", target="ratio <= 1.0", baseline="plain read", baseline_value=10.0
    ).to_record()
    assert {
        "benchmark",
        "figure",
        "unit",
        "target",
        "baseline",
        "baseline_figure",
        "ratio",
        "notes",
    } <= set(rec)
    assert rec["ratio"] == 0.8 and rec["met"] is True
    assert Figure("y", 1.0, "ms").to_record()["ratio"] is None


def test_render_takes_every_file_and_grades_targets(tmp_path) -> None:
    (tmp_path / "bench_a.json").write_text(
        json.dumps(
            [
                {
                    "benchmark": "a parse",
                    "figure": 12.0,
                    "unit": "ms",
                    "target": "ratio <= 1.0",
                    "baseline": "read_csv",
                    "baseline_figure": 10.0,
                    "ratio": 1.2,
                    "notes": "",
                    "area": "Parsers",
                    "machine": {"cpu": "EPYC", "cores": 2, "load_average": 2.1},
                    "date": "2026-11-30 06:00 UTC",
                    "commit": "f00ba12",
                },
            ]
        )
    )
    # another engineer's load test: the bare convention, no area, machine or date
    (tmp_path / "bench_web_load.json").write_text(
        json.dumps(
            [
                {
                    "benchmark": "explorer p95, 8 users",
                    "figure": 280.0,
                    "unit": "ms",
                    "target": "<= 300 ms",
                    "baseline": None,
                    "baseline_figure": None,
                    "ratio": None,
                    "notes": "8 users",
                },
            ]
        )
    )
    (tmp_path / "broken.json").write_text("{not json")
    records = load_records(tmp_path)
    assert [r["_file"] for r in records] == ["bench_a", "bench_web_load", "broken"]
    assert [graded(r) for r in records] == [False, True, None]
    md = render(records, now=NOW)
    assert "**Targets: 1 of 2 met.** Missed:" in md
    assert "- Parsers: a parse: 12.0 ms (target ratio <= 1.0, ratio 1.20)" in md
    assert "## bench_web_load" in md and "not recorded" in md
    assert "| explorer p95, 8 users | 280 ms |" in md
    assert "broken.json: unreadable" in md
    assert "2026-11-30 06:00 UTC, f00ba12; EPYC, 2 cores, load 2.1" in md


def test_the_single_names_bench_posts_a_callback_the_app_has() -> None:
    """bench_universe posts the ranking callback's body itself: when the page's outputs change
    (the CSV export name was added), the benchmark must change with them, not fail at run time."""
    from bench.bench_universe import ranking_output
    from dashboard.app import create_app

    deps = create_app().server.test_client().get("/_dash-dependencies")
    assert deps.status_code == 200
    assert ranking_output() in {cb["output"] for cb in deps.get_json()}


def test_an_ungraded_target_is_listed_and_unstamped_records_are_stamped(tmp_path) -> None:
    import bench.__main__ as runner

    rec = {"benchmark": "x", "figure": 1.0, "unit": "MB", "target": "< 3 GB", "_file": "f"}
    md = render([rec], now=NOW)
    assert "**Targets not graded (1):**" in md and "- f: x: 1.00 MB (target < 3 GB)" in md
    path = tmp_path / "bench_plain.json"
    path.write_text(json.dumps([{"benchmark": "y", "figure": 2.0, "unit": "ms"}]))
    runner.stamp(path)
    [stamped] = json.loads(path.read_text())
    assert stamped["date"] and stamped["commit"] and stamped["machine"]["cores"]
    assert "not recorded" not in render([{**stamped, "_file": "bench_plain"}], now=NOW)


def test_compare_times_pairs_until_the_time_floor_and_gives_the_pair_quartiles() -> None:
    import gc

    from bench.harness import compare

    calls = {"subject": 0, "baseline": 0}

    def subject() -> None:
        calls["subject"] += 1
        sum(range(2000))

    def baseline() -> None:
        calls["baseline"] += 1
        sum(range(1000))

    s, b = compare(subject, baseline, 5, warmup=1)  # no time floor: exactly the pairs asked for
    assert (s.runs, b.runs) == (5, 5)
    assert calls == {"subject": 6, "baseline": 6}  # one warm-up each
    assert s.pair_quartiles is not None and s.pair_quartiles[0] <= s.pair_quartiles[1]
    assert b.pair_quartiles is None
    assert gc.get_freeze_count() == 0  # the heap is handed back to the collector

    # a floor no subject reaches: more pairs, stopped at the cap
    s, _ = compare(subject, baseline, 5, warmup=0, min_seconds=60.0, max_runs=12)
    assert s.runs == 12
    assert gc.get_freeze_count() == 0


def test_an_isolated_bench_plans_its_figures_without_measuring_them() -> None:
    """``standalone(isolate=True)`` first asks the module which figures it has (nothing is
    timed), then measures each in its own process."""
    from bench import bench_parsers
    from bench.harness import context

    ctx = context(quick=True)
    ctx.plan = []
    assert [f for f in bench_parsers.figures(ctx) if f is not None] == []
    names = ctx.plan
    assert len(names) == len(set(names))
    assert "TFF markets table flows/data/tff_markets.csv (tff_markets.parse)" in names
    ctx.plan = None
    ctx.only, ctx.exact = "TFF markets table", True  # exact: a part of a name selects nothing
    assert not ctx.wants("TFF markets table flows/data/tff_markets.csv (tff_markets.parse)")


def test_one_figure_runs_alone_in_its_process_and_prints_json() -> None:
    import json
    import subprocess
    import sys

    from bench.harness import ROOT

    name = "TFF markets table flows/data/tff_markets.csv (tff_markets.parse)"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_parsers", "--quick", "--figure", name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    [fig] = doc["figures"]
    assert fig["name"] == name and fig["unit"] == "ms" and fig["target"] == "ratio <= 1"
    assert fig["value"] > 0 and fig["baseline_value"] > 0
    assert "per-pair ratio quartiles" in fig["note"]
