"""Access control for an exposed dashboard: HTTP Basic users and API bearer tokens.

When login is required (see :func:`login_required`), every request to the Flask server (pages,
the Dash endpoints ``/_dash-*``, assets and the API) needs credentials; only ``/healthz`` stays
open so that load balancers and monitors can probe it.

Credentials come from the environment only, never from ``config.toml``:

* ``FLOWDESK_USERS="alice:<hash>,bob:<hash>"``: user names with password hashes made by
  :func:`werkzeug.security.generate_password_hash` (``flowdesk hash-password`` prints one).
  Browsers and scripts send them with HTTP Basic auth.
* ``FLOWDESK_API_TOKENS="tok1,tok2"``: opaque tokens sent as ``Authorization: Bearer <token>``.

Comparisons are constant-time (``hmac.compare_digest`` for tokens; werkzeug's hash check, and
a dummy hash check for unknown users so that a user name's existence does not show in timing).
Secrets are never logged: failures log the path, the scheme and the user name only.

An exposed server with no user and no token configured refuses to start
(:class:`AuthConfigError`): flowdesk never serves unauthenticated on a public address.

A login cannot be used to starve the server.  A password check costs a full hash (scrypt,
~0.1-0.2 s of CPU), so:

* **verified credentials are cached** per process (:class:`CredentialCache`): the key is an
  HMAC of the ``Authorization`` header under a random per-process key, the value the user name
  and an expiry (``web.login_cache_seconds``, default 60 s); the password is never kept.
  Concurrent requests with the same header wait for one check (single flight), so a page's
  burst of Dash requests costs one hash, not one per request;
* **failed logins are rate limited** (:class:`FailureLimiter`): fixed-window counters in Redis
  (``INCR`` + ``EXPIRE`` in a Lua script, so every gunicorn worker shares them), one per
  client address and one for all clients.  Once a client has made
  ``web.login_max_failures_per_client`` failed logins in the window
  (``web.login_failure_window_seconds``), or all clients together
  ``web.login_max_failures_total``, every login that is not in the cache is answered **429
  with** ``Retry-After`` (seconds to the end of the window) *without* hashing.  Refused
  requests and successful logins are not counted.  When Redis does not answer, the counters
  are kept in the process (per worker).  Cached credentials pass even while the global limit
  holds, so the desk keeps working during an attack; a user whose cache entry expired then
  waits for the window to end.
* ``/healthz`` bypasses all of this.

The client address is ``request.remote_addr``.  Behind a reverse proxy that is the proxy: set
the proxy to pass the client address and wrap the app in werkzeug's ``ProxyFix`` (gunicorn's
``forwarded_allow_ips``), or the per-client limit becomes a second global one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import logging
import math
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis
from flask import Flask, Response, request
from werkzeug.security import check_password_hash, generate_password_hash

from flows.errors import AuthConfigError
from jobs.store import keys

log = logging.getLogger("flowdesk.web.auth")

USERS_ENV = "FLOWDESK_USERS"
TOKENS_ENV = "FLOWDESK_API_TOKENS"
REALM = "flowdesk"
OPEN_PATHS = frozenset({"/healthz"})
"""Paths served without credentials even when login is required."""

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str | None) -> bool:
    """True for ``127.0.0.0/8``, ``::1`` and ``localhost``; False for ``0.0.0.0``, ``""`` and the rest."""
    if host is None:
        return True
    name = host.strip().strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a DNS name other than localhost: treat as exposed


def login_required(mode: str, *, host: str | None = None, production: bool = False) -> bool:
    """Decide whether credentials are required.

    Parameters
    ----------
    mode:
        ``web.require_login``: ``always``, ``never`` or ``auto``.
    host:
        Address the server binds; ``auto`` requires login for any non-loopback address.
    production:
        True under gunicorn (:mod:`dashboard.wsgi`), where the bind address is not known to the
        app: ``auto`` then requires login.
    """
    if mode == "always":
        return True
    if mode == "never":
        return False
    return production or not is_loopback(host)


@dataclass
class Credentials:
    """Users (name -> password hash) and bearer tokens allowed in."""

    users: dict[str, str] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Credentials:
        """Parse ``FLOWDESK_USERS`` and ``FLOWDESK_API_TOKENS`` (errors never echo a secret)."""
        env = os.environ if env is None else env
        users: dict[str, str] = {}
        for i, entry in enumerate(
            filter(None, (e.strip() for e in env.get(USERS_ENV, "").split(",")))
        ):
            name, sep, pwhash = entry.partition(":")
            if not sep or not name or not pwhash:
                raise AuthConfigError(
                    f"{USERS_ENV}: entry {i + 1} is not 'user:<password hash>' (make a hash with `flowdesk hash-password`)"
                )
            if "$" not in pwhash:
                raise AuthConfigError(
                    f"{USERS_ENV}: the entry for user {name!r} is not a werkzeug password hash (make one with `flowdesk hash-password`)"
                )
            users[name] = pwhash
        tokens = [t.strip() for t in env.get(TOKENS_ENV, "").split(",") if t.strip()]
        return cls(users, tokens)

    @property
    def empty(self) -> bool:
        return not self.users and not self.tokens

    def check_basic(self, user: str, password: str) -> bool:
        pwhash = self.users.get(user)
        if pwhash is None:
            check_password_hash(_DUMMY_HASH, password)  # same work as a real check
            return False
        try:
            return check_password_hash(pwhash, password)
        except ValueError:  # unsupported hash method: log without the hash itself
            log.error(
                "auth: cannot check the password hash of user=%s (unsupported hash method)", user
            )
            return False

    def check_token(self, token: str) -> bool:
        supplied = token.encode()
        ok = False
        for known in self.tokens:  # no early exit: time does not depend on which token matched
            ok |= hmac.compare_digest(supplied, known.encode())
        return ok


_DUMMY_HASH = generate_password_hash("flowdesk-dummy-password")


def _unauthorized() -> Response:
    return Response(
        '{"error": "authentication required"}',
        status=401,
        mimetype="application/json",
        headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
    )


def _too_many(retry_after_s: float) -> Response:
    seconds = max(1, math.ceil(retry_after_s))
    return Response(
        f'{{"error": "too many failed logins; retry in {seconds} s"}}',
        status=429,
        mimetype="application/json",
        headers={"Retry-After": str(seconds)},
    )


# -- login limits ------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginLimits:
    """``[web]`` login settings (see :mod:`jobs.config`)."""

    max_failures_per_client: int = 10
    max_failures_total: int = 60
    window_seconds: int = 60
    cache_seconds: float = 60.0

    @classmethod
    def from_settings(cls, web: Any) -> LoginLimits:
        return cls(
            web.login_max_failures_per_client,
            web.login_max_failures_total,
            web.login_failure_window_seconds,
            web.login_cache_seconds,
        )


class CredentialCache:
    """Verified ``Authorization`` headers, remembered for ``ttl_s`` seconds (thread-safe, bounded).

    The key is HMAC-SHA256 of the header under a random key made when the process starts, so
    neither the password nor a fast, unkeyed hash of it is held in memory; the value is the user
    name and the expiry (monotonic clock).  ``ttl_s = 0`` disables the cache.
    """

    def __init__(self, ttl_s: float, max_entries: int = 1024) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, tuple[float, str | None]] = OrderedDict()
        self._lock = threading.Lock()
        self._pending: dict[bytes, list[Any]] = {}
        self.hits = 0

    def _digest(self, authorization: str) -> bytes:
        return hmac.new(
            self._key, authorization.encode("utf-8", "surrogateescape"), hashlib.sha256
        ).digest()

    def get(self, authorization: str) -> tuple[bool, str | None]:
        """``(True, user)`` when the header was verified less than ``ttl_s`` ago."""
        if self.ttl_s <= 0:
            return False, None
        digest = self._digest(authorization)
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return False, None
            if entry[0] <= now:
                del self._entries[digest]
                return False, None
            self._entries.move_to_end(digest)
            self.hits += 1
            return True, entry[1]

    def put(self, authorization: str, user: str | None) -> None:
        if self.ttl_s <= 0:
            return
        digest = self._digest(authorization)
        with self._lock:
            self._entries[digest] = (time.monotonic() + self.ttl_s, user)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def verify(
        self, authorization: str, check: Callable[[], tuple[bool, str, str | None]]
    ) -> tuple[bool, str, str | None]:
        """Run ``check`` (the full credential check) once for concurrent identical headers.

        A browser opening a page fires several requests with the same credentials at once;
        the first runs the hash, the others wait for its answer instead of hashing again.  A
        success is cached (:meth:`put`); a failure is not.
        """
        hit, user = self.get(authorization)  # verified by another thread a moment ago
        if hit:
            return True, "cached", user
        digest = self._digest(authorization)
        with self._lock:
            pending = self._pending.get(digest)
            leader = pending is None
            if leader:
                pending = self._pending[digest] = [threading.Event(), None]
        if not leader:
            pending[0].wait(30.0)
            if pending[1] is not None:
                return pending[1]
        try:
            outcome = check()
        except BaseException:
            outcome = (False, "error", None)
            raise
        finally:
            if leader:
                pending[1] = outcome
                pending[0].set()
                with self._lock:
                    self._pending.pop(digest, None)
        if outcome[0]:
            self.put(authorization, outcome[2])
        return outcome


# KEYS: client counter, global counter.  ARGV: client limit, global limit.
# Returns {blocked (0/1), milliseconds to the end of the window that blocks}.
_CHECK = """
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c >= tonumber(ARGV[1]) then return {1, redis.call('PTTL', KEYS[1])} end
local g = tonumber(redis.call('GET', KEYS[2]) or '0')
if g >= tonumber(ARGV[2]) then return {1, redis.call('PTTL', KEYS[2])} end
return {0, 0}
"""

# KEYS: client counter, global counter.  ARGV: window seconds.  One more failure in each.
_FAILED = """
for _, k in ipairs(KEYS) do
  if redis.call('INCR', k) == 1 then redis.call('EXPIRE', k, ARGV[1]) end
end
return 1
"""


class FailureLimiter:
    """Fixed-window counters of failed logins per client address and in total.

    :meth:`blocked` before a password check (no hash is computed while a limit holds; a refused
    request is not counted, so an attacker hammering a closed door does not extend or inflate
    anything), :meth:`failed` after a wrong credential.  Logins that succeed are never counted,
    so a burst of the desk's own logins cannot lock it out.  Requests already past the check
    when the limit is reached still finish theirs, so a window can see at most the server's
    concurrency (workers x threads) more hash checks than the limit.

    The counters live in Redis (keys :func:`jobs.store.keys.login_failures`, expiring with their
    window) so all web workers share them; when Redis fails, an in-process copy takes over for
    that worker.
    """

    def __init__(
        self, limits: LoginLimits, client: Callable[[], redis.Redis | None] | None = None
    ) -> None:
        self.limits = limits
        self._client = client
        self._lock = threading.Lock()
        self._local: dict[str, tuple[int, float]] = {}  # key -> (failures, window end epoch)

    def _keys(self, client_id: str, now: float) -> list[str]:
        window = int(now // self.limits.window_seconds)
        return [
            keys.login_failures(f"client:{client_id}", window),
            keys.login_failures("all", window),
        ]

    def _redis(self) -> redis.Redis | None:
        if self._client is None:
            return None
        try:
            return self._client()
        except Exception:  # no Redis configured: count in the process
            return None

    def _window_left(self, now: float) -> float:
        return max(1.0, (now // self.limits.window_seconds + 1) * self.limits.window_seconds - now)

    def blocked(self, client_id: str) -> float | None:
        """``None`` if a login of ``client_id`` may be checked now, else the seconds until the
        blocking window ends (the ``Retry-After``)."""
        now = time.time()
        names = self._keys(client_id, now)
        client = self._redis()
        if client is not None:
            try:
                blocked, wait_ms = client.register_script(_CHECK)(
                    keys=names,
                    args=[self.limits.max_failures_per_client, self.limits.max_failures_total],
                )
            except redis.RedisError as exc:
                log.warning(
                    "auth: login limiter falls back to this process (redis error %s)",
                    type(exc).__name__,
                )
            else:
                if not int(blocked):
                    return None
                return (
                    max(1.0, int(wait_ms) / 1000.0) if int(wait_ms) > 0 else self._window_left(now)
                )
        limits = (self.limits.max_failures_per_client, self.limits.max_failures_total)
        with self._lock:
            counts = [self._local.get(name, (0, 0.0))[0] for name in names]
        if any(c >= lim for c, lim in zip(counts, limits, strict=True)):
            return self._window_left(now)
        return None

    def failed(self, client_id: str) -> None:
        """Count one failed login of ``client_id`` (and of all clients)."""
        now = time.time()
        names = self._keys(client_id, now)
        client = self._redis()
        if client is not None:
            try:
                client.register_script(_FAILED)(keys=names, args=[self.limits.window_seconds])
                return
            except redis.RedisError:
                pass
        end = (now // self.limits.window_seconds + 1) * self.limits.window_seconds
        with self._lock:
            for stale in [k for k, (_, e) in self._local.items() if e <= now]:
                del self._local[stale]
            for name in names:
                self._local[name] = (self._local.get(name, (0, end))[0] + 1, end)


def check_request(creds: Credentials, authorization: str | None) -> tuple[bool, str, str | None]:
    """Check an ``Authorization`` header: ``(ok, scheme, user)``; never returns the secret."""
    if not authorization:
        return False, "none", None
    scheme, _, value = authorization.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer":
        return creds.check_token(value), "bearer", None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False, "basic", None
        user, sep, password = decoded.partition(":")
        if not sep:
            return False, "basic", None
        return creds.check_basic(user, password), "basic", user
    return False, scheme, None


def ensure_configured(creds: Credentials) -> None:
    """Refuse to serve an exposed app without credentials (:class:`AuthConfigError`)."""
    if creds.empty:
        raise AuthConfigError(
            "the dashboard is exposed (non-loopback host, production, or web.require_login = 'always') "
            f"but no credentials are configured: set {USERS_ENV}='user:<hash>' (hash from "
            f"`flowdesk hash-password`) and/or {TOKENS_ENV}='<token>', or bind 127.0.0.1"
        )


class Gate:
    """The login decision for one request: cache, limiter, then the credential check."""

    def __init__(
        self,
        creds: Credentials,
        limits: LoginLimits | None = None,
        redis_client: Callable[[], redis.Redis | None] | None = None,
    ) -> None:
        self.creds = creds
        self.limits = limits or LoginLimits()
        self.cache = CredentialCache(self.limits.cache_seconds)
        self.limiter = FailureLimiter(self.limits, redis_client)

    def check(self, authorization: str | None, client_id: str) -> Response | None:
        """``None`` to let the request through, else the 401 / 429 answer."""
        if not authorization:  # the browser's first try: challenge it; costs nothing, not counted
            return _unauthorized()
        hit, _user = self.cache.get(authorization)
        if hit:
            return None
        wait = self.limiter.blocked(client_id)
        if wait is not None:
            log.warning(
                "auth refused: too many failed logins path=%s remote=%s retry_after_s=%.0f",
                request.path,
                client_id,
                wait,
            )
            return _too_many(wait)
        ok, scheme, user = self.cache.verify(
            authorization, lambda: check_request(self.creds, authorization)
        )
        if ok:
            return None
        self.limiter.failed(client_id)
        log.warning(
            "auth failed path=%s scheme=%s user=%s remote=%s",
            request.path,
            scheme,
            (user or "-")[:64],
            client_id,
        )
        return _unauthorized()


def install(
    server: Flask,
    creds: Credentials,
    *,
    limits: LoginLimits | None = None,
    redis_client: Callable[[], redis.Redis | None] | None = None,
) -> Gate:
    """Require credentials on every request to ``server`` except :data:`OPEN_PATHS`.

    Call it after ``Dash(server=...)``: the hook then runs after Dash's own set-up hooks (which
    serve nothing), so the app finishes its one-time set-up even when the first requests are
    refused.  ``redis_client`` returns the Redis client the failure counters live in (None or
    an error: counted in the process).  Raises :class:`AuthConfigError` when ``creds`` is empty.
    Returns the :class:`Gate` (its cache and limiter), which tests inspect.
    """
    ensure_configured(creds)
    gate = Gate(creds, limits, redis_client)

    def _require_login() -> Response | None:
        if request.path in OPEN_PATHS:
            return None
        return gate.check(request.headers.get("Authorization"), request.remote_addr or "-")

    server.before_request(_require_login)
    server.config["FLOWDESK_LOGIN_REQUIRED"] = True
    server.extensions["flowdesk_login"] = gate
    log.info(
        "login required: users=%d tokens=%d (health check %s open) failures per %ds: %d per client, %d in total; cache %gs",
        len(creds.users),
        len(creds.tokens),
        ", ".join(sorted(OPEN_PATHS)),
        gate.limits.window_seconds,
        gate.limits.max_failures_per_client,
        gate.limits.max_failures_total,
        gate.limits.cache_seconds,
    )
    return gate
