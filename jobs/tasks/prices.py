"""Task ``prices``: daily index closes into the store (``prices.<SYMBOL>``), after the US close.

Wiring only.  For each symbol of ``[prices].symbols``:

* **sample** mode: :func:`flows.sources.sample_prices.sample_prices` (generated in Cboe's daily
  price layout and parsed back by the real parser; deterministic by ``service.sample_seed``,
  ``[prices].sample_sessions`` sessions up to the last completed session; labelled SAMPLE);
* **live**: the symbol's source of ``[prices].sources`` (``cboe`` by default: Cboe's daily
  price CSV; ``fred``: the FRED series of ``[prices].fred_series``; ``file``: the file of
  ``[prices].drop_files`` in ``service.drop_dir``, any supported layout).  The fetched history
  is merged into the stored one (a date in the fetch replaces the stored row), so a source that
  serves only recent sessions still leaves the whole history in the store.

The parsed history is kept in the store so the engines (:mod:`jobs.tasks.systematic`,
:mod:`jobs.tasks.futures_positioning`) never re-parse a file: they read ``prices.<SYMBOL>``.
Input quality (:class:`flows.quality.Quality`, basis rows) is enforced per symbol with
``[quality]`` family ``prices`` before that symbol is published; a symbol that fails is listed
in the outcome's failures (the job then partly fails) and its last good result stays.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from flows import calendars
from flows.errors import FlowdeskError, InputError
from flows.quality import Quality, enforce
from flows.schema import PRICE_COLUMNS
from jobs.store import ResultNotFound
from jobs.tasks import TaskContext, TaskOutcome, task

QUALITY_FAMILY = "prices"
COLUMNS = list(PRICE_COLUMNS)


def result_name(symbol: str) -> str:
    return f"prices.{symbol.upper()}"


def last_closed_session(now: pd.Timestamp, calendar: str) -> pd.Timestamp:
    """The last session whose close is not after ``now`` (tz-naive date)."""
    day = pd.Timestamp(now.date())
    s = calendars.session_on_or_before([day], calendar)[0]
    close = calendars.session_closes([s], calendar)[0]
    if close > pd.Timestamp(now).tz_convert("UTC"):
        s = calendars.session_on_or_before([s - pd.Timedelta(days=1)], calendar)[0]
    return pd.Timestamp(s)


def close_instant(day: pd.Timestamp, tz: str, calendar: str) -> pd.Timestamp:
    """The close of session ``day`` in the desk's time zone (midnight when not a session)."""
    c = calendars.session_closes([pd.Timestamp(day)], calendar)[0]
    return pd.Timestamp(day).tz_localize(tz) if pd.isna(c) else c.tz_convert(tz)


def read_history(store: Any, symbol: str) -> pd.DataFrame | None:
    """The stored history of ``prices.<SYMBOL>`` (:data:`flows.schema.PRICE_COLUMNS`, attrs
    ``source``), or None when nothing is stored."""
    try:
        res = store.read(result_name(symbol))
    except ResultNotFound:
        return None
    frame = res.table("history")
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame.attrs["source"] = f"{result_name(symbol)} ({res.meta.source})"
    frame.attrs["as_of"] = res.meta.as_of
    frame.attrs["sample"] = res.meta.sample
    return frame


def merge_history(old: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
    """Union by date; a date in ``new`` replaces the stored row (a revised close)."""
    new = new[COLUMNS]
    if old is None or old.empty:
        return new.reset_index(drop=True)
    out = pd.concat([old[COLUMNS], new], ignore_index=True).drop_duplicates("date", keep="last")
    return out.sort_values("date", kind="stable").reset_index(drop=True)


def _fetch_live(ctx: TaskContext, symbol: str, client: Any) -> tuple[pd.DataFrame, Quality, str]:
    from flows.sources import cboe_prices, fred, price_files

    cfg = ctx.settings.prices
    kind = cfg.sources.get(symbol, "cboe")
    if kind == "cboe":
        query = cboe_prices.build_query(symbol, url_template=cfg.cboe_url)
        frame, q = cboe_prices.parse(cboe_prices.fetch(query, client), query.url, symbol)
        return frame, q, f"cboe daily prices ({query.url})"
    if kind == "fred":
        series = cfg.fred_series.get(symbol)
        if not series:
            raise InputError(
                f"{ctx.settings.source_path}: prices.fred_series",
                symbol,
                "no FRED series configured for this symbol",
            )
        query = fred.build_query(series, url_template=cfg.fred_url)
        frame, q = fred.parse(fred.fetch(query, client), query.url, symbol)
        return frame, q, f"FRED {series} ({query.url})"
    name = cfg.drop_files.get(symbol)
    if not name:
        raise InputError(
            f"{ctx.settings.source_path}: prices.drop_files",
            symbol,
            "source 'file' needs a file name in [prices].drop_files",
        )
    path = price_files.build_query(f"{ctx.settings.service.drop_dir}/{name}")
    frame, q = price_files.parse(price_files.fetch(path), str(path), symbol)
    return frame, q, f"file {path}"


def refresh_symbol(ctx: TaskContext, symbol: str, client: Any = None) -> pd.DataFrame:
    """Fetch (or generate), merge, check and publish ``prices.<SYMBOL>``; returns the history."""
    s = ctx.settings
    cal = s.scheduler.calendar
    now = pd.Timestamp(ctx.now)
    if s.sample_mode:
        from flows.sources import sample_prices

        end = last_closed_session(now, cal)
        frame, q = sample_prices.sample_prices(
            symbol, end=end, seed=s.service.sample_seed, sessions=s.prices.sample_sessions
        )
        history, source = (
            frame[COLUMNS].reset_index(drop=True),
            f"SAMPLE cboe {symbol} (seed {s.service.sample_seed}, generated)",
        )
    else:
        frame, q, source = _fetch_live(ctx, symbol, client)
        history = merge_history(read_history(ctx.store, symbol), frame)
    enforce(q, s.quality.threshold(QUALITY_FAMILY))
    if history.empty:
        raise InputError(source, "close", f"no close for {symbol}")
    last = pd.Timestamp(history["date"].iloc[-1])
    close = history["close"].to_numpy(dtype=float)
    headline = {
        "close": float(close[-1]),
        "return_1d_pct": float(100.0 * (close[-1] / close[-2] - 1.0)) if len(close) > 1 else None,
        "sessions": len(history),
        "first_date": pd.Timestamp(history["date"].iloc[0]).date().isoformat(),
        "last_date": last.date().isoformat(),
    }
    ctx.store.publish(
        result_name(symbol),
        {"history": history},
        as_of=close_instant(last, s.service.timezone, cal),
        source=source,
        sample=s.sample_mode,
        headline=headline,
        quality=q.to_dict(),
        extra={"symbol": symbol, "convention": "daily closes, index points; one row per session"},
    )
    return history


def _results(settings: Any, _args: dict[str, Any]) -> list[str]:
    return [result_name(sym) for sym in settings.prices.symbols]


@task(
    "prices",
    results=_results,
    description="Daily index closes (Cboe / FRED / file, or SAMPLE) into prices.<SYMBOL>.",
)
def prices(ctx: TaskContext, args: dict[str, Any]) -> TaskOutcome:
    """Refresh every symbol of ``[prices].symbols`` (``args.symbols`` narrows it)."""
    symbols = [str(x).upper() for x in args.get("symbols", ctx.settings.prices.symbols)]
    client = None
    if not ctx.settings.sample_mode:
        from flows.sources.http import HttpClient

        client = HttpClient.from_settings(ctx.settings)
    out = TaskOutcome()
    for sym in symbols:
        ctx.progress(f"prices {sym}")
        try:
            hist = refresh_symbol(ctx, sym, client)
        except FlowdeskError as exc:
            out.failed[result_name(sym)] = str(exc)
            continue
        out.published.append(result_name(sym))
        out.rows += len(hist)
    if not out.published:
        raise InputError(
            "prices",
            None,
            "; ".join(f"{k}: {v}" for k, v in out.failed.items()) or "no symbol configured",
        )
    out.detail = f"{len(out.published)} symbols, {out.rows} sessions"
    return out
