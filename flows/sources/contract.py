"""The connector contract: every source module has the same three steps.

Modelled on OpenBB's typed ``Fetcher`` (``transform_query`` / ``extract_data`` /
``transform_data``): a connector is a module of :mod:`flows.sources` with

1. ``build_query(...) -> Query``: pure; turns what the desk names (a symbol, a year, a file in
   the drop folder) into what to fetch.  For an HTTP source the query carries the ``url`` (a
   ``str`` URL for the CFTC and ECB file endpoints); for a file source it is the ``Path``.
2. ``fetch(query, client) -> raw``: the only I/O.  HTTP sources go through
   :class:`flows.sources.http.HttpClient` (timeouts, retries with :func:`~flows.sources.http.backoff_delay`,
   rate limit) and return the body's bytes; the two JSON APIs whose errors live in the body
   return the decoded JSON (``cboe_quotes``) or, paging, the rows (``cftc_socrata``).  File
   sources take no client (``fetch(path)``, :func:`read_file`).  Failures are
   :class:`~flows.errors.SourceError` (HTTP status, timeout: naming the URL) or
   :class:`~flows.errors.InputError` (an unreadable file, naming it).
3. ``parse(raw, source, ...) -> result``: pure; bytes (or the decoded JSON) in, the frame or
   chain and its :class:`~flows.quality.Quality` out, every text decoded by the one rule of
   :func:`flows.sources.textio.decode_text`.  Bad input is an :class:`~flows.errors.InputError`
   naming ``source``, the field and the row.  :func:`quality_of` reads the Quality of any result.

Signatures that differ, and why: ``cftc_files.parse`` and ``cftc_socrata.parse`` also take the
``report`` (legacy or TFF: one endpoint serves both layouts; the CFTC zip is opened with
``cftc_files.read_zip`` first); ``aum_drop`` has ``parse_aum`` / ``parse_adv`` (two drop files, one
module) and ``fetch`` returns None when nothing was dropped; ``cboe_csv.build_query`` picks the
newest file of the drop folder.  ``tests/sources/test_connector_contract.py`` runs every HTTP
connector against the local test server (recorded body, 404, 500, malformed body) and every
file connector on its trimmed file; :data:`CONNECTORS` is the list it must cover.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol

from flows.errors import InputError
from flows.quality import Quality


class HttpQuery(Protocol):
    """What an HTTP connector's ``build_query`` returns (a dataclass with the URL)."""

    @property
    def url(self) -> str: ...


class Client(Protocol):
    """The HTTP client a connector's ``fetch`` uses (:class:`flows.sources.http.HttpClient`)."""

    def get_bytes(self, url: str, **kwargs: Any) -> bytes: ...


class HttpConnector(Protocol):
    """A module of :mod:`flows.sources` reading a public HTTP endpoint."""

    def build_query(self, *args: Any, **kwargs: Any) -> Any: ...

    def fetch(self, query: Any, client: Any) -> Any: ...


class FileConnector(Protocol):
    """A module of :mod:`flows.sources` reading a local (dropped or shipped) file."""

    def build_query(self, *args: Any, **kwargs: Any) -> Path: ...

    def fetch(self, query: Path) -> bytes | None: ...


CONNECTORS: dict[str, Literal["http", "file"]] = {
    "cboe": "http",
    "cboe_quotes": "http",
    "cboe_prices": "http",
    "cboe_vx": "http",
    "fred": "http",
    "proshares": "http",
    "ecb": "http",
    "cftc_files": "http",
    "cftc_socrata": "http",
    "cboe_csv": "file",
    "letf_universe": "file",
    "vixetp_universe": "file",
    "aum_drop": "file",
    "yahoo_csv": "file",
    "price_files": "file",
}
"""Every connector module and its kind (the contract test covers each one).  Not connectors:
``http`` (the client), ``textio`` (decoding), ``contract``, ``price_frame`` (the shared
delimited-price parser), the ``sample_*`` generators (offline data in the real formats)."""


def read_file(path: str | Path) -> bytes:
    """A file connector's ``fetch``: the file's bytes; :class:`InputError` naming the file
    when it is missing or unreadable."""
    p = Path(path)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise InputError(str(p), None, f"cannot read the file: {exc.strerror or exc}") from None


def quality_of(result: Any) -> Quality | None:
    """The :class:`Quality` a connector's ``parse`` returned, whatever its shape: an object with
    ``.quality`` (a chain, :class:`~flows.sources.textio.Parsed`, a NAV history, a drop table), a
    ``(frame, quality)`` pair, or None for the parsers that report none (a quote, the curated
    universes)."""
    q = getattr(result, "quality", None)
    if isinstance(q, Quality):
        return q
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], Quality):
        return result[1]
    return None
