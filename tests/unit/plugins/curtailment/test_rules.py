"""The curtailment rule and its money, by hand and by property."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.curtailment.rules import (
    HourlyPrice,
    breakeven_from_hashprice,
    plan_curtailment,
    should_curtail,
)

T0 = dt.datetime(2026, 3, 1)


def hours(*prices):
    return [HourlyPrice(T0 + dt.timedelta(hours=i), Decimal(str(p))) for i, p in enumerate(prices)]


def test_a_day_worked_by_hand():
    # Breakeven 45 $/MWh, 10 MW of miners. Hours above 45: 50, 120.5 and 80.
    #   50    -> (50 - 45)    * 10 =  50.00 saved
    #   120.5 -> (120.5 - 45) * 10 = 755.00 saved
    #   80    -> (80 - 45)    * 10 = 350.00 saved
    # Power bill avoided (50 + 120.5 + 80) * 10 = 2505; mining income given up 3 * 45 * 10 = 1350.
    plan = plan_curtailment(hours(30, 45, 50, 120.5, -20, 80), 45, 10)
    assert plan.hours_priced == 6
    assert plan.hours_to_curtail == 3
    assert [h.starts_at.hour for h in plan.curtailed] == [2, 3, 5]
    assert [h.saving for h in plan.curtailed] == [Decimal("50"), Decimal("755.0"), Decimal("350")]
    assert plan.energy_mwh == Decimal(30)
    assert plan.energy_cost == Decimal("2505.0")
    assert plan.revenue_forgone == Decimal(1350)
    assert plan.saving == Decimal("1155.0")


def test_price_equal_to_breakeven_and_negative_prices_keep_mining():
    assert not should_curtail(45, 45)
    assert should_curtail("45.0001", 45)
    assert not should_curtail(-500, 0)
    plan = plan_curtailment(hours(45, -500, -0.01), 0, 5)
    assert [h.price_per_mwh for h in plan.curtailed] == [Decimal(45)]
    assert plan.saving == Decimal(225)  # (45 - 0) * 5


def test_hours_come_back_in_time_order_whatever_order_they_went_in():
    shuffled = list(reversed(hours(100, 10, 200)))
    plan = plan_curtailment(shuffled, 50, 1)
    assert [h.starts_at.hour for h in plan.curtailed] == [0, 2]


def test_no_prices_means_nothing_to_curtail():
    plan = plan_curtailment([], 45, 10)
    assert plan.hours_priced == 0 and plan.curtailed == () and plan.saving == 0


def test_floats_are_taken_at_their_printed_value():
    plan = plan_curtailment(hours(0.3), 0.1, 0.1)
    assert plan.saving == Decimal("0.02")  # (0.3 - 0.1) * 0.1, exactly


def test_breakeven_from_hashprice_by_hand():
    # 0.05 $/TH/day at 20 J/TH: one TH/s for a day uses 20 W * 24 h = 480 Wh = 0.00048 MWh,
    # so one MWh earns 0.05 / 0.00048 = 104.1666... dollars.
    value = breakeven_from_hashprice("0.05", 20)
    assert value.quantize(Decimal("0.0001")) == Decimal("104.1667")
    assert breakeven_from_hashprice("0.048", 24) == Decimal("83.33333333333333333333333333")
    with pytest.raises(ValueError):
        breakeven_from_hashprice("0.05", 0)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="two prices"):
        plan_curtailment(hours(1) + hours(2), 0, 1)
    with pytest.raises(ValueError, match="negative"):
        plan_curtailment(hours(1), 0, -1)
    with pytest.raises(ValueError, match="finite"):
        plan_curtailment(hours(1), float("nan"), 1)


prices_st = st.lists(
    st.decimals(min_value=-1000, max_value=10000, places=2, allow_nan=False), max_size=48
)
money_st = st.decimals(min_value=0, max_value=500, places=2, allow_nan=False)
load_st = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False)


@given(prices_st, money_st, load_st)
def test_the_plan_curtails_exactly_the_hours_above_breakeven(prices, breakeven, load):
    plan = plan_curtailment(hours(*prices), breakeven, load)
    chosen = {h.starts_at for h in plan.curtailed}
    for hour in hours(*prices):
        assert (hour.starts_at in chosen) == (hour.price_per_mwh > breakeven)
    assert plan.saving == sum((max(p - breakeven, 0) for p in prices), Decimal(0)) * load
    assert plan.saving == plan.energy_cost - plan.revenue_forgone
    assert plan.saving >= 0
    assert plan.energy_mwh == load * plan.hours_to_curtail


@given(prices_st, money_st, load_st, st.data())
def test_no_other_choice_of_hours_saves_more(prices, breakeven, load, data):
    plan = plan_curtailment(hours(*prices), breakeven, load)
    other = data.draw(st.lists(st.booleans(), min_size=len(prices), max_size=len(prices)))
    chosen = [p for p, off in zip(prices, other, strict=True) if off]
    other_saving = sum(((p - breakeven) * load for p in chosen), Decimal(0))
    assert other_saving <= plan.saving


@given(prices_st, money_st, money_st, load_st)
def test_a_higher_breakeven_never_curtails_more(prices, a, b, load):
    low, high = sorted((a, b))
    at_low = {h.starts_at for h in plan_curtailment(hours(*prices), low, load).curtailed}
    at_high = {h.starts_at for h in plan_curtailment(hours(*prices), high, load).curtailed}
    assert at_high <= at_low


@given(prices_st, money_st, load_st)
def test_saving_grows_in_step_with_the_load(prices, breakeven, load):
    one = plan_curtailment(hours(*prices), breakeven, load)
    two = plan_curtailment(hours(*prices), breakeven, load * 2)
    assert two.saving == one.saving * 2
    assert two.hours_to_curtail == one.hours_to_curtail


def test_the_module_imports_nothing_from_the_web_or_the_database():
    import ast

    import plugins.curtailment.rules as rules

    tree = ast.parse(open(rules.__file__).read())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"__future__", "datetime", "collections.abc", "dataclasses", "decimal"}
