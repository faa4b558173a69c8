"""Alert rules: the pure state machine, config validation, and evaluation after a publish (real Redis)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from flows.errors import MetricError
from jobs.alerts import (
    RuleState,
    catalogue,
    check_metric,
    clears,
    condition_text,
    counts,
    enqueue_digest,
    evaluate_published,
    load_state,
    metric_unit,
    outbox_entries,
    recent_events,
    resolve_metric,
    rule_states,
    step,
)
from jobs.config import AlertRule, ConfigError
from jobs.declarations import PLACEHOLDERS
from jobs.store import keys
from jobs.validate import parse_settings
from tests.declared import tables_for

T0 = 1_700_000_000.0


def rule(**kw) -> AlertRule:
    base = {
        "metric": "gamma.SPX.flip_distance_pct",
        "op": "<",
        "threshold": 1.0,
        "cooldown_minutes": 0,
        "hysteresis": 0,
    }
    base.update(kw)
    return AlertRule(**base)


def run(series: list[float], r: AlertRule, dt_s: float = 60.0) -> list[tuple[int, str, float]]:
    """Feed ``series`` one value per ``dt_s`` seconds; return ``(index, kind, value)`` of events."""
    state = RuleState()
    out = []
    for i, v in enumerate(series):
        state, ev = step(state, v, T0 + i * dt_s, r, "r")
        if ev is not None:
            out.append((i, ev.kind, ev.value))
    return out


# -- state machine ----------------------------------------------------------------------------
def test_fire_and_resolve_without_hysteresis():
    r = rule(op=">", threshold=10.0)
    assert run([5, 11, 12, 9, 8], r) == [(1, "fired", 11.0), (3, "resolved", 9.0)]


def test_equality_edges_follow_the_operator():
    assert run([10, 10.0001, 10], rule(op=">", threshold=10.0)) == [
        (1, "fired", 10.0001),
        (2, "resolved", 10.0),
    ]
    assert run([9.9, 10, 9.9], rule(op=">=", threshold=10.0)) == [
        (1, "fired", 10.0),
        (2, "resolved", 9.9),
    ]
    assert run([1.1, 1.0, 1.1], rule(op="<=", threshold=1.0)) == [
        (1, "fired", 1.0),
        (2, "resolved", 1.1),
    ]


def test_hysteresis_bounds_are_exactly_as_documented():
    # value > T resolves only at value <= T - h; value < T resolves only at value >= T + h
    assert not clears(8.01, ">", 10.0, 2.0)
    assert clears(8.0, ">", 10.0, 2.0)
    assert not clears(8.0, ">=", 10.0, 2.0)
    assert clears(7.99, ">=", 10.0, 2.0)
    assert not clears(2.99, "<", 1.0, 2.0)
    assert clears(3.0, "<", 1.0, 2.0)
    assert not clears(3.0, "<=", 1.0, 2.0)


def test_oscillation_around_threshold_flaps_without_protection():
    series = [1.05, 0.95] * 20  # hovers around a 1% flip distance
    events = run(series, rule(op="<", threshold=1.0))
    # every crossing is an event: 20 fired, 19 resolved (the series ends in breach)
    assert [k for _, k, _ in events].count("fired") == 20
    assert [k for _, k, _ in events].count("resolved") == 19


def test_hysteresis_stops_flapping():
    series = [1.05, 0.95] * 20 + [1.6]  # hovers, then clearly leaves
    events = run(series, rule(op="<", threshold=1.0, hysteresis=0.5))
    assert events == [(1, "fired", 0.95), (40, "resolved", 1.6)]


def test_cooldown_stops_flapping():
    # One reading a minute, cooldown 30 minutes: 40 minutes of oscillation.
    series = [1.05, 0.95] * 20
    events = run(series, rule(op="<", threshold=1.0, cooldown_minutes=30))
    fired = [e for e in events if e[1] == "fired"]
    resolved = [e for e in events if e[1] == "resolved"]
    # First fire at minute 1; re-entries inside 30 minutes are silent and so are their exits.
    # The next announced fire is the first breach entered at or after minute 31.
    assert [e[0] for e in fired] == [1, 31]
    assert [e[0] for e in resolved] == [2, 32]


def test_breach_held_through_cooldown_is_announced_once_cooldown_ends():
    r = rule(op=">", threshold=10.0, cooldown_minutes=10)
    series = [
        11,
        9,
        11,
        11,
        11,
        11,
        11,
        11,
        11,
        11,
        11,
        11,
        11,
        11,
    ]  # re-enters at minute 2 and stays
    events = run(series, r)
    assert events == [(0, "fired", 11.0), (1, "resolved", 9.0), (10, "fired", 11.0)]


def test_absolute_rule_compares_magnitude_and_keeps_the_sign():
    # |flip distance| < 0.5 %: the flip is close on either side of spot
    r = rule(op="<", threshold=0.5, hysteresis=0.25, absolute=True)
    events = run([-2.0, -0.4, 0.3, -0.6, 0.8, -1.2], r)
    # fired at |-0.4| < 0.5, resolved at |0.8| >= 0.5 + 0.25; the events carry the signed values
    assert events == [(1, "fired", -0.4), (4, "resolved", 0.8)]
    state, ev = step(RuleState(), -0.4, T0, r, "near_flip")
    assert ev.absolute and state.last_value == -0.4 and state.status == "breach"
    assert ev.text == (
        "|gamma.SPX.flip_distance_pct| = 0.4 (gamma.SPX.flip_distance_pct = -0.4; breach of < 0.5)"
    )
    # a negative value whose magnitude is past the threshold is no breach of '< 0.5'
    state, ev = step(RuleState(), -0.6, T0, r, "near_flip")
    assert ev is None and state.status == "ok" and state.last_value == -0.6
    assert (
        condition_text("<", 0.5, True) == "|value| < 0.5" and condition_text(">", 2, False) == "> 2"
    )


def test_fmt_value_is_readable():
    from jobs.alerts import fmt_value

    assert fmt_value(72_317_900_000.4) == "72,317,900,000"
    assert fmt_value(-5e8) == "-500,000,000"
    assert (
        fmt_value(0.4) == "0.4" and fmt_value(-1.25) == "-1.25" and fmt_value(2.109375) == "2.109"
    )
    assert fmt_value(None) == "-"
    # the pages write the grids' minus sign; texts and webhooks keep ASCII
    assert fmt_value(-1.25, minus="\u2212") == "\u22121.25"
    assert (
        fmt_value(-5e8, minus="\u2212") == "\u2212500,000,000"
        and fmt_value(3.0, minus="\u2212") == "3"
    )
    assert fmt_value(0.000012345) == "0.00001234" and fmt_value(-3.2e-9) == "-0.0000000032"


def test_missing_or_nan_value_changes_nothing():
    r = rule(op=">", threshold=10.0)
    s1, ev = step(RuleState(), 11.0, T0, r, "r")
    assert ev is not None and s1.status == "breach"
    for v in (None, float("nan")):
        s2, ev2 = step(s1, v, T0 + 60, r, "r")
        assert ev2 is None and s2 == s1


def test_state_round_trips_as_json():
    s, _ = step(RuleState(), 0.5, T0, rule(), "r")
    assert RuleState.from_dict(json.loads(json.dumps(s.to_dict()))) == s


# -- metrics and validation -------------------------------------------------------------------
def test_check_metric_uses_longest_family_and_the_catalogue():
    assert check_metric("gamma.SPX.net_gex_usd_per_1pct") == ("gamma.SPX", "net_gex_usd_per_1pct")
    assert check_metric("gamma.summary.failed") == (
        "gamma.summary",
        "failed",
    )  # not gamma.<UNDERLYING>
    assert check_metric("letf.flows.per_1pct_usd") == ("letf.flows", "per_1pct_usd")
    assert check_metric("cftc.net_usd.zscore_3y") == ("cftc.net_usd", "zscore_3y")
    assert check_metric("cftc.net_usd.net_usd_wide9") == ("cftc.net_usd", "net_usd_wide9")
    assert check_metric("cftc.net_usd.net_usd_levfunds_reuters6") == (
        "cftc.net_usd",
        "net_usd_levfunds_reuters6",
    )
    examples = {
        "<UNDERLYING>": "NDX",
        "<SYMBOL>": "NVDA",
        "<INDEX>": "SPX",
        "<BASKET>": "wide9",
        "<MARKET>": "sp500",
        "<CCY>": "EUR",
        "<WINDOW>": "3y",
    }
    assert set(examples) >= set(PLACEHOLDERS) - {"<SERIES>"}
    for family, keys_ in catalogue().items():
        assert (
            "quality_skipped_share" in keys_ and "quality_warnings" in keys_
        )  # valid for every result
        for key in keys_:
            name, key = family, key
            for ph, example in examples.items():
                name, key = name.replace(ph, example), key.replace(ph, example)
            assert check_metric(f"{name}.{key}") == (name, key)


def test_the_catalogue_is_the_declarations_numeric_alertable_keys():
    """Issue 14: the catalogue is read from jobs.declarations; text, lists, flags and
    parameters are declared but not metrics, and the error says why."""
    cat = catalogue()
    assert "regime" not in cat["gamma.<UNDERLYING>"] and "flips" not in cat["gamma.<UNDERLYING>"]
    assert cat["gamma.<UNDERLYING>"]["net_gex_usd_per_1pct"].unit == "USD per 1% move"
    assert metric_unit("gamma.SPX.flip_distance_pct") == "%"
    assert metric_unit("cftc.net_usd.percentile_3y") == "percentile (0-100)"
    assert metric_unit("letf.flows.quality_skipped_share") == "fraction (0-1)"
    assert metric_unit("gamma.SPX.nope") is None
    with pytest.raises(
        MetricError, match="headline key 'regime' of result 'gamma.SPX' is text, not a number"
    ):
        check_metric("gamma.SPX.regime")
    with pytest.raises(
        MetricError, match="headline key 'r' of result 'gamma.SPX' is not alertable"
    ):
        check_metric("gamma.SPX.r")
    with pytest.raises(MetricError, match="unknown headline key 'gross' for result 'letf.flows'"):
        check_metric("letf.flows.gross")


def test_resolve_metric_picks_the_longest_published_prefix():
    published = ["gamma", "gamma.SPX", "gamma.SPX.weekly"]
    assert resolve_metric("gamma.SPX.weekly.flip", published) == ("gamma.SPX.weekly", "flip")
    assert resolve_metric("gamma.SPX.flip", published) == ("gamma.SPX", "flip")
    assert resolve_metric("letf.flows.per_1pct_usd", published) is None


def _config(rules: dict, targets: dict | None = None) -> dict:
    return {"alerts": {"targets": targets or {}, "rules": rules}}


def test_config_rejects_unknown_metric_with_a_clear_message():
    with pytest.raises(ConfigError) as err:
        parse_settings(
            _config({"spx": {"metric": "gamma.SPX.net_gamma", "op": "<", "threshold": 0}}),
            source="config.toml",
        )
    msg = str(err.value)
    assert (
        "config.toml: alerts.rules.spx.metric: unknown headline key 'net_gamma' for result 'gamma.SPX'"
        in msg
    )
    assert "net_gex_usd_per_1pct" in msg  # the known keys are listed

    with pytest.raises(ConfigError) as err:
        parse_settings(
            _config({"x": {"metric": "equity.SPX.delta", "op": "<", "threshold": 0}}),
            source="config.toml",
        )
    assert "alerts.rules.x.metric: unknown result family in metric 'equity.SPX.delta'" in str(
        err.value
    )
    assert "letf.flows" in str(err.value)

    with pytest.raises(ConfigError) as err:
        parse_settings(
            _config({"x": {"metric": "demo", "op": "<", "threshold": 0}}), source="config.toml"
        )
    assert "alerts.rules.x.metric: metric 'demo' must be '<result>.<headline key>'" in str(
        err.value
    )


@pytest.mark.parametrize(
    ("threshold", "reason"),
    [
        (float("nan"), "threshold must be a finite number (not nan or inf)"),
        (float("inf"), "threshold must be a finite number (not nan or inf)"),
        ("1e9", "threshold must be a number in the unit of the metric"),
        (True, "threshold must be a number in the unit of the metric"),
    ],
)
def test_config_rejects_bad_threshold(threshold, reason):
    with pytest.raises(ConfigError) as err:
        parse_settings(
            _config(
                {
                    "flip": {
                        "metric": "gamma.SPX.flip_distance_pct",
                        "op": "<",
                        "threshold": threshold,
                    }
                }
            ),
            source="config.toml",
        )
    assert f"config.toml: alerts.rules.flip.threshold: {reason}" in str(err.value)


def test_config_rejects_bad_targets_and_delivery_settings():
    with pytest.raises(ConfigError) as err:
        parse_settings(
            _config(
                {"r": {"metric": "demo.total_usd", "op": ">", "threshold": 1, "targets": ["desk"]}}
            )
        )
    assert "alerts.rules.r.targets: unknown target 'desk' (known: none configured)" in str(
        err.value
    )
    with pytest.raises(ConfigError) as err:
        parse_settings(
            _config(
                {}, {"desk": {"kind": "slack", "url_env": "https://hooks.slack.com/services/x"}}
            )
        )
    assert "alerts.targets.desk.url_env: must be the NAME of an environment variable" in str(
        err.value
    )
    with pytest.raises(ConfigError) as err:
        parse_settings({"alerts": {"timeout_seconds": 10, "lease_seconds": 5}})
    assert "alerts.lease_seconds: must exceed alerts.timeout_seconds (10)" in str(err.value)
    with pytest.raises(ConfigError) as err:
        parse_settings(_config({"r": {"metric": "demo.total_usd", "op": "=>", "threshold": 1}}))
    assert "alerts.rules.r.op" in str(err.value)


def test_shipped_config_validates():
    from jobs.config import PROJECT_ROOT
    from jobs.validate import load_settings

    settings = load_settings(PROJECT_ROOT / "config.toml", env={})
    for name, r in settings.alerts.rules.items():
        assert check_metric(r.metric), name


# -- evaluation after publish (real Redis) ------------------------------------------------------
def _settings(**rule_kw):
    r = {
        "metric": "gamma.SPX.flip_distance_pct",
        "op": "<",
        "threshold": 1.0,
        "hysteresis": 0.25,
        "cooldown_minutes": 0,
        "severity": "critical",
        "targets": ["desk", "chat"],
    }
    r.update(rule_kw)
    return parse_settings(
        {
            "alerts": {
                "targets": {
                    "desk": {
                        "kind": "webhook",
                        "url_env": "DESK_URL",
                        "secret_env": "DESK_SECRET",
                        "digest": True,
                    },
                    "chat": {"kind": "slack", "url_env": "CHAT_URL"},
                },
                "rules": {
                    "spx_near_flip": r,
                    "demo_big": {
                        "metric": "demo.total_usd",
                        "op": ">",
                        "threshold": 1e9,
                        "targets": ["desk"],
                    },
                },
            }
        },
        env={},
    )


def _publish_gamma(store, distance_pct: float, at: str) -> None:
    """A ``gamma.SPX`` with the declared tables (empty: the rules read only the headline)."""
    store.publish(
        "gamma.SPX",
        tables_for("gamma.SPX"),
        as_of=pd.Timestamp(at, tz="America/New_York"),
        source="test",
        headline={"net_gex_usd_per_1pct": -1.0e9, "flip_distance_pct": distance_pct},
    )


def test_evaluate_published_fires_resolves_and_queues_deliveries(store):
    settings = _settings()
    _publish_gamma(store, 1.5, "2024-01-05 09:30")
    assert evaluate_published(settings, store, ["gamma.SPX"], now=T0) == []
    assert load_state(store.redis, "spx_near_flip").status == "ok"

    _publish_gamma(store, 0.8, "2024-01-05 09:45")
    fired = evaluate_published(settings, store, ["gamma.SPX"], now=T0 + 900)
    assert [e.kind for e in fired] == ["fired"]
    ev = fired[0]
    assert (ev.rule, ev.result, ev.value, ev.threshold, ev.severity) == (
        "spx_near_flip",
        "gamma.SPX",
        0.8,
        1.0,
        "critical",
    )
    assert ev.as_of.startswith("2024-01-05T09:45:00-05:00")
    # state, event and one delivery per target, all in Redis
    assert load_state(store.redis, "spx_near_flip").status == "breach"
    assert [e.id for e in recent_events(store.redis)] == [ev.id]
    out = outbox_entries(store.redis)
    assert sorted(d["target"] for d in out) == ["chat", "desk"]
    assert {d["event_id"] for d in out} == {ev.id}
    assert counts(store.redis)["pending"] == 2

    # a result the rule does not read changes nothing
    assert evaluate_published(settings, store, ["demo"], now=T0 + 1000) == []

    # inside the hysteresis band: still breach, no event
    _publish_gamma(store, 1.1, "2024-01-05 10:00")
    assert evaluate_published(settings, store, ["gamma.SPX"], now=T0 + 1800) == []
    _publish_gamma(store, 1.3, "2024-01-05 10:15")
    resolved = evaluate_published(settings, store, ["gamma.SPX"], now=T0 + 2700)
    assert [e.kind for e in resolved] == ["resolved"]
    assert [e.kind for e in recent_events(store.redis)] == ["resolved", "fired"]
    assert counts(store.redis)["pending"] == 4

    rows = {r["rule"]: r for r in rule_states(settings, store.redis)}
    assert rows["spx_near_flip"]["state"] == "ok" and rows["spx_near_flip"]["last_value"] == 1.3
    assert rows["spx_near_flip"]["unit"] == "%"
    assert rows["spx_near_flip"]["last_fired"] is not None
    assert rows["demo_big"]["state"] == "unknown"


def test_evaluate_published_skips_missing_headline(store):
    settings = _settings(metric="gamma.SPX.call_wall")
    _publish_gamma(store, 0.5, "2024-01-05 09:30")  # publishes no call_wall
    assert evaluate_published(settings, store, ["gamma.SPX"], now=T0) == []
    assert counts(store.redis)["pending"] == 0


def test_disabled_rule_is_not_evaluated(store):
    settings = _settings(enabled=False)
    _publish_gamma(store, 0.5, "2024-01-05 09:30")
    assert evaluate_published(settings, store, ["gamma.SPX"], now=T0) == []
    assert store.redis.get(keys.alert_state("spx_near_flip")) is None


def test_digest_goes_to_digest_targets_only(store):
    settings = _settings()
    ids = enqueue_digest(
        settings,
        store,
        "Morning brief 2024-01-05",
        "SPX short gamma; flip 0.8% below",
        {"spx_flip_distance_pct": -0.8},
    )
    assert len(ids) == 1
    out = outbox_entries(store.redis)
    assert [(d["target"], d["event_kind"]) for d in out] == [("desk", "digest")]
    assert recent_events(store.redis)[0].data == {"spx_flip_distance_pct": -0.8}


def test_alerts_list_command_shows_rules_states_and_outbox(store, redis_url):
    from click.testing import CliRunner

    from jobs.commands.alerts import alerts as alerts_cli

    settings = _settings()
    settings.service.redis_url = redis_url
    _publish_gamma(store, 0.8, "2024-01-05 09:45")
    [ev] = evaluate_published(settings, store, ["gamma.SPX"], now=T0)

    res = CliRunner().invoke(alerts_cli, ["list"], obj={"settings": settings})
    assert res.exit_code == 0, res.output
    assert (
        "spx_near_flip" in res.output
        and "breach" in res.output
        and "last value 0.8 %" in res.output
    )
    assert "gamma.SPX.flip_distance_pct (%)" in res.output  # the metric's declared unit
    assert "Outbox: 2 pending, 0 in flight; 0 dead-lettered" in res.output

    res = CliRunner().invoke(alerts_cli, ["list", "--json"], obj={"settings": settings})
    doc = json.loads(res.stdout)
    assert {r["rule"]: r["state"] for r in doc["rules"]} == {
        "spx_near_flip": "breach",
        "demo_big": "unknown",
    }
    assert doc["counts"]["pending"] == 2
    assert {d["event_id"] for d in doc["outbox"]} == {ev.id}
    assert doc["events"][0]["id"] == ev.id


def test_concurrent_evaluations_fire_once(store):
    """Two schedulers (or threads) evaluating the same publish: the WATCHed state lets one fire."""
    import threading

    from jobs.store import ResultStore

    settings = _settings()
    _publish_gamma(store, 0.5, "2024-01-05 09:45")
    results: list = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        own = ResultStore(store.redis.__class__(connection_pool=store.redis.connection_pool))
        barrier.wait()
        results.extend(evaluate_published(settings, own, ["gamma.SPX"], now=T0))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [e.kind for e in results] == ["fired"]
    assert len(recent_events(store.redis)) == 1
    assert counts(store.redis)["pending"] == 2  # one delivery per target, not per evaluator
