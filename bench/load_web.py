"""Load run of the web tier: pages (Dash callbacks), API and ``/healthz``, with wrong-password clients.

Not part of the test run.  Two sub-commands:

``record --url http://127.0.0.1:8050 [--out bench/web_requests.json]``
    Opens every page in headless Chromium and records the Dash requests the browser really makes
    (layout, dependencies, every ``/_dash-update-component`` POST with its body), so the replay
    costs the server exactly what a desk's browsers cost it.  Record against a loopback server
    without login (``flowdesk web``); the payloads do not depend on the login.  Re-record when
    the pages change.

``run --url URL --user U --password P [--clients 16] [--bad-clients 4] [--seconds 30] [--probes N]``
    ``clients`` threads loop over the recorded page requests, a few API calls
    (``/api/v1/results``, one result as JSON and as Arrow, a history) and ``/healthz``; every
    client has a companion probing ``/healthz`` once a second on its own connection (``--probes``
    sets their number), so the figure measures what a load balancer sees.  ``bad-clients`` extra threads send a wrong Basic-auth password as fast
    as they are answered (401 or 429), from another loopback address (``--bad-source``,
    127.0.0.2) so the server sees them as another client, as it would an attacker.  Prints p50/p95/p99 latency per request class, the count
    of each status code and the request rate.  Bounded: stops after ``--seconds`` plus the
    per-request timeout.

The figures for the README come from this script (see the README's deployment section).
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import requests
import requests.adapters

HERE = Path(__file__).resolve().parent
DEFAULT_RECORDING = HERE / "web_requests.json"
PAGES = ["/", "/explorer", "/brief", "/gamma", "/letf", "/cftc", "/status", "/alerts"]
API = [
    "/api/v1/results",
    "/api/v1/results/gamma.SPX?format=json",
    "/api/v1/results/gamma.SPX?format=arrow&table=contracts",
    "/api/v1/results/letf.flows/history",
]


# -- record -----------------------------------------------------------------------------------
def record(url: str, out: Path, settle_s: float) -> None:
    """Load every page in headless Chromium; save the Dash requests it made."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a file, too
    from bench.harness import headless_chromium

    driver = headless_chromium(1400, 1000, performance_log=True)
    recorded: dict[str, list[dict[str, Any]]] = {}
    try:
        for page in PAGES:
            driver.get_log("performance")  # drop what came before
            driver.get(url.rstrip("/") + page)
            time.sleep(settle_s)
            reqs = []
            for entry in driver.get_log("performance"):
                msg = json.loads(entry["message"])["message"]
                if msg.get("method") != "Network.requestWillBeSent":
                    continue
                req = msg["params"]["request"]
                path = "/" + req["url"].split("/", 3)[-1] if req["url"].count("/") >= 3 else "/"
                # Static bundles are fingerprinted and cached by browsers: a desk loads them once.
                if path.startswith("/_dash-component-suites") or not (
                    path.startswith("/_dash-") or path == page
                ):
                    continue
                body = req.get("postData")
                if req.get("hasPostData") and body is None:
                    body = driver.execute_cdp_cmd(
                        "Network.getRequestPostData", {"requestId": msg["params"]["requestId"]}
                    ).get("postData")
                reqs.append({"method": req["method"], "path": path, "body": body})
            recorded[page] = reqs
            print(
                f"{page}: {len(reqs)} requests ({sum(r['path'].startswith('/_dash-update-component') for r in reqs)} callbacks)",
                file=sys.stderr,
            )
    finally:
        driver.quit()
    out.write_text(json.dumps(recorded, indent=1))
    print(f"wrote {out}", file=sys.stderr)


# -- run --------------------------------------------------------------------------------------
class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, Counter[str]] = defaultdict(Counter)

    def add(self, kind: str, seconds: float, status: str) -> None:
        with self.lock:
            self.latency[kind].append(seconds)
            self.status[kind][status] += 1


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    idx = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[idx]


def _timed(
    sess: requests.Session,
    stats: Stats,
    kind: str,
    method: str,
    url: str,
    timeout_s: float,
    **kw: Any,
) -> None:
    t0 = time.perf_counter()
    try:
        resp = sess.request(method, url, timeout=timeout_s, **kw)
        status = str(resp.status_code)
        resp.content  # noqa: B018  (read the whole body: the client pays for it too)
    except requests.RequestException as exc:
        status = type(exc).__name__
    stats.add(kind, time.perf_counter() - t0, status)


def _page_client(
    base: str,
    auth: tuple[str, str],
    recording: dict[str, list[dict[str, Any]]],
    stats: Stats,
    stop: float,
    timeout_s: float,
    seed: int,
) -> None:
    sess = requests.Session()
    sess.auth = auth
    pages = list(recording)
    i = seed
    while time.monotonic() < stop:
        page = pages[i % len(pages)]
        for req in recording[page]:
            if time.monotonic() >= stop:
                break
            kind = "callback" if req["path"].startswith("/_dash-update-component") else "page"
            headers = {"Content-Type": "application/json"} if req["body"] else {}
            _timed(
                sess,
                stats,
                kind,
                req["method"],
                base + req["path"],
                timeout_s,
                data=req["body"],
                headers=headers,
            )
        if time.monotonic() < stop:
            _timed(sess, stats, "api", "GET", base + API[i % len(API)], timeout_s)
        i += 1


def _health_client(base: str, stats: Stats, stop: float, timeout_s: float, every_s: float) -> None:
    sess = requests.Session()
    while time.monotonic() < stop:
        t0 = time.monotonic()
        _timed(sess, stats, "healthz", "GET", base + "/healthz", timeout_s)
        time.sleep(max(0.0, every_s - (time.monotonic() - t0)))


class _SourceAddressAdapter(requests.adapters.HTTPAdapter):
    """Connect from another loopback address, so the server sees a different client."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def _bad_client(
    base: str, user: str, stats: Stats, stop: float, timeout_s: float, n: int, source: str | None
) -> None:
    sess = requests.Session()
    if source:
        sess.mount("http://", _SourceAddressAdapter(source))
    header = "Basic " + base64.b64encode(f"{user}:wrong-password-{n}".encode()).decode()
    while time.monotonic() < stop:
        _timed(
            sess,
            stats,
            "bad-login",
            "GET",
            base + "/api/v1/results",
            timeout_s,
            headers={"Authorization": header},
        )


def run(
    url: str,
    user: str,
    password: str,
    clients: int,
    bad_clients: int,
    seconds: float,
    recording_path: Path,
    timeout_s: float,
    bad_source: str | None = "127.0.0.2",
    probes: int | None = None,
) -> dict[str, Any]:
    recording = json.loads(recording_path.read_text())
    base = url.rstrip("/")
    stats = Stats()
    stop = time.monotonic() + seconds
    threads = []
    for i in range(clients):
        threads.append(
            threading.Thread(
                target=_page_client,
                args=(base, (user, password), recording, stats, stop, timeout_s, i),
                daemon=True,
            )
        )
    for _ in range(clients if probes is None else probes):
        threads.append(
            threading.Thread(
                target=_health_client, args=(base, stats, stop, timeout_s, 1.0), daemon=True
            )
        )
    for i in range(bad_clients):
        threads.append(
            threading.Thread(
                target=_bad_client,
                args=(base, user, stats, stop, timeout_s, i, bad_source),
                daemon=True,
            )
        )
    started = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join(seconds + timeout_s + 5)
    elapsed = time.monotonic() - started
    report: dict[str, Any] = {
        "clients": clients,
        "bad_clients": bad_clients,
        "seconds": round(elapsed, 1),
        "classes": {},
    }
    for kind in ("healthz", "page", "callback", "api", "bad-login"):
        lat = stats.latency.get(kind, [])
        report["classes"][kind] = {
            "requests": len(lat),
            "per_s": round(len(lat) / elapsed, 1),
            "p50_ms": round(_pct(lat, 50) * 1000, 1),
            "p95_ms": round(_pct(lat, 95) * 1000, 1),
            "p99_ms": round(_pct(lat, 99) * 1000, 1),
            "max_ms": round(max(lat) * 1000, 1) if lat else None,
            "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None,
            "status": dict(stats.status.get(kind, {})),
        }
    return report


def _print(report: dict[str, Any]) -> None:
    print(
        f"{report['clients']} clients + {report['bad_clients']} wrong-password clients, {report['seconds']} s"
    )
    print(
        f"{'class':<10} {'requests':>8} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}  status"
    )
    for kind, row in report["classes"].items():
        if not row["requests"]:
            continue
        print(
            f"{kind:<10} {row['requests']:>8} {row['per_s']:>7} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['p99_ms']:>8} {row['max_ms']:>8}  {row['status']}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser(
        "record", help="record the Dash requests of every page with headless Chromium"
    )
    rec.add_argument("--url", default="http://127.0.0.1:8050")
    rec.add_argument("--out", type=Path, default=DEFAULT_RECORDING)
    rec.add_argument(
        "--settle", type=float, default=6.0, help="seconds to let each page finish its callbacks"
    )
    r = sub.add_parser("run", help="run the load")
    r.add_argument("--url", default="http://127.0.0.1:8050")
    r.add_argument("--user", required=True)
    r.add_argument("--password", required=True)
    r.add_argument("--clients", type=int, default=16)
    r.add_argument("--bad-clients", type=int, default=4)
    r.add_argument("--seconds", type=float, default=30.0)
    r.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, seconds")
    r.add_argument("--recording", type=Path, default=DEFAULT_RECORDING)
    r.add_argument(
        "--bad-source",
        default="127.0.0.2",
        help="source address of the wrong-password clients ('' = same as the others); a loopback server sees them as another client",
    )
    r.add_argument(
        "--probes",
        type=int,
        default=None,
        help="/healthz probe threads, one request a second each (default: one per client)",
    )
    r.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args()
    if args.cmd == "record":
        record(args.url, args.out, args.settle)
        return
    report = run(
        args.url,
        args.user,
        args.password,
        args.clients,
        args.bad_clients,
        args.seconds,
        args.recording,
        args.timeout,
        args.bad_source or None,
        args.probes,
    )
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        _print(report)


if __name__ == "__main__":
    main()
