"""A column the parser reads, named twice in the header, is a clear error naming the file and the
column (it was a Python traceback: pandas hands back two columns where one was expected); a
repeated column the parser does not read changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.errors import InputError
from flows.sources import letf_universe, proshares, vixetp_universe

DATA = Path(__file__).resolve().parents[1] / "data" / "letf"


def _rename(text: str, old: str, new: str) -> str:
    head, rest = text.split("\n", 1)
    return head.replace(old, new, 1) + "\n" + rest


@pytest.mark.parametrize(
    ("parse", "text", "old", "new"),
    [
        (
            lambda raw: letf_universe.parse(raw, "u.csv"),
            (DATA / "leveraged_etf_data_2026-06-01_trimmed.csv").read_text(encoding="utf-8-sig"),
            "created_at",
            "name",
        ),
        (
            lambda raw: letf_universe.parse(raw, "u.csv"),
            letf_universe.shipped_path().read_text(encoding="utf-8"),
            "fund_type",
            "leverage",
        ),
        (
            lambda raw: proshares.parse(raw, "u.csv"),
            (DATA / "proshares_SSO-historical_nav_trimmed.csv").read_text(encoding="utf-8"),
            "Prior NAV",
            "NAV",
        ),
        (
            lambda raw: vixetp_universe.parse(raw, "u.csv"),
            vixetp_universe.shipped_path().read_text(encoding="utf-8"),
            "note",
            "ticker",
        ),
    ],
    ids=["universe", "curated universe", "NAV", "VIX ETP universe"],
)
def test_a_column_read_twice_is_refused(parse, text: str, old: str, new: str) -> None:
    with pytest.raises(InputError) as err:
        parse(_rename(text, old, new).encode("utf-8"))
    assert str(err.value).startswith("u.csv")
    assert f"line 1, column '{new}'" in str(err.value)
    assert "named twice" in str(err.value)


def test_a_repeated_column_that_is_not_read_changes_nothing() -> None:
    text = (DATA / "leveraged_etf_data_2026-06-01_trimmed.csv").read_text(encoding="utf-8-sig")
    clean = letf_universe.parse(text.encode(), "u.csv")
    twice = letf_universe.parse(_rename(text, "created_at", "url").encode(), "u.csv")
    assert twice.funds.equals(clean.funds) and twice.quality.to_dict() == clean.quality.to_dict()
