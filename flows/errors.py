"""Every named error and warning flowdesk raises on purpose, rooted in :class:`FlowdeskError`.

Exceptions mean "cannot compute"; warnings mean "suspicious but computable".  Every error names
where the bad input came from (a file, a symbol, an endpoint, a config key), the field, and why it
was refused, so that the message on the Status page is enough to act on.

The analytics (``flows``), the jobs (``jobs``) and the web app (``dashboard``) all take their
errors from here, so that ``except FlowdeskError`` catches every deliberate refusal.  Where a
caller relies on a built-in base (``ResultNotFound`` is a ``KeyError``, ``MetricError`` a
``ValueError``), the error keeps it beside :class:`FlowdeskError`.  The modules that raise them
re-export them under their old names (``jobs.store.ResultNotFound``, ``jobs.config.ConfigError``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flows.quality import Quality


class FlowdeskError(Exception):
    """Base class of every error flowdesk raises on purpose."""


class InputError(FlowdeskError, ValueError):
    """Input that cannot be computed on.

    Parameters
    ----------
    source:
        Where the input came from: a file path, a symbol, a URL or a result name.
    field:
        The column, key or parameter at fault (``None`` when the whole input is at fault).
    reason:
        Why it was refused, in plain words, including the offending value where useful.
    """

    def __init__(self, source: str, field: str | None, reason: str) -> None:
        self.source = str(source)
        self.field = field
        self.reason = reason
        where = f"{self.source}: {field}" if field else self.source
        super().__init__(f"{where}: {reason}")


class SourceError(FlowdeskError):
    """A data source could not be reached or answered with an error (HTTP status, timeout).

    ``source`` names the endpoint or symbol; ``status`` is the HTTP status when there was one.
    """

    def __init__(self, source: str, reason: str, status: int | None = None) -> None:
        self.source = source
        self.reason = reason
        self.status = status
        code = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"{source}: {reason}{code}")


class QualityError(InputError):
    """A result refused because its input lost too much (skipped share above the threshold)."""

    def __init__(self, quality: Quality, threshold: float) -> None:
        self.quality = quality
        self.threshold = threshold
        super().__init__(
            quality.source,
            None,
            f"refused: {quality.share_text()} skipped (limit {threshold * 100:.2f} %): {quality.summary()}",
        )


class OutOfCalendarRange(FlowdeskError, ValueError):
    """A date outside the range the exchange calendar is built for."""


# -- jobs side -----------------------------------------------------------------------------------
class ConfigError(FlowdeskError):
    """The configuration file is missing, unreadable or invalid.

    ``problems`` holds one ``(dotted_key, reason)`` pair per mistake.
    """

    def __init__(self, path: str | Path, problems: list[tuple[str, str]]) -> None:
        self.path = str(path)
        self.problems = problems
        lines = [
            f"{self.path}: {key}: {reason}" if key else f"{self.path}: {reason}"
            for key, reason in problems
        ]
        super().__init__("invalid configuration\n" + "\n".join(lines))


class ResultNotFound(FlowdeskError, KeyError):
    """No result of that name (or none at or before the requested time) in the store."""

    def __init__(self, name: str, as_of: datetime | None = None) -> None:
        self.name = name
        self.as_of = as_of
        when = f" at or before {as_of.isoformat()}" if as_of else ""
        super().__init__(f"no published result named {name!r}{when}")


class MetricError(FlowdeskError, ValueError):
    """An alert rule's metric does not name a known result family and headline key."""


class DeclarationError(FlowdeskError):
    """A publish that does not match its result's declaration (an undeclared result, table,
    column or headline key, a column or value of another kind), a result with no declaration, or
    an incoherent declaration (:mod:`jobs.declarations`).  Nothing is written."""


class GammaTaskError(FlowdeskError):
    """The gamma task could not publish any underlying."""


class UniverseTaskError(FlowdeskError):
    """The universe task could not publish its table (empty universe, nothing fetched, every
    shard failed, its shards not done in time)."""


class TargetConfigError(FlowdeskError, RuntimeError):
    """An alert target cannot be sent to: unknown name or a missing environment variable."""


class DataDirBusy(FlowdeskError, RuntimeError):
    """Another process holds the embedded Redis data folder's lock."""


class GaveUp(FlowdeskError, RuntimeError):
    """A supervised child kept dying: the supervisor stopped (``flowdesk run`` exits with code 3)."""


# -- web side ------------------------------------------------------------------------------------
class AuthConfigError(FlowdeskError):
    """Login is required but no credentials are configured, or they are malformed."""


class WsgiConfigError(FlowdeskError, RuntimeError):
    """The production server is missing something it needs (``REDIS_URL``)."""


class DataQualityWarning(UserWarning):
    """Rows were skipped or values look suspicious, but a result can still be computed."""
