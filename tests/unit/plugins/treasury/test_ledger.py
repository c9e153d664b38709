"""The inventory ledger: weighted average cost, realized profit/loss, never a negative balance."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.treasury import ledger


@dataclass
class E:
    occurred_on: dt.date
    kind: str
    btc: D
    usd: D | None = None


def day(n: int) -> dt.date:
    return dt.date(2024, 1, 1) + dt.timedelta(days=n)


def test_two_buys_average_and_a_sale_realizes_against_the_average():
    result = ledger.run(
        [
            E(day(0), "bought", D("1"), D("60000")),
            E(day(1), "bought", D("1"), D("40000")),
            E(day(2), "sold", D("0.5"), D("35000")),
        ]
    )
    after_buys, after_sale = result.steps[1], result.steps[2]
    assert after_buys.average_cost_usd == D("50000.00")
    assert after_sale.cost_out_usd == D("25000.00")  # 0.5 BTC at 50,000
    assert after_sale.realized_pl_usd == D("10000.00")  # 35,000 - 25,000
    summary = result.summary
    assert summary.balance_btc == D("1.5")
    assert summary.average_cost_usd == D("50000.00")  # a sale does not move the average
    assert summary.cost_basis_usd == D("75000.00")
    assert summary.realized_pl_usd == D("10000.00")
    assert summary.as_dict() == {
        "balance_btc": "1.50000000",
        "average_cost_usd": "50000.00",
        "cost_basis_usd": "75000.00",
        "realized_pl_usd": "10000.00",
        "btc_in": "2.00000000",
        "btc_out": "0.50000000",
        "fee_btc": "0.00000000",
        "fee_cost_usd": "0.00",
        "entries": 3,
    }


def test_a_sale_below_the_average_is_a_loss_and_a_fee_takes_cost_without_profit():
    result = ledger.run(
        [
            E(day(0), "bought", D("2"), D("100000")),  # 50,000 each
            E(day(1), "fee", D("0.001")),  # 50.00 of cost used up, no proceeds
            E(day(2), "sold", D("1"), D("30000")),  # 50,000 cost -> 20,000 loss
        ]
    )
    fee, sale = result.steps[1], result.steps[2]
    assert fee.cost_out_usd == D("50.00") and fee.realized_pl_usd is None
    assert sale.realized_pl_usd == D("-20000.00")
    summary = result.summary
    assert summary.balance_btc == D("0.999")
    assert summary.cost_basis_usd == D("49950.00")
    assert summary.average_cost_usd == D("50000.00")
    assert (summary.fee_btc, summary.fee_cost_usd) == (D("0.001"), D("50.00"))


def test_mined_btc_counts_at_its_market_value_or_at_no_cost():
    result = ledger.run(
        [
            E(day(0), "mined", D("0.1"), D("6000")),
            E(day(1), "mined", D("0.1")),  # no value given: zero cost
        ]
    )
    assert result.summary.cost_basis_usd == D("6000.00")
    assert result.summary.average_cost_usd == D("30000.00")


def test_selling_everything_takes_out_the_whole_cost_to_the_cent():
    result = ledger.run(
        [
            E(day(0), "bought", D("3"), D("100.00")),
            E(day(1), "sold", D("1"), D("40")),  # 33.33 out (100/3 rounded)
            E(day(2), "sold", D("2"), D("70")),  # whatever is left: 66.67
        ]
    )
    assert [s.cost_out_usd for s in result.steps[1:]] == [D("33.33"), D("66.67")]
    summary = result.summary
    assert (summary.balance_btc, summary.cost_basis_usd) == (D("0"), D("0"))
    assert summary.average_cost_usd is None
    assert summary.realized_pl_usd == D("10.00")  # 110 received - 100 paid


def test_a_sale_larger_than_the_balance_is_refused_naming_the_date():
    sale = E(day(5), "sold", D("1.5"), D("1"))
    with pytest.raises(ledger.Overdrawn) as caught:
        ledger.run([E(day(0), "bought", D("1"), D("10")), sale])
    assert caught.value.entry is sale and caught.value.held == D("1")
    assert "2024-01-06" in str(caught.value)


def test_entries_apply_by_date_then_in_the_order_given():
    buy_later = E(day(3), "bought", D("1"), D("10"))
    sale = E(day(2), "sold", D("1"), D("10"))
    with pytest.raises(ledger.Overdrawn):  # the sale comes before the buy, whatever the order
        ledger.run([buy_later, sale])
    same_day = [E(day(0), "bought", D("1"), D("10")), E(day(0), "sold", D("1"), D("12"))]
    assert ledger.run(same_day).summary.realized_pl_usd == D("2.00")
    with pytest.raises(ledger.Overdrawn):
        ledger.run(list(reversed(same_day)))


def test_an_empty_ledger_holds_nothing():
    summary = ledger.run([]).summary
    assert summary.balance_btc == 0 and summary.average_cost_usd is None
    assert summary.as_dict()["average_cost_usd"] is None


# --- properties ---------------------------------------------------------------------------

amounts = st.decimals(min_value=D("0.00000001"), max_value=D("50"), places=8)
dollars = st.decimals(min_value=D("0"), max_value=D("5000000"), places=2)
entries = st.lists(
    st.builds(
        E,
        occurred_on=st.integers(0, 30).map(day),
        kind=st.sampled_from(ledger.KINDS),
        btc=amounts,
        usd=dollars,
    ).map(lambda e: E(e.occurred_on, e.kind, e.btc, None) if e.kind == "fee" else e),
    max_size=40,
)


@given(entries)
def test_balance_is_what_came_in_minus_what_went_out_and_never_negative(items):
    try:
        result = ledger.run(items)
    except ledger.Overdrawn as error:
        # Refused only where the entry really takes out more than was held just before it.
        held = D(0)
        for e in ledger.in_order(items):
            if e is error.entry:
                break
            held += e.btc if e.kind in ledger.IN_KINDS else -e.btc
        assert error.entry.btc > held == error.held
        return
    came_in = sum((e.btc for e in items if e.kind in ledger.IN_KINDS), D(0))
    went_out = sum((e.btc for e in items if e.kind in ledger.OUT_KINDS), D(0))
    assert result.summary.balance_btc == came_in - went_out
    assert all(step.balance_btc >= 0 for step in result.steps)
    assert all(step.cost_basis_usd >= 0 for step in result.steps)


@st.composite
def valid_histories(draw):
    """Entries that never overdraw: a sale or fee takes at most what is held at that point."""
    items, held, today = [], D(0), 0
    for _ in range(draw(st.integers(1, 40))):
        today += draw(st.integers(0, 3))
        kind = draw(st.sampled_from(ledger.KINDS if held > 0 else ledger.IN_KINDS))
        if kind in ledger.OUT_KINDS:
            share = draw(st.sampled_from([D(1), D("0.5"), D("0.1"), D("0.333")]))
            amount = max(ledger.btc(held * share), ledger.SATOSHI)
            amount = min(amount, held)
        else:
            amount = draw(amounts)
        value = None if kind == "fee" else draw(dollars)
        if kind == "mined" and draw(st.booleans()):
            value = None
        items.append(E(day(today), kind, amount, value))
        held += amount if kind in ledger.IN_KINDS else -amount
    return items


@given(entries)
def test_accepting_entries_one_by_one_never_goes_negative(items):
    """What the service does: keep an entry only if the whole history still adds up with it."""
    accepted: list[E] = []
    for entry in items:
        try:
            ledger.run([*accepted, entry])
        except ledger.Overdrawn:
            continue
        accepted.append(entry)
    result = ledger.run(accepted)
    came_in = sum((e.btc for e in accepted if e.kind in ledger.IN_KINDS), D(0))
    went_out = sum((e.btc for e in accepted if e.kind in ledger.OUT_KINDS), D(0))
    assert result.summary.balance_btc == came_in - went_out >= 0
    assert all(step.balance_btc >= 0 for step in result.steps)


@given(valid_histories())
def test_cost_is_conserved_and_sales_keep_the_average(items):
    result = ledger.run(items)
    came_in = sum((e.btc for e in items if e.kind in ledger.IN_KINDS), D(0))
    went_out = sum((e.btc for e in items if e.kind in ledger.OUT_KINDS), D(0))
    assert result.summary.balance_btc == came_in - went_out
    paid = sum((e.usd for e in items if e.kind in ledger.IN_KINDS and e.usd is not None), D(0))
    taken_out = sum((s.cost_out_usd for s in result.steps if s.cost_out_usd is not None), D(0))
    assert paid == result.summary.cost_basis_usd + taken_out  # to the cent
    received = sum((e.usd for e in items if e.kind == "sold"), D(0))
    sold_cost = sum((s.cost_out_usd for s in result.steps if s.entry.kind == "sold"), D(0))
    assert result.summary.realized_pl_usd == received - sold_cost
    previous = None
    for step in result.steps:
        if step.entry.kind in ledger.OUT_KINDS and step.average_cost_usd is not None:
            # Taking coins out at the average leaves the average where it was, but for the
            # cent the cost taken out was rounded to, spread over what is left.
            slack = D("0.005") / step.balance_btc + D("0.01")
            assert abs(step.average_cost_usd - previous) <= slack
        previous = step.average_cost_usd
