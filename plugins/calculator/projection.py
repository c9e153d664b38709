"""Month-by-month projection of a mining scenario, stepped by difficulty epoch. Pure numpy.

The network hashrate follows a growth path; blocks arrive at ``H_net / (D * 2**32)`` per
second, so with growing hashrate they come faster than every 600 s, the block height runs
ahead of the calendar and the halving at 1,050,000 lands earlier than a calendar model
says. Every 2016 blocks the difficulty is retargeted the way nodes do it (scaled by two
weeks over the time the epoch took, clamped to x4 and /4). The miner's expected BTC over
any stretch of time is ``H * seconds / (D * 2**32) * (subsidy + fees)`` with the difficulty
and subsidy in force at that moment; months then get prices, costs and cash flows.

Many scenarios run at once: the event loop advances every scenario to its next event (the
end of an epoch or of a month) in one vector step, so 10,000 scenarios over 60 months take
about two hundred numpy steps. docs/calculator.md draws the flow.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from translationstring import TranslationStringFactory

from plugins.calculator import finance
from plugins.calculator.engine import (
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    EPOCH_BLOCKS,
    HALVING_INTERVAL,
    HASHES_PER_DIFFICULTY_1,
    MAX_HASHRATE_THS,
    SATOSHI_PER_BTC,
    SECONDS_PER_DAY,
    TARGET_BLOCK_SECONDS,
    ArrayLike,
    InputError,
    Scenario,
    _json_value,
    _number,
    _out,
    _Record,
    _subsidy_satoshi,
)

_ = TranslationStringFactory("hashinsight")  # translationstring: no Pyramid here

MAX_MONTHS = 600
MONTHS_PER_YEAR = DAYS_PER_YEAR / DAYS_PER_MONTH  # 12.175 months of 30 days in a year
EPOCH_SECONDS = EPOCH_BLOCKS * TARGET_BLOCK_SECONDS  # two weeks
MAX_RETARGET = 4.0  # the consensus clamp on one difficulty adjustment
# A month may multiply the network hashrate or the price by 0.1 .. 11.
MIN_GROWTH, MAX_GROWTH = -0.9, 10.0


@dataclass(frozen=True)
class ProjectionSettings:
    """How the world moves over the horizon.

    ``hashrate_growth_per_month`` and ``price_growth_per_month`` are fractions per 30-day
    month (0.02 = +2 %). They broadcast against the result's shape ``scenarios + (months,)``:
    a scalar for all, shape ``(months,)`` for a path, ``(scenarios, 1)`` for one rate per
    scenario, ``(scenarios, months)`` for one path each. ``price_path_usd`` (same rule)
    replaces the price growth with explicit monthly prices. ``difficulty_growth_per_epoch``
    is the other way to say how the network grows (Braiins' input): the steady growth per
    2016 blocks, converted to a hashrate growth by :func:`hashrate_growth_for_difficulty`.

    ``network_hashrate_ths`` is today's network hashrate (default: the one that finds a
    block every 600 s at today's difficulty). ``discount_rate_annual`` is for the NPV.
    With ``switch_off_when_unprofitable`` a machine is off in months where running loses
    more than standing idle (then it pays only the flat hosting fee).
    """

    months: int = 36
    hashrate_growth_per_month: ArrayLike = 0.0
    price_growth_per_month: ArrayLike = 0.0
    price_path_usd: ArrayLike | None = None
    difficulty_growth_per_epoch: ArrayLike | None = None
    network_hashrate_ths: ArrayLike | None = None
    discount_rate_annual: ArrayLike = 0.0
    switch_off_when_unprofitable: bool = False

    def as_dict(self) -> dict:
        return {f.name: _json_value(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class Projection(_Record):
    """Monthly figures have shape ``scenarios + (months,)``; per-scenario figures have the
    scenarios' shape (floats for one scenario). Month ``m`` (0-based) covers days
    ``30 m .. 30 (m + 1)``; flows happen at its end. USD for all ``quantity`` machines.
    NaN (None in JSON) marks what does not exist: no payback, no IRR, no halving in range.
    """

    months: Any  # 1 .. N
    block_height: Any  # at the end of the month
    difficulty: Any  # in force at the end of the month
    network_hashrate_ths: Any  # at the end of the month
    network_blocks: Any  # blocks the network found in the month
    block_subsidy_btc: Any  # at the end of the month
    btc_price_usd: Any
    hashprice_btc_per_th_day: Any  # the month's average
    hashprice_usd_per_th_day: Any
    btc_mined: Any  # after dev and pool fees
    revenue_usd: Any
    power_cost_usd: Any
    hosting_usd: Any
    profit_usd: Any  # the month's cash flow
    running: Any  # False where the machine was switched off for the month
    cost_per_btc_usd: Any
    cumulative_cash_flow_usd: Any  # starting from minus the capex
    halving_month: Any  # when the next halving lands (months from now, fractional)
    capex_usd: Any
    salvage_usd: Any
    total_btc: Any
    total_profit_usd: Any
    static_payback_months: Any  # capex / first month's profit
    payback_months: Any  # dynamic: when the cumulative cash flow first reaches zero
    roi: Any  # (profits + salvage - capex) / capex over the horizon
    npv_usd: Any
    irr_annual: Any


def hashrate_growth_for_difficulty(difficulty_growth_per_epoch):
    """The monthly hashrate growth that makes difficulty grow by ``g`` every epoch, once
    the network has settled into it.

    In that steady state each epoch takes ``T = 14 days / (1 + g)`` (the retarget scales
    by two weeks over ``T``) and the hashrate grows by the same ``1 + g`` over ``T``, so its
    growth rate per day is ``k = ln(1 + g) / T = (1 + g) ln(1 + g) / 14``.
    """
    g = _number(difficulty_growth_per_epoch, "difficulty_growth_per_epoch", minimum=-0.75,
                maximum=3.0)  # fmt: skip
    epoch_days = EPOCH_SECONDS / SECONDS_PER_DAY
    k = (1.0 + g) * np.log1p(g) / epoch_days
    return _out(np.expm1(k * DAYS_PER_MONTH))


def _days_for_blocks(blocks, rate, k):
    """Days to find ``blocks`` starting at ``rate`` blocks/day that grows as ``exp(k t)``
    (inf when a shrinking hashrate never finds them)."""
    x = blocks / rate
    kx = k * x
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = np.where(kx > -1.0, np.log1p(np.maximum(kx, -1.0 + 1e-300)) / k, np.inf)
    # For a tiny k the log form loses digits: use its series, x (1 - kx/2 + ...).
    return np.where(np.abs(kx) < 1e-9, x * (1.0 - 0.5 * kx), exact)


def _blocks_in_days(days, rate, k):
    """Blocks found in ``days`` starting at ``rate`` blocks/day growing as ``exp(k t)``."""
    kd = k * days
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = rate * np.expm1(kd) / k
    return np.where(np.abs(kd) < 1e-9, rate * days * (1.0 + 0.5 * kd), exact)


def _month_path(value, field, full_shape, *, minimum, maximum):
    array = _number(value, field, minimum=minimum, maximum=maximum)
    try:
        return np.broadcast_to(array, full_shape)
    except ValueError:
        raise InputError(
            _(
                "${field} must broadcast against (scenarios, months) = ${shape}",
                mapping={"field": field, "shape": full_shape},
            ),
            field,
        ) from None


def project(scenario: Scenario, settings: ProjectionSettings | None = None) -> Projection:
    """Run ``scenario`` (any shape of scenarios) over ``settings.months`` months."""
    settings = settings or ProjectionSettings()
    v = scenario.checked()
    scen_shape = v.pop("shape")
    months = settings.months
    if isinstance(months, bool) or not isinstance(months, (int, np.integer)):
        raise InputError(_("months must be a whole number"), "months")
    if not 1 <= months <= MAX_MONTHS:
        raise InputError(
            _("months must be between 1 and ${most}", mapping={"most": MAX_MONTHS}), "months"
        )
    months = int(months)

    # The scenario axis is whatever the scenario fields and the paths' leading axes make.
    path_shapes = [scen_shape + (1,)]
    for value in (
        settings.hashrate_growth_per_month,
        settings.price_growth_per_month,
        settings.price_path_usd,
    ):
        if value is not None:
            path_shapes.append(np.shape(value))
    try:
        full = np.broadcast_shapes(*path_shapes, (months,))
    except ValueError:
        raise InputError(
            _("the growth or price paths do not match the scenarios and months"), "price_path_usd"
        ) from None
    if full[-1] != months:
        raise InputError(
            _("a monthly path must have ${months} values", mapping={"months": months}),
            "price_path_usd",
        )
    scen_shape = full[:-1]
    count = int(np.prod(scen_shape))

    def per_scenario(name):  # (count,) for the epoch loop
        return np.broadcast_to(v[name], scen_shape).reshape(count).astype(float)

    def column(name):  # (count, 1) or a scalar for the month arithmetic
        a = v[name]
        return a if a.ndim == 0 else np.broadcast_to(a, scen_shape).reshape(count, 1)

    if settings.difficulty_growth_per_epoch is not None:
        growth = hashrate_growth_for_difficulty(settings.difficulty_growth_per_epoch)
        growth = _month_path(growth, "difficulty_growth_per_epoch", full, minimum=MIN_GROWTH,
                             maximum=MAX_GROWTH)  # fmt: skip
    else:
        growth = _month_path(
            settings.hashrate_growth_per_month,
            "hashrate_growth_per_month",
            full,
            minimum=MIN_GROWTH,
            maximum=MAX_GROWTH,
        )
    k_daily = (np.log1p(growth) / DAYS_PER_MONTH).reshape(count, months)

    price0 = column("btc_price_usd")
    if settings.price_path_usd is not None:
        prices = _month_path(settings.price_path_usd, "price_path_usd", full, minimum=0.0,
                             maximum=1e9).reshape(count, months)  # fmt: skip
    else:
        price_growth = _month_path(
            settings.price_growth_per_month,
            "price_growth_per_month",
            full,
            minimum=MIN_GROWTH,
            maximum=MAX_GROWTH,
        ).reshape(count, months)
        # Month 0 is at today's price; each later month compounds the growth before it.
        log_growth = np.cumsum(np.log1p(price_growth[:, :-1]), axis=1)
        prices = price0 * np.exp(np.concatenate([np.zeros((count, 1)), log_growth], axis=1))
    if not np.all(np.isfinite(prices)) or np.any(prices > 1e12):
        raise InputError(
            _("the price path grows beyond any meaningful price"), "price_growth_per_month"
        )

    difficulty0 = per_scenario("difficulty")
    if settings.network_hashrate_ths is not None:
        network0 = _number(settings.network_hashrate_ths, "network_hashrate_ths", minimum=1e-6,
                           maximum=MAX_HASHRATE_THS)  # fmt: skip
        try:
            network0 = np.broadcast_to(network0, scen_shape).reshape(count).astype(float)
        except ValueError:
            raise InputError(_("network_hashrate_ths does not match the scenarios"),
                             "network_hashrate_ths") from None  # fmt: skip
    else:
        network0 = difficulty0 * HASHES_PER_DIFFICULTY_1 / TARGET_BLOCK_SECONDS / 1e12
    height0 = np.broadcast_to(v["block_height"], scen_shape).reshape(count).astype(np.int64)
    fees = per_scenario("fees_per_block_btc")

    chain = _walk_chain(height0, difficulty0, network0 * 1e12, fees, k_daily, months)
    return _finish(v, settings, chain, prices, column, scen_shape, months)


def _walk_chain(height0, difficulty0, network_hs, fees, k_daily, months):
    """The event loop: epochs and month ends for every scenario, one vector step each.

    Each step takes every scenario to its next event: the end of its difficulty epoch or
    of its month, whichever comes first. Within a step the difficulty is constant and the
    network hashrate grows as ``exp(k t)``, so the blocks found and the time they take have
    closed forms. A halving inside a step splits the step's reward at the halving's time.
    """
    count = height0.shape[0]
    # Per (scenario, month) results, written when the scenario's month closes.
    reward_over_d = np.zeros((count, months))  # integral of (subsidy + fees) / D over days
    blocks = np.zeros((count, months))
    end_height = np.zeros((count, months))
    end_difficulty = np.zeros((count, months))
    end_network = np.zeros((count, months))
    end_subsidy = np.zeros((count, months))
    halving_day = np.full(count, np.nan)
    # Running sums for the month in progress.
    month_reward = np.zeros(count)
    month_blocks = np.zeros(count)

    t = np.zeros(count)  # days from now
    month = np.zeros(count, dtype=np.int64)
    month_end = np.full(count, float(DAYS_PER_MONTH))
    k = k_daily[:, 0].copy()  # the network's growth per day in this month
    epoch_base = (height0 - height0 % EPOCH_BLOCKS).astype(float)  # the epoch's first height
    into = (height0 % EPOCH_BLOCKS).astype(float)  # blocks found in it so far (expected)
    d = difficulty0.copy()
    h = network_hs.copy()
    # The blocks already found this epoch are assumed to have come at today's rate.
    epoch_start = -into * d * HASHES_PER_DIFFICULTY_1 / h / SECONDS_PER_DAY
    next_halving = (height0 // HALVING_INTERVAL + 1) * HALVING_INTERVAL
    sub_now = _subsidy_satoshi(height0) / SATOSHI_PER_BTC
    sub_next = _subsidy_satoshi(next_halving) / SATOSHI_PER_BTC
    blocks_per_day_per_hs = SECONDS_PER_DAY / HASHES_PER_DIFFICULTY_1

    active = np.ones(count, dtype=bool)
    for _step in range(10 * (months * 3 + 10)):
        if not active.any():
            break
        rate = h * blocks_per_day_per_hs / d  # blocks a day right now
        need = EPOCH_BLOCKS - into
        to_epoch = _days_for_blocks(need, rate, k)
        # A finished scenario has month_end == t, so its step is 0 and nothing changes.
        to_month = month_end - t
        ends_epoch = to_epoch <= to_month
        step = np.minimum(to_epoch, to_month)
        found = np.where(ends_epoch, need, _blocks_in_days(step, rate, k))
        reward_days = (sub_now + fees) * step

        # A halving inside this step: the subsidy changes part-way through it.
        to_halving = next_halving - (epoch_base + into)
        splits = (to_halving <= found) & (found > 0)
        if splits.any():
            i = np.flatnonzero(splits)
            before = _days_for_blocks(to_halving[i], rate[i], k[i])
            before = np.minimum(before, step[i])
            reward_days[i] += (sub_next[i] - sub_now[i]) * (step[i] - before)
            first = np.isnan(halving_day[i])
            halving_day[i[first]] = t[i[first]] + before[first]
            sub_now[i] = sub_next[i]
            next_halving[i] += HALVING_INTERVAL
            sub_next[i] = _subsidy_satoshi(next_halving[i]) / SATOSHI_PER_BTC
        month_reward += reward_days / d
        month_blocks += found

        t += step
        into += found
        h *= np.exp(k * step)
        # Epoch ends: retarget by two weeks over the time the epoch took, clamped.
        if ends_epoch.any():
            i = np.flatnonzero(ends_epoch)
            took = (t[i] - epoch_start[i]) * SECONDS_PER_DAY
            d[i] *= np.clip(EPOCH_SECONDS / took, 1.0 / MAX_RETARGET, MAX_RETARGET)
            epoch_base[i] += EPOCH_BLOCKS
            into[i] = 0.0
            epoch_start[i] = t[i]
        # Month ends: write the month, start the next. t is pinned to the boundary.
        closes = active & ~ends_epoch
        if closes.any():
            i = np.flatnonzero(closes)
            mm = month[i]
            reward_over_d[i, mm] = month_reward[i]
            blocks[i, mm] = month_blocks[i]
            end_height[i, mm] = epoch_base[i] + into[i]
            end_difficulty[i, mm] = d[i]
            end_network[i, mm] = h[i]
            end_subsidy[i, mm] = sub_now[i]
            month_reward[i] = 0.0
            month_blocks[i] = 0.0
            t[i] = month_end[i]
            month[i] = mm + 1
            going = month[i] < months
            active[i[~going]] = False
            i = i[going]
            month_end[i] += DAYS_PER_MONTH
            k[i] = k_daily[i, month[i]]
    else:  # pragma: no cover - the bound is far above any horizon's event count
        raise InputError(_("the projection did not converge"), "months")

    return {
        "reward_over_d": reward_over_d,
        "blocks": blocks,
        "height": end_height,
        "difficulty": end_difficulty,
        "network_ths": end_network / 1e12,
        "subsidy": end_subsidy,
        "halving_month": halving_day / DAYS_PER_MONTH,
    }


def _finish(v, settings, chain, prices, column, scen_shape, months) -> Projection:
    count = prices.shape[0]
    quantity = column("quantity")
    curtailed = column("curtailment_hours_per_day")
    hashing_hours = (24.0 - curtailed) * column("uptime")
    # BTC per TH/s over each month: integral of reward / D over days * 1e12 * 86400 / 2**32.
    per_th = chain["reward_over_d"] * (1e12 * SECONDS_PER_DAY / HASHES_PER_DIFFICULTY_1)
    hashprice_btc = per_th / DAYS_PER_MONTH
    kept = (1.0 - column("dev_fee")) * (1.0 - column("pool_fee"))
    btc = per_th * (column("hashrate_ths") * quantity * hashing_hours / 24.0 * kept)
    revenue = btc * prices
    energy = (column("power_w") * hashing_hours + column("idle_power_w") * curtailed) * (
        quantity * DAYS_PER_MONTH / 1000.0
    )
    power_cost = energy * (column("pue") * column("electricity_usd_per_kwh"))
    flat = column("hosting_usd_per_miner_month") * quantity
    hosting = (
        flat + energy * column("hosting_usd_per_kwh") + revenue * column("hosting_revenue_share")
    )
    profit = revenue - power_cost - hosting
    profit, revenue, btc, power_cost, hosting = (
        np.broadcast_to(a, (count, months)) for a in (profit, revenue, btc, power_cost, hosting)
    )
    running = np.ones((count, months), dtype=bool)
    if settings.switch_off_when_unprofitable:
        idle = -np.broadcast_to(flat, (count, months))  # off: only the flat fee is owed
        running = profit > idle
        profit = np.where(running, profit, idle)
        revenue = np.where(running, revenue, 0.0)
        btc = np.where(running, btc, 0.0)
        power_cost = np.where(running, power_cost, 0.0)
        hosting = np.where(running, hosting, -idle)

    capex = np.broadcast_to(column("capex_usd") * quantity, (count, 1))[:, 0]
    salvage = np.broadcast_to(column("salvage_usd") * quantity, (count, 1))[:, 0]
    flows = np.concatenate([-capex[:, None], profit], axis=1)
    cumulative = np.cumsum(flows, axis=1)[:, 1:]
    with_salvage = flows.copy()
    with_salvage[:, -1] += salvage
    discount = finance.period_rate(
        np.broadcast_to(
            _number(
                settings.discount_rate_annual, "discount_rate_annual", minimum=-0.99, maximum=100.0
            ),
            scen_shape,
        ).reshape(count),  # fmt: skip
        MONTHS_PER_YEAR,
    )
    npv = finance.npv(discount, with_salvage)
    irr_month = np.asarray(finance.irr(with_salvage), dtype=float).reshape(count)
    payback = np.asarray(finance.payback_period(flows), dtype=float).reshape(count)
    total_profit = profit.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(capex > 0, (total_profit + salvage - capex) / capex, np.nan)
        static = np.where((capex > 0) & (profit[:, 0] > 0), capex / profit[:, 0], np.nan)
        static = np.where(capex == 0, 0.0, static)
        cost_per_btc = np.where(btc > 0, (power_cost + hosting) / btc, np.nan)

    def monthly(a):
        return np.broadcast_to(a, (count, months)).reshape(scen_shape + (months,))

    def single(a):
        return _out(np.asarray(a, dtype=float).reshape(scen_shape))

    return Projection(
        months=np.arange(1, months + 1),
        block_height=monthly(chain["height"]),
        difficulty=monthly(chain["difficulty"]),
        network_hashrate_ths=monthly(chain["network_ths"]),
        network_blocks=monthly(chain["blocks"]),
        block_subsidy_btc=monthly(chain["subsidy"]),
        btc_price_usd=monthly(prices),
        hashprice_btc_per_th_day=monthly(hashprice_btc),
        hashprice_usd_per_th_day=monthly(hashprice_btc * prices),
        btc_mined=monthly(btc),
        revenue_usd=monthly(revenue),
        power_cost_usd=monthly(power_cost),
        hosting_usd=monthly(hosting),
        profit_usd=monthly(profit),
        running=np.broadcast_to(running, (count, months)).reshape(scen_shape + (months,)),
        cost_per_btc_usd=monthly(cost_per_btc),
        cumulative_cash_flow_usd=monthly(cumulative),
        halving_month=single(chain["halving_month"]),
        capex_usd=single(capex),
        salvage_usd=single(salvage),
        total_btc=single(btc.sum(axis=1)),
        total_profit_usd=single(total_profit),
        static_payback_months=single(static),
        payback_months=single(payback),
        roi=single(roi),
        npv_usd=single(npv),
        irr_annual=single(finance.annual_rate(irr_month, MONTHS_PER_YEAR)),
    )
