"""The shipped tables are read once per process and file version (tff_markets.load,
vixetp_universe.read): a second call is served from the cache, an edited file is read again,
and every call returns its own copy."""

from __future__ import annotations

import os

import pytest

from flows.errors import InputError
from flows.sources import tff_markets, vixetp_universe


@pytest.mark.parametrize(
    ("mod", "read", "cache"),
    [
        (tff_markets, tff_markets.load, tff_markets._load_cached),
        (vixetp_universe, vixetp_universe.read, vixetp_universe._read_cached),
    ],
)
def test_cached_by_path_and_version(tmp_path, mod, read, cache) -> None:
    path = tmp_path / mod.SHIPPED
    text = mod.shipped_path().read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    first = read(path)
    hits = cache.cache_info().hits
    second = read(path)
    assert cache.cache_info().hits == hits + 1
    assert second.equals(first) and second is not first
    second.iloc[0, 0] = "CHANGED"  # a caller's edit does not reach the cache
    assert read(path).equals(first)
    # the file changes (one data row fewer; the modification time moved on): read again
    lines = text.rstrip("\n").split("\n")
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert len(read(path)) == len(first) - 1


@pytest.mark.parametrize("read", [tff_markets.load, vixetp_universe.read])
def test_missing_file_is_still_a_clear_error(tmp_path, read) -> None:
    with pytest.raises(InputError, match="absent.csv"):
        read(tmp_path / "absent.csv")
