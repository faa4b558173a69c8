"""Results of the listed-options universe (``jobs/tasks/universe.py``): ``universe.table`` (one row
per underlying, every refresh) and ``universe.<SYMBOL>`` (full dealer-gamma tables of the focus
list and of the names a user opens)."""

from __future__ import annotations

from jobs.declarations import Column, HeadlineKey, ResultDecl, Table, Unit, declare

U = Unit

_ROW = (
    Column("symbol", "str", U.LABEL, "underlying ticker"),
    Column("sector", "str", U.LABEL, "GICS sector (Fund for ETFs; unknown without a universe file)"),
    Column("spot", "float", U.PRICE, "underlying price at the snapshot"),
    Column("as_of", "time", U.TIME, "snapshot time of the chain"),
    Column("source", "str", U.LABEL, "where the chain came from (cboe-json, sample)"),
    Column("contracts", "int", U.COUNT, "contracts in the figures"),
    Column("net_gex_usd_per_1pct", "float", U.USD_PER_1PCT, "dealer spot GEX, net (+ = dealers long gamma)"),
    Column("call_gex_usd_per_1pct", "float", U.USD_PER_1PCT, "spot GEX of the calls"),
    Column("put_gex_usd_per_1pct", "float", U.USD_PER_1PCT, "spot GEX of the puts"),
    Column("gross_gex_usd_per_1pct", "float", U.USD_PER_1PCT, "sum of |GEX| over contracts"),
    Column("zero_dte_share", "float", U.FRACTION, "share of gross GEX settling in the snapshot's session"),
    Column("modelled_gamma_share", "float", U.FRACTION, "share of gross GEX from model (BSM) gamma"),
    Column("regime", "str", U.LABEL, "long gamma / short gamma (sign of net GEX)"),
    Column("flip", "float", U.PRICE, "gamma flip nearest spot (NaN: none within the profile window)"),
    Column("flip_distance_pct", "float", U.PERCENT, "flip relative to spot, % (+ = above spot)"),
    Column("call_wall", "float", U.PRICE, "strike with the largest |call GEX|"),
    Column("put_wall", "float", U.PRICE, "strike with the largest |put GEX|"),
    Column("abs_gamma_strike", "float", U.PRICE, "strike with the largest |call GEX| + |put GEX|"),
    Column("hedge_flow_down3_usd", "float", U.USD_FLOW, "dealers' hedge trade for a -3 % move (full re-pricing)"),
    Column("hedge_flow_up3_usd", "float", U.USD_FLOW, "dealers' hedge trade for a +3 % move"),
    Column("adv_usd", "float", U.USD, "average daily dollar volume of the underlying (NaN: no ADV)"),
    Column("gex_pct_adv", "float", U.PCT_OF_ADV, "net GEX per 1 % as % of ADV (NaN: no ADV)"),
    Column("baskets", "str", U.LABEL, "baskets of [universe.baskets] the name belongs to, comma-separated"),
    Column("focus", "bool", U.LABEL, "full tables published every refresh (universe.<SYMBOL>)"),
)

_AGG = (
    Column("names", "int", U.COUNT),
    Column("net_gex_usd_per_1pct", "float", U.USD_PER_1PCT),
    Column("call_gex_usd_per_1pct", "float", U.USD_PER_1PCT),
    Column("put_gex_usd_per_1pct", "float", U.USD_PER_1PCT),
    Column("gross_gex_usd_per_1pct", "float", U.USD_PER_1PCT),
    Column("hedge_flow_down3_usd", "float", U.USD_FLOW),
    Column("hedge_flow_up3_usd", "float", U.USD_FLOW),
    Column("adv_usd", "float", U.USD, "sum of the names' ADV (names with one)"),
    Column("gex_pct_adv", "float", U.PCT_OF_ADV, "net GEX of the names with an ADV as % of their ADV"),
)

UNIVERSE_TABLE = declare(
    ResultDecl(
        name="universe.table",
        description="Dealer gamma of every underlying of the listed-options universe: one row per name (the compact universe table), sector x regime and basket sums, and the names that failed.",
        task="universe",
        cadence="session",
        tables=(
            Table("names", _ROW, "one row per underlying (computed in shards on RQ workers)"),
            Table("sectors", (Column("sector", "str", U.LABEL), Column("regime", "str", U.LABEL), *_AGG), "sums per sector and gamma regime (the heatmap)"),
            Table("baskets", (Column("basket", "str", U.LABEL), Column("members", "str", U.LABEL, "the basket's names found in the universe"), *_AGG), "sums per custom basket ([universe.baskets])"),
            Table("failed", (Column("symbol", "str", U.LABEL), Column("stage", "str", U.LABEL, "fetch, analysis or shard"), Column("field", "str", U.LABEL), Column("reason", "str", U.LABEL)), "names left out, with why"),
        ),
        headline=(
            HeadlineKey("names", U.COUNT, "underlyings in the table"),
            HeadlineKey("contracts", U.COUNT, "contracts in the figures"),
            HeadlineKey("failed", U.COUNT, "underlyings left out (see the failed table)"),
            HeadlineKey("net_gex_usd_per_1pct", U.USD_PER_1PCT, "sum of the names' net GEX"),
            HeadlineKey("gross_gex_usd_per_1pct", U.USD_PER_1PCT, "sum of the names' gross GEX"),
            HeadlineKey("short_gamma_names", U.COUNT, "names whose dealers are short gamma"),
            HeadlineKey("hedge_flow_down3_usd", U.USD_FLOW, "sum of the names' hedge trades for -3 % each"),
            HeadlineKey("hedge_flow_up3_usd", U.USD_FLOW, "sum for +3 % each"),
            HeadlineKey("net_gex_usd_per_1pct_<BASKET>", U.USD_PER_1PCT, "a basket's net GEX"),
            HeadlineKey("hedge_flow_down3_usd_<BASKET>", U.USD_FLOW, "a basket's hedge trade for -3 % on each name"),
            HeadlineKey("hedge_flow_up3_usd_<BASKET>", U.USD_FLOW, "a basket's hedge trade for +3 % on each name"),
            HeadlineKey("shards", U.COUNT, "shards the names were analysed in", alertable=False),
            HeadlineKey("round", U.LABEL, "id of the refresh round", kind="text", alertable=False),
            HeadlineKey("sample", U.LABEL, "computed on generated sample data", kind="bool", alertable=False),
        ),
    )
)

_P = U.PRICE
GAMMA_TABLES = (
    Table("by_strike", (Column("strike", "float", _P), Column("call_gex_usd_per_1pct", "float", U.USD_PER_1PCT), Column("put_gex_usd_per_1pct", "float", U.USD_PER_1PCT), Column("net_gex_usd_per_1pct", "float", U.USD_PER_1PCT), Column("call_oi_contracts", "float", U.CONTRACTS), Column("put_oi_contracts", "float", U.CONTRACTS)), "spot GEX by strike, all expiries"),
    Table("profile", (Column("spot", "float", _P), Column("spot_pct_from_current", "float", U.PERCENT), Column("net_gex_usd_per_1pct", "float", U.USD_PER_1PCT), Column("call_gex_usd_per_1pct", "float", U.USD_PER_1PCT), Column("put_gex_usd_per_1pct", "float", U.USD_PER_1PCT)), "model GEX across spot"),
    Table("by_expiry", (Column("expiry", "date", U.DATE), Column("days_to_expiry", "int", U.DAYS), Column("net_gex_usd_per_1pct", "float", U.USD_PER_1PCT), Column("call_gex_usd_per_1pct", "float", U.USD_PER_1PCT), Column("put_gex_usd_per_1pct", "float", U.USD_PER_1PCT), Column("gross_gex_usd_per_1pct", "float", U.USD_PER_1PCT), Column("modelled_gex_usd_per_1pct", "float", U.USD_PER_1PCT), Column("zero_dte", "bool", U.LABEL)), "spot GEX by expiry"),
    Table("grid", (Column("expiry", "date", U.DATE), Column("strike", "float", _P), Column("net_gex_usd_per_1pct", "float", U.USD_PER_1PCT)), "spot GEX by expiry and strike"),
    Table("hedge_flow", (Column("move_pct", "float", U.PERCENT), Column("spot", "float", _P), Column("dealer_trade_usd", "float", U.USD_FLOW), Column("gamma_approx_usd", "float", U.USD_FLOW), Column("vanna_flow_usd", "float", U.USD_FLOW), Column("charm_flow_usd", "float", U.USD_FLOW)), "dealers' hedge trades by move"),
    Table("sensitivity", (Column("convention", "str", U.LABEL), Column("net_gex_usd_per_1pct", "float", U.USD_PER_1PCT), Column("flip", "float", _P), Column("hedge_flow_down3_usd", "float", U.USD_FLOW), Column("hedge_flow_up3_usd", "float", U.USD_FLOW)), "headline figures under each dealer convention"),
    Table(
        "contracts",
        (
            Column("symbol", "str", U.LABEL), Column("root", "str", U.LABEL), Column("type", "str", U.LABEL), Column("strike", "float", _P), Column("strike_per_unit", "float", _P),
            Column("expiry", "date", U.DATE), Column("settle_time", "time", U.TIME), Column("t_years", "float", U.YEARS), Column("open_interest", "float", U.CONTRACTS),
            Column("dealer_position_contracts", "float", U.CONTRACTS, optional=True), Column("units_per_contract", "float", U.SHARES), Column("underlying_price", "float", _P),
            Column("iv_used", "float", U.FRACTION_PER_YEAR), Column("iv_source", "str", U.LABEL), Column("gamma_file", "float", U.PER_POINT_PER_OPTION), Column("gamma_model", "float", U.PER_POINT_PER_OPTION),
            Column("gamma_source", "str", U.LABEL), Column("gex_usd_per_1pct", "float", U.USD_PER_1PCT),
        ),
        "every contract in the figures",
    ),
    Table("dropped", (Column("symbol", "str", U.LABEL), Column("root", "str", U.LABEL), Column("type", "str", U.LABEL), Column("strike", "float", _P), Column("expiry", "date", U.DATE), Column("settle_time", "time", U.TIME), Column("open_interest", "float", U.CONTRACTS), Column("kind", "str", U.LABEL), Column("reason", "str", U.LABEL)), "contracts left out, with why"),
)

_H = [
    ("underlying", U.LABEL, "text"), ("spot", _P, "number"), ("as_of", U.TIME, "time"), ("source", U.LABEL, "text"), ("convention", U.LABEL, "text"), ("time_basis", U.LABEL, "text"),
    ("contracts", U.COUNT, "number"), ("expired_dropped", U.COUNT, "number"), ("expired_dropped_oi", U.CONTRACTS, "number"), ("excluded_contracts", U.COUNT, "number"), ("excluded_oi", U.CONTRACTS, "number"),
    ("unsolved_dropped", U.COUNT, "number"), ("unsolved_dropped_oi", U.CONTRACTS, "number"), ("unsolved_iv", U.COUNT, "number"), ("deliverable_contracts", U.COUNT, "number"),
    ("modelled_gamma_contracts", U.COUNT, "number"), ("modelled_gamma_share", U.FRACTION, "number"), ("net_gex_usd_per_1pct", U.USD_PER_1PCT, "number"), ("call_gex_usd_per_1pct", U.USD_PER_1PCT, "number"),
    ("put_gex_usd_per_1pct", U.USD_PER_1PCT, "number"), ("gross_gex_usd_per_1pct", U.USD_PER_1PCT, "number"), ("net_gex_usd_per_point", U.USD_PER_POINT, "number"), ("net_gex_shares_per_1pct", U.SHARES_PER_1PCT, "number"),
    ("zero_dte_share", U.FRACTION, "number"), ("model_gex_at_spot_usd_per_1pct", U.USD_PER_1PCT, "number"), ("regime", U.LABEL, "text"), ("flip", _P, "number"), ("flip_distance_pct", U.PERCENT, "number"),
    ("flips", _P, "list"), ("call_wall", _P, "number"), ("put_wall", _P, "number"), ("abs_gamma_strike", _P, "number"), ("hedge_flow_down3_usd", U.USD_FLOW, "number"), ("hedge_flow_up3_usd", U.USD_FLOW, "number"),
    ("forwards", _P, "list"), ("moved_expiries", U.DATE, "list"), ("r", U.FRACTION_PER_YEAR, "number"), ("q", U.FRACTION_PER_YEAR, "number"), ("next_close", U.TIME, "time"),
    ("sample", U.LABEL, "bool"), ("sector", U.LABEL, "text"), ("round", U.LABEL, "text"), ("on_demand", U.LABEL, "bool"),
]

UNIVERSE_NAME = declare(
    ResultDecl(
        name="universe.<SYMBOL>",
        description="Full dealer-gamma tables of one underlying of the universe (the focus list every refresh; other names when a user opens them, computed by a worker): the same tables and headline as gamma.<UNDERLYING>.",
        task="universe",
        cadence="session",
        tables=GAMMA_TABLES,
        headline=tuple(HeadlineKey(k, u, kind=kind, alertable=kind == "number") for k, u, kind in _H),  # type: ignore[arg-type]
    )
)
