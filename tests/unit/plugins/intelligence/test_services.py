"""Reading pasted prices."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hashinsight_core.exceptions import InvalidInput
from plugins.intelligence import services


def test_one_price_per_line_with_thousands_separators():
    text = "64,250.5\r\n65,000\n\n  66000  \n"
    assert services.parse_closes(text) == [64_250.5, 65_000.0, 66_000.0]


def test_one_line_separated_by_commas_spaces_or_semicolons():
    assert services.parse_closes("1, 2,3 4;5\t6") == [1, 2, 3, 4, 5, 6]


def test_a_decimal_comma_on_its_own_line_is_refused_and_the_line_named():
    with pytest.raises(InvalidInput, match="number 2") as error:
        services.parse_closes("64000\n64250,5\n64100")
    assert error.value.field == "closes"


def test_too_many_prices_are_refused_before_parsing():
    with pytest.raises(InvalidInput, match="10,000"):
        services.parse_closes("\n".join(["1"] * 10_001))


def test_compute_gives_null_where_not_defined_and_turns_errors_into_invalid_input():
    result = services.compute([1, 2, 3, 4, 5], 3)
    assert result["sma"] == [None, None, 2.0, 3.0, 4.0]
    assert result["rsi"] == [None, None, None, 100.0, 100.0]
    with pytest.raises(InvalidInput, match="window") as error:
        services.compute([1, 2, 3], 5)
    assert error.value.status == 422


def test_table_shows_the_last_rows_newest_first():
    closes = [float(i) for i in range(1, 41)]
    rows = services.table_rows(closes, services.compute(closes, 3), limit=30)
    assert [r["number"] for r in rows] == list(range(40, 10, -1))
    assert rows[0]["close"] == 40.0 and rows[0]["sma"] == 39.0


@given(
    st.lists(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), min_size=1, max_size=50),
    st.sampled_from(["\n", ",", ", ", " ", "\r\n"]),
)
def test_any_list_of_numbers_written_out_reads_back(numbers, separator):
    text = separator.join(repr(n) for n in numbers)
    assert services.parse_closes(text) == numbers
