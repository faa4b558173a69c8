"""The ECB readers' two finishes give the same frame, quality and errors (issue 17 §2).

:func:`flows.sources.ecb.read_hist_csv` and :func:`flows.sources.ecb.read_daily_csv` finish
regular rates on whole arrays (``_finish_regular``) and anything else with ``_finish`` (sort,
repeated days, days without a USD rate, conversion, plausibility, each step naming the currency
and day).  Both must agree on the real files (trimmed copies; the full history when the shared
folder is present), on every FX mutation of the CFTC bad-input corpus and on damage aimed at the
regular finish's conditions, for the currency selections the callers use.
"""

from __future__ import annotations

import pandas as pd
import pytest

from flows.errors import FlowdeskError
from flows.sources import ecb
from flows.sources.textio import decode_text
from tests import cftc_replay
from tests.corpus.test_corpus_cftc import _cases
from tests.realdata import full, root, trimmed

CURRENCIES = [
    ecb.FLOWDESK_CURRENCIES,
    None,
    ("EUR", "JPY"),
    ("USD", "SEK", "GBP"),
]
HIST = [
    trimmed("cftc/eurofxref-hist_2024-11-15_to_2025-05-09.csv", id="hist trimmed"),
    trimmed("cftc/eurofxref-hist_2017-12-18_to_2018-05-03_two_windows.csv", id="hist 2018"),
    trimmed("cftc/eurofxref-hist_2025-04-10_to_2026-04-13_two_windows.csv", id="hist 2026"),
    full("cftc/fx/eurofxref-hist.csv", id="hist full"),
]


def outcome(kind: str, text: str | bytes, regular: bool, currencies) -> tuple[str, object]:
    try:
        body = decode_text(text, "rates.csv").text if isinstance(text, bytes) else text
        read = ecb._read_hist_csv if kind == "hist" else ecb._read_daily_csv
        return "parsed", read(body, "rates.csv", currencies, regular=regular)
    except FlowdeskError as exc:
        return "error", f"{type(exc).__name__}: {exc}"


def assert_same_outcome(kind: str, text: str | bytes) -> list[str]:
    """Both finishes on ``text`` for every currency selection; the outcome kinds."""
    kinds = []
    for currencies in CURRENCIES:
        (k_fast, fast), (k_exact, exact) = (
            outcome(kind, text, True, currencies),
            outcome(kind, text, False, currencies),
        )
        assert k_fast == k_exact, (currencies, fast, exact)
        kinds.append(k_fast)
        if k_fast == "error":
            assert fast == exact
            continue
        assert isinstance(fast, ecb.Parsed) and isinstance(exact, ecb.Parsed)
        pd.testing.assert_frame_equal(fast.frame, exact.frame, check_exact=True)
        assert fast.frame.index.name == exact.frame.index.name == "date"
        assert fast.frame.columns.name is None and exact.frame.columns.name is None
        assert fast.quality.to_dict() == exact.quality.to_dict()
    return kinds


def takes_regular_finish(text: str) -> bool:
    """Whether the regular finish builds the history's frame (default currencies)."""
    header = [h.strip() for h in text.split("\n", 1)[0].split(",")]
    cols = list(dict.fromkeys(["USD", *[c for c in ecb.FLOWDESK_CURRENCIES if c != "EUR"]]))
    read = ecb._arrow_hist(text, header, cols)
    assert read is not None
    days, values = read
    quality = ecb.Quality(source="rates.csv", basis="rows")
    return (
        ecb._finish_regular(
            days.astype("datetime64[ns]"),
            values.to_numpy(),
            list(values.columns),
            ecb.FLOWDESK_CURRENCIES,
            quality,
        )
        is not None
    )


@pytest.mark.parametrize(("where", "name"), HIST)
def test_real_histories_take_the_regular_finish_with_the_same_frame(
    where: str, name: str, request: pytest.FixtureRequest
) -> None:
    text = (root(request, where) / name).read_text()
    assert takes_regular_finish(text)
    assert set(assert_same_outcome("hist", text)) == {"parsed"}


def test_daily_csv_takes_the_regular_finish_with_the_same_frame(test_data) -> None:
    text = (test_data / "cftc" / "eurofxref_2026-04-13.csv").read_text()
    header = [h.strip() for h in text.splitlines()[0].split(",")][1:-1]
    rates = [float(v) for v in text.splitlines()[1].split(",")[1:-1]]
    quality = ecb.Quality(source="rates.csv", basis="rows")
    day = pd.DatetimeIndex(["2026-04-13"]).to_numpy()
    rows = pd.DataFrame([rates]).to_numpy()
    assert ecb._finish_regular(day, rows, header, ecb.FLOWDESK_CURRENCIES, quality) is not None
    assert set(assert_same_outcome("daily", text)) == {"parsed"}


def _fx_cases() -> list[tuple[str, str | bytes]]:
    cases = _cases(
        cftc_replay.member_text(cftc_replay.LEGACY_ZIP),
        cftc_replay.member_text(cftc_replay.TFF_ZIP),
        cftc_replay.ECB_CSV.read_text(),
    )
    return [(case, content) for case, _kind, target, content in cases if target == "fx"]


@pytest.mark.parametrize(("case", "content"), _fx_cases(), ids=[c for c, _ in _fx_cases()])
def test_corpus_fx_mutations_give_the_same_outcome(case: str, content: str | bytes) -> None:
    assert_same_outcome("hist", content)


def _hist_edit(day: str, ccy: str, value: str) -> str:
    text = cftc_replay.ECB_CSV.read_text()
    lines = text.split("\n")
    header = lines[0].split(",")
    i = next(k for k, ln in enumerate(lines) if ln.startswith(day))
    cells = lines[i].split(",")
    cells[header.index(ccy)] = value
    lines[i] = ",".join(cells)
    return "\n".join(lines)


def _daily(**cells: str) -> str:
    header = "Date, USD, JPY, GBP, CHF, SEK, AUD, "
    values = {"Date": "13 April 2026", "USD": "1.1684", "JPY": "186.75", "GBP": "0.87058"}
    values |= {"CHF": "0.9242", "SEK": "10.8920", "AUD": "1.6610"} | cells
    return header + "\n" + ", ".join(values.values()) + ", \n"


DAMAGE = {
    "hist USD N/A one day": ("hist", _hist_edit("2025-01-14", "USD", "N/A")),
    "hist JPY N/A one day": ("hist", _hist_edit("2025-01-14", "JPY", "N/A")),
    "hist USD 0": ("hist", _hist_edit("2025-01-14", "USD", "0")),
    "hist USD negative": ("hist", _hist_edit("2025-01-14", "USD", "-1.02")),
    "hist GBP 0": ("hist", _hist_edit("2025-01-14", "GBP", "0")),
    "hist a day twice": (
        "hist",
        (lambda t: t.replace("\n2025-01-14,", "\n2025-01-15,", 1))(cftc_replay.ECB_CSV.read_text()),
    ),
    "hist CHF a misprint": ("hist", _hist_edit("2025-01-14", "CHF", "9.39")),
    "hist a currency outside the checked ones jumps": (
        "hist",
        _hist_edit("2025-01-14", "ISK", "1500"),
    ),
    "daily plain": ("daily", _daily()),
    "daily USD N/A": ("daily", _daily(USD="N/A")),
    "daily JPY N/A": ("daily", _daily(JPY="N/A")),
    "daily USD 0": ("daily", _daily(USD="0")),
    "daily SEK beyond the limit": ("daily", _daily(SEK="0.0001")),
    "daily inf": ("daily", _daily(AUD="inf")),
}


@pytest.mark.parametrize("name", list(DAMAGE))
def test_damage_to_the_regular_conditions_gives_the_same_outcome(name: str) -> None:
    kind, text = DAMAGE[name]
    assert_same_outcome(kind, text)
