"""Dash callbacks under concurrent users (issue 17 section 3): every page control at 8 users.

Bounded load test against the production web tier: a private embedded Redis filled by the real
jobs on sample data (``config.toml``'s gamma, leveraged-ETF, CFTC, board and brief jobs), a real
gunicorn started with ``dashboard/gunicorn_conf.py`` (its worker model: ``WEB_CONCURRENCY``
gthread workers x ``WEB_THREADS`` threads), and ``--users`` threads posting the bodies a browser
posts to ``/_dash-update-component`` (built from the app's own ``/_dash-dependencies``: the exact
output, input and state lists of each callback).

Figures (records in ``bench/results/bench_callbacks.json``, the shared format of COMMON_BRIEF):

* per page control (board IV shock and tails, explorer move / shock / underlyings, gamma
  underlying, leveraged-ETF single name and move, CFTC trader class, brief version): p50 and p95
  server round trip in ms with ``--users`` concurrent users, each user cycling through the
  control's values (target p95 <= 300 ms);
* payload per refresh: the response bytes of every callback the 30-s page refresh fires on each
  page when nothing was published in between (target 0 bytes);
* the same figures with one user (the baseline of the concurrent figures).

Run: ``python bench/bench_callbacks.py [--users 8] [--requests 25] [--workers 2] [--threads 16]``.
Not part of the test run.  Bounded: ``--requests`` per user and control, 30 s timeout each.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.harness import headless_chromium  # noqa: E402
from jobs.config import load_settings  # noqa: E402
from jobs.redis_server import free_port, start_embedded_redis  # noqa: E402
from jobs.runner import run_job  # noqa: E402
from jobs.store import ResultStore, connect  # noqa: E402

OUT = REPO / "bench" / "results" / "bench_callbacks.json"
JOBS = ("gamma_morning", "letf_preopen", "cftc_weekly", "board_morning", "brief")
TARGET_MS = 300.0
LIVE_VIEWS = {
    "app": "the header's freshness badge and service banner, whose ages move with the clock",
    "alerts": "rule states, last evaluations and deliveries, which change without a publish",
    "status": "job runs, heartbeats and the scheduler's lease, which change without a publish",
}
"""Views that redraw their own state on every refresh tick (no result version to wait for)."""
LIVE_BUDGET_BYTES = 16_384
"""What a live view may send per 30-s tick when nothing was published (a few KB of state)."""


# -- the server ---------------------------------------------------------------------------------
def publish_sample(url: str, config: Path) -> ResultStore:
    settings = load_settings(config)
    store = ResultStore(connect(url))
    now = datetime.now(ZoneInfo(settings.service.timezone))
    for job in JOBS:
        record = run_job(settings, store, job, now=now, sleep=lambda _s: None)
        if record.status != "ok":
            raise SystemExit(f"bench_callbacks: job {job} failed: {record.error}")
    return store


def start_gunicorn(
    redis_url: str, config: Path, workers: int, threads: int, log: Path
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(
        os.environ,
        FLOWDESK_CONFIG=str(config),
        REDIS_URL=redis_url,
        PORT=str(port),
        WEB_BIND_HOST="127.0.0.1",
        WEB_CONCURRENCY=str(workers),
        WEB_THREADS=str(threads),
    )
    env.pop("FLOWDESK_USERS", None)
    sink = open(log, "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:dashboard.gunicorn_conf",
            "dashboard.wsgi:server",
        ],
        cwd=REPO,
        env=env,
        stdout=sink,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if requests.get(base + "/healthz", timeout=10).status_code in (200, 503):
                break
        except (requests.ConnectionError, requests.Timeout):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"gunicorn did not come up: {log.read_text()[-2000:]}")
        time.sleep(0.3)
    # Every worker imports the app lazily on its first requests: warm each one up.
    for path in ("/", "/_dash-layout", "/_dash-dependencies"):
        for _ in range(workers * 2):
            requests.get(base + path, timeout=60)
    return proc, base


# -- request bodies -----------------------------------------------------------------------------
def _prop_id(spec: dict[str, Any]) -> str:
    return f"{spec['id']}.{spec['property']}"


class Callbacks:
    """The app's callbacks (``/_dash-dependencies``), found by one of their outputs."""

    def __init__(self, base: str) -> None:
        self.deps = requests.get(base + "/_dash-dependencies", timeout=30).json()

    def find(self, output: str) -> dict[str, Any]:
        for dep in self.deps:
            outs = dep["output"].strip(".").split("...")
            if output in outs:
                return dep
        raise KeyError(output)

    def body(self, output: str, values: dict[str, Any], changed: list[str]) -> dict[str, Any]:
        """The POST body of the callback with ``output``: every input and state filled from
        ``values`` (``"id.prop"`` -> value; missing ones ``None``), ``changed`` the triggers."""
        dep = self.find(output)
        outs = dep["output"].strip(".").split("...")
        outputs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in outs]

        def fill(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                {"id": s["id"], "property": s["property"], "value": values.get(_prop_id(s))}
                for s in specs
            ]

        body: dict[str, Any] = {
            "output": dep["output"],
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": fill(dep["inputs"]),
            "changedPropIds": changed,
        }
        if dep.get("state"):
            body["state"] = fill(dep["state"])
        return body


def post(session: requests.Session, base: str, body: dict[str, Any]) -> tuple[float, int, int]:
    t = time.perf_counter()
    r = session.post(base + "/_dash-update-component", json=body, timeout=30)
    ms = (time.perf_counter() - t) * 1000.0
    if r.status_code not in (200, 204):
        raise SystemExit(f"callback {body['output'][:80]} answered {r.status_code}: {r.text[:500]}")
    return ms, r.status_code, len(r.content)


# -- the controls ---------------------------------------------------------------------------------
def controls(
    store: ResultStore, settings_path: Path
) -> dict[str, tuple[str, list[tuple[dict[str, Any], list[str]]]]]:
    """Per page control: (an output of its callback, the (values, changed) of each request)."""
    settings = load_settings(settings_path)
    shocks = [float(s) for s in settings.board.iv_shocks_pts]
    gamma = [n.split(".", 1)[1] for n in store.names() if n.startswith("gamma.")]
    letf = (
        store.read("letf.flows", tables=["by_underlying"])
        .frame["underlying"]
        .astype(str)
        .tolist()[:6]
    )
    briefs = [m.version for m in store.history("board.brief")]
    base = {"refresh-interval.n_intervals": 1, "explorer-init.data": None}
    out: dict[str, tuple[str, list]] = {}
    out["board: IV shock"] = (
        "board-cards.children",
        [
            ({**base, "board-shock.value": s, "board-range.value": "core"}, ["board-shock.value"])
            for s in shocks
        ],
    )
    out["board: tails toggle"] = (
        "board-cards.children",
        [
            ({**base, "board-shock.value": 0.0, "board-range.value": r}, ["board-range.value"])
            for r in ("all", "core")
        ],
    )
    moves = [-10.0, -5.0, -3.0, -1.0, 1.0, 3.0, 5.0]
    out["explorer: move"] = (
        "explorer-chart.figure",
        [
            (
                {
                    **base,
                    "explorer-move.value": m,
                    "explorer-shock.value": 0.0,
                    "explorer-underlyings.value": [],
                },
                ["explorer-move.value"],
            )
            for m in moves
        ],
    )
    out["explorer: IV shock"] = (
        "explorer-chart.figure",
        [
            (
                {
                    **base,
                    "explorer-move.value": -3.0,
                    "explorer-shock.value": s,
                    "explorer-underlyings.value": [],
                },
                ["explorer-shock.value"],
            )
            for s in shocks
        ],
    )
    picks = [["NDX", "QQQ"], ["SPX", "SPY", "QQQ"], ["NVDA"], []]
    out["explorer: underlyings"] = (
        "explorer-chart.figure",
        [
            (
                {
                    **base,
                    "explorer-move.value": -3.0,
                    "explorer-shock.value": 0.0,
                    "explorer-underlyings.value": p,
                },
                ["explorer-underlyings.value"],
            )
            for p in picks
        ],
    )
    out["gamma: underlying"] = (
        "gamma-cards.children",
        [({**base, "gamma-underlying.value": u}, ["gamma-underlying.value"]) for u in gamma],
    )
    out["letf: single name"] = (
        "letf-single-graph.figure",
        [
            ({**base, "letf-single.value": u, "letf-move.value": -10.0}, ["letf-single.value"])
            for u in letf
        ],
    )
    out["letf: move"] = (
        "letf-single-graph.figure",
        [
            ({**base, "letf-single.value": letf[0], "letf-move.value": m}, ["letf-move.value"])
            for m in (-17.0, -10.0, -5.0, 5.0)
        ],
    )
    out["cftc: trader class"] = (
        "cftc-cards.children",
        [
            ({**base, "cftc-trader.value": t}, ["cftc-trader.value"])
            for t in ("noncomm", "lev_money", "asset_mgr")
        ],
    )
    out["brief: version"] = (
        "brief-text.children",
        [({**base, "brief-version.value": v}, ["brief-version.value"]) for v in briefs],
    )
    return out


def open_pages(base: str, cb: Callbacks, workers: int, settle_s: float) -> bool:
    """What open browsers do every refresh: ask for the result versions (the ``data-version``
    callback), a few times on new connections so that every worker answers one; each worker
    then draws the pages' usual views of the new publish in the background
    (``dashboard.render_cache.warm_if_new``).  False when this version of the app has no such
    callback."""
    try:
        body = cb.body(
            "data-version.data",
            {"refresh-interval.n_intervals": 1, "data-version.data": None},
            ["refresh-interval.n_intervals"],
        )
    except KeyError:
        return False

    # a new connection each (a kept-alive one stays with the worker that accepted it, and the
    # other workers would draw their views under the load measured next), several at once
    def check(_k: int) -> None:
        with requests.Session() as s:
            post(s, base, body)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(check, range(8 * workers)))
    time.sleep(settle_s)
    return True


def run_control(base: str, bodies: list[dict[str, Any]], users: int, per_user: int) -> list[float]:
    times: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(users)

    def user(k: int) -> None:
        s = requests.Session()
        mine = []
        try:
            start.wait()
            for i in range(per_user):
                mine.append(post(s, base, bodies[(k + i) % len(bodies)])[0])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=user, args=(k,)) for k in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"bench_callbacks: {errors[0]}")
    return times


def pct(values: list[float], q: float) -> float:
    return (
        float(statistics.quantiles(values, n=100, method="inclusive")[q - 1])
        if len(values) > 1
        else float(values[0])
    )


PAGES = ("board", "explorer", "brief", "gamma", "letf", "cftc", "alerts", "status")
"""Pages whose refresh payload is reported (by the prefix of their component ids)."""


def refresh_payloads(base: str, cb: Callbacks, ctl: dict[str, Any]) -> dict[str, int]:
    """Bytes a browser receives per page when the refresh interval ticks and nothing was
    published since the page was drawn: every callback the tick fires (``refresh-interval``),
    then, when the version store answered with a change, every callback reading it
    (``data-version``), as the browser chains them.  Each callback is first called once (n=1)
    so that the stores and states hold what the browser holds, then ticked (n=2).  Keyed by the
    page of the first output (``app`` for the header's badge, banner and version store)."""
    s = requests.Session()
    direct = [d for d in cb.deps if any(i["id"] == "refresh-interval" for i in d["inputs"])]
    chained = [d for d in cb.deps if any(i["id"] == "data-version" for i in d["inputs"])]
    total: dict[str, int] = dict.fromkeys(PAGES, 0)
    values: dict[str, Any] = {
        "refresh-interval.n_intervals": 1,
        "_pages_location.pathname": "/",
        "data-version.data": None,
    }
    for _label, (_out, reqs) in ctl.items():
        values.update({k: v for k, v in reqs[0][0].items() if k not in values})

    def page_of(dep: dict[str, Any]) -> str:
        first = dep["output"].strip(".").split("...")[0].split(".", 1)[0]
        name = first.split("-", 1)[0]
        return name if name in PAGES else "app"

    def call(dep: dict[str, Any], trigger: str) -> tuple[int, int]:
        outs = dep["output"].strip(".").split("...")
        body = cb.body(outs[0], values, [trigger])
        r = s.post(base + "/_dash-update-component", json=body, timeout=30)
        if r.status_code == 200:
            for cid, props in r.json().get("response", {}).items():
                for prop, value in props.items():
                    values[f"{cid}.{prop}"] = value
        return r.status_code, len(r.content)

    for tick in (1, 2):
        values["refresh-interval.n_intervals"] = tick
        changed = False
        for dep in direct:
            status, size = call(dep, "refresh-interval.n_intervals")
            if tick == 2 and status == 200:
                total[page_of(dep)] = total.get(page_of(dep), 0) + size
            changed |= status == 200 and "data-version.data" in dep["output"]
        if tick == 1 or changed:
            for dep in chained:
                status, size = call(dep, "data-version.data")
                if tick == 2 and status == 200:
                    total[page_of(dep)] = total.get(page_of(dep), 0) + size
    return total


PAINTED_JS = """
const done = arguments[arguments.length - 1];
let cards = null;
(function poll() {
  if (cards === null && document.querySelector('#board-cards .fd-card:nth-child(5)')) { cards = performance.now(); }
  const ok = cards !== null && document.querySelector('#board-flows .main-svg .barlayer .point');
  if (ok) { done([cards, performance.now()]); } else { setTimeout(poll, 10); }
})();
"""


def first_paint(
    base: str, runs: int = 3
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Seconds from navigation to the board drawn with every card and the flow chart's bars
    (headless Chromium): ``(cold, warm)``, cold = a new browser (no cached scripts: Plotly's
    3.5 MB bundle is fetched and compiled), warm = the same browser loading the board again (a
    desk's usual case); each ``(every card shown, the flow chart's bars drawn)`` in seconds from
    the navigation's start, measured in the page."""
    cold: list[tuple[float, float]] = []
    warm: list[tuple[float, float]] = []
    for _ in range(runs):
        driver = headless_chromium(1400, 1000)
        try:
            driver.set_script_timeout(30)
            for into in (cold, warm):
                driver.get("about:blank")
                driver.get(base + "/")
                # measured in the page: performance.now() counts from the navigation's start
                cards_ms, chart_ms = driver.execute_async_script(PAINTED_JS)
                into.append((float(cards_ms) / 1000.0, float(chart_ms) / 1000.0))
        finally:
            driver.quit()
    return cold, warm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("--requests", type=int, default=25, help="requests per user and control")
    ap.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    ap.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "16")))
    ap.add_argument("--label", default="", help="notes prefix (e.g. 'before')")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument(
        "--settle",
        type=float,
        default=15.0,
        help="seconds for the workers to draw the usual views after the pages' version check",
    )
    ap.add_argument(
        "--no-browser",
        action="store_true",
        help="skip the first-paint measurement (headless Chromium)",
    )
    ap.add_argument("--paint-only", action="store_true", help="only the first-paint measurement")
    ap.add_argument(
        "--payload-only",
        action="store_true",
        help="only the refresh payloads, merged into --out's other records",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="scripts/bench --quick: 8 requests per user and control, no first-paint browser run",
    )
    args = ap.parse_args()
    if args.quick:
        args.requests, args.no_browser = min(args.requests, 8), True
    signal.signal(
        signal.SIGTERM, lambda *_a: sys.exit(143)
    )  # stop gunicorn and Redis on a kill too

    tmp = Path(tempfile.mkdtemp(prefix="bench-callbacks-"))
    config = tmp / "config.toml"
    config.write_text(
        (REPO / "config.toml")
        .read_text()
        .replace('require_login = "auto"', 'require_login = "never"')
    )
    server = start_embedded_redis(quiet=True)
    os.environ["REDIS_URL"] = server.url
    t = time.perf_counter()
    store = publish_sample(server.url, config)
    print(f"sample results published in {time.perf_counter() - t:.1f} s")
    proc, base = start_gunicorn(
        server.url, config, args.workers, args.threads, tmp / "gunicorn.log"
    )
    records: list[dict[str, Any]] = []
    model = f"gunicorn gthread {args.workers} workers x {args.threads} threads"
    try:
        cb = Callbacks(base)
        ctl = controls(store, config)
        warmed = open_pages(base, cb, args.workers, args.settle)
        print(
            "pages opened: every worker drew the usual views of the publish"
            if warmed
            else "no data-version callback: pages draw on request only"
        )
        model += (
            "; views of a publish drawn by each worker on the pages' first version check"
            if warmed
            else ""
        )
        print(
            f"{'control':28s} {'1 user p50':>10s} {'p95':>7s} {args.users:>3d} users p50 {'p95':>7s}  ms"
        )
        for label, (output, reqs) in ({} if args.paint_only or args.payload_only else ctl).items():
            try:
                bodies = [cb.body(output, values, changed) for values, changed in reqs]
            except KeyError:
                print(f"{label:28s} (no such callback on this version: skipped)")
                continue
            single = run_control(base, bodies, 1, max(len(bodies) * 2, 10))
            many = run_control(base, bodies, args.users, args.requests)
            s50, s95, m50, m95 = pct(single, 50), pct(single, 95), pct(many, 50), pct(many, 95)
            print(f"{label:28s} {s50:10.0f} {s95:7.0f} {m50:13.0f} {m95:7.0f}")
            notes = f"{args.label + ': ' if args.label else ''}{model}; {len(many)} requests, {len(bodies)} distinct values; sample data"
            records.append(
                {
                    "benchmark": f"callback p95 at {args.users} users: {label}",
                    "figure": round(m95, 1),
                    "unit": "ms",
                    "target": f"<= {TARGET_MS:.0f} ms",
                    "baseline": "the same control, 1 user",
                    "baseline_figure": round(s95, 1),
                    "ratio": round(m95 / s95, 2) if s95 else None,
                    "notes": notes,
                }
            )
            records.append(
                {
                    "benchmark": f"callback p50 at {args.users} users: {label}",
                    "figure": round(m50, 1),
                    "unit": "ms",
                    "target": None,
                    "baseline": "the same control, 1 user",
                    "baseline_figure": round(s50, 1),
                    "ratio": round(m50 / s50, 2) if s50 else None,
                    "notes": notes,
                }
            )
        payload = {} if args.paint_only else refresh_payloads(base, cb, ctl)
        for page, size in sorted(payload.items()):
            print(f"payload per refresh, nothing new: {page:12s} {size:8d} bytes")
            live = LIVE_VIEWS.get(page)
            records.append(
                {
                    "benchmark": f"payload per page refresh, nothing published: {page}",
                    "figure": float(size),
                    "unit": "bytes",
                    # a results page sends nothing until a publish; a live view sends its state
                    "target": f"<= {LIVE_BUDGET_BYTES:,} bytes" if live else "0 bytes",
                    "baseline": None,
                    "baseline_figure": None,
                    "ratio": None,
                    "notes": f"{args.label + ': ' if args.label else ''}response bytes of every callback a 30-s refresh tick fires on the {page} page, and of those it chains to (the result-version store), when nothing was published ('app': the header's badge, banner and version store)"
                    + (
                        f"; a live view: {live}, so it is held to a budget, not to 0"
                        if live
                        else ""
                    ),
                }
            )
        brief = store.meta("board.brief").extra
        if brief.get("render_seconds") and not args.payload_only:
            print(
                f"brief rendered by its job in {brief['render_seconds']:.2f} s ({brief.get('render_error') or 'PDF and PNG stored'})"
            )
            records.append(
                {
                    "benchmark": "brief PDF + PNG render (in the brief job)",
                    "figure": float(brief["render_seconds"]),
                    "unit": "s",
                    "target": None,
                    "baseline": None,
                    "baseline_figure": None,
                    "ratio": None,
                    "notes": f"{args.label + ': ' if args.label else ''}kaleido + headless Chromium start-up included; never in a web request",
                }
            )
        if not args.no_browser and not args.payload_only:
            cold, warm = first_paint(base)
            for kind, paints in (
                ("browser cache warm", warm),
                ("new browser, nothing cached", cold),
            ):
                print(
                    f"board first paint ({kind}): cards {', '.join(f'{c:.2f}' for c, _ in paints)} s; flow chart {', '.join(f'{g:.2f}' for _, g in paints)} s"
                )
                for what, i in (("every card", 0), ("the flow chart drawn", 1)):
                    records.append(
                        {
                            "benchmark": f"board first paint, {what} ({kind})",
                            "figure": round(statistics.median(p[i] for p in paints), 3),
                            "unit": "s",
                            "target": "< 2 s" if i == 0 else None,
                            "baseline": None,
                            "baseline_figure": None,
                            "ratio": None,
                            "notes": f"{args.label + ': ' if args.label else ''}median of {len(paints)} headless-Chromium loads of /, measured in the page from the navigation's start; {model}; the machine's 2 cores shared with gunicorn and other work",
                        }
                    )
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        server.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.payload_only and args.out.exists():  # keep the other records of the last full run
        records = [
            r
            for r in json.loads(args.out.read_text())
            if not r["benchmark"].startswith("payload per page refresh")
        ] + records
    args.out.write_text(json.dumps(records, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
