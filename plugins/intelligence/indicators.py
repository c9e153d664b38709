"""Technical indicators on a series of closing prices. Pure pandas/numpy, no Pyramid.

Every function returns a float array as long as the input, NaN where the indicator is not
defined yet (the first ``window - 1`` values, or ``window`` for RSI, which needs changes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from translationstring import TranslationStringFactory  # Pyramid's, without Pyramid

_ = TranslationStringFactory("hashinsight")

MIN_CLOSES = 2
MAX_CLOSES = 10_000
MIN_WINDOW = 2
MAX_WINDOW = 365


def closes_count_message(count: int):
    return _(
        "closes must hold ${low} to ${high} numbers (got ${count})",
        mapping={"low": MIN_CLOSES, "high": f"{MAX_CLOSES:,}", "count": f"{count:,}"},
    )


class InputError(ValueError):
    """A bad input; ``field`` names it so forms and APIs can point at it. ``message`` is a
    translation string (shown in the reader's language); ``str()`` is its English text."""

    def __init__(self, message, field: str):
        super().__init__(message.interpolate())
        self.message = message
        self.field = field


def validate(closes: Sequence[float] | np.ndarray, window: int) -> tuple[np.ndarray, int]:
    """The closes as a float array and the window as an int, or :class:`InputError`."""
    if isinstance(window, bool) or not isinstance(window, int | np.integer):
        if not (isinstance(window, float) and window.is_integer()):
            raise InputError(_("window must be a whole number"), "window")
    window = int(window)
    if not MIN_WINDOW <= window <= MAX_WINDOW:
        raise InputError(
            _(
                "window must be between ${low} and ${high}",
                mapping={"low": MIN_WINDOW, "high": MAX_WINDOW},
            ),
            "window",
        )
    try:
        values = np.asarray(closes, dtype=float)
    except (TypeError, ValueError):
        raise InputError(_("closes must be a list of numbers"), "closes") from None
    if values.ndim != 1:
        raise InputError(_("closes must be a flat list of numbers"), "closes")
    if not MIN_CLOSES <= len(values) <= MAX_CLOSES:
        raise InputError(closes_count_message(len(values)), "closes")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InputError(
            _(
                "closes must be finite numbers (number ${number} is not)",
                mapping={"number": int(bad[0]) + 1},
            ),
            "closes",
        )
    if window > len(values):
        raise InputError(
            _(
                "window (${window}) must not be longer than the number of closes (${count})",
                mapping={"window": window, "count": len(values)},
            ),
            "window",
        )
    return values, window


def sma(closes, window: int) -> np.ndarray:
    """Simple moving average: the mean of the last ``window`` closes."""
    values, window = validate(closes, window)
    return pd.Series(values).rolling(window).mean().to_numpy()


def _seeded_ema(values: np.ndarray, window: int, alpha: float, start: int) -> np.ndarray:
    """An exponential average that starts at ``start`` with the plain mean of the ``window``
    values ending there, then moves by ``alpha`` per step (the TA-Lib and Wilder seeding:
    no made-up history before the first full window)."""
    seeded = np.full(len(values), np.nan)
    if start >= len(values):
        return seeded
    seeded[start] = values[start - window + 1 : start + 1].mean()
    seeded[start + 1 :] = values[start + 1 :]
    return pd.Series(seeded).ewm(alpha=alpha, adjust=False).mean().to_numpy()


def ema(closes, window: int) -> np.ndarray:
    """Exponential moving average with alpha = 2 / (window + 1), seeded with the first SMA."""
    values, window = validate(closes, window)
    return _seeded_ema(values, window, 2.0 / (window + 1), window - 1)


def rsi(closes, window: int) -> np.ndarray:
    """Wilder's relative strength index (0 to 100).

    Average gain and loss start as the plain mean of the first ``window`` changes and then
    follow Wilder's smoothing (alpha = 1 / window). A series that only rises is 100, one that
    only falls is 0; one that does not move at all is 50 (neither side has any strength).
    """
    values, window = validate(closes, window)
    change = np.diff(values, prepend=np.nan)
    gain = np.where(change > 0, change, 0.0)
    loss = np.where(change < 0, -change, 0.0)
    # Index 0 has no change; the first average covers changes 1..window and lands at window.
    avg_gain = np.concatenate([[np.nan], _seeded_ema(gain[1:], window, 1.0 / window, window - 1)])
    avg_loss = np.concatenate([[np.nan], _seeded_ema(loss[1:], window, 1.0 / window, window - 1)])
    with np.errstate(divide="ignore", invalid="ignore"):
        result = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    result = np.where((avg_loss == 0) & (avg_gain > 0), 100.0, result)
    result = np.where((avg_loss == 0) & (avg_gain == 0), 50.0, result)
    return result


@dataclass(frozen=True)
class Bands:
    middle: np.ndarray
    upper: np.ndarray
    lower: np.ndarray


def bollinger(closes, window: int, num_std: float = 2.0) -> Bands:
    """Bollinger bands: the SMA plus and minus ``num_std`` standard deviations of the same
    window (population deviation, as Bollinger defines them)."""
    values, window = validate(closes, window)
    if not np.isfinite(num_std) or num_std < 0:
        raise InputError(_("num_std must be a number that is 0 or more"), "num_std")

    rolling = pd.Series(values).rolling(window)
    middle = rolling.mean().to_numpy()
    spread = num_std * rolling.std(ddof=0).to_numpy()
    return Bands(middle=middle, upper=middle + spread, lower=middle - spread)


def all_indicators(closes, window: int) -> dict[str, np.ndarray]:
    """Every indicator for one series and window, keyed as the API and page show them."""
    values, window = validate(closes, window)
    bands = bollinger(values, window)
    return {
        "sma": sma(values, window),
        "ema": ema(values, window),
        "rsi": rsi(values, window),
        "bollinger_middle": bands.middle,
        "bollinger_upper": bands.upper,
        "bollinger_lower": bands.lower,
    }
