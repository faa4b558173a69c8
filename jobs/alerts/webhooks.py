"""Webhook requests: signatures, payloads for generic receivers, Slack and Teams, one HTTP attempt.

Every request carries the event id in ``X-Flowdesk-Event-Id`` (the idempotency key: a retry or
a re-delivery after a crash sends the same id, so receivers deduplicate on it) and, when the
target has a ``secret_env``, ``X-Flowdesk-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256(secret, ``"<t>." + body``).  A receiver checks it with :func:`verify`, which also
rejects timestamps outside a tolerance window (replays).

Payloads
    * ``webhook``: generic JSON ``{"id", "type", "created", "event": {...}}``;
    * ``slack``: Slack incoming webhook ``{"text": ..., "blocks": [...]}``;
    * ``teams``: Microsoft Teams workflow webhook, a ``message`` with one Adaptive Card.

The outbox, retries and the worker that sends these requests are in :mod:`jobs.alerts.delivery`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from flows.errors import TargetConfigError
from flows.formatting import format_time
from flows.sources.http import backoff_delay, retry_after_seconds
from jobs.alerts.rules import AlertEvent, condition_text, fmt_value
from jobs.logs import mask_url_in

if TYPE_CHECKING:
    from jobs.config import AlertTarget

__all__ = [
    "Attempt",
    "backoff_delay",
    "build_request",
    "generic_payload",
    "post",
    "sign",
    "signature_header",
    "slack_payload",
    "teams_payload",
    "verify",
]

SIGNATURE_HEADER = "X-Flowdesk-Signature"
EVENT_ID_HEADER = "X-Flowdesk-Event-Id"
DEFAULT_TOLERANCE_S = 300
"""Signatures older or newer than this many seconds are rejected by :func:`verify`."""
USER_AGENT = "flowdesk-webhooks/0.1"


# -- signatures ---------------------------------------------------------------------------------
def sign(secret: str | bytes, timestamp: int, body: bytes | str) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}." + body`` with ``secret``."""
    key = secret.encode() if isinstance(secret, str) else secret
    payload = (
        str(int(timestamp)).encode() + b"." + (body.encode() if isinstance(body, str) else body)
    )
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def signature_header(secret: str | bytes, timestamp: int, body: bytes | str) -> str:
    """Value of ``X-Flowdesk-Signature``: ``t=<unix seconds>,v1=<hex>``."""
    return f"t={int(timestamp)},v1={sign(secret, timestamp, body)}"


def verify(
    secret: str | bytes,
    header: str | None,
    body: bytes | str,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """Check an ``X-Flowdesk-Signature`` header against ``body`` (the raw bytes received).

    True only if the header parses, its timestamp is within ``tolerance_s`` of ``now`` (epoch
    seconds; older or far-future timestamps are replays or clock trouble) and one of its ``v1``
    signatures matches (constant-time comparison; several ``v1`` allow secret rotation).
    """
    if not header:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body)
    ok = False
    for cand in candidates:  # no early exit: same work whichever matches
        ok |= hmac.compare_digest(expected, cand)
    return ok


# -- payloads -----------------------------------------------------------------------------------
_COLOURS = {"critical": "attention", "warning": "warning", "info": "accent"}


def _facts(event: AlertEvent, tz: str | None = None) -> list[tuple[str, str]]:
    """The event's facts for people: times in the desk zone ``tz`` (:func:`flows.formatting.format_time`)."""
    facts = []
    if event.metric:
        facts.append(("Metric", event.metric))
    if event.value is not None:
        facts.append(("Value", fmt_value(event.value)))
    if event.threshold is not None:
        facts.append(
            (
                "Condition",
                condition_text(event.op or "", event.threshold, event.absolute)
                + (f" (hysteresis {fmt_value(event.hysteresis)})" if event.hysteresis else ""),
            )
        )
    if event.as_of:
        facts.append(("Data as of", format_time(event.as_of, tz)))
    if event.at:
        facts.append(("Evaluated at", format_time(event.at, tz, seconds=True)))
    facts.append(("Event id", event.id))
    return facts


def generic_payload(event: AlertEvent, tz: str | None = None) -> dict[str, Any]:
    """Generic webhook body: ``{"id", "type": "alert.<kind>", "created", "event"}`` (machine
    readable: times stay ISO 8601 UTC; ``tz`` is unused)."""
    return {
        "id": event.id,
        "type": f"alert.{event.kind}",
        "created": event.at,
        "event": event.to_dict(),
    }


def slack_payload(event: AlertEvent, tz: str | None = None) -> dict[str, Any]:
    """Slack incoming-webhook body: fallback ``text`` plus Block Kit ``blocks`` (times in ``tz``)."""
    fields = [
        {"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in _facts(event, tz) if k != "Event id"
    ]
    # Block Kit limits: header text 150 characters, section text 3,000.
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": (event.title or "flowdesk")[:150]},
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _clip(event.text or " ", SLACK_TEXT_MAX)},
        },
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields[:10]})
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"flowdesk · {event.kind} · `{event.id}`"}],
        }
    )
    return {"text": _clip(f"{event.title}: {event.text}", SLACK_TEXT_MAX), "blocks": blocks}


SLACK_TEXT_MAX = 3000
"""Slack's limit on a section's text, characters (longer digests are clipped with a marker)."""


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 12] + " … (clipped)"


def teams_payload(event: AlertEvent, tz: str | None = None) -> dict[str, Any]:
    """Teams workflow ("When a Teams webhook request is received") body: one Adaptive Card
    (times in ``tz``)."""
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "size": "Medium",
                "weight": "Bolder",
                "text": event.title or "flowdesk",
                "color": _COLOURS.get(event.severity, "default"),
                "wrap": True,
            },
            {"type": "TextBlock", "text": event.text or " ", "wrap": True},
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in _facts(event, tz)]},
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


PAYLOADS = {"webhook": generic_payload, "slack": slack_payload, "teams": teams_payload}


def build_request(
    target: AlertTarget,
    event: AlertEvent,
    env: dict[str, str] | None = None,
    now: float | None = None,
    tz: str | None = None,
) -> tuple[str, bytes, dict[str, str]]:
    """URL, body bytes and headers for sending ``event`` to ``target``; times people read in the
    desk zone ``tz`` (``[service] timezone``; New York when None).

    Raises :class:`TargetConfigError` naming the environment variable when it is not set.
    """
    env = os.environ if env is None else env
    url = env.get(target.url_env)
    if not url:
        raise TargetConfigError(
            f"environment variable {target.url_env} (url_env of the target) is not set"
        )
    body = json.dumps(PAYLOADS[target.kind](event, tz), separators=(",", ":"), default=str).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_ID_HEADER: event.id,
    }
    if target.secret_env:
        secret = env.get(target.secret_env)
        if not secret:
            raise TargetConfigError(
                f"environment variable {target.secret_env} (secret_env of the target) is not set"
            )
        headers[SIGNATURE_HEADER] = signature_header(
            secret, int(now if now is not None else time.time()), body
        )
    return url, body, headers


# -- one HTTP attempt ---------------------------------------------------------------------------
@dataclass
class Attempt:
    """Outcome of one HTTP attempt."""

    ok: bool
    retry: bool
    status: int | None = None
    error: str | None = None
    retry_after_s: float | None = None


def post(
    session: requests.Session, url: str, body: bytes, headers: dict[str, str], timeout_s: float
) -> Attempt:
    """POST once and classify the answer (never raises for network problems).

    The error text never contains the URL: ``requests`` quotes it (or its path) in its
    messages, and a receiver may echo it in an error body, so every form of it is masked.
    """
    try:
        resp = session.post(
            url, data=body, headers=headers, timeout=timeout_s, allow_redirects=False
        )
    except requests.Timeout as exc:
        return Attempt(False, True, None, f"timeout after {timeout_s:g}s: {type(exc).__name__}")
    except requests.ConnectionError as exc:
        return Attempt(False, True, None, mask_url_in(f"connection error: {exc}", url)[:500])
    except requests.RequestException as exc:  # bad URL and the like: retrying cannot help
        return Attempt(False, False, None, mask_url_in(f"{type(exc).__name__}: {exc}", url)[:500])
    status = resp.status_code
    if 200 <= status < 300:
        return Attempt(True, False, status)
    snippet = mask_url_in(resp.text[:200].replace("\n", " ").replace("\r", " "), url)
    if status == 429 or status >= 500:
        return Attempt(
            False,
            True,
            status,
            f"HTTP {status}: {snippet}",
            retry_after_seconds(resp.headers.get("Retry-After")),
        )
    return Attempt(False, False, status, f"HTTP {status} (not retried): {snippet}")
