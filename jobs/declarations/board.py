"""Declarations of ``board.scenarios`` and ``board.brief`` (:mod:`jobs.tasks.board`, analytics in
:mod:`flows.scenarios`).

Flows are USD of the underlying traded, + = buy; the components (dealers' gamma, vanna and charm
hedging, leveraged ETFs) add up to ``total_usd``.  "Flag move" is ``[board] flag_move_pct`` (an
index move, e.g. -3%).  Both are derived from the gamma, leveraged-ETF and CFTC results, whose
own freshness is graded; stale inputs are left out and listed in ``inputs``.
"""

from __future__ import annotations

from jobs.declarations import Column, HeadlineKey, ResultDecl, Table, Unit, declare
from jobs.declarations.gamma import REGIMES

U = Unit
COMPONENTS = (
    ("dealer_gamma_usd", "dealers' hedge of the price move (+ = dealers buy)", "Dealer hedging"),
    ("dealer_vanna_usd", "dealers' hedge of the IV shock (+ = dealers buy)", "Dealer vanna"),
    (
        "dealer_charm_usd",
        "dealers' hedge of time passing to the close (+ = dealers buy)",
        "Dealer charm",
    ),
    ("letf_usd", "leveraged ETFs' rebalance (+ = funds buy)", "Leveraged ETFs"),
)
"""The flow components of :data:`flows.scenarios.COMPONENTS`: name, what each is, its title."""


def _label(name: str, what: str, *, title: str) -> Column:
    return Column(name, "str", U.LABEL, what, title=title)


def _flows() -> tuple[Column, ...]:
    return (
        *(Column(c, "float", U.USD_FLOW, what, title=t) for c, what, t in COMPONENTS),
        Column("total_usd", "float", U.USD_FLOW, "sum of the components (+ = buy)", title="Total"),
    )


_MOVES = (
    Column("index_move_pct", "float", U.PERCENT, "move of the board index", title="Index move"),
    Column("iv_shock_pts", "float", U.VOL_POINTS, "implied-volatility shock", title="IV shock"),
)


def _fx() -> Table:
    return Table(
        "fx",
        (
            _label(
                "scenario",
                "the unwind: to the median of the unwind window, or to zero",
                title="Unwind to",
            ),
            _label("ccy", "currency", title="Currency"),
            Column(
                "usd",
                "float",
                U.USD,
                "speculators' position in the currency (+ = long the currency)",
                title="Spec position",
            ),
            Column(
                "currency_flow_usd",
                "float",
                U.USD_FLOW,
                "USD of the currency bought (+) or sold (-) in the row's unwind scenario (see 'Unwind to')",
                title="Unwind trade in the currency",
            ),
            Column(
                "cover_usd", "float", U.USD, "net-USD position covered", title="Net USD covered"
            ),
            Column(
                "benefits",
                "bool",
                U.FLAG,
                "the currency is bought in the unwind",
                title="Bought in the unwind",
            ),
            Column("rank", "int", U.RANK, "beneficiary rank", title="Beneficiary rank"),
        ),
        "the CFTC unwind of the headline series (empty without a usable cftc.net_usd)",
    )


def _levels() -> Table:
    cols = [
        _label("underlying", "gamma underlying", title="Underlying"),
        Column("spot", "float", U.PRICE, "spot at the snapshot", title="Spot"),
    ]
    for lv, what, title in (
        ("flip", "gamma flip nearest spot (NaN: none in the window)", "Flip"),
        ("call_wall", "strike with the largest |call GEX|", "Call wall"),
        ("put_wall", "strike with the largest |put GEX|", "Put wall"),
        ("abs_gamma_strike", "strike with the largest |call GEX| + |put GEX|", "Abs-gamma strike"),
    ):
        cols += [
            Column(lv, "float", U.PRICE, what, title=title),
            Column(
                f"{lv}_distance_pct",
                "float",
                U.PERCENT,
                f"{lv.replace('_', ' ')} distance from spot, (level / spot - 1) x 100",
                title=f"{title} distance",
            ),
        ]
    cols += [
        Column(
            "zero_dte_share",
            "float",
            U.FRACTION,
            "share of gross GEX settling in the snapshot's session",
            title="0DTE share of gross GEX",
        ),
        Column(
            "net_gex_usd_per_1pct",
            "float",
            U.USD_PER_1PCT,
            "net spot GEX (+ = dealers long gamma)",
            title="Net GEX",
        ),
        _label("regime", REGIMES, title="Regime"),
    ]
    return Table("levels", tuple(cols), "key levels per gamma underlying (flows.levels.key_levels)")


def _expiries() -> Table:
    return Table(
        "expiries",
        (
            Column("date", "date", U.DATE, "event date (settlement day)", title="Date"),
            _label("events", "OPEX / VIX expiry / quarter end", title="Event"),
            _label("underlying", "gamma underlying", title="Underlying"),
            Column(
                "expiries", "int", U.COUNT, "listed expiries settling that day", title="Expiries"
            ),
            Column(
                "net_gex_usd_per_1pct",
                "float",
                U.USD_PER_1PCT,
                "net spot GEX rolling off",
                title="Net GEX rolling off",
            ),
            Column(
                "gross_gex_usd_per_1pct",
                "float",
                U.USD_PER_1PCT,
                "gross spot GEX rolling off",
                title="Gross GEX rolling off",
            ),
            Column(
                "share_of_gross",
                "float",
                U.FRACTION,
                "share of the underlying's gross GEX rolling off",
                title="Share of gross GEX",
            ),
        ),
        "the expiry calendar: GEX rolling off at the next OPEX, VIX expiries and quarter ends (flows.levels.expiry_calendar)",
    )


def _inputs(description: str) -> Table:
    return Table(
        "inputs",
        (
            _label("name", "input result", title="Input"),
            _label("family", "gamma / letf / cftc", title="Family"),
            Column(
                "as_of",
                "str",
                U.TIME,
                "its as-of time (ISO 8601; 'None' when missing)",
                title="As of",
            ),
            Column(
                "computed_at", "str", U.TIME, "when it was computed (ISO 8601)", title="Computed at"
            ),
            _label("source", "its source", title="Source"),
            Column("age_hours", "float", U.HOURS, "age at the run (computed-at)", title="Age"),
            Column("stale", "bool", U.FLAG, "left out: stale or missing", title="Stale"),
            Column("included", "bool", U.FLAG, "in the totals", title="In the totals"),
            Column("sample", "bool", U.FLAG, "generated sample data", title="Sample data"),
            _label("note", "ok, or why it was left out", title="Status"),
        ),
        description,
    )


def _head(brief: bool) -> tuple[HeadlineKey, ...]:
    """The board's headline (:func:`jobs.tasks.board._headline`); the brief's repeats it, not
    alertable there (rules read ``board.scenarios``)."""
    a = not brief
    keys = [
        HeadlineKey("index", U.LABEL, "the board index", kind="text", alertable=False),
        HeadlineKey(
            "flag_move_pct", U.PERCENT, "the flag move ([board] flag_move_pct)", alertable=False
        ),
        HeadlineKey(
            "today_move_pct",
            U.PERCENT,
            "move of the board index since the prior close (None: unknown)",
            alertable=a,
        ),
        HeadlineKey(
            "total_usd_at_flag_move",
            U.USD_FLOW,
            "mechanical flow for the flag move (+ = buy)",
            alertable=a,
        ),
        *(
            HeadlineKey(f"{c}_at_flag_move", U.USD_FLOW, what, alertable=a)
            for c, what, _title in COMPONENTS
        ),
        HeadlineKey(
            "letf_per_1pct_usd",
            U.USD_PER_1PCT,
            "leveraged ETFs: USD per 1% move (equity total)",
            alertable=a,
        ),
        HeadlineKey(
            "net_usd_position_usd",
            U.USD,
            "speculators' net USD position, headline basket (+ = net long USD)",
            alertable=a,
        ),
        HeadlineKey(
            "net_usd_percentile_3y", U.PERCENTILE, "its percentile over 3 years", alertable=a
        ),
        HeadlineKey(
            "dealer_flow_sign_change_down_pct",
            U.PERCENT,
            "index fall at which the dealers' flow changes sign (a gamma flip crossed; None: no change on the grid)",
            alertable=False,
        ),
        HeadlineKey(
            "dealer_flow_sign_change_up_pct",
            U.PERCENT,
            "index rise at which the dealers' flow changes sign (None: no change on the grid)",
            alertable=False,
        ),
        HeadlineKey(
            "index_gamma_underlying",
            U.LABEL,
            "the index (or its ETF) whose gamma flip is quoted",
            kind="text",
            alertable=False,
        ),
        HeadlineKey(
            "index_flip_distance_pct",
            U.PERCENT,
            "its gamma flip, % from spot (None: no flip in the window)",
            alertable=False,
        ),
        HeadlineKey("flags", U.COUNT, "regime flags raised", alertable=a),
        HeadlineKey(
            "today_index_usd_at_flag_move",
            U.USD_FLOW,
            "today's index flow at the flag move: dealers + leveraged ETFs (horizon 'today'; None without them)",
            alertable=a,
        ),
        HeadlineKey(
            "week_index_usd_at_flag_move",
            U.USD_FLOW,
            "this week's index flow after a flag-move day: vol-control funds (5 sessions) + CTAs (horizon 'this week')",
            alertable=a,
        ),
        HeadlineKey(
            "vixetp_rebalance_usd",
            U.USD_FLOW,
            "VIX ETPs' rebalance today, VX futures (never added to index flows)",
            alertable=a,
        ),
        HeadlineKey(
            "volcontrol_usd_at_flag_move",
            U.USD_FLOW,
            "vol-control funds over 5 sessions after a flag-move day",
            alertable=a,
        ),
        HeadlineKey(
            "cta_usd_at_flag_move",
            U.USD_FLOW,
            "CTAs' position change after a flag-move day (over the week)",
            alertable=a,
        ),
        HeadlineKey(
            "cta_nearest_trigger_distance_pct",
            U.PERCENT,
            "distance of the nearest CTA trigger from the close (signed)",
            alertable=a,
        ),
        HeadlineKey("stale_inputs", U.COUNT, "inputs left out as stale or missing", alertable=a),
    ]
    if brief:
        keys += [
            HeadlineKey(
                "date",
                U.DATE,
                "the brief's date (exchange time zone)",
                kind="time",
                alertable=False,
            ),
            HeadlineKey(
                "text",
                U.TEXT,
                "the brief as plain text lines (the digest body)",
                kind="text",
                alertable=False,
            ),
            HeadlineKey(
                "notes",
                U.TEXT,
                "the desk's notes in the brief as rendered (empty: none)",
                kind="text",
                alertable=False,
            ),
            HeadlineKey(
                "volcontrol_flow_usd_1d",
                U.USD_FLOW,
                "vol-control funds' flow at the next close (first index of [systematic] volcontrol_indices)",
                alertable=False,
            ),
            HeadlineKey(
                "volcontrol_flow_usd_1w_flat",
                U.USD_FLOW,
                "their flow over 5 sessions, unchanged prices",
                alertable=False,
            ),
            HeadlineKey(
                "cta_nearest_trigger",
                U.LABEL,
                "the CTA rule whose trigger is nearest",
                kind="text",
                alertable=False,
            ),
            HeadlineKey("cta_nearest_trigger_level", U.INDEX_POINTS, "its level", alertable=False),
            HeadlineKey(
                "vixetp_rebalance_contracts",
                U.CONTRACTS,
                "the same in VX contracts",
                alertable=False,
            ),
            HeadlineKey(
                "futures_crowding_flags",
                U.COUNT,
                "crowding flags of cftc.futures_positioning",
                alertable=False,
            ),
            HeadlineKey(
                "futures_flagged", U.TEXT, "the flags raised", kind="text", alertable=False
            ),
        ]
    else:
        keys.insert(
            8,
            HeadlineKey(
                "total_usd_today_move",
                U.USD_FLOW,
                "mechanical flow for today's move so far (+ = buy)",
            ),
        )
    return tuple(keys)


SCENARIOS = declare(
    ResultDecl(
        name="board.scenarios",
        description="The de-risking board: mechanical flow (dealer hedging and leveraged-ETF rebalancing) for each index move and IV shock, by underlying and in total, with regime flags and the inputs used.",
        task="board",
        cadence="derived",
        tables=(
            Table(
                "grid",
                (
                    *_MOVES,
                    _label("underlying", "underlying", title="Underlying"),
                    Column(
                        "beta",
                        "float",
                        U.DIMENSIONLESS,
                        "beta to the board index",
                        title="Beta to index",
                    ),
                    Column(
                        "move_pct",
                        "float",
                        U.PERCENT,
                        "move of the underlying = beta x index move",
                        title="Move",
                    ),
                    *_flows(),
                    Column(
                        "adv_usd",
                        "float",
                        U.USD_PER_DAY,
                        "average daily dollar volume (NaN: not given)",
                        title="ADV",
                    ),
                    Column(
                        "total_pct_adv",
                        "float",
                        U.PCT_OF_ADV,
                        "100 x |total_usd| / adv_usd",
                        title="Total",
                    ),
                ),
                "one row per index move, IV shock and underlying (the main table)",
            ),
            Table("totals", (*_MOVES, *_flows()), "the grid summed over underlyings"),
            Table(
                "ranking",
                (
                    _label("underlying", "underlying", title="Underlying"),
                    Column(
                        "beta",
                        "float",
                        U.DIMENSIONLESS,
                        "beta to the board index",
                        title="Beta to index",
                    ),
                    Column(
                        "flow_per_1pct_usd",
                        "float",
                        U.USD_PER_1PCT,
                        "mechanical flow per 1% index move",
                        title="Flow",
                    ),
                    Column(
                        "adv_usd",
                        "float",
                        U.USD_PER_DAY,
                        "average daily dollar volume",
                        title="ADV",
                    ),
                    Column(
                        "flow_per_1pct_pct_adv",
                        "float",
                        U.PCT_OF_ADV_PER_1PCT,
                        "flow per 1% index move, percent of ADV",
                        title="Flow",
                    ),
                    _label(
                        "adv_note",
                        "empty, or why the row has no % of ADV (the row is kept)",
                        title="Note",
                    ),
                ),
                "underlyings ranked by flow per 1% index move",
            ),
            Table(
                "flags",
                (
                    _label(
                        "kind", "amplifying / near_flip / letf_heavy / stale_input", title="Flag"
                    ),
                    _label("underlying", "underlying or input", title="Underlying or input"),
                    _label("severity", "critical / warning / info", title="Severity"),
                    _label("message", "what was found", title="Message"),
                ),
                "regime flags",
            ),
            _inputs("every input, its freshness and whether it is in the totals"),
            _fx(),
            Table(
                "underlyings",
                (
                    _label("underlying", "underlying", title="Underlying"),
                    Column(
                        "max_abs_total_usd",
                        "float",
                        U.USD,
                        "largest |total flow| over the grid",
                        title="Largest total flow on the grid",
                    ),
                ),
                "underlyings with any flow, largest first (the explorer's list)",
            ),
            _levels(),
            _expiries(),
            Table(
                "systematic",
                (
                    _label(
                        "component",
                        "dealers / leveraged ETFs / VIX ETPs / vol-control funds / CTAs",
                        title="Who trades",
                    ),
                    _label(
                        "horizon",
                        "when it trades: today (into the close), next sessions (lagged), this week",
                        title="When it trades",
                    ),
                    _label(
                        "horizon_group", "today / this week: the totals' grouping", title="Horizon"
                    ),
                    _label(
                        "instrument", "index futures / stocks, or VX futures", title="Instrument"
                    ),
                    Column(
                        "usd",
                        "float",
                        U.USD_FLOW,
                        "flow at the board's flag move (+ = buy; NaN when left out)",
                        title="At the flag move",
                    ),
                    Column(
                        "basis",
                        "str",
                        U.TEXT,
                        "what the figure is (grid point, shock grid, today's rebalance)",
                        title="Basis",
                    ),
                    _label("source", "the result read", title="Source"),
                    Column(
                        "as_of",
                        "str",
                        U.TIME,
                        "its as-of (ISO 8601; empty for the board's own grid)",
                        title="As of",
                    ),
                    Column(
                        "included", "bool", U.FLAG, "in the horizon totals", title="In the totals"
                    ),
                    _label("note", "ok, or why it was left out", title="Status"),
                ),
                "the mechanical flow components with their horizon and instrument",
                optional=True,
            ),
            Table(
                "horizon_totals",
                (
                    _label("horizon_group", "today / this week", title="Horizon"),
                    _label(
                        "instrument", "index futures / stocks, or VX futures", title="Instrument"
                    ),
                    Column(
                        "usd",
                        "float",
                        U.USD_FLOW,
                        "sum of the included components (+ = buy)",
                        title="Total",
                    ),
                    Column(
                        "components", "str", U.TEXT, "the components summed", title="Components"
                    ),
                ),
                "totals per horizon and instrument: never a today flow with a this-week one, never VX with index futures",
                optional=True,
            ),
            Table(
                "positioning",
                (
                    _label("panel", "FX / equity index / rates", title="Panel"),
                    _label("market", "market", title="Market"),
                    _label("trader_class", "trader class", title="Trader class"),
                    Column(
                        "net", "float", U.MIXED, "net position, in net_unit", title="Net position"
                    ),
                    _label("net_unit", "USD or contracts", title="Unit"),
                    Column(
                        "percentile_3y",
                        "float",
                        U.PERCENTILE,
                        "percentile over 3 years",
                        title="Percentile, 3 years",
                    ),
                    Column(
                        "zscore_3y",
                        "float",
                        U.STDEV,
                        "z-score over 3 years",
                        title="z-score, 3 years",
                    ),
                    Column(
                        "previous_max_3y",
                        "float",
                        U.MIXED,
                        "previous 3-year high (FX: previous cycle peak), in net_unit",
                        title="Previous high",
                    ),
                    Column(
                        "previous_min_3y",
                        "float",
                        U.MIXED,
                        "previous 3-year low (FX: previous cycle trough), in net_unit",
                        title="Previous low",
                    ),
                    Column(
                        "distance_to_max",
                        "float",
                        U.MIXED,
                        "net - previous high",
                        title="Distance to the high",
                    ),
                    Column(
                        "distance_to_min",
                        "float",
                        U.MIXED,
                        "net - previous low",
                        title="Distance to the low",
                    ),
                    Column(
                        "exposure",
                        "float",
                        U.MIXED,
                        "USD notional, net USD or DV01, in exposure_unit",
                        title="Exposure",
                    ),
                    _label("exposure_unit", "unit of exposure", title="Exposure unit"),
                    Column("as_of", "str", U.TIME, "report date", title="Report date"),
                    _label("source", "the result read", title="Source"),
                ),
                "FX, equity index and rates positioning side by side with their extremes",
                optional=True,
            ),
        ),
        headline=_head(brief=False),
    )
)

BRIEF = declare(
    ResultDecl(
        name="board.brief",
        description="The morning brief: one page after the morning refresh (gamma regime and flip per main index, leveraged-ETF USD per 1%, the board's flows, the net USD position, the biggest changes since the previous brief), kept by date and sent as a digest.",
        task="brief",
        cadence="derived",
        tables=(
            Table(
                "gamma",
                (
                    _label("underlying", "index of [board] brief_indices", title="Underlying"),
                    Column("spot", "float", U.PRICE, "spot", title="Spot"),
                    _label("regime", REGIMES, title="Regime"),
                    Column(
                        "net_gex_usd_per_1pct",
                        "float",
                        U.USD_PER_1PCT,
                        "net spot GEX (+ = dealers long gamma)",
                        title="Net GEX",
                    ),
                    Column("flip", "float", U.PRICE, "zero-gamma level nearest spot", title="Flip"),
                    Column(
                        "flip_distance_pct",
                        "float",
                        U.PERCENT,
                        "(flip / spot - 1) x 100",
                        title="Flip distance",
                    ),
                    Column("as_of", "str", U.TIME, "snapshot time (ISO 8601)", title="As of"),
                ),
                "gamma of the main indices (the main table)",
            ),
            _levels(),
            Table(
                "letf",
                (
                    _label("underlying", "underlying", title="Underlying"),
                    Column(
                        "per_1pct_usd",
                        "float",
                        U.USD_PER_1PCT,
                        "leveraged ETFs' trade per +1% move (+ = buy)",
                        title="Leveraged ETFs",
                    ),
                ),
                "the 8 underlyings with the largest leveraged-ETF USD per 1%",
            ),
            Table(
                "flows",
                (*_MOVES, *_flows()),
                "the board's totals for index moves of -5 to +5% without IV shock (empty without a usable board)",
            ),
            _fx(),
            _inputs("every input of the brief"),
            Table(
                "changes",
                (
                    _label("figure", "the figure, with its unit", title="Figure"),
                    Column("previous", "float", U.MIXED, "in the previous brief", title="Previous"),
                    Column("current", "float", U.MIXED, "now", title="Current"),
                    Column("change", "float", U.MIXED, "current - previous", title="Change"),
                    Column(
                        "relative_change",
                        "float",
                        U.FRACTION,
                        "|change| / |previous| (inf: previous 0)",
                        title="Relative change",
                    ),
                ),
                "changes since the previous brief, largest relative change first",
            ),
            Table(
                "documents",
                (
                    _label("format", "pdf / png", title="Format"),
                    _label("media_type", "MIME type", title="Media type"),
                    Column(
                        "size_bytes", "int", U.COUNT, "size of the document in bytes", title="Size"
                    ),
                    Column(
                        "data",
                        "any",
                        U.TEXT,
                        "the document's bytes (rendered by the brief job; the web tier serves them as they are)",
                        title="Document",
                    ),
                ),
                "the brief rendered as PDF and PNG by its job (empty when rendering failed: extra.render_error says why)",
            ),
        ),
        headline=_head(brief=True),
    )
)
