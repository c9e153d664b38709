"""Which hours to switch the miners off, and what that saves (pure: no Pyramid, no database).

The rule is the plain economic one. Mining one MWh earns ``breakeven`` dollars (the fleet's
revenue per MWh, from the hashprice and the miners' efficiency); buying that MWh costs the
hour's price. When the price is above the breakeven every MWh mined loses money, so those
hours are curtailed. Switching off saves the power bill of the hour but gives up the mining
revenue of the hour, so the net saving of a curtailed hour is::

    saving = (price - breakeven) * load_mw * 1 h

An hour priced exactly at the breakeven is not curtailed (mining it neither earns nor loses),
and a negative price is never curtailed (the farm is paid to run).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

HOUR = dt.timedelta(hours=1)
MWH_PER_MW_HOUR = Decimal(1)


def to_decimal(value: Decimal | int | float | str) -> Decimal:
    """An exact Decimal; floats go through ``str`` so 0.1 stays 0.1. Rejects NaN and infinity."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


def breakeven_from_hashprice(hashprice_usd_per_th_day, efficiency_j_per_th) -> Decimal:
    """Revenue per MWh of a fleet: hashprice / (J/TH * 24 h / 1e6).

    A miner at E J/TH draws E watts for each TH/s, so one TH/s for a day uses E * 24 Wh =
    E * 24 / 1e6 MWh and earns the hashprice.
    """
    hashprice = to_decimal(hashprice_usd_per_th_day)
    efficiency = to_decimal(efficiency_j_per_th)
    if efficiency <= 0:
        raise ValueError("efficiency must be above 0 J/TH")
    return hashprice / (efficiency * 24 / Decimal(1_000_000))


@dataclass(frozen=True)
class HourlyPrice:
    starts_at: dt.datetime
    price_per_mwh: Decimal


@dataclass(frozen=True)
class CurtailedHour:
    starts_at: dt.datetime
    price_per_mwh: Decimal
    energy_mwh: Decimal  # not bought, because the miners are off
    energy_cost: Decimal  # what that power would have cost
    revenue_forgone: Decimal  # what mining it would have earned
    saving: Decimal  # energy_cost - revenue_forgone, never negative


@dataclass(frozen=True)
class CurtailmentPlan:
    breakeven_per_mwh: Decimal
    load_mw: Decimal
    hours_priced: int
    curtailed: tuple[CurtailedHour, ...]

    @property
    def hours_to_curtail(self) -> int:
        return len(self.curtailed)

    @property
    def energy_mwh(self) -> Decimal:
        return sum((h.energy_mwh for h in self.curtailed), Decimal(0))

    @property
    def energy_cost(self) -> Decimal:
        return sum((h.energy_cost for h in self.curtailed), Decimal(0))

    @property
    def revenue_forgone(self) -> Decimal:
        return sum((h.revenue_forgone for h in self.curtailed), Decimal(0))

    @property
    def saving(self) -> Decimal:
        return sum((h.saving for h in self.curtailed), Decimal(0))


def should_curtail(price_per_mwh, breakeven_per_mwh) -> bool:
    return to_decimal(price_per_mwh) > to_decimal(breakeven_per_mwh)


def plan_curtailment(prices: Iterable[HourlyPrice], breakeven_per_mwh, load_mw) -> CurtailmentPlan:
    """The hours (each one hour long) to curtail, in time order, and what each saves.

    Raises ``ValueError`` for a negative load or the same hour given twice.
    """
    breakeven = to_decimal(breakeven_per_mwh)
    load = to_decimal(load_mw)
    if load < 0:
        raise ValueError("load_mw cannot be negative")
    ordered = sorted(prices, key=lambda p: p.starts_at)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.starts_at == after.starts_at:
            raise ValueError(f"two prices for the hour starting {after.starts_at.isoformat()}")
    energy = load * MWH_PER_MW_HOUR
    curtailed = []
    for hour in ordered:
        price = to_decimal(hour.price_per_mwh)
        if price > breakeven:
            cost, forgone = price * energy, breakeven * energy
            curtailed.append(
                CurtailedHour(hour.starts_at, price, energy, cost, forgone, cost - forgone)
            )
    return CurtailmentPlan(breakeven, load, len(ordered), tuple(curtailed))
