"""Monte Carlo, fitting to history, and the tornado table."""

import bisect
import csv
import math

import numpy as np
import pytest

from plugins.calculator import engine
from plugins.calculator.engine import InputError, Scenario
from plugins.calculator.montecarlo import (
    MarketModel,
    fit_market_model,
    monte_carlo,
    simulate_market,
)
from plugins.calculator.projection import ProjectionSettings, project
from plugins.calculator.sensitivity import tornado
from tests.conftest import shared_data_dir

DATA = shared_data_dir()
DT = 30 / 365.25  # a 30-day month in years

MINER = Scenario(
    hashrate_ths=270,
    power_w=3645,
    electricity_usd_per_kwh=0.06,
    btc_price_usd=100_000,
    difficulty=1.3e14,
    block_height=925_000,
    fees_per_block_btc=0.03,
    pool_fee=0.02,
    uptime=0.97,
    capex_usd=4050,
    salvage_usd=405,
)
SETTINGS = ProjectionSettings(months=48, discount_rate_annual=0.2)


def test_zero_volatility_is_the_deterministic_projection():
    # Drift is the yearly growth of the log: a month multiplies by exp(drift * 30 / 365.25).
    # The deterministic run with growth exp(drift * dt) - 1 per month must be the same path.
    model = MarketModel(price_drift=0.25, price_volatility=0.0, hashrate_drift=0.35,
                        hashrate_volatility=0.0, correlation=0.5)  # fmt: skip
    result = monte_carlo(MINER, SETTINGS, model, paths=20, seed=1)
    same = project(
        MINER,
        ProjectionSettings(
            months=48,
            discount_rate_annual=0.2,
            price_growth_per_month=math.expm1(0.25 * DT),
            hashrate_growth_per_month=math.expm1(0.35 * DT),
        ),
    )
    for band in result.cumulative_cash_flow_usd.values():
        np.testing.assert_allclose(band, same.cumulative_cash_flow_usd, rtol=1e-9)
    np.testing.assert_allclose(result.btc_price_usd["p50"], same.btc_price_usd, rtol=1e-12)
    assert result.npv_usd["p50"] == pytest.approx(same.npv_usd, rel=1e-9)
    paid = not math.isnan(same.payback_months)
    assert result.probability_of_payback == (1.0 if paid else 0.0)
    assert result.probability_of_profit == (1.0 if same.roi > 0 else 0.0)


def test_a_seed_makes_a_run_repeatable_and_bands_are_ordered():
    model = MarketModel(price_drift=0.1, price_volatility=0.7, hashrate_drift=0.3,
                        hashrate_volatility=0.2, correlation=0.4)  # fmt: skip
    a = monte_carlo(MINER, SETTINGS, model, paths=300, seed=42)
    b = monte_carlo(MINER, SETTINGS, model, paths=300, seed=42)
    c = monte_carlo(MINER, SETTINGS, model, paths=300, seed=43)
    assert a.as_dict() == b.as_dict()
    assert a.as_dict() != c.as_dict()
    bands = a.cumulative_cash_flow_usd
    assert np.all(bands["p10"] <= bands["p50"]) and np.all(bands["p50"] <= bands["p90"])
    assert bands["p10"][-1] < bands["p90"][-1]  # volatility spreads the outcomes
    assert 0.0 <= a.probability_of_payback <= 1.0
    # Payback percentiles exist only when that share of paths pays back.
    for key, level in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9)):
        assert math.isnan(a.payback_months[key]) == (a.probability_of_payback < level)


def test_simulated_shocks_have_the_asked_correlation_and_volatility():
    model = MarketModel(price_drift=0.0, price_volatility=0.8, hashrate_drift=0.0,
                        hashrate_volatility=0.3, correlation=-0.6)  # fmt: skip
    price, growth = simulate_market(model, months=60, paths=4000, seed=7)
    r_price = np.diff(np.log(price), axis=1).ravel()
    r_hash = np.log1p(growth)[:, :-1].ravel()
    # 236,000 monthly returns: the standard error of a correlation is about 0.002.
    assert np.corrcoef(r_price, r_hash)[0, 1] == pytest.approx(-0.6, abs=0.01)
    assert np.std(r_price) == pytest.approx(0.8 * math.sqrt(DT), rel=0.01)
    assert np.std(r_hash) == pytest.approx(0.3 * math.sqrt(DT), rel=0.01)


def test_fitting_recovers_known_parameters_from_synthetic_history():
    rng = np.random.default_rng(11)
    days, mu_p, s_p, mu_h, s_h, rho = 6000, 0.4, 0.6, 0.7, 0.25, 0.35
    dt = 1 / 365.25
    z1, z2 = rng.standard_normal((2, days))
    zh = rho * z1 + math.sqrt(1 - rho**2) * z2
    price = 1000 * np.exp(np.cumsum(mu_p * dt + s_p * math.sqrt(dt) * z1))
    hashrate = 1e8 * np.exp(np.cumsum(mu_h * dt + s_h * math.sqrt(dt) * zh))
    fit = fit_market_model(price, hashrate)
    n, years = days - 1, (days - 1) / 365.25
    # Tolerances are four standard errors: drift sigma / sqrt(years), volatility
    # sigma / sqrt(2 n), correlation (1 - rho**2) / sqrt(n).
    assert fit.observations == n
    assert fit.price_drift == pytest.approx(mu_p, abs=4 * s_p / math.sqrt(years))
    assert fit.hashrate_drift == pytest.approx(mu_h, abs=4 * s_h / math.sqrt(years))
    assert fit.price_volatility == pytest.approx(s_p, abs=4 * s_p / math.sqrt(2 * n))
    assert fit.hashrate_volatility == pytest.approx(s_h, abs=4 * s_h / math.sqrt(2 * n))
    assert fit.correlation == pytest.approx(rho, abs=4 * (1 - rho**2) / math.sqrt(n))
    # Monthly steps see the same process, with fewer observations.
    monthly = fit_market_model(price, hashrate, step_days=30)
    assert monthly.price_volatility == pytest.approx(s_p, rel=0.2)


def _read(name, column):
    with (DATA / name).open() as f:
        return {row["date"]: float(row[column]) for row in csv.DictReader(f) if row[column]}


@pytest.mark.skipif(not (DATA / "btc_usd_daily.csv").exists(), reason="needs ../shared/data")
def test_fitting_real_history_gives_bitcoin_like_numbers():
    # 2016-2024: daily closes, and the difficulty in force each day (it changes once per
    # epoch; the complete network-hashrate history), sampled every 28 days.
    closes = _read("btc_usd_daily.csv", "close")
    with (DATA / "btc_difficulty.csv").open() as f:
        epochs = [(r["date"], float(r["difficulty"])) for r in csv.DictReader(f)]
    dates = sorted(d for d in closes if "2016-01-01" <= d <= "2024-12-31")
    starts = [d for d, _ in epochs]
    in_force = [epochs[bisect.bisect_right(starts, d) - 1][1] for d in dates]
    fit = fit_market_model([closes[d] for d in dates], in_force, step_days=28)
    assert 0.4 < fit.price_volatility < 1.2  # bitcoin's yearly volatility: 40-120 %
    assert 0.3 < fit.hashrate_drift < 1.2  # difficulty grew 35-230 % a year (log 0.3-1.2)
    assert 0.0 < fit.hashrate_volatility < 0.5
    assert -1 <= fit.correlation <= 1
    assert fit.observations == (len(dates) - 1) // 28


@pytest.mark.skipif(not (DATA / "btc_fees_daily.csv").exists(), reason="needs ../shared/data")
def test_the_subsidy_rule_matches_every_block_in_the_real_history():
    # Each day's subsidy in the data is summed from the real blocks: the consensus rule must
    # give the same total for heights height_min..height_max, including halving days.
    checked = 0
    with (DATA / "btc_fees_daily.csv").open() as f:
        for row in csv.DictReader(f):
            if not row["height_min"] or int(row["blocks"]) == 0:
                continue
            low, high = int(row["height_min"]), int(row["height_max"])
            if high - low + 1 != int(row["blocks"]):
                continue
            total = engine.block_subsidy(np.arange(low, high + 1)).sum()
            assert total == pytest.approx(float(row["subsidy_btc"]), abs=1e-8), row["date"]
            checked += 1
    assert checked > 400


def test_monte_carlo_refuses_what_it_cannot_do():
    with pytest.raises(InputError, match="one scenario") as error:
        monte_carlo(MINER.replace(hashrate_ths=[100, 200]), SETTINGS, paths=10)
    with pytest.raises(InputError) as error:
        monte_carlo(MINER, SETTINGS, paths=0)
    assert error.value.field == "paths"
    with pytest.raises(InputError) as error:
        monte_carlo(MINER, SETTINGS, MarketModel(correlation=1.5), paths=10)
    assert error.value.field == "correlation"
    with pytest.raises(InputError) as error:
        fit_market_model([1, 2, -3, 4], [1, 2, 3, 4])
    assert error.value.field == "prices"


# ------------------------------------------------------------------ tornado


def test_tornado_rows_are_sorted_by_swing_and_worked_by_hand():
    table = tornado(MINER)
    swings = [row.swing_profit_usd_per_day for row in table.rows]
    assert swings == sorted(swings, reverse=True)
    by_name = {row.input: row for row in table.rows}
    # Inputs at zero are left out: +-25 % of nothing moves nothing.
    assert "hosting_revenue_share" not in by_name and "dev_fee" not in by_name
    # Electricity enters profit linearly: -25 % and +25 % of 0.06 USD/kWh move the power
    # bill (3.645 kW * 24 h * 0.97 = 84.8556 kWh) by 84.8556 * 0.015 each way, so the swing
    # is 84.8556 * 0.03 = 2.545668 USD a day.
    assert by_name["electricity_usd_per_kwh"].swing_profit_usd_per_day == pytest.approx(
        84.8556 * 0.03
    )
    step = by_name["electricity_usd_per_kwh"].steps[1]
    assert (step["step"], step["low_value"], step["high_value"]) == (0.25, 0.045, 0.075)
    # Uptime 0.97 cannot go 10 % or 25 % up: it stops at 1.0.
    assert by_name["uptime"].steps[1]["high_value"] == 1.0
    # Capex moves no daily profit, only the payback (static: capex / 30 days of profit).
    assert by_name["capex_usd"].swing_profit_usd_per_day == 0.0
    base = engine.quote(MINER)
    static = 4050 / (base.profit_usd_per_day * 30)
    assert table.base_payback_months == pytest.approx(static)
    assert by_name["capex_usd"].swing_payback_months == pytest.approx(static * 0.5)
    assert table.payback == "static"


def test_tornado_with_a_projection_uses_the_dynamic_payback():
    table = tornado(MINER.replace(electricity_usd_per_kwh=0.03),
                    ProjectionSettings(months=60, hashrate_growth_per_month=0.02))  # fmt: skip
    assert table.payback == "dynamic"
    names = [row.input for row in table.rows]
    assert "hashrate_growth_per_month" in names
    growth = next(r for r in table.rows if r.input == "hashrate_growth_per_month")
    # Faster network growth never shortens the payback.
    for step in growth.steps:
        assert step["payback_high"] >= step["payback_low"]
    assert table.as_dict()["rows"][0]["input"] == names[0]
