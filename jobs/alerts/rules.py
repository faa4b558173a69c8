"""Alert rules as data: the metric catalogue and a pure state machine.

A rule (``[alerts.rules.<name>]`` in ``config.toml``) watches one *metric*: a path into a
published result, ``<result name>.<headline key>``.  Result names contain dots
(``gamma.SPX``, ``letf.flows``, ``cftc.net_usd``), so a metric is split at the *longest* result
name that is a prefix of it: ``gamma.SPX.flip_distance_pct`` reads headline ``flip_distance_pct``
of result ``gamma.SPX``.  At start-up a metric is checked against :data:`CATALOGUE`, the headline
keys each result family publishes (kept here as data; add a family or a key there).

Evaluation (:func:`step`) is a pure function of the previous :class:`RuleState`, the new value,
the time and the rule:

* **fire** when the value enters breach (``value <op> threshold``), unless the rule fired less
  than ``cooldown_minutes`` ago: then the breach is recorded silently and announced once the
  cooldown has passed, if it still holds;
* **resolve** when the value leaves breach *with hysteresis* ``h``: a breach of ``value > T``
  (or ``>=``) resolves only at ``value <= T - h`` (``< T - h``); a breach of ``value < T`` (or
  ``<=``) only at ``value >= T + h`` (``> T + h``).  A breach that was never announced resolves
  silently, so a value hovering at the threshold produces one fired/resolved pair, not a flurry.

The Redis bookkeeping around the machine is :mod:`jobs.alerts.evaluation`; delivery is
:mod:`jobs.alerts.delivery` (outbox, worker) and :mod:`jobs.alerts.webhooks` (requests).
"""

from __future__ import annotations

import logging
import math
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Self

from flows.errors import MetricError

if TYPE_CHECKING:

    from jobs.config import AlertRule

log = logging.getLogger("flowdesk.alerts")


# -- the metric catalogue -----------------------------------------------------------------------
CATALOGUE: dict[str, dict[str, str]] = {
    # jobs/tasks/gamma.py (headline of flows.gamma.analyze), one result per underlying
    "gamma.<UNDERLYING>": {
        "spot": "underlying price units (index points / USD per share)",
        "net_gex_usd_per_1pct": "USD per 1% move, dealer convention of the result (+ = dealers long gamma)",
        "call_gex_usd_per_1pct": "USD per 1% move",
        "put_gex_usd_per_1pct": "USD per 1% move",
        "gross_gex_usd_per_1pct": "USD per 1% move, |call| + |put|",
        "model_gex_at_spot_usd_per_1pct": "USD per 1% move, from model greeks",
        "net_gex_usd_per_point": "USD per 1 point of the underlying",
        "net_gex_shares_per_1pct": "shares per 1% move",
        "zero_dte_share": "fraction of |GEX| from contracts settling today (0-1)",
        "flip": "underlying price units; nearest zero-gamma level (none in the window: not evaluated)",
        "flip_distance_pct": "percent of spot, (flip / spot - 1) * 100 (negative: flip below spot)",
        "call_wall": "strike",
        "put_wall": "strike",
        "abs_gamma_strike": "strike",
        "hedge_flow_down3_usd": "USD dealers trade for a -3% move (+ = buy)",
        "hedge_flow_up3_usd": "USD dealers trade for a +3% move (+ = buy)",
        "contracts": "count",
        "expired_dropped": "count",
        "expired_dropped_oi": "contracts of open interest",
        "unsolved_iv": "count",
    },
    # jobs/tasks/gamma.py: the per-underlying roll-up
    "gamma.summary": {
        "underlyings": "count",
        "ok": "count of underlyings refreshed",
        "failed": "count of underlyings that failed (their last good figures are kept)",
    },
    # jobs/tasks/letf.py
    "letf.flows": {
        "per_1pct_usd": "USD per 1% move of every underlying, equity funds (+ = buy)",
        "long_per_1pct_usd": "USD per 1% move, long funds",
        "inverse_per_1pct_usd": "USD per 1% move, inverse funds",
        "rebalance_usd": "USD implied by the move so far (+ = buy)",
        "biggest_per_1pct_usd": "USD per 1% move, largest underlying",
        "biggest_rebalance_usd": "USD, largest underlying",
        "funds": "count",
        "excluded": "count",
    },
    # jobs/tasks/cftc.py; <BASKET> is a key of [cftc] baskets (reuters6, wide9, ...)
    "cftc.net_usd": {
        "net_usd_<BASKET>": "USD, legacy non-commercials (+ = speculators net long USD)",
        "net_usd_levfunds_<BASKET>": "USD, TFF leveraged funds (+ = net long USD)",
        "net_usd_assetmgr_<BASKET>": "USD, TFF asset managers (+ = net long USD)",
        "change_usd": "USD, week-on-week change of the headline series",
        "change_position_usd": "USD, part of the change from positions",
        "change_fx_usd": "USD, part of the change from FX revaluation",
        "zscore_1y": "standard deviations",
        "zscore_3y": "standard deviations",
        "zscore_5y": "standard deviations",
        "percentile_1y": "percentile rank, 0-100",
        "percentile_3y": "percentile rank, 0-100",
        "percentile_5y": "percentile rank, 0-100",
        "cot_index_3y": "0-100",
        "behind_schedule_weeks": "weekly reports the newest stored report is behind the CFTC calendar (0 = on schedule)",
    },
    # jobs/tasks/board.py; "flag move" is [board] flag_move_pct (an index move, e.g. -3 %)
    "board.scenarios": {
        "total_usd_at_flag_move": "USD of mechanical flow for the flag move (+ = buy)",
        "dealer_gamma_usd_at_flag_move": "USD (+ = dealers buy)",
        "dealer_vanna_usd_at_flag_move": "USD (+ = dealers buy)",
        "dealer_charm_usd_at_flag_move": "USD (+ = dealers buy)",
        "letf_usd_at_flag_move": "USD (+ = funds buy)",
        "total_usd_today_move": "USD of mechanical flow for today's move so far (+ = buy)",
        "today_move_pct": "percent move of the board index since the prior close",
        "letf_per_1pct_usd": "USD per 1% move",
        "net_usd_position_usd": "USD (+ = speculators net long USD)",
        "net_usd_percentile_3y": "percentile rank, 0-100",
        "flags": "count of regime flags raised",
        "stale_inputs": "count of inputs left out as stale or missing",
    },
    # jobs/tasks/demo.py
    "demo": {
        "total_usd": "USD",
        "rows": "count",
    },
}
"""Headline keys each result family publishes, with their unit (shown by ``flowdesk alerts list``).

A family is an exact result name, or a pattern with ``<UNDERLYING>`` for one result per
underlying.  A key may contain ``<BASKET>`` (any lower-case name).  Extend this table when a
task publishes a new headline figure.
"""

QUALITY_KEYS: dict[str, str] = {
    "quality_skipped_share": "fraction of the input's basis (open interest / AUM / positions) skipped, 0-1",
    "quality_warnings": "count of input-quality warnings",
}
"""Headline keys the store adds to every result published with an input quality
(:meth:`jobs.store.ResultStore.publish`): valid for every family."""

_PLACEHOLDERS = {"<UNDERLYING>": r"[A-Z0-9^_]{1,12}", "<BASKET>": r"[a-z0-9_]+"}


def _pattern(template: str) -> re.Pattern[str]:
    rx = re.escape(template)
    for ph, sub in _PLACEHOLDERS.items():
        rx = rx.replace(re.escape(ph), sub)
    return re.compile(f"^{rx}$")


def family_of(result: str) -> str | None:
    """The :data:`CATALOGUE` family of a result name, or None (exact names win over patterns)."""
    if result in CATALOGUE:
        return result
    for family in CATALOGUE:
        if "<" in family and _pattern(family).match(result):
            return family
    return None


def known_key(family: str, key: str) -> bool:
    """Is ``key`` a headline key of ``family`` (exactly, or through a ``<BASKET>`` pattern)?"""
    known = CATALOGUE[family]
    return key in known or key in QUALITY_KEYS or any("<" in k and _pattern(k).match(key) for k in known)


def check_metric(metric: str) -> tuple[str, str]:
    """Validate ``metric`` against the catalogue; return ``(result name, headline key)``.

    Raises :class:`MetricError` with the known families or keys when it is not found.
    """
    if not isinstance(metric, str) or "." not in metric:
        raise MetricError(f"metric {metric!r} must be '<result>.<headline key>', e.g. 'gamma.SPX.net_gex_usd_per_1pct'")
    parts = metric.split(".")
    # Longest result-name prefix first, as at evaluation time.
    for cut in range(len(parts) - 1, 0, -1):
        result, key = ".".join(parts[:cut]), ".".join(parts[cut:])
        family = family_of(result)
        if family is None:
            continue
        known = {**CATALOGUE[family], **QUALITY_KEYS}
        if not known_key(family, key):
            raise MetricError(f"unknown headline key {key!r} for result {result!r} (known: {', '.join(sorted(known))})")
        return result, key
    families = ", ".join(sorted(CATALOGUE))
    raise MetricError(f"unknown result family in metric {metric!r} (known: {families})")


def resolve_metric(metric: str, published: Iterable[str]) -> tuple[str, str] | None:
    """Split ``metric`` at the longest name in ``published`` that prefixes it (``name + '.'``)."""
    best: str | None = None
    for name in published:
        if metric.startswith(name + ".") and (best is None or len(name) > len(best)):
            best = name
    if best is None:
        return None
    return best, metric[len(best) + 1 :]


# -- state machine ------------------------------------------------------------------------------
Status = Literal["ok", "breach"]


class _Record:
    """``to_dict`` / ``from_dict`` for the dataclasses kept in Redis as JSON.

    ``from_dict`` ignores unknown keys, so records written by a newer version still load.
    """

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # subclasses are dataclasses

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class RuleState(_Record):
    """What flowdesk remembers about one rule between evaluations.  Times are epoch seconds."""

    status: Status = "ok"
    notified: bool = False
    """True once the current breach was announced (a fired event was emitted)."""
    last_value: float | None = None
    last_at: float | None = None
    breach_since: float | None = None
    last_fired_at: float | None = None
    last_resolved_at: float | None = None
    last_event_id: str | None = None


@dataclass(frozen=True)
class AlertEvent(_Record):
    """One alert event.  ``id`` is the idempotency key receivers deduplicate on.

    ``kind`` is ``fired``, ``resolved``, ``digest`` (morning brief) or ``test``.
    """

    id: str
    kind: str
    at: str
    """ISO 8601 UTC time of the evaluation that produced it."""
    rule: str | None = None
    metric: str | None = None
    result: str | None = None
    value: float | None = None
    op: str | None = None
    threshold: float | None = None
    hysteresis: float | None = None
    severity: str = "info"
    title: str = ""
    text: str = ""
    as_of: str | None = None
    """As-of time of the data the value was read from."""
    targets: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def new_event_id(now: float | None = None) -> str:
    """Sortable, unique: ``evt_<UTC time>_<random>``."""
    stamp = datetime.fromtimestamp(now if now is not None else time.time(), UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"evt_{stamp}_{secrets.token_hex(5)}"


_OPS = {
    ">": lambda v, t: v > t,
    ">=": lambda v, t: v >= t,
    "<": lambda v, t: v < t,
    "<=": lambda v, t: v <= t,
}


def in_breach(value: float, op: str, threshold: float) -> bool:
    return _OPS[op](value, threshold)


def clears(value: float, op: str, threshold: float, hysteresis: float) -> bool:
    """True when a breach of ``value <op> threshold`` has resolved, ``hysteresis`` past it.

    ``>``: ``value <= T - h``; ``>=``: ``value < T - h``; ``<``: ``value >= T + h``;
    ``<=``: ``value > T + h``.  With ``h = 0`` this is simply "no longer in breach".
    """
    shifted = threshold - hysteresis if op in (">", ">=") else threshold + hysteresis
    return not _OPS[op](value, shifted)


def epoch_iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def fmt_value(value: float | None) -> str:
    """A figure for people: ``72,317,900,000`` for large values, ``0.4`` or ``-1.25`` for small ones."""
    if value is None:
        return "-"
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _describe(name: str, rule: AlertRule, value: float, kind: str) -> tuple[str, str]:
    verb = "FIRED" if kind == "fired" else "resolved"
    title = f"[{rule.severity.upper()}] {name} {verb}"
    metric = f"|{rule.metric}|" if getattr(rule, "absolute", False) else rule.metric
    text = f"{metric} = {fmt_value(value)} ({'breach of' if kind == 'fired' else 'back from'} {rule.op} {fmt_value(rule.threshold)})"
    return title, text


def step(state: RuleState, value: float | None, now: float | datetime, rule: AlertRule, name: str = "") -> tuple[RuleState, AlertEvent | None]:
    """Advance one rule by one observation.  Pure: no I/O, no clock (``now`` is given).

    Parameters
    ----------
    state:
        The rule's previous state (``RuleState()`` for a new rule).
    value:
        The metric's new value, in the unit of its headline key (its absolute value is compared
        when ``rule.absolute``).  ``None`` or NaN (a result without the figure) leaves the state
        unchanged and emits nothing.
    now:
        Evaluation time (epoch seconds or a tz-aware datetime); cooldowns are measured with it.
    rule:
        The :class:`jobs.config.AlertRule`.
    name:
        The rule's name (put in the event).

    Returns
    -------
    (new_state, event or None)
    """
    t = now.timestamp() if isinstance(now, datetime) else float(now)
    if value is None or not math.isfinite(float(value)):
        return state, None
    value = abs(float(value)) if getattr(rule, "absolute", False) else float(value)
    observed = replace(state, last_value=value, last_at=t)
    cooldown_s = rule.cooldown_minutes * 60.0
    cooling = state.last_fired_at is not None and t - state.last_fired_at < cooldown_s

    def event(kind: str) -> AlertEvent:
        title, text = _describe(name, rule, value, kind)
        return AlertEvent(
            id=new_event_id(t),
            kind=kind,
            at=epoch_iso(t),
            rule=name,
            metric=rule.metric,
            value=value,
            op=rule.op,
            threshold=rule.threshold,
            hysteresis=rule.hysteresis,
            severity=rule.severity,
            title=title,
            text=text,
            targets=list(rule.targets),
        )

    if state.status == "ok":
        if not in_breach(value, rule.op, rule.threshold):
            return observed, None
        if cooling:  # entered breach again too soon after the last fire: remember, stay quiet
            return replace(observed, status="breach", notified=False, breach_since=t), None
        ev = event("fired")
        return replace(observed, status="breach", notified=True, breach_since=t, last_fired_at=t, last_event_id=ev.id), ev

    # status == "breach"
    if clears(value, rule.op, rule.threshold, rule.hysteresis):
        resolved = replace(observed, status="ok", notified=False, breach_since=None, last_resolved_at=t)
        if not state.notified:
            return resolved, None
        ev = event("resolved")
        return replace(resolved, last_event_id=ev.id), ev
    if not state.notified and not cooling and in_breach(value, rule.op, rule.threshold):
        # A breach held through the cooldown is announced once the cooldown is over.
        ev = event("fired")
        return replace(observed, notified=True, last_fired_at=t, last_event_id=ev.id), ev
    return observed, None
