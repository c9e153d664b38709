"""The epoch-stepped projection and the finance functions: cases worked by hand, the 2028
halving, a backtest of the 2024 halving date on real difficulty history, properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.calculator import engine, finance
from plugins.calculator.engine import InputError, Scenario
from plugins.calculator.projection import (
    ProjectionSettings,
    hashrate_growth_for_difficulty,
    project,
)
from tests.conftest import shared_data_dir

TWO_32 = 4_294_967_296
DATA = shared_data_dir()

# An epoch starts at 842,688 = 418 * 2016 (48 months before the next halving), so with the
# default network hashrate (a block every 600 s at this difficulty) and no growth every
# epoch takes exactly two weeks and the difficulty never moves.
STEADY = Scenario(
    hashrate_ths=200,
    power_w=3500,
    electricity_usd_per_kwh=0.05,
    btc_price_usd=100_000,
    difficulty=1.5e14,
    block_height=842_688,
    fees_per_block_btc=0.025,
    pool_fee=0.02,
    capex_usd=3000,
    salvage_usd=300,
)


def test_a_steady_network_gives_thirty_identical_days_a_month():
    run = project(STEADY, ProjectionSettings(months=12))
    day = engine.quote(STEADY)
    # 144 blocks a day: 4,320 a month; the height after month m is 842,688 + 4,320 m.
    np.testing.assert_allclose(run.block_height, 842_688 + 4_320 * np.arange(1, 13))
    np.testing.assert_allclose(run.network_blocks, 4_320)
    np.testing.assert_allclose(run.difficulty, 1.5e14, rtol=1e-12)
    # Each month is 30 of the single-day figures: 200 TH/s * 86400 / (1.5e14 * 2**32)
    # * 3.15 BTC * 0.98 = 8.451...e-05 BTC a day.
    assert day.btc_per_day == pytest.approx(200e12 * 86_400 / (1.5e14 * TWO_32) * 3.15 * 0.98)
    np.testing.assert_allclose(run.btc_mined, day.btc_per_day * 30, rtol=1e-12)
    np.testing.assert_allclose(run.profit_usd, day.profit_usd_per_day * 30, rtol=1e-12)
    np.testing.assert_allclose(run.hashprice_usd_per_th_day, day.hashprice_usd_per_th_day)
    assert math.isnan(run.halving_month)  # 1,050,000 is 48 months away


def test_npv_irr_and_payback_of_a_steady_run_match_the_annuity_formulas():
    months, annual = 36, 0.20
    run = project(STEADY, ProjectionSettings(months=months, discount_rate_annual=annual))
    c = engine.quote(STEADY).profit_usd_per_day * 30  # the same cash flow every month
    # A 30-day month is 30 / 365.25 of a year: i = 1.2 ** (30 / 365.25) - 1 = 1.5087 %.
    i = 1.2 ** (30 / 365.25) - 1
    assert i == pytest.approx(0.015087, abs=1e-6)
    annuity = (1 - (1 + i) ** -months) / i
    npv = -3000 + c * annuity + 300 * (1 + i) ** -months
    assert run.npv_usd == pytest.approx(npv, rel=1e-9)
    # Payback: 3000 / c = 24.5 months; static and dynamic agree when nothing changes.
    assert run.payback_months == pytest.approx(3000 / c, rel=1e-9)
    assert run.static_payback_months == pytest.approx(3000 / c, rel=1e-9)
    # ROI over the horizon: (36 c + 300 - 3000) / 3000.
    assert run.roi == pytest.approx((36 * c + 300 - 3000) / 3000, rel=1e-9)
    # The IRR is the rate where the NPV is zero.
    monthly = (1 + run.irr_annual) ** (30 / 365.25) - 1
    flows = [-3000] + [c] * (months - 1) + [c + 300]
    assert finance.npv(monthly, flows) == pytest.approx(0, abs=1e-6)


def test_a_halving_inside_the_first_month_worked_by_hand():
    # 1,000 blocks before 1,050,000 at 144 a day: the halving comes after 1000 / 144
    # = 6.944 days. The month earns at (3.125 + F) for 6.944 days and at (1.5625 + F) for
    # the other 23.056 days.
    scenario = STEADY.replace(block_height=1_049_000, pool_fee=0.0)
    run = project(scenario, ProjectionSettings(months=2))
    per_day = 200e12 * 86_400 / (1.5e14 * TWO_32)  # blocks a day for 200 TH/s
    t1 = 1000 / 144
    expected = per_day * ((3.125 + 0.025) * t1 + (1.5625 + 0.025) * (30 - t1))
    assert run.halving_month == pytest.approx(t1 / 30, rel=1e-9)
    assert run.btc_mined[0] == pytest.approx(expected, rel=1e-9)
    assert run.btc_mined[1] == pytest.approx(per_day * 1.5875 * 30, rel=1e-9)
    np.testing.assert_array_equal(run.block_subsidy_btc, [1.5625, 1.5625])


def test_a_projection_from_late_2025_crosses_the_2028_halving():
    # From height 925,000 there are 125,000 blocks to 1,050,000: at 144 a day 868.06 days,
    # i.e. month 28.94 (about April 2028 from late 2025). With the network growing 2 % a
    # month blocks come faster and the halving lands earlier (by about a week: difficulty
    # follows the hashrate with a lag of one epoch).
    base = Scenario(200, 3500, 0.05, 100_000, 1.5e14, 925_000, 0.025)
    flat = project(base, ProjectionSettings(months=36))
    growing = project(base, ProjectionSettings(months=36, hashrate_growth_per_month=0.02))
    assert flat.halving_month == pytest.approx(125_000 / 144 / 30, rel=1e-6)
    assert growing.halving_month < flat.halving_month - 5 / 30
    for run in (flat, growing):
        month = int(run.halving_month)  # the month (0-based) the halving falls in
        assert run.block_subsidy_btc[month - 1] == 3.125
        assert np.all(run.block_subsidy_btc[month:] == 1.5625)
        assert run.block_height[month - 1] < 1_050_000 <= run.block_height[month]
        # The month after the halving earns about half: (1.5625 + F) / (3.125 + F) of the
        # month before it, less the difficulty growth in between.
        ratio = run.btc_mined[month + 1] / run.btc_mined[month - 1]
        assert ratio < (1.5625 + 0.025) / (3.125 + 0.025) + 1e-9
        assert ratio > 0.4


@pytest.mark.skipif(not (DATA / "btc_difficulty.csv").exists(), reason="needs ../shared/data")
@pytest.mark.parametrize("start", ["2023-04-01", "2023-07-01", "2023-10-01", "2023-12-01"])
def test_epoch_stepping_dates_the_2024_halving_from_history(start):
    # Backtest on real difficulty epochs: start at the first epoch after `start`, grow the
    # network at the pace of the previous ~6 months' difficulty, and see when height 840,000
    # comes. It came on 2024-04-20 (UTC). A calendar model (144 blocks a day) is late by
    # days, because a growing network finds blocks faster than every 600 s.
    import csv
    import datetime as dt

    with (DATA / "btc_difficulty.csv").open() as f:
        epochs = list(csv.DictReader(f))
    index = next(n for n, e in enumerate(epochs) if e["date"] >= start)
    now, before = epochs[index], epochs[index - 13]
    day = dt.date.fromisoformat
    days = (day(now["date"]) - day(before["date"])).days
    growth = math.expm1(
        math.log(float(now["difficulty"]) / float(before["difficulty"])) / days * 30
    )
    network = float(epochs[index - 1]["hashrate_ehs"]) * 1e6  # TH/s over the last epoch
    height = int(now["height"])
    run = project(
        Scenario(100, 3000, 0.05, 30_000, float(now["difficulty"]), height),
        ProjectionSettings(
            months=14, hashrate_growth_per_month=growth, network_hashrate_ths=network
        ),
    )
    predicted = day(now["date"]) + dt.timedelta(days=run.halving_month * 30)
    calendar = day(now["date"]) + dt.timedelta(days=(840_000 - height) / 144)
    actual = dt.date(2024, 4, 20)
    assert abs((predicted - actual).days) <= 3
    assert abs((predicted - actual).days) < abs((calendar - actual).days)


def test_difficulty_growth_per_epoch_settles_at_that_growth():
    # Steady state: epochs of 14 / 1.02 days and the hashrate growing 2 % over each, so
    # k = 1.02 * ln(1.02) / 14 per day, 3.019 %... a 30-day month.
    assert hashrate_growth_for_difficulty(0.02) == pytest.approx(
        math.expm1(1.02 * math.log(1.02) / 14 * 30)
    )
    run = project(STEADY, ProjectionSettings(months=48, difficulty_growth_per_epoch=0.02))
    # Month-end difficulties after the start-up: each ratio is 1.02 ** (epochs in between).
    ratios = run.difficulty[12:] / run.difficulty[11:-1]
    epochs = np.log(ratios) / np.log(1.02)
    np.testing.assert_allclose(epochs, np.round(epochs), atol=1e-3)


def test_switching_off_in_losing_months_only_keeps_the_flat_fee():
    # Power at 0.12 USD/kWh loses money every month; switched off, only the flat hosting fee
    # (20 USD a month) is paid.
    losing = STEADY.replace(electricity_usd_per_kwh=0.12, hosting_usd_per_miner_month=20)
    on = project(losing, ProjectionSettings(months=6))
    off = project(losing, ProjectionSettings(months=6, switch_off_when_unprofitable=True))
    assert np.all(on.profit_usd < -20)
    assert not off.running.any()
    np.testing.assert_allclose(off.profit_usd, -20)
    np.testing.assert_allclose(off.btc_mined, 0)
    assert off.as_dict()["running"] == [False] * 6


def test_many_scenarios_and_paths_broadcast():
    rng = np.random.default_rng(5)
    n = 50
    run = project(
        STEADY.replace(electricity_usd_per_kwh=rng.uniform(0.02, 0.1, n)),
        ProjectionSettings(
            months=24,
            hashrate_growth_per_month=rng.uniform(0, 0.05, (n, 1)),
            price_growth_per_month=np.linspace(0, 0.02, 24),
        ),
    )
    assert run.profit_usd.shape == (n, 24)
    assert run.payback_months.shape == (n,)
    one = project(
        STEADY.replace(electricity_usd_per_kwh=run.btc_price_usd[0, 0] * 0 + 0.05),
        ProjectionSettings(months=24),
    )
    assert one.profit_usd.shape == (24,)
    assert isinstance(one.npv_usd, float)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"months": 0}, "months"),
        ({"months": 12.5}, "months"),
        ({"hashrate_growth_per_month": -1.0}, "hashrate_growth_per_month"),
        ({"price_growth_per_month": float("nan")}, "price_growth_per_month"),
        ({"price_path_usd": [100_000] * 5}, "price_path_usd"),
        ({"discount_rate_annual": -1}, "discount_rate_annual"),
        ({"network_hashrate_ths": 0}, "network_hashrate_ths"),
    ],
)
def test_bad_projection_settings_name_the_field(changes, field):
    with pytest.raises(InputError) as error:
        project(STEADY, ProjectionSettings(**{"months": 12, **changes}))
    assert error.value.field == field


# ------------------------------------------------------------------ finance by hand


def test_irr_npv_and_payback_on_a_hand_computed_cash_flow():
    flows = [-100, 60, 60]
    # NPV at 10 %: -100 + 60 / 1.1 + 60 / 1.21 = -100 + 54.5454... + 49.5867... = 4.1322...
    assert finance.npv(0.10, flows) == pytest.approx(-100 + 60 / 1.1 + 60 / 1.21)
    assert finance.npv(0.10, flows) == pytest.approx(4.132231404958674)
    # IRR: -100 + 60 v + 60 v**2 = 0 with v = 1 / (1 + r): v = (-60 + sqrt(60**2 + 4*60*100))
    # / 120 = 0.884433..., r = 1 / v - 1 = 13.0662 %.
    v = (-60 + math.sqrt(60**2 + 4 * 60 * 100)) / 120
    assert finance.irr(flows) == pytest.approx(1 / v - 1, abs=1e-10)
    assert finance.irr(flows) == pytest.approx(0.130662386, abs=1e-9)
    # Payback: 60 after period 1 leaves 40 to recover; 40 / 60 of period 2 -> 1.6667.
    assert finance.payback_period(flows) == pytest.approx(1 + 40 / 60)
    # -100 then +121 two periods later: exactly 10 %.
    assert finance.irr([-100, 0, 121]) == pytest.approx(0.10, abs=1e-10)


def test_irr_is_none_without_a_sign_change_and_rows_are_independent():
    rows = np.array([[-100, 60, 60], [100, 10, 10], [-100, 10, 10], [-100, 0, 121]])
    rates = finance.irr(rows)
    assert rates[0] == pytest.approx(0.130662386, abs=1e-9)
    assert np.isnan(rates[1])  # all positive: no rate makes the NPV zero
    # A loss has a negative IRR: -100 + 10 v + 10 v**2 = 0 -> v = (-1 + sqrt(41)) / 2.
    assert rates[2] == pytest.approx(2 / (-1 + math.sqrt(41)) - 1, abs=1e-10)
    assert rates[3] == pytest.approx(0.10, abs=1e-10)
    assert np.isnan(finance.payback_period([-100, 10, 10]))
    assert finance.payback_period([0, 10]) == 0.0
    assert finance.annual_rate(0.01) == pytest.approx(1.01**12 - 1)
    assert finance.period_rate(0.1268250301319698) == pytest.approx(0.01)


# ------------------------------------------------------------------ properties


@settings(max_examples=40, deadline=None)
@given(
    st.floats(min_value=0.0, max_value=0.15),
    st.floats(min_value=0.001, max_value=0.1),
    st.floats(min_value=-0.05, max_value=0.1),
    st.floats(min_value=-0.05, max_value=0.05),
    st.floats(min_value=20_000, max_value=200_000),
    st.booleans(),
)
def test_payback_never_improves_when_power_price_rises(
    price_kwh, rise, network_growth, price_growth, btc_price, switch_off
):
    run = project(
        STEADY.replace(
            electricity_usd_per_kwh=[price_kwh, price_kwh + rise],
            btc_price_usd=btc_price,
            hosting_usd_per_miner_month=10,
        ),
        ProjectionSettings(
            months=36,
            hashrate_growth_per_month=network_growth,
            price_growth_per_month=price_growth,
            switch_off_when_unprofitable=switch_off,
        ),
    )
    cheap, dear = np.where(np.isnan(run.payback_months), np.inf, run.payback_months)
    assert dear >= cheap
    assert np.all(run.cumulative_cash_flow_usd[1] <= run.cumulative_cash_flow_usd[0] + 1e-9)
    static = engine.quote(
        STEADY.replace(
            electricity_usd_per_kwh=[price_kwh, price_kwh + rise], btc_price_usd=btc_price
        )
    ).static_payback_days
    cheap, dear = np.where(np.isnan(static), np.inf, static)
    assert dear >= cheap
