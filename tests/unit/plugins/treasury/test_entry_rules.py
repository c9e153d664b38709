"""The checks on one inventory entry before it meets the ledger."""

import datetime as dt
from decimal import Decimal as D

import pytest

from hashinsight_core.exceptions import InvalidInput
from plugins.treasury.services import clean_entry


def test_a_form_entry_becomes_typed_values():
    assert clean_entry("2024-04-20", "sold", "0.5", "35000.00", "  OTC  ") == {
        "occurred_on": dt.date(2024, 4, 20),
        "kind": "sold",
        "btc": D("0.5"),
        "usd": D("35000.00"),
        "note": "OTC",
    }


def test_json_numbers_keep_the_digits_the_client_wrote():
    entry = clean_entry(dt.date(2024, 1, 1), "bought", 0.1, 6000.1)
    assert (entry["btc"], entry["usd"]) == (D("0.1"), D("6000.1"))
    assert clean_entry("2024-01-01", "bought", 21_000_000, 0)["btc"] == D(21_000_000)


def test_usd_is_needed_to_buy_and_sell_and_optional_otherwise():
    for kind in ("bought", "sold"):
        with pytest.raises(InvalidInput, match=f"usd is needed for a {kind} entry") as caught:
            clean_entry("2024-01-01", kind, "1", "")
        assert caught.value.field == "usd"
    assert clean_entry("2024-01-01", "mined", "1", "")["usd"] is None
    assert clean_entry("2024-01-01", "fee", "0.0001", None)["usd"] is None
    assert clean_entry("2024-01-01", "mined", "1", "0")["usd"] == D(0)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("btc", "0", "more than 0"),
        ("btc", "-1", "more than 0"),
        ("btc", "21000000.00000001", "at most 21,000,000"),
        ("btc", "0.000000001", "8 decimal places"),
        ("btc", "1,5", "a dot, no commas"),
        ("btc", "NaN", "must be a number"),
        ("btc", "Infinity", "must be a number"),
        ("btc", True, "must be a number"),
        ("usd", "-0.01", "0 or more"),
        ("usd", "10.001", "2 decimal places"),
        ("usd", "1000000000000", "less than"),
        ("usd", "60,000", "a dot, no commas"),
        ("kind", "stolen", "mined, bought, sold, fee"),
        ("occurred_on", "20.04.2024", "a date like"),
        ("occurred_on", "2008-12-31", "between 2009-01-03"),
        ("note", "n" * 501, "at most 500"),
    ],
)
def test_bad_values_are_refused_naming_the_field(field, value, message):
    given = {"occurred_on": "2024-01-01", "kind": "bought", "btc": "1", "usd": "10", "note": ""}
    given[field] = value
    with pytest.raises(InvalidInput, match=message) as caught:
        clean_entry(**given)
    assert caught.value.field == field


def test_dates_up_to_tomorrow_are_fine_and_later_ones_are_not():
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    assert clean_entry(tomorrow.isoformat(), "mined", "1")["occurred_on"] == tomorrow
    with pytest.raises(InvalidInput, match="occurred_on"):
        clean_entry((tomorrow + dt.timedelta(days=1)).isoformat(), "mined", "1")
