"""proshares.parse reads a regular file column-wise: the same history, quality and errors as
the line-by-line reader (forced here by turning the column-wise path off)."""

from __future__ import annotations

import pandas as pd
import pytest

from flows.errors import InputError
from flows.sources import proshares


def _both(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    def run() -> object:
        try:
            got = proshares.parse(raw, "nav.csv")
        except InputError as exc:
            return ("error", str(exc))
        return got.history, got.quality.to_dict()

    fast = run()
    with monkeypatch.context() as m:
        m.setattr(proshares, "_regular_columns", lambda text: None)
        exact = run()
    return fast, exact


def _same(a: object, b: object) -> None:
    if isinstance(a, tuple) and isinstance(a[0], pd.DataFrame):
        assert isinstance(b, tuple)
        pd.testing.assert_frame_equal(a[0], b[0])
        assert a[1] == b[1]
    else:
        assert a == b


def _lines(test_data) -> list[str]:
    return (
        (test_data / "letf" / "proshares_SSO-historical_nav_trimmed.csv")
        .read_text(encoding="utf-8")
        .splitlines()
    )


@pytest.mark.parametrize(
    "edit",
    [
        "none",
        "commas-only line",
        "blank line",
        "crlf",
        "blank NAV",
        "NAV '-'",
        "thousands comma in a quoted cell",
        "bad date",
        "duplicate date",
        "spaces around a number",
        "cut last row",
        "nav out of range",
    ],
)
def test_columnwise_equals_line_by_line(test_data, monkeypatch, edit: str) -> None:
    lines = _lines(test_data)
    head, rows = lines[0], lines[1:]
    cells = rows[2].split(",")
    if edit == "commas-only line":
        rows.insert(3, "," * (len(cells) - 1))
    elif edit == "blank line":
        rows.insert(3, "")
    elif edit == "blank NAV":
        rows[2] = ",".join([*cells[:3], "", *cells[4:]])
    elif edit == "NAV '-'":
        rows[2] = ",".join([*cells[:3], "-", *cells[4:]])
    elif edit == "thousands comma in a quoted cell":
        rows[2] = ",".join([*cells[:-1], '"' + f"{int(cells[-1]):,}" + '"'])
    elif edit == "bad date":
        rows[2] = ",".join(["13/45/2025", *cells[1:]])
    elif edit == "duplicate date":
        rows.insert(3, rows[2])
    elif edit == "spaces around a number":
        rows[2] = ",".join([*cells[:3], f" {cells[3]} ", *cells[4:]])
    elif edit == "nav out of range":
        rows[2] = ",".join([*cells[:3], "1e12", *cells[4:]])
    text = "\n".join([head, *rows]) + "\n"
    if edit == "crlf":
        text = text.replace("\n", "\r\n")
    if edit == "cut last row":
        text = text.rstrip("\n")[:-12]
    fast, exact = _both(text.encode(), monkeypatch)
    _same(fast, exact)


def test_a_regular_file_takes_the_columnwise_path(test_data) -> None:
    text = "\n".join(_lines(test_data)) + "\n"
    assert proshares._regular_columns(text) is not None
    assert (
        proshares._regular_columns(text.replace("\n", "\n,,,,,,,,\n", 1)) is None
    )  # a commas-only line
