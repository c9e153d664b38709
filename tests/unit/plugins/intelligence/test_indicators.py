"""Indicators against values worked out by hand, and their validation."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.intelligence import indicators

nan = float("nan")


def assert_series(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-12, equal_nan=True)


def test_sma_of_one_to_five_with_window_three():
    # (1+2+3)/3 = 2, (2+3+4)/3 = 3, (3+4+5)/3 = 4; the first two windows are not full.
    assert_series(indicators.sma([1, 2, 3, 4, 5], 3), [nan, nan, 2, 3, 4])


def test_ema_is_seeded_with_the_first_sma_then_moves_by_two_over_window_plus_one():
    # Window 3: alpha = 2/4 = 0.5. Seed = (2+4+6)/3 = 4; then 0.5*8 + 0.5*4 = 6;
    # then 0.5*12 + 0.5*6 = 9.
    assert_series(indicators.ema([2, 4, 6, 8, 12], 3), [nan, nan, 4, 6, 9])


def test_rsi_follows_wilders_smoothing():
    # Changes +1 +1 -1 +1, window 2. At index 2: gain (1+1)/2 = 1, loss 0 -> 100.
    # Index 3: gain (1*1 + 0)/2 = 0.5, loss (0*1 + 1)/2 = 0.5 -> RS 1 -> 50.
    # Index 4: gain (0.5 + 1)/2 = 0.75, loss (0.5 + 0)/2 = 0.25 -> RS 3 -> 100 - 100/4 = 75.
    assert_series(indicators.rsi([1, 2, 3, 2, 3], 2), [nan, nan, 100, 50, 75])


def test_rsi_of_a_strictly_rising_series_is_100_and_of_a_falling_one_is_0():
    rising = indicators.rsi(np.arange(1, 31, dtype=float) ** 1.5, 14)
    assert np.isnan(rising[:14]).all()
    assert (rising[14:] == 100).all()
    falling = indicators.rsi(np.arange(30, 0, -1), 14)
    assert (falling[14:] == 0).all()


def test_rsi_of_a_flat_series_is_50():
    assert (indicators.rsi([7] * 10, 3)[3:] == 50).all()


def test_bollinger_bands_use_the_population_deviation():
    # Window [1, 2, 3]: mean 2, population variance (1 + 0 + 1)/3 = 2/3.
    bands = indicators.bollinger([1, 2, 3, 4, 5], 3)
    width = 2 * math.sqrt(2 / 3)
    assert_series(bands.middle, [nan, nan, 2, 3, 4])
    assert_series(bands.upper, [nan, nan, 2 + width, 3 + width, 4 + width])
    assert_series(bands.lower, [nan, nan, 2 - width, 3 - width, 4 - width])


def test_all_indicators_are_as_long_as_the_closes():
    result = indicators.all_indicators(list(range(1, 21)), 5)
    assert set(result) == {
        "sma",
        "ema",
        "rsi",
        "bollinger_middle",
        "bollinger_upper",
        "bollinger_lower",
    }
    assert all(len(series) == 20 for series in result.values())


@pytest.mark.parametrize(
    ("closes", "window", "field", "words"),
    [
        ([1, 2, 3], 1, "window", "between 2 and 365"),
        ([1, 2, 3], 366, "window", "between 2 and 365"),
        ([1, 2, 3], 2.5, "window", "whole number"),
        ([1, 2, 3], "3", "window", "whole number"),
        ([1, 2, 3], True, "window", "whole number"),
        ([1, 2, 3], 4, "window", "longer than the number of closes"),
        ([1], 2, "closes", "2 to 10,000"),
        (list(range(10_001)), 2, "closes", "2 to 10,000"),
        ([1, nan, 3], 2, "closes", "number 2 is not"),
        ([1, 2, float("inf")], 2, "closes", "number 3 is not"),
        ([[1, 2], [3, 4]], 2, "closes", "flat list"),
        (["a", "b"], 2, "closes", "list of numbers"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(closes, window, field, words):
    with pytest.raises(ValueError, match=words) as error:
        indicators.all_indicators(closes, window)
    assert error.value.field == field


def naive_rsi(closes, window):
    """Wilder's RSI written as the textbook loop, to check the vectorised version."""
    out = [nan] * len(closes)
    changes = [closes[i] - closes[i - 1] for i in range(1, len(closes))]
    if len(changes) < window:
        return out
    gain = sum(max(c, 0) for c in changes[:window]) / window
    loss = sum(max(-c, 0) for c in changes[:window]) / window

    def value(g, ell):
        if ell == 0:
            return 100.0 if g > 0 else 50.0
        return 100 - 100 / (1 + g / ell)

    out[window] = value(gain, loss)
    for i in range(window + 1, len(closes)):
        c = changes[i - 1]
        gain = (gain * (window - 1) + max(c, 0)) / window
        loss = (loss * (window - 1) + max(-c, 0)) / window
        out[i] = value(gain, loss)
    return out


prices = st.lists(st.floats(min_value=1, max_value=1e6, allow_nan=False), min_size=2, max_size=200)


@given(prices, st.integers(min_value=2, max_value=50))
def test_rsi_matches_the_textbook_loop_and_stays_between_0_and_100(closes, window):
    window = min(window, len(closes))
    result = indicators.rsi(closes, window)
    np.testing.assert_allclose(
        result, naive_rsi(closes, window), rtol=1e-7, atol=1e-7, equal_nan=True
    )
    defined = result[~np.isnan(result)]
    assert ((defined >= 0) & (defined <= 100)).all()


@given(prices, st.integers(min_value=2, max_value=50))
def test_averages_stay_inside_the_window_and_bands_hold_the_middle(closes, window):
    window = min(window, len(closes))
    values = np.asarray(closes)
    sma = indicators.sma(closes, window)
    bands = indicators.bollinger(closes, window)
    for i in range(window - 1, len(closes)):
        chunk = values[i - window + 1 : i + 1]
        assert chunk.min() - 1e-6 <= sma[i] <= chunk.max() + 1e-6
        assert bands.lower[i] <= bands.middle[i] + 1e-9 <= bands.upper[i] + 2e-9
    assert np.isnan(sma[: window - 1]).all()
    ema = indicators.ema(closes, window)
    assert np.isnan(ema[: window - 1]).all()
    assert (ema[window - 1 :] >= values.min() - 1e-6).all()
    assert (ema[window - 1 :] <= values.max() + 1e-6).all()


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(2, 20))
def test_a_constant_series_averages_to_itself_with_flat_bands(price, window):
    closes = [price] * (window + 5)
    assert_series(indicators.ema(closes, window)[window - 1 :], [price] * 6)
    assert_series(indicators.sma(closes, window)[window - 1 :], [price] * 6)
    bands = indicators.bollinger(closes, window)
    np.testing.assert_allclose(bands.upper[window - 1 :], bands.lower[window - 1 :], atol=1e-9)
