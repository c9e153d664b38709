"""The single-day engine with every haircut and fee, worked by hand; the revenue methods side
by side; properties that must hold for any inputs."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from plugins.calculator import engine
from plugins.calculator.engine import InputError, Scenario

TWO_32 = 4_294_967_296

FULL = Scenario(
    hashrate_ths=100,
    power_w=3000,
    electricity_usd_per_kwh=0.03,
    btc_price_usd=100_000,
    difficulty=1e14,
    block_height=900_000,
    fees_per_block_btc=0.125,
    pool_fee=0.025,
    dev_fee=0.02,
    uptime=0.9,
    curtailment_hours_per_day=4,
    idle_power_w=100,
    pue=1.1,
    hosting_usd_per_miner_month=15,
    hosting_usd_per_kwh=0.01,
    hosting_revenue_share=0.10,
    quantity=2,
    capex_usd=3000,
    salvage_usd=300,
    depreciation_months=36,
)


def test_a_day_with_every_fee_and_haircut_worked_by_hand():
    q = engine.quote(FULL)
    # Blocks a day for 100 TH/s at D = 1e14: 100e12 * 86400 / (1e14 * 2**32) = 86400 / 2**32
    # = 2.0116567611694336e-05 (exact: 2**32 is a power of two). Height 900,000 is in era 4:
    # subsidy 3.125, reward 3.125 + 0.125 = 3.25 BTC.
    assert q.block_subsidy_btc == 3.125
    assert q.block_reward_btc == 3.25
    # Hashing hours: (24 - 4 curtailed) * 0.9 uptime = 18 h, i.e. 0.75 of the day.
    assert q.hashing_hours_per_day == pytest.approx(18.0)
    # Gross: 2.0116567611694336e-05 * 3.25 * 0.75 * 2 machines = 9.806826710700989e-05 BTC.
    assert q.btc_gross_per_day == pytest.approx(9.806826710700989e-05, rel=1e-12)
    # Dev fee first (2 % of gross) = 1.9613653421401978e-06; pool 2.5 % of the rest
    # = 2.4026725441217426e-06; net = gross * 0.98 * 0.975 = 9.370422922074794e-05 BTC.
    assert q.dev_fee_btc_per_day == pytest.approx(1.9613653421401978e-06, rel=1e-12)
    assert q.pool_fee_btc_per_day == pytest.approx(2.4026725441217426e-06, rel=1e-12)
    assert q.btc_per_day == pytest.approx(9.370422922074794e-05, rel=1e-12)
    # Revenue at 100,000 USD: 9.370422922074795 USD.
    assert q.revenue_usd_per_day == pytest.approx(9.370422922074795, rel=1e-12)
    # Energy: (3000 W * 18 h + 100 W idle * 4 h) / 1000 * 2 machines = 108.8 kWh.
    assert q.energy_kwh_per_day == pytest.approx(108.8)
    # Power bill: 108.8 kWh * PUE 1.1 * 0.03 USD = 3.5904 USD.
    assert q.power_cost_usd_per_day == pytest.approx(3.5904)
    # Hosting: flat 15 USD * 2 / 30 days = 1.0; metered 108.8 kWh * 0.01 = 1.088; share 10 %
    # of revenue = 0.9370422922074795; total 3.0250422922074795.
    assert q.hosting_usd_per_day == pytest.approx(3.0250422922074795, rel=1e-12)
    # Profit: 9.370422922074795 - 3.5904 - 3.0250422922074795 = 2.7549806298673145.
    assert q.profit_usd_per_day == pytest.approx(2.7549806298673145, rel=1e-12)
    assert q.profit_usd_per_month == pytest.approx(2.7549806298673145 * 30, rel=1e-12)
    assert q.margin == pytest.approx(2.7549806298673145 / 9.370422922074795, rel=1e-12)
    # Depreciation: (3000 - 300) * 2 / (36 * 30 days) = 5.0 USD a day.
    assert q.depreciation_usd_per_day == pytest.approx(5.0)
    assert q.net_income_usd_per_day == pytest.approx(2.7549806298673145 - 5.0, rel=1e-12)
    # Hashprice: 2.0116567611694336e-07 BTC/TH/day per BTC of reward * 3.25 * 100,000 USD
    # = 0.06537884473800659 USD/TH/day, 65.37884473800659 per PH/day.
    assert q.hashprice_btc_per_th_day == pytest.approx(6.537884473800659e-07, rel=1e-12)
    assert q.hashprice_usd_per_th_day == pytest.approx(0.06537884473800659, rel=1e-12)
    assert q.hashprice_usd_per_ph_day == pytest.approx(65.37884473800659, rel=1e-12)
    # Break-even electricity: (revenue kept 9.3704 * 0.9 - flat 1.0 - metered 1.088)
    # / (108.8 kWh * 1.1) = 0.0530195574019662 USD/kWh.
    assert q.break_even_usd_per_kwh == pytest.approx(0.0530195574019662, rel=1e-12)
    # Break-even BTC price: costs that do not move with price (3.5904 + 1.0 + 1.088) over the
    # BTC kept after the host's share (9.3704e-05 * 0.9) = 67,332.42870468352 USD.
    assert q.break_even_btc_price_usd == pytest.approx(67_332.42870468352, rel=1e-12)
    # Break-even hashprice: 5.6784 USD / (100 TH * 2 * 0.75 * 0.98 * 0.975 * 0.9)
    # = 0.04402116402116402 USD/TH/day.
    assert q.break_even_hashprice_usd_per_th_day == pytest.approx(0.04402116402116402)
    # Break-even difficulty: 1e14 * 9.3704 * 0.9 / 5.6784 = 1.485168468207121e14.
    assert q.break_even_difficulty == pytest.approx(1.485168468207121e14, rel=1e-12)
    # Cash cost of a mined BTC: (3.5904 + 3.0250) / 9.3704e-05 = 70,599.18583421518 USD.
    assert q.cost_per_btc_usd == pytest.approx(70_599.18583421518, rel=1e-12)
    assert q.efficiency_j_per_th == 30.0
    # Static payback: capex 3000 * 2 / 2.7549806298673145 = 2177.87375161653 days.
    assert q.static_payback_days == pytest.approx(2177.87375161653, rel=1e-12)


def test_every_break_even_makes_the_profit_zero():
    q = engine.quote(FULL)
    for field, value in (
        ("electricity_usd_per_kwh", q.break_even_usd_per_kwh),
        ("btc_price_usd", q.break_even_btc_price_usd),
        ("difficulty", q.break_even_difficulty),
    ):
        at = engine.quote(FULL.replace(**{field: value}))
        assert at.profit_usd_per_day == pytest.approx(0.0, abs=1e-9), field
    # The break-even hashprice is the network's: reach it by moving the price.
    factor = q.break_even_hashprice_usd_per_th_day / q.hashprice_usd_per_th_day
    at = engine.quote(FULL.replace(btc_price_usd=100_000 * factor))
    assert at.profit_usd_per_day == pytest.approx(0.0, abs=1e-9)


def test_a_loss_has_no_payback_and_the_json_says_none():
    q = engine.quote(FULL.replace(electricity_usd_per_kwh=0.2))
    assert q.profit_usd_per_day < 0
    assert np.isnan(q.static_payback_days)
    assert q.as_dict()["static_payback_days"] is None


@pytest.mark.parametrize(
    ("height", "subsidy"),
    [(839_999, 6.25), (840_000, 3.125), (1_049_999, 3.125), (1_050_000, 1.5625), (6_930_000, 0.0)],
)
def test_subsidy_at_the_heights_the_issue_names(height, subsidy):
    # 50 BTC = 5,000,000,000 sat >> (height // 210,000): era 3 -> 6.25, era 4 -> 3.125,
    # era 5 -> 1.5625; 6,930,000 = 33 * 210,000 and 5e9 >> 33 = 0 sat.
    assert engine.block_subsidy(height) == subsidy
    assert engine.quote(FULL.replace(block_height=height)).block_subsidy_btc == subsidy


def test_next_halving_is_1050000_during_era_4():
    assert engine.next_halving_height(925_000) == 1_050_000
    assert engine.next_halving_height(1_050_000) == 1_260_000


def test_a_million_scenarios_in_slices_match_the_one_by_one_figures():
    rng = np.random.default_rng(3)
    n = 3 * engine.CHUNK + 17  # several slices and a ragged end
    batch = FULL.replace(
        hashrate_ths=rng.uniform(50, 300, n),
        electricity_usd_per_kwh=rng.uniform(0.0, 0.2, n),
        btc_price_usd=rng.uniform(0, 2e5, n),
        block_height=rng.integers(800_000, 1_100_000, n),
    )
    many = engine.quote(batch)
    for i in (0, 1, engine.CHUNK, n - 1):
        one = engine.quote(
            FULL.replace(
                hashrate_ths=batch.hashrate_ths[i],
                electricity_usd_per_kwh=batch.electricity_usd_per_kwh[i],
                btc_price_usd=batch.btc_price_usd[i],
                block_height=int(batch.block_height[i]),
            )
        )
        for name, value in one.as_dict().items():
            got = getattr(many, name)[i]
            if value is None:
                assert np.isnan(got), name
            else:
                assert got == pytest.approx(value, rel=1e-12, abs=1e-12), name


def test_scenarios_broadcast_into_a_grid():
    q = engine.quote(
        FULL.replace(
            electricity_usd_per_kwh=np.array([[0.02], [0.04], [0.06]]),
            btc_price_usd=np.array([60_000, 90_000, 120_000, 150_000]),
        )
    )
    assert q.profit_usd_per_day.shape == (3, 4)
    assert q.block_subsidy_btc.shape == (3, 4)
    # Cheaper power is better at every price; a higher price is better at every power price.
    assert np.all(np.diff(q.profit_usd_per_day, axis=0) < 0)
    assert np.all(np.diff(q.profit_usd_per_day, axis=1) > 0)


@pytest.mark.parametrize(
    ("field", "bad", "words"),
    [
        ("pool_fee", 1.5, "at most 1"),
        ("uptime", -0.1, "negative"),
        ("curtailment_hours_per_day", 25, "at most 24"),
        ("pue", 0.9, "at least 1"),
        ("hosting_revenue_share", float("nan"), "finite"),
        ("capex_usd", float("inf"), "finite"),
        ("quantity", "two", "must be a number"),
        ("depreciation_months", 0, "at least 1"),
        ("block_height", 1.5, "whole number"),
    ],
)
def test_bad_scenario_inputs_name_the_field(field, bad, words):
    with pytest.raises(InputError, match=words) as error:
        engine.quote(FULL.replace(**{field: bad}))
    assert error.value.field == field


def test_from_dict_refuses_unknown_and_missing_inputs():
    values = FULL.as_dict()
    assert engine.quote(Scenario.from_dict(values)).btc_per_day > 0
    with pytest.raises(InputError, match="not a calculator input") as error:
        Scenario.from_dict({**values, "hashrate": 1})
    assert error.value.field == "hashrate"
    del values["difficulty"]
    with pytest.raises(InputError, match="difficulty is needed"):
        Scenario.from_dict(values)


def test_new_modules_do_not_import_pyramid():
    code = (
        "import sys; import plugins.calculator.engine, plugins.calculator.projection, "
        "plugins.calculator.montecarlo, plugins.calculator.sensitivity, "
        "plugins.calculator.finance; sys.exit('pyramid' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# ------------------------------------------------------------------ revenue methods


def test_difficulty_and_network_share_agree_exactly_at_600_s_blocks():
    # H_net = D * 2**32 / 600 and 144 blocks: H / H_net * 144 * R = H * 600 * 144 / (D * 2**32)
    # * R = H * 86400 / (D * 2**32) * R, the difficulty formula.
    d = 1.3e14
    network = d * TWO_32 / 600 / 1e12  # TH/s
    check = engine.compare_revenue_methods(200, d, 3.155, network_hashrate_ths=network)
    (share,) = check.methods
    assert share.btc_per_day == pytest.approx(check.btc_per_day_gross, rel=1e-12)
    assert share.independent is False
    assert share.note == "network_hashrate_derived_from_difficulty"
    assert not check.any_flagged


def test_an_observed_network_hashrate_that_disagrees_is_flagged():
    d = 1.3e14
    implied = d * TWO_32 / 600 / 1e12
    # 10 % more hashrate observed than the difficulty implies, 150 blocks found instead of
    # 144: 1/1.1 * 150/144 - 1 = -5.30 %, over the 5 % threshold.
    check = engine.compare_revenue_methods(
        200, d, 3.155, network_hashrate_ths=implied * 1.1, blocks_per_day=150
    )
    (share,) = check.methods
    assert share.divergence == pytest.approx(150 / 144 / 1.1 - 1)
    assert share.flagged and check.any_flagged
    assert share.independent is True
    # The caller can say the figure came from difficulty even when it differs.
    derived = engine.compare_revenue_methods(
        200, d, 3.155, network_hashrate_ths=implied * 1.1, network_hashrate_from_difficulty=True
    )
    assert derived.methods[0].independent is False


def test_hashprice_index_and_pool_payouts_side_by_side():
    # Difficulty method: 100 TH/s at D = 1e14 and R = 3.25 gives 6.537884473800659e-05 BTC
    # gross; net of a 2 % pool fee 6.407126784324646e-05.
    gross = 86_400 / TWO_32 * 3.25
    check = engine.compare_revenue_methods(
        100,
        1e14,
        3.25,
        pool_fee=0.02,
        # Index in USD: 0.0625 USD/TH/day at 100,000 USD = 6.25e-07 BTC/TH/day, 100 TH ->
        # 6.25e-05 BTC, 4.40 % under the gross figure: not flagged at 5 %.
        hashprice_usd_per_th_day=0.0625,
        btc_price_usd=100_000,
        # The pool paid 0.0018 BTC over 30 days for 100 TH/s: 6e-05 a day, 6.35 % under the
        # net figure: flagged.
        realized_btc=0.0018,
        realized_days=30,
    )
    index, realized = check.methods
    assert check.btc_per_day_gross == pytest.approx(gross, rel=1e-12)
    assert index.method == "hashprice_index" and index.basis == "gross"
    assert index.btc_per_day == pytest.approx(6.25e-05)
    assert index.divergence == pytest.approx(6.25e-05 / gross - 1)
    assert not index.flagged
    assert realized.method == "realized_payouts" and realized.basis == "net"
    assert realized.divergence == pytest.approx(6e-05 / (gross * 0.98) - 1)
    assert realized.flagged
    assert check.as_dict()["methods"][1]["flagged"] is True


def test_realized_payouts_scale_to_another_hashrate():
    # 0.01 BTC over 10 days for 500 TH/s is 2e-06 BTC per TH/day; for 200 TH/s 4e-04 a day.
    value = engine.btc_per_day_realized(200, 0.01, 10, realized_hashrate_ths=500)
    assert value == pytest.approx(4e-04)


def test_a_usd_hashprice_needs_the_price():
    with pytest.raises(InputError) as error:
        engine.btc_per_day_from_hashprice(100, hashprice_usd_per_th_day=0.05)
    assert error.value.field == "btc_price_usd"


# ------------------------------------------------------------------ properties

hashrates = st.floats(min_value=1e-3, max_value=1e6)
difficulties = st.floats(min_value=1, max_value=1e16)
factors = st.floats(min_value=1e-3, max_value=1e3)
heights = st.integers(min_value=0, max_value=7_000_000)
rewards_fees = st.floats(min_value=0, max_value=10)
prices = st.floats(min_value=0, max_value=1e6)


@given(hashrates, factors, difficulties, heights, rewards_fees, prices)
def test_revenue_is_linear_in_hashrate(hashrate, factor, difficulty, height, fees, price):
    base = Scenario(hashrate, 3000, 0.05, price, difficulty, height, fees, pool_fee=0.02)
    one = engine.quote(base)
    scaled = engine.quote(base.replace(hashrate_ths=hashrate * factor))
    assert scaled.btc_per_day == pytest.approx(one.btc_per_day * factor, rel=1e-9, abs=1e-300)
    assert scaled.revenue_usd_per_day == pytest.approx(
        one.revenue_usd_per_day * factor, rel=1e-9, abs=1e-300
    )


@given(hashrates, factors, difficulties, heights, rewards_fees, prices)
def test_revenue_is_inverse_in_difficulty(hashrate, factor, difficulty, height, fees, price):
    assume(1 <= difficulty * factor <= engine.MAX_DIFFICULTY)
    base = Scenario(hashrate, 3000, 0.05, price, difficulty, height, fees)
    one = engine.quote(base)
    harder = engine.quote(base.replace(difficulty=difficulty * factor))
    assert harder.btc_per_day == pytest.approx(one.btc_per_day / factor, rel=1e-9, abs=1e-300)


@settings(max_examples=50)
@given(
    hashrates,
    st.floats(min_value=1, max_value=2e5),
    st.floats(min_value=1, max_value=1e16),
    st.integers(min_value=0, max_value=2_000_000),
)
def test_network_share_equals_difficulty_at_600_s_blocks(hashrate, reward, difficulty, height):
    network = difficulty * TWO_32 / 600 / 1e12
    a = engine.btc_per_day(hashrate, difficulty, reward)
    b = engine.btc_per_day_network_share(hashrate, network, reward, 144)
    assert b == pytest.approx(a, rel=1e-12)
