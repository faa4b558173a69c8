"""The one decoding rule of flowdesk's text files (CSV universes, drop files, NAV histories).

Rule, in this order:

1. **UTF-8**, with or without a byte-order mark (``utf-8-sig``): every file the public sources
   publish today;
2. **Windows-1252** (``cp1252``): files saved by a spreadsheet on Windows (``é``, ``™``, ``–``);
3. **Latin-1** (``iso-8859-1``): decodes any byte sequence, so a file is never refused for its
   encoding alone; the numbers of a CSV are ASCII in all three.

The chosen encoding is returned so the caller can record it as a repair (a file that was not
UTF-8 is worth a note, never a refusal).  A UTF-16/32 file (NUL bytes between characters) is
refused: decoded by any of the three it would be garbage.

Pure: bytes in, text out.
"""

from __future__ import annotations

from flows.errors import InputError

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


def decode(raw: bytes, source: str) -> tuple[str, str]:
    """``(text, encoding)`` by the rule above; :class:`InputError` for UTF-16/32 or binary data."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:4096]:
        raise InputError(source, "encoding", "NUL bytes: UTF-16/32 or binary data, not a text file (save it as UTF-8)")
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte string")  # pragma: no cover
