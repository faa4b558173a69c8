"""Sample mode for the systematic engines: index closes, the VIX and VX settlements, generated
offline in the real file layouts and parsed back by the real parsers.

Everything here is generated, deterministic for ``(symbol, end, sessions, seed)``, and labelled
SAMPLE in its source name (``SAMPLE cboe SPX (seed 20240105)``); nothing is market data.

The model (one path per seed, shared by the index, the VIX and the VX curve)
-----------------------------------------------------------------------------
* Sessions: the exchange calendar's (:mod:`flows.calendars`), ``sessions`` of them up to ``end``.
* Log-volatility ``h_t = 0.985 * h_(t-1) + eta_t`` (AR(1) via :func:`scipy.signal.lfilter`, sd of
  ``eta`` 0.08), daily volatility ``sigma_t = base * exp(h_(t-1) - var(h)/2)``; log return
  ``r_t = mu + sigma_t * eps_t`` with ``corr(eps, eta) = -0.6`` (volatility rises when prices
  fall).  Base daily volatility 1.0 % (SPX) / 1.3 % (NDX); the path is scaled so the last close
  equals the sample option chain's spot (:data:`flows.sources.sample_options.PROFILES`).
* Open, high and low around the closes; volume log-normal around 3.5bn shares (SPX).
* VIX ``= 100 * sqrt(252) * sqrt(sigma_(t+1)**2 + 0.004**2) * 1.15 * exp(noise)`` (a volatility risk
  premium of 15 %, a floor near 11), two decimals.
* VX settlements: for a contract with ``tau`` years to its final settlement
  ``F = theta + (VIX - theta) * exp(-kappa * tau) + premium * (1 - exp(-tau / 0.25))`` with
  ``theta = 19``, ``kappa = 4`` a year, ``premium = 1.5`` points (contango in calm markets,
  backwardation after spikes), rounded to 0.025 points; the final settlement is the VIX of that
  day (two decimals).  Each contract is listed ~9 months before it settles; volume and open
  interest are largest in the first two months.

VX prices of trade dates before 2007-03-26 are written on CFE's old 10 x VIX scale, as in the real
files.  Layouts written: Cboe daily prices (``DATE,OPEN,HIGH,LOW,CLOSE``, MM/DD/YYYY as on the CDN),
FRED ``fredgraph.csv`` (every weekday, holidays empty), Yahoo OHLCV (ISO dates), and the CFE
per-contract settlement CSV in its three variants (``clean``, ``indexed``, ``disclaimer``).
Pure: a seeded generator is the "source"; no I/O.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from flows import calendars
from flows.quality import Quality
from flows.sources import cboe_prices, cboe_vx, fred, yahoo_csv

SOURCE = "SAMPLE"
DEFAULT_SESSIONS = 30 * 252
"""Thirty years of sessions (the benchmarks' size)."""
PROFILES: Mapping[str, tuple[float, float, float]] = {
    # symbol: (base daily vol, drift per session, volume scale)
    "SPX": (0.010, 0.0003, 3.5e9),
    "NDX": (0.013, 0.0004, 1.2e9),
    "RUT": (0.013, 0.0002, 1.0e9),
    "DJI": (0.0095, 0.0003, 4.0e8),
}
DEFAULT_SPOT = {"SPX": 6000.0, "NDX": 21000.0, "RUT": 2300.0, "DJI": 44000.0}
CFE_DISCLAIMER = (
    "CFE data is compiled for the convenience of site visitors and is furnished without responsibility for accuracy "
    "and is accepted by the site visitor on the condition that transmission or omissions shall not be made the basis "
    "for any claim demand or cause for action. The information and data was obtained from sources believed to be "
    "reliable but accuracy is not guaranteed. Your use of CFE data is subject to the Terms and Conditions of CBOE's Websites."
)
THETA, KAPPA, PREMIUM = 19.0, 4.0, 1.5
VIX_FLOOR_DAILY = 0.004
"""Daily volatility added in quadrature to the VIX (keeps the sample VIX above ~11, as the
real one rarely trades below 10)."""
LISTED_DAYS = 270
"""Calendar days a sample VX contract trades before its final settlement."""


def _rng(seed: int, salt: str) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(salt.encode())])


def _sessions(end: pd.Timestamp | str, sessions: int) -> pd.DatetimeIndex:
    last = calendars.session_on_or_before([end])[0]
    all_sessions = calendars.exchange_calendar().sessions
    stop = int(all_sessions.searchsorted(last, side="right"))
    start = max(0, stop - sessions)
    return pd.DatetimeIndex(all_sessions[start:stop].to_numpy())


def _spot(symbol: str) -> float:
    try:
        from flows.sources.sample_options import PROFILES as OPTION_PROFILES

        return float(OPTION_PROFILES[symbol].spot)
    except (ImportError, KeyError):
        return DEFAULT_SPOT.get(symbol, 1000.0)


def simulate(
    symbol: str = "SPX", *, end: pd.Timestamp | str, seed: int, sessions: int = DEFAULT_SESSIONS
) -> pd.DataFrame:
    """The SAMPLE path: ``date``, ``close``, ``open``, ``high``, ``low``, ``volume`` (the index)
    plus ``sigma_daily`` (the model's daily volatility, fraction) and ``vix`` (points)."""
    base, mu, vol_scale = PROFILES.get(symbol, PROFILES["SPX"])
    dates = _sessions(end, sessions)
    n = len(dates)
    rng = _rng(seed, f"path:{symbol}")
    phi, eta_sd, rho = 0.985, 0.08, -0.6
    eta = rng.normal(0.0, eta_sd, n)
    h = lfilter([1.0], [1.0, -phi], eta)
    var_h = eta_sd**2 / (1.0 - phi**2)
    # volatility of session t is set by h_(t-1): known in advance, so E[sigma_t * eps_t] = 0
    # (no spurious drift) while eps_t still moves h_t against the price (leverage effect)
    sigma = base * np.exp(np.concatenate([[0.0], h[:-1]]) - var_h / 2.0)
    eps = rho * eta / eta_sd + np.sqrt(1.0 - rho**2) * rng.normal(0.0, 1.0, n)
    r = mu + sigma * eps
    r[0] = 0.0
    log_p = np.cumsum(r)
    close = _spot(symbol) * np.exp(log_p - log_p[-1])
    gap = rng.normal(0.0, 0.25, n) * sigma
    open_ = np.concatenate([[close[0]], close[:-1]]) * np.exp(gap)
    hi = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.4, n)) * sigma)
    lo = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.4, n)) * sigma)
    volume = np.round(vol_scale * np.exp(rng.normal(0.0, 0.25, n)) * (sigma / base) ** 0.5, -4)
    sigma_next = base * np.exp(
        h - var_h / 2.0
    )  # what the close of t implies for t+1: the VIX's horizon
    vix = np.round(
        100.0
        * np.sqrt(252.0)
        * np.sqrt(sigma_next**2 + VIX_FLOOR_DAILY**2)
        * 1.15
        * np.exp(rng.normal(0.0, 0.04, n)),
        2,
    )
    return pd.DataFrame(
        {
            "date": dates,
            "close": np.round(close, 2),
            "open": np.round(open_, 2),
            "high": np.round(hi, 2),
            "low": np.round(lo, 2),
            "volume": volume,
            "sigma_daily": sigma,
            "vix": vix,
        }
    )


# -- writers in the real layouts -----------------------------------------------------------------
def cboe_file(path: pd.DataFrame, column: str = "close") -> bytes:
    """Cboe daily price CSV (``DATE,OPEN,HIGH,LOW,CLOSE``, MM/DD/YYYY) of ``path[column]``
    (``close`` for the index; ``vix`` writes the VIX, OPEN/HIGH/LOW around it)."""
    c = path[column].to_numpy()
    if column == "close":
        o, h, lo = path["open"].to_numpy(), path["high"].to_numpy(), path["low"].to_numpy()
    else:
        o = np.concatenate([[c[0]], c[:-1]])
        h, lo = np.maximum(o, c) * 1.03, np.minimum(o, c) * 0.97
    dates = pd.DatetimeIndex(path["date"]).strftime("%m/%d/%Y")
    lines = ["DATE,OPEN,HIGH,LOW,CLOSE"] + [
        f"{d},{a:.6f},{b:.6f},{e:.6f},{f:.6f}"
        for d, a, b, e, f in zip(dates, o, h, lo, c, strict=True)
    ]
    return ("\n".join(lines) + "\n").encode()


def fred_file(path: pd.DataFrame, series: str = "SP500") -> bytes:
    """FRED ``fredgraph.csv``: every weekday from the first to the last date, empty on holidays."""
    days = pd.bdate_range(path["date"].iloc[0], path["date"].iloc[-1])
    closes = pd.Series(path["close"].to_numpy(), index=pd.DatetimeIndex(path["date"])).reindex(days)
    text = [f"observation_date,{series}"] + [
        f"{d:%Y-%m-%d},{'' if np.isnan(v) else f'{v:.2f}'}"
        for d, v in zip(days, closes.to_numpy(), strict=True)
    ]
    return ("\n".join(text) + "\n").encode()


def yahoo_file(path: pd.DataFrame) -> bytes:
    """Yahoo-style ``Date,Open,High,Low,Close,Adj Close,Volume`` (ISO dates)."""
    buf = io.StringIO()
    out = pd.DataFrame(
        {
            "Date": pd.DatetimeIndex(path["date"]).strftime("%Y-%m-%d"),
            "Open": path["open"],
            "High": path["high"],
            "Low": path["low"],
            "Close": path["close"],
            "Adj Close": path["close"],
            "Volume": path["volume"].astype(np.int64),
        }
    )
    out.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode()


def _label(layout: str, symbol: str, seed: int) -> str:
    return f"{SOURCE} {layout} {symbol} (seed {seed})"


def sample_prices(
    symbol: str = "SPX",
    *,
    end: pd.Timestamp | str,
    seed: int,
    sessions: int = DEFAULT_SESSIONS,
    layout: str = "cboe",
) -> tuple[pd.DataFrame, Quality]:
    """SAMPLE closes of ``symbol`` written in ``layout`` (``cboe``, ``fred``, ``yahoo``) and parsed
    back by that layout's real parser; ``symbol="VIX"`` gives the sample VIX (Cboe layout)."""
    if symbol == "VIX":
        raw = cboe_file(simulate("SPX", end=end, seed=seed, sessions=sessions), "vix")
        return cboe_prices.parse(raw, _label("cboe", "VIX", seed), "VIX")
    path = simulate(symbol, end=end, seed=seed, sessions=sessions)
    label = _label(layout, symbol, seed)
    if layout == "cboe":
        return cboe_prices.parse(cboe_file(path), label, symbol)
    if layout == "fred":
        return fred.parse(
            fred_file(
                path, {"SPX": "SP500", "NDX": "NASDAQ100", "DJI": "DJIA"}.get(symbol, symbol)
            ),
            label,
            symbol,
        )
    if layout == "yahoo":
        return yahoo_csv.parse(yahoo_file(path), label, symbol)
    raise ValueError(f"unknown sample layout {layout!r} (cboe, fred, yahoo)")


# -- VIX futures --------------------------------------------------------------------------------
def vx_curve(path: pd.DataFrame, *, seed: int, months_ahead: int = 9) -> pd.DataFrame:
    """SAMPLE VX settlements for every contract trading on the path's dates (long frame:
    ``date``, ``year``, ``month``, ``expiry``, ``settle``, ``volume``, ``open_interest``,
    ``open``, ``high``, ``low``, ``close``).  Vectorised over dates x contracts."""
    dates = pd.DatetimeIndex(path["date"])
    months = pd.period_range(
        pd.Period(dates[0], "M"), pd.Period(dates[-1], "M") + months_ahead, freq="M"
    )
    y, m = months.year.to_numpy(), months.month.to_numpy()
    expiry = calendars.vx_final_settlement(y, m)
    d = dates.to_numpy()[:, None]
    e = expiry.to_numpy()[None, :]
    listed = (d >= e - np.timedelta64(LISTED_DAYS, "D")) & (d <= e)
    tau = (e - d).astype("timedelta64[D]").astype(float) / 365.0
    vix = path["vix"].to_numpy()[:, None]
    fut = THETA + (vix - THETA) * np.exp(-KAPPA * tau) + PREMIUM * (1.0 - np.exp(-tau / 0.25))
    settle = np.where(tau <= 0, np.round(vix, 2), np.round(fut / 0.025) * 0.025)
    rank = np.cumsum(listed & (tau > 0), axis=1)  # 1 = front month on that date
    rng = _rng(seed, "vx")
    size = np.where(
        rank == 1, 180_000, np.where(rank == 2, 120_000, 40_000 / np.maximum(rank - 1, 1))
    )
    volume = np.round(size * np.exp(rng.normal(0.0, 0.3, size.shape)))
    oi = np.round(volume * 1.6)
    i, j = np.nonzero(listed)
    s = settle[i, j]
    spread = np.maximum(0.05, 0.02 * s)
    return pd.DataFrame(
        {
            "date": dates[i],
            "year": y[j],
            "month": m[j],
            "expiry": expiry[j],
            "settle": s,
            "open": np.round((s - spread / 2) / 0.05) * 0.05,
            "high": np.round((s + spread) / 0.05) * 0.05,
            "low": np.round((s - spread) / 0.05) * 0.05,
            "close": np.round(s / 0.05) * 0.05,
            "volume": volume[i, j],
            "open_interest": oi[i, j],
        }
    )


MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def vx_files(curve: pd.DataFrame, layout: str = "clean") -> dict[str, bytes]:
    """One CFE settlement CSV per contract: ``{"VX_2018-02-14.csv": bytes, ...}`` (the live
    name); ``layout`` ``clean`` (ISO dates, ``G (Feb 2018)``), ``indexed`` (plus a leading index
    column) or ``disclaimer`` (disclaimer line, US dates, ``G (Feb 18)``, CRLF)."""
    out: dict[str, bytes] = {}
    header = "Trade Date,Futures,Open,High,Low,Close,Settle,Change,Total Volume,EFP,Open Interest"
    for (yr, mo), part in curve.groupby(["year", "month"], sort=True):
        code = calendars.VX_MONTH_CODES[int(mo) - 1]
        # before 2007-03-26 CFE quoted VX on 10 x VIX (the parser divides by 10 again)
        scale = np.where(
            pd.DatetimeIndex(part["date"]) < cboe_vx.RESCALE_DATE, cboe_vx.RESCALE_FACTOR, 1.0
        )
        part = part.assign(
            **{c: part[c] * scale for c in ("open", "high", "low", "close", "settle")}
        )
        change = np.diff(np.concatenate([[0.0], part["settle"].to_numpy()]))
        if layout == "disclaimer":
            fut = f"{code} ({MONTH_NAMES[int(mo) - 1]} {int(yr) % 100:02d})"
            dates = pd.DatetimeIndex(part["date"]).strftime("%m/%d/%Y")
        else:
            fut = f"{code} ({MONTH_NAMES[int(mo) - 1]} {int(yr)})"
            dates = pd.DatetimeIndex(part["date"]).strftime("%Y-%m-%d")
        rows = [
            f"{d},{fut},{o:.2f},{h:.2f},{lo:.2f},{c:.2f},{s:.3f},{ch:.3f},{int(v)},0,{int(oi)}"
            for d, o, h, lo, c, s, ch, v, oi in zip(
                dates,
                part["open"],
                part["high"],
                part["low"],
                part["close"],
                part["settle"],
                change,
                part["volume"],
                part["open_interest"],
                strict=True,
            )
        ]
        if layout == "indexed":
            lines = ["," + header] + [f"{k},{r}" for k, r in enumerate(rows)]
            text = "\n".join(lines) + "\n"
        elif layout == "disclaimer":
            text = "\r\n".join([CFE_DISCLAIMER, header, *rows]) + "\r\n"
        elif layout == "clean":
            text = "\n".join([header, *rows]) + "\n"
        else:
            raise ValueError(f"unknown VX layout {layout!r} (clean, indexed, disclaimer)")
        expiry = pd.Timestamp(part["expiry"].iloc[0]).date().isoformat()
        out[f"VX_{expiry}.csv"] = text.encode()
    return out


def sample_vx(
    *, end: pd.Timestamp | str, seed: int, sessions: int = DEFAULT_SESSIONS, layout: str = "clean"
) -> tuple[pd.DataFrame, Quality]:
    """SAMPLE VX settlements (``flows.schema.VX_COLUMNS``): written per contract in ``layout``
    and parsed back with :func:`flows.sources.cboe_vx.parse` / :func:`~flows.sources.cboe_vx.combine`."""
    files = vx_files(
        vx_curve(simulate("SPX", end=end, seed=seed, sessions=sessions), seed=seed), layout
    )
    parts = [cboe_vx.parse(raw, f"{SOURCE} {name} (seed {seed})") for name, raw in files.items()]
    return cboe_vx.combine(parts)


def sample_etp_assets(
    universe: pd.DataFrame, seed: int, *, day: pd.Timestamp | str
) -> pd.DataFrame:
    """SAMPLE prior-close assets of the VIX ETPs alive on ``day``: the universe's
    ``sample_aum_usd`` times a log-normal factor (sd 15 %).  ``ticker``, ``aum_usd``, ``as_of``."""
    d = pd.Timestamp(day)
    live = universe[
        (universe["valid_from"] <= d)
        & (universe["valid_to"].isna() | (universe["valid_to"] >= d))
        & universe["sample_aum_usd"].notna()
    ].drop_duplicates("ticker")
    factor = np.exp(_rng(seed, f"etp:{d.date()}").normal(0.0, 0.15, len(live)))
    return pd.DataFrame(
        {
            "ticker": live["ticker"].to_numpy(),
            "aum_usd": live["sample_aum_usd"].to_numpy() * factor,
            "as_of": f"{d.date()} (SAMPLE)",
        }
    )
