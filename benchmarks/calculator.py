"""Calculator engine benchmark: a million single-day scenarios vectorized against a plain
Python loop, 10,000 epoch-stepped projections, and a 1,000-path Monte Carlo, in one run.

    .venv/bin/python benchmarks/calculator.py [--scenarios 1000000] [--loop-sample 20000]
                                              [--projections 10000] [--paths 1000] [--repeat 5]

Every figure of a day (revenue, fees, power, hosting, profit, margin, depreciation,
hashprice, hashcost, cost per BTC, the four break-evens, efficiency, payback) is computed
for scenarios that differ in nine inputs. The loop computes the same figures one scenario
at a time with ``math`` on a sample and is scaled to the full count; a handful of its
results are checked against the vectorized ones. Times are the median of ``--repeat`` runs
after one warm-up. The last line is JSON: scenarios_per_s, speedup_vs_loop,
projections_10k_s, monte_carlo_1000_s, ...
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from plugins.calculator import engine  # noqa: E402
from plugins.calculator.montecarlo import MarketModel, monte_carlo  # noqa: E402
from plugins.calculator.projection import ProjectionSettings, project  # noqa: E402

TWO_32 = 2**32


def scenarios(n: int, seed: int = 1) -> engine.Scenario:
    rng = np.random.default_rng(seed)
    return engine.Scenario(
        hashrate_ths=rng.uniform(90, 500, n),
        power_w=rng.uniform(3000, 7500, n),
        electricity_usd_per_kwh=rng.uniform(0.02, 0.12, n),
        btc_price_usd=rng.uniform(40_000, 200_000, n),
        difficulty=rng.uniform(1.0e14, 2.0e14, n),
        block_height=925_000,
        fees_per_block_btc=rng.uniform(0.0, 0.2, n),
        pool_fee=0.02,
        dev_fee=0.0,
        uptime=rng.uniform(0.9, 1.0, n),
        curtailment_hours_per_day=1.0,
        idle_power_w=40.0,
        pue=1.05,
        hosting_usd_per_miner_month=rng.uniform(0, 30, n),
        hosting_usd_per_kwh=0.005,
        hosting_revenue_share=0.0,
        quantity=1.0,
        capex_usd=rng.uniform(1_000, 8_000, n),
        salvage_usd=300.0,
        depreciation_months=36.0,
    )


def one_day(s: dict) -> dict:
    """The same figures for one scenario, the way one would write it without numpy."""
    subsidy = (50 * 100_000_000 >> (s["block_height"] // 210_000)) / 100_000_000
    reward = subsidy + s["fees_per_block_btc"]
    hashprice_btc = 1e12 * 86_400 * reward / (s["difficulty"] * TWO_32)
    hashprice_usd = hashprice_btc * s["btc_price_usd"]
    hours = (24 - s["curtailment_hours_per_day"]) * s["uptime"]
    th_days = s["hashrate_ths"] * s["quantity"] * hours / 24
    gross = th_days * hashprice_btc
    dev_btc = gross * s["dev_fee"]
    pool_btc = (gross - dev_btc) * s["pool_fee"]
    btc = gross - dev_btc - pool_btc
    revenue = btc * s["btc_price_usd"]
    energy = s["power_w"] * hours + s["idle_power_w"] * s["curtailment_hours_per_day"]
    energy = energy / 1000 * s["quantity"]
    power_cost = energy * s["pue"] * s["electricity_usd_per_kwh"]
    fixed_hosting = s["hosting_usd_per_miner_month"] * s["quantity"] / 30
    fixed_hosting += energy * s["hosting_usd_per_kwh"]
    share = revenue * s["hosting_revenue_share"]
    fixed = power_cost + fixed_hosting
    costs = fixed + share
    profit = revenue - costs
    kept = 1 - s["hosting_revenue_share"]
    capex = s["capex_usd"] * s["quantity"]
    depreciation = (capex - s["salvage_usd"] * s["quantity"]) / (s["depreciation_months"] * 30)
    nan = math.nan
    return {
        "btc_per_day": btc,
        "revenue_usd_per_day": revenue,
        "power_cost_usd_per_day": power_cost,
        "hosting_usd_per_day": fixed_hosting + share,
        "profit_usd_per_day": profit,
        "profit_usd_per_month": profit * 30,
        "margin": profit / revenue if revenue > 0 else nan,
        "net_income_usd_per_day": profit - depreciation,
        "hashprice_usd_per_th_day": hashprice_usd,
        "hashprice_usd_per_ph_day": hashprice_usd * 1000,
        "hashcost_usd_per_th_day": costs / (s["hashrate_ths"] * s["quantity"]),
        "cost_per_btc_usd": costs / btc if btc > 0 else nan,
        "break_even_usd_per_kwh": (revenue * kept - fixed_hosting) / (energy * s["pue"])
        if energy > 0
        else nan,
        "break_even_btc_price_usd": fixed / (btc * kept) if btc * kept > 0 else nan,
        "break_even_hashprice_usd_per_th_day": fixed
        / (th_days * (1 - s["dev_fee"]) * (1 - s["pool_fee"]) * kept),
        "break_even_difficulty": s["difficulty"] * revenue * kept / fixed if fixed > 0 else nan,
        "efficiency_j_per_th": s["power_w"] / s["hashrate_ths"],
        "static_payback_days": capex / profit if profit > 0 else nan,
    }


def timed(func, repeat: int) -> tuple[float, float, object]:
    func()  # warm-up: first-touch page faults and numpy's caches
    times, result = [], None
    for _ in range(repeat):
        result = None  # free the previous result first, as a server between requests
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", type=int, default=1_000_000)
    parser.add_argument("--loop-sample", type=int, default=20_000)
    parser.add_argument("--projections", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--paths", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    batch = scenarios(args.scenarios)
    vector_s, vector_best, quote = timed(lambda: engine.quote(batch), args.repeat)
    count = len(engine.Quote.__dataclass_fields__)
    print(f"quote: {args.scenarios:,} scenarios, {count} figures each: "
          f"median {vector_s * 1000:.1f} ms (best {vector_best * 1000:.1f} ms)")  # fmt: skip

    sample = min(args.loop_sample, args.scenarios)
    names = [f for f in engine.Scenario.__dataclass_fields__]
    rows = []
    for i in range(sample):
        row = {}
        for name in names:
            value = getattr(batch, name)
            row[name] = float(value[i]) if np.ndim(value) else float(value)
        row["block_height"] = int(row["block_height"])
        rows.append(row)
    start = time.perf_counter()
    looped = [one_day(row) for row in rows]
    loop_s = (time.perf_counter() - start) / sample * args.scenarios
    for i in (0, sample // 2, sample - 1):  # the two ways must agree
        for name, value in looped[i].items():
            got = float(getattr(quote, name)[i])
            assert (math.isnan(value) and math.isnan(got)) or math.isclose(
                got, value, rel_tol=1e-9, abs_tol=1e-12
            ), (name, got, value)
    print(f"plain loop: {sample:,} scenarios timed, {loop_s:.2f} s for {args.scenarios:,}")
    del quote

    rng = np.random.default_rng(2)
    n = args.projections
    many = scenarios(n, seed=3)
    settings = ProjectionSettings(
        months=args.months,
        hashrate_growth_per_month=rng.uniform(0.0, 0.04, (n, 1)),
        price_growth_per_month=rng.uniform(-0.01, 0.03, (n, 1)),
        discount_rate_annual=0.15,
        switch_off_when_unprofitable=True,
    )
    projection_s, projection_best, run = timed(lambda: project(many, settings), args.repeat)
    print(f"projection: {n:,} scenarios x {args.months} months, epoch-stepped: "
          f"median {projection_s:.3f} s (best {projection_best:.3f} s); median halving at "
          f"month {np.nanmedian(run.halving_month):.1f}")  # fmt: skip

    one = engine.Scenario(
        hashrate_ths=270, power_w=3645, electricity_usd_per_kwh=0.06, btc_price_usd=100_000,
        difficulty=1.3e14, block_height=925_000, fees_per_block_btc=0.03, pool_fee=0.02,
        uptime=0.97, capex_usd=4_050, salvage_usd=405,
    )  # fmt: skip
    model = MarketModel(price_drift=0.2, price_volatility=0.6, hashrate_drift=0.35,
                        hashrate_volatility=0.15, correlation=0.3)  # fmt: skip
    mc_settings = ProjectionSettings(months=args.months, discount_rate_annual=0.15)
    mc_s, mc_best, mc = timed(
        lambda: monte_carlo(one, mc_settings, model, paths=args.paths, seed=1), args.repeat
    )
    print(f"monte carlo: {args.paths:,} paths x {args.months} months: median {mc_s:.3f} s "
          f"(best {mc_best:.3f} s); P(payback) {mc.probability_of_payback:.2f}")  # fmt: skip

    scenarios_per_s = args.scenarios / vector_s
    figures = {
        "scenarios": args.scenarios,
        "quote_s": round(vector_s, 4),
        "quote_best_s": round(vector_best, 4),
        "scenarios_per_s": round(scenarios_per_s),
        "loop_s_scaled": round(loop_s, 2),
        "loop_sample": sample,
        "speedup_vs_loop": round(loop_s / vector_s, 1),
        "projections": n,
        "months": args.months,
        "projections_10k_s": round(projection_s * 10_000 / n, 3),
        "monte_carlo_paths": args.paths,
        "monte_carlo_1000_s": round(mc_s * 1_000 / args.paths, 3),
    }
    figures["goals_met"] = (
        vector_s * 1_000_000 / args.scenarios < 0.1
        and figures["speedup_vs_loop"] >= 50
        and figures["projections_10k_s"] < 0.5
        and figures["monte_carlo_1000_s"] < 1.0
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
