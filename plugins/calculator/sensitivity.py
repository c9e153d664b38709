"""Sensitivity: a tornado table of what moves profit and payback most. Pure numpy.

Each input in turn is moved down and up by each step (10 % and 25 % by default) with all
others at their base values; every variant runs in one vectorized call. Rows are sorted by
their swing (the spread of profit per day across the variants), biggest first, which is
the order a tornado chart draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from translationstring import TranslationStringFactory

from plugins.calculator.engine import (
    DAYS_PER_MONTH,
    LIMITS,
    InputError,
    Scenario,
    _number,
    _Record,
    quote,
)
from plugins.calculator.projection import MAX_GROWTH, MIN_GROWTH, ProjectionSettings, project

_ = TranslationStringFactory("hashinsight")  # translationstring: no Pyramid here

STEPS = (0.10, 0.25)
# Inputs a tornado looks at; those at 0 are left out (a percentage of nothing moves nothing).
DEFAULT_INPUTS = (
    "btc_price_usd",
    "difficulty",
    "hashrate_ths",
    "power_w",
    "electricity_usd_per_kwh",
    "fees_per_block_btc",
    "pool_fee",
    "dev_fee",
    "uptime",
    "curtailment_hours_per_day",
    "idle_power_w",
    "pue",
    "hosting_usd_per_miner_month",
    "hosting_usd_per_kwh",
    "hosting_revenue_share",
    "capex_usd",
)
# With a projection, its growth rates can be moved too.
SETTINGS_INPUTS = ("hashrate_growth_per_month", "price_growth_per_month")


@dataclass(frozen=True)
class TornadoRow(_Record):
    """One input: its base value, and per step the values tried and what came out."""

    input: str
    base_value: float
    steps: list  # [{"step", "low_value", "high_value", "profit_low", "profit_high", ...}]
    swing_profit_usd_per_day: float
    swing_payback_months: float  # NaN when the payback does not exist at some variant


@dataclass(frozen=True)
class Tornado(_Record):
    """Rows sorted by swing; ``payback`` says which payback was used: ``"static"`` (capex
    over today's profit) or ``"dynamic"`` (from the projection)."""

    base_profit_usd_per_day: float
    base_payback_months: float
    payback: str
    rows: list[TornadoRow]


def tornado(
    scenario: Scenario,
    settings: ProjectionSettings | None = None,
    *,
    steps=STEPS,
    inputs=None,
) -> Tornado:
    """Move each input by -/+ each step and sort by the swing in profit per day.

    Profit per day is today's (:func:`~plugins.calculator.engine.quote`). Payback is the
    static one from today's profit, or with ``settings`` the dynamic payback of the
    projection. Values are kept inside each input's limits (an uptime of 1.0 cannot go
    25 % up), so a row may move less than the step says; its values show by how much.
    """
    checked = scenario.checked()
    if checked["shape"] != ():
        raise InputError(_("the tornado runs one scenario at a time"), "scenario")
    sizes = _number(steps, "steps", minimum=1e-6, maximum=0.99)
    sizes = [float(s) for s in np.atleast_1d(sizes)]
    names = list(inputs) if inputs is not None else list(DEFAULT_INPUTS)
    if settings is not None:
        names += [n for n in SETTINGS_INPUTS if inputs is None or n in inputs]
    known = {f.name for f in fields(Scenario)} | set(SETTINGS_INPUTS)
    for name in names:
        if name not in known:
            raise InputError(
                _("${field} is not a calculator input", mapping={"field": name}), "inputs"
            )
        if name == "block_height":
            raise InputError(_("block_height cannot be moved by a percentage"), "inputs")

    def base_of(name):
        if name in SETTINGS_INPUTS:
            value = getattr(settings, name)
            if np.ndim(value) != 0:
                return None  # a path, not a number to move
            return float(value)
        return float(checked[name])

    moved = [(n, base_of(n)) for n in names]
    moved = [(n, b) for n, b in moved if b is not None and b != 0.0]

    # Variant 0 is the base; then for each input, for each step, low and high.
    factors = [f for s in sizes for f in (1.0 - s, 1.0 + s)]
    count = 1 + len(moved) * len(factors)
    columns = {f.name: np.full(count, float(checked[f.name])) for f in fields(Scenario)}
    # A growth given as a path (not one number) is passed through unmoved.
    growth = {}
    for name in SETTINGS_INPUTS:
        base = base_of(name) if settings is not None else 0.0
        if base is not None:
            growth[name] = np.full(count, base)
    row = 1
    for name, base in moved:
        low, high = LIMITS.get(name, (MIN_GROWTH, MAX_GROWTH))
        target = columns[name] if name in columns else growth[name]
        for factor in factors:
            target[row] = min(max(base * factor, low), high)
            row += 1

    variants = Scenario(**columns)
    profit = np.asarray(quote(variants).profit_usd_per_day, dtype=float)
    if settings is None:
        capex = columns["capex_usd"] * columns["quantity"]
        with np.errstate(divide="ignore", invalid="ignore"):
            payback = np.where(profit > 0, capex / (profit * DAYS_PER_MONTH), np.nan)
        kind = "static"
    else:
        path_settings = replace(settings, **{n: g[:, None] for n, g in growth.items()})
        payback = np.asarray(project(variants, path_settings).payback_months, dtype=float)
        kind = "dynamic"

    rows: list[TornadoRow] = []
    row = 1
    for name, base in moved:
        values = columns[name] if name in columns else growth[name]
        entries = []
        for size in sizes:
            lo, hi = row, row + 1
            entries.append(
                {
                    "step": size,
                    "low_value": float(values[lo]),
                    "high_value": float(values[hi]),
                    "profit_low": float(profit[lo]),
                    "profit_high": float(profit[hi]),
                    "payback_low": float(payback[lo]),
                    "payback_high": float(payback[hi]),
                }
            )
            row += 2
        span = slice(row - 2 * len(sizes), row)
        these = np.concatenate([[profit[0]], profit[span]])
        paybacks = np.concatenate([[payback[0]], payback[span]])
        swing_payback = (
            float(np.max(paybacks) - np.min(paybacks))
            if not np.any(np.isnan(paybacks))
            else float("nan")
        )
        rows.append(
            TornadoRow(
                input=name,
                base_value=base,
                steps=entries,
                swing_profit_usd_per_day=float(np.max(these) - np.min(these)),
                swing_payback_months=swing_payback,
            )
        )
    rows.sort(
        key=lambda r: (
            -r.swing_profit_usd_per_day,
            -(r.swing_payback_months if not np.isnan(r.swing_payback_months) else np.inf),
        )
    )
    return Tornado(
        base_profit_usd_per_day=float(profit[0]),
        base_payback_months=float(payback[0]),
        payback=kind,
        rows=rows,
    )
