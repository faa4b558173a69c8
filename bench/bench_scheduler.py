"""Scheduler timings on a private embedded Redis (not part of the test run).

Run: ``python -m bench.bench_scheduler [--rounds N] [--quick]`` (records in ``bench/results/``).  Medians of:

* start-up: ``flowdesk scheduler`` spawned -> first leader heartbeat in Redis (seconds);
* slot latency: scheduled fire time -> run record ``started_at`` (milliseconds);
* take-over: leader SIGKILLed -> first slot run by the follower (seconds), with
  ``leader_lease_seconds = 5`` and ``heartbeat_seconds = 1`` (bound: lease + one renewal);
* ``flowdesk refresh demo`` wall time (process start to exit, seconds).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.harness import finish, value_figure  # noqa: E402
from jobs.redis_server import start_embedded_redis  # noqa: E402
from jobs.store import ResultStore  # noqa: E402

CONFIG = """
[scheduler]
leader_lease_seconds = 5
heartbeat_seconds = 1
misfire_grace_seconds = 5

[jobs.tick]
task = "demo"
cron = "* * * * *"
second = "*"
trading_days_only = false
retries = 0
"""


def _spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "jobs.cli", "scheduler"],
        cwd=REPO,
        env=env,
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
    )  # noqa: SIM115


def _until(pred, timeout_s: float = 60.0) -> float:
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout_s:
            raise TimeoutError("condition not reached")
        time.sleep(0.02)
    return time.monotonic() - t0


def one_round(url: str, env: dict[str, str], tmp: Path) -> dict[str, float]:
    store = ResultStore.from_url(url)
    store.redis.flushall()
    a = _spawn(env, tmp / "a.log")
    startup = _until(lambda: store.heartbeat() is not None)
    b = _spawn(env, tmp / "b.log")
    _until(lambda: len(store.runs("tick", 500)) >= 5)
    time.sleep(2)  # let the second process come up as a follower
    latencies = [
        (datetime.fromisoformat(r.started_at) - datetime.fromisoformat(r.slot)).total_seconds()
        * 1000
        for r in store.runs("tick", 500)
    ]
    leader_pid = store.runs("tick", 1)[0].pid
    leader, follower = (a, b) if a.pid == leader_pid else (b, a)
    leader.send_signal(signal.SIGKILL)
    leader.wait()
    killed = time.monotonic()
    _until(lambda: store.runs("tick", 1)[0].pid == follower.pid)
    takeover = time.monotonic() - killed
    follower.send_signal(signal.SIGTERM)
    follower.wait(timeout=30)
    t1 = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "jobs.cli", "refresh", "tick"],
        cwd=REPO,
        env=env,
        capture_output=True,
        check=True,
    )
    refresh = time.monotonic() - t1
    return {
        "startup_s": startup,
        "slot_latency_ms": statistics.median(latencies),
        "takeover_s": takeover,
        "refresh_s": refresh,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one round")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 1
    server = start_embedded_redis(quiet=True)
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            (tmp / "config.toml").write_text(CONFIG)
            env = {
                **os.environ,
                "FLOWDESK_CONFIG": str(tmp / "config.toml"),
                "REDIS_URL": server.url,
            }
            rounds = [one_round(server.url, env, tmp) for _ in range(args.rounds)]
    finally:
        server.stop()
    label = {
        "startup_s": ("scheduler: start-up (spawned -> first leader heartbeat)", "s", None),
        "slot_latency_ms": ("scheduler: slot latency (fire time -> run started)", "ms", None),
        "takeover_s": (
            "scheduler: take-over after the leader is killed (lease 5 s, heartbeat 1 s)",
            "s",
            "<= 6 s",
        ),
        "refresh_s": ("scheduler: flowdesk refresh demo (process start to exit)", "s", None),
    }
    figs = []
    for key in rounds[0]:
        values = [r[key] for r in rounds]
        name, unit, target = label[key]
        figs.append(
            value_figure(
                name,
                statistics.median(values),
                unit,
                target=target,
                note=f"{args.rounds} round(s): min {min(values):.2f}, max {max(values):.2f}",
            )
        )
    finish("bench_scheduler", figs, area="Scheduler", quick=args.quick)


if __name__ == "__main__":
    main()
