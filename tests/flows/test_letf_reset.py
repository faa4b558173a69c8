"""Reset periods (flows.letf_reset) and what the daily figures leave out (flows.letf).

Every rule of the name and family classifier on a real or realistic fund name, the order of the
sources (override > curated table > name > family > unknown), a built monthly-reset fund, the
field case letf-calendar-reset with its expected value, the excluded-AUM table summing to the
universe minus what is included (reference sums by a plain per-fund loop), and the reset classes
of the real snapshots.
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from flows import letf, letf_reset
from flows.errors import InputError
from flows.sources import letf_universe
from jobs.config import LetfSettings

PROXIES = dict(LetfSettings().index_proxies)
NO_TABLE = pd.DataFrame(columns=letf_reset.RESET_TABLE_COLUMNS)
BLANK_CELLS = {"", "-", "--", "nan", "n/a", "na", "none", "null"}


def _reset(
    name: str,
    issuer: str = "",
    ticker: str = "XXXX",
    curated: pd.DataFrame | None = None,
    overrides: dict | None = None,
) -> pd.Series:
    frame = pd.DataFrame({"ticker": [ticker], "name": [name], "issuer": [issuer]})
    return letf_reset.classify_reset(frame, curated, overrides).iloc[0]


# -- name rules, one by one (real fund names from the 2026 snapshots) ---------------------------
@pytest.mark.parametrize(
    ("name", "reset", "rule"),
    [
        ("Direxion Daily Semiconductor Bull 3X Shares", "daily", "name says Daily"),
        ("T-Rex 2X Long NVIDIA Daily Target ETF", "daily", "name says Daily"),
        ("Definance 2X Dly Long Pure Drone and Aerial Automation ETF", "daily", "name says Daily"),
        ("GRANITESHARES 2X LONG BULL DAILY ETF", "daily", "name says Daily"),
        ("GraniteShares YieldBOOST TSLA ETF", "options-based", "options payoff"),
        ("YieldMax Short NVDA Option Income Strategy ETF", "options-based", "options payoff"),
        (
            "FT Vest U.S. Equity Enhance & Moderate Buffer ETF - June",
            "options-based",
            "options payoff",
        ),
        ("Innovator U.S. Equity Accelerated Plus ETF - July", "options-based", "options payoff"),
        ("iShares Large Cap Accelerated Outcome ETF", "options-based", "options payoff"),
        (
            "Leverage Shares 2x Capped Accelerated NVDA Monthly ETF",
            "options-based",
            "options payoff",
        ),
        ("NEOS Boosted Nasdaq-100 High Income ETF", "options-based", "options payoff"),
        ("Kurv Gold Enhanced Income ETF", "options-based", "options payoff"),
        ("Defiance Leveraged Long + Income MSTR ETF", "options-based", "options payoff"),
        (
            "JPMORGAN ETFS (IRELAND) ICAV US EQ PREMIUM INC ACT UCITS ETF USD DIS",
            "options-based",
            "options payoff",
        ),
        ("Neuberger Berman Option Strategy ETF", "options-based", "options payoff"),
        ("NVDA WeeklyPay ETF", "weekly", "name says Weekly"),
        ("Roundhill NFLX Weekly Pay ETF", "weekly", "name says Weekly"),
        ("AMD WeeklyPay\u00e2\u00a2 ETF", "weekly", "name says Weekly"),  # the source's mojibake
        ("Tradr 2X Long Innovation 100 Monthly ETF", "monthly", "name says Monthly"),
        ("ETRACS Monthly Pay 2xLeveraged Preferred Stock ETN", "monthly", "name says Monthly"),
        (
            "UBS ETRACS 2xMonthly Leveraged S&P MLP Index ETN Series B",
            "monthly",
            "name says Monthly",
        ),
        ("Tradr 2X Long SPY Quarterly ETF", "quarterly", "name says Quarterly"),
        (
            "ETRACS Quarterly Pay 1.5x Leveraged Alerian MLP Index ETN",
            "quarterly",
            "name says Quarterly",
        ),
    ],
)
def test_each_name_rule(name: str, reset: str, rule: str) -> None:
    got = _reset(name)
    assert got["reset"] == reset and got["reset_source"] == "name" and rule in got["reset_evidence"]


@pytest.mark.parametrize(
    ("name", "reset"),
    [
        # "Daily" wins over every later rule for genuinely daily funds
        ("Direxion Daily High Yield Bear 2X Shares", "daily"),
        ("Defiance Daily Target 2X Long OKLO ETF", "daily"),
        # ... but not when it describes a payout or is part of a brand word
        ("TappAlpha Innovation 100 Growth & Daily Income ETF", "unknown"),
        ("UBS ETRACS Monthly Pay 2x Leveraged Diversified High Income ETN", "monthly"),
        ("DailyDelta Q100 Downside Option Strategy ETF", "options-based"),
        # an options payoff over a quarterly outcome period is options-based, not quarterly
        ("Innovator Growth Accelerated ETF - Quarterly", "options-based"),
        ("Innovator US Equity Accelerated ETF - Quarterly", "options-based"),
    ],
)
def test_rule_order(name: str, reset: str) -> None:
    assert _reset(name)["reset"] == reset


@pytest.mark.parametrize(
    ("name", "issuer", "reset", "key"),
    [
        ("ProShares UltraPro QQQ", "ProShares", "daily", "ProShares"),
        ("Ultra S&P 500 Equal Weight", "ProShares", "daily", "ProShares"),
        ("GraniteShares 2x Long AMD ETF", "GraniteShares", "daily", "GraniteShares"),
        ("LeverageShares 2x Long CBRS ETF", "Leverage Shares", "daily", "Leverage Shares"),
        (
            "MicroSectors FANG+ Index 3X Leveraged ETN",
            "BMO Capital Markets",
            "daily",
            "MicroSectors",
        ),
        ("MAX Airlines 3X Leveraged ETNs", "Max", "daily", "MicroSectors"),
        ("Volatility Shares 2x Ether ETF", "Volatility Shares", "daily", "Volatility Shares"),
        ("2x Long VIX Futures ETF", "VS TRUST", "daily", "Volatility Shares"),
        ("21Shares 2x Long Dogecoin ETF", "21Shares", "daily", "21Shares"),
        ("T-Rex 2x Long Ether ETU ETF", "REX", "daily", "T-Rex"),
        ("DB Gold Double Short ETN", "Deutsche Bank AG", "daily", "Deutsche Bank"),
        ("Innovator Growth Accelerated Plus ETF", "Innovator", "options-based", "defined-outcome"),
        ("Some Future Fund", "YieldMax", "options-based", "defined-outcome"),
    ],
)
def test_each_family_rule(name: str, issuer: str, reset: str, key: str) -> None:
    got = _reset(name, issuer)
    assert got["reset"] == reset
    assert got["reset_source"] in ("family", "name")  # "Accelerated" in a name decides first
    if got["reset_source"] == "family":
        assert key in got["reset_evidence"]


def test_family_rule_reads_the_brand_in_the_name_when_the_family_cell_is_damaged() -> None:
    for damaged in ("-", "NaN", ""):
        got = _reset("ProShares UltraPro Short QQQ", damaged)
        assert got["reset"] == "daily" and got["reset_source"] == "family"


@pytest.mark.parametrize(
    ("name", "issuer"),
    [
        (
            "Tradr 2X Long Innovation ETF",
            "Tradr ETFs",
        ),  # Tradr sells every reset period: no family rule
        ("Direxion HCM Tactical Enhanced US ETF", "Direxion"),  # Direxion also runs tactical funds
        (
            "ETRACS 2x Leveraged US Value Factor TR ETN",
            "UBS ETRACS",
        ),  # monthly or quarterly: table decides
        ("Return Stacked U.S. Stocks & Managed Futures ETF", "Return Stacked"),
        ("x", ""),
    ],
)
def test_unknown_is_explicit(name: str, issuer: str) -> None:
    got = _reset(name, issuer)
    assert (
        got["reset"] == "unknown"
        and got["reset_source"] == "none"
        and "no name or family rule" in got["reset_evidence"]
    )


def test_curated_table_wins_over_rules_and_override_wins_over_table() -> None:
    table = letf_universe.reset_table()
    # TARK: no rule decides (Tradr); the table says daily
    assert _reset("Tradr 2X Long Innovation ETF", "Tradr ETFs", "TARK", table)["reset"] == "daily"
    # MTUL: ETRACS factor note, compounded quarterly per the issuer
    got = _reset("ETRACS 2x Leveraged MSCI US Momentum Factor TR ETN", "UBS ETRACS", "MTUL", table)
    assert (
        got["reset"] == "quarterly"
        and got["reset_source"] == "curated"
        and "quarterly" in got["reset_evidence"]
    )
    # a table entry beats a name that says Daily; an override beats the table
    fake = pd.DataFrame({"ticker": ["ABCD"], "reset": ["monthly"], "evidence": ["test"]})
    assert _reset("Direxion Daily ABCD Bull 2X", "Direxion", "ABCD", fake)["reset"] == "monthly"
    got = _reset("Direxion Daily ABCD Bull 2X", "Direxion", "abcd", fake, {"ABCD": "weekly"})
    assert got["reset"] == "weekly" and got["reset_source"] == "override"
    with pytest.raises(InputError, match="unknown reset class"):
        _reset("x", overrides={"ABCD": "fortnightly"})


def test_shipped_reset_table_is_valid_and_has_evidence() -> None:
    table = letf_universe.reset_table()
    assert table["ticker"].is_unique and set(table["reset"]) <= set(letf_reset.RESETS)
    assert table["evidence"].str.len().gt(20).all()
    assert {"TQQQ", "MQQQ", "QQQP", "SPYQ", "XDSQ", "NVDW"} <= set(table["ticker"])
    with pytest.raises(InputError, match="listed twice"):
        letf_reset.validate_reset_table(
            pd.DataFrame(
                {"ticker": ["A", "a"], "reset": ["daily", "daily"], "evidence": ["x", "y"]}
            ),
            "t.csv",
        )
    with pytest.raises(InputError, match="line 2"):
        letf_reset.validate_reset_table(
            pd.DataFrame({"ticker": ["A"], "reset": ["biweekly"], "evidence": ["x"]}), "t.csv"
        )


# -- a monthly-reset fund, built ----------------------------------------------------------------
CURATED = "ticker,name,underlying,leverage,issuer,fund_type,asset_class,aum_usd\n"


def test_monthly_reset_fund_is_excluded_with_its_reason_and_assets() -> None:
    text = CURATED + (
        "AAAL,Direxion Daily AAA Bull 2X Shares,AAA,2,Direxion,Single Stock,equity,1000000000\n"
        "AAAM,Tradr 2X Long AAA Monthly ETF,AAA,2,Tradr ETFs,Single Stock,equity,500000000\n"
        "AAAS,Direxion Daily AAA Bear 1X Shares,AAA,-1,Direxion,Single Stock,equity,300000000\n"
    )
    parsed = letf_universe.parse(text.encode(), "built.csv", reset_table=NO_TABLE)
    flows = letf.fund_flows(letf.classify(parsed.funds, {}), {"AAA": -4.0})
    row = flows.set_index("ticker")
    assert row.loc["AAAM", "reset"] == "monthly" and row.loc["AAAM", "group"] == "excluded"
    assert (
        row.loc["AAAM", "reason"] == letf.REASON_RESET["monthly"]
        and "monthly" in row.loc["AAAM", "reason"]
    )
    # the daily figure: plain per-fund sums of the two daily funds only
    expected = 1e9 * (4 - 2) * 0.01 + 3e8 * (1 + 1) * 0.01
    table = letf.by_underlying(flows).set_index("underlying")
    assert table.loc["AAA", "per_1pct_usd"] == pytest.approx(expected, rel=1e-15)
    assert table.loc["AAA", "rebalance_usd"] == pytest.approx(expected * -4.0, rel=1e-15)
    assert table.loc["AAA", "funds"] == 2
    left = letf.excluded_aum(flows)
    assert left.to_dict("records") == [
        {
            "category": "reset: monthly",
            "funds": 1,
            "aum_usd": 5e8,
            "share_pct": pytest.approx(100 * 5e8 / 1.8e9),
        }
    ]


# -- "Capped" in an index name ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "issuer", "reset"),
    [
        ("ProShares Ultra MSCI Brazil Capped", "ProShares", "daily"),
        ("ProShares UltraShort MSCI Brazil Capped", "ProShares", "daily"),
        ("ProShares Ultra MSCI Brazil Capped", "", "daily"),  # the brand in the name
        ("Some Fund MSCI Brazil Capped", "", "unknown"),  # nothing decides: not options-based
        (
            "Leverage Shares 2x Capped Accelerated TSLA Monthly ETF",
            "Leverage Shares",
            "options-based",
        ),
    ],
)
def test_capped_alone_is_an_index_word_not_an_options_payoff(
    name: str, issuer: str, reset: str
) -> None:
    assert _reset(name, issuer)["reset"] == reset


def test_funds_on_capped_indexes_count_as_daily(test_data) -> None:
    """Six real rows of the 2026-06-01 snapshot: ProShares Ultra / UltraShort MSCI Brazil Capped
    (UBR, BZQ) have daily 2x / -2x objectives on the MSCI Brazil 25/50 Capped index; they were
    excluded as options-based (2,366,804,664 USD per 1 %).  The two high-yield funds are debt."""
    from jobs.commands.letf import letf_report

    doc = letf_report(test_data / "letf" / "capped_index_names_2026-06-01.csv", (), PROXIES)
    # A * (L^2 - L) * 1 % by hand: TQQQ 3x, BRZU 3x, UBR 2x, BZQ -2x (4 + 2 = 6)
    want = (39_349_000_000 * 6 + 97_744_400 * 6 + 3_889_450 * 2 + 3_049_360 * 6) * 0.01
    assert want == pytest.approx(2_367_065_414.6, rel=1e-12)
    assert doc["per_1pct_usd"] == pytest.approx(want, rel=1e-12)
    reasons = {e["ticker"]: e["reason"] for e in doc["excluded"]}
    assert set(reasons) == {"SJB", "UJB"} and all("debt" in r for r in reasons.values())
    # one index, one hedge: BRZU and BZQ give no ticker, UBR the index code MXBR2550 that no
    # proxy maps; all three name the MSCI Brazil 25-50 index, hedged with EWZ
    rows = {r["underlying"]: r for r in doc["by_underlying"]}
    assert set(rows) == {"QQQ", "EWZ"} and rows["EWZ"]["funds"] == 3
    brazil = (97_744_400 * 6 + 3_889_450 * 2 + 3_049_360 * 6) * 0.01
    assert rows["EWZ"]["per_1pct_usd"] == pytest.approx(brazil, rel=1e-12)


# -- the field case -----------------------------------------------------------------------------
def test_case_letf_calendar_reset(test_data) -> None:
    """cases/letf-calendar-reset: only TQQQ rebalances daily: 3.9349e10 * (9 - 3) * 1 %."""
    from jobs.commands.letf import letf_report

    path = test_data / "cases" / "letf-calendar-reset" / "universe.csv"
    doc = letf_report(path, (), PROXIES)
    assert doc["per_1pct_usd"] == pytest.approx(2_360_940_000.0, rel=1e-12)
    assert 3.9349e10 * (9 - 3) * 0.01 == pytest.approx(2_360_940_000.0, rel=1e-12)
    rows = {r["underlying"]: r for r in doc["by_underlying"]}
    assert set(rows) == {"QQQ"} and rows["QQQ"]["funds"] == 1
    assert (
        rows.get("SPY", {}).get("per_1pct_usd", 0.0) == 0.0
        and rows.get("NVDA", {}).get("per_1pct_usd", 0.0) == 0.0
    )
    reasons = {e["ticker"]: e["reason"] for e in doc["excluded"]}
    assert set(reasons) == {"MQQQ", "QQQP", "SPYQ", "XDSQ", "NVDW"}
    assert reasons["MQQQ"].startswith("monthly reset")
    assert reasons["QQQP"].startswith("quarterly reset") and reasons["SPYQ"].startswith(
        "quarterly reset"
    )
    assert reasons["XDSQ"].startswith("options-based") and reasons["NVDW"].startswith(
        "weekly reset"
    )
    # excluded assets = universe - TQQQ, by a plain loop over the file
    with open(path, encoding="utf-8-sig", newline="") as fh:
        aum = {r["ticker"]: float(r["aum"]) for r in csv.DictReader(fh)}
    assert doc["universe_aum_usd"] == pytest.approx(sum(aum.values()))
    assert doc["included_aum_usd"] == aum["TQQQ"]
    assert doc["excluded_aum_usd"] == pytest.approx(sum(v for t, v in aum.items() if t != "TQQQ"))
    by_cat = {r["category"]: r for r in doc["excluded_aum"]}
    assert by_cat["reset: quarterly"]["funds"] == 2 and by_cat["reset: quarterly"][
        "aum_usd"
    ] == pytest.approx(aum["QQQP"] + aum["SPYQ"])
    assert (
        by_cat["reset: monthly"]["aum_usd"] == aum["MQQQ"]
        and by_cat["reset: weekly"]["aum_usd"] == aum["NVDW"]
    )
    assert by_cat["reset: options-based"]["aum_usd"] == aum["XDSQ"]
    assert doc["quality"]["skipped_rows"] == 0 and doc["quality"]["warnings"] == []


# -- excluded assets on the trimmed real snapshot: a plain loop as the reference -------------------
def test_excluded_aum_sums_to_universe_minus_included(test_data) -> None:
    path = test_data / "letf" / "leveraged_etf_data_2026-06-01_trimmed.csv"
    parsed = letf_universe.read(path)
    flows = letf.fund_flows(letf.classify(parsed.funds, PROXIES))
    left = letf.excluded_aum(flows, parsed.skipped)
    universe_total = 0.0
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            universe_total += float(row["aum"]) if row["aum"] else 0.0
    included = 0.0
    by_reset: dict[str, float] = {}
    for fund in flows.itertuples():
        a = 0.0 if np.isnan(fund.aum_usd) else fund.aum_usd
        if fund.group in ("equity", "crypto", "commodity"):
            included += a
        by_reset[fund.reset] = by_reset.get(fund.reset, 0.0) + a
    assert letf.included_aum(flows) == pytest.approx(included, rel=1e-12)
    assert float(left["aum_usd"].sum()) == pytest.approx(universe_total - included, rel=1e-12)
    assert float(left["share_pct"].sum()) == pytest.approx(
        100 * (universe_total - included) / universe_total, rel=1e-9
    )
    resets = letf.by_reset(flows).set_index("reset")
    for reset, total in by_reset.items():
        assert resets.loc[reset, "aum_usd"] == pytest.approx(total, rel=1e-12)
    # every non-daily fund is excluded for its reset, whatever else is true of it
    assert (flows.loc[flows["reset"].ne("daily"), "exclusion"].str.startswith("reset: ")).all()
    assert set(flows.loc[flows["group"].eq("equity"), "reset"]) == {"daily"}


# -- the real snapshots: how much each reset class holds -------------------------------------------
SNAPSHOT_DAYS = ["2026-02-05", "2026-03-01", "2026-04-01", "2026-05-01", "2026-06-01"]


@pytest.mark.extended
@pytest.mark.parametrize("day", SNAPSHOT_DAYS)
def test_real_snapshot_reset_classes(shared_data, day: str) -> None:
    path = shared_data / "letf" / f"pokedo0_leveraged_etf_data_{day}.csv"
    parsed = letf_universe.read(path)
    funds = parsed.funds.set_index("ticker")
    # monthly-pay 2x ETNs are monthly, 1.2x WeeklyPay funds weekly, never daily
    etracs_monthly = funds[funds["name"].str.contains("Monthly Pay", case=False)]
    assert len(etracs_monthly) > 0 and (etracs_monthly["reset"] == "monthly").all()
    weekly_pay = funds[
        funds["name"].str.contains("WeeklyPay|Weekly Pay", case=False) & funds["leverage"].eq(1.2)
    ]
    assert len(weekly_pay) >= 15 and (weekly_pay["reset"] == "weekly").all()
    # every "Daily" fund is daily, and the daily class holds the bulk of the assets
    says_daily = funds[
        funds["name"].str.contains(r"\bDaily\b(?!\s+Income)", case=False, regex=True)
    ]
    assert (says_daily["reset"] == "daily").all()
    flows = letf.fund_flows(letf.classify(parsed.funds, PROXIES))
    resets = letf.by_reset(flows).set_index("reset")
    total = float(resets["aum_usd"].sum())
    assert resets.loc["daily", "aum_usd"] / total > 0.9
    assert resets.loc["unknown", "funds"] > 0  # explicit, and listed
    assert parsed.quality.skipped_share < 0.01  # a clean real file passes the default threshold


# -- the column-wise matcher (RE2 over the column) agrees with the Python rules, row by row -------
_TRICKY_NAMES = [
    "Direxion Daily Income Daily Bull 3X",  # a payout "Daily" and a reset "Daily"
    "Daily\x0bIncome Fund",  # Python's \s includes \x0b; RE2's does not
    "Daily\x1fPay ETF",
    "Daily\u00a0Income ETF",  # non-ASCII space: the Python pattern decides
    "\u00e9Daily ETF",  # a non-ASCII letter before "Daily": no word boundary for Python
    "DAILY",
    "daily-income",
    "max\n",
    "  MAX  ",
    "Max Bull 3X",
    "maximum growth",
    "DB ",
    "db\x0b",
    "rex",
    "T-REX 2X",
    "LeverageShares 2x",
    "Leverage\x0cShares",
    "yield\x1cboost",
    "+\x1dincome",
    "Option",
    "OPTIONSX",
    "Kelvin \u212a",
    "",
    "-",
]


def test_columnwise_rules_agree_with_the_python_patterns(
    shared_data_optional_names: list[str],
) -> None:
    names = pd.Series(_TRICKY_NAMES + shared_data_optional_names)
    for rules in (letf_reset.NAME_RULES, letf_reset.FAMILY_RULES):
        got = letf_reset._rule_matches(names, rules)
        for rule, match in zip(rules, got, strict=True):
            expected = np.array([rule.pattern.search(n) is not None for n in names])
            bad = names[match != expected].tolist()
            assert not bad, (rule.key, bad)


@pytest.mark.parametrize("repeat", [1, 40])  # a few cells (Python patterns) and many (RE2)
def test_rule_by_rule_on_the_remaining_cells_is_the_first_matching_rule(
    shared_data_optional_names: list[str], repeat: int
) -> None:
    names = pd.Series((_TRICKY_NAMES + shared_data_optional_names) * repeat)
    arr = letf_reset._arrow_text(names)
    for rules in (letf_reset.NAME_RULES, letf_reset.FAMILY_RULES):
        expected = letf_reset._first_rule(names, rules)
        assert (letf_reset._first_rule_of(arr, rules) == expected).all()
        assert (letf_reset._first_rule_distinct(arr, rules) == expected).all()
        # the classic definition: the first rule whose Python pattern matches
        python = [
            next((k for k, r in enumerate(rules) if r.pattern.search(n)), len(rules)) for n in names
        ]
        assert expected.tolist() == python


def _spellings(items: list) -> list[list]:
    """Every sequence of parsed items a parsed regular expression can match as, its
    alternations (``a|b``, also inside groups) spelled out one by one."""
    from itertools import product
    from re import _constants as rc  # type: ignore[attr-defined]

    options = []
    for op, arg in items:
        if op is rc.BRANCH:
            options.append([s for branch in arg[1] for s in _spellings(list(branch))])
        elif op is rc.SUBPATTERN:
            options.append(_spellings(list(arg[-1])))
        else:
            options.append([[(op, arg)]])
    return [[item for part in combo for item in part] for combo in product(*options)]


def _literal_runs(items: list) -> list[str]:
    """The runs of plain characters a sequence of parsed items spells out in order (anything
    else, a class, a repeat, an anchor, ends a run)."""
    from re import _constants as rc  # type: ignore[attr-defined]

    runs, run = [], ""
    for op, arg in items:
        if op is rc.LITERAL:
            run += chr(arg)
        else:
            runs.append(run)
            run = ""
    return [r for r in [*runs, run] if r]


@pytest.mark.parametrize(
    "rule", letf_reset.NAME_RULES + letf_reset.FAMILY_RULES, ids=lambda r: r.key
)
def test_every_spelling_of_a_rule_holds_one_of_its_keywords(rule: letf_reset.Rule) -> None:
    """A match holds the literal runs of the spelling it matched (case-insensitively; on ASCII
    text: in the lower-cased text), so a keyword inside a run of every spelling is a necessary
    condition: skipping the pattern where no keyword occurs changes no result."""
    from re import _parser  # type: ignore[attr-defined]

    assert rule.keywords and all(w == w.lower() for w in rule.keywords)
    spellings = _spellings(list(_parser.parse(rule.pattern.pattern, rule.pattern.flags)))
    assert len(spellings) >= 1
    for spelling in spellings:
        runs = [r.lower() for r in _literal_runs(spelling)]
        assert any(w in r for w in rule.keywords for r in runs), (rule.key, runs)


def test_classify_reset_of_the_real_snapshot_is_every_rule_on_every_fund(test_data) -> None:
    """The rules run only where no earlier source decides; the classes are those of running
    every source on every fund and taking the first that decides."""
    raw = pd.read_csv(
        test_data / "letf" / "leveraged_etf_data_2026-06-01_trimmed.csv",
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
    )
    frame = pd.DataFrame(
        {"ticker": raw["ticker"], "name": raw["name"], "issuer": raw["fund_family"]}
    )
    table = letf_universe.reset_table()
    got = letf_reset.classify_reset(frame, table, {"conl": "weekly"})
    curated = dict(zip(table["ticker"], table["reset"], strict=True))
    for i, row in frame.iterrows():
        ticker = row["ticker"].strip().upper()
        name_at = next(
            (k for k, r in enumerate(letf_reset.NAME_RULES) if r.pattern.search(row["name"])),
            None,
        )
        family = "" if row["issuer"].strip().lower() in BLANK_CELLS else row["issuer"]
        fam_at = next(
            (
                k
                for text in (family, row["name"])
                for k, r in enumerate(letf_reset.FAMILY_RULES)
                if r.pattern.search(text)
            ),
            None,
        )
        if ticker == "CONL":
            want = ("weekly", "override")
        elif ticker in curated:
            want = (curated[ticker], "curated")
        elif name_at is not None:
            want = (letf_reset.NAME_RULES[name_at].reset, "name")
        elif fam_at is not None:
            want = (letf_reset.FAMILY_RULES[fam_at].reset, "family")
        else:
            want = ("unknown", "none")
        assert (got.at[i, "reset"], got.at[i, "reset_source"]) == want, row.to_dict()


def test_unreadable_text_is_strip_lower_in_the_blank_set() -> None:
    values = pd.Series(
        [
            " - ",
            "NaN",
            "N/A\x1f",
            "\u3000none",
            "NULL",
            "",
            "x",
            "--",
            "n.a.",
            "0",
            None,
            "na\u00a0",
        ],
        dtype=object,
    )
    expected = [
        ("" if v is None else v).strip().lower()
        in {"", "-", "--", "nan", "n/a", "na", "none", "null"}
        for v in values
    ]
    assert letf_reset.unreadable_text(values).tolist() == expected
    assert letf_reset.unreadable_text(values.astype("str")).tolist() == expected


@pytest.fixture
def shared_data_optional_names(test_data) -> list[str]:
    """Fund names and families of the trimmed snapshot in tests/data (and the shipped table)."""
    names: list[str] = []
    for path in [*sorted((test_data / "letf").glob("*.csv")), letf_universe.shipped_path()]:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            for row in csv.DictReader(fh):
                names += [row.get("name") or "", row.get("fund_family") or row.get("issuer") or ""]
    return names


def test_the_written_out_whitespace_is_every_character_str_strip_removes() -> None:
    import sys

    from flows.letf_reset import _PY_SPACE

    assert _PY_SPACE == "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())


def test_arrow_trims_what_str_strip_strips_on_every_code_point() -> None:
    """The fast paths strip a few distinct cells with ``str.strip`` where the exact path uses
    Arrow's ``utf8_trim_whitespace`` (pandas' ``str.strip`` on Arrow text): the same text."""
    import sys

    import pyarrow.compute as pc

    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    cells = [f"a{c}" for c in chars] + [f"{c}a" for c in chars]
    trimmed = pc.utf8_trim_whitespace(pa.array(cells, type=pa.large_string())).to_pylist()
    assert [c for c, t in zip(cells, trimmed, strict=True) if c.strip() != t] == []
    # tickers stripped and upper-cased once are so for good (classify_reset_flags relies on it)
    once = pc.utf8_upper(pc.utf8_trim_whitespace(pa.array(cells, type=pa.large_string())))
    assert once.equals(pc.utf8_upper(pc.utf8_trim_whitespace(once)))


def _fuzz_names(count: int, seed: int) -> list[str]:
    """ASCII names built from the rules' words, their neighbours and the spaces Python's ``\\s``
    and ``\\b`` tell apart: every branch of the byte matchers is reached many times."""
    pieces = [
        "daily", "DAILY", "Daily", "dly", "DLY", "dail", "aily", "xdaily", "dailyx", "_daily",
        "daily_", "1daily", "daily2", "income", "INCOME", "pay", "Pay", "premium", "distribution",
        "distributio", "incom", "pa", "weekly", "WeeklyPay", "monthly", "quarterly", "quarter",
        "yield", "boost", "options", "buffer", " ", "  ", "\t", "\x0b", "\x0c", "\x1c", "\x1f",
        "\r", "\n", "-", "+", "&", "/", "2x", "3X", "Bull", "Bear", "ETF", "",
    ]  # fmt: skip
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(pieces, size=int(rng.integers(0, 7)))) for _ in range(count)]


@pytest.mark.parametrize("seed", range(4))
def test_byte_matchers_agree_with_the_python_patterns(seed: int) -> None:
    names = _fuzz_names(3000, seed) + _TRICKY_NAMES[:-2]
    names = [n for n in names if n.isascii()]
    arr = pa.array(names, type=pa.large_string())
    for rule in letf_reset.NAME_RULES:
        if rule.matcher is None:
            continue
        got = rule.matcher(letf_reset._bytes_of(arr), len(arr))
        expected = np.array([rule.pattern.search(n) is not None for n in names])
        bad = [n for n, g, e in zip(names, got, expected, strict=True) if g != e]
        assert not bad, (rule.key, bad[:10])
        # on a slice of the array (an offset into its buffers), as after a filter
        part = arr.slice(7, 900)
        got = rule.matcher(letf_reset._bytes_of(part), len(part))
        assert (got == expected[7:907]).all(), rule.key
    # and the whole classification, rule by rule, against the first matching Python pattern
    expected = [
        next((k for k, r in enumerate(letf_reset.NAME_RULES) if r.pattern.search(n)), 5)
        for n in names
    ]
    assert letf_reset._first_rule_of(arr, letf_reset.NAME_RULES).tolist() == expected


def test_a_long_run_of_spaces_after_daily_is_read_whole() -> None:
    names = ["Daily" + " " * 40 + "Income", "Daily" + " " * 40 + "Bull", "x"] * 200
    arr = pa.array(names, type=pa.large_string())
    got = letf_reset._daily_hits(letf_reset._bytes_of(arr), len(arr))
    assert got.tolist() == [False, True, False] * 200


def test_family_rules_from_distinct_values_are_the_column_rules(
    shared_data_optional_names: list[str],
) -> None:
    families = [*shared_data_optional_names, "-", " MAX ", "n/a", "", "Rex", "db x"] * 3
    arr = pa.array(families, type=pa.large_string())
    distinct = sorted(set(families))
    at = np.array([distinct.index(f) for f in families])
    expected = letf_reset._family_rule(arr)
    assert letf_reset._family_rules_of(distinct, at).tolist() == expected.tolist()
    # rows holding only some of the values (the rest are not looked at)
    part = at[::3]
    assert letf_reset._family_rules_of(distinct, part).tolist() == expected[::3].tolist()


def test_the_characters_folding_to_ascii_are_every_one() -> None:
    """A case-insensitive Python pattern matches an ASCII letter, digit, space, ``+`` or ``-``
    with no other character than these (what lets the keyword test read non-ASCII names)."""
    import re
    import string
    import sys

    every = "".join(chr(c) for c in range(128, sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    found: set[str] = set()
    for x in string.ascii_lowercase + string.digits + " +-":
        found |= set(re.compile(re.escape(x), re.IGNORECASE).findall(every))
    assert found == letf_reset._FOLDS_TO_ASCII
    # and str.lower() spells no ASCII character for any other character
    assert {c for c in every if any(ch.isascii() for ch in c.lower())} <= found


def test_non_ascii_names_take_the_keyword_test_exactly() -> None:
    names = [
        "Direxion Daily\u00a0Income Bull",
        "\u00e9Daily ETF",
        "Caf\u00e9 Daily Bull 3X",
        "\u212aelvin weekly",
        "da\u0131ly",
        "\u0130nnovator",
        "Yield\u2003Boost \u00e9",
        "Monthly \u00fc",
        "\u00fc",
        "Proshares \u00e9",
        "M\u00c1X",
        "\u017fome quarterly",
    ] * 3
    for rules in (letf_reset.NAME_RULES, letf_reset.FAMILY_RULES):
        words = letf_reset._any_keyword(rules, 0)
        for name in names:
            expected = next((k for k, r in enumerate(rules) if r.pattern.search(name)), len(rules))
            assert letf_reset._first_rule_py(name, rules, 0, words) == expected, name
