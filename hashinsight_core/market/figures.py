"""The market figures: names, units, plausible ranges, and the arithmetic that joins them.

Pure code (no Pyramid, no database, no network) so providers, the service, the importer and
the calculator can all share one definition of what a figure is and what a sane value is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SECONDS_PER_DAY = 86_400
TWO_POW_32 = 2**32
HALVING_INTERVAL = 210_000
RETARGET_INTERVAL = 2016
COIN_SATS = 100_000_000
FEE_WINDOWS = (144, 1008, 2016)


@dataclass(frozen=True)
class FigureSpec:
    name: str
    unit: str
    minimum: float  # inclusive; a provider answering outside [minimum, maximum] is wrong
    maximum: float
    integer: bool = False
    ttl_s: int = 600  # fresh for this long after its as-of time; stale (but still shown) after
    computed: bool = False  # derived from other figures, never fetched


# The ranges are wide on purpose: they only catch nonsense (a price of 0, a difficulty given
# in the wrong unit, a string where a number belongs), never a real if surprising market.
FIGURES: dict[str, FigureSpec] = {
    spec.name: spec
    for spec in (
        FigureSpec("price_usd", "USD/BTC", 1.0, 1e8, ttl_s=300),
        FigureSpec("difficulty", "", 1.0, 1e18, ttl_s=1800),
        FigureSpec("hashrate_ehs", "EH/s", 1e-9, 1e7, ttl_s=1800),
        FigureSpec("block_height", "blocks", 0, 1e8, integer=True, ttl_s=900),
        FigureSpec("fees_btc_144", "BTC/block", 0.0, 1000.0, ttl_s=1800),
        FigureSpec("fees_btc_1008", "BTC/block", 0.0, 1000.0, ttl_s=3600),
        FigureSpec("fees_btc_2016", "BTC/block", 0.0, 1000.0, ttl_s=3600),
        FigureSpec("next_adjustment_pct", "%", -75.0, 300.0, ttl_s=1800),
        FigureSpec("next_adjustment_height", "blocks", 0, 1e8, integer=True, ttl_s=1800),
        # Unix seconds (UTC) of the estimated retarget.
        FigureSpec("next_adjustment_time", "unix time", 1.2e9, 4.2e9, integer=True, ttl_s=1800),
        FigureSpec("hashprice_usd_th_day", "USD/TH/day", 0.0, 1e4, computed=True, ttl_s=300),
    )
}

FETCHED = tuple(name for name, spec in FIGURES.items() if not spec.computed)


class Implausible(ValueError):
    """A value that cannot be the figure it claims to be. ``code`` says why and ``values``
    hold the numbers, so a caller that shows it to a person can word it in their language."""

    def __init__(self, code: str, text: str, **values):
        super().__init__(text)
        self.code = code
        self.values = values


def check(name: str, value) -> float:
    """``value`` as a float if it is a plausible ``name``; else :class:`Implausible`.

    Booleans, NaN and infinities are refused (``True`` is an ``int`` to Python, not a price).
    """
    spec = FIGURES[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = type(value).__name__
        raise Implausible("not_number", f"{name}: {kind} is not a number", figure=name, value=kind)
    number = float(value)
    if not math.isfinite(number):
        raise Implausible(
            "not_finite",
            f"{name}: {value!r} is not a finite number",
            figure=name,
            value=repr(value),
        )
    if not spec.minimum <= number <= spec.maximum:
        low, high = f"{spec.minimum:g}", f"{spec.maximum:g}"
        raise Implausible(
            "out_of_range",
            f"{name}: {number:g} is outside the plausible range {low}..{high}",
            figure=name,
            value=f"{number:g}",
            low=low,
            high=high,
        )
    if spec.integer and not number.is_integer():
        raise Implausible(
            "not_whole",
            f"{name}: {number:g} is not a whole number",
            figure=name,
            value=f"{number:g}",
        )
    return number


def subsidy_btc(height: int) -> float:
    """The block subsidy at ``height`` (Bitcoin Core ``GetBlockSubsidy``: 50 BTC halved every
    210,000 blocks, computed in satoshis with a right shift, zero from 64 halvings on)."""
    halvings = int(height) // HALVING_INTERVAL
    if halvings >= 64:
        return 0.0
    return ((50 * COIN_SATS) >> halvings) / COIN_SATS


def next_retarget_height(height: int) -> int:
    """The first height of the next difficulty epoch after block ``height``."""
    return (int(height) // RETARGET_INTERVAL + 1) * RETARGET_INTERVAL


def hashprice_usd_th_day(price_usd: float, difficulty: float, height: int, fees_btc: float):
    """Expected USD per TH/s per day: 1e12 · 86,400 · (subsidy + fees) / (D · 2^32) · price.

    The reward is the subsidy of the *next* block (height + 1), the one being mined.
    """
    reward = subsidy_btc(int(height) + 1) + fees_btc
    btc_per_th_day = 1e12 * SECONDS_PER_DAY * reward / (difficulty * TWO_POW_32)
    return btc_per_th_day * price_usd
