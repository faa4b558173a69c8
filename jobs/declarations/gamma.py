"""Declarations of ``gamma.<UNDERLYING>`` and ``gamma.summary`` (:mod:`jobs.tasks.gamma`).

The tables and headline are those of :func:`flows.gamma.analyze` (formulas and conventions in
its module docstring); the task adds ``sample`` to the headline.  GEX figures are signed by the
result's dealer convention (``convention``): + = dealers long gamma (they sell rallies and buy
dips); flows: + = dealers buy.
"""

from __future__ import annotations

from jobs.declarations import Column, HeadlineKey, ResultDecl, Table, Unit, declare

REGIMES = "long gamma / short gamma / neutral gamma"
"""The values of a ``regime`` column (flows.gamma.REGIMES; neutral: a net GEX of 0 to rounding)."""

U = Unit
STRIKE = "strike in the chain's underlying's price units (per share for adjusted series)"


def _gex(name: str, what: str, *, title: str) -> Column:
    return Column(name, "float", U.USD_PER_1PCT, what, title=title)


HEDGE_FLOW_3PCT = (
    Column(
        "hedge_flow_down3_usd",
        "float",
        U.USD_FLOW,
        "dealer trade for a -3% move (+ = dealers buy)",
        title="Dealer hedge trade, −3% move",
    ),
    Column(
        "hedge_flow_up3_usd",
        "float",
        U.USD_FLOW,
        "dealer trade for a +3% move (+ = dealers buy)",
        title="Dealer hedge trade, +3% move",
    ),
)
"""The dealers' hedge trade for a -3 % and a +3 % move: in the sensitivity table and the summary."""


GAMMA = declare(
    ResultDecl(
        name="gamma.<UNDERLYING>",
        description="Dealer gamma exposure of one underlying's option chain: GEX by strike and expiry, the gamma profile and its flips, walls, the hedge flow for moves of the underlying, the sensitivity to the dealer convention, and every contract used or dropped.",
        task="gamma",
        cadence="session",
        tables=(
            Table(
                "by_strike",
                (
                    Column("strike", "float", U.PRICE, STRIKE, title="Strike"),
                    _gex(
                        "call_gex_usd_per_1pct",
                        "spot GEX of the calls at this strike",
                        title="Call GEX",
                    ),
                    _gex(
                        "put_gex_usd_per_1pct",
                        "spot GEX of the puts at this strike",
                        title="Put GEX",
                    ),
                    _gex("net_gex_usd_per_1pct", "call + put GEX", title="Net GEX"),
                    Column(
                        "call_oi_contracts",
                        "float",
                        U.CONTRACTS,
                        "open interest of the calls",
                        title="Call open interest",
                    ),
                    Column(
                        "put_oi_contracts",
                        "float",
                        U.CONTRACTS,
                        "open interest of the puts",
                        title="Put open interest",
                    ),
                ),
                "spot GEX by strike, all expiries (the main table)",
            ),
            Table(
                "by_expiry",
                (
                    Column("expiry", "date", U.DATE, "listed expiration date", title="Expiry"),
                    Column(
                        "days_to_expiry",
                        "int",
                        U.DAYS,
                        "calendar days from the snapshot date",
                        title="Days to expiry",
                    ),
                    _gex("net_gex_usd_per_1pct", "net spot GEX of the expiry", title="Net GEX"),
                    _gex("call_gex_usd_per_1pct", "spot GEX of the calls", title="Call GEX"),
                    _gex("put_gex_usd_per_1pct", "spot GEX of the puts", title="Put GEX"),
                    _gex(
                        "gross_gex_usd_per_1pct", "sum of |GEX| of the contracts", title="Gross GEX"
                    ),
                    _gex(
                        "modelled_gex_usd_per_1pct",
                        "|GEX| of the contracts whose gamma was modelled (BSM) rather than read",
                        title="Gross GEX from modelled gamma",
                    ),
                    Column(
                        "zero_dte",
                        "bool",
                        U.FLAG,
                        "some contract of the expiry settles in the snapshot's session",
                        title="0DTE",
                    ),
                ),
                "spot GEX by expiry, all strikes",
            ),
            Table(
                "grid",
                (
                    Column("expiry", "date", U.DATE, "listed expiration date", title="Expiry"),
                    Column("strike", "float", U.PRICE, STRIKE, title="Strike"),
                    _gex(
                        "net_gex_usd_per_1pct",
                        "net spot GEX of the strike and expiry",
                        title="Net GEX",
                    ),
                ),
                "net spot GEX by strike and expiry (the heatmap)",
                history="latest",
            ),
            Table(
                "profile",
                (
                    Column(
                        "spot",
                        "float",
                        U.PRICE,
                        "hypothetical spot of the underlying",
                        title="Spot",
                    ),
                    Column(
                        "spot_pct_from_current",
                        "float",
                        U.PERCENT,
                        "(spot / current spot - 1) x 100",
                        title="Spot from current",
                    ),
                    _gex(
                        "net_gex_usd_per_1pct",
                        "model GEX at that spot (IV and time held)",
                        title="Net GEX",
                    ),
                    _gex("call_gex_usd_per_1pct", "model GEX of the calls", title="Call GEX"),
                    _gex("put_gex_usd_per_1pct", "model GEX of the puts", title="Put GEX"),
                ),
                "the gamma profile: model GEX over a window of spots (its zero crossings are the flips)",
                history="latest",
            ),
            Table(
                "hedge_flow",
                (
                    Column("move_pct", "float", U.PERCENT, "move of the underlying", title="Move"),
                    Column(
                        "spot", "float", U.PRICE, "spot after the move", title="Spot after the move"
                    ),
                    Column(
                        "dealer_trade_usd",
                        "float",
                        U.USD_FLOW,
                        "USD of underlying dealers trade to stay delta-hedged (full re-pricing; + = dealers buy)",
                        title="Dealer hedge trade",
                    ),
                    Column(
                        "gamma_approx_usd",
                        "float",
                        U.USD_FLOW,
                        "the same by the gamma approximation (+ = dealers buy)",
                        title="Gamma approximation",
                    ),
                    Column(
                        "vanna_flow_usd",
                        "float",
                        U.USD_FLOW,
                        "trade from an IV shock of iv_shock_points at the moved spot (+ = dealers buy)",
                        title="Vanna trade",
                    ),
                    Column(
                        "charm_flow_usd",
                        "float",
                        U.USD_FLOW,
                        "trade from time passing to the next session close (+ = dealers buy)",
                        title="Charm trade",
                    ),
                ),
                "the dealers' hedge trade for each move of the underlying",
            ),
            Table(
                "sensitivity",
                (
                    Column(
                        "convention",
                        "str",
                        U.LABEL,
                        "dealer sign convention",
                        title="Dealer convention",
                    ),
                    _gex(
                        "net_gex_usd_per_1pct", "net spot GEX under the convention", title="Net GEX"
                    ),
                    Column(
                        "flip",
                        "float",
                        U.PRICE,
                        "nearest zero-gamma level under the convention (NaN: none in the window)",
                        title="Flip",
                    ),
                    *HEDGE_FLOW_3PCT,
                ),
                "the headline under each dealer-position convention",
            ),
            Table(
                "contracts",
                (
                    Column("symbol", "str", U.LABEL, "OSI option symbol", title="Option symbol"),
                    Column("root", "str", U.LABEL, "option root", title="Root"),
                    Column("type", "str", U.LABEL, "'C' or 'P'", title="Type"),
                    Column("strike", "float", U.PRICE, "strike as listed", title="Strike"),
                    Column(
                        "strike_per_unit",
                        "float",
                        U.PRICE,
                        "strike per unit of the contract's own underlying (per share for adjusted series)",
                        title="Strike per unit",
                    ),
                    Column("expiry", "date", U.DATE, "listed expiration date", title="Expiry"),
                    Column(
                        "settle_time", "time", U.TIME, "settlement instant, UTC", title="Settles"
                    ),
                    Column(
                        "t_years",
                        "float",
                        U.YEARS,
                        "time to settlement",
                        title="Time to settlement",
                    ),
                    Column(
                        "open_interest",
                        "float",
                        U.CONTRACTS,
                        "open interest",
                        title="Open interest",
                    ),
                    Column(
                        "dealer_position_contracts",
                        "float",
                        U.CONTRACTS,
                        "dealer position from the source (+ = dealers long); only when the source has one",
                        optional=True,
                        title="Dealer position",
                    ),
                    Column(
                        "units_per_contract",
                        "float",
                        U.UNITS_PER_CONTRACT,
                        "units of the contract's own underlying per contract",
                        title="Contract size",
                    ),
                    Column(
                        "underlying_price",
                        "float",
                        U.PRICE,
                        "price of the contract's own underlying (spot, scaled index or futures price)",
                        title="Underlying price",
                    ),
                    Column(
                        "iv_used",
                        "float",
                        U.FRACTION_PER_YEAR,
                        "implied volatility used",
                        title="Implied volatility",
                    ),
                    Column(
                        "iv_source", "str", U.LABEL, "file / solved / unsolved", title="IV source"
                    ),
                    Column(
                        "gamma_file",
                        "float",
                        U.PER_POINT_PER_OPTION,
                        "the source's gamma (NaN where none)",
                        storage="float32",
                        title="Gamma from the source",
                    ),
                    Column(
                        "gamma_model",
                        "float",
                        U.PER_POINT_PER_OPTION,
                        "BSM gamma at iv_used",
                        storage="float32",
                        title="Model gamma",
                    ),
                    Column(
                        "gamma_source",
                        "str",
                        U.LABEL,
                        "file / model / none: which gamma the GEX uses",
                        title="Gamma used",
                    ),
                    _gex("gex_usd_per_1pct", "spot GEX of the contract", title="GEX"),
                ),
                "every contract in the figures",
                history="latest",
            ),
            Table(
                "dropped",
                (
                    Column("symbol", "str", U.LABEL, "OSI option symbol", title="Option symbol"),
                    Column("root", "str", U.LABEL, "option root", title="Root"),
                    Column("type", "str", U.LABEL, "'C' or 'P'", title="Type"),
                    Column("strike", "float", U.PRICE, "strike as listed", title="Strike"),
                    Column("expiry", "date", U.DATE, "listed expiration date", title="Expiry"),
                    Column(
                        "settle_time", "time", U.TIME, "settlement instant, UTC", title="Settles"
                    ),
                    Column(
                        "open_interest",
                        "float",
                        U.CONTRACTS,
                        "open interest",
                        title="Open interest",
                    ),
                    Column(
                        "kind",
                        "str",
                        U.LABEL,
                        "settled / non-standard / other underlying / unsolved / unreadable",
                        title="Kind",
                    ),
                    Column("reason", "str", U.LABEL, "why it was left out", title="Reason"),
                ),
                "contracts left out of every figure, with the reason",
                history="latest",
            ),
        ),
        headline=(
            HeadlineKey(
                "underlying", U.LABEL, "the chain's underlying", kind="text", alertable=False
            ),
            HeadlineKey("spot", U.PRICE, "spot of the underlying at the snapshot"),
            HeadlineKey(
                "as_of", U.TIME, "snapshot time of the chain", kind="time", alertable=False
            ),
            HeadlineKey(
                "source", U.LABEL, "where the chain came from", kind="text", alertable=False
            ),
            HeadlineKey(
                "convention",
                U.LABEL,
                "dealer sign convention of every figure",
                kind="text",
                alertable=False,
            ),
            HeadlineKey(
                "time_basis", U.LABEL, "calendar or busdays262", kind="text", alertable=False
            ),
            HeadlineKey("contracts", U.COUNT, "contracts in the figures"),
            HeadlineKey("expired_dropped", U.COUNT, "contracts dropped as settled by the snapshot"),
            HeadlineKey("expired_dropped_oi", U.CONTRACTS, "their open interest"),
            HeadlineKey(
                "excluded_contracts",
                U.COUNT,
                "contracts of non-standard series or other underlyings excluded",
            ),
            HeadlineKey("excluded_oi", U.CONTRACTS, "their open interest"),
            HeadlineKey(
                "unsolved_dropped", U.COUNT, "contracts without a usable gamma or IV left out"
            ),
            HeadlineKey("unsolved_dropped_oi", U.CONTRACTS, "their open interest"),
            HeadlineKey(
                "unsolved_iv", U.COUNT, "contracts with open interest whose IV could not be solved"
            ),
            HeadlineKey(
                "deliverable_contracts",
                U.COUNT,
                "contracts of adjusted series modelled with their deliverable",
            ),
            HeadlineKey(
                "modelled_gamma_contracts", U.COUNT, "contracts whose gamma was modelled (BSM)"
            ),
            HeadlineKey(
                "modelled_gamma_share", U.FRACTION, "share of gross GEX from modelled gamma"
            ),
            HeadlineKey(
                "net_gex_usd_per_1pct", U.USD_PER_1PCT, "net spot GEX (+ = dealers long gamma)"
            ),
            HeadlineKey("call_gex_usd_per_1pct", U.USD_PER_1PCT, "spot GEX of the calls"),
            HeadlineKey("put_gex_usd_per_1pct", U.USD_PER_1PCT, "spot GEX of the puts"),
            HeadlineKey("gross_gex_usd_per_1pct", U.USD_PER_1PCT, "sum of |GEX| of every contract"),
            HeadlineKey(
                "net_gex_usd_per_point", U.USD_PER_POINT, "net GEX per 1 point of the underlying"
            ),
            HeadlineKey(
                "net_gex_shares_per_1pct", U.SHARES_PER_1PCT, "net GEX in units of the underlying"
            ),
            HeadlineKey(
                "zero_dte_share",
                U.FRACTION,
                "share of gross GEX from contracts settling in the snapshot's session",
            ),
            HeadlineKey(
                "model_gex_at_spot_usd_per_1pct",
                U.USD_PER_1PCT,
                "the profile at spot (model greeks): the consistency check of the net GEX",
            ),
            HeadlineKey(
                "regime",
                U.LABEL,
                f"{REGIMES} (sign of the net GEX; neutral: 0 to rounding)",
                kind="text",
                alertable=False,
            ),
            HeadlineKey(
                "flip", U.PRICE, "zero-gamma level nearest spot (None: no crossing in the window)"
            ),
            HeadlineKey(
                "flip_distance_pct", U.PERCENT, "(flip / spot - 1) x 100; negative: flip below spot"
            ),
            HeadlineKey(
                "flips",
                U.LIST,
                "every zero crossing of the profile, price units",
                kind="list",
                alertable=False,
            ),
            HeadlineKey("call_wall", U.PRICE, "strike with the largest |call GEX|"),
            HeadlineKey("put_wall", U.PRICE, "strike with the largest |put GEX|"),
            HeadlineKey(
                "abs_gamma_strike", U.PRICE, "strike with the largest |call GEX| + |put GEX|"
            ),
            HeadlineKey(
                "hedge_flow_down3_usd", U.USD_FLOW, "dealer trade for a -3% move (+ = dealers buy)"
            ),
            HeadlineKey(
                "hedge_flow_up3_usd", U.USD_FLOW, "dealer trade for a +3% move (+ = dealers buy)"
            ),
            HeadlineKey(
                "forwards",
                U.LIST,
                "futures prices used for futures-priced products: {expiry, forward, method}",
                kind="list",
                alertable=False,
            ),
            HeadlineKey(
                "moved_expiries",
                U.LIST,
                "expiries that settle on an earlier session (a holiday): {expiry, settles}",
                kind="list",
                alertable=False,
            ),
            HeadlineKey("r", U.FRACTION_PER_YEAR, "risk-free rate used", alertable=False),
            HeadlineKey("q", U.FRACTION_PER_YEAR, "dividend yield used", alertable=False),
            HeadlineKey(
                "next_close",
                U.TIME,
                "session close the charm flow runs to",
                kind="time",
                alertable=False,
            ),
            HeadlineKey(
                "sample", U.FLAG, "computed on generated sample data", kind="bool", alertable=False
            ),
        ),
    )
)

SUMMARY = declare(
    ResultDecl(
        name="gamma.summary",
        description="One row per configured underlying with its latest headline figures and refresh status (the board's and the overview's input).",
        task="gamma",
        cadence="session",
        tables=(
            Table(
                "summary",
                (
                    Column("underlying", "str", U.LABEL, "underlying", title="Underlying"),
                    Column(
                        "status",
                        "str",
                        U.LABEL,
                        "ok / stale (last refresh failed: its last good figures) / failed (never published)",
                        title="Status",
                    ),
                    Column("as_of", "time", U.TIME, "snapshot time of the figures", title="As of"),
                    Column("source", "str", U.LABEL, "where the chain came from", title="Source"),
                    Column("spot", "float", U.PRICE, "spot of the underlying", title="Spot"),
                    _gex("net_gex_usd_per_1pct", "net spot GEX", title="Net GEX"),
                    _gex("call_gex_usd_per_1pct", "spot GEX of the calls", title="Call GEX"),
                    _gex("put_gex_usd_per_1pct", "spot GEX of the puts", title="Put GEX"),
                    _gex("gross_gex_usd_per_1pct", "sum of |GEX|", title="Gross GEX"),
                    Column(
                        "zero_dte_share",
                        "float",
                        U.FRACTION,
                        "share of gross GEX settling in the snapshot's session",
                        title="0DTE share of gross GEX",
                    ),
                    Column(
                        "regime",
                        "str",
                        U.LABEL,
                        REGIMES,
                        title="Regime",
                    ),
                    Column("flip", "float", U.PRICE, "zero-gamma level nearest spot", title="Flip"),
                    Column(
                        "flip_distance_pct",
                        "float",
                        U.PERCENT,
                        "(flip / spot - 1) x 100",
                        title="Flip distance",
                    ),
                    Column(
                        "call_wall",
                        "float",
                        U.PRICE,
                        "strike with the largest |call GEX|",
                        title="Call wall",
                    ),
                    Column(
                        "put_wall",
                        "float",
                        U.PRICE,
                        "strike with the largest |put GEX|",
                        title="Put wall",
                    ),
                    Column(
                        "abs_gamma_strike",
                        "float",
                        U.PRICE,
                        "strike with the largest |call| + |put| GEX",
                        title="Abs-gamma strike",
                    ),
                    *HEDGE_FLOW_3PCT,
                    Column(
                        "convention",
                        "str",
                        U.LABEL,
                        "dealer sign convention",
                        title="Dealer convention",
                    ),
                    Column(
                        "contracts", "float", U.COUNT, "contracts in the figures", title="Contracts"
                    ),
                    Column(
                        "modelled_gamma_share",
                        "float",
                        U.FRACTION,
                        "share of gross GEX from modelled gamma",
                        title="Modelled gamma share",
                    ),
                    Column("error", "str", U.LABEL, "the refresh error when not ok", title="Error"),
                ),
                "one row per underlying",
            ),
        ),
        headline=(
            HeadlineKey("underlyings", U.COUNT, "underlyings configured"),
            HeadlineKey("ok", U.COUNT, "underlyings refreshed by this run"),
            HeadlineKey(
                "failed", U.COUNT, "underlyings that failed (their last good figures are kept)"
            ),
        ),
    )
)
