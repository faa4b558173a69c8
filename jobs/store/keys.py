"""Every Redis key flowdesk uses, built in one place.

All keys start with ``flowdesk:v1:``; the ``v1`` is bumped if the layout ever changes, so two
versions of the service can share a server during an upgrade.  The keys of one result share the
hash tag ``{res:<name>}`` so that they live on one Redis Cluster slot and can be written in one
``MULTI``/``EXEC`` transaction; likewise ``{job:<name>}`` for a job's run records and
``{alerts}`` for the alert state and outbox.
"""

from __future__ import annotations

PREFIX = "flowdesk:v1"


# -- results ------------------------------------------------------------------------------
def result_index() -> str:
    """Set of every result name ever published."""
    return f"{PREFIX}:results"


def _res(name: str) -> str:
    return f"{PREFIX}:{{res:{name}}}"


def result_current(name: str) -> str:
    """String: the version id of the current (last good) publish."""
    return f"{_res(name)}:current"


def result_history(name: str) -> str:
    """Sorted set: version ids scored by computed-at (epoch seconds)."""
    return f"{_res(name)}:history"


def result_meta(name: str, version: str) -> str:
    """String: JSON metadata of one version."""
    return f"{_res(name)}:meta:{version}"


def result_table(name: str, version: str, table: str) -> str:
    """String: Arrow IPC stream bytes of one table of one version."""
    return f"{_res(name)}:table:{version}:{table}"


def result_eod(name: str) -> str:
    """Hash: exchange date (ISO) -> JSON of the numeric headline of the day's last publish (the
    end-of-day close, kept for years: one small field per day)."""
    return f"{_res(name)}:eod"


def result_sizes(name: str) -> str:
    """Hash: version id -> bytes that version keeps in Redis (its tables + metadata); the
    history's byte cap sums it."""
    return f"{_res(name)}:sizes"


def result_full(name: str) -> str:
    """Set: version ids that still hold their ``latest``-only tables (slimmed once older than
    ``[store] full_versions``)."""
    return f"{_res(name)}:full"


def result_status(name: str) -> str:
    """String: JSON of the last failure (present only while the current result is stale)."""
    return f"{_res(name)}:failure"


# -- job runs -----------------------------------------------------------------------------
def job_index() -> str:
    """Set of every job name that has run."""
    return f"{PREFIX}:jobs"


def _job(name: str) -> str:
    return f"{PREFIX}:{{job:{name}}}"


def job_runs(name: str) -> str:
    """List (newest first) of JSON run records."""
    return f"{_job(name)}:runs"


def job_last_run(name: str) -> str:
    return f"{_job(name)}:last"


def job_last_success(name: str) -> str:
    return f"{_job(name)}:last_ok"


def job_slot(name: str, slot: str) -> str:
    """``SET NX EX`` claim of one scheduled slot: the first scheduler to set it runs the slot."""
    return f"{_job(name)}:slot:{slot}"


# -- scheduler ----------------------------------------------------------------------------
def scheduler_leader() -> str:
    """Leader lease (redis-py ``Lock``): only its holder fires jobs."""
    return f"{PREFIX}:scheduler:leader"


def scheduler_heartbeat() -> str:
    """String: JSON ``{"at": epoch, "pid": ..., "host": ..., "leader": bool}`` of the last beat."""
    return f"{PREFIX}:scheduler:heartbeat"


# -- alerts -------------------------------------------------------------------------------
def _alerts() -> str:
    return f"{PREFIX}:{{alerts}}"


def alert_state(rule: str) -> str:
    return f"{_alerts()}:state:{rule}"


def alert_events() -> str:
    """List (newest first) of alert events (fired / resolved)."""
    return f"{_alerts()}:events"


def alert_outbox() -> str:
    """Sorted set of pending deliveries scored by next-attempt time (epoch seconds)."""
    return f"{_alerts()}:outbox"


def alert_delivery(delivery_id: str) -> str:
    """Hash: one pending delivery (event, target, attempts, last error)."""
    return f"{_alerts()}:delivery:{delivery_id}"


def alert_inflight() -> str:
    """Sorted set of deliveries being attempted, scored by lease expiry."""
    return f"{_alerts()}:inflight"


def alert_dead() -> str:
    """List (newest first) of dead-lettered deliveries."""
    return f"{_alerts()}:dead"


def alert_delivered() -> str:
    """List (newest first) of delivered deliveries (bounded)."""
    return f"{_alerts()}:delivered"


# -- web ----------------------------------------------------------------------------------
def login_failures(scope: str, window: int) -> str:
    """Counter of unverified logins of ``scope`` (``client:<address>`` or ``all``) in fixed
    window number ``window`` (epoch seconds // window length); expires with its window."""
    return f"{PREFIX}:login:{scope}:{window}"


def refresh_progress() -> str:
    """String: JSON progress of the first refresh of ``flowdesk run`` (jobs done, current job)."""
    return f"{PREFIX}:refresh:progress"


def brief_notes(date: str) -> str:
    """String: the desk's notes for the morning brief of ``date`` (ISO date), plain text."""
    return f"{PREFIX}:brief:notes:{date}"


# -- the listed-options universe (jobs/tasks/universe.py) ----------------------------------
def _universe() -> str:
    return f"{PREFIX}:{{universe}}"


def universe_round() -> str:
    """String: JSON of the current universe round (id, universe hash, start, done)."""
    return f"{_universe()}:round"


def universe_chains(round_id: str) -> str:
    """Hash: symbol -> Arrow IPC bytes of its fetched chain (staged for the shards; the spot,
    as-of, source and parser quality in the schema metadata)."""
    return f"{_universe()}:{round_id}:chains"


def universe_fetch_failed(round_id: str) -> str:
    """Hash: symbol -> JSON ``{"field", "reason"}`` of a fetch or parse that failed."""
    return f"{_universe()}:{round_id}:fetch_failed"


def universe_sizes(round_id: str) -> str:
    """Hash: symbol -> contracts of its staged chain (what the shards are balanced on)."""
    return f"{_universe()}:{round_id}:sizes"


def universe_shards(round_id: str) -> str:
    """Hash: shard number -> JSON list of its symbols."""
    return f"{_universe()}:{round_id}:shards"


def universe_shard_out(round_id: str, shard: int) -> str:
    """Hash ``rows`` / ``failed`` -> Arrow IPC bytes of one shard's universe rows and failures
    (written in one command, overwritten by a retried shard: never appended)."""
    return f"{_universe()}:{round_id}:out:{shard}"
