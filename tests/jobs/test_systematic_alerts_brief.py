"""The brief carries the systematic and futures-positioning headline figures, and alert rules on
them fire end to end: real tasks, real Redis, signed webhooks to the local HTTP server."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from flows.gamma import analyze
from flows.sources import cboe_csv
from jobs.alerts import SIGNATURE_HEADER, DeliveryWorker, verify
from jobs.alerts.evaluation import evaluate_published
from jobs.config import parse_settings
from jobs.runner import run_job
from jobs.tasks import TaskContext
from jobs.tasks.gamma import gamma_params, publish_report

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 25, 17, 45, tzinfo=NY)
SECRET = "whsec_systematic_7a1"
JOBS = {
    "systematic": {"task": "systematic", "cron": "30 17 * * mon-fri", "retries": 0},
    "fp": {
        "task": "futures_positioning",
        "cron": "50 15 * * fri",
        "retries": 0,
        "trading_days_only": False,
    },
    "letf": {"task": "letf", "cron": "45 8 * * mon-fri", "args": {"phase": "intraday"}},
    "brief": {"task": "brief", "cron": "55 8 * * mon-fri", "retries": 0},
}
RULES = {
    "cta_trigger_within_1_5pct": {
        "metric": "cta.SPX.nearest_trigger_abs_distance_pct",
        "op": "<",
        "threshold": 1.5,
        "targets": ["desk"],
    },
    "volcontrol_selling_over_20bn": {
        "metric": "volcontrol.SPX.flow_usd_shock_down_5pct_1w",
        "op": "<",
        "threshold": -20e9,
        "targets": ["desk"],
    },
    "futures_crowded": {
        "metric": "cftc.futures_positioning.crowding_flags",
        "op": ">=",
        "threshold": 1,
        "targets": ["desk"],
    },
}


def _settings(test_data):
    return parse_settings(
        {
            "service": {"source_mode": "sample"},
            "jobs": JOBS,
            "gamma": {"underlyings": ["SPX"]},
            "letf": {
                "universe_file": str(
                    test_data / "letf" / "leveraged_etf_data_2026-06-01_trimmed.csv"
                )
            },
            "prices": {"sample_sessions": 800},
            "futures_positioning": {"sample_years": 4},
            "board": {"brief_indices": ["SPX"]},
            "alerts": {
                "backoff_base_seconds": 0.01,
                "backoff_max_seconds": 0.05,
                "timeout_seconds": 2.0,
                "delivery_threads": 1,
                "poll_seconds": 0.02,
                "targets": {
                    "desk": {
                        "kind": "webhook",
                        "url_env": "FD_SYS_HOOK_URL",
                        "secret_env": "FD_SYS_HOOK_SECRET",
                    }
                },
                "rules": RULES,
            },
        },
        env={},
    )


def test_rules_on_systematic_and_crowding_metrics_fire_end_to_end(
    test_data, store, redis_client, http_server
) -> None:
    from tests.httpserver import Reply

    http_server.route("/hook", Reply(200, "ok"))
    s = _settings(test_data)
    hook = lambda names: evaluate_published(s, store, names)  # noqa: E731 - the runner's after-publish hook
    assert run_job(s, store, "systematic", now=NOW, after_publish=hook).status == "ok"
    assert run_job(s, store, "fp", now=NOW, after_publish=hook).status == "ok"
    DeliveryWorker(
        s,
        redis_client,
        env={"FD_SYS_HOOK_URL": http_server.url + "/hook", "FD_SYS_HOOK_SECRET": SECRET},
    ).run_until_idle(timeout_s=30)
    values = {
        "cta_trigger_within_1_5pct": store.meta("cta.SPX").headline[
            "nearest_trigger_abs_distance_pct"
        ],
        "volcontrol_selling_over_20bn": store.meta("volcontrol.SPX").headline[
            "flow_usd_shock_down_5pct_1w"
        ],
        "futures_crowded": store.meta("cftc.futures_positioning").headline["crowding_flags"],
    }
    breached = {
        "cta_trigger_within_1_5pct": values["cta_trigger_within_1_5pct"] < 1.5,
        "volcontrol_selling_over_20bn": values["volcontrol_selling_over_20bn"] < -20e9,
        "futures_crowded": values["futures_crowded"] >= 1,
    }
    assert all(
        breached.values()
    )  # on this sample: trigger 1.27 % away, -26.4 bn over a week after -5 %, 1 flag
    reqs = http_server.requests_to("/hook")
    now = time.time()
    assert reqs and all(
        verify(SECRET, r.headers[SIGNATURE_HEADER.lower()], r.body, now=now) for r in reqs
    )
    fired = {
        json.loads(r.body)["event"]["rule"]: json.loads(r.body)["event"]
        for r in reqs
        if json.loads(r.body)["type"] == "alert.fired"
    }
    assert set(fired) == {
        k for k, v in breached.items() if v
    }  # exactly the rules whose condition holds
    for rule, ev in fired.items():
        assert ev["value"] == pytest.approx(values[rule]) and ev["metric"] == RULES[rule]["metric"]


def test_brief_carries_the_new_headline_figures(test_data, store) -> None:
    s = _settings(test_data)
    chain = cboe_csv.read_file(test_data / "options" / "spx_quotedata_2023-09-14_trimmed.csv")
    params = gamma_params(s, "SPX", chain.as_of)
    ctx = TaskContext(
        settings=s, store=store, now=NOW, job="test", slot="t", log=logging.getLogger("test")
    )
    publish_report(ctx, "SPX", chain, analyze(chain, params), False, {}, params)
    assert run_job(s, store, "letf", now=NOW).status == "ok"
    assert run_job(s, store, "systematic", now=NOW).status == "ok"
    assert run_job(s, store, "fp", now=NOW).status == "ok"
    rec = run_job(s, store, "brief", now=datetime(2026, 11, 26, 8, 55, tzinfo=NY))
    assert rec.status == "ok", rec.error
    h = store.meta("board.brief").headline
    vc, ct, etp, fp = (
        store.meta(n).headline
        for n in ("volcontrol.SPX", "cta.SPX", "vixetp.flows", "cftc.futures_positioning")
    )
    assert (
        h["volcontrol_flow_usd_1d"] == vc["flow_usd_1d"]
        and h["volcontrol_flow_usd_1w_flat"] == vc["flow_usd_1w_flat"]
    )
    assert (
        h["cta_nearest_trigger_level"] == ct["nearest_trigger_level"]
        and h["cta_nearest_trigger_distance_pct"] == ct["nearest_trigger_distance_pct"]
    )
    assert (
        h["vixetp_rebalance_usd"] == etp["rebalance_usd"]
        and h["futures_crowding_flags"] == fp["crowding_flags"]
    )
    text = h["text"]
    assert (
        f"nearest trigger {ct['nearest_trigger']} at {ct['nearest_trigger_level']:,.2f} ({ct['nearest_trigger_distance_pct']:+.2f} % from the close)"
        in text
    )
    assert (
        "Vol-control (SPX, next sessions, lagged)" in text
        and "VIX ETPs (today, VX futures)" in text
        and "crowding flag" in text
    )
    figs = store.meta("board.brief").extra["figures"]
    assert figs["CTA nearest trigger distance (%)"] == pytest.approx(
        ct["nearest_trigger_distance_pct"]
    )
    # the next brief compares them (changes since the previous brief)
    assert run_job(s, store, "brief", now=datetime(2026, 11, 27, 8, 55, tzinfo=NY)).status == "ok"
    changes = store.read("board.brief").table("changes")
    assert isinstance(changes, pd.DataFrame)
