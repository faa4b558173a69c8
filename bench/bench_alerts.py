"""Benchmark: alert evaluation and webhook delivery throughput.

Run: ``python -m bench.bench_alerts [--events 1000] [--delay-ms 5] [--repeat 3] [--quick]`` (records
in ``bench/results/``).  Medians of

1. :func:`jobs.alerts.step` per observation (pure state machine, an oscillating series);
2. :func:`jobs.alerts.evaluate_published` for 50 rules on one result after a publish (real
   embedded Redis: read the headline, WATCH/MULTI the state, queue deliveries);
3. delivering ``--events`` queued events to a local receiver answering after ``--delay-ms``
   (real HTTP on 127.0.0.1) with 1, 2 and 4 worker threads: wall time and events per second.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd

from bench.harness import finish, value_figure
from jobs import declarations
from jobs.alerts import (
    AlertEvent,
    DeliveryWorker,
    RuleState,
    add_deliveries,
    counts,
    evaluate_published,
    new_event_id,
    step,
)
from jobs.config import AlertRule, parse_settings
from jobs.redis_server import start_embedded_redis
from jobs.store import ResultStore, connect


class _Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    delay_s = 0.005
    seen: set[str] = set()
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(self.delay_s)
        with self.lock:
            self.seen.add(self.headers.get("X-Flowdesk-Event-Id", ""))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def bench_step(n: int = 100_000) -> float:
    rule = AlertRule(
        metric="gamma.SPX.flip_distance_pct",
        op="<",
        threshold=1.0,
        hysteresis=0.25,
        cooldown_minutes=30,
    )
    values = [1.05 if i % 2 else 0.95 for i in range(n)]
    state = RuleState()
    t0 = time.perf_counter()
    for i, v in enumerate(values):
        state, _ = step(state, v, 1.7e9 + 60.0 * i, rule, "r")
    return (time.perf_counter() - t0) / n


def bench_evaluate(store: ResultStore, repeat: int) -> float:
    rules = {
        f"r{i}": {
            "metric": "gamma.SPX.flip_distance_pct",
            "op": "<",
            "threshold": 1.0 + i * 0.01,
            "cooldown_minutes": 0,
        }
        for i in range(50)
    }
    settings = parse_settings({"alerts": {"rules": rules}}, env={})
    times = []
    for k in range(repeat * 5):
        store.publish(
            "gamma.SPX",
            declarations.empty_tables("gamma.SPX"),
            as_of=pd.Timestamp("2024-01-05 09:30", tz="America/New_York"),
            source="bench",
            headline={"flip_distance_pct": 0.5 if k % 2 else 2.0},
        )
        t0 = time.perf_counter()
        evaluate_published(settings, store, ["gamma.SPX"])
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_delivery(client, events: int, threads: int, url: str) -> float:
    settings = parse_settings(
        {
            "alerts": {
                "backoff_base_seconds": 0.01,
                "backoff_max_seconds": 0.05,
                "timeout_seconds": 5,
                "lease_seconds": 30,
                "poll_seconds": 0.01,
                "targets": {
                    "hook": {
                        "kind": "webhook",
                        "url_env": "BENCH_URL",
                        "secret_env": "BENCH_SECRET",
                    }
                },
            }
        },
        env={},
    )
    client.flushall()
    with client.pipeline(transaction=True) as pipe:
        for i in range(events):
            add_deliveries(
                pipe,
                settings,
                AlertEvent(id=new_event_id(), kind="fired", at="", rule=f"r{i}", value=float(i)),
                ["hook"],
            )
        pipe.execute()
    worker = DeliveryWorker(
        settings, client, threads=threads, env={"BENCH_URL": url, "BENCH_SECRET": "s"}
    )
    t0 = time.perf_counter()
    worker.start()
    while counts(client)["delivered"] < events:
        time.sleep(0.005)
    elapsed = time.perf_counter() - t0
    worker.stop()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--delay-ms", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one repeat, 300 events")
    args = ap.parse_args()
    if args.quick:
        args.repeat, args.events = 1, min(args.events, 300)
    figs = []

    figs.append(
        value_figure(
            "alerts: step() per observation (pure state machine)",
            statistics.median(bench_step() for _ in range(args.repeat)) * 1e6,
            "µs",
            note=f"median of {args.repeat}",
        )
    )
    server = start_embedded_redis(quiet=True)
    try:
        client = connect(server.url)
        store = ResultStore(client)
        figs.append(
            value_figure(
                "alerts: evaluate_published() for 50 rules on one result (real Redis)",
                bench_evaluate(store, args.repeat) * 1e3,
                "ms",
            )
        )
        _Receiver.delay_s = args.delay_ms / 1000.0
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
        for threads in (1, 2, 4):
            runs = [bench_delivery(client, args.events, threads, url) for _ in range(args.repeat)]
            med = statistics.median(runs)
            figs.append(
                value_figure(
                    f"alerts: webhook delivery, {threads} thread(s)",
                    args.events / med,
                    "events/s",
                    higher_is_better=True,
                    note=f"{args.events} events to a local receiver answering after {args.delay_ms:g} ms; {med:.2f} s median",
                )
            )
        httpd.shutdown()
    finally:
        server.stop()
    finish("bench_alerts", figs, area="Alerts", quick=args.quick)


if __name__ == "__main__":
    main()
