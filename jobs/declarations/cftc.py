"""Declarations of ``cftc.positions``, ``cftc.fx`` (:mod:`jobs.tasks.cftc_ingest`) and
``cftc.net_usd`` (:mod:`jobs.tasks.cftc`, analytics in :mod:`flows.cftc`).

Conventions: ``net_usd_<BASKET> = -sum(net contracts x contract size x USD per unit)`` over the
basket's currencies (+ = speculators net long USD); series prefixes ``net_usd`` (legacy
non-commercials), ``net_usd_levfunds`` (TFF leveraged funds), ``net_usd_assetmgr`` (TFF asset
managers).  Statistics count weekly *reports*: ``1y`` = 52, ``3y`` = 156, ``5y`` = 260.
"""

from __future__ import annotations

from collections.abc import Mapping

from flows.schema import COT_LEGACY_COLUMNS, COT_TFF_COLUMNS
from jobs.declarations import Column, HeadlineKey, ResultDecl, Table, Unit, declare

U = Unit
_KEYS = ("as_of", "code", "market")
COT_TRADERS = {
    "noncomm": "Non-commercial",
    "comm": "Commercial",
    "nonrept": "Non-reportable",
    "dealer": "Dealer",
    "asset_mgr": "Asset manager",
    "lev_money": "Leveraged funds",
    "other_rept": "Other reportable",
}
"""Trader classes of the COT reports' position columns (``<class>_<side>``), as headers say them."""
_SIDES = {"long": "long", "short": "short", "spread": "spreading"}


def cot_title(name: str) -> str:
    """Header title of a COT position column: ``lev_money_long`` -> ``Leveraged funds long``."""
    if name == "open_interest":
        return "Open interest"
    trader, _, side = name.rpartition("_")
    return f"{COT_TRADERS[trader]} {_SIDES[side]}"


def _cot(described: Mapping[str, str]) -> tuple[Column, ...]:
    """A COT report table: the parser's layout (:mod:`flows.schema`), positions in contracts."""
    out = [
        Column("as_of", "date", U.DATE, described["as_of"], title="Report date"),
        Column("code", "str", U.LABEL, described["code"], title="Market code"),
        Column("market", "str", U.LABEL, described["market"], title="Market"),
    ]
    out += [
        Column(name, "int", U.CONTRACTS, text, title=cot_title(name))
        for name, text in described.items()
        if name not in _KEYS
    ]
    return tuple(out)


POSITIONS = declare(
    ResultDecl(
        name="cftc.positions",
        description="The stored COT history of the currency futures flowdesk aggregates (legacy and TFF reports, complete weeks only) and when each report was released.",
        task="cftc",
        cadence="weekly-cftc",
        tables=(
            Table(
                "legacy",
                _cot(COT_LEGACY_COLUMNS),
                "legacy futures-only report, one row per report date and market code",
            ),
            Table(
                "tff",
                _cot(COT_TFF_COLUMNS),
                "traders in financial futures report, one row per report date and market code",
            ),
            Table(
                "releases",
                (
                    Column(
                        "as_of",
                        "date",
                        U.DATE,
                        "report date (CFTC as-of, tz-naive)",
                        title="Report date",
                    ),
                    Column(
                        "scheduled_release",
                        "time",
                        U.TIME,
                        "scheduled release (3rd federal business day, 15:30 ET)",
                        title="Scheduled release",
                    ),
                    Column(
                        "first_seen",
                        "time",
                        U.TIME,
                        "when this ingest first stored the report",
                        title="First seen",
                    ),
                    Column(
                        "release_time",
                        "time",
                        U.TIME,
                        "release time used downstream: first_seen, or for back-filled history the scheduled release",
                        title="Release time",
                    ),
                    Column(
                        "release_basis",
                        "str",
                        U.LABEL,
                        "'first seen' or 'scheduled (back-fill)'",
                        title="Release time basis",
                    ),
                ),
                "one row per report date",
            ),
        ),
        headline=(
            HeadlineKey("report_date", U.DATE, "latest report date", kind="time", alertable=False),
            HeadlineKey("weeks_legacy", U.WEEKS, "weekly legacy reports stored"),
            HeadlineKey("weeks_tff", U.WEEKS, "weekly TFF reports stored"),
        ),
    )
)

FX = declare(
    ResultDecl(
        name="cftc.fx",
        description="ECB euro reference rates turned into USD per unit of each currency, for valuing the COT positions.",
        task="cftc",
        cadence="weekly-cftc",
        tables=(
            Table(
                "data",
                (
                    Column("date", "date", U.DATE, "ECB business day", title="Date"),
                    Column(
                        "<CCY>",
                        "float",
                        U.USD_PER_UNIT,
                        "USD per 1 unit of the currency = ECB USD / ECB CCY (USD = 1)",
                        title="<CCY>",
                    ),
                ),
                "one row per ECB day, one column per currency",
            ),
        ),
        headline=(
            HeadlineKey("fx_last_date", U.DATE, "latest ECB day", kind="time", alertable=False),
        ),
    )
)

_SERIES = "a net USD series <SERIES> (trader class prefix and basket)"

NET_USD = declare(
    ResultDecl(
        name="cftc.net_usd",
        description="Speculators' net USD position from the CFTC currency futures (minus the sum of the IMM currency positions), its weekly change, statistics, previous peaks, crowding and unwind scenarios.",
        task="cftc",
        cadence="weekly-cftc",
        tables=(
            Table(
                "weekly",
                (
                    Column(
                        "as_of",
                        "date",
                        U.DATE,
                        "report date (CFTC as-of, usually a Tuesday)",
                        title="Report date",
                    ),
                    Column(
                        "release_time",
                        "time",
                        U.TIME,
                        "when the ingest first saw the report (back-filled history: the scheduled release)",
                        title="Released",
                    ),
                    # the more specific patterns first: net_usd_<BASKET> would match them too
                    Column(
                        "<SERIES>_change_usd",
                        "float",
                        U.USD,
                        "week-on-week change of the headline basket's series = position + FX",
                        title="<SERIES>, weekly change",
                    ),
                    Column(
                        "<SERIES>_change_position_usd",
                        "float",
                        U.USD,
                        "part of the change from positions: -sum(delta net x size x old USD per unit)",
                        title="<SERIES>, change from positions",
                    ),
                    Column(
                        "<SERIES>_change_fx_usd",
                        "float",
                        U.USD,
                        "part of the change from FX: -sum(new net x size x delta USD per unit)",
                        title="<SERIES>, change from FX",
                    ),
                    Column(
                        "<SERIES>_z_<WINDOW>",
                        "float",
                        U.STDEV,
                        "z-score of the series over the window's weekly reports",
                        title="<SERIES>, <WINDOW> z-score",
                    ),
                    Column(
                        "<SERIES>_pct_<WINDOW>",
                        "float",
                        U.PERCENTILE,
                        "percentile rank of the series over the window",
                        title="<SERIES>, <WINDOW> percentile",
                    ),
                    Column(
                        "<SERIES>_cot_index_<WINDOW>",
                        "float",
                        U.INDEX_0_100,
                        "COT index: min-max position of the series over the window",
                        title="<SERIES>, <WINDOW> COT index",
                    ),
                    Column(
                        "net_usd_levfunds_<BASKET>",
                        "float",
                        U.USD,
                        "TFF leveraged funds' net USD over the basket (+ = net long USD)",
                        title="Leveraged funds' net USD, <BASKET>",
                    ),
                    Column(
                        "net_usd_assetmgr_<BASKET>",
                        "float",
                        U.USD,
                        "TFF asset managers' net USD over the basket (+ = net long USD)",
                        title="Asset managers' net USD, <BASKET>",
                    ),
                    Column(
                        "net_usd_<BASKET>",
                        "float",
                        U.USD,
                        "legacy non-commercials' net USD over the basket (+ = net long USD)",
                        title="Speculators' net USD, <BASKET>",
                    ),
                    Column(
                        "partial",
                        "bool",
                        U.FLAG,
                        "a basket currency has no position or no FX that week (not complete)",
                        title="Incomplete week",
                    ),
                    Column(
                        "partial_tff",
                        "bool",
                        U.FLAG,
                        "the same for the TFF leveraged funds (when both reports are given)",
                        optional=True,
                        title="Incomplete week, TFF",
                    ),
                ),
                "one row per report date (the main table)",
            ),
            Table(
                "currencies",
                (
                    Column("as_of", "date", U.DATE, "report date", title="Report date"),
                    Column(
                        "ccy",
                        "str",
                        U.LABEL,
                        "ISO currency (DXY: the USD index contract)",
                        title="Currency",
                    ),
                    Column(
                        "code", "str", U.LABEL, "CFTC contract market code", title="Market code"
                    ),
                    Column(
                        "net_contracts",
                        "float",
                        U.CONTRACTS,
                        "legacy non-commercial long - short",
                        title="Speculators' net",
                    ),
                    Column(
                        "levfunds_net_contracts",
                        "float",
                        U.CONTRACTS,
                        "TFF leveraged funds long - short",
                        title="Leveraged funds' net",
                    ),
                    Column(
                        "assetmgr_net_contracts",
                        "float",
                        U.CONTRACTS,
                        "TFF asset managers long - short",
                        title="Asset managers' net",
                    ),
                    Column(
                        "usd",
                        "float",
                        U.USD,
                        "value of the non-commercial position (+ = long the currency; DXY: long USD)",
                        title="Speculators' position",
                    ),
                    Column(
                        "levfunds_usd",
                        "float",
                        U.USD,
                        "value of the leveraged funds' position",
                        title="Leveraged funds' position",
                    ),
                    Column(
                        "assetmgr_usd",
                        "float",
                        U.USD,
                        "value of the asset managers' position",
                        title="Asset managers' position",
                    ),
                    Column(
                        "usd_per_unit",
                        "float",
                        U.USD_PER_UNIT,
                        "USD per 1 unit of the currency (DXY: the index level)",
                        title="Exchange rate",
                    ),
                    Column(
                        "contract_size",
                        "float",
                        U.UNITS_PER_CONTRACT,
                        "currency units per contract (DXY: USD per index point)",
                        title="Contract size",
                    ),
                    Column(
                        "contribution_usd",
                        "float",
                        U.USD,
                        "contribution to net USD (-usd; DXY +usd)",
                        title="Contribution to net USD",
                    ),
                    Column(
                        "levfunds_contribution_usd",
                        "float",
                        U.USD,
                        "leveraged funds' contribution to net USD",
                        title="Leveraged funds' contribution",
                    ),
                    Column(
                        "assetmgr_contribution_usd",
                        "float",
                        U.USD,
                        "asset managers' contribution to net USD",
                        title="Asset managers' contribution",
                    ),
                ),
                "one row per report date and currency",
            ),
            Table(
                "stats",
                (
                    Column("series", "str", U.LABEL, _SERIES, title="Series"),
                    Column(
                        "trader",
                        "str",
                        U.LABEL,
                        "noncomm / lev_money / asset_mgr",
                        title="Trader class",
                    ),
                    Column("basket", "str", U.LABEL, "basket name", title="Basket"),
                    Column("window", "str", U.LABEL, "1y / 3y / 5y", title="Window"),
                    Column(
                        "window_weeks",
                        "int",
                        U.WEEKS,
                        "weekly reports in the window",
                        title="Window length",
                    ),
                    Column(
                        "as_of",
                        "date",
                        U.DATE,
                        "latest complete report of the series",
                        title="Report date",
                    ),
                    Column("value_usd", "float", U.USD, "latest value", title="Latest"),
                    Column("zscore", "float", U.STDEV, "z-score over the window", title="z-score"),
                    Column(
                        "percentile",
                        "float",
                        U.PERCENTILE,
                        "percentile rank over the window",
                        title="Percentile",
                    ),
                    Column(
                        "cot_index",
                        "float",
                        U.INDEX_0_100,
                        "min-max position over the window",
                        title="COT index",
                    ),
                    Column("mean_usd", "float", U.USD, "mean over the window", title="Mean"),
                    Column("median_usd", "float", U.USD, "median over the window", title="Median"),
                    Column(
                        "std_usd",
                        "float",
                        U.USD,
                        "standard deviation over the window",
                        title="Standard deviation",
                    ),
                    Column("min_usd", "float", U.USD, "minimum over the window", title="Minimum"),
                    Column("max_usd", "float", U.USD, "maximum over the window", title="Maximum"),
                    Column(
                        "weeks_available",
                        "int",
                        U.WEEKS,
                        "complete weekly reports in the window",
                        title="Reports in the window",
                    ),
                ),
                "statistics of every series over each window",
            ),
            Table(
                "peaks",
                (
                    Column("series", "str", U.LABEL, _SERIES, title="Series"),
                    Column(
                        "as_of",
                        "date",
                        U.DATE,
                        "report date of the peak or trough",
                        title="Report date",
                    ),
                    Column("kind", "str", U.LABEL, "peak / trough", title="Peak or trough"),
                    Column(
                        "value_usd", "float", U.USD, "net USD at the peak", title="Net USD then"
                    ),
                    Column(
                        "distance_usd", "float", U.USD, "current - peak", title="Now minus then"
                    ),
                    Column("weeks_ago", "float", U.WEEKS, "weekly reports since", title="Age"),
                ),
                "previous cycle peaks and troughs of the headline basket's series",
            ),
            Table(
                "crowding",
                (
                    Column("series", "str", U.LABEL, _SERIES, title="Series"),
                    Column("as_of", "date", U.DATE, "latest complete report", title="Report date"),
                    Column("ccy", "str", U.LABEL, "currency", title="Currency"),
                    Column(
                        "net_contracts", "float", U.CONTRACTS, "net position", title="Net position"
                    ),
                    Column(
                        "usd",
                        "float",
                        U.USD,
                        "its value (+ = long the currency)",
                        title="Position value",
                    ),
                    Column(
                        "zscore",
                        "float",
                        U.STDEV,
                        "z-score of the net contracts over 3 years",
                        title="z-score, 3 years",
                    ),
                    Column(
                        "cot_index",
                        "float",
                        U.INDEX_0_100,
                        "COT index of the net contracts over 3 years",
                        title="COT index, 3 years",
                    ),
                    Column(
                        "extremity",
                        "float",
                        U.INDEX_0_100,
                        "|cot_index - 50| x 2",
                        title="Extremity",
                    ),
                    Column("direction", "str", U.LABEL, "long / short", title="Direction"),
                    Column(
                        "rank_zscore",
                        "int",
                        U.RANK,
                        "rank by |zscore| (1 = most crowded)",
                        title="Rank by z-score",
                    ),
                    Column(
                        "rank_extremity",
                        "int",
                        U.RANK,
                        "rank by extremity",
                        title="Rank by extremity",
                    ),
                    Column(
                        "rank", "int", U.RANK, "the ranking used (1 = most crowded)", title="Rank"
                    ),
                ),
                "how crowded each currency position of the headline basket is",
            ),
            Table(
                "unwind",
                (
                    Column("series", "str", U.LABEL, _SERIES, title="Series"),
                    Column(
                        "scenario",
                        "str",
                        U.LABEL,
                        "median (revert to the unwind_years median) / zero",
                        title="Unwind to",
                    ),
                    Column("as_of", "date", U.DATE, "latest complete report", title="Report date"),
                    Column("ccy", "str", U.LABEL, "currency", title="Currency"),
                    Column(
                        "usd",
                        "float",
                        U.USD,
                        "value of the position (+ = long the currency)",
                        title="Position value",
                    ),
                    Column(
                        "contribution_usd",
                        "float",
                        U.USD,
                        "contribution to net USD",
                        title="Contribution to net USD",
                    ),
                    Column(
                        "share",
                        "float",
                        U.FRACTION,
                        "share of the unwound side",
                        title="Share of the unwound side",
                    ),
                    Column(
                        "cover_usd",
                        "float",
                        U.USD,
                        "net-USD position covered",
                        title="Net USD covered",
                    ),
                    Column(
                        "currency_flow_usd",
                        "float",
                        U.USD_FLOW,
                        "USD of the currency bought (+) / sold (-) in the unwind",
                        title="Unwind trade in the currency",
                    ),
                    Column(
                        "benefits",
                        "bool",
                        U.FLAG,
                        "the currency is bought in the unwind",
                        title="Bought in the unwind",
                    ),
                    Column(
                        "rank",
                        "int",
                        U.RANK,
                        "beneficiary rank (1 = bought most)",
                        title="Beneficiary rank",
                    ),
                    Column(
                        "target_net_usd",
                        "float",
                        U.USD,
                        "net USD after the unwind",
                        title="Net USD after the unwind",
                    ),
                    Column("current_net_usd", "float", U.USD, "net USD now", title="Net USD now"),
                ),
                "who benefits if the position reverts (both scenarios; extra.unwind_to names the headline one)",
            ),
        ),
        headline=(
            HeadlineKey(
                "as_of", U.DATE, "latest complete report date", kind="time", alertable=False
            ),
            HeadlineKey("release_time", U.TIME, "its release time", kind="time", alertable=False),
            HeadlineKey("basket", U.LABEL, "headline basket", kind="text", alertable=False),
            HeadlineKey("change_usd", U.USD, "week-on-week change of the headline series"),
            HeadlineKey("change_position_usd", U.USD, "part of the change from positions"),
            HeadlineKey("change_fx_usd", U.USD, "part of the change from FX revaluation"),
            HeadlineKey(
                "cot_index_3y", U.INDEX_0_100, "COT index of the headline series over 3 years"
            ),
            HeadlineKey(
                "unwind_beneficiaries",
                U.LABEL,
                "currencies bought in the headline unwind, most first",
                kind="text",
                alertable=False,
            ),
            HeadlineKey("unwind_target_net_usd", U.USD, "net USD after the headline unwind"),
            HeadlineKey(
                "zscore_<WINDOW>", U.STDEV, "z-score of the headline series over the window"
            ),
            HeadlineKey(
                "percentile_<WINDOW>",
                U.PERCENTILE,
                "percentile rank of the headline series over the window",
            ),
            HeadlineKey(
                "net_usd_levfunds_<BASKET>",
                U.USD,
                "TFF leveraged funds' net USD over the basket (+ = net long USD)",
            ),
            HeadlineKey(
                "net_usd_assetmgr_<BASKET>",
                U.USD,
                "TFF asset managers' net USD over the basket (+ = net long USD)",
            ),
            HeadlineKey(
                "net_usd_<BASKET>",
                U.USD,
                "legacy non-commercials' net USD over the basket (+ = speculators net long USD)",
            ),
            HeadlineKey(
                "behind_schedule_weeks",
                U.WEEKS,
                "weekly reports the newest stored report is behind the CFTC calendar (0 = on schedule)",
            ),
        ),
    )
)
