"""Turning what people send into hours and prices."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hashinsight_core.exceptions import InvalidInput
from plugins.curtailment.services import (
    hours_between,
    parse_decimal,
    parse_instant,
    rows_from_csv,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T14:00:00Z", dt.datetime(2026, 3, 1, 14)),
        ("2026-03-01T14:00:00z", dt.datetime(2026, 3, 1, 14)),
        ("2026-03-01T14:00:00+00:00", dt.datetime(2026, 3, 1, 14)),
        ("2026-03-01T19:00:00+05:00", dt.datetime(2026, 3, 1, 14)),  # Almaty
        ("2026-03-01T00:00:00-06:00", dt.datetime(2026, 3, 1, 6)),  # Texas, winter
        (" 2026-03-01 14:00Z ", dt.datetime(2026, 3, 1, 14)),
    ],
)
def test_times_with_a_zone_become_utc(text, expected):
    assert parse_instant(text, require_zone=True) == expected


def test_a_time_without_a_zone_is_refused_for_prices_and_utc_for_queries():
    with pytest.raises(ValueError, match="needs a time zone"):
        parse_instant("2026-03-01T14:00:00", require_zone=True)
    assert parse_instant("2026-03-01T14:00:00", require_zone=False) == dt.datetime(2026, 3, 1, 14)
    assert parse_instant("2026-03-01", require_zone=False) == dt.datetime(2026, 3, 1)


@pytest.mark.parametrize(
    "bad", ["", "tomorrow", "2026-13-01T00:00:00Z", "1999-12-31T23:00Z", None, 1700000000]
)
def test_nonsense_times_are_refused(bad):
    with pytest.raises(ValueError):
        parse_instant(bad, require_zone=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (45, Decimal(45)),
        (-12.5, Decimal("-12.5")),
        ("-0.0001", Decimal("-0.0001")),
        (" 42.10 ", Decimal("42.10")),
        (0.1, Decimal("0.1")),
    ],
)
def test_numbers_and_decimal_strings(value, expected):
    assert parse_decimal(value, low=Decimal(-100), high=Decimal(100)) == expected


@pytest.mark.parametrize("bad", ["abc", "", None, True, "NaN", "Infinity", float("inf"), "1e999"])
def test_things_that_are_not_prices(bad):
    with pytest.raises(ValueError):
        parse_decimal(bad, low=Decimal(-100), high=Decimal(100))


def test_range_is_checked():
    with pytest.raises(ValueError, match="between -100 and 100"):
        parse_decimal("100.01", low=Decimal(-100), high=Decimal(100))


@given(
    st.datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2099, 1, 1)),
    st.integers(min_value=0, max_value=24 * 400),
)
def test_hours_between_counts_hour_starts(start, minutes):
    end = start + dt.timedelta(minutes=minutes)
    expected = 0
    t = start.replace(minute=0, second=0, microsecond=0)
    while t < end:
        expected += t >= start
        t += dt.timedelta(hours=1)
    assert hours_between(start, end) == expected


def test_csv_lines_with_a_header_and_blank_lines():
    rows, lines = rows_from_csv(
        "starts_at,price_per_mwh\n2026-03-01T00:00Z,30\n\n2026-03-01T01:00Z, -5.5\n", 7, "EUR"
    )
    assert lines == [2, 4]
    assert rows[1] == {
        "site_id": 7,
        "starts_at": "2026-03-01T01:00Z",
        "price_per_mwh": "-5.5",
        "currency": "EUR",
        "source": "csv",
    }


def test_csv_with_the_wrong_number_of_values_names_the_line():
    with pytest.raises(InvalidInput, match="line 2: expected 2 values"):
        rows_from_csv("2026-03-01T00:00Z,30\n2026-03-01T01:00Z;31\n", 1)
    with pytest.raises(InvalidInput, match="at least one line"):
        rows_from_csv("\n\n", 1)
    with pytest.raises(InvalidInput, match="at most 1000"):
        rows_from_csv("".join(f"2026-03-01T00:00Z,{i}\n" for i in range(1001)), 1)
