"""Bytes to text for the delimited files of the price and VIX-futures connectors.

Decoding rule (one for every price / settlement file, documented in the README):

1. gzip (magic bytes ``1f 8b``) is inflated first, whatever the file name says: the ``arch``
   datasets ship ``.csv.gz``; a truncated gzip stream is an :class:`InputError`.
2. UTF-8, with a leading byte-order mark removed (Excel writes one): the normal case.
3. Otherwise Windows-1252 (``cp1252``, the superset of Latin-1 that Excel uses on Western
   European machines), and if even that fails (the five bytes cp1252 leaves undefined) Latin-1,
   which maps every byte.  Such a fallback is recorded as a repair in the file's
   :class:`flows.quality.Quality`, because a file that is not UTF-8 was re-saved by hand.

Price files are ASCII in practice, so a fallback only changes text in headers or disclaimer
lines; digits are the same in every one of these encodings.  UTF-16 files (NUL bytes) are
refused: decoding them byte-wise would silently produce a garbled header.

Pure: bytes in, text out.
"""

from __future__ import annotations

import gzip
import zlib

from flows.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"


def decode_text(raw: bytes, source: str) -> tuple[str, list[str]]:
    """``(text, repairs)``: the decoded text and the repairs applied (``["gzip"]``, ...).

    Repairs are short labels for :meth:`flows.quality.Quality.repair`: ``"decoded as cp1252
    (not UTF-8)"`` or ``"decoded as latin-1 (not UTF-8)"``; a removed BOM and gzip are normal
    and not reported.  Raises :class:`InputError` naming ``source`` for a broken gzip stream,
    UTF-16 text or an empty file.
    """
    data = raw
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(source, None, f"broken gzip stream (file cut or not gzip): {exc}") from None
    repairs: list[str] = []
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4096]:
        raise InputError(source, "line 1", "UTF-16 or binary content (expected UTF-8 / cp1252 text)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
            repairs.append("decoded as cp1252 (not UTF-8)")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            repairs.append("decoded as latin-1 (not UTF-8)")
    if not text.strip():
        raise InputError(source, "line 1", "empty file")
    return text, repairs
