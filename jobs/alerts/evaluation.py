"""Alert evaluation against the store: the Redis bookkeeping around the state machine.

:func:`evaluate_published` runs :func:`jobs.alerts.rules.step` for every rule reading a
just-published result and writes, in one ``MULTI``/``EXEC`` on the ``{alerts}`` hash slot, the new
state, the event (list :func:`jobs.store.keys.alert_events`) and one outbox delivery per target
(:mod:`jobs.alerts.delivery`).  Alerting never fails the job that published: errors are logged.
The reads for the Alerts page and the CLI (:func:`recent_events`, :func:`rule_states`) are here too.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import redis

from jobs.alerts.delivery import add_deliveries
from jobs.alerts.rules import (
    AlertEvent,
    RuleState,
    condition_text,
    epoch_iso,
    fmt_value,
    metric_unit,
    new_event_id,
    resolve_metric,
    step,
)
from jobs.store import keys

if TYPE_CHECKING:
    from jobs.alerts.delivery import DeliveryWorker
    from jobs.config import AlertRule, Settings
    from jobs.store import ResultStore

log = logging.getLogger("flowdesk.alerts")

EVENTS_KEPT = 10_000
"""Alert events kept in Redis (newest first); older ones are trimmed."""


def _decode(raw: bytes | str | None) -> str | None:
    if raw is None:
        return None
    return raw.decode() if isinstance(raw, bytes) else raw


def load_state(client: redis.Redis, rule: str) -> RuleState:
    raw = _decode(client.get(keys.alert_state(rule)))
    return RuleState.from_dict(json.loads(raw)) if raw else RuleState()


def rules_reading(
    settings: Settings, names: Iterable[str], published: Iterable[str] = ()
) -> list[tuple[str, AlertRule, str, str]]:
    """Rules whose metric reads one of ``names``: ``(rule name, rule, result, headline key)``.

    The metric is split at the longest result name known (``names`` plus ``published``).
    """
    names = list(names)
    known = set(names) | set(published)
    out = []
    for rname, rule in settings.alerts.rules.items():
        if not rule.enabled:
            continue
        split = resolve_metric(rule.metric, known)
        if split is not None and split[0] in names:
            out.append((rname, rule, split[0], split[1]))
    return out


def evaluate_published(
    settings: Settings, store: ResultStore, names: list[str], *, now: float | datetime | None = None
) -> list[AlertEvent]:
    """Evaluate every rule reading one of the just-published results ``names``.

    Called after each publish (the runner's ``after_publish`` hook).  For each rule: read the
    result's current headline value, run :func:`step`, and write state, event and deliveries
    atomically (optimistic ``WATCH`` on the state key, so two processes evaluating the same rule
    cannot both fire).  Never raises for one bad rule: the problem is logged and the others go on.

    Returns the events emitted (fired and resolved).
    """
    from jobs.store import ResultNotFound

    t = (
        time.time()
        if now is None
        else (now.timestamp() if isinstance(now, datetime) else float(now))
    )
    client = store.redis
    events: list[AlertEvent] = []
    metas: dict[str, Any] = {}  # one metadata read per result, however many rules read it
    for rname, rule, result, key in rules_reading(settings, names, store.names()):
        if result not in metas:
            try:
                metas[result] = store.meta(result)
            except ResultNotFound:
                metas[result] = None
        meta = metas[result]
        if meta is None:
            continue
        value = meta.headline.get(key)
        if value is not None and not isinstance(value, int | float):
            log.warning(
                "alert rule %s: headline %s of %s is not a number (%r)", rname, key, result, value
            )
            continue
        if value is None:
            log.warning(
                "alert rule %s: result %s has no headline %r (has: %s)",
                rname,
                result,
                key,
                ", ".join(sorted(meta.headline)),
            )
        try:
            ev = _commit_step(client, settings, rname, rule, value, t, result, meta.as_of)
        except Exception:  # one broken rule never stops the others nor the job
            log.exception("alert rule %s: evaluation failed", rname)
            continue
        if ev is not None:
            log.info(
                "alert %s rule=%s value=%s threshold=%s%s id=%s",
                ev.kind,
                rname,
                ev.value,
                rule.op,
                rule.threshold,
                ev.id,
            )
            events.append(ev)
    return events


def _commit_step(
    client: redis.Redis,
    settings: Settings,
    rname: str,
    rule: AlertRule,
    value: Any,
    t: float,
    result: str,
    as_of: str,
) -> AlertEvent | None:

    skey = keys.alert_state(rname)
    for _ in range(20):
        with client.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(skey)
                raw = _decode(pipe.get(skey))
                state = RuleState.from_dict(json.loads(raw)) if raw else RuleState()
                new_state, ev = step(state, value, t, rule, rname)
                if ev is not None:
                    ev = replace(ev, result=result, as_of=as_of)
                pipe.multi()
                pipe.set(skey, json.dumps(new_state.to_dict()))
                if ev is not None:
                    pipe.lpush(keys.alert_events(), json.dumps(ev.to_dict()))
                    pipe.ltrim(keys.alert_events(), 0, EVENTS_KEPT - 1)
                    add_deliveries(pipe, settings, ev, ev.targets, now=t)
                pipe.execute()
                return ev
            except redis.WatchError:
                continue
    raise RuntimeError(f"alert rule {rname}: state kept changing under concurrent evaluation")


def enqueue_digest(
    settings: Settings,
    store: ResultStore,
    title: str,
    text: str,
    data: dict[str, Any],
    *,
    now: float | None = None,
) -> list[str]:
    """Queue the morning brief for every target with ``digest = true``; return the delivery ids.

    The digest is recorded as an event of kind ``digest`` (shown on the Alerts page).
    """

    t = time.time() if now is None else now
    targets = [name for name, target in settings.alerts.targets.items() if target.digest]
    ev = AlertEvent(
        id=new_event_id(t),
        kind="digest",
        at=epoch_iso(t),
        title=title,
        text=text,
        targets=targets,
        data=dict(data),
    )
    with store.redis.pipeline(transaction=True) as pipe:
        pipe.lpush(keys.alert_events(), json.dumps(ev.to_dict(), default=str))
        pipe.ltrim(keys.alert_events(), 0, EVENTS_KEPT - 1)
        ids = add_deliveries(pipe, settings, ev, targets, now=t)
        pipe.execute()
    return ids


def start_delivery_worker(settings: Settings, store: ResultStore) -> DeliveryWorker:
    """Start the background delivery thread(s) for the outbox; call ``.stop()`` to end them."""
    from jobs.alerts.delivery import DeliveryWorker

    worker = DeliveryWorker(settings, store.redis)
    worker.start()
    return worker


# -- reads for the Alerts page and the CLI ----------------------------------------------------
def recent_events(client: redis.Redis, limit: int = 100) -> list[AlertEvent]:
    """Newest first."""
    return [
        AlertEvent.from_dict(json.loads(_decode(r) or "{}"))
        for r in client.lrange(keys.alert_events(), 0, limit - 1)
    ]


def rule_states(
    settings: Settings, client: redis.Redis, *, minus: str = "-"
) -> list[dict[str, Any]]:
    """One row per configured rule: its definition, the metric's declared unit and the rule's
    current state (times ISO UTC); ``minus`` writes the condition's negative figures
    (:func:`jobs.alerts.rules.fmt_value`)."""
    rows = []
    names = list(settings.alerts.rules)
    raws = client.mget([keys.alert_state(n) for n in names]) if names else []
    for name, raw in zip(names, raws, strict=True):
        rule = settings.alerts.rules[name]
        text = _decode(raw)
        state = RuleState.from_dict(json.loads(text)) if text else RuleState()
        rows.append(
            {
                "rule": name,
                "metric": rule.metric,
                "unit": metric_unit(rule.metric),
                "condition": condition_text(rule.op, rule.threshold, rule.absolute, minus=minus)
                + (
                    f" (hysteresis {fmt_value(rule.hysteresis, minus=minus)})"
                    if rule.hysteresis
                    else ""
                ),
                "severity": rule.severity,
                "enabled": rule.enabled,
                "state": state.status if text else "unknown",
                "last_value": state.last_value,
                "last_evaluated": epoch_iso(state.last_at) if state.last_at else None,
                "last_fired": epoch_iso(state.last_fired_at) if state.last_fired_at else None,
                "targets": ", ".join(rule.targets),
            }
        )
    return rows
