"""The BTC inventory ledger: balance, weighted average cost and realized profit/loss.

Plain arithmetic on ``Decimal``, with no Pyramid and no database: the service, the report and
the tests hand it anything with ``occurred_on``, ``kind``, ``btc`` and ``usd`` attributes (the
``Entry`` model has them).

Weighted average cost: every coin held has the same cost, the total cost of the coins held
divided by how many there are.

- ``mined`` and ``bought`` add BTC and add their ``usd`` to the cost (a mined entry without a
  USD value adds its coins at zero cost);
- ``sold`` and ``fee`` take BTC out at the current average cost, so the average stays the same.
  A sale's realized profit/loss is what it brought in minus the cost taken out. A fee brings
  nothing in; the cost of the coins it used is counted as fee cost, not as profit/loss.
- Taking out more BTC than is held at that point is an error (:class:`Overdrawn`).

Entries are applied by date; entries of the same date in the order they are given (the
service gives them in the order they were entered). The cost is kept in whole cents: the cost
taken out by a sale or fee is rounded to the cent (half up), and taking out the whole balance
takes out the whole cost, so cost in = cost held + cost taken out, to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

MINED, BOUGHT, SOLD, FEE = "mined", "bought", "sold", "fee"
KINDS = (MINED, BOUGHT, SOLD, FEE)
IN_KINDS = (MINED, BOUGHT)
OUT_KINDS = (SOLD, FEE)

ZERO = Decimal(0)
CENT = Decimal("0.01")
SATOSHI = Decimal("0.00000001")


def usd(value: Decimal) -> Decimal:
    """Round to the cent, half up (how people round money)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def btc(value: Decimal) -> Decimal:
    return value.quantize(SATOSHI, rounding=ROUND_HALF_UP)


def usd_text(value: Decimal | None) -> str | None:
    """For JSON: "1234.50" (a string keeps every digit; str() could give "0E-2")."""
    return None if value is None else f"{usd(value):.2f}"


def btc_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{btc(value):.8f}"


class Overdrawn(ValueError):
    """A sale or fee takes out more BTC than is held at that point."""

    def __init__(self, entry: Any, held: Decimal):
        self.entry = entry
        self.held = held
        super().__init__(
            f"{entry.kind} of {btc(Decimal(entry.btc))} BTC on {entry.occurred_on} is more than "
            f"the {btc(held)} BTC held then"
        )


@dataclass(frozen=True)
class Step:
    """One entry applied to the ledger, and the position right after it."""

    entry: Any
    balance_btc: Decimal
    cost_basis_usd: Decimal  # total cost of the coins held, in cents
    average_cost_usd: Decimal | None  # USD per BTC, to the cent; None when nothing is held
    cost_out_usd: Decimal | None  # sold and fee: the cost taken out
    realized_pl_usd: Decimal | None  # sold: what it brought in minus the cost taken out


@dataclass(frozen=True)
class Summary:
    balance_btc: Decimal
    cost_basis_usd: Decimal
    average_cost_usd: Decimal | None
    realized_pl_usd: Decimal
    btc_in: Decimal  # mined + bought
    btc_out: Decimal  # sold + fee
    fee_btc: Decimal
    fee_cost_usd: Decimal
    entries: int

    def as_dict(self) -> dict:
        return {
            "balance_btc": btc_text(self.balance_btc),
            "average_cost_usd": usd_text(self.average_cost_usd),
            "cost_basis_usd": usd_text(self.cost_basis_usd),
            "realized_pl_usd": usd_text(self.realized_pl_usd),
            "btc_in": btc_text(self.btc_in),
            "btc_out": btc_text(self.btc_out),
            "fee_btc": btc_text(self.fee_btc),
            "fee_cost_usd": usd_text(self.fee_cost_usd),
            "entries": self.entries,
        }


@dataclass(frozen=True)
class Ledger:
    steps: list[Step]
    summary: Summary


def _average(cost: Decimal, balance: Decimal) -> Decimal | None:
    return usd(cost / balance) if balance > 0 else None


def in_order(entries: Iterable[Any]) -> list[Any]:
    """By date; entries of one date keep the order given (``sorted`` is stable)."""
    return sorted(entries, key=lambda e: e.occurred_on)


def run(entries: Iterable[Any]) -> Ledger:
    """Apply ``entries`` in date order; raise :class:`Overdrawn` at the first one that overdraws."""
    balance = cost = realized = ZERO
    btc_in = btc_out = fee_btc = fee_cost = ZERO
    steps: list[Step] = []
    # Enough digits that cost * btc / balance is exact to far below a cent before rounding.
    with localcontext() as ctx:
        ctx.prec = 60
        for entry in in_order(entries):
            kind = entry.kind
            amount = Decimal(entry.btc)
            value = None if entry.usd is None else Decimal(entry.usd)
            if amount <= 0:
                raise ValueError(f"btc must be more than 0 (entry on {entry.occurred_on})")
            cost_out = pl = None
            if kind in IN_KINDS:
                balance += amount
                cost += usd(value) if value is not None else ZERO
                btc_in += amount
            elif kind in OUT_KINDS:
                if amount > balance:
                    raise Overdrawn(entry, balance)
                cost_out = cost if amount == balance else usd(cost * amount / balance)
                balance -= amount
                cost -= cost_out
                btc_out += amount
                if kind == SOLD:
                    if value is None:
                        raise ValueError(f"a sale needs its USD (entry on {entry.occurred_on})")
                    pl = usd(value) - cost_out
                    realized += pl
                else:
                    fee_btc += amount
                    fee_cost += cost_out
            else:
                raise ValueError(f"unknown kind '{kind}' (use {', '.join(KINDS)})")
            steps.append(Step(entry, balance, cost, _average(cost, balance), cost_out, pl))
    summary = Summary(
        balance_btc=balance,
        cost_basis_usd=cost,
        average_cost_usd=_average(cost, balance),
        realized_pl_usd=realized,
        btc_in=btc_in,
        btc_out=btc_out,
        fee_btc=fee_btc,
        fee_cost_usd=fee_cost,
        entries=len(steps),
    )
    return Ledger(steps, summary)
