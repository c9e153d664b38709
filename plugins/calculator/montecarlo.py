"""Monte Carlo: many correlated price and network-hashrate paths through one scenario.

Log price and log network hashrate take monthly steps of a correlated random walk (two
geometric Brownian motions): a month's log return is ``drift * dt + volatility * sqrt(dt)
* z``, with ``dt`` = 30 days in years and ``corr(z_price, z_hashrate) = correlation``.
Every path then goes through :func:`plugins.calculator.projection.project` in one
vectorized run (one row per path), and the bands are percentiles across paths.

Drift here is the growth of the *logarithm* per year: with no volatility a path is
``P0 * exp(drift * years)``, and it is also the median path. :func:`fit_market_model`
estimates all five numbers from daily history. Pure numpy; pass ``seed`` (or a numpy
``Generator``) to make a run repeatable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from translationstring import TranslationStringFactory

from plugins.calculator.engine import (
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    InputError,
    Scenario,
    _number,
    _out,
    _Record,
)
from plugins.calculator.projection import ProjectionSettings, project

_ = TranslationStringFactory("hashinsight")  # translationstring: no Pyramid here

MAX_PATHS = 100_000
PERCENTILES = (10, 50, 90)


@dataclass(frozen=True)
class MarketModel(_Record):
    """Yearly log drift and volatility of the BTC price and the network hashrate, and the
    correlation of their random shocks. The defaults are placeholders, not a forecast:
    fit them to history with :func:`fit_market_model` or set them deliberately."""

    price_drift: float = 0.0
    price_volatility: float = 0.6
    hashrate_drift: float = 0.3
    hashrate_volatility: float = 0.15
    correlation: float = 0.3
    observations: int = 0  # returns used by the fit (0 when set by hand)

    def checked(self) -> MarketModel:
        for name in ("price_drift", "hashrate_drift"):
            _number(getattr(self, name), name, minimum=-10.0, maximum=10.0)
        for name in ("price_volatility", "hashrate_volatility"):
            _number(getattr(self, name), name, maximum=10.0)
        _number(self.correlation, "correlation", minimum=-1.0, maximum=1.0)
        for name in ("price_drift", "hashrate_drift", "price_volatility",
                     "hashrate_volatility", "correlation"):  # fmt: skip
            if np.ndim(getattr(self, name)) != 0:
                raise InputError(
                    _("${field} must be a single number", mapping={"field": name}), name
                )
        return self


@dataclass(frozen=True)
class MonteCarloResult(_Record):
    """Bands across paths, month by month, and probabilities over the horizon.

    ``cumulative_cash_flow_usd`` maps each percentile (10, 50, 90) to a monthly series;
    ``probability_of_payback`` is the share of paths whose cumulative cash flow reaches
    zero within the horizon; ``probability_of_profit`` the share ending with ROI > 0
    (salvage included). Payback percentiles are NaN when fewer paths than the percentile
    pay back (the P90 payback of a machine that pays back on 60 % of paths does not exist).
    """

    paths: int
    months: Any
    percentiles: tuple
    cumulative_cash_flow_usd: dict
    btc_price_usd: dict
    network_hashrate_ths: dict
    profit_usd: dict
    probability_of_payback: float
    probability_of_profit: float
    payback_months: dict
    npv_usd: dict
    roi: dict
    model: MarketModel


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def simulate_market(model: MarketModel, months: int, paths: int, seed=None):
    """Price factors and network-hashrate growth for ``paths`` x ``months``.

    Returns ``(price_factor, hashrate_growth_per_month)``: the first multiplies today's
    price (1 in month 0), the second is the fractional growth in each month, the shape
    :class:`~plugins.calculator.projection.ProjectionSettings` takes.
    """
    model.checked()
    rng = _rng(seed)
    dt = DAYS_PER_MONTH / DAYS_PER_YEAR
    z = rng.standard_normal((2, paths, months))
    rho = float(model.correlation)
    z_price = z[0]
    z_hash = rho * z[0] + np.sqrt(max(0.0, 1.0 - rho * rho)) * z[1]
    price_step = model.price_drift * dt + model.price_volatility * np.sqrt(dt) * z_price
    hash_step = model.hashrate_drift * dt + model.hashrate_volatility * np.sqrt(dt) * z_hash
    # Month 0 is at today's price; month m has had m monthly steps.
    log_price = np.concatenate(
        [np.zeros((paths, 1)), np.cumsum(price_step[:, :-1], axis=1)], axis=1
    )
    return np.exp(log_price), np.expm1(hash_step)


def monte_carlo(
    scenario: Scenario,
    settings: ProjectionSettings | None = None,
    model: MarketModel | None = None,
    *,
    paths: int = 1000,
    seed=None,
    percentiles=PERCENTILES,
) -> MonteCarloResult:
    """Run one scenario (scalar inputs) over ``paths`` market paths.

    ``settings`` gives the horizon, discount rate, switch-off rule and today's network
    hashrate; its growth rates and price path are replaced by the model's paths.
    """
    settings = settings or ProjectionSettings()
    model = (model or MarketModel()).checked()
    if isinstance(paths, bool) or not isinstance(paths, (int, np.integer)):
        raise InputError(_("paths must be a whole number"), "paths")
    if not 1 <= paths <= MAX_PATHS:
        raise InputError(
            _("paths must be between 1 and ${most}", mapping={"most": f"{MAX_PATHS:,}"}), "paths"
        )
    checked = scenario.checked()
    if checked["shape"] != ():
        raise InputError(_("the Monte Carlo runs one scenario at a time"), "scenario")
    if settings.price_path_usd is not None:
        raise InputError(_("the Monte Carlo makes its own price paths"), "price_path_usd")
    months = settings.months
    if isinstance(months, bool) or not isinstance(months, (int, np.integer)):
        raise InputError(_("months must be a whole number"), "months")
    price_factor, hash_growth = simulate_market(model, int(months), paths, seed)
    price0 = float(checked["btc_price_usd"])
    run = project(
        scenario,
        replace(
            settings,
            price_path_usd=price0 * price_factor,
            hashrate_growth_per_month=hash_growth,
            price_growth_per_month=0.0,
            difficulty_growth_per_epoch=None,
        ),
    )
    levels = tuple(float(p) for p in percentiles)

    def bands(monthly):
        values = np.percentile(monthly, levels, axis=0)
        return {_key(p): values[n] for n, p in enumerate(levels)}

    def spread(values):
        values = np.asarray(values, dtype=float)
        return {_key(p): _out(np.nanpercentile(values, p)) if np.any(~np.isnan(values))
                else float("nan") for p in levels}  # fmt: skip

    payback = np.asarray(run.payback_months, dtype=float)
    paid = ~np.isnan(payback)
    # Sorting NaN last makes "the P-th percentile of payback time" honest: NaN where fewer
    # than P % of paths pay back at all.
    ordered = np.sort(np.where(paid, payback, np.inf))
    payback_bands = {}
    for p in levels:
        value = ordered[min(paths - 1, int(np.ceil(p / 100.0 * paths)) - 1)] if paths else np.inf
        payback_bands[_key(p)] = float(value) if np.isfinite(value) else float("nan")
    roi = np.asarray(run.roi, dtype=float)
    return MonteCarloResult(
        paths=paths,
        months=run.months,
        percentiles=levels,
        cumulative_cash_flow_usd=bands(run.cumulative_cash_flow_usd),
        btc_price_usd=bands(run.btc_price_usd),
        network_hashrate_ths=bands(run.network_hashrate_ths),
        profit_usd=bands(run.profit_usd),
        probability_of_payback=float(paid.mean()),
        probability_of_profit=float(np.mean(roi > 0))
        if not np.all(np.isnan(roi))
        else float("nan"),
        payback_months=payback_bands,
        npv_usd=spread(run.npv_usd),
        roi=spread(roi),
        model=model,
    )


def _key(percentile: float) -> str:
    return f"p{percentile:g}"


def fit_market_model(prices, hashrates, *, step_days: int = 1) -> MarketModel:
    """Drift, volatility and correlation from aligned daily series (oldest first).

    Log returns are taken over non-overlapping steps of ``step_days`` and scaled to a year
    of 365.25 days. Daily network hashrate estimates carry the luck of ~144 blocks a day
    (about 8 % noise per day), which inflates its volatility and hides the correlation:
    use a step of 14 or 30 days for hashrate, or a difficulty series.
    """
    price = _number(prices, "prices", minimum=1e-12, maximum=1e15)
    hashrate = _number(hashrates, "hashrates", minimum=1e-12, maximum=1e30)
    if price.ndim != 1 or price.shape != hashrate.shape:
        raise InputError(_("prices and hashrates must be two series of the same length"), "prices")
    if isinstance(step_days, bool) or not isinstance(step_days, (int, np.integer)):
        raise InputError(_("step_days must be a whole number"), "step_days")
    if step_days < 1:
        raise InputError(_("step_days must be at least 1"), "step_days")
    sampled_price = np.log(price[::step_days])
    sampled_hash = np.log(hashrate[::step_days])
    if sampled_price.size < 3:
        raise InputError(_("at least three steps of history are needed"), "prices")
    r_price = np.diff(sampled_price)
    r_hash = np.diff(sampled_hash)
    per_year = DAYS_PER_YEAR / step_days
    if np.std(r_price) > 0 and np.std(r_hash) > 0:
        correlation = float(np.corrcoef(r_price, r_hash)[0, 1])
    else:
        correlation = 0.0
    return MarketModel(
        price_drift=float(np.mean(r_price) * per_year),
        price_volatility=float(np.std(r_price, ddof=1) * np.sqrt(per_year)),
        hashrate_drift=float(np.mean(r_hash) * per_year),
        hashrate_volatility=float(np.std(r_hash, ddof=1) * np.sqrt(per_year)),
        correlation=correlation,
        observations=int(r_price.size),
    ).checked()
