"""Reading the calculator's form: what people type, and what is refused."""

import pytest

from hashinsight_core.exceptions import InvalidInput
from plugins.calculator import services

FORM = {
    "hashrate_ths": "200",
    "power_w": "3,500",
    "electricity_usd_per_kwh": "0.06",
    "btc_price_usd": "100,000",
    "difficulty": "1.5e14",
    "fees_per_block_btc": "",
    "block_height": "925000",
}


def test_form_strings_become_numbers_and_thousands_separators_are_understood():
    values = services.parse_form(FORM)
    assert values == {
        "hashrate_ths": 200.0,
        "power_w": 3500.0,
        "electricity_usd_per_kwh": 0.06,
        "btc_price_usd": 100_000.0,
        "difficulty": 1.5e14,
        "fees_per_block_btc": 0.0,
        "block_height": 925_000,
    }
    assert isinstance(values["block_height"], int)


def test_a_decimal_comma_is_refused_rather_than_read_100_times_too_big():
    with pytest.raises(InvalidInput, match="dot for decimals") as error:
        services.parse_form({**FORM, "electricity_usd_per_kwh": "0,06"})
    assert error.value.field == "electricity_usd_per_kwh"


def test_an_empty_required_field_is_named():
    with pytest.raises(InvalidInput, match="difficulty is needed"):
        services.parse_form({**FORM, "difficulty": " "})


def test_estimate_turns_engine_errors_into_invalid_input_with_the_field():
    values = services.parse_form({**FORM, "block_height": "925000.5"})
    with pytest.raises(InvalidInput, match="whole number") as error:
        services.estimate(values)
    assert error.value.field == "block_height"
    assert error.value.status == 422


def test_first_visit_shows_the_examples_and_any_query_shows_what_was_sent():
    form, is_example = services.form_from_query({}, [])
    assert is_example and form["hashrate_ths"] == services.EXAMPLE_INPUT["hashrate_ths"]
    form, is_example = services.form_from_query({"hashrate_ths": "90"}, [])
    assert not is_example
    assert form["hashrate_ths"] == "90" and form["difficulty"] == ""


def test_example_input_gives_a_result():
    result = services.estimate(services.parse_form(services.EXAMPLE_INPUT))
    assert result["block_subsidy_btc"] == 3.125
    assert result["days_per_month"] == 30
