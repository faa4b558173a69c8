"""CBOE delayed-quotes JSON connector: build_query / fetch against a real local HTTP server / parse
on the recorded real MSTR response (a byte-exact copy in tests/data/options, see its PROVENANCE.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flows.errors import InputError, SourceError
from flows.sources import cboe
from flows.sources.http import HttpClient
from tests.httpserver import Reply

MSTR = "options/options_MSTR_2026-07-10_trimmed.json"


@pytest.fixture()
def mstr_bytes(test_data: Path) -> bytes:
    return (test_data / MSTR).read_bytes()


@pytest.fixture()
def client() -> HttpClient:
    # Real retries and backoff, with sleeps recorded instead of waited (the server is local).
    slept: list[float] = []
    c = HttpClient(
        timeout_s=5,
        retries=3,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
        min_interval_s=0.0,
        user_agent="flowdesk-test/1.0 (+tests)",
        sleep=slept.append,
    )
    c.slept = slept  # type: ignore[attr-defined]
    return c


# -- build_query ----------------------------------------------------------------------------


def test_index_symbols_take_an_underscore_equities_and_etfs_do_not() -> None:
    assert build("SPX") == "https://cdn.cboe.com/api/global/delayed_quotes/options/_SPX.json"
    assert build("ndx") == "https://cdn.cboe.com/api/global/delayed_quotes/options/_NDX.json"
    assert build("RUT").endswith("/_RUT.json")
    assert build("VIX").endswith("/_VIX.json")
    assert build("_SPX").endswith("/_SPX.json")  # already prefixed: not doubled
    for etf_or_stock in ("SPY", "QQQ", "IWM", "NVDA", "MSTR"):
        assert build(etf_or_stock).endswith(f"/{etf_or_stock}.json")
    q = cboe.build_query("spx", base_url="http://127.0.0.1:1/x/")
    assert (q.underlying, q.symbol, q.url) == ("SPX", "_SPX", "http://127.0.0.1:1/x/_SPX.json")
    with pytest.raises(InputError, match="symbol"):
        cboe.build_query("  ")


def build(symbol: str) -> str:
    return cboe.build_query(symbol).url


# -- parse on the real recorded response --------------------------------------------------


def test_parse_real_mstr_response(mstr_bytes: bytes) -> None:
    chain = cboe.parse(mstr_bytes)
    assert chain.underlying == "MSTR"
    assert chain.spot == pytest.approx(94.6604)
    assert round(chain.spot, 2) == 94.66
    assert chain.as_of == pd.Timestamp("2026-07-10 21:12:30", tz="UTC")
    assert chain.source == "cboe-json"
    c = chain.contracts
    assert len(c) == 48
    assert list(c.columns)[:13] == [
        "symbol",
        "root",
        "type",
        "strike",
        "expiry",
        "settle_time",
        "bid",
        "ask",
        "iv",
        "delta",
        "gamma",
        "open_interest",
        "volume",
    ]
    assert c["symbol"].is_unique
    assert set(c["type"]) == {"C", "P"}
    assert sorted(pd.to_datetime(c["expiry"]).dt.strftime("%Y-%m-%d").unique()) == [
        "2026-07-17",
        "2026-07-24",
        "2026-07-31",
    ]
    row = c.set_index("symbol").loc["MSTR260717C00095000"]
    assert row["root"] == "MSTR" and row["type"] == "C" and row["strike"] == 95.0
    assert pd.Timestamp(row["expiry"]) == pd.Timestamp("2026-07-17")
    # PM-settled equity option: 16:00 New York (EDT, UTC-4) = 20:00 UTC
    assert row["settle_time"] == pd.Timestamp("2026-07-17 20:00", tz="UTC")
    assert (
        row["bid"],
        row["ask"],
        row["iv"],
        row["open_interest"],
        row["volume"],
        row["delta"],
        row["gamma"],
    ) == (3.85, 3.95, 0.773, 2952.0, 1868.0, 0.5096, 0.0392)
    put = c.set_index("symbol").loc["MSTR260717P00095000"]
    assert (put["iv"], put["open_interest"], put["delta"], put["gamma"]) == (
        0.7788,
        5102.0,
        -0.492,
        0.0394,
    )
    assert chain.skipped.empty


def test_parse_sums_match_the_raw_file(mstr_bytes: bytes) -> None:
    raw = json.loads(mstr_bytes)["data"]["options"]
    chain = cboe.parse(mstr_bytes)
    assert chain.contracts["open_interest"].sum() == sum(o["open_interest"] for o in raw)
    assert chain.contracts["gamma"].sum() == pytest.approx(sum(o["gamma"] for o in raw))


def test_explicit_as_of_wins(mstr_bytes: bytes) -> None:
    when = pd.Timestamp("2026-07-10 17:00", tz="America/New_York")
    assert cboe.parse(mstr_bytes, as_of=when.to_pydatetime()).as_of == when.tz_convert("UTC")


def test_zero_iv_becomes_nan_and_null_greeks_are_handled(mstr_bytes: bytes) -> None:
    obj = json.loads(mstr_bytes)
    opts = obj["data"]["options"]
    opts[0].update({"iv": 0.0, "delta": 0.0, "gamma": 0.0})
    opts[1].update({"delta": None, "gamma": None, "last_trade_time": None})
    opts[2].update({"iv": 0.0, "gamma": 0.0123})  # same-day quirk: gamma kept even with IV 0
    c = cboe.parse(json.dumps(obj)).contracts.set_index("symbol")
    s0, s1, s2 = (o["option"] for o in opts[:3])
    # IV 0 is "not computed" (NaN); greeks of 0 stay 0 (the source said 0)
    assert np.isnan(c.loc[s0, "iv"]) and c.loc[s0, "gamma"] == 0.0 and c.loc[s0, "delta"] == 0.0
    assert not c.loc[s0, "unreadable"]
    # null greeks: missing, and marked (a present-but-null gamma is not a source leaving it out)
    assert (
        np.isnan(c.loc[s1, "gamma"])
        and np.isnan(c.loc[s1, "delta"])
        and c.loc[s1, "iv"] == opts[1]["iv"]
    )
    assert c.loc[s1, "unreadable"]
    assert np.isnan(c.loc[s2, "iv"]) and c.loc[s2, "gamma"] == 0.0123
    # a source that leaves the keys out (the missing-greeks habit): missing, not marked
    for o in opts[3:6]:
        del o["gamma"], o["delta"]
    c = cboe.parse(json.dumps(obj)).contracts.set_index("symbol")
    assert (
        c.loc[opts[3]["option"], ["gamma", "delta"]].isna().all()
        and not c.loc[opts[3]["option"], "unreadable"]
    )


def test_bad_rows_are_skipped_and_counted(mstr_bytes: bytes) -> None:
    obj = json.loads(mstr_bytes)
    opts = obj["data"]["options"]
    opts[3]["open_interest"] = "-"  # unreadable: skipped, weight unknown
    opts[4]["option"] = "NOT-A-SYMBOL"
    opts[5]["gamma"] = "n/a"  # unreadable greek: kept, marked for the engine
    opts.append({"bid": 1.0})  # no option symbol
    opts.append(dict(opts[0]))  # exact duplicate: dropped as a repair
    chain = cboe.parse(json.dumps(obj))
    assert len(chain.contracts) == 48 - 2
    assert len(chain.skipped) == 3
    assert set(chain.skipped["field"]) == {"open_interest", "option"}
    assert sorted(chain.skipped["row"]) == [3, 4, 48]
    c = chain.contracts.set_index("symbol")
    assert np.isnan(c.loc[opts[5]["option"], "gamma"]) and c.loc[opts[5]["option"], "unreadable"]
    q = chain.quality
    assert q.total_rows == 50 - 1 and q.skipped_rows == 3 and q.unweighed_skipped_rows == 2
    assert q.repairs == {
        "gamma: not a number (e.g. 'n/a'), taken as missing": 1,
        "exact duplicate option row dropped": 1,
    }
    # a conflicting duplicate and a negative open interest are errors naming what is wrong
    obj2 = json.loads(mstr_bytes)
    obj2["data"]["options"].append(dict(obj2["data"]["options"][0], open_interest=1.0))
    with pytest.raises(
        InputError,
        match=r"conflicting duplicate option symbol MSTR260717C00095000 \(data\.options\[0\] and data\.options\[48\]\): open_interest",
    ):
        cboe.parse(json.dumps(obj2), symbol="MSTR")
    # a copy whose greeks the source sent as null: the message names those fields only, not
    # the parser's own flag of an unreadable cell
    obj4 = json.loads(mstr_bytes)
    first = obj4["data"]["options"][0]
    obj4["data"]["options"].append(dict(first, iv=None, gamma=None))
    with pytest.raises(InputError) as err:
        cboe.parse(json.dumps(obj4), symbol="MSTR")
    assert str(err.value).endswith(f"iv {first['iv']!r} vs nan, gamma {first['gamma']!r} vs nan")
    obj3 = json.loads(mstr_bytes)
    obj3["data"]["options"][7]["open_interest"] = -5.0
    with pytest.raises(InputError, match=r"open_interest: 1 value\(s\) outside .* -5 \(row 7\)"):
        cboe.parse(json.dumps(obj3), symbol="MSTR")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o.pop("data"), "data"),
        (lambda o: o["data"].pop("options"), "data.options"),
        (lambda o: o["data"].pop("current_price"), "data.current_price"),
        (lambda o: o["data"].update(current_price=None), "data.current_price"),
        (lambda o: o["data"].update(current_price="n/a"), "data.current_price"),
        (lambda o: o["data"].update(current_price=-1), "data.current_price"),
        (lambda o: o["data"].update(options=[]), "data.options"),
        (lambda o: o["data"].update(options={"a": 1}), "data.options"),
        (lambda o: o.update(timestamp="10/07/2026 9pm"), "timestamp"),
        (lambda o: o.pop("timestamp"), "timestamp"),
    ],
)
def test_structural_errors_name_symbol_and_field(mstr_bytes: bytes, mutate, field: str) -> None:
    obj = json.loads(mstr_bytes)
    mutate(obj)
    with pytest.raises(InputError) as err:
        cboe.parse(json.dumps(obj), symbol="MSTR")
    assert err.value.field == field
    assert "MSTR" in str(err.value)


def test_malformed_json_is_a_clear_error(mstr_bytes: bytes) -> None:
    with pytest.raises(InputError, match=r"cboe:MSTR: malformed JSON"):
        cboe.parse(mstr_bytes[:500], symbol="MSTR")
    with pytest.raises(InputError, match="expected a JSON object"):
        cboe.parse(b"[1, 2]", symbol="MSTR")


# -- fetch against the local HTTP server --------------------------------------------------


def test_fetch_serves_the_real_body_and_sends_the_user_agent(
    http_server, client, mstr_bytes: bytes
) -> None:
    http_server.route(
        "/api/options/MSTR.json", Reply(200, mstr_bytes, {"Content-Type": "application/json"})
    )
    q = cboe.build_query("MSTR", base_url=f"{http_server.url}/api/options")
    body = cboe.fetch(q, client)
    assert body == mstr_bytes
    chain = cboe.parse(body, symbol=q.symbol)
    assert len(chain.contracts) == 48
    reqs = http_server.requests_to("/api/options/MSTR.json")
    assert len(reqs) == 1
    assert reqs[0].headers["user-agent"] == "flowdesk-test/1.0 (+tests)"
    assert reqs[0].method == "GET"


def test_index_symbol_goes_to_the_underscore_path(http_server, client, mstr_bytes: bytes) -> None:
    http_server.route("/o/_SPX.json", Reply(200, mstr_bytes))
    cboe.fetch(cboe.build_query("SPX", base_url=f"{http_server.url}/o"), client)
    assert len(http_server.requests_to("/o/_SPX.json")) == 1
    assert http_server.requests_to("/o/SPX.json") == []


def test_429_with_retry_after_then_200(http_server, client, mstr_bytes: bytes) -> None:
    http_server.route(
        "/o/MSTR.json", [Reply(429, "slow down", {"Retry-After": "0"}), Reply(200, mstr_bytes)]
    )
    body = cboe.fetch(cboe.build_query("MSTR", base_url=f"{http_server.url}/o"), client)
    assert len(cboe.parse(body).contracts) == 48
    assert len(http_server.requests_to("/o/MSTR.json")) == 2
    assert client.slept[0] == 0.0  # Retry-After: 0 honoured instead of the backoff


def test_500_then_200(http_server, client, mstr_bytes: bytes) -> None:
    http_server.route("/o/MSTR.json", [Reply(500, "oops"), Reply(200, mstr_bytes)])
    body = cboe.fetch(cboe.build_query("MSTR", base_url=f"{http_server.url}/o"), client)
    assert body == mstr_bytes
    assert len(http_server.requests_to("/o/MSTR.json")) == 2


def test_persistent_500_is_a_source_error(http_server, client) -> None:
    http_server.route("/o/MSTR.json", Reply(500, "down"))
    with pytest.raises(SourceError) as err:
        cboe.fetch(cboe.build_query("MSTR", base_url=f"{http_server.url}/o"), client)
    assert err.value.status == 500
    assert "MSTR" in str(err.value) and "gave up after 4 attempts" in str(err.value)
    assert len(http_server.requests_to("/o/MSTR.json")) == 4


def test_404_is_unknown_symbol(http_server, client) -> None:
    http_server.route("/o/ZZZZ.json", Reply(404, "<html>Not Found</html>"))
    with pytest.raises(SourceError) as err:
        cboe.fetch(cboe.build_query("ZZZZ", base_url=f"{http_server.url}/o"), client)
    assert err.value.status == 404
    assert "unknown symbol 'ZZZZ'" in str(err.value)
    assert len(http_server.requests_to("/o/ZZZZ.json")) == 1  # 404 is not retried


def test_malformed_body_from_the_server_is_a_clear_parse_error(http_server, client) -> None:
    http_server.route(
        "/o/MSTR.json",
        Reply(
            200,
            b'{"timestamp": "2026-07-10 21:12:30", "data": {"options": [',
            {"Content-Type": "application/json"},
        ),
    )
    body = cboe.fetch(cboe.build_query("MSTR", base_url=f"{http_server.url}/o"), client)
    with pytest.raises(InputError, match="malformed JSON"):
        cboe.parse(body, symbol="MSTR")


def _same(a: object, b: object) -> bool:
    """Equal values of equal types all the way down (NaN equal to NaN, -0.0 not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return bool(a == b)


def _outcome(payload: object) -> tuple[str, object]:
    """What a parse ends with, comparable with ``==`` (the frames as JSON: NaN reads null)."""
    try:
        chain = cboe.parse(payload, "options.json")
    except (InputError, SourceError) as exc:
        return "error", str(exc)
    return "chain", (
        chain.contracts.to_json(orient="split", date_format="iso", double_precision=15),
        str(chain.contracts.dtypes.to_dict()),
        chain.skipped.to_json(orient="split"),
        json.dumps(chain.quality.to_dict() if chain.quality is not None else None),
        chain.spot,
        str(chain.as_of),
    )


def _outcomes(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    """The parse of ``raw`` as shipped (orjson first) and with ``json.loads`` alone."""
    mine = _outcome(raw)
    with monkeypatch.context() as m:
        m.setattr(cboe, "_loads", json.loads)
        theirs = _outcome(raw)
    return mine, theirs


def test_orjson_reads_what_json_reads_and_the_parser_ends_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The response is read by orjson, else by ``json.loads`` (cboe._loads): on the real response,
    every mutation of the gamma corpus and the case files, the decoded object is json's, type
    for type, where orjson reads it, and the parse ends as it does with ``json.loads`` alone."""
    import orjson

    from tests.corpus.test_corpus_gamma import case_file_cases, json_cases

    cases = [c for c in json_cases() + case_file_cases() if c.suffix == ".json"]
    read = 0
    for case in cases:
        raw = case.content
        mine, theirs = _outcomes(raw, monkeypatch)
        assert mine == theirs, case.name
        try:
            decoded = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue  # json.loads reads it (or raises the parser's message), as before
        read += 1
        assert _same(decoded, json.loads(raw)), case.name
    assert read >= 50, read  # (53 of the 72: the rest hold NaN, a BOM, deep nesting...)


@pytest.mark.parametrize(
    "text",
    [b"[18446744073709551616]", b"[-9223372036854775809]", b"[1e400]", b"[NaN]", b"[-Infinity]"],
)
def test_where_orjson_and_json_differ_the_parser_sees_the_same_number(text: bytes) -> None:
    """An integer outside 64 bits (orjson: a float) becomes the same float64 in the parser;
    what orjson refuses (an overflow, NaN, Infinity) is read by json.loads as before."""
    [theirs] = json.loads(text)
    [mine] = cboe._loads(text)
    assert np.float64(mine) == np.float64(theirs) or (np.isnan(mine) and np.isnan(theirs))


def test_a_mutated_real_response_with_a_huge_integer_parses_as_with_json(
    mstr_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    obj = json.loads(mstr_bytes)
    obj["data"]["options"][3]["open_interest"] = 123456789012345678901234
    obj["data"]["options"][5]["volume"] = 2**70
    mine, theirs = _outcomes(json.dumps(obj).encode(), monkeypatch)
    assert mine == theirs
