"""The profitability engine against numbers worked out by hand."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from plugins.calculator import engine

TWO_32 = 4_294_967_296


def test_100_ths_at_difficulty_1e14_after_the_2024_halving():
    # 100 TH/s = 1e14 H/s; one block needs 1e14 * 2**32 hashes on average, so a day of
    # hashing finds 1e14 * 86400 / (1e14 * 2**32) = 86400 / 2**32 blocks of 3.125 BTC.
    expected_btc = 86_400 / TWO_32 * 3.125
    assert expected_btc == pytest.approx(6.286427378654480e-05, rel=1e-12)

    result = engine.estimate(
        hashrate_ths=100,
        power_w=3000,
        electricity_usd_per_kwh=0.05,
        btc_price_usd=60_000,
        difficulty=1e14,
        block_height=840_000,
    )

    assert result.block_subsidy_btc == 3.125
    assert result.btc_per_day == pytest.approx(expected_btc, rel=1e-12)
    revenue = expected_btc * 60_000  # 3.771856... USD
    assert result.revenue_usd_per_day == pytest.approx(revenue, rel=1e-12)
    assert result.power_cost_usd_per_day == pytest.approx(3.6)  # 3 kW * 24 h * 0.05
    assert result.profit_usd_per_day == pytest.approx(revenue - 3.6, rel=1e-12)
    assert result.profit_usd_per_month == pytest.approx((revenue - 3.6) * 30, rel=1e-12)
    assert result.break_even_usd_per_kwh == pytest.approx(revenue / 72, rel=1e-12)  # 72 kWh/day
    assert result.hashprice_usd_per_th_day == pytest.approx(revenue / 100, rel=1e-12)
    assert result.efficiency_j_per_th == 30.0


def test_fees_are_added_to_the_subsidy():
    # 200 TH/s at difficulty 1.5e14, 3.125 + 0.02 BTC a block, BTC at 100,000 USD.
    btc = 200e12 * 86_400 / (1.5e14 * TWO_32) * 3.145
    assert btc == pytest.approx(8.43554736e-05, rel=1e-8)
    result = engine.estimate(200, 3500, 0.06, 100_000, 1.5e14, 925_000, fees_per_block_btc=0.02)
    assert result.btc_per_day == pytest.approx(btc, rel=1e-12)
    assert result.power_cost_usd_per_day == pytest.approx(5.04)  # 3.5 kW * 24 h * 0.06
    assert result.profit_usd_per_day == pytest.approx(btc * 100_000 - 5.04, rel=1e-12)


@pytest.mark.parametrize(
    ("height", "subsidy"),
    [
        (0, 50.0),
        (209_999, 50.0),
        (210_000, 25.0),
        (419_999, 25.0),
        (420_000, 12.5),
        (629_999, 12.5),
        (630_000, 6.25),
        (839_999, 6.25),
        (840_000, 3.125),
        (1_049_999, 3.125),
        (1_050_000, 1.5625),
        # From the 10th halving the satoshi amount is shifted right and rounds down, as in
        # Bitcoin Core: 5,000,000,000 >> 10 = 4,882,812 sat, not 4,882,812.5.
        (10 * 210_000, 0.04882812),
        (32 * 210_000, 0.00000001),
        (33 * 210_000, 0.0),
        (64 * 210_000, 0.0),
        (100 * 210_000, 0.0),
    ],
)
def test_block_subsidy_halves_every_210000_blocks(height, subsidy):
    assert engine.block_subsidy(height) == subsidy


def test_block_subsidy_takes_arrays():
    subsidy = engine.block_subsidy(np.array([839_999, 840_000, 1_050_000]))
    np.testing.assert_array_equal(subsidy, [6.25, 3.125, 1.5625])


def test_arrays_broadcast_against_scalars():
    result = engine.estimate(
        hashrate_ths=np.array([100.0, 200.0]),
        power_w=3000,
        electricity_usd_per_kwh=[0.05, 0.10],
        btc_price_usd=60_000,
        difficulty=1e14,
        block_height=840_000,
    )
    assert result.btc_per_day.shape == (2,)
    assert result.btc_per_day[1] == pytest.approx(2 * result.btc_per_day[0])
    np.testing.assert_allclose(result.power_cost_usd_per_day, [3.6, 7.2])
    assert result.as_dict()["efficiency_j_per_th"] == [30.0, 15.0]


def test_mismatched_array_shapes_are_refused():
    with pytest.raises(ValueError, match="shapes"):
        engine.estimate([1, 2], [1, 2, 3], 0.05, 60_000, 1e14, 840_000)


def test_values_that_do_not_exist_are_none_in_the_json():
    result = engine.estimate(0, 0, 0.05, 60_000, 1e14, 840_000).as_dict()
    assert result["break_even_usd_per_kwh"] is None  # no power: any price breaks even
    assert result["efficiency_j_per_th"] is None  # no hashrate: J/TH does not exist
    assert result["profit_usd_per_day"] == 0.0


GOOD = dict(
    hashrate_ths=100,
    power_w=3000,
    electricity_usd_per_kwh=0.05,
    btc_price_usd=60_000,
    difficulty=1e14,
    block_height=840_000,
    fees_per_block_btc=0.1,
)


@pytest.mark.parametrize("field", list(GOOD))
@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), float("-inf")])
def test_negative_nan_and_infinite_inputs_name_the_field(field, bad):
    with pytest.raises(ValueError, match=field) as error:
        engine.estimate(**{**GOOD, field: bad})
    assert error.value.field == field


@pytest.mark.parametrize(
    ("field", "bad", "words"),
    [
        ("difficulty", 0, "at least 1"),
        ("block_height", 840_000.5, "whole number"),
        ("btc_price_usd", "sixty thousand", "must be a number"),
        ("power_w", 5e12, "at most"),
        ("hashrate_ths", [100, -1], "negative"),
    ],
)
def test_other_bad_inputs_are_refused_with_a_message(field, bad, words):
    with pytest.raises(ValueError, match=words) as error:
        engine.estimate(**{**GOOD, field: bad})
    assert error.value.field == field


def test_engine_does_not_import_pyramid():
    import subprocess
    import sys

    code = "import sys, plugins.calculator.engine; sys.exit('pyramid' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


hashrates = st.floats(min_value=0, max_value=1e6, allow_nan=False)
prices = st.floats(min_value=0, max_value=1e6, allow_nan=False)
powers = st.floats(min_value=0, max_value=1e6, allow_nan=False)
electricity = st.floats(min_value=0, max_value=10, allow_nan=False)
difficulties = st.floats(min_value=1, max_value=1e16, allow_nan=False)
heights = st.integers(min_value=0, max_value=20_000_000)
fees = st.floats(min_value=0, max_value=10, allow_nan=False)


@given(hashrates, st.floats(min_value=0, max_value=1000), difficulties, heights, fees, prices)
def test_income_is_linear_in_hashrate(hashrate, factor, difficulty, height, fee, price):
    one = engine.estimate(hashrate, 0, 0, price, difficulty, height, fee)
    scaled = engine.estimate(hashrate * factor, 0, 0, price, difficulty, height, fee)
    assert scaled.btc_per_day == pytest.approx(one.btc_per_day * factor, rel=1e-9, abs=1e-300)
    assert scaled.revenue_usd_per_day == pytest.approx(
        one.revenue_usd_per_day * factor, rel=1e-9, abs=1e-300
    )


@given(hashrates, powers, electricity, prices, difficulties, heights, fees)
def test_profit_is_revenue_minus_power_cost(
    hashrate, power, kwh_price, price, difficulty, height, fee
):
    r = engine.estimate(hashrate, power, kwh_price, price, difficulty, height, fee)
    assert r.profit_usd_per_day == pytest.approx(r.revenue_usd_per_day - r.power_cost_usd_per_day)
    assert r.profit_usd_per_month == pytest.approx(r.profit_usd_per_day * 30)
    assert r.power_cost_usd_per_day == pytest.approx(power / 1000 * 24 * kwh_price)


@given(hashrates, st.floats(min_value=1, max_value=1e6), prices, difficulties, heights, fees)
def test_at_the_break_even_price_profit_is_zero(hashrate, power, price, difficulty, height, fee):
    first = engine.estimate(hashrate, power, 0, price, difficulty, height, fee)
    assume(first.break_even_usd_per_kwh <= engine.MAX_ELECTRICITY_USD_PER_KWH)
    at_break_even = engine.estimate(
        hashrate, power, first.break_even_usd_per_kwh, price, difficulty, height, fee
    )
    assert at_break_even.profit_usd_per_day == pytest.approx(
        0, abs=1e-9 * max(1.0, first.revenue_usd_per_day)
    )


@given(heights, heights)
def test_subsidy_never_grows_with_height(a, b):
    low, high = sorted((a, b))
    assert engine.block_subsidy(high) <= engine.block_subsidy(low)
    assert math.isfinite(engine.block_subsidy(high))
