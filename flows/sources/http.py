"""One shared HTTP client for every live source: timeouts, retries, rate limit, user agent.

* Timeouts on every request (``timeout_s``).
* Retries with exponential backoff and jitter on connection errors, timeouts, 429 and 5xx,
  honouring ``Retry-After`` (seconds or an HTTP date); other 4xx are not retried.
* A per-host rate limit: at least ``min_interval_s`` between two requests to one host.
* A descriptive User-Agent.

Errors are :class:`flows.errors.SourceError` naming the URL and the HTTP status.  The client does
I/O only; parsing belongs to each source's pure ``parse`` step.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

import requests

from flows.errors import SourceError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_USER_AGENT = "flowdesk/0.1 (+https://github.com/flowdesk/flowdesk)"


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a ``Retry-After`` header (delta seconds or HTTP date) into seconds from now."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" parses naive; HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())


def backoff_delay(
    attempt: int, base_s: float, max_s: float, rng: random.Random | None = None
) -> float:
    """Delay before attempt ``attempt + 1``, seconds: exponential, capped, with "equal jitter".

    ``cap = min(max_s, base_s * 2**(attempt - 1))``; the delay is drawn uniformly in
    ``[cap / 2, cap]`` (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015).  Used by
    the source client and the webhook delivery worker alike.
    """
    rng = rng or random._inst  # the module's shared generator (what random.uniform uses)
    cap = min(max_s, base_s * (2 ** max(0, attempt - 1)))
    return float(cap / 2 + rng.uniform(0, cap / 2))


@dataclass
class HttpClient:
    """A small, thread-safe HTTP client (a ``requests.Session`` underneath).

    Parameters
    ----------
    timeout_s:
        Connect and read timeout per attempt, seconds.
    retries:
        Further attempts after the first, on retryable failures.
    backoff_base_s, backoff_max_s:
        Backoff before attempt ``n + 1`` is :func:`backoff_delay` (``n``): ``min(max, base * 2**(n-1))``
        times a jitter in [0.5, 1].
    min_interval_s:
        Per-host rate limit, seconds between requests.
    """

    timeout_s: float = 20.0
    retries: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    min_interval_s: float = 0.5
    user_agent: str = DEFAULT_USER_AGENT
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    _last_request: dict[str, float] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Any) -> HttpClient:
        s = settings.service
        return cls(
            timeout_s=s.http_timeout_seconds,
            retries=s.http_retries,
            min_interval_s=s.http_min_interval_seconds,
            user_agent=s.user_agent,
        )

    def _wait_for_host(self, url: str) -> None:
        host = urlsplit(url).netloc
        with self._lock:
            last = self._last_request.get(host)
            now = time.monotonic()
            wait = 0.0 if last is None else self.min_interval_s - (now - last)
            self._last_request[host] = now + max(0.0, wait)
        if wait > 0:
            self.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, self.backoff_base_s, self.backoff_max_s)

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        source: str | None = None,
    ) -> requests.Response:
        """GET ``url``; returns the response of the first 2xx/3xx answer or raises SourceError."""
        name = source or url
        hdrs = {"User-Agent": self.user_agent, "Accept": "*/*"}
        hdrs.update(headers or {})
        last_error = "no attempt made"
        status: int | None = None
        for attempt in range(1, self.retries + 2):
            self._wait_for_host(url)
            try:
                resp = self.session.get(url, params=params, headers=hdrs, timeout=self.timeout_s)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_error, status = f"{type(exc).__name__}: {exc}", None
                delay = self._backoff(attempt)
            else:
                if resp.status_code < 400:
                    return resp
                status = resp.status_code
                if status not in RETRY_STATUSES:
                    reason = (
                        "not found (unknown symbol or dataset?)"
                        if status == 404
                        else f"request refused: {resp.text[:200]!r}"
                    )
                    raise SourceError(name, reason, status)
                last_error = f"server answered {status}"
                delay = retry_after_seconds(resp.headers.get("Retry-After"))
                delay = self._backoff(attempt) if delay is None else min(delay, self.backoff_max_s)
            if attempt <= self.retries:
                self.sleep(delay)
        raise SourceError(name, f"gave up after {self.retries + 1} attempts: {last_error}", status)

    def get_json(self, url: str, **kwargs: Any) -> Any:
        resp = self.get(url, **kwargs)
        try:
            return resp.json()
        except ValueError as exc:
            raise SourceError(
                kwargs.get("source") or url,
                f"malformed JSON in the response: {exc}",
                resp.status_code,
            ) from None

    def get_bytes(self, url: str, **kwargs: Any) -> bytes:
        return self.get(url, **kwargs).content
