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
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import Flask, Response, request
from werkzeug.security import check_password_hash, generate_password_hash

from flows.errors import FlowdeskError

log = logging.getLogger("flowdesk.web.auth")

USERS_ENV = "FLOWDESK_USERS"
TOKENS_ENV = "FLOWDESK_API_TOKENS"
REALM = "flowdesk"
OPEN_PATHS = frozenset({"/healthz"})
"""Paths served without credentials even when login is required."""

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class AuthConfigError(FlowdeskError):
    """Login is required but no credentials are configured, or they are malformed."""


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
        for i, entry in enumerate(filter(None, (e.strip() for e in env.get(USERS_ENV, "").split(",")))):
            name, sep, pwhash = entry.partition(":")
            if not sep or not name or not pwhash:
                raise AuthConfigError(f"{USERS_ENV}: entry {i + 1} is not 'user:<password hash>' (make a hash with `flowdesk hash-password`)")
            if "$" not in pwhash:
                raise AuthConfigError(f"{USERS_ENV}: the entry for user {name!r} is not a werkzeug password hash (make one with `flowdesk hash-password`)")
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
            log.error("auth: cannot check the password hash of user=%s (unsupported hash method)", user)
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


def install(server: Flask, creds: Credentials) -> None:
    """Require credentials on every request to ``server`` except :data:`OPEN_PATHS`.

    Call it after ``Dash(server=...)``: the hook then runs after Dash's own set-up hooks (which
    serve nothing), so the app finishes its one-time set-up even when the first requests are
    refused.  Raises :class:`AuthConfigError` when ``creds`` is empty.
    """
    ensure_configured(creds)

    def _require_login() -> Response | None:
        if request.path in OPEN_PATHS:
            return None
        ok, scheme, user = check_request(creds, request.headers.get("Authorization"))
        if ok:
            return None
        if scheme != "none":  # a wrong credential, not just the browser's first unauthenticated try
            log.warning("auth failed path=%s scheme=%s user=%s remote=%s", request.path, scheme, user or "-", request.remote_addr)
        return _unauthorized()

    server.before_request(_require_login)
    server.config["FLOWDESK_LOGIN_REQUIRED"] = True
    log.info("login required: users=%d tokens=%d (health check %s open)", len(creds.users), len(creds.tokens), ", ".join(sorted(OPEN_PATHS)))
