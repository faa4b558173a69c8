"""THE decoding rule of every text file flowdesk reads, and the (frame, quality) pair parsers return.

Every connector (option chains, CFTC and ECB files, leveraged-ETF universes and drop files, NAV
histories, price and VX settlement files) decodes its bytes with :func:`decode_text`, in this order:

1. **gzip**: bytes starting with the gzip magic (``1f 8b``) are inflated first, whatever the file
   name says (the ``arch`` datasets ship ``.csv.gz``); a broken stream is refused;
2. **byte-order mark**: UTF-8 (``EF BB BF``) is removed; UTF-16 LE/BE (``FF FE`` / ``FE FF``)
   decodes the rest as UTF-16 (a spreadsheet's "Unicode text");
3. otherwise **UTF-8**;
4. otherwise **Windows-1252** (cp1252: what Excel on Windows writes; a superset of Latin-1's
   printable characters);
5. otherwise **Latin-1** (ISO-8859-1), which decodes any byte (cp1252 leaves five bytes undefined).

A text that still holds NUL characters is binary (or UTF-16 without its BOM) and is refused with
an :class:`~flows.errors.InputError` naming the source (an empty text is the parser's to refuse,
naming the header or line it lacks).  A file that was not plain UTF-8 was re-saved by hand: that
is a repair (:attr:`Decoded.repairs`: ``decoded as UTF-16 (byte-order mark)``, ``decoded as
cp1252 (not UTF-8)``, ``decoded as latin-1 (not UTF-8)``), recorded by the parser in its
:class:`~flows.quality.Quality` (:meth:`Decoded.note`).  Gzip and a UTF-8 byte-order mark (what
Excel writes) are normal and not repairs.

Pure: bytes in, text out.
"""

from __future__ import annotations

import codecs
import gzip
import zlib
from typing import NamedTuple

import pandas as pd

from flows.errors import InputError
from flows.quality import Quality

GZIP_MAGIC = b"\x1f\x8b"


class Decoded(NamedTuple):
    """A decoded text: ``text``, the ``encoding`` used (``utf-8``, ``utf-16``, ``cp1252`` or
    ``latin-1``) and whether a byte-order mark was found."""

    text: str
    encoding: str
    bom: bool

    @property
    def repairs(self) -> list[str]:
        """What was done beyond plain UTF-8, as repair labels (empty for plain UTF-8)."""
        out = []
        if self.encoding == "utf-16":
            out.append("decoded as UTF-16 (byte-order mark)")
        if self.encoding in ("cp1252", "latin-1"):
            out.append(f"decoded as {self.encoding} (not UTF-8)")
        return out

    def note(self, quality: Quality, rows: int = 1) -> None:
        """Record :attr:`repairs` in ``quality`` (``rows``: how many rows they touched)."""
        for label in self.repairs:
            quality.repair(label, rows)


class Parsed(NamedTuple):
    """What a parser returns: the ``frame`` and the :class:`~flows.quality.Quality` of the input."""

    frame: pd.DataFrame
    quality: Quality


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_text(raw: bytes | bytearray | str, source: str) -> Decoded:
    """Decode ``raw`` by the rule of the module docstring (a ``str`` only loses a leading BOM).

    Raises
    ------
    InputError
        A broken gzip stream; text holding NUL characters (a binary file, or UTF-16 without a
        BOM); a malformed BOM-declared UTF-16 text.
    """
    if isinstance(raw, str):
        return _checked(
            Decoded(raw.removeprefix("\ufeff"), "utf-8", raw.startswith("\ufeff")), source
        )
    data = bytes(raw)
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(
                source, None, f"broken gzip stream (file cut or not gzip): {exc}"
            ) from None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputError(
                    source,
                    None,
                    f"starts with a {encoding} byte-order mark but does not decode as {encoding} ({exc.reason} at byte {exc.start})",
                ) from None
            return _checked(
                Decoded(text, "utf-16" if encoding.startswith("utf-16") else encoding, True), source
            )
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            return _checked(Decoded(data.decode(encoding), encoding, False), source)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _checked(decoded: Decoded, source: str) -> Decoded:
    if "\x00" in decoded.text:
        raise InputError(
            source,
            None,
            "binary data (NUL bytes): not a text file (UTF-16 without a byte-order mark?)",
        )
    return decoded
