"""Text inputs of the CFTC family: the decoding rule, and the (frame, quality) pair parsers return.

Decoding rule (:func:`decode_text`), in this order:

1. a byte-order mark decides: UTF-8 (``EF BB BF``, removed), UTF-16 LE/BE (``FF FE`` / ``FE FF``);
2. otherwise UTF-8;
3. otherwise Windows-1252 (cp1252: what Excel on Windows writes; a superset of Latin-1's
   printable characters);
4. otherwise Latin-1 (ISO-8859-1), which decodes any byte (cp1252 leaves five bytes undefined).

A text that still holds NUL characters is binary (or UTF-16 without its BOM) and is refused with
an :class:`~flows.errors.InputError` naming the source.  What was done is reported as a repair
(``BOM removed``, ``decoded as cp1252``) in the parser's :class:`~flows.quality.Quality`.

Pure: bytes in, text out.
"""

from __future__ import annotations

import codecs
from typing import NamedTuple

import pandas as pd

from flows.errors import InputError
from flows.quality import Quality


class Decoded(NamedTuple):
    """A decoded text: ``text``, the ``encoding`` used and whether a BOM was removed."""

    text: str
    encoding: str
    bom: bool

    def note(self, quality: Quality) -> None:
        """Record the decoding as a file-level repair in ``quality`` (nothing for plain UTF-8)."""
        if self.bom:
            quality.repair(f"{self.encoding} byte-order mark removed")
        if self.encoding not in ("utf-8", "utf-16"):
            quality.repair(f"not UTF-8: decoded as {self.encoding}")


class Parsed(NamedTuple):
    """What a parser returns: the ``frame`` and the :class:`~flows.quality.Quality` of the input."""

    frame: pd.DataFrame
    quality: Quality


_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def decode_text(raw: bytes, source: str) -> Decoded:
    """Decode ``raw`` by the rule of the module docstring.

    Raises
    ------
    InputError
        The bytes decode to text holding NUL characters (a binary file, or UTF-16 without BOM),
        or a BOM-declared UTF-16 text is malformed.
    """
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputError(source, None, f"starts with a {encoding} byte-order mark but does not decode as {encoding} ({exc.reason} at byte {exc.start})") from None
            return _checked(Decoded(text, "utf-16" if encoding.startswith("utf-16") else encoding, True), source)
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            return _checked(Decoded(raw.decode(encoding), encoding, False), source)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _checked(decoded: Decoded, source: str) -> Decoded:
    if "\x00" in decoded.text:
        raise InputError(source, None, "binary data (NUL bytes): not a text file (UTF-16 without a byte-order mark?)")
    return decoded
