"""Chain helpers: OSI symbols, settlement times (AM/PM, DST), chain validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flows.chain import (
    Chain,
    parse_osi,
    settlement_times,
    underlying_from_root,
    validate_chain,
)
from flows.errors import InputError
from flows.products import settlement_style
from flows.schema import CHAIN_COLUMNS


def test_parse_osi_compact_padded_and_invalid() -> None:
    out = parse_osi(
        pd.Series(
            [
                "SPXW230915C04500000",
                "SPY   230915P00450500",
                "brkb240119c00350000",
                "SPX230915X04500000",
                "",
                None,
                "SPXW230915C4500",
            ],
            index=list("abcdefg"),
        )
    )
    assert list(out.index) == list("abcdefg")
    assert out.loc["a"].tolist() == [
        "SPXW230915C04500000",
        "SPXW",
        pd.Timestamp("2023-09-15"),
        "C",
        4500.0,
    ]
    assert out.loc["b", "symbol"] == "SPY230915P00450500" and out.loc["b", "strike"] == 450.5
    assert out.loc["c", "root"] == "BRKB" and out.loc["c", "type"] == "C"
    for bad in "defg":
        assert out.loc[bad].isna().all(), bad
    assert str(out["expiry"].dtype) == "datetime64[ns]"


def test_settlement_times_across_dst_and_roots() -> None:
    roots = ["SPX", "SPXW", "NDX", "NDXP", "QQQ", "RUT"]
    # 2024-03-15 is EDT (DST began 2024-03-10); 2024-03-08 is EST
    t = settlement_times(roots, [pd.Timestamp("2024-03-15")] * 6)
    assert [x.strftime("%H:%M") for x in t] == [
        "13:30",
        "20:00",
        "13:30",
        "20:00",
        "20:00",
        "13:30",
    ]
    t = settlement_times(
        ["SPX", "SPY"], [pd.Timestamp("2024-03-08 17:45"), pd.Timestamp("2024-03-08")]
    )  # time of day ignored
    assert [x.isoformat() for x in t] == ["2024-03-08T14:30:00+00:00", "2024-03-08T21:00:00+00:00"]
    assert settlement_style(["SPX", "NDX", "SPXW", "VIX", "SPY"]).tolist() == [
        True,
        True,
        False,
        True,
        False,
    ]
    assert len(settlement_times([], [])) == 0


def test_underlying_from_root() -> None:
    assert [
        underlying_from_root(r)
        for r in ("SPXW", "NDXP", "SPX", "SPY", "NVDA", "VIXW", "XSP", "SDS1")
    ] == ["SPX", "NDX", "SPX", "SPY", "NVDA", "VIX", "XSP", "SDS"]


def _chain(**overrides) -> Chain:
    frame = pd.DataFrame(
        {
            "symbol": ["SPY240315C00500000", "SPY240315P00500000"],
            "root": "SPY",
            "type": ["C", "P"],
            "strike": 500.0,
            "expiry": pd.Timestamp("2024-03-15"),
            "bid": 1.0,
            "ask": 1.2,
            "iv": [0.2, 0.21],
            "delta": np.nan,
            "gamma": 0.01,
            "open_interest": [10.0, 20.0],
            "volume": 0.0,
        }
    )
    frame["settle_time"] = settlement_times(frame["root"], frame["expiry"])
    frame = frame[list(CHAIN_COLUMNS)]
    for col, values in overrides.pop("columns", {}).items():
        frame[col] = values
    args = dict(
        underlying="SPY",
        spot=500.0,
        as_of=pd.Timestamp("2024-03-01 10:00", tz="America/New_York"),
        source="unit",
        contracts=frame,
    )
    args.update(overrides)
    return Chain(**args)


@pytest.mark.parametrize(
    ("chain", "field"),
    [
        (lambda: _chain(as_of=pd.Timestamp("2024-03-01 10:00")), "as_of"),
        (lambda: _chain(spot=0.0), "spot"),
        (lambda: _chain(spot=None), "spot"),
        (lambda: _chain(contracts=_chain().contracts.drop(columns="gamma")), "gamma"),
        (lambda: _chain(contracts=_chain().contracts.iloc[:0]), "contracts"),
        (lambda: _chain(columns={"symbol": ["SPY240315C00500000"] * 2}), "symbol"),
        (lambda: _chain(columns={"open_interest": [10.0, -1.0]}), "open_interest"),
        (lambda: _chain(columns={"open_interest": [10.0, np.nan]}), "open_interest"),
        (lambda: _chain(columns={"strike": [500.0, 0.0]}), "strike"),
        (lambda: _chain(columns={"iv": [0.0, np.nan], "ask": [0.0, 0.0]}), "iv"),
        (lambda: _chain(columns={"iv": [0.0, np.nan], "ask": [np.nan, 0.5]}), "iv"),
        (
            lambda: _chain(
                columns={"settle_time": pd.to_datetime([None, None]).tz_localize("UTC")}
            ),
            "settle_time",
        ),
    ],
)
def test_validate_chain_names_the_field(chain, field) -> None:
    with pytest.raises(InputError) as err:
        validate_chain(chain())
    assert err.value.field == field and err.value.source == "unit"


def test_validate_chain_accepts_a_good_chain() -> None:
    validate_chain(_chain())


def test_a_chain_without_any_iv_is_kept_when_a_quote_is_two_sided() -> None:
    """A source that sends no IV at all (0 or missing everywhere) but quotes: the IVs are solved
    from the mids (flows.gamma, whose rule for a mid this is: ask > 0, 0 <= bid <= ask); one
    quote is enough, none is a broken download."""
    validate_chain(_chain(columns={"iv": [np.nan, np.nan], "bid": [0.0, np.nan]}))  # 0 / 1.2
    with pytest.raises(InputError, match=r"no contract has a quote \(ask > 0") as err:
        validate_chain(_chain(columns={"iv": [np.nan, 0.0], "bid": [np.nan, 1.5]}))  # bid > ask
    assert err.value.field == "iv"


def _outcome(chain: Chain) -> str:
    try:
        validate_chain(chain)
    except InputError as exc:
        return str(exc)
    return "ok"


@pytest.mark.parametrize(
    ("columns", "field"),
    [
        ({}, None),
        ({"open_interest": [10, 3]}, None),
        ({"iv": [np.inf, 0.0]}, None),
        ({"open_interest": [10.0, -1.0]}, "open_interest"),
        ({"open_interest": [10.0, np.nan]}, "open_interest"),
        ({"strike": [500.0, 0.0]}, "strike"),
        ({"strike": [500.0, np.inf]}, "strike"),
        ({"iv": [0.0, np.nan]}, None),  # the IVs solved from the quotes
        ({"iv": [0.0, np.nan], "ask": [0.0, 0.0]}, "iv"),
        ({"iv": [-np.inf, 0.0], "ask": [0.0, np.nan]}, "iv"),
        (
            {"settle_time": pd.to_datetime([None, "2024-03-15 20:00"]).tz_localize("UTC")},
            "settle_time",
        ),
        ({"settle_time": pd.to_datetime(["2024-03-15 20:00", None]).as_unit("us")}, "settle_time"),
    ],
)
def test_validate_chain_reads_typed_columns_as_pandas_reads_any_column(columns, field) -> None:
    """Numeric and datetime columns are read straight from their arrays; the same chain with
    those columns as Python objects goes through pd.to_numeric / pd.DatetimeIndex: the same
    verdict and the same message."""
    typed = _chain(columns=columns)
    as_objects = _chain(
        columns={
            col: typed.contracts[col].astype(object)
            for col in ("open_interest", "strike", "iv", "bid", "ask", "settle_time")
        }
    )
    assert as_objects.contracts["settle_time"].dtype == object
    outcome = _outcome(typed)
    assert outcome == _outcome(as_objects)
    if field is None:
        assert outcome == "ok"
    else:
        with pytest.raises(InputError) as err:
            validate_chain(typed)
        assert err.value.field == field and str(err.value) == outcome
