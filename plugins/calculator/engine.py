"""The profitability engine: what a miner earns and costs per day. Pure numpy, no Pyramid.

Every function takes scalars or arrays (broadcast against each other) and returns the same
shape; scalars in give Python floats out, so the engine serves one page request and a
sweep over a million scenarios alike.

The model is the usual expected-value one: a share of the network's blocks in proportion to
the share of work. With difficulty ``D`` one block takes on average ``D * 2**32`` hashes, so
``H`` hashes per second find ``H * 86400 / (D * 2**32)`` blocks a day, each paying the block
subsidy plus the fees. A single day ignores luck and difficulty changes; the projection
(:mod:`plugins.calculator.projection`) steps through difficulty epochs and halvings.

docs/calculator.md has every formula with its source.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import MISSING, dataclass, fields, replace
from typing import Any

import numpy as np
from translationstring import TranslationStringFactory

_ = TranslationStringFactory("hashinsight")  # translationstring: no Pyramid here

SECONDS_PER_DAY = 86_400
HASHES_PER_DIFFICULTY_1 = 2**32
DAYS_PER_MONTH = 30  # "per month" everywhere means 30 days, as most miners quote it.
DAYS_PER_YEAR = 365.25
TARGET_BLOCK_SECONDS = 600
BLOCKS_PER_DAY = SECONDS_PER_DAY // TARGET_BLOCK_SECONDS  # 144 in equilibrium
EPOCH_BLOCKS = 2016
HALVING_INTERVAL = 210_000
INITIAL_SUBSIDY_SATOSHI = 50 * 100_000_000
SATOSHI_PER_BTC = 100_000_000
# BTC per TH/s per day for a block reward of 1 BTC at difficulty 1: 1e12 * 86400 / 2**32.
_TH_DAY_PER_DIFFICULTY = 1e12 * SECONDS_PER_DAY / HASHES_PER_DIFFICULTY_1

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
MAX_USD = 1e12  # capex, salvage, a month's flat hosting fee
MAX_QUANTITY = 1e8  # a hundred million machines
MAX_PUE = 10.0  # facility overhead: 1.0 is none; nothing real comes near 10

DEFAULT_DIVERGENCE_THRESHOLD = 0.05

ArrayLike = Any  # a number, a sequence of numbers or a numpy array


class InputError(ValueError):
    """A bad input; ``field`` names it so forms and APIs can point at it. ``message`` is a
    translation string (shown in the reader's language); ``str()`` is its English text."""

    def __init__(self, message, field: str):
        super().__init__(message.interpolate() if hasattr(message, "interpolate") else message)
        self.message = message
        self.field = field


def _number(value, field: str, *, minimum: float = 0.0, maximum: float) -> np.ndarray:
    """``value`` as a float array, refused with a message naming ``field`` when it is not a
    finite number within [minimum, maximum]. Two reductions (min and max) check a million
    values in about a millisecond; NaN propagates through both."""
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(_("${field} must be a number", mapping={"field": field}), field) from None
    if array.size == 0:
        raise InputError(_("${field} must not be empty", mapping={"field": field}), field)
    low, high = (float(array), float(array)) if array.ndim == 0 else (array.min(), array.max())
    if not (np.isfinite(low) and np.isfinite(high)):
        raise InputError(
            _("${field} must be a finite number (not NaN or infinity)", mapping={"field": field}),
            field,
        )
    if low < minimum:
        if minimum == 0:
            raise InputError(_("${field} must not be negative", mapping={"field": field}), field)
        raise InputError(
            _(
                "${field} must be at least ${minimum}",
                mapping={"field": field, "minimum": f"{minimum:g}"},
            ),
            field,
        )
    if high > maximum:
        raise InputError(
            _(
                "${field} must be at most ${maximum}",
                mapping={"field": field, "maximum": f"{maximum:g}"},
            ),
            field,
        )
    return array


def _height(value, field: str = "block_height") -> np.ndarray:
    array = _number(value, field, maximum=MAX_BLOCK_HEIGHT)
    if np.any(array != np.floor(array)):
        raise InputError(_("${field} must be a whole number", mapping={"field": field}), field)
    return array.astype(np.int64)


def _out(array):
    """Python float for a 0-d result, the array otherwise."""
    return float(array) if np.ndim(array) == 0 else array


def _json_value(value):
    """Floats (NaN -> None) or nested lists for arrays; other values unchanged."""
    if isinstance(value, (bool, str, type(None))):
        return value
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if isinstance(value, np.bool_):
        return bool(value)
    if np.ndim(value) == 0:
        number = float(value)
        return None if np.isnan(number) else number
    if np.asarray(value).dtype == bool:
        return np.asarray(value).tolist()
    array = np.asarray(value, dtype=float)
    return np.where(np.isnan(array), None, array.astype(object)).tolist()


class _Record:
    """``as_dict()`` for the result dataclasses: JSON-ready, NaN (a value that does not
    exist, such as the payback of a machine that never pays back) becomes None."""

    def as_dict(self) -> dict:
        return {f.name: _json_value(getattr(self, f.name)) for f in fields(self)}


# --------------------------------------------------------------------------------------------
# Block subsidy and the plain formulas


def _subsidy_satoshi(height: np.ndarray) -> np.ndarray:
    halvings = np.asarray(height, dtype=np.int64) // HALVING_INTERVAL
    shifted = np.right_shift(np.int64(INITIAL_SUBSIDY_SATOSHI), np.minimum(halvings, 63))
    return np.where(halvings >= 64, 0, shifted)


def block_subsidy(block_height):
    """New coins per block (BTC) at ``block_height``.

    This is the consensus rule itself (Bitcoin Core ``GetBlockSubsidy``): 50 BTC in
    satoshis, shifted right once per 210,000 blocks, and nothing from the 64th halving on.
    Integer satoshis matter: from the 10th halving the shift rounds down, as real nodes do.
    """
    return _out(_subsidy_satoshi(_height(block_height)) / SATOSHI_PER_BTC)


def next_halving_height(block_height):
    """The first height of the next subsidy era (1,050,000 for any height in era 4)."""
    height = _height(block_height)
    return _out((height // HALVING_INTERVAL + 1) * HALVING_INTERVAL)


def _blocks_per_day(hashrate_ths, difficulty):
    return hashrate_ths * _TH_DAY_PER_DIFFICULTY / difficulty


def implied_network_hashrate_ths(difficulty, block_time_s=TARGET_BLOCK_SECONDS):
    """Network hashrate that finds a block every ``block_time_s`` at ``difficulty``:
    ``D * 2**32 / block_time_s`` (in TH/s). This is how most explorers *derive* the network
    hashrate, which is why it is no independent check of the difficulty formula."""
    diff = _number(difficulty, "difficulty", minimum=MIN_DIFFICULTY, maximum=MAX_DIFFICULTY)
    seconds = _number(block_time_s, "block_time_s", minimum=1e-3, maximum=1e9)
    return _out(diff * HASHES_PER_DIFFICULTY_1 / seconds / 1e12)


def hashprice_btc_per_th_day(difficulty, block_reward_btc):
    """What the network pays 1 TH/s for a day, in BTC: ``1e12 * 86400 * R / (D * 2**32)``."""
    diff = _number(difficulty, "difficulty", minimum=MIN_DIFFICULTY, maximum=MAX_DIFFICULTY)
    reward = _number(block_reward_btc, "block_reward_btc", maximum=MAX_FEES_PER_BLOCK_BTC + 50)
    return _out(_blocks_per_day(1.0, diff) * reward)


def btc_per_day(hashrate_ths, difficulty, block_reward_btc):
    """Expected BTC a day for ``hashrate_ths`` TH/s when each block pays ``block_reward_btc``
    (subsidy plus fees): the difficulty method, ``H * 86400 / (D * 2**32) * R``."""
    hashrate = _number(hashrate_ths, "hashrate_ths", maximum=MAX_HASHRATE_THS)
    difficulty = _number(difficulty, "difficulty", minimum=MIN_DIFFICULTY, maximum=MAX_DIFFICULTY)
    reward = _number(block_reward_btc, "block_reward_btc", maximum=MAX_FEES_PER_BLOCK_BTC + 50)
    return _out(_blocks_per_day(hashrate, difficulty) * reward)


def btc_per_day_network_share(
    hashrate_ths, network_hashrate_ths, block_reward_btc, blocks_per_day=BLOCKS_PER_DAY
):
    """The network-share method: ``H / H_net * blocks_per_day * R``.

    With an *observed* network hashrate and the blocks actually found (144 a day only in
    equilibrium) this differs from the difficulty method by luck and by hashrate growth since
    the last retarget. With ``H_net = D * 2**32 / 600`` and 144 blocks it is the same number.
    """
    hashrate = _number(hashrate_ths, "hashrate_ths", maximum=MAX_HASHRATE_THS)
    network = _number(
        network_hashrate_ths, "network_hashrate_ths", minimum=1e-9, maximum=MAX_HASHRATE_THS
    )
    reward = _number(block_reward_btc, "block_reward_btc", maximum=MAX_FEES_PER_BLOCK_BTC + 50)
    blocks = _number(blocks_per_day, "blocks_per_day", maximum=1e6)
    return _out(hashrate / network * blocks * reward)


def btc_per_day_from_hashprice(
    hashrate_ths,
    *,
    hashprice_btc_per_th_day=None,
    hashprice_usd_per_th_day=None,
    btc_price_usd=None,
):
    """The hashprice-index method: a published index (Luxor, Braiins) times the hashrate.

    Give the index in BTC per TH/day, or in USD per TH/day together with the BTC price it
    was quoted at. Indices quote per PH/day too: divide those by 1,000 first.
    """
    hashrate = _number(hashrate_ths, "hashrate_ths", maximum=MAX_HASHRATE_THS)
    if hashprice_btc_per_th_day is not None:
        index = _number(hashprice_btc_per_th_day, "hashprice_btc_per_th_day", maximum=1e6)
        return _out(hashrate * index)
    if hashprice_usd_per_th_day is None:
        raise InputError(_("a hashprice in BTC or USD per TH/day is needed"), "hashprice")
    index = _number(hashprice_usd_per_th_day, "hashprice_usd_per_th_day", maximum=1e9)
    if btc_price_usd is None:
        raise InputError(_("btc_price_usd is needed for a hashprice in USD"), "btc_price_usd")
    price = _number(btc_price_usd, "btc_price_usd", minimum=1e-9, maximum=MAX_BTC_PRICE_USD)
    return _out(hashrate * index / price)


def btc_per_day_realized(hashrate_ths, realized_btc, realized_days, realized_hashrate_ths=None):
    """The realized method: what a pool actually paid, per TH/day, applied to ``hashrate_ths``.

    ``realized_btc`` was paid over ``realized_days`` for ``realized_hashrate_ths`` (by
    default the same hashrate). Pool payouts are net of the pool fee: compare them with the
    difficulty method after the fee, as :func:`compare_revenue_methods` does.
    """
    hashrate = _number(hashrate_ths, "hashrate_ths", maximum=MAX_HASHRATE_THS)
    paid = _number(realized_btc, "realized_btc", maximum=MAX_FEES_PER_BLOCK_BTC)
    days = _number(realized_days, "realized_days", minimum=1e-6, maximum=1e6)
    earning = hashrate
    if realized_hashrate_ths is not None:
        earning = _number(
            realized_hashrate_ths, "realized_hashrate_ths", minimum=1e-12, maximum=MAX_HASHRATE_THS
        )
    elif np.any(hashrate <= 0):
        raise InputError(
            _("realized_hashrate_ths is needed when hashrate_ths is 0"), "hashrate_ths"
        )
    return _out(paid / days / earning * hashrate)


def power_cost_per_day(power_w, electricity_usd_per_kwh):
    """USD a day for drawing ``power_w`` watts around the clock."""
    power = _number(power_w, "power_w", maximum=MAX_POWER_W)
    price = _number(
        electricity_usd_per_kwh, "electricity_usd_per_kwh", maximum=MAX_ELECTRICITY_USD_PER_KWH
    )
    return _out(power / 1000 * 24 * price)


# --------------------------------------------------------------------------------------------
# Revenue methods side by side


@dataclass(frozen=True)
class RevenueMethod(_Record):
    """One way of estimating BTC a day, and how far it is from the difficulty method.

    ``basis`` says what it is compared with: ``"gross"`` (before the pool fee: the network
    share and hashprice indices) or ``"net"`` (after it: pool payouts). ``divergence`` is
    ``method / difficulty_method - 1``; ``flagged`` is true when its size exceeds the
    threshold. ``independent`` is false when the method cannot disagree by construction.
    ``note`` is a stable code the UI translates (see docs/calculator.md).
    """

    method: str
    btc_per_day: float | np.ndarray
    basis: str
    divergence: float | np.ndarray
    flagged: bool | np.ndarray
    independent: bool
    note: str


@dataclass(frozen=True)
class RevenueCheck(_Record):
    """The difficulty method and every other method that had inputs, side by side."""

    btc_per_day_gross: float | np.ndarray
    btc_per_day_net: float | np.ndarray
    threshold: float
    methods: list[RevenueMethod]
    any_flagged: bool


def _divergence(value, reference):
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(reference > 0, np.asarray(value) / reference - 1.0, np.nan)
    return ratio


def compare_revenue_methods(
    hashrate_ths,
    difficulty,
    block_reward_btc,
    *,
    pool_fee=0.0,
    network_hashrate_ths=None,
    blocks_per_day=BLOCKS_PER_DAY,
    network_hashrate_from_difficulty=False,
    hashprice_btc_per_th_day=None,
    hashprice_usd_per_th_day=None,
    btc_price_usd=None,
    realized_btc=None,
    realized_days=None,
    realized_hashrate_ths=None,
    threshold=DEFAULT_DIVERGENCE_THRESHOLD,
) -> RevenueCheck:
    """Every available way of getting BTC/day next to the difficulty method.

    A method is included when its inputs are given. Each carries its divergence from the
    difficulty method (gross, or net of ``pool_fee`` for pool payouts) and a flag above
    ``threshold`` (5 % by default). A network hashrate that was *derived from difficulty*
    (``network_hashrate_from_difficulty=True``, or equal to ``D * 2**32 / 600`` with 144
    blocks a day) is marked not independent: it agrees by construction, proving nothing.
    """
    hashrate = _number(hashrate_ths, "hashrate_ths", maximum=MAX_HASHRATE_THS)
    diff = _number(difficulty, "difficulty", minimum=MIN_DIFFICULTY, maximum=MAX_DIFFICULTY)
    reward = _number(block_reward_btc, "block_reward_btc", maximum=MAX_FEES_PER_BLOCK_BTC + 50)
    fee = _number(pool_fee, "pool_fee", maximum=1.0)
    limit = float(_number(threshold, "threshold", maximum=10.0))
    gross = _blocks_per_day(hashrate, diff) * reward
    net = gross * (1 - fee)

    methods: list[RevenueMethod] = []

    def add(name, value, basis, independent, note):
        reference = gross if basis == "gross" else net
        divergence = _divergence(value, reference)
        flagged = np.abs(np.nan_to_num(divergence)) > limit
        methods.append(
            RevenueMethod(
                method=name,
                btc_per_day=_out(np.asarray(value, dtype=float)),
                basis=basis,
                divergence=_out(divergence),
                flagged=bool(flagged) if np.ndim(flagged) == 0 else flagged,
                independent=independent,
                note=note,
            )
        )

    if network_hashrate_ths is not None:
        value = btc_per_day_network_share(hashrate, network_hashrate_ths, reward, blocks_per_day)
        implied = diff * HASHES_PER_DIFFICULTY_1 / TARGET_BLOCK_SECONDS / 1e12
        network = np.asarray(network_hashrate_ths, dtype=float)
        same = np.allclose(network, implied, rtol=1e-9, atol=0) and np.all(
            np.asarray(blocks_per_day, dtype=float) == BLOCKS_PER_DAY
        )
        derived = bool(network_hashrate_from_difficulty) or bool(same)
        note = "network_hashrate_derived_from_difficulty" if derived else "observed_blocks"
        add("network_share", value, "gross", not derived, note)
    if hashprice_btc_per_th_day is not None or hashprice_usd_per_th_day is not None:
        value = btc_per_day_from_hashprice(
            hashrate,
            hashprice_btc_per_th_day=hashprice_btc_per_th_day,
            hashprice_usd_per_th_day=hashprice_usd_per_th_day,
            btc_price_usd=btc_price_usd,
        )
        add("hashprice_index", value, "gross", True, "published_index")
    if realized_btc is not None:
        if realized_days is None:
            raise InputError(_("realized_days is needed with realized_btc"), "realized_days")
        value = btc_per_day_realized(hashrate, realized_btc, realized_days, realized_hashrate_ths)
        add("realized_payouts", value, "net", True, "pool_payouts_net_of_fee")

    any_flagged = any(bool(np.any(m.flagged)) for m in methods)
    return RevenueCheck(
        btc_per_day_gross=_out(gross),
        btc_per_day_net=_out(net),
        threshold=limit,
        methods=methods,
        any_flagged=any_flagged,
    )


# --------------------------------------------------------------------------------------------
# Scenarios: every input of one day of mining

# field -> (minimum, maximum); the messages name the field.
LIMITS: dict[str, tuple[float, float]] = {
    "hashrate_ths": (0.0, MAX_HASHRATE_THS),
    "power_w": (0.0, MAX_POWER_W),
    "electricity_usd_per_kwh": (0.0, MAX_ELECTRICITY_USD_PER_KWH),
    "btc_price_usd": (0.0, MAX_BTC_PRICE_USD),
    "difficulty": (MIN_DIFFICULTY, MAX_DIFFICULTY),
    "block_height": (0.0, MAX_BLOCK_HEIGHT),
    "fees_per_block_btc": (0.0, MAX_FEES_PER_BLOCK_BTC),
    "pool_fee": (0.0, 1.0),
    "dev_fee": (0.0, 1.0),
    "uptime": (0.0, 1.0),
    "curtailment_hours_per_day": (0.0, 24.0),
    "idle_power_w": (0.0, MAX_POWER_W),
    "pue": (1.0, MAX_PUE),
    "hosting_usd_per_miner_month": (0.0, MAX_USD),
    "hosting_usd_per_kwh": (0.0, MAX_ELECTRICITY_USD_PER_KWH),
    "hosting_revenue_share": (0.0, 1.0),
    "quantity": (0.0, MAX_QUANTITY),
    "capex_usd": (0.0, MAX_USD),
    "salvage_usd": (0.0, MAX_USD),
    "depreciation_months": (1.0, 1200.0),
}


@dataclass(frozen=True)
class Scenario:
    """The inputs of one mining scenario; any field may be an array (they broadcast).

    Per machine: ``hashrate_ths`` (TH/s), ``power_w`` and ``idle_power_w`` (wall watts;
    idle is the draw while curtailed), ``capex_usd`` and ``salvage_usd`` (purchase price and
    resale value at the end), ``hosting_usd_per_miner_month``. ``quantity`` machines.

    Fractions, not percent: ``pool_fee``, ``dev_fee`` (firmware), ``uptime`` (share of the
    non-curtailed hours the machine hashes; the rest it is off), ``hosting_revenue_share``.
    ``pue`` multiplies the electricity bought (1.0 = no facility overhead; a host's metered
    ``hosting_usd_per_kwh`` is billed at the machine). ``curtailment_hours_per_day`` are
    hours switched to idle. Months are 30 days.
    """

    hashrate_ths: ArrayLike
    power_w: ArrayLike
    electricity_usd_per_kwh: ArrayLike
    btc_price_usd: ArrayLike
    difficulty: ArrayLike
    block_height: ArrayLike
    fees_per_block_btc: ArrayLike = 0.0
    pool_fee: ArrayLike = 0.0
    dev_fee: ArrayLike = 0.0
    uptime: ArrayLike = 1.0
    curtailment_hours_per_day: ArrayLike = 0.0
    idle_power_w: ArrayLike = 0.0
    pue: ArrayLike = 1.0
    hosting_usd_per_miner_month: ArrayLike = 0.0
    hosting_usd_per_kwh: ArrayLike = 0.0
    hosting_revenue_share: ArrayLike = 0.0
    quantity: ArrayLike = 1.0
    capex_usd: ArrayLike = 0.0
    salvage_usd: ArrayLike = 0.0
    depreciation_months: ArrayLike = 36.0

    @classmethod
    def from_dict(cls, values: dict) -> Scenario:
        """A scenario from a mapping; unknown keys are refused (a typo is not a default)."""
        names = {f.name for f in fields(cls)}
        for key in values:
            if key not in names:
                raise InputError(
                    _("${field} is not a calculator input", mapping={"field": key}), key
                )
        for f in fields(cls):
            if f.default is MISSING and f.name not in values:
                raise InputError(_("${field} is needed", mapping={"field": f.name}), f.name)
        return cls(**values)

    def replace(self, **changes) -> Scenario:
        return replace(self, **changes)

    def as_dict(self) -> dict:
        return {f.name: _json_value(getattr(self, f.name)) for f in fields(self)}

    def checked(self) -> dict[str, np.ndarray]:
        """Every field as a validated float array (0-d for scalars), plus ``shape``: the
        broadcast shape of all of them. Raises :class:`InputError` naming the field."""
        values: dict[str, Any] = {}
        for f in fields(self):
            low, high = LIMITS[f.name]
            raw = getattr(self, f.name)
            if f.name == "block_height":
                values[f.name] = _height(raw)
            else:
                values[f.name] = _number(raw, f.name, minimum=low, maximum=high)
        try:
            values["shape"] = np.broadcast_shapes(*(v.shape for v in values.values()))
        except ValueError:
            raise InputError(
                _("the input arrays do not have matching shapes"), "hashrate_ths"
            ) from None
        return values


@dataclass(frozen=True)
class Quote(_Record):
    """One day of mining for every scenario (the whole ``quantity``, USD unless named).

    NaN marks a value that does not exist (a break-even without power, a margin without
    revenue, the payback of a loss-making machine); ``as_dict`` turns it into None.
    """

    block_subsidy_btc: Any
    block_reward_btc: Any
    hashing_hours_per_day: Any
    btc_gross_per_day: Any  # before the firmware and pool fees
    dev_fee_btc_per_day: Any
    pool_fee_btc_per_day: Any
    btc_per_day: Any  # what reaches the wallet
    revenue_usd_per_day: Any
    energy_kwh_per_day: Any  # at the machines (hashing plus idle draw)
    power_cost_usd_per_day: Any  # energy * PUE * electricity price
    hosting_usd_per_day: Any  # flat + metered + revenue share
    costs_usd_per_day: Any
    profit_usd_per_day: Any  # cash: revenue - power - hosting
    profit_usd_per_month: Any
    margin: Any  # profit / revenue
    depreciation_usd_per_day: Any  # straight line: (capex - salvage) / life
    net_income_usd_per_day: Any  # profit - depreciation
    hashprice_btc_per_th_day: Any  # what the network pays 1 TH/s for a day
    hashprice_usd_per_th_day: Any
    hashprice_usd_per_ph_day: Any
    hashcost_usd_per_th_day: Any  # costs per nameplate TH/s
    cost_per_btc_usd: Any  # cash cost to mine 1 BTC
    break_even_usd_per_kwh: Any
    break_even_btc_price_usd: Any
    break_even_hashprice_usd_per_th_day: Any
    break_even_difficulty: Any
    efficiency_j_per_th: Any
    static_payback_days: Any  # capex / profit per day


# Below this a denominator counts as zero: every numerator the limits allow is under 1e90,
# so a quotient stays finite and no separate overflow check is needed.
_TINY = 1e-200


def _safe_ratio(numerator, denominator, out=None):
    """``numerator / denominator`` where the denominator is positive, NaN elsewhere (a
    break-even without power, a margin without revenue, the payback of a loss)."""
    numerator, denominator = np.asarray(numerator), np.asarray(denominator)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.divide(numerator, denominator, out=out)
    if ratio.ndim == 0:
        return ratio if denominator > _TINY else np.float64(np.nan)
    # A boolean mask is an eighth of the data: cheaper than np.where on floats.
    bad = np.broadcast_to(denominator <= _TINY, ratio.shape)
    if bad.any():
        ratio[bad] = np.nan
    return ratio


def _is(value, number: float) -> bool:
    return np.ndim(value) == 0 and float(value) == number


def _mul(a, b, out=None):
    """``a * b`` (into ``out`` when given), skipping the pass over the data when one side is
    a scalar 1 or 0 (the defaults: one machine, no fee, no revenue share)."""
    if out is None:
        if _is(b, 1.0):
            return a
        if _is(a, 1.0):
            return b
        if _is(a, 0.0) or _is(b, 0.0):
            return np.float64(0.0)
    return np.multiply(a, b, out=out)


def _add(a, b, out=None):
    """``a + b`` (into ``out`` when given), skipping the pass when either is a scalar 0."""
    if out is None:
        if _is(b, 0.0):
            return a
        if _is(a, 0.0):
            return b
    return np.add(a, b, out=out)


_times, _plus = _mul, _add


# Scenarios are computed in slices of this many: the temporaries of one slice stay in the CPU
# cache, which makes a million scenarios about twice as fast as whole-array arithmetic.
CHUNK = 65_536


def quote(scenario: Scenario) -> Quote:
    """Every single-day figure for every scenario at once (see :class:`Quote`).

    Scalars stay scalars until they meet an array, so scenarios that differ in a few inputs
    cost only the arithmetic on those; large batches run in cache-sized slices.
    """
    v = scenario.checked()
    shape = v.pop("shape")
    size = int(np.prod(shape))
    if size <= 2 * CHUNK:
        figures = _quote_figures(v)
        # Every figure gets the scenarios' shape (a read-only view for those that depend on
        # fewer inputs); 0-d figures become floats.
        return Quote(**{k: _out(np.broadcast_to(x, shape)) for k, x in figures.items()})
    flat = {
        k: a if a.ndim == 0 else np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1)
        for k, a in v.items()
    }
    # One block for all figures: one allocation (huge pages where the kernel offers them).
    block = np.empty((len(fields(Quote)), size))
    out = {f.name: block[n] for n, f in enumerate(fields(Quote))}

    def run(begin):
        part = slice(begin, begin + CHUNK)
        inputs = {k: a if a.ndim == 0 else a[part] for k, a in flat.items()}
        _quote_figures(inputs, {name: a[part] for name, a in out.items()})

    starts = range(0, size, CHUNK)
    if WORKERS > 1 and len(starts) >= 4 * WORKERS:
        # numpy releases the GIL inside its loops, so slices run on every core at once.
        list(_pool().map(run, starts))
    else:
        for begin in starts:
            run(begin)
    return Quote(**{k: a.reshape(shape) for k, a in out.items()})


# Threads for big batches (each slice is independent; numpy runs them without the GIL).
WORKERS = min(4, os.cpu_count() or 1)
_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(WORKERS, thread_name_prefix="quote")
    return _POOL


def _quote_figures(v: dict, out: dict | None = None) -> dict:
    """The figures of :class:`Quote` from validated inputs. With ``out`` (arrays by figure
    name) each figure's last operation writes straight into it: no copy afterwards."""

    def o(name):
        return None if out is None else out[name]

    hashrate, power, price, diff = (
        v["hashrate_ths"],
        v["power_w"],
        v["btc_price_usd"],
        v["difficulty"],
    )
    quantity, curtailed = v["quantity"], v["curtailment_hours_per_day"]
    dev, pool, share = v["dev_fee"], v["pool_fee"], v["hosting_revenue_share"]

    subsidy = _subsidy_satoshi(v["block_height"]) / SATOSHI_PER_BTC
    reward = _add(subsidy, v["fees_per_block_btc"], o("block_reward_btc"))
    hashprice_btc = _mul(reward / diff, _TH_DAY_PER_DIFFICULTY, o("hashprice_btc_per_th_day"))
    hashprice_usd = _mul(hashprice_btc, price, o("hashprice_usd_per_th_day"))
    hashing_hours = _mul(24.0 - curtailed, v["uptime"], o("hashing_hours_per_day"))
    # TH/s-days that actually hash for the owner, per day (all machines).
    machines_ths = _mul(hashrate, quantity)
    th_days = machines_ths * (hashing_hours / 24.0)
    gross = _mul(th_days, hashprice_btc, o("btc_gross_per_day"))
    # The firmware's dev fee diverts hashing time first; the pool takes its fee on the rest.
    dev_btc = _mul(gross, dev, o("dev_fee_btc_per_day"))
    pool_btc = _mul(gross, (1.0 - dev) * pool, o("pool_fee_btc_per_day"))
    kept_after_fees = (1.0 - dev) * (1.0 - pool)
    btc = _mul(gross, kept_after_fees, o("btc_per_day"))
    revenue = _mul(btc, price, o("revenue_usd_per_day"))

    energy = _mul(
        _add(power * hashing_hours, v["idle_power_w"] * curtailed),
        quantity / 1000.0,
        o("energy_kwh_per_day"),
    )
    power_cost = _mul(energy, v["pue"] * v["electricity_usd_per_kwh"], o("power_cost_usd_per_day"))
    # Costs that do not move with revenue: power, flat and metered hosting.
    fixed_hosting = _add(
        _mul(energy, v["hosting_usd_per_kwh"]),
        _mul(v["hosting_usd_per_miner_month"], quantity / DAYS_PER_MONTH),
    )
    share_hosting = _mul(revenue, share)
    hosting = _add(fixed_hosting, share_hosting, o("hosting_usd_per_day"))
    fixed = _add(power_cost, fixed_hosting)
    costs = _add(fixed, share_hosting, o("costs_usd_per_day"))
    profit = np.subtract(revenue, costs, out=o("profit_usd_per_day"))
    # The part of revenue the owner keeps after a revenue-share host.
    revenue_kept = _mul(revenue, 1.0 - share)
    capex = _mul(v["capex_usd"], quantity)
    depreciation = np.divide(
        capex - _mul(v["salvage_usd"], quantity),
        v["depreciation_months"] * DAYS_PER_MONTH,
        out=o("depreciation_usd_per_day"),
    )

    figures = dict(
        block_subsidy_btc=subsidy,
        block_reward_btc=reward,
        hashing_hours_per_day=hashing_hours,
        btc_gross_per_day=gross,
        dev_fee_btc_per_day=dev_btc,
        pool_fee_btc_per_day=pool_btc,
        btc_per_day=btc,
        revenue_usd_per_day=revenue,
        energy_kwh_per_day=energy,
        power_cost_usd_per_day=power_cost,
        hosting_usd_per_day=hosting,
        costs_usd_per_day=costs,
        profit_usd_per_day=profit,
        profit_usd_per_month=_mul(profit, DAYS_PER_MONTH, o("profit_usd_per_month")),
        margin=_safe_ratio(profit, revenue, o("margin")),
        depreciation_usd_per_day=depreciation,
        net_income_usd_per_day=np.subtract(profit, depreciation, out=o("net_income_usd_per_day")),
        hashprice_btc_per_th_day=hashprice_btc,
        hashprice_usd_per_th_day=hashprice_usd,
        hashprice_usd_per_ph_day=_mul(hashprice_usd, 1000.0, o("hashprice_usd_per_ph_day")),
        hashcost_usd_per_th_day=_safe_ratio(costs, machines_ths, o("hashcost_usd_per_th_day")),
        cost_per_btc_usd=_safe_ratio(costs, btc, o("cost_per_btc_usd")),
        break_even_usd_per_kwh=_safe_ratio(
            revenue_kept - fixed_hosting, _mul(energy, v["pue"]), o("break_even_usd_per_kwh")
        ),
        break_even_btc_price_usd=_safe_ratio(
            fixed, _mul(btc, 1.0 - share), o("break_even_btc_price_usd")
        ),
        break_even_hashprice_usd_per_th_day=_safe_ratio(
            fixed,
            _mul(th_days, kept_after_fees * (1.0 - share)),
            o("break_even_hashprice_usd_per_th_day"),
        ),
        break_even_difficulty=_safe_ratio(revenue_kept * diff, fixed, o("break_even_difficulty")),
        efficiency_j_per_th=_safe_ratio(power, hashrate, o("efficiency_j_per_th")),
        static_payback_days=_safe_ratio(capex, profit, o("static_payback_days")),
    )
    if out is not None:  # figures that came out of no operation (a default input) or 0-d
        for name, value in figures.items():
            if value is not out[name]:
                out[name][...] = value
    return figures


# --------------------------------------------------------------------------------------------
# The original single-day estimate (kept for the page and API that use it)


@dataclass(frozen=True)
class Estimate(_Record):
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


def estimate(
    hashrate_ths,
    power_w,
    electricity_usd_per_kwh,
    btc_price_usd,
    difficulty,
    block_height,
    fees_per_block_btc=0.0,
) -> Estimate:
    """The calculator's first figures: :func:`quote` with no fees, no hosting and full
    uptime, for scalars or arrays that broadcast together."""
    result = quote(
        Scenario(
            hashrate_ths=hashrate_ths,
            power_w=power_w,
            electricity_usd_per_kwh=electricity_usd_per_kwh,
            btc_price_usd=btc_price_usd,
            difficulty=difficulty,
            block_height=block_height,
            fees_per_block_btc=fees_per_block_btc,
        )
    )
    return Estimate(**{f.name: getattr(result, f.name) for f in fields(Estimate)})
