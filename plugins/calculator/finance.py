"""Discounting, IRR and payback for rows of periodic cash flows. Pure numpy, no Pyramid.

Cash flows are arrays whose last axis is time: ``flows[..., 0]`` happens now (typically
minus the capex), ``flows[..., t]`` at the end of period ``t``. Every function works on one
row or on ten thousand at once and returns one value per row.
"""

from __future__ import annotations

import numpy as np
from translationstring import TranslationStringFactory

from plugins.calculator.engine import InputError, _out

_ = TranslationStringFactory("hashinsight")  # translationstring: no Pyramid here

# The IRR is searched between these per-period rates: -99 % (all but lost) and +1,000 %.
IRR_LOW = -0.99
IRR_HIGH = 10.0
IRR_TOLERANCE = 1e-12


def _flows(cashflows) -> np.ndarray:
    try:
        flows = np.asarray(cashflows, dtype=float)
    except (TypeError, ValueError):
        raise InputError(_("cash flows must be numbers"), "cashflows") from None
    if flows.ndim == 0 or flows.shape[-1] == 0:
        raise InputError(_("cash flows need at least one period"), "cashflows")
    if not np.all(np.isfinite(flows)):
        raise InputError(_("cash flows must be finite numbers"), "cashflows")
    return flows


def period_rate(annual_rate, periods_per_year: float = 12.0):
    """The per-period rate compounding to ``annual_rate`` over a year:
    ``(1 + r) ** (1 / periods_per_year) - 1``."""
    rate = np.asarray(annual_rate, dtype=float)
    if np.any(rate <= -1) or not np.all(np.isfinite(rate)):
        raise InputError(_("the discount rate must be above -100 %"), "discount_rate_annual")
    return _out(np.power(1.0 + rate, 1.0 / periods_per_year) - 1.0)


def annual_rate(rate, periods_per_year: float = 12.0):
    """A per-period rate as an effective annual rate (NaN stays NaN)."""
    return _out(np.power(1.0 + np.asarray(rate, dtype=float), periods_per_year) - 1.0)


def _npv_at(flows: np.ndarray, rate: np.ndarray) -> np.ndarray:
    # Horner's rule in the discount factor v = 1/(1+r): one multiply-add per period on a
    # vector of rows, instead of a rows x periods matrix of powers.
    v = 1.0 / (1.0 + rate)
    total = flows[..., -1].copy()
    for t in range(flows.shape[-1] - 2, -1, -1):
        total *= v
        total += flows[..., t]
    return total


def npv(rate, cashflows):
    """Net present value at the per-period ``rate``: ``sum(flows[t] / (1 + rate) ** t)``.

    ``rate`` broadcasts against the rows (``cashflows.shape[:-1]``).
    """
    flows = _flows(cashflows)
    r = np.asarray(rate, dtype=float)
    if np.any(r <= -1) or not np.all(np.isfinite(r)):
        raise InputError(_("the discount rate must be above -100 %"), "rate")
    shape = np.broadcast_shapes(flows.shape[:-1], r.shape)
    flows = np.broadcast_to(flows, (*shape, flows.shape[-1]))
    return _out(_npv_at(flows, np.broadcast_to(r, shape)))


def irr(cashflows, *, low: float = IRR_LOW, high: float = IRR_HIGH):
    """Internal rate of return per period: the rate where the NPV is 0, for every row.

    Bisection on the NPV between ``low`` and ``high``: it cannot diverge as Newton's method
    can. A row whose NPV has the same sign at both ends (no sign change: all flows positive,
    a loss at every rate, ...) gets NaN, which ``as_dict`` shows as None. Flows that change
    sign more than once can have several IRRs; this returns one of them.
    """
    flows = _flows(cashflows)
    periods = flows.shape[-1]
    # Keep v ** periods finite: at -99 % a 600-period v**t would overflow.
    low = max(low, 10.0 ** (-250.0 / max(periods - 1, 1)) - 1.0)
    rows = flows.shape[:-1]
    lo = np.full(rows, low)
    hi = np.full(rows, high)
    f_lo = _npv_at(flows, lo)
    f_hi = _npv_at(flows, hi)
    found = np.sign(f_lo) * np.sign(f_hi) <= 0
    # About 50 halvings take an interval of 11 to 1e-14.
    for _step in range(200):
        if np.all(hi - lo <= IRR_TOLERANCE * (1.0 + np.abs(lo))):
            break
        mid = 0.5 * (lo + hi)
        f_mid = _npv_at(flows, mid)
        left = np.sign(f_mid) == np.sign(f_lo)
        lo = np.where(left, mid, lo)
        f_lo = np.where(left, f_mid, f_lo)
        hi = np.where(left, hi, mid)
    return _out(np.where(found, 0.5 * (lo + hi), np.nan))


def payback_period(cashflows):
    """Periods until the running total of the flows first reaches zero, for every row.

    Interpolated within the period (``2.5`` = half-way through the third); ``0`` when the
    first flow is not negative; NaN when the total never reaches zero.
    """
    flows = _flows(cashflows)
    total = np.cumsum(flows, axis=-1)
    reached = total >= 0
    ever = reached.any(axis=-1)
    index = reached.argmax(axis=-1)
    at = np.take_along_axis(total, index[..., None], axis=-1)[..., 0]
    step = np.take_along_axis(flows, index[..., None], axis=-1)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        # The period's flow brought the total from (at - step) < 0 up to at >= 0.
        fraction = np.where(step > 0, (step - at) / step, 1.0)
    periods = np.where(index == 0, 0.0, index - 1 + fraction)
    return _out(np.where(ever, periods, np.nan))
