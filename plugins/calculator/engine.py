"""The profitability engine: what a miner earns and costs per day. Pure numpy, no Pyramid.

Every function takes scalars or arrays (broadcast against each other) and returns the same
shape; scalars in give Python floats out, so the engine serves one page request and a
sweep over thousands of electricity prices alike.

The model is the usual expected-value one: a share of the network's blocks in proportion to
the share of work. With difficulty ``D`` one block takes on average ``D * 2**32`` hashes, so
``H`` hashes per second find ``H * 86400 / (D * 2**32)`` blocks a day, each paying the block
subsidy plus the fees. It ignores pool fees, luck and difficulty changes during the period.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

SECONDS_PER_DAY = 86_400
HASHES_PER_DIFFICULTY_1 = 2**32
DAYS_PER_MONTH = 30  # "per month" everywhere means 30 days, as most miners quote it.
HALVING_INTERVAL = 210_000
INITIAL_SUBSIDY_SATOSHI = 50 * 100_000_000
SATOSHI_PER_BTC = 100_000_000

# Upper bounds catch unit mistakes (W typed as kW, H/s typed as TH/s) and keep every result
# finite, so nothing downstream ever has to print "inf". They are far above any real value.
MAX_HASHRATE_THS = 1e12  # 1,000 times today's whole network
MAX_POWER_W = 1e12  # a terawatt
MAX_ELECTRICITY_USD_PER_KWH = 1e4
MAX_BTC_PRICE_USD = 1e9
MAX_DIFFICULTY = 1e30
MIN_DIFFICULTY = 1.0  # difficulty 1 is the easiest target the network allows
MAX_FEES_PER_BLOCK_BTC = 21_000_000.0  # never more than every coin there will ever be
MAX_BLOCK_HEIGHT = 100_000_000  # about 1,900 years of blocks


class InputError(ValueError):
    """A bad input; ``field`` names it so forms and APIs can point at it."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.message = message
        self.field = field


def _number(value, field: str, *, minimum: float = 0.0, maximum: float) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{field} must be a number", field) from None
    if not np.all(np.isfinite(array)):
        raise InputError(f"{field} must be a finite number (not NaN or infinity)", field)
    if np.any(array < minimum):
        if minimum == 0:
            raise InputError(f"{field} must not be negative", field)
        raise InputError(f"{field} must be at least {minimum:g}", field)
    if np.any(array > maximum):
        raise InputError(f"{field} must be at most {maximum:g}", field)
    return array


def _height(value, field: str = "block_height") -> np.ndarray:
    array = _number(value, field, maximum=MAX_BLOCK_HEIGHT)
    if np.any(array != np.floor(array)):
        raise InputError(f"{field} must be a whole number", field)
    return array.astype(np.int64)


def _out(array: np.ndarray):
    """Python float for a 0-d result, the array otherwise."""
    return float(array) if np.ndim(array) == 0 else array


def block_subsidy(block_height):
    """New coins per block (BTC) at ``block_height``.

    This is the consensus rule itself: 50 BTC in satoshis, shifted right once per 210,000
    blocks, and nothing from the 64th halving on. Integer satoshis matter: from the 10th
    halving the shift rounds down, as real nodes do.
    """
    halvings = _height(block_height) // HALVING_INTERVAL
    shifted = np.right_shift(np.int64(INITIAL_SUBSIDY_SATOSHI), np.minimum(halvings, 63))
    satoshi = np.where(halvings >= 64, 0, shifted)
    return _out(satoshi / SATOSHI_PER_BTC)


def _blocks_per_day(hashrate_ths: np.ndarray, difficulty: np.ndarray) -> np.ndarray:
    hashes_per_second = hashrate_ths * 1e12
    return hashes_per_second * SECONDS_PER_DAY / (difficulty * HASHES_PER_DIFFICULTY_1)


def btc_per_day(hashrate_ths, difficulty, block_reward_btc):
    """Expected BTC a day for ``hashrate_ths`` TH/s when each block pays ``block_reward_btc``
    (subsidy plus fees)."""
    hashrate = _number(hashrate_ths, "hashrate_ths", maximum=MAX_HASHRATE_THS)
    difficulty = _number(difficulty, "difficulty", minimum=MIN_DIFFICULTY, maximum=MAX_DIFFICULTY)
    reward = _number(block_reward_btc, "block_reward_btc", maximum=MAX_FEES_PER_BLOCK_BTC + 50)
    return _out(_blocks_per_day(hashrate, difficulty) * reward)


def power_cost_per_day(power_w, electricity_usd_per_kwh):
    """USD a day for drawing ``power_w`` watts around the clock."""
    power = _number(power_w, "power_w", maximum=MAX_POWER_W)
    price = _number(
        electricity_usd_per_kwh, "electricity_usd_per_kwh", maximum=MAX_ELECTRICITY_USD_PER_KWH
    )
    return _out(power / 1000 * 24 * price)


@dataclass(frozen=True)
class Estimate:
    """One miner's day (or an array of them). Values that do not exist are NaN:
    ``break_even_usd_per_kwh`` when the power is 0, ``efficiency_j_per_th`` when the hashrate
    is 0."""

    block_subsidy_btc: float | np.ndarray
    btc_per_day: float | np.ndarray
    revenue_usd_per_day: float | np.ndarray
    power_cost_usd_per_day: float | np.ndarray
    profit_usd_per_day: float | np.ndarray
    profit_usd_per_month: float | np.ndarray
    break_even_usd_per_kwh: float | np.ndarray
    hashprice_usd_per_th_day: float | np.ndarray
    efficiency_j_per_th: float | np.ndarray

    def as_dict(self) -> dict:
        """JSON-ready values (floats, or lists for arrays); NaN becomes None."""
        result: dict = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if np.ndim(value) == 0:
                result[f.name] = None if np.isnan(value) else float(value)
            else:
                array = np.asarray(value, dtype=float)
                result[f.name] = np.where(np.isnan(array), None, array.astype(object)).tolist()
        return result


def estimate(
    hashrate_ths,
    power_w,
    electricity_usd_per_kwh,
    btc_price_usd,
    difficulty,
    block_height,
    fees_per_block_btc=0.0,
) -> Estimate:
    """Everything the calculator shows, for scalars or arrays that broadcast together."""
    hashrate = _number(hashrate_ths, "hashrate_ths", maximum=MAX_HASHRATE_THS)
    power = _number(power_w, "power_w", maximum=MAX_POWER_W)
    electricity = _number(
        electricity_usd_per_kwh, "electricity_usd_per_kwh", maximum=MAX_ELECTRICITY_USD_PER_KWH
    )
    price = _number(btc_price_usd, "btc_price_usd", maximum=MAX_BTC_PRICE_USD)
    diff = _number(difficulty, "difficulty", minimum=MIN_DIFFICULTY, maximum=MAX_DIFFICULTY)
    fees = _number(fees_per_block_btc, "fees_per_block_btc", maximum=MAX_FEES_PER_BLOCK_BTC)
    subsidy = np.asarray(block_subsidy(block_height), dtype=float)
    try:
        hashrate, power, electricity, price, diff, fees, subsidy = np.broadcast_arrays(
            hashrate, power, electricity, price, diff, fees, subsidy
        )
    except ValueError:
        raise InputError("the input arrays do not have matching shapes", "hashrate_ths") from None

    btc = _blocks_per_day(hashrate, diff) * (subsidy + fees)
    revenue = btc * price
    kwh_per_day = power / 1000 * 24
    cost = kwh_per_day * electricity
    profit = revenue - cost
    # Hashprice is what the network pays for 1 TH/s for a day: it does not depend on the miner.
    hashprice = _blocks_per_day(1.0, diff) * (subsidy + fees) * price
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        break_even = np.where(kwh_per_day > 0, revenue / kwh_per_day, np.nan)
        efficiency = np.where(hashrate > 0, power / hashrate, np.nan)
    # A vanishing power or hashrate (1e-300) overflows the ratio: no meaningful number.
    break_even = np.where(np.isfinite(break_even), break_even, np.nan)
    efficiency = np.where(np.isfinite(efficiency), efficiency, np.nan)

    return Estimate(
        block_subsidy_btc=_out(subsidy),
        btc_per_day=_out(btc),
        revenue_usd_per_day=_out(revenue),
        power_cost_usd_per_day=_out(cost),
        profit_usd_per_day=_out(profit),
        profit_usd_per_month=_out(profit * DAYS_PER_MONTH),
        break_even_usd_per_kwh=_out(break_even),
        hashprice_usd_per_th_day=_out(hashprice),
        efficiency_j_per_th=_out(efficiency),
    )
