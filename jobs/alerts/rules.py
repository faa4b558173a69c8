"""Alert rules as data: the metric catalogue and a pure state machine.

A rule (``[alerts.rules.<name>]`` in ``config.toml``) watches one *metric*: a path into a
published result, ``<result name>.<headline key>``.  Result names contain dots
(``gamma.SPX``, ``letf.flows``, ``cftc.net_usd``), so a metric is split at the *longest* result
name that is a prefix of it: ``gamma.SPX.flip_distance_pct`` reads headline ``flip_distance_pct``
of result ``gamma.SPX``.  At start-up a metric is checked against :func:`catalogue`: the numeric,
alertable headline keys of the results' declarations (:mod:`jobs.declarations`; declare a key
there and it is a metric).

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
import secrets
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Self

from flows.errors import MetricError
from flows.formatting import significant
from jobs import declarations
from jobs.declarations import HeadlineKey

if TYPE_CHECKING:
    from jobs.config import AlertRule

log = logging.getLogger("flowdesk.alerts")


# -- the metric catalogue -----------------------------------------------------------------------
def catalogue() -> dict[str, dict[str, HeadlineKey]]:
    """Metrics a rule may read, from the results' declarations (:mod:`jobs.declarations`):
    ``{result name or pattern: {headline key: HeadlineKey}}``, the numeric, alertable keys of
    each declared result plus the input-quality keys every result carries
    (:data:`jobs.declarations.QUALITY_HEADLINE`).  A pattern holds ``<UNDERLYING>`` (one result
    per underlying); a key may hold ``<BASKET>`` or ``<WINDOW>`` (see
    :data:`jobs.declarations.PLACEHOLDERS`)."""
    return declarations.alert_catalogue()


def family_of(result: str) -> str | None:
    """The declared family (exact name or pattern) of a result name, or None (exact names win)."""
    decl = declarations.find(result)
    return decl.name if decl is not None else None


def metric_key(family: str, key: str) -> HeadlineKey | None:
    """The declared headline key ``key`` of ``family`` when a rule may read it, else None."""
    decl = declarations.find(family)
    h = decl.headline_key(key) if decl is not None else None
    return h if h is not None and h.alertable and h.kind == "number" else None


def known_key(family: str, key: str) -> bool:
    """Is ``key`` a headline key of ``family`` a rule may read (exactly, or through a pattern)?"""
    return metric_key(family, key) is not None


def check_metric(metric: str) -> tuple[str, str]:
    """Validate ``metric`` against the catalogue; return ``(result name, headline key)``.

    Raises :class:`MetricError` with the known families or keys when it is not found, or when
    the key is declared but is not a number a rule can compare (text, a list, a parameter).
    """
    if not isinstance(metric, str) or "." not in metric:
        raise MetricError(
            f"metric {metric!r} must be '<result>.<headline key>', e.g. 'gamma.SPX.net_gex_usd_per_1pct'"
        )
    parts = metric.split(".")
    # Longest result-name prefix first, as at evaluation time.
    for cut in range(len(parts) - 1, 0, -1):
        result, key = ".".join(parts[:cut]), ".".join(parts[cut:])
        family = family_of(result)
        if family is None:
            continue
        if not known_key(family, key):
            declared = declarations.lookup(family).headline_key(key)
            why = (
                f"headline key {key!r} of result {result!r} is {declared.kind}, not a number a rule can compare"
                if declared is not None and declared.kind != "number"
                else (
                    f"headline key {key!r} of result {result!r} is not alertable ({declared.description})"
                    if declared is not None
                    else f"unknown headline key {key!r} for result {result!r}"
                )
            )
            raise MetricError(f"{why} (known: {', '.join(sorted(catalogue()[family]))})")
        return result, key
    families = ", ".join(sorted(catalogue()))
    raise MetricError(f"unknown result family in metric {metric!r} (known: {families})")


def metric_unit(metric: str) -> str | None:
    """The declared unit of ``metric`` (``<result>.<key>``), or None when it is not a known metric."""
    try:
        result, key = check_metric(metric)
    except MetricError:
        return None
    h = metric_key(family_of(result) or result, key)
    return str(h.unit) if h is not None else None


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
    """The metric's last value as published, signed (a rule with ``absolute`` compares its
    magnitude: the sign is kept for people, ``-0.4`` is not ``0.4``)."""
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
    """The metric's value, signed as published (see ``absolute``)."""
    absolute: bool = False
    """The rule compares ``|value|`` with the threshold (``value`` keeps its sign)."""
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
    stamp = datetime.fromtimestamp(now if now is not None else time.time(), UTC).strftime(
        "%Y%m%dT%H%M%S%f"
    )
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


def fmt_value(value: float | None, *, minus: str = "-") -> str:
    """A figure for people: ``72,317,900,000`` for large values, ``0.4`` or ``-1.25`` for small
    ones (4 significant digits in decimal notation: ``0.00001234``, never ``1.234e-05``).
    ``minus``: the sign of a negative figure (the pages pass ``"−"``, as their grids write it;
    texts, webhooks and the CLI keep ASCII)."""
    if value is None:
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 10_000 else significant(float(value), 4)
    return minus + text[1:] if text.startswith("-") else text


def condition_text(op: str, threshold: float, absolute: bool, *, minus: str = "-") -> str:
    """``< 0.5``, or ``|value| < 0.5`` for a rule that compares the magnitude (``minus`` as in
    :func:`fmt_value`)."""
    return ("|value| " if absolute else "") + f"{op} {fmt_value(threshold, minus=minus)}"


def _describe(name: str, rule: AlertRule, value: float, kind: str) -> tuple[str, str]:
    """Title and text of an event; ``value`` signed (an absolute rule names both: ``|m| = 0.4
    (m = -0.4; ...)``)."""
    verb = "FIRED" if kind == "fired" else "resolved"
    title = f"[{rule.severity.upper()}] {name} {verb}"
    why = f"{'breach of' if kind == 'fired' else 'back from'} {rule.op} {fmt_value(rule.threshold)}"
    if getattr(rule, "absolute", False):
        text = (
            f"|{rule.metric}| = {fmt_value(abs(value))} ({rule.metric} = {fmt_value(value)}; {why})"
        )
    else:
        text = f"{rule.metric} = {fmt_value(value)} ({why})"
    return title, text


def step(
    state: RuleState, value: float | None, now: float | datetime, rule: AlertRule, name: str = ""
) -> tuple[RuleState, AlertEvent | None]:
    """Advance one rule by one observation.  Pure: no I/O, no clock (``now`` is given).

    Parameters
    ----------
    state:
        The rule's previous state (``RuleState()`` for a new rule).
    value:
        The metric's new value, in the unit of its headline key (its absolute value is compared
        when ``rule.absolute``; the state and the event keep it signed).  ``None`` or NaN (a
        result without the figure) leaves the state unchanged and emits nothing.
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
    value = float(value)
    absolute = bool(getattr(rule, "absolute", False))
    compared = abs(value) if absolute else value  # what the threshold is compared with
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
            absolute=absolute,
            op=rule.op,
            threshold=rule.threshold,
            hysteresis=rule.hysteresis,
            severity=rule.severity,
            title=title,
            text=text,
            targets=list(rule.targets),
        )

    if state.status == "ok":
        if not in_breach(compared, rule.op, rule.threshold):
            return observed, None
        if cooling:  # entered breach again too soon after the last fire: remember, stay quiet
            return replace(observed, status="breach", notified=False, breach_since=t), None
        ev = event("fired")
        return replace(
            observed,
            status="breach",
            notified=True,
            breach_since=t,
            last_fired_at=t,
            last_event_id=ev.id,
        ), ev

    # status == "breach"
    if clears(compared, rule.op, rule.threshold, rule.hysteresis):
        resolved = replace(
            observed, status="ok", notified=False, breach_since=None, last_resolved_at=t
        )
        if not state.notified:
            return resolved, None
        ev = event("resolved")
        return replace(resolved, last_event_id=ev.id), ev
    if not state.notified and not cooling and in_breach(compared, rule.op, rule.threshold):
        # A breach held through the cooldown is announced once the cooldown is over.
        ev = event("fired")
        return replace(observed, notified=True, last_fired_at=t, last_event_id=ev.id), ev
    return observed, None
