"""Named errors and warnings shared by the analytics and the data sources.

Exceptions mean "cannot compute"; warnings mean "suspicious but computable".  Every error names
where the bad input came from (a file, a symbol, an endpoint), the field, and why it was refused,
so that the message on the Status page is enough to act on.
"""

from __future__ import annotations


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


class DataQualityWarning(UserWarning):
    """Rows were skipped or values look suspicious, but a result can still be computed."""
