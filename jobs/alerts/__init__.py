"""Alerts: rules on published headline figures, and their signed webhook delivery.

* :mod:`jobs.alerts.rules`: the metric catalogue (read from :mod:`jobs.declarations`) and the pure
  rule state machine;
* :mod:`jobs.alerts.evaluation`: evaluation after a publish, digests, reads for the page and CLI;
* :mod:`jobs.alerts.webhooks`: one request (signature, Slack/Teams/generic payload, HTTP attempt);
* :mod:`jobs.alerts.delivery`: the durable Redis outbox, the delivery worker, re-sends.

``from jobs.alerts import ...`` is the public path for every name below.
"""

from __future__ import annotations

from flows.errors import MetricError, TargetConfigError
from jobs.alerts.delivery import (
    DeliveryWorker,
    add_deliveries,
    counts,
    dead_letters,
    delivered_ids,
    enqueue,
    get_delivery,
    new_delivery_id,
    outbox_entries,
    resend,
    send_test,
)
from jobs.alerts.evaluation import (
    EVENTS_KEPT,
    enqueue_digest,
    evaluate_published,
    load_state,
    recent_events,
    rule_states,
    rules_reading,
    start_delivery_worker,
)
from jobs.alerts.rules import (
    AlertEvent,
    RuleState,
    catalogue,
    check_metric,
    clears,
    condition_text,
    family_of,
    fmt_value,
    in_breach,
    known_key,
    metric_unit,
    new_event_id,
    resolve_metric,
    step,
)
from jobs.alerts.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    Attempt,
    backoff_delay,
    build_request,
    generic_payload,
    post,
    sign,
    signature_header,
    slack_payload,
    teams_payload,
    verify,
)

__all__ = [
    "EVENT_ID_HEADER",
    "SIGNATURE_HEADER",
    "backoff_delay",
    "EVENTS_KEPT",
    "AlertEvent",
    "Attempt",
    "DeliveryWorker",
    "MetricError",
    "RuleState",
    "TargetConfigError",
    "add_deliveries",
    "build_request",
    "catalogue",
    "check_metric",
    "clears",
    "condition_text",
    "counts",
    "dead_letters",
    "delivered_ids",
    "enqueue",
    "enqueue_digest",
    "evaluate_published",
    "family_of",
    "fmt_value",
    "generic_payload",
    "get_delivery",
    "in_breach",
    "known_key",
    "load_state",
    "metric_unit",
    "new_delivery_id",
    "new_event_id",
    "outbox_entries",
    "post",
    "recent_events",
    "resend",
    "resolve_metric",
    "rule_states",
    "rules_reading",
    "send_test",
    "sign",
    "signature_header",
    "slack_payload",
    "start_delivery_worker",
    "step",
    "teams_payload",
    "verify",
]
