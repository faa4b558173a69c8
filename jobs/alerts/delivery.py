"""Signed webhook delivery through a durable Redis outbox, with retries and a dead-letter list.

Requests (signatures, payloads, one HTTP attempt) are built by :mod:`jobs.alerts.webhooks`.

Outbox (keys in :mod:`jobs.store.keys`, all on the ``{alerts}`` hash slot)
    Enqueue writes the delivery hash and ``ZADD outbox <due time>`` in one transaction.  A worker
    claims due deliveries with a Lua script (``register_script``: sent once, then run by its
    SHA) that moves them from ``outbox`` to ``inflight``
    (scored by lease expiry) and stamps a lease token; expired leases (a worker killed mid-request)
    are claimed again by any worker, with the same event id.  Finishing (delivered, retry, dead)
    is another script that acts only while the caller still holds the lease.  So nothing is lost,
    and a duplicate can only reach a receiver with the same event id.

Retries
    Timeouts, connection errors, 5xx and 429 are retried after
    ``min(backoff_max, backoff_base * 2**(attempt-1))`` seconds with "equal jitter" (a uniform
    draw in the upper half), or after ``Retry-After`` when the receiver gives a longer one (up to an
    hour).  Any other 4xx (and 3xx: redirects are not followed) is final: dead-letter at
    once.  After ``max_attempts`` the delivery is dead-lettered; ``flowdesk alerts resend ID``
    puts it back in the outbox.

Delivery runs in its own daemon threads with HTTP timeouts: it never blocks the scheduler or the
web app, and a dead endpoint never fails a job.

Secrets
    A Slack or Teams URL is a credential, and ``requests`` puts the URL (or its path) into its
    exception texts.  Every error text is masked where it is made (:func:`post` masks every form
    of the target URL) and again before it is written to Redis (all secret environment values,
    :func:`jobs.logs.secret_literals`); reads mask once more (:func:`get_delivery`), so records
    written by an older version do not leak through the CLI or the Alerts page either.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import redis
import requests

from flows.errors import TargetConfigError
from flows.sources.http import backoff_delay
from jobs.alerts.rules import AlertEvent, new_event_id
from jobs.alerts.webhooks import Attempt, build_request, post
from jobs.logs import mask_secrets, mask_url_in, secret_literals
from jobs.store import keys

if TYPE_CHECKING:
    from jobs.config import Settings

log = logging.getLogger("flowdesk.webhooks")

DELIVERED_KEPT = 5000
"""Delivered delivery ids kept in the ``delivered`` list (newest first)."""
DELIVERED_TTL_S = 7 * 86400
"""A delivered delivery's hash expires after this many seconds (dead ones are kept)."""
RETRY_AFTER_MAX_S = 3600.0
"""A receiver's ``Retry-After`` is honoured up to this many seconds."""


# -- outbox -------------------------------------------------------------------------------------
def _s(raw: bytes | str | None) -> str | None:
    if raw is None:
        return None
    return raw.decode() if isinstance(raw, bytes) else raw


def new_delivery_id(event_id: str, target: str) -> str:
    return f"dlv_{event_id.removeprefix('evt_')}_{target}_{secrets.token_hex(2)}"


def add_deliveries(
    pipe: redis.client.Pipeline,
    settings: Settings,
    event: AlertEvent,
    targets: list[str],
    *,
    now: float | None = None,
) -> list[str]:
    """Queue ``event`` for each target on ``pipe`` (a ``MULTI`` pipeline the caller executes).

    Unknown target names are queued too and dead-lettered by the worker with a clear error, so
    the problem is visible on the Alerts page rather than silently dropped.
    """
    t = time.time() if now is None else now
    payload = json.dumps(event.to_dict(), default=str)
    ids = []
    for target in targets:
        did = new_delivery_id(event.id, target)
        kind = settings.alerts.targets[target].kind if target in settings.alerts.targets else "?"
        pipe.hset(
            keys.alert_delivery(did),
            mapping={
                "id": did,
                "event_id": event.id,
                "event": payload,
                "target": target,
                "kind": kind,
                "attempts": 0,
                "state": "pending",
                "created_at": t,
                "next_attempt_at": t,
                "last_error": "",
                "last_status": "",
            },
        )
        pipe.zadd(keys.alert_outbox(), {did: t})
        ids.append(did)
    return ids


def enqueue(
    client: redis.Redis,
    settings: Settings,
    event: AlertEvent,
    targets: list[str],
    *,
    now: float | None = None,
) -> list[str]:
    """Atomically queue ``event`` for ``targets``; returns the delivery ids."""
    with client.pipeline(transaction=True) as pipe:
        ids = add_deliveries(pipe, settings, event, targets, now=now)
        pipe.execute()
    return ids


_DELIVERY_PREFIX = keys.alert_delivery("")

# KEYS: outbox, inflight.  ARGV: now, lease_until, limit, token, delivery key prefix.
# Expired leases first go back to the outbox (due now), then the due ones are claimed.
_CLAIM = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[1], ARGV[1], id)
  redis.call('HSET', ARGV[5] .. id, 'lease', '', 'last_error', 'lease expired (worker stopped mid-delivery); re-sent')
end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for i, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZADD', KEYS[2], ARGV[2], id)
  local token = ARGV[4] .. ':' .. i
  redis.call('HSET', ARGV[5] .. id, 'lease', token, 'state', 'inflight')
  redis.call('HINCRBY', ARGV[5] .. id, 'attempts', 1)
  out[#out + 1] = {id, token, redis.call('HGETALL', ARGV[5] .. id)}
end
return out
"""

# KEYS: outbox, inflight, dead, delivered.  ARGV: id, token, outcome, now, next, error, status,
# delivery key prefix, delivered kept, delivered ttl.  Acts only while the caller holds the lease.
_FINISH = """
local key = ARGV[8] .. ARGV[1]
if redis.call('HGET', key, 'lease') ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', key, 'lease', '', 'last_status', ARGV[7], 'last_attempt_at', ARGV[4])
if ARGV[3] == 'delivered' then
  redis.call('HSET', key, 'state', 'delivered', 'delivered_at', ARGV[4], 'last_error', '')
  redis.call('LPUSH', KEYS[4], ARGV[1])
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[9]) - 1)
  redis.call('EXPIRE', key, tonumber(ARGV[10]))
elseif ARGV[3] == 'retry' then
  redis.call('HSET', key, 'state', 'pending', 'next_attempt_at', ARGV[5], 'last_error', ARGV[6])
  redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
else
  redis.call('HSET', key, 'state', 'dead', 'dead_at', ARGV[4], 'last_error', ARGV[6])
  redis.call('LREM', KEYS[3], 0, ARGV[1])
  redis.call('LPUSH', KEYS[3], ARGV[1])
end
return 1
"""

# KEYS: outbox, dead.  ARGV: id, now, delivery key prefix.
_RESEND = """
local key = ARGV[3] .. ARGV[1]
if redis.call('EXISTS', key) == 0 then return -1 end
if redis.call('HGET', key, 'state') ~= 'dead' then return 0 end
redis.call('LREM', KEYS[2], 0, ARGV[1])
redis.call('HSET', key, 'state', 'pending', 'attempts', 0, 'next_attempt_at', ARGV[2], 'lease', '', 'last_error', 'resent by operator')
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
"""


def resend(client: redis.Redis, delivery_id: str, *, now: float | None = None) -> None:
    """Put a dead-lettered delivery back in the outbox (attempts reset, same event id).

    Raises ``KeyError`` for an unknown id and ``ValueError`` if it is not dead-lettered.
    """
    t = time.time() if now is None else now
    res = client.register_script(_RESEND)(
        keys=[keys.alert_outbox(), keys.alert_dead()], args=[delivery_id, t, _DELIVERY_PREFIX]
    )
    if res == -1:
        raise KeyError(
            f"no delivery {delivery_id!r} (see `flowdesk alerts list` for dead-letter ids)"
        )
    if res == 0:
        raise ValueError(
            f"delivery {delivery_id!r} is not dead-lettered (state {get_delivery(client, delivery_id).get('state')!r})"
        )


def get_delivery(client: redis.Redis, delivery_id: str) -> dict[str, Any]:
    """The delivery hash as a dict of strings (numbers converted), ``{}`` if unknown.

    ``last_error`` is masked again (:func:`jobs.logs.mask_secrets` with this process's secret
    environment values): records written before masking existed must not leak either.
    """
    raw = client.hgetall(keys.alert_delivery(delivery_id))
    out: dict[str, Any] = {_s(k): _s(v) for k, v in raw.items()}
    if out.get("last_error"):
        out["last_error"] = mask_secrets(out["last_error"], secret_literals())
    for f in ("attempts",):
        if f in out:
            out[f] = int(out[f])
    for f in ("created_at", "next_attempt_at", "last_attempt_at", "delivered_at", "dead_at"):
        if out.get(f):
            out[f] = float(out[f])
    return out


def _rows(client: redis.Redis, ids: list[str]) -> list[dict[str, Any]]:
    rows = []
    for did in ids:
        d = get_delivery(client, did)
        if d:
            ev = json.loads(d.pop("event", "{}") or "{}")
            d["event_kind"] = ev.get("kind")
            d["rule"] = ev.get("rule")
            d["title"] = ev.get("title")
            rows.append(d)
    return rows


def outbox_entries(client: redis.Redis, limit: int = 200) -> list[dict[str, Any]]:
    """Pending and in-flight deliveries (soonest first), with attempts, next attempt, last error."""
    ids = [_s(i) for i in client.zrange(keys.alert_inflight(), 0, limit - 1)]
    ids += [_s(i) for i in client.zrange(keys.alert_outbox(), 0, limit - 1)]
    return _rows(client, [i for i in ids if i][:limit])


def dead_letters(client: redis.Redis, limit: int = 200) -> list[dict[str, Any]]:
    """Dead-lettered deliveries, newest first."""
    return _rows(client, [_s(i) for i in client.lrange(keys.alert_dead(), 0, limit - 1)])


def delivered_ids(client: redis.Redis, limit: int = DELIVERED_KEPT) -> list[str]:
    """Ids of completed deliveries, newest first (bounded)."""
    return [_s(i) for i in client.lrange(keys.alert_delivered(), 0, limit - 1)]


def counts(client: redis.Redis) -> dict[str, int]:
    """``pending``, ``inflight``, ``dead``, ``delivered`` (the last one bounded)."""
    with client.pipeline(transaction=False) as pipe:
        pipe.zcard(keys.alert_outbox())
        pipe.zcard(keys.alert_inflight())
        pipe.llen(keys.alert_dead())
        pipe.llen(keys.alert_delivered())
        pending, inflight, dead, delivered = pipe.execute()
    return {"pending": pending, "inflight": inflight, "dead": dead, "delivered": delivered}


# -- the worker -----------------------------------------------------------------------------------
class DeliveryWorker:
    """Delivers the outbox in background daemon threads.  ``start()``, ``stop()``, ``run_until_idle()``.

    Any number of workers (threads or processes) may run against one Redis: claims are atomic.
    """

    def __init__(
        self,
        settings: Settings,
        client: redis.Redis,
        *,
        threads: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.cfg = settings.alerts
        self.client = client
        self.threads_n = threads or self.cfg.delivery_threads
        self.env = env
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._rng = random.Random()
        self._local = threading.local()
        self._claim_script = client.register_script(_CLAIM)
        self._finish_script = client.register_script(_FINISH)

    # -- lifecycle
    def start(self) -> DeliveryWorker:
        for i in range(self.threads_n):
            th = threading.Thread(target=self._loop, name=f"flowdesk-delivery-{i}", daemon=True)
            th.start()
            self._threads.append(th)
        log.info("delivery worker started threads=%d", self.threads_n)
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Ask the threads to finish their current attempt and exit; wait up to ``timeout``."""
        self._stop.set()
        limit = timeout if timeout is not None else self.cfg.timeout_seconds + 5
        for th in self._threads:
            th.join(limit)
        self._threads = []

    @property
    def running(self) -> bool:
        return any(th.is_alive() for th in self._threads)

    def run_forever(self) -> None:
        """Run in the calling thread until :meth:`stop` (or Ctrl-C)."""
        if self.threads_n > 1:
            self.start()
            try:
                while not self._stop.wait(1.0):
                    pass
            finally:
                self.stop()
        else:
            self._loop()

    def _loop(self) -> None:
        errors = 0
        while not self._stop.is_set():
            try:
                done = self.run_once()
                errors = 0
            except Exception as exc:  # Redis down or a bug: never kill the thread; back off
                errors += 1
                if isinstance(exc, redis.RedisError):
                    log.error(
                        "delivery worker: redis error %s (retrying in %.1fs)",
                        exc,
                        self._error_wait(errors),
                    )
                else:
                    log.exception("delivery worker: unexpected error")
                self._stop.wait(self._error_wait(errors))
                continue
            if not done:
                self._stop.wait(self._idle_wait())

    def _error_wait(self, errors: int) -> float:
        """Seconds to wait after ``errors`` consecutive failures: doubling from the poll interval, at most 30 s."""
        return min(30.0, self.cfg.poll_seconds * 2 ** min(errors - 1, 10))

    def _idle_wait(self) -> float:
        try:
            nxt = self.client.zrange(keys.alert_outbox(), 0, 0, withscores=True)
            lease = self.client.zrange(keys.alert_inflight(), 0, 0, withscores=True)
        except redis.RedisError:
            return self.cfg.poll_seconds
        soonest = min([s for _, s in nxt + lease], default=None)
        if soonest is None:
            return self.cfg.poll_seconds
        return min(self.cfg.poll_seconds, max(0.005, soonest - time.time()))

    # -- work
    def _session(self) -> requests.Session:
        sess = getattr(self._local, "session", None)
        if sess is None:
            sess = requests.Session()
            self._local.session = sess
        return sess

    def claim(self, limit: int = 1) -> list[tuple[str, str]]:
        """Atomically claim up to ``limit`` due deliveries: ``[(delivery id, lease token)]``."""
        return [(did, token) for did, token, _ in self._claim(limit)]

    def _claim(self, limit: int) -> list[tuple[str, str, dict[str, Any]]]:
        now = time.time()
        token = secrets.token_hex(8)
        res = self._claim_script(
            keys=[keys.alert_outbox(), keys.alert_inflight()],
            args=[now, now + self.cfg.lease_seconds, limit, token, _DELIVERY_PREFIX],
        )
        out = []
        for did, tok, flat in res:
            fields = {_s(flat[i]): _s(flat[i + 1]) for i in range(0, len(flat), 2)}
            out.append((_s(did), _s(tok), fields))
        return out

    def run_once(self, limit: int = 1) -> int:
        """Claim and attempt up to ``limit`` due deliveries; return how many were attempted."""
        claimed = self._claim(limit)
        for did, token, fields in claimed:
            self.deliver(did, token, fields)
        return len(claimed)

    def run_until_idle(self, timeout_s: float = 60.0) -> int:
        """Deliver in the calling thread until nothing is pending or in flight (or ``timeout_s``).

        Waits out backoff delays.  Returns the number of attempts made.
        """
        deadline = time.monotonic() + timeout_s
        attempts = 0
        while time.monotonic() < deadline:
            n = self.run_once()
            attempts += n
            if n:
                continue
            c = counts(self.client)
            if c["pending"] == 0 and c["inflight"] == 0:
                break
            time.sleep(self._idle_wait())
        return attempts

    def deliver(self, delivery_id: str, token: str, fields: dict[str, Any] | None = None) -> str:
        """One attempt of a claimed delivery; returns ``delivered``, ``retry``, ``dead`` or ``lost``.

        ``fields`` is the delivery hash as returned by the claim (read again when not given).
        """
        d = dict(fields) if fields is not None else get_delivery(self.client, delivery_id)
        attempts = int(d.get("attempts", 1))
        target_name = d.get("target", "?")
        target = self.cfg.targets.get(target_name)
        status = ""
        event: AlertEvent | None = None
        try:
            event = AlertEvent.from_dict(json.loads(d["event"]))
        except (KeyError, TypeError, ValueError) as exc:  # a damaged record: park it, visibly
            damage = f"delivery record is damaged ({type(exc).__name__}: {exc})"
        if event is None:
            outcome, error = "dead", damage
        elif target is None:
            outcome, error = (
                "dead",
                f"unknown target {target_name!r} (not in [alerts.targets] any more)",
            )
        else:
            try:
                url, body, headers = build_request(
                    target, event, self.env, tz=self.settings.service.timezone
                )
            except TargetConfigError as exc:
                outcome, error = "dead", f"target {target_name}: {exc}"
            else:
                result = post(self._session(), url, body, headers, self.cfg.timeout_seconds)
                status = "" if result.status is None else str(result.status)
                error = mask_url_in(result.error or "", url)
                if result.ok:
                    outcome = "delivered"
                elif not result.retry:
                    outcome = "dead"
                elif attempts >= self.cfg.max_attempts:
                    outcome, error = "dead", f"gave up after {attempts} attempts; last: {error}"
                else:
                    outcome = "retry"
                    delay = backoff_delay(
                        attempts,
                        self.cfg.backoff_base_seconds,
                        self.cfg.backoff_max_seconds,
                        self._rng,
                    )
                    if result.retry_after_s is not None:  # the receiver knows best, within reason
                        delay = max(delay, min(RETRY_AFTER_MAX_S, result.retry_after_s))
                    d["next"] = time.time() + delay
        # Second line of defence before anything is stored or logged: every secret this process knows.
        error = mask_secrets(error, secret_literals(self.settings, self.env))
        now = time.time()
        ok = self._finish_script(
            keys=[
                keys.alert_outbox(),
                keys.alert_inflight(),
                keys.alert_dead(),
                keys.alert_delivered(),
            ],
            args=[
                delivery_id,
                token,
                outcome,
                now,
                d.get("next", now),
                error[:1000],
                status,
                _DELIVERY_PREFIX,
                DELIVERED_KEPT,
                DELIVERED_TTL_S,
            ],
        )
        if not ok:  # our lease expired and another worker took over: it owns the outcome
            log.warning("delivery %s: lease lost before finishing (%s)", delivery_id, outcome)
            return "lost"
        level = logging.INFO if outcome == "delivered" else logging.WARNING
        log.log(
            level,
            "delivery %s target=%s event=%s attempt=%d outcome=%s%s",
            delivery_id,
            target_name,
            d.get("event_id"),
            attempts,
            outcome,
            f" error={error}" if error else "",
        )
        return outcome


# -- test messages ----------------------------------------------------------------------------------
def send_test(
    settings: Settings, target_name: str, *, env: dict[str, str] | None = None
) -> Attempt:
    """Send a test message to ``target_name`` now (not through the outbox); return the attempt.

    Raises :class:`TargetConfigError` for an unknown target or a missing environment variable.
    """
    target = settings.alerts.targets.get(target_name)
    if target is None:
        known = ", ".join(sorted(settings.alerts.targets)) or "none configured"
        raise TargetConfigError(f"unknown target {target_name!r} (known: {known})")
    now = time.time()
    event = AlertEvent(
        id=new_event_id(now),
        kind="test",
        at=datetime.fromtimestamp(now, UTC).isoformat(),
        severity="info",
        title="flowdesk test message",
        text=f"Test message to target '{target_name}' ({target.kind}). If you can read this, alerts will reach you.",
        targets=[target_name],
    )
    url, body, headers = build_request(target, event, env, now, tz=settings.service.timezone)
    with requests.Session() as sess:
        return post(sess, url, body, headers, settings.alerts.timeout_seconds)
