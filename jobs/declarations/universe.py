"""Results of the listed-options universe (``jobs/tasks/universe.py``): ``universe.table`` (one row
per underlying, every refresh) and ``universe.<SYMBOL>`` (full dealer-gamma tables of the focus
list and of the names a user opens)."""

from __future__ import annotations

from jobs.declarations import Column, HeadlineKey, ResultDecl, Table, Unit, declare
from jobs.declarations.gamma import GAMMA, REGIMES

U = Unit

_ROW = (
    Column("symbol", "str", U.LABEL, "underlying ticker", title="Symbol"),
    Column(
        "sector",
        "str",
        U.LABEL,
        "GICS sector (Fund for ETFs; unknown without a universe file)",
        title="Sector",
    ),
    Column("spot", "float", U.PRICE, "underlying price at the snapshot", title="Spot"),
    Column("as_of", "time", U.TIME, "snapshot time of the chain", title="As of"),
    Column(
        "source", "str", U.LABEL, "where the chain came from (cboe-json, sample)", title="Source"
    ),
    Column("contracts", "int", U.COUNT, "contracts in the figures", title="Contracts"),
    Column(
        "net_gex_usd_per_1pct",
        "float",
        U.USD_PER_1PCT,
        "dealer spot GEX, net (+ = dealers long gamma)",
        title="Net GEX",
    ),
    Column(
        "call_gex_usd_per_1pct", "float", U.USD_PER_1PCT, "spot GEX of the calls", title="Call GEX"
    ),
    Column(
        "put_gex_usd_per_1pct", "float", U.USD_PER_1PCT, "spot GEX of the puts", title="Put GEX"
    ),
    Column(
        "gross_gex_usd_per_1pct",
        "float",
        U.USD_PER_1PCT,
        "sum of |GEX| over contracts",
        title="Gross GEX",
    ),
    Column(
        "zero_dte_share",
        "float",
        U.FRACTION,
        "share of gross GEX settling in the snapshot's session",
        title="0DTE share of gross GEX",
    ),
    Column(
        "modelled_gamma_share",
        "float",
        U.FRACTION,
        "share of gross GEX from model (BSM) gamma",
        title="Modelled gamma share",
    ),
    Column(
        "regime",
        "str",
        U.LABEL,
        f"{REGIMES} (sign of net GEX; neutral: 0 to rounding)",
        title="Regime",
    ),
    Column(
        "flip",
        "float",
        U.PRICE,
        "gamma flip nearest spot (NaN: none within the profile window)",
        title="Flip",
    ),
    Column(
        "flip_distance_pct",
        "float",
        U.PERCENT,
        "flip relative to spot, % (+ = above spot)",
        title="Flip distance",
    ),
    Column("call_wall", "float", U.PRICE, "strike with the largest |call GEX|", title="Call wall"),
    Column("put_wall", "float", U.PRICE, "strike with the largest |put GEX|", title="Put wall"),
    Column(
        "abs_gamma_strike",
        "float",
        U.PRICE,
        "strike with the largest |call GEX| + |put GEX|",
        title="Abs-gamma strike",
    ),
    Column(
        "hedge_flow_down3_usd",
        "float",
        U.USD_FLOW,
        "dealers' hedge trade for a -3 % move (full re-pricing)",
        title="Dealer hedge trade, −3% move",
    ),
    Column(
        "hedge_flow_up3_usd",
        "float",
        U.USD_FLOW,
        "dealers' hedge trade for a +3 % move",
        title="Dealer hedge trade, +3% move",
    ),
    Column(
        "adv_usd",
        "float",
        U.USD,
        "average daily dollar volume of the underlying (NaN: no ADV)",
        title="ADV",
    ),
    Column(
        "gex_pct_adv",
        "float",
        U.PCT_OF_ADV,
        "net GEX per 1 % as % of ADV (NaN: no ADV)",
        title="Net GEX per 1% move",
    ),
    Column(
        "baskets",
        "str",
        U.LABEL,
        "baskets of [universe.baskets] the name belongs to, comma-separated",
        title="Baskets",
    ),
    Column(
        "focus",
        "bool",
        U.FLAG,
        "full tables published every refresh (universe.<SYMBOL>)",
        title="Focus list",
    ),
)

_AGG = (
    Column("names", "int", U.COUNT, "names in the group", title="Names"),
    Column(
        "net_gex_usd_per_1pct",
        "float",
        U.USD_PER_1PCT,
        "sum of the names' net GEX (+ = dealers long gamma)",
        title="Net GEX",
    ),
    Column(
        "call_gex_usd_per_1pct",
        "float",
        U.USD_PER_1PCT,
        "sum of the names' call GEX",
        title="Call GEX",
    ),
    Column(
        "put_gex_usd_per_1pct",
        "float",
        U.USD_PER_1PCT,
        "sum of the names' put GEX",
        title="Put GEX",
    ),
    Column(
        "gross_gex_usd_per_1pct",
        "float",
        U.USD_PER_1PCT,
        "sum of the names' gross GEX",
        title="Gross GEX",
    ),
    Column(
        "hedge_flow_down3_usd",
        "float",
        U.USD_FLOW,
        "sum of the dealers' hedge trades if every name falls 3 % (+ = dealers buy)",
        title="Dealer hedge trade, −3% move",
    ),
    Column(
        "hedge_flow_up3_usd",
        "float",
        U.USD_FLOW,
        "sum of the dealers' hedge trades if every name rises 3 % (+ = dealers buy)",
        title="Dealer hedge trade, +3% move",
    ),
    Column("adv_usd", "float", U.USD, "sum of the names' ADV (names with one)", title="ADV"),
    Column(
        "gex_pct_adv",
        "float",
        U.PCT_OF_ADV,
        "net GEX of the names with an ADV as % of their ADV",
        title="Net GEX per 1% move",
    ),
)

UNIVERSE_TABLE = declare(
    ResultDecl(
        name="universe.table",
        description="Dealer gamma of every underlying of the listed-options universe: one row per name (the compact universe table), sector x regime and basket sums, and the names that failed.",
        task="universe",
        cadence="session",
        tables=(
            Table("names", _ROW, "one row per underlying (computed in shards on RQ workers)"),
            Table(
                "sectors",
                (
                    Column("sector", "str", U.LABEL, "sector of the names", title="Sector"),
                    Column(
                        "regime",
                        "str",
                        U.LABEL,
                        REGIMES,
                        title="Regime",
                    ),
                    *_AGG,
                ),
                "sums per sector and gamma regime (the heatmap)",
            ),
            Table(
                "baskets",
                (
                    Column(
                        "basket",
                        "str",
                        U.LABEL,
                        "basket name (a key of [universe.baskets])",
                        title="Basket",
                    ),
                    Column(
                        "members",
                        "str",
                        U.LABEL,
                        "the basket's names found in the universe",
                        title="Members",
                    ),
                    *_AGG,
                ),
                "sums per custom basket ([universe.baskets])",
            ),
            Table(
                "failed",
                (
                    Column("symbol", "str", U.LABEL, "underlying ticker", title="Symbol"),
                    Column("stage", "str", U.LABEL, "fetch, analysis or shard", title="Stage"),
                    Column(
                        "field",
                        "str",
                        U.LABEL,
                        "the input field at fault (empty when none)",
                        title="Field at fault",
                    ),
                    Column("reason", "str", U.LABEL, "why the name was left out", title="Reason"),
                ),
                "names left out, with why",
            ),
        ),
        headline=(
            HeadlineKey("names", U.COUNT, "underlyings in the table"),
            HeadlineKey("contracts", U.COUNT, "contracts in the figures"),
            HeadlineKey("failed", U.COUNT, "underlyings left out (see the failed table)"),
            HeadlineKey(
                "net_gex_usd_per_1pct",
                U.USD_PER_1PCT,
                "sum of every name's net spot GEX (+ = dealers long gamma)",
            ),
            HeadlineKey(
                "gross_gex_usd_per_1pct",
                U.USD_PER_1PCT,
                "sum of every name's gross GEX (sum of |GEX|)",
            ),
            HeadlineKey(
                "short_gamma_names", U.COUNT, "names whose dealers are short gamma (net GEX < 0)"
            ),
            HeadlineKey(
                "hedge_flow_down3_usd",
                U.USD_FLOW,
                "USD dealers trade if every name falls 3 % (full re-pricing; + = dealers buy)",
            ),
            HeadlineKey(
                "hedge_flow_up3_usd",
                U.USD_FLOW,
                "USD dealers trade if every name rises 3 % (+ = dealers buy)",
            ),
            HeadlineKey(
                "net_gex_usd_per_1pct_<BASKET>",
                U.USD_PER_1PCT,
                "a basket's net GEX (<BASKET>: a key of [universe.baskets]; + = dealers long gamma)",
            ),
            HeadlineKey(
                "hedge_flow_down3_usd_<BASKET>",
                U.USD_FLOW,
                "USD dealers trade if the basket's names fall 3 % (+ = dealers buy)",
            ),
            HeadlineKey(
                "hedge_flow_up3_usd_<BASKET>",
                U.USD_FLOW,
                "USD dealers trade if the basket's names rise 3 % (+ = dealers buy)",
            ),
            HeadlineKey("shards", U.COUNT, "shards the names were analysed in", alertable=False),
            HeadlineKey("round", U.LABEL, "id of the refresh round", kind="text", alertable=False),
            HeadlineKey(
                "sample", U.FLAG, "computed on generated sample data", kind="bool", alertable=False
            ),
        ),
    )
)

UNIVERSE_NAME = declare(
    ResultDecl(
        name="universe.<SYMBOL>",
        description="Full dealer-gamma tables of one underlying of the universe (the focus list every refresh; other names when a user opens them, computed by a worker): the tables and headline of gamma.<UNDERLYING>, plus the name's sector, round and whether it was opened on demand.",
        task="universe",
        cadence="session",
        tables=GAMMA.tables,
        headline=(
            *GAMMA.headline,
            HeadlineKey(
                "sector",
                U.LABEL,
                "sector of the name in the universe list (on-demand names)",
                kind="text",
                alertable=False,
            ),
            HeadlineKey(
                "round",
                U.LABEL,
                "id of the refresh round (on-demand-<time> for a name opened on the page)",
                kind="text",
                alertable=False,
            ),
            HeadlineKey(
                "on_demand",
                U.FLAG,
                "computed because a user opened the name (not in the focus list)",
                kind="bool",
                alertable=False,
            ),
        ),
    )
)
