"""The Alerts page in headless Chromium: a fired event, its delivery, and a dead-lettered delivery."""

from __future__ import annotations

import pytest
import requests

from dashboard.app import create_app
from jobs import alerts
from jobs.alerts import DeliveryWorker, counts, dead_letters, evaluate_published, fmt_value
from jobs.runner import run_job
from tests.dashboard.shell_helpers import DEMO_JOBS, reset_dashboard_caches, use_config
from tests.httpserver import Reply

ALERTS = """
[alerts]
backoff_base_seconds = 0.01
backoff_max_seconds = 0.05
timeout_seconds = 2
lease_seconds = 5

[alerts.targets.desk]
kind = "webhook"
url_env = "FD_PAGE_DESK_URL"
secret_env = "FD_PAGE_DESK_SECRET"

[alerts.targets.legacy]
kind = "slack"
url_env = "FD_PAGE_LEGACY_URL"

[alerts.rules.demo_total]
metric = "demo.total_usd"
op = ">"
threshold = -1e15
severity = "critical"
cooldown_minutes = 30
targets = ["desk", "legacy"]

[alerts.rules.demo_rows]
metric = "demo.rows"
op = "<"
threshold = 2
"""


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    reset_dashboard_caches()


@pytest.mark.browser
def test_alerts_page_shows_fired_and_dead_lettered_events(
    dash_duo, tmp_path, monkeypatch, redis_url, store, http_server
):
    http_server.route("/hook", Reply(200, "ok"))
    http_server.route("/legacy", Reply(400, "invalid_payload"))
    monkeypatch.setenv("FD_PAGE_DESK_URL", http_server.url + "/hook")
    monkeypatch.setenv("FD_PAGE_DESK_SECRET", "s3cret")
    monkeypatch.setenv("FD_PAGE_LEGACY_URL", http_server.url + "/legacy")
    settings = use_config(
        tmp_path, monkeypatch, redis_url, refresh_seconds=1, jobs=DEMO_JOBS + ALERTS
    )

    # the runner's after-publish hook evaluates the rules (as the scheduler wires it)
    fired: list = []
    run_job(
        settings,
        store,
        "demo",
        after_publish=lambda names: fired.extend(evaluate_published(settings, store, names)),
    )
    assert [(e.rule, e.kind) for e in fired] == [("demo_total", "fired")]
    DeliveryWorker(settings, store.redis).run_until_idle(timeout_s=30)
    assert counts(store.redis)["delivered"] == 1
    [dead] = dead_letters(store.redis)

    dash_duo.start_server(create_app())
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/alerts")
    dash_duo.wait_for_contains_class("#nav-alerts", "active")

    dash_duo.wait_for_contains_text("#alerts-rules-table", "demo_total")
    rules = dash_duo.find_element("#alerts-rules-table").text
    assert (
        "breach" in rules and "demo.total_usd" in rules and "> \u22121,000,000,000,000,000" in rules
    )
    assert "demo_rows" in rules  # rows=5 is not < 2: ok
    # the key number: the rule's last value is the published headline figure, as the API serves it
    api = requests.get(
        f"{dash_duo.server_url}/api/v1/results/demo", params={"limit": 1}, timeout=10
    ).json()
    shown = dash_duo.driver.execute_script(
        "let v = null; dash_ag_grid.getApi('alerts-rules-table').forEachNode(n => { if (n.data.rule === 'demo_total') v = n.data.last_value; }); return v;"
    )
    assert shown == fmt_value(api["meta"]["headline"]["total_usd"])

    dash_duo.wait_for_contains_text("#alerts-events-table", fired[0].id)
    events = dash_duo.find_element("#alerts-events-table").text
    assert "fired" in events and "critical" in events

    dash_duo.wait_for_contains_text("#alerts-dead-table", dead["id"])
    dead_text = dash_duo.find_element("#alerts-dead-table").text
    assert "HTTP 400 (not retried)" in dead_text and "legacy" in dead_text
    dash_duo.wait_for_contains_text("#alerts-card-dead", "1")
    dash_duo.wait_for_contains_text(
        "#alerts-card-rules", "1 in breach"
    )  # by selector: the page refresh re-renders the card
    assert [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"] == []


def test_absolute_rule_on_a_negative_metric_shows_the_signed_value(store):
    """|flip distance| < 1 on a flip 0.8 % below spot: the rule fires (|-0.8| < 1); the state,
    the event, the Alerts page's rows, the CLI and the webhook facts show -0.8, and the condition
    says |value| is compared."""
    create_app()  # registers the pages
    from dashboard.pages.alerts import _event_rows, _rule_rows
    from jobs.alerts.webhooks import _facts
    from tests.jobs.test_alerts import T0, _publish_gamma, _settings

    settings = _settings(absolute=True)
    _publish_gamma(store, -0.8, "2024-01-05 09:45")
    [ev] = alerts.evaluate_published(settings, store, ["gamma.SPX"], now=T0)
    assert (ev.kind, ev.value, ev.absolute) == ("fired", -0.8, True)
    assert alerts.load_state(store.redis, "spx_near_flip").last_value == -0.8
    rows = {r["rule"]: r for r in _rule_rows(settings, store.redis, "America/New_York")}
    near = rows["spx_near_flip"]
    assert near["last_value"] == "\u22120.8" and near["state"] == "breach"  # the grid's minus
    assert near["condition"] == "|value| < 1 (hysteresis 0.25)" and near["unit"] == "%"
    [event_row] = _event_rows(store.redis, "America/New_York")
    assert event_row["value"] == "\u22120.8" and event_row["condition"] == "|value| < 1"
    facts = dict(_facts(ev, "America/New_York"))
    assert facts["Value"] == "-0.8" and facts["Condition"].startswith("|value| < 1")
