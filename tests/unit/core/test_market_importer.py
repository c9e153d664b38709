"""CSV import of price and difficulty history: every bad row named by row and column, all or
nothing, idempotent re-imports, on SQLite and PostgreSQL; the shared public history as input."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from hashinsight_core import market
from hashinsight_core.market import importer
from hashinsight_core.market.importer import ImportFailed
from hashinsight_core.market.models import MarketDifficulty, MarketLatest, MarketPriceDaily
from tests.conftest import shared_data_dir

SHARED = shared_data_dir()
TODAY = dt.date(2026, 12, 3)

GOOD_PRICE = """date,open,high,low,close,volume
2024-04-19,63500.1,65450.0,59600.2,63800.5,120345
2024-04-20,63800.5,65400.0,63100.0,64950.3,45210
2024-04-21,64950.3,65700.9,64200.0,64920.0,
"""


def price_error(text: str) -> str:
    with pytest.raises(ImportFailed) as caught:
        importer.parse_price(text, TODAY)
    return str(caught.value)


def count(dbsession, model) -> int:
    return dbsession.scalar(sa.select(sa.func.count()).select_from(model))


# --- parsing: pure, no database -------------------------------------------------------------


def test_a_good_price_file_parses_every_row():
    rows = importer.parse_price(GOOD_PRICE, TODAY)
    assert [r["date"] for r in rows] == [dt.date(2024, 4, d) for d in (19, 20, 21)]
    assert rows[1] == {
        "date": dt.date(2024, 4, 20),
        "open": 63800.5,
        "high": 65400.0,
        "low": 63100.0,
        "close": 64950.3,
        "volume": 45210.0,
    }
    assert rows[2]["volume"] is None  # volume may be left empty


def test_headers_are_read_loosely_and_extra_columns_ignored():
    text = "\ufeffDate , Open,HIGH,low,close,volume_usd\n2024-04-20,1,3,1,2,999\n"
    assert importer.parse_price(text, TODAY)[0]["close"] == 2.0


@pytest.mark.parametrize(
    ("line", "where", "what"),
    [
        ("2024-04-22,64920,65000,64000,abc,1", "row 3, column close", "'abc' is not a number"),
        ("2024-04-22,64920,65000,64000,1_000,1", "row 3, column close", "not a number"),
        ("2024-04-22,64920,65000,64000,nan,1", "row 3, column close", "not a number"),
        ("2024-04-22,64920,65000,64000,inf,1", "row 3, column close", "not a number"),
        ("2024-04-22,64920,65000,64000,-5,1", "row 3, column close", "outside"),
        ("2024-04-22,64920,65000,64000,64500,-1", "row 3, column volume", "outside"),
        ("04/22/2024,64920,65000,64000,64500,1", "row 3, column date", "not a date"),
        ("2024-02-30,64920,65000,64000,64500,1", "row 3, column date", "not a real date"),
        ("2027-01-01,64920,65000,64000,64500,1", "row 3, column date", "outside 2009-01-03"),
        ("2008-12-31,64920,65000,64000,64500,1", "row 3, column date", "outside"),
        ("2024-04-22,64920,64000,63000,64500,1", "row 3, column high", "below open, low or close"),
        ("2024-04-22,64920,65000,64950,64500,1", "row 3, column low", "above open or close"),
        ("2024-04-19,64920,65000,64000,64500,1", "row 3, column date", "also on row 2"),
        ("2024-04-22,64920,65000,64000,64500,1,extra", "row 3:", "7 values but the header has 6"),
    ],
)
def test_each_bad_row_is_named_by_row_and_column(line, where, what):
    text = "date,open,high,low,close,volume\n2024-04-19,63500,65450,59600,63800,1\n" + line + "\n"
    message = price_error(text)
    assert where in message and what in message


def test_row_numbers_are_file_lines_even_after_blank_lines():
    text = "date,open,high,low,close,volume\n\n2024-04-19,1,2,1,2,1\n\n2024-04-20,1,2,1,x,1\n"
    assert "row 5, column close" in price_error(text)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("", "the file is empty"),
        ("date,open,high,low,volume\n2024-04-19,1,2,1,1\n", "row 1, column close: missing"),
        ("date,open,high,low,close,close\n", "row 1, column close: appears twice"),
        ("date,open,high,low,close,volume\n", "a header but no rows"),
        (b"date,open,high,low,close\n2024-04-19,1,2,1,\xff\n", "not UTF-8"),
    ],
)
def test_files_that_are_not_price_files_are_refused(text, what):
    with pytest.raises(ImportFailed, match=what):
        importer.parse_price(text, TODAY)


def test_many_bad_rows_list_the_first_ten_and_count_the_rest():
    lines = [f"2024-01-{d:02d},1,2,1,x,1" for d in range(1, 26)]
    with pytest.raises(ImportFailed) as caught:
        importer.parse_price("date,open,high,low,close,volume\n" + "\n".join(lines), TODAY)
    assert len(caught.value.errors) == 10 and caught.value.more == 15
    assert caught.value.errors[0].startswith("row 2, column close")


def test_difficulty_files_by_height_by_date_or_both():
    by_height = importer.parse_difficulty("height,difficulty\n838656,86388558925171.02\n", TODAY)
    assert by_height[0]["height"] == 838656 and by_height[0]["date"] is None
    by_date = importer.parse_difficulty("date,difficulty\n2024-04-10,8.6e13\n", TODAY)
    assert by_date[0]["date"] == dt.date(2024, 4, 10) and by_date[0]["height"] is None


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("height,difficulty\n838656,0\n", "row 2, column difficulty"),
        ("height,difficulty\n838656,1e19\n", "row 2, column difficulty"),
        ("height,difficulty\n-2016,8e13\n", "row 2, column height"),
        ("height,difficulty\n8386.5,8e13\n", "row 2, column height"),
        ("height,difficulty\n2016,1\n2016,1\n", "row 3, column height: 2016 is also on row 2"),
        ("height,date,difficulty\n,,8e13\n", "row 2, column height: needs a height or a date"),
        ("date,difficulty\n2024-13-01,8e13\n", "row 2, column date"),
        ("height,diff\n2016,1\n", "row 1, column difficulty: missing"),
        ("epoch,difficulty\n1,1\n", "row 1: the header needs a height column"),
    ],
)
def test_bad_difficulty_rows_are_named(text, where):
    with pytest.raises(ImportFailed, match=where.replace("(", r"\(")):
        importer.parse_difficulty(text, TODAY)


# --- storing: all or nothing, idempotent ------------------------------------------------------


def test_import_stores_rows_and_a_reimport_updates_instead_of_duplicating(dbsession):
    first = importer.import_csv(dbsession, GOOD_PRICE, "price", TODAY)
    assert (first.rows, first.inserted, first.updated) == (3, 3, 0)
    changed = GOOD_PRICE.replace("64950.3,45210", "64999.9,45210")
    again = importer.import_csv(dbsession, changed, "price", TODAY)
    assert (again.inserted, again.updated) == (0, 3)
    assert count(dbsession, MarketPriceDaily) == 3
    assert dbsession.get(MarketPriceDaily, dt.date(2024, 4, 20)).close == 64999.9


def test_one_bad_row_stores_nothing(dbsession):
    bad = GOOD_PRICE + "2024-04-22,64920,65000,64000,oops,1\n"
    with pytest.raises(ImportFailed, match="row 5, column close"):
        importer.import_csv(dbsession, bad, "price", TODAY)
    assert count(dbsession, MarketPriceDaily) == 0
    assert count(dbsession, MarketLatest) == 0


def test_an_import_seeds_the_latest_price_when_nothing_newer_is_stored(dbsession):
    result = importer.import_csv(dbsession, GOOD_PRICE, "price", TODAY)
    assert result.seeded == ["price_usd"]
    snapshot = market.current(dbsession, now=dt.datetime(2024, 4, 23))
    assert snapshot.price_usd.value == 64920.0 and snapshot.price_usd.source == "import"
    assert snapshot.price_usd.as_of == dt.datetime(2024, 4, 22)  # the end of the last day
    assert snapshot.price_usd.stale
    # A provider's newer value is never replaced by an older file.
    row = dbsession.get(MarketLatest, "price_usd")
    row.value, row.source, row.as_of = 91000.0, "okx", dt.datetime(2025, 12, 1)
    dbsession.flush()
    assert importer.import_csv(dbsession, GOOD_PRICE, "price", TODAY).seeded == []
    assert dbsession.get(MarketLatest, "price_usd").value == 91000.0


def test_difficulty_by_date_then_by_height_becomes_one_row_per_epoch(dbsession):
    importer.import_csv(dbsession, "date,difficulty\n2024-04-10,8.6e13\n", "difficulty", TODAY)
    text = "height,date,difficulty\n838656,2024-04-10,86388558925171.02\n"
    result = importer.import_csv(dbsession, text, "difficulty", TODAY)
    assert result.inserted == 1  # a new height; the date-only row was folded into it
    rows = list(dbsession.scalars(sa.select(MarketDifficulty)))
    assert [(r.height, r.date, r.difficulty) for r in rows] == [
        (838656, dt.date(2024, 4, 10), 86388558925171.02)
    ]
    assert set(result.seeded) == {"difficulty", "block_height"}


def test_a_date_stored_for_another_height_is_refused_by_row(dbsession):
    importer.import_csv(
        dbsession, "height,date,difficulty\n2016,2009-01-27,1\n", "difficulty", TODAY
    )
    with pytest.raises(
        ImportFailed, match="row 2, column date: 2009-01-27 is stored for height 2016"
    ):
        importer.import_csv(
            dbsession, "height,date,difficulty\n4032,2009-01-27,1\n", "difficulty", TODAY
        )
    assert count(dbsession, MarketDifficulty) == 1


# --- the shared public history (test input only; the product never reads it) ----------------


def shared(name: str) -> bytes:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    return path.read_bytes()


def test_the_shared_price_history_imports_whole_and_again(dbsession):
    data = shared("btc_usd_daily.csv")
    first = importer.import_csv(dbsession, data, "price", TODAY)
    assert (first.rows, first.first, first.last) == (4941, "2011-10-06", "2025-04-15")
    assert dbsession.get(MarketPriceDaily, dt.date(2017, 12, 17)).close == 19065.7
    again = importer.import_csv(dbsession, data, "price", TODAY)
    assert (again.inserted, again.updated) == (0, 4941)
    assert count(dbsession, MarketPriceDaily) == 4941
    # The CryptoCompare file has volume_usd, not volume (BTC): its volume is left empty.
    cc = importer.import_csv(dbsession, shared("btc_usd_daily_cryptocompare.csv"), "price", TODAY)
    assert cc.rows == 2015 and dbsession.get(MarketPriceDaily, dt.date(2026, 1, 16)).volume is None


def test_the_shared_difficulty_history_imports_by_height_and_date(dbsession):
    result = importer.import_csv(dbsession, shared("btc_difficulty.csv"), "difficulty", TODAY)
    assert result.rows == 474
    epoch = dbsession.scalar(sa.select(MarketDifficulty).where(MarketDifficulty.height == 838656))
    assert epoch.difficulty == 86388558925171.02 and epoch.date == dt.date(2024, 4, 10)
    snapshot = market.current(dbsession, now=dt.datetime(2026, 6, 15))
    assert snapshot.difficulty.value == 124932866006548.16  # the newest epoch, height 953,568
    assert snapshot.block_height.value == 953568
