"""Load and validate ``config.toml``, the one file a desk edits.

The file is validated at start-up with pydantic: an unknown key, a wrong type, a bad time zone or
an invalid cron string is refused with the file, the dotted key and the reason, for example::

    config.toml: jobs.demo.cron: invalid cron expression '61 * * * *': ...

Secrets and URLs never live in the committed file.  The environment overrides them:

* ``FLOWDESK_CONFIG``: path of the config file (default ``config.toml`` in the working directory,
  then the copy shipped next to this package's project root).
* ``REDIS_URL``: the Redis server (``redis://``, ``rediss://``, ``unix://``), overriding
  ``service.redis_url``.
* ``FLOWDESK_SOURCE_MODE``: ``sample`` or ``live``, overriding ``service.source_mode``.
* Alert targets name the environment variables that hold their URL and signing secret
  (``url_env``, ``secret_env``); see ``[alerts.targets.*]``.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from flows.errors import ConfigError

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The repository root (where the shipped ``config.toml`` lives in a source checkout)."""


def check_threshold(value: Any) -> float:
    """An alert threshold must be a finite number (not NaN, not infinite, not a string)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("threshold must be a number in the unit of the metric")
    if not math.isfinite(float(value)):
        raise ValueError("threshold must be a finite number (not nan or inf)")
    return float(value)


# -- crontab ------------------------------------------------------------------------------
_CRONTAB_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Crontab day-of-week numbers 0..7 (0 and 7 are Sunday) as names, which APScheduler reads unambiguously."""


def crontab_day_of_week(field: str) -> str:
    """Translate a crontab day-of-week field into APScheduler 3 syntax.

    Crontab numbers days 0-7 with 0 and 7 = Sunday; APScheduler 3 numbers Monday as 0 (its
    ``from_crontab`` does not translate, so ``1-5`` would mean Tuesday to Saturday).  Numeric
    parts (``5``, ``1-5``, ``*/2``, ``0-6/3``, lists of these) are expanded to day names; a field
    of names only (``mon-fri``) or ``*`` is returned unchanged.

    Raises
    ------
    ValueError
        Numbers outside 0-7, a reversed range, or names mixed with numbers.
    """
    if not any(ch.isdigit() for ch in field):
        return field
    days: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if base == "*":
                lo, hi = 0, 6
            elif "-" in base:
                lo_text, hi_text = base.split("-", 1)
                lo, hi = int(lo_text), int(hi_text)
            else:
                lo = int(base)
                hi = 7 if step_text else lo
        except ValueError:
            raise ValueError(
                f"day-of-week field {field!r}: use crontab numbers (0-7, 0 or 7 = Sunday) or names (mon-fri), not both"
            ) from None
        if not (0 <= lo <= 7 and 0 <= hi <= 7) or lo > hi or step < 1:
            raise ValueError(
                f"day-of-week field {field!r}: {part!r} is not a range within 0-7 (0 or 7 = Sunday)"
            )
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(_CRONTAB_DAY_NAMES[d] for d in sorted(days))


def cron_trigger(job: JobSettings, tz: ZoneInfo) -> CronTrigger:
    """The APScheduler trigger of ``job``: its crontab (desk time zone) plus its ``second`` field."""
    fields = job.cron.split()
    if len(fields) != 5:
        raise ValueError(
            f"cron {job.cron!r}: expected 5 fields (minute hour day month day-of-week), got {len(fields)}"
        )
    minute, hour, day, month, dow = fields
    return CronTrigger(
        second=job.second,
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=crontab_day_of_week(dow),
        timezone=tz,
    )


class _Section(BaseModel):
    """Base of every config section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class ServiceSettings(_Section):
    timezone: str = "America/New_York"
    """The desk's time zone: cron triggers, session dates and displayed times use it."""
    source_mode: Literal["sample", "live"] = "sample"
    """``sample`` runs offline on generated data labelled SAMPLE; ``live`` fetches public sources."""
    redis_url: str | None = None
    """Redis URL; ``REDIS_URL`` in the environment overrides it.  Empty: embedded server (``flowdesk run``)."""
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    sample_seed: int = 20240105
    """Seed of the deterministic sample data."""
    drop_dir: str = "var/drop"
    """Folder where desks drop hand-downloaded files (CBOE quote tables, universe CSVs, ...)."""
    redis_dir: str = "var/redis"
    """Data folder of the embedded Redis of ``flowdesk run`` / ``flowdesk redis`` (append-only
    file and snapshots; relative to the working directory).  ``--ephemeral`` ignores it."""
    http_timeout_seconds: float = Field(default=20.0, gt=0)
    http_retries: int = Field(default=4, ge=0, le=10)
    http_min_interval_seconds: float = Field(default=0.5, ge=0)
    """Per-host rate limit: minimum seconds between two requests to the same host."""
    user_agent: str = "flowdesk/0.1 (+https://github.com/flowdesk/flowdesk)"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as 'America/New_York')"
            ) from exc
        return value


class StoreSettings(_Section):
    history_max_count: int = Field(default=500, ge=1)
    """Publishes kept per result (the newest; the current one is always kept)."""
    history_max_age_days: float = Field(default=120.0, gt=0)
    """Publishes older than this are pruned (the current one is always kept)."""
    run_history: int = Field(default=200, ge=1)
    """Job-run records kept per job."""
    history_max_mb: float = Field(default=64.0, gt=0)
    """Bytes kept per result, MB (10^6 bytes: its versions' Arrow tables and metadata): the
    oldest versions are trimmed first when a publish passes it; the current one is never
    trimmed.  Bounds Redis whatever the count and age allow (README: Redis sizing)."""
    full_versions: int = Field(default=3, ge=1)
    """Versions of a result that keep their ``latest``-only tables (per-contract rows, the
    801-point profile, the strike x expiry grid: ``history="latest"`` in its declaration); older
    versions keep the headline and the other tables (by strike, by expiry, ...)."""


class QualitySettings(_Section):
    max_skipped_share: float = Field(default=0.01, ge=0.0, le=1.0)
    """Refuse a result whose input lost more than this share of its basis (open interest,
    AUM, positions) to skipped rows: fraction, 0.01 = 1 % (see :mod:`flows.quality`)."""
    overrides: dict[str, float] = Field(default_factory=dict)
    """Per result family (``gamma``, ``letf``, ``cftc``, ...): its own threshold, fraction."""

    def threshold(self, family: str) -> float:
        """The refusal threshold of ``family`` (its override, else :attr:`max_skipped_share`)."""
        return float(self.overrides.get(family, self.max_skipped_share))


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8050, ge=1, le=65535)
    refresh_seconds: int = Field(default=30, ge=1)
    """How often pages re-read the store (``dcc.Interval``)."""
    require_login: Literal["auto", "always", "never"] = "auto"
    """``auto``: login required whenever the server binds a non-loopback address."""
    login_max_failures_per_client: int = Field(default=10, ge=1)
    """Failed logins one client address may make per window before it is answered 429."""
    login_max_failures_total: int = Field(default=60, ge=1)
    """Failed logins of all clients together per window before every unverified login gets 429
    (bounds the CPU spent on password hashes: about 0.1-0.2 s each)."""
    login_failure_window_seconds: int = Field(default=60, ge=1)
    """Length of the fixed window the failures are counted in, seconds (shared by all web
    workers through Redis)."""
    login_cache_seconds: float = Field(default=60.0, ge=0)
    """A verified credential is remembered (as a keyed hash, never the password) for this many
    seconds per web process, so a page's burst of requests costs one password hash; 0: off."""


class SchedulerSettings(_Section):
    calendar: str = "XNYS"
    """Exchange calendar (exchange-calendars MIC) for ``trading_days_only`` jobs."""
    leader_lease_seconds: int = Field(default=30, ge=5)
    """A scheduler process must renew its leader lease within this many seconds."""
    slot_lock_seconds: int = Field(default=6 * 3600, ge=60)
    """How long a run slot stays claimed (``SET NX EX``): covers the longest job plus clock skew."""
    heartbeat_seconds: int = Field(default=10, ge=1)
    misfire_grace_seconds: int = Field(default=600, ge=1)
    coalesce: bool = True


class JobSettings(_Section):
    task: str
    """Name of the task function (see :mod:`jobs.tasks`; checked by :func:`jobs.validate.check_settings`)."""
    cron: str
    """Five-field crontab in the desk's time zone (minute hour day month day-of-week; day-of-week
    numbers follow crontab: 0 = Sunday, 1-5 = Monday to Friday; names such as ``mon-fri`` work too)."""
    second: str = "0"
    """Seconds field of the trigger (APScheduler cron syntax: ``0``, ``*/5``, ``*``).  Not part of
    the crontab: keep ``0`` for desk jobs; sub-minute values are for demos and tests."""
    enabled: bool = True
    trading_days_only: bool = True
    """Skip the slot when the date is not a session of ``scheduler.calendar`` (holidays, weekends)."""
    retries: int = Field(default=2, ge=0, le=20)
    """Further attempts after a failure, within the same slot."""
    retry_delay_seconds: float = Field(default=30.0, ge=0)
    stale_after_minutes: float = Field(default=60 * 24 * 3, gt=0)
    """A result older than this is shown as stale (amber)."""
    args: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments passed to the task."""

    @field_validator("second")
    @classmethod
    def _valid_second(cls, value: str) -> str:
        try:
            CronTrigger(second=value)
        except ValueError as exc:
            raise ValueError(f"invalid seconds field {value!r}: {exc}") from exc
        return value


class DeliverableSettings(_Section):
    shares: float = Field(gt=0)
    """Shares of the chain's underlying delivered per contract of the adjusted series (20 after a
    1-for-5 reverse split of a 100-share contract)."""
    cash: float = Field(default=0.0, ge=0)
    """Cash delivered per contract, USD, 0 or more (optional; part of a spin-off or merger
    deliverable: the holder receives it, never pays it)."""

    @field_validator("shares", "cash")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError(f"must be a finite number, got {value!r}")
        return value


class GammaSettings(_Section):
    underlyings: list[str] = Field(
        default_factory=lambda: ["SPX", "SPY", "QQQ", "NDX", "IWM", "NVDA", "TSLA"]
    )
    risk_free_rate: float = 0.045
    """Continuously compounded risk-free rate, fraction per year."""
    dividend_yield: dict[str, float] = Field(
        default_factory=lambda: {
            "default": 0.0,
            "SPX": 0.013,
            "SPY": 0.013,
            "NDX": 0.007,
            "QQQ": 0.007,
        }
    )
    """Continuous dividend yield per underlying, fraction per year (``default`` for the rest)."""
    window: float = Field(default=0.20, gt=0, lt=1)
    """Half-width of the gamma profile window, fraction of spot."""
    profile_points: int = Field(default=801, ge=11)
    time_basis: Literal["calendar", "busdays262"] = "calendar"
    conventions: dict[str, Literal["calls_long_puts_short", "short_all", "source_position"]] = (
        Field(default_factory=dict)
    )
    """Dealer sign convention per underlying; absent = ``calls_long_puts_short`` (the public one)."""
    hedge_moves_pct: list[float] = Field(default_factory=lambda: [float(m) for m in range(-10, 11)])
    iv_shock_points: float = 5.0
    """IV shock for the vanna flow, in volatility points (5 = +5 vol points)."""
    cboe_base_url: str = "https://cdn.cboe.com/api/global/delayed_quotes/options"
    """Live mode: CBOE delayed-quotes options endpoint (``{base}/{SYMBOL}.json``; indices ``_SPX``)."""
    use_drop_folder: bool = True
    """Live mode: use the newest ``quotedata*.csv`` for an underlying in ``service.drop_dir``
    when its snapshot is newer than CBOE's (or CBOE cannot be reached)."""
    sample_format: Literal["json", "csv"] = "json"
    """Sample mode: which real format the generated chain is written in (and parsed back from)."""
    consistency_factor: float = Field(default=3.0, gt=1)
    """Warn when the spot net GEX (source gamma) and the model GEX at spot differ by more than
    this factor (or in sign): the source's gamma is then suspect."""
    deliverables: dict[str, DeliverableSettings] = Field(default_factory=dict)
    """Deliverables of adjusted option series by root, e.g. ``SDS1 = { shares = 20 }``: with one,
    the series is modelled (per-share strike, ``shares`` per contract); without, it is excluded
    from every figure and listed as non-standard."""

    @field_validator("deliverables")
    @classmethod
    def _upper_roots(cls, value: dict[str, DeliverableSettings]) -> dict[str, DeliverableSettings]:
        return {str(k).strip().upper(): v for k, v in value.items()}


class LetfSettings(_Section):
    universe_file: str | None = None
    """CSV universe to use instead of the shipped one (layout of the public dataset)."""
    scenario_moves_pct: list[float] = Field(
        default_factory=lambda: [float(m) for m in range(-10, 11)]
    )
    index_proxies: dict[str, str] = Field(
        default_factory=lambda: {
            # index tickers some files give as the underlying -> the ETF a desk hedges with
            "SPX": "SPY",
            "NDX": "QQQ",
            "INDU": "DIA",
            "RTY": "IWM",
            "RUT": "IWM",
            "MID": "MDY",
            "SOX": "SOXX",
            "DJUSSC": "SOXX",
            "SIXT": "XLK",
            "IXM": "XLF",
            "GDM": "GDX",
            # index names (``underlying_asset``) of funds with a blank underlying ticker
            "Nasdaq-100": "QQQ",
            "NASDAQ-100": "QQQ",
            "S&P 500": "SPY",
            "PHLX Semiconductor": "SOXX",
            "NYSE Semiconductor": "SOXX",
            "Russell 2000": "IWM",
            "Dow Jones Industrial Average": "DIA",
            "S&P MidCap 400": "MDY",
            "S&P Mid Cap 400": "MDY",
            "S&P SmallCap 600": "IJR",
            "S&P Technology Select Sector": "XLK",
            "S&P Financial Select Sector": "XLF",
            "S&P Energy Select Sector": "XLE",
            "S&P Health Care Select Sector": "XLV",
            "S&P Real Estate Select Sector": "XLRE",
            "S&P Utilities Select Sector": "XLU",
            "S&P Industrial Select Sector": "XLI",
            "S&P Consumer Discretionary Select Sector": "XLY",
            "S&P Communication Services Select Sector": "XLC",
            "S&P Biotechnology Select Industry": "XBI",
            "S&P Regional Banks Select Industry": "KRE",
            "S&P Retail Select Industry": "XRT",
            "S&P Pharmaceuticals Select Industry": "XPH",
            "S&P Transportation Select Industry FMC Capped": "XTN",
            "DJ US Select / Home Construction": "ITB",
            "DJ US Select / Aerospace & Defense": "ITA",
            "NYSE FANG+": "FNGS",
            "MSCI Korea 25-50": "EWY",
            "FTSE China 50": "FXI",
            "MSCI EM": "EEM",
            "MSCI Brazil 25-50": "EWZ",
            "MSCI Brazil 25/50 Capped": "EWZ",
            "MSCI India": "INDA",
            "MSCI EAFE": "EFA",
            "MSCI Japan": "EWJ",
            "MSCI Mexico IMI 25-50": "EWW",
            "FTSE Developed Europe All Cap": "VGK",
            "China Shenzhen SE / CSI 300": "ASHR",
            "CSI Overseas China Internet": "KWEB",
            # single stocks some files name without a ticker
            "Micron Technology, Inc.": "MU",
            "Micron Technology, Inc. - Benchmark Price Return": "MU",
            "Coinbase Global Inc": "COIN",
            "Microsoft Corporation": "MSFT",
            "Taiwan Semiconductor": "TSM",
            "Berkshire Hathaway Inc.": "BRK.B",
            "MicroStrategy": "MSTR",
            "MicroStrategy Inc": "MSTR",
            "IonQ Inc. (IONQ)": "IONQ",
            "Boeing Company": "BA",
            "Shopify, Inc": "SHOP",
            "CoreWeave, Inc": "CRWV",
            "PDD Holdings Inc": "PDD",
            "NuScale Power Corporation": "SMR",
            "Palo Alto Networks, Inc.": "PANW",
            "Exxon Mobil Corporation": "XOM",
            "MercadoLibre, Inc.": "MELI",
            "Ford Motor Company": "F",
            "Eli Lilly and Co.": "LLY",
            "Cisco Systems, Inc.": "CSCO",
        }
    )
    """Underlying -> hedge proxy ticker (see :func:`flows.letf.map_underlyings`).

    Keys are index *tickers* given as the underlying (``SPX`` -> ``SPY``), matched exactly, or
    index/company *names* (``underlying_asset``) of funds whose ticker is blank, matched ignoring
    case, repeated spaces and a trailing ``Index``.  Unmapped blank underlyings are excluded."""
    aum_drop_file: str = "letf_aum.csv"
    """File in ``service.drop_dir`` with ``ticker, aum_usd[, shares_outstanding]`` overriding AUM."""
    adv_drop_file: str = "letf_adv.csv"
    """File in ``service.drop_dir`` with ``underlying, adv_usd[, auction_usd]`` (USD per day)."""
    quote_url: str = "https://cdn.cboe.com/api/global/delayed_quotes/quotes/{symbol}.json"
    """CBOE delayed quote endpoint (``{symbol}``: ``_SPX`` for indices)."""
    proshares_url: str = "https://accounts.profunds.com/etfdata/ByFund/{ticker}-historical_nav.csv"
    """ProShares NAV history per fund (daily NAV, shares outstanding, net assets)."""
    max_quote_symbols: int = Field(default=60, ge=1)
    """Live mode: quote at most this many underlyings (largest USD per 1% first)."""
    reset_overrides: dict[str, str] = Field(default_factory=dict)
    """Fund ticker -> leverage reset period (``daily``, ``weekly``, ``monthly``, ``quarterly``,
    ``options-based``, ``unknown``), winning over the curated table ``flows/data/letf_reset.csv``
    and the name / family rules (:mod:`flows.letf_reset`).  Only ``daily`` funds enter the daily
    rebalance figures."""

    @field_validator("reset_overrides")
    @classmethod
    def _known_resets(cls, value: dict[str, str]) -> dict[str, str]:
        from flows.letf_reset import RESETS

        out = {}
        for ticker, reset in value.items():
            if reset not in RESETS:
                raise ValueError(
                    f"{ticker}: unknown reset period {reset!r} (use one of {', '.join(RESETS)})"
                )
            out[str(ticker).strip().upper()] = reset
        return out


class CftcSettings(_Section):
    baskets: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "reuters6": ["JPY", "EUR", "GBP", "CHF", "CAD", "AUD"],
            "wide9": ["JPY", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "MXN", "BRL"],
        }
    )
    history_from_year: int = Field(default=2006, ge=1986)
    unwind_years: int = Field(default=3, ge=1)
    headline_basket: str = "wide9"
    """Basket of the headline net USD series (a key of ``baskets``)."""
    unwind_to: Literal["median", "zero"] = "median"
    """Unwind scenario target: the ``unwind_years`` median of net USD, or zero."""
    peak_half_window_weeks: int = Field(default=26, ge=2)
    """A previous cycle peak is the extreme of +/- this many weekly reports around it."""
    release_grace_days: int = Field(default=3, ge=0)
    """A stored report dated up to this many days before the expected Tuesday counts as this
    week's (as-of dates move when a holiday falls on the Tuesday); older means "behind
    schedule" (a warning on the page and in ``flowdesk status``, never a job failure)."""


class VolControlEwmaSettings(_Section):
    """``[volcontrol.ewma]``: the default estimator (sources in :mod:`flows.volcontrol`)."""

    target_vol: float = Field(default=0.10, gt=0, le=1)
    """Target volatility, fraction a year (S&P 500 Daily Risk Control 10 %)."""
    cap: float = Field(default=1.5, gt=0, le=5)
    """Maximum exposure, fraction of AUM (150 %: the S&P Daily Risk Control indices' leverage cap)."""
    lag: int = Field(default=1, ge=0, le=10)
    """Sessions between the volatility reading and the trade."""
    decays: list[float] = Field(default_factory=lambda: [0.94, 0.97])
    """EWMA lambdas whose max volatility is used (RiskMetrics 0.94, S&P long-term 0.97)."""

    @field_validator("decays")
    @classmethod
    def _decays(cls, value: list[float]) -> list[float]:
        if not value or not all(0.0 < d < 1.0 for d in value):
            raise ValueError(f"EWMA decays must be in (0, 1), got {value}")
        return value


class VolControlSmaSettings(_Section):
    """``[volcontrol.sma]``: the simple-volatility variant (max of 20- and 40-session vol)."""

    target_vol: float = Field(default=0.10, gt=0, le=1)
    cap: float = Field(default=1.0, gt=0, le=5)
    lag: int = Field(default=2, ge=0, le=10)
    windows: list[int] = Field(default_factory=lambda: [20, 40])

    @field_validator("windows")
    @classmethod
    def _windows(cls, value: list[int]) -> list[int]:
        if not value or min(value) < 2:
            raise ValueError(f"windows must be >= 2 sessions, got {value}")
        return value


class FlowCalibration(_Section):
    """A published figure the AUM is solved from (see :mod:`flows.calibration`).

    Vol-control: ``published_usd`` bought (+) or sold (-) over sessions ``start`` .. ``end``.
    CTA: ``published_usd`` modelled position (+ = long) on ``end`` (``start`` unused).
    """

    published_usd: float
    start: str | None = None
    end: str
    source: str = ""

    @field_validator("start", "end")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                from datetime import date

                date.fromisoformat(value)
            except ValueError as exc:
                raise ValueError(f"not a date YYYY-MM-DD: {value!r}") from exc
        return value


class PricesSettings(_Section):
    """Daily index closes (task ``prices``, results ``prices.<SYMBOL>``)."""

    symbols: list[str] = Field(default_factory=lambda: ["SPX", "NDX", "RUT", "DJI"])
    """Symbols refreshed after the close (each one result ``prices.<SYMBOL>``); DJI values the
    Dow futures' positions (``[futures_positioning] closes``)."""
    sources: dict[str, Literal["cboe", "fred", "file"]] = Field(
        default_factory=lambda: {"DJI": "fred"}  # Cboe publishes no DJIA history; FRED does
    )
    """Live source per symbol: ``cboe`` (default: Cboe's daily price CSV), ``fred`` (FRED series
    of :attr:`fred_series`) or ``file`` (a file of :attr:`drop_files` in ``service.drop_dir``)."""
    fred_series: dict[str, str] = Field(
        default_factory=lambda: {"SPX": "SP500", "NDX": "NASDAQ100", "DJI": "DJIA"}
    )
    drop_files: dict[str, str] = Field(default_factory=dict)
    """Per symbol, a price file (Cboe, FRED or Yahoo layout) in ``service.drop_dir``."""
    cboe_url: str = "https://cdn.cboe.com/api/global/us_indices/daily_prices/{symbol}_History.csv"
    fred_url: str = "https://fred.stlouisfed.org/graph/fredgraph.csv?id={series}"
    sample_sessions: int = Field(default=2520, ge=300, le=20000)
    """Sessions of SAMPLE history generated (10 years: the CTA's 12-month rule and the 5-year
    positioning windows need them)."""


class SystematicSettings(_Section):
    """Task ``systematic``: which indices the vol-control and CTA engines run on."""

    volcontrol_indices: list[str] = Field(default_factory=lambda: ["SPX"])
    """Indices with a ``volcontrol.<INDEX>`` result; the ``[volcontrol]`` calibration applies to the
    first one, ``[volcontrol].aum_usd`` (or :attr:`volcontrol_aum_usd`) to every other."""
    cta_indices: list[str] = Field(default_factory=lambda: ["SPX", "NDX"])
    """Indices with a ``cta.<INDEX>`` result; the ``[cta]`` calibration applies to the first one."""
    volcontrol_aum_usd: dict[str, float] = Field(default_factory=dict)
    """AUM per index overriding ``[volcontrol].aum_usd`` (USD)."""
    cta_aum_usd: dict[str, float] = Field(default_factory=dict)
    """AUM per index overriding ``[cta].aum_usd`` (USD)."""
    history_sessions: int = Field(default=756, ge=20, le=20000)
    """Sessions of each engine's history published (3 years); the engines see the whole history."""
    vx_months_back: int = Field(default=2, ge=0, le=24)
    """Live: VX contracts fetched each run from this many months back (the stored history keeps the rest)."""
    vx_months_ahead: int = Field(default=8, ge=2, le=12)


class FuturesPositioningSettings(_Section):
    """Task ``futures_positioning``: equity-index, VIX and rates futures from the CFTC TFF report."""

    markets: list[str] = Field(default_factory=list)
    """Market symbols of ``flows/data/tff_markets.csv`` (ES, NQ, RTY, YM, VX, ZT, ZF, ZN, TN, ZB,
    UB, SR3, ES_CONS, ...); empty = every market of the table."""
    markets_file: str | None = None
    """Markets table CSV (default: the shipped ``flows/data/tff_markets.csv``)."""
    windows_weeks: dict[str, int] = Field(default_factory=lambda: {"1y": 52, "3y": 156, "5y": 260})
    """Statistics windows, label -> report weeks (labels like ``3y`` name the headline keys)."""
    min_share: float = Field(default=0.9, gt=0, le=1)
    """Share of a window's weeks that must be present for its statistics."""
    dv01_usd_per_bp: dict[str, float] = Field(default_factory=dict)
    """Contract DV01 overrides, USD per basis point per contract (e.g. ``{ ZN = 64.0 }``)."""
    history_from_year: int = Field(default=2017, ge=2006)
    """Live: first year of TFF history fetched when nothing is stored (annual files)."""
    sample_years: int = Field(default=7, ge=2, le=20)
    """Sample mode: years of generated weekly reports."""
    closes: dict[str, str] = Field(
        default_factory=lambda: {"SPX": "SPX", "NDX": "NDX", "RUT": "RUT", "DJI": "DJI"}
    )
    """Underlying of the markets table -> ``prices.<SYMBOL>`` result giving its closes (a missing
    result leaves the notional missing, stated in the result)."""

    @field_validator("windows_weeks")
    @classmethod
    def _windows(cls, value: dict[str, int]) -> dict[str, int]:
        for label, weeks in value.items():
            if not re.fullmatch(r"[0-9]+y", label) or not (4 <= int(weeks) <= 1040):
                raise ValueError(
                    f"window {label!r} = {weeks!r}: labels are like '3y', weeks 4..1040"
                )
        return value


class VolControlSettings(_Section):
    estimator: Literal["ewma", "sma"] = "ewma"
    ewma: VolControlEwmaSettings = Field(default_factory=VolControlEwmaSettings)
    sma: VolControlSmaSettings = Field(default_factory=VolControlSmaSettings)
    aum_usd: float = Field(default=300e9, gt=0)
    """Vol-control AUM, USD.  Not published: public sell-side estimates range over a few
    hundred USD bn; replace it by a calibration (below) to a note you trust."""
    calibration: FlowCalibration | None = None
    """When set, the AUM is solved from this published flow (if its window is in the data)."""
    scenario_moves_pct: list[float] = Field(default_factory=lambda: [0.5, 1.0, 1.5, 2.0])
    """Alternating-tape scenarios: daily moves, percent."""
    scenario_sessions: int = Field(default=10, ge=1, le=250)
    shock_grid_pct: list[float] = Field(default_factory=lambda: [x / 2 for x in range(-20, 21)])
    """One-day shocks, percent (41 points -10..+10)."""


class CtaSettings(_Section):
    signals: list[str] = Field(default_factory=lambda: ["return:21", "return:63", "return:252"])
    """Trend rules, equal weight: ``return:L`` (sign of the L-session excess return) or
    ``ma:F/S`` (moving-average crossover); default 1-, 3-, 12-month time-series momentum."""
    target_vol: float = Field(default=0.10, gt=0, le=1)
    cap: float = Field(default=2.0, gt=0, le=10)
    vol_com_days: float = Field(default=60.0, gt=0)
    """EWMA centre of mass, sessions (Moskowitz, Ooi and Pedersen 2012)."""
    vol_lag: int = Field(default=1, ge=0, le=10)
    cash_rate: float = Field(default=0.0, ge=-0.05, le=0.25)
    """Cash rate subtracted from the lookback returns, fraction a year."""
    aum_usd: float = Field(default=50e9, gt=0)
    """CTA capital allocated to the index, USD (not published; calibrate to a note's modelled length)."""
    calibration: FlowCalibration | None = None
    tape_sigmas: float = Field(default=2.0, gt=0)
    shock_grid_pct: list[float] = Field(default_factory=lambda: [x / 2 for x in range(-20, 21)])

    @field_validator("signals")
    @classmethod
    def _signals(cls, value: list[str]) -> list[str]:
        from flows.cta import parse_signal
        from flows.errors import InputError

        if not value:
            raise ValueError("at least one signal is needed")
        for spec in value:
            try:
                parse_signal(spec)
            except InputError as exc:
                raise ValueError(exc.reason) from exc
        return value


class VixEtpSettings(_Section):
    universe_file: str | None = None
    """VIX ETP universe with leverage history; default: the shipped curated table."""
    aum_drop_file: str = "vixetp_aum.csv"
    """File in ``service.drop_dir`` with ``ticker, aum_usd[, as_of]`` (prior-close net assets)."""
    proshares_tickers: list[str] = Field(default_factory=lambda: ["UVXY", "SVXY", "VIXY", "VIXM"])
    """Funds whose daily assets come from the ProShares NAV history (``[letf].proshares_url``)."""
    vx_url: str = (
        "https://cdn.cboe.com/data/us/futures/market_statistics/historical_data/VX/VX_{expiry}.csv"
    )
    """Cboe's per-contract VX settlement history (``{expiry}``: final settlement date)."""
    scenario_moves_pct: list[float] = Field(
        default_factory=lambda: [float(x) for x in range(-40, 41, 2)]
    )
    """VX futures moves into the close, percent (41 points -40..+40)."""


class BoardSettings(_Section):
    index: str = "NDX"
    """The index whose move drives the scenario grid."""
    betas: dict[str, float] = Field(
        default_factory=lambda: {
            "NDX": 1.0,
            "QQQ": 1.0,
            "SPX": 0.8,
            "SPY": 0.8,
            "IWM": 0.9,
            "NVDA": 1.6,
            "TSLA": 1.8,
        }
    )
    moves_pct: list[float] = Field(default_factory=lambda: [m / 2 for m in range(-20, 21)])
    """Index moves of the scenario grid, percent (default -10 % .. +10 % in 0.5 % steps)."""
    default_beta: float = 1.0
    """Beta to the index of an underlying missing from ``betas`` (single names with leveraged ETFs)."""
    iv_shocks_pts: list[float] = Field(default_factory=lambda: [0.0, 2.0, 5.0, 10.0])
    """IV shocks of the scenario explorer, volatility points (0 must be included)."""
    hours_to_close: float | None = None
    """Charm horizon in hours; unset = from the refresh time to the next session close of
    ``scheduler.calendar`` (:func:`flows.calendars.next_close`: 13:00 ET on half days)."""
    flag_move_pct: float = -3.0
    """Index move at which the regime flags are evaluated, percent."""
    flip_proximity_pct: float = Field(default=1.0, ge=0)
    """Flag an underlying whose spot is within this many percent of its gamma flip."""
    letf_adv_threshold_pct: float = Field(default=5.0, ge=0)
    """Flag a leveraged-ETF trade above this share of the underlying's ADV, percent."""
    max_input_age_hours: dict[str, float] = Field(
        default_factory=lambda: {"gamma": 36.0, "letf": 36.0, "cftc": 24.0 * 10}
    )
    """Inputs older than this (by family) are stale: flagged and excluded from totals."""
    brief_indices: list[str] = Field(default_factory=lambda: ["SPX", "NDX", "SPY", "QQQ"])
    """Underlyings whose gamma regime and flip distance head the morning brief."""
    brief_documents: bool = True
    """The brief job renders the brief as PDF and PNG (kaleido and Chromium on the job's machine,
    a few seconds) and stores them with the result; False: the brief is published without."""
    adv_usd: dict[str, float] = Field(default_factory=dict)
    """Average daily dollar volume (USD per day) of underlyings that have none of their own in
    the leveraged-ETF volume file, e.g. ``{ SPX = ..., NDX = ... }`` from the dollar volume of
    their index futures (ES, NQ); an underlying without one is listed "no ADV", never dropped."""

    @field_validator("iv_shocks_pts")
    @classmethod
    def _has_zero_shock(cls, value: list[float]) -> list[float]:
        if 0.0 not in value:
            raise ValueError("must include 0 (the no-shock scenario)")
        return value


class UniverseSettings(_Section):
    """``[universe]``: single-name dealer gamma across the listed-options universe (issue 15)."""

    symbols: list[str] = Field(default_factory=list)
    """Live mode: the underlyings to fetch (CBOE per-symbol JSON); with ``symbols_file``, both."""
    symbols_file: str | None = None
    """Live mode: CSV in ``service.drop_dir`` (or a path) with ``symbol`` and optionally ``sector``
    and ``adv_usd`` (average daily dollar volume, USD) columns."""
    sample_size: int = Field(default=5000, ge=1, le=20000)
    """Sample mode: underlyings in the generated universe (chains of tens to tens of thousands of
    contracts, ~1.5 million contracts for 5,000 names)."""
    focus: list[str] = Field(
        default_factory=lambda: ["AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA"]
    )
    """Underlyings whose full per-underlying tables are published every refresh
    (``universe.<SYMBOL>``); the rest get one row of the universe table (and full tables when a
    user opens them)."""
    baskets: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "mag7": ["AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA"],
            "semis": [
                "NVDA",
                "AMD",
                "AVGO",
                "QCOM",
                "INTC",
                "MU",
                "TXN",
                "AMAT",
                "LRCX",
                "KLAC",
                "MRVL",
                "ARM",
                "TSM",
            ],
        }
    )
    """Custom baskets (name: lower-case letters, digits, ``_``): summed on the Single names page
    and in the universe headline (``net_gex_usd_per_1pct_<basket>``)."""
    board_baskets: list[str] = Field(default_factory=list)
    """Baskets the board's dealer component includes (stated as such on the board); empty: none."""
    shard_contracts: int = Field(default=200_000, ge=1000)
    """Target contracts per shard (shards are balanced by size: largest chains first into the
    lightest shard)."""
    shard_retries: int = Field(default=2, ge=0, le=10)
    """Further attempts of a failed or abandoned shard before it is reported failed."""
    shard_timeout_seconds: int = Field(default=900, ge=10)
    wait_seconds: float = Field(default=1800.0, gt=0)
    """How long the job waits for its shards before it fails."""
    worker_heartbeat_seconds: int = Field(default=5, ge=1)
    abandoned_after_seconds: int = Field(default=15, ge=1)
    """A worker's job is retried this long after its last missed heartbeat."""
    staging_ttl_hours: float = Field(default=36.0, gt=0)
    """Fetched chains are kept this long in Redis for a resumed run (deleted once published)."""
    detail_max_age_minutes: float = Field(default=30.0, gt=0)
    """A name opened on the Single names page is recomputed when its tables are older than this."""

    @field_validator("symbols", "focus")
    @classmethod
    def _upper(cls, value: list[str]) -> list[str]:
        return [str(v).strip().upper().lstrip("_") for v in value if str(v).strip()]

    @field_validator("baskets")
    @classmethod
    def _basket_names(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name in value:
            if not re.fullmatch(r"[a-z0-9_]+", name):
                raise ValueError(f"basket name {name!r}: use lower-case letters, digits and '_'")
        return {k: [str(v).strip().upper() for v in names] for k, names in value.items()}

    @model_validator(mode="after")
    def _known_board_baskets(self) -> UniverseSettings:
        for b in self.board_baskets:
            if b not in self.baskets:
                raise _KeyedError(
                    "universe.board_baskets",
                    f"unknown basket {b!r} (known: {', '.join(sorted(self.baskets)) or 'none'})",
                )
        return self


class AlertTarget(_Section):
    """Where alerts go.  The URL and the signing secret come from environment variables."""

    kind: Literal["webhook", "slack", "teams"]
    """``webhook``: generic signed JSON; ``slack``: Slack incoming webhook; ``teams``: Teams workflow webhook."""
    url_env: str
    """Name of the environment variable holding the target URL (never the URL itself)."""
    secret_env: str | None = None
    """Name of the environment variable holding the HMAC signing secret (generic webhooks)."""
    digest: bool = False
    """Also receive the morning brief as a digest."""

    @field_validator("url_env", "secret_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(
                f"must be the NAME of an environment variable (letters, digits, '_'), not {value!r}; put the URL/secret itself in the environment"
            )
        return value


class AlertRule(_Section):
    metric: str
    """Path into a published result: ``<result>.<headline key>``, e.g. ``gamma.SPX.net_gex_usd_per_1pct``
    (checked against the alert catalogue by :func:`jobs.validate.check_settings`)."""
    op: Literal[">", ">=", "<", "<="]
    threshold: float
    """In the unit of the metric's headline key (see ``flowdesk alerts list``)."""
    severity: Literal["info", "warning", "critical"] = "warning"
    cooldown_minutes: float = Field(default=60.0, ge=0)
    """A breach entered again sooner than this after the last fire is not announced (until the cooldown ends)."""
    hysteresis: float = Field(default=0.0, ge=0)
    """Absolute distance past the threshold, back the other way, before a breach resolves."""
    targets: list[str] = Field(default_factory=list)
    """Names of ``[alerts.targets.*]``; empty: events are only recorded and shown on the Alerts page."""
    absolute: bool = False
    """Compare ``|value|`` (e.g. ``|flip_distance_pct| < 0.5``, ``|zscore_3y| > 2``)."""
    enabled: bool = True

    @field_validator("threshold", mode="before")
    @classmethod
    def _finite_threshold(cls, value: Any) -> float:
        return check_threshold(value)

    @field_validator("hysteresis", "cooldown_minutes", mode="before")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"must be a finite number, got {value!r}")
        return value


class AlertSettings(_Section):
    max_attempts: int = Field(default=8, ge=1)
    """Delivery attempts before a delivery is dead-lettered."""
    backoff_base_seconds: float = Field(default=2.0, gt=0)
    """First retry delay, seconds; doubled per attempt (with jitter) up to ``backoff_max_seconds``."""
    backoff_max_seconds: float = Field(default=600.0, gt=0)
    timeout_seconds: float = Field(default=10.0, gt=0)
    """HTTP timeout of one delivery attempt (connect and read), seconds."""
    lease_seconds: float = Field(default=60.0, gt=0)
    """A claimed delivery is re-tried by another worker if not finished within this (covers a killed process)."""
    delivery_threads: int = Field(default=2, ge=1, le=32)
    """Threads of the delivery worker."""
    poll_seconds: float = Field(default=0.5, gt=0)
    """How often an idle delivery worker looks at the outbox, seconds."""
    targets: dict[str, AlertTarget] = Field(default_factory=dict)
    rules: dict[str, AlertRule] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_delivery(self) -> AlertSettings:
        if self.lease_seconds <= self.timeout_seconds:
            raise _KeyedError(
                "alerts.lease_seconds",
                f"must exceed alerts.timeout_seconds ({self.timeout_seconds:g}), or a slow delivery would be sent twice",
            )
        if self.backoff_max_seconds < self.backoff_base_seconds:
            raise _KeyedError(
                "alerts.backoff_max_seconds",
                f"must be >= alerts.backoff_base_seconds ({self.backoff_base_seconds:g})",
            )
        for name, rule in self.rules.items():
            for target in rule.targets:
                if target not in self.targets:
                    known = ", ".join(sorted(self.targets)) or "none configured"
                    raise _KeyedError(
                        f"alerts.rules.{name}.targets",
                        f"unknown target {target!r} (known: {known})",
                    )
        return self


class Settings(_Section):
    """The whole validated configuration (cross references to the task registry and the alert
    catalogue are checked by :func:`jobs.validate.check_settings`)."""

    service: ServiceSettings = Field(default_factory=ServiceSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    web: WebSettings = Field(default_factory=WebSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    jobs: dict[str, JobSettings] = Field(default_factory=dict)
    gamma: GammaSettings = Field(default_factory=GammaSettings)
    letf: LetfSettings = Field(default_factory=LetfSettings)
    cftc: CftcSettings = Field(default_factory=CftcSettings)
    board: BoardSettings = Field(default_factory=BoardSettings)
    volcontrol: VolControlSettings = Field(default_factory=VolControlSettings)
    cta: CtaSettings = Field(default_factory=CtaSettings)
    vixetp: VixEtpSettings = Field(default_factory=VixEtpSettings)
    universe: UniverseSettings = Field(default_factory=UniverseSettings)
    prices: PricesSettings = Field(default_factory=PricesSettings)
    systematic: SystematicSettings = Field(default_factory=SystematicSettings)
    futures_positioning: FuturesPositioningSettings = Field(
        default_factory=FuturesPositioningSettings
    )
    alerts: AlertSettings = Field(default_factory=AlertSettings)

    source_path: str = Field(default="<defaults>", exclude=True)
    """Where these settings were read from (not a config key)."""

    @model_validator(mode="after")
    def _check_crons(self) -> Settings:
        tz = ZoneInfo(self.service.timezone)
        for name, job in self.jobs.items():
            try:
                cron_trigger(job, tz)  # the trigger the scheduler will build (crontab weekdays)
            except ValueError as exc:
                raise _KeyedError(
                    f"jobs.{name}.cron", f"invalid cron expression {job.cron!r}: {exc}"
                ) from exc
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.service.timezone)

    @property
    def sample_mode(self) -> bool:
        return self.service.source_mode == "sample"


class _KeyedError(ValueError):
    """A cross-field problem that knows which dotted key it belongs to."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


def _format_validation_error(exc: ValidationError) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _KeyedError):
            problems.append((ctx_error.key, ctx_error.reason))
            continue
        if err["type"] == "extra_forbidden":
            reason = (
                "unknown key (check the spelling; see config.toml in the repository for every key)"
            )
        elif err["type"] == "missing":
            reason = "required key is missing"
        else:
            msg = err["msg"].removeprefix("Value error, ")
            reason = (
                f"{msg} (got {err['input']!r})"
                if "input" in err and not isinstance(err["input"], dict)
                else msg
            )
        problems.append((key, reason))
    return problems


def default_config_path() -> Path:
    """``$FLOWDESK_CONFIG``, else ``./config.toml``, else the repository's ``config.toml``."""
    env = os.environ.get("FLOWDESK_CONFIG")
    if env:
        return Path(env)
    local = Path.cwd() / "config.toml"
    return local if local.exists() else PROJECT_ROOT / "config.toml"


def parse_settings(
    data: dict[str, Any], source: str = "<dict>", env: dict[str, str] | None = None
) -> Settings:
    """Validate a parsed TOML mapping and apply environment overrides.

    Raises :class:`ConfigError` naming ``source``, the dotted key and the reason.
    """
    env = dict(os.environ) if env is None else env
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, _format_validation_error(exc)) from None
    settings.source_path = source
    if env.get("REDIS_URL"):
        settings.service.redis_url = env["REDIS_URL"]
    if env.get("FLOWDESK_SOURCE_MODE"):
        mode = env["FLOWDESK_SOURCE_MODE"]
        if mode not in ("sample", "live"):
            raise ConfigError(
                "environment",
                [("FLOWDESK_SOURCE_MODE", f"must be 'sample' or 'live' (got {mode!r})")],
            )
        settings.service.source_mode = mode  # type: ignore[assignment]
    return settings


def load_settings(path: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read, validate and return the configuration (see the module docstring)."""
    path = Path(path) if path is not None else default_config_path()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, [("", f"cannot read the file: {exc.strerror or exc}")]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [("", f"not valid TOML: {exc}")]) from None
    return parse_settings(data, source=str(path), env=env)
