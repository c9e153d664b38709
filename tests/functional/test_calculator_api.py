"""The calculator's quote, projection, Monte Carlo, sensitivity and batch APIs, and its pages:
figures worked out by hand, market values with their source and age, and bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa
from openapi_core.testing import MockRequest, MockResponse
from openpyxl import Workbook, load_workbook

from hashinsight_core.db import utcnow
from hashinsight_core.market.models import MarketDifficulty, MarketLatest, MarketPriceDaily
from plugins.calculator.models import AsicModel, AsicPowerMode
from tests.conftest import api_headers

TWO_32 = 2**32
MARKET = {"btc_price_usd": 100_000, "difficulty": 1.5e14, "block_height": 925_000,
          "fees_per_block_btc": 0.02}  # fmt: skip
# 200 TH/s at difficulty 1.5e14 with 3.125 + 0.02 BTC a block: BTC a day before fees.
BTC_200 = 200e12 * 86_400 / (1.5e14 * TWO_32) * 3.145


@pytest.fixture
def app(make_app):
    """Offline: no provider is asked, so the stored market values stay what a test put there."""
    return make_app(plugins=["calculator"], market__offline="true")


@pytest.fixture
def client(app):
    return app[0]


@pytest.fixture
def models(dbsession):
    """Two models; the S21 has an eco mode (the default) and a turbo mode."""
    dbsession.execute(sa.delete(AsicPowerMode))
    dbsession.execute(sa.delete(AsicModel))
    s21 = AsicModel(vendor="Bitmain", model="Antminer S21", hashrate_ths=200, power_w=3500,
                    cooling="air")  # fmt: skip
    s21.power_modes = [
        AsicPowerMode(name="eco", hashrate_ths=150, power_w=2250, is_default=True),
        AsicPowerMode(name="turbo", hashrate_ths=230, power_w=4600),
    ]
    m60 = AsicModel(vendor="MicroBT", model="WhatsMiner M60S", hashrate_ths=186, power_w=3441,
                    cooling="air")  # fmt: skip
    dbsession.add_all([s21, m60])
    dbsession.commit_now()
    return {"s21": s21.id, "m60": m60.id}


def store_market(dbsession, age_s=0, **values):
    as_of = utcnow() - dt.timedelta(seconds=age_s)
    for figure, value in values.items():
        dbsession.merge(MarketLatest(figure=figure, value=value, source="binance", as_of=as_of))
    dbsession.commit_now()


def post(client, path, body, status=200):
    return client.post_json(
        f"/api/v1/calculator/{path}", body, headers=api_headers(client), status=status
    )


def documented(registry, path, response, query=""):
    """The answer matches the OpenAPI document (openapi-core checks it)."""
    request = MockRequest("http://localhost", "post", path, args=dict(
        part.split("=", 1) for part in query.split("&") if part))  # fmt: skip
    answer = MockResponse(
        response.body, status_code=response.status_int, content_type=response.content_type
    )
    registry["openapi"].validate_response(request, answer)


# --- quote ---------------------------------------------------------------------------------


def test_quote_side_by_side_matches_the_hand_calculation(app, models):
    client, registry = app
    body = {
        **MARKET,
        "miners": [
            {"hashrate_ths": 200, "power_w": 3500, "quantity": 2, "capex_usd": 3000},
            {"model_id": models["s21"], "mode": "turbo"},
        ],
        "electricity_usd_per_kwh": 0.05,
        "pool_fee": 0.02,
        "hosting_usd_per_miner_month": 30,
    }
    response = post(client, "quote", body)
    documented(registry, "/api/v1/calculator/quote", response)
    answer = response.json
    custom, turbo = answer["results"]
    # Two machines: 2 * BTC_200 gross, 98 % after the pool fee, at 100,000 USD.
    revenue = 2 * BTC_200 * 0.98 * 100_000
    power = 2 * 3.5 * 24 * 0.05  # kW * h * USD/kWh = 8.40 USD
    hosting = 2 * 30 / 30  # 30 USD a month each = 2.00 USD a day
    assert custom["figures"]["revenue_usd_per_day"] == pytest.approx(revenue, rel=1e-12)
    assert custom["figures"]["profit_usd_per_day"] == pytest.approx(revenue - power - hosting)
    assert custom["figures"]["static_payback_days"] == pytest.approx(
        6000 / (revenue - power - hosting)
    )
    assert turbo["miner"]["label"] == "Bitmain Antminer S21 (turbo)"
    assert (turbo["miner"]["hashrate_ths"], turbo["miner"]["power_w"]) == (230, 4600)
    assert answer["totals"]["profit_usd_per_day"] == pytest.approx(
        custom["figures"]["profit_usd_per_day"] + turbo["figures"]["profit_usd_per_day"]
    )
    # Only the difficulty method has inputs here; it is the reference itself.
    methods = custom["revenue_check"]["methods"]
    assert [m["method"] for m in methods] == ["difficulty"]
    assert answer["market"]["btc_price_usd"]["from_request"] is True


def test_quote_takes_stored_market_values_with_source_age_and_stale_flag(app, dbsession, models):
    client, _ = app
    store_market(dbsession, price_usd=90_000, block_height=925_000, fees_btc_144=0.0)
    store_market(dbsession, age_s=7200, difficulty=1.5e14)  # older than its 30-minute TTL
    answer = post(client, "quote", {"miners": [{"model_id": models["s21"]}],
                                    "electricity_usd_per_kwh": 0.05}).json  # fmt: skip
    market = answer["market"]
    assert market["btc_price_usd"]["value"] == 90_000
    assert market["btc_price_usd"]["source"] == "binance"
    assert market["btc_price_usd"]["stale"] is False and market["difficulty"]["stale"] is True
    assert market["difficulty"]["age_s"] >= 7200
    # The S21's default mode is eco (150 TH/s): 150e12 * 86400 / (1.5e14 * 2**32) * 3.125.
    btc = 150e12 * 86_400 / (1.5e14 * TWO_32) * 3.125
    assert answer["results"][0]["figures"]["btc_per_day"] == pytest.approx(btc, rel=1e-12)
    assert answer["results"][0]["miner"]["mode"] == "eco"


def test_quote_flags_a_diverging_hashprice_index_and_marks_derived_hashrate(client, models):
    implied = 1.5e14 * TWO_32 / 600 / 1e12  # TH/s that finds a block every 600 s
    hashprice = BTC_200 / 200 * 1.10  # an index 10 % above the difficulty formula
    answer = post(client, "quote", {
        **MARKET, "miners": [{"hashrate_ths": 200, "power_w": 3500}],
        "electricity_usd_per_kwh": 0.05, "network_hashrate_ths": implied,
        "hashprice_btc_per_th_day": hashprice,
    }).json  # fmt: skip
    methods = {m["method"]: m for m in answer["results"][0]["revenue_check"]["methods"]}
    assert methods["network_share"]["independent"] is False
    assert methods["network_share"]["divergence"] == pytest.approx(0, abs=1e-12)
    assert methods["hashprice_index"]["divergence"] == pytest.approx(0.10)
    assert methods["hashprice_index"]["flagged"] is True
    assert answer["results"][0]["revenue_check"]["any_flagged"] is True


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"electricity_usd_per_kwh": -0.01}, "electricity_usd_per_kwh", "must not be negative"),
        ({"electricity_usd_per_kwh": 50}, "electricity_usd_per_kwh", "at most 10"),
        ({"btc_price_usd": 0}, "btc_price_usd", "at least 1"),
        ({"pool_fee": 1.0}, "pool_fee", "at most 0.99"),
        ({"pue": 0.5}, "pue", "at least 1"),
        ({"block_height": 925_000.5}, "block_height", "whole number"),
        ({"miners": [{"hashrate_ths": 0, "power_w": 3500}]}, "miners[0].hashrate_ths",
         "greater than 0"),
        ({"miners": [{"hashrate_ths": 200, "power_w": 3.5}]}, "miners[0].power_w", "J/TH"),
        ({"miners": [{"hashrate_ths": 200, "power_w": 3500, "quantity": 1.5}]},
         "miners[0].quantity", "whole number"),
        ({"miners": [{"model_id": 999_999}]}, "miners[0].model_id", "no active miner model"),
        ({"miners": [{"model": "Antminer S99"}]}, "miners[0].model", "not in the miner catalogue"),
        ({"miners": [{"hashrate_ths": 200}]}, "miners[0].power_w", "is needed"),
    ],
)  # fmt: skip
def test_quote_refuses_values_nobody_can_mean_with_a_422(client, models, change, field, message):
    body = {**MARKET, "miners": [{"hashrate_ths": 200, "power_w": 3500}],
            "electricity_usd_per_kwh": 0.05, **change}  # fmt: skip
    error = post(client, "quote", body, status=422).json["error"]
    assert error["details"][0]["field"] == field
    assert message in error["message"]


def test_quote_unknown_power_mode_names_the_modes(client, models):
    body = {**MARKET, "miners": [{"model_id": models["s21"], "mode": "hyper"}],
            "electricity_usd_per_kwh": 0.05}  # fmt: skip
    error = post(client, "quote", body, status=422).json["error"]
    assert "no power mode 'hyper' (its modes: eco, turbo)" in error["message"]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_quote_refuses_nan_and_infinity(client, token):
    body = json.dumps({**MARKET, "miners": [{"hashrate_ths": 200, "power_w": 3500}],
                       "electricity_usd_per_kwh": 0.05}).replace("100000", token)  # fmt: skip
    error = client.post(
        "/api/v1/calculator/quote", body, status=422,
        headers={**api_headers(client), "Content-Type": "application/json"},
    ).json["error"]  # fmt: skip
    assert error["message"] == "btc_price_usd must be a finite number (not NaN or infinity)"


def test_quote_with_no_market_data_asks_for_the_value(client):
    body = {"miners": [{"hashrate_ths": 200, "power_w": 3500}], "electricity_usd_per_kwh": 0.05}
    error = post(client, "quote", body, status=422).json["error"]
    assert "btc_price_usd is needed: no market value is stored yet" in error["message"]


def test_wrong_shapes_are_400_from_the_document(client):
    base = {**MARKET, "miners": [{"hashrate_ths": 200, "power_w": 3500}],
            "electricity_usd_per_kwh": 0.05}  # fmt: skip
    for body in ({**base, "colour": "red"}, {**base, "pue": "1.2"}, {**base, "miners": []}):
        error = post(client, "quote", body, status=400).json["error"]
        assert error["code"] == "invalid_request"


# --- projection, Monte Carlo, sensitivity --------------------------------------------------


def test_projection_crosses_the_halving_and_pays_back(app, models):
    client, registry = app
    body = {**MARKET, "block_height": 1_040_000, "miners": [{"hashrate_ths": 200, "power_w": 3500,
            "capex_usd": 1000}], "electricity_usd_per_kwh": 0.03, "months": 24,
            "hashrate_growth_per_month": 0, "discount_rate_annual": 0.1}  # fmt: skip
    response = post(client, "projection", body)
    documented(registry, "/api/v1/calculator/projection", response)
    answer = response.json
    # 10,000 blocks to the halving at 144 a day (no growth): 69.4 days = 2.31 months.
    assert answer["halving_month"] == pytest.approx(10_000 / 144 / 30, rel=1e-3)
    start = dt.date.fromisoformat(answer["start_date"])
    assert dt.date.fromisoformat(answer["halving_date"]) - start == dt.timedelta(days=69)
    subsidy = answer["network"]["block_subsidy_btc"]
    assert subsidy[0] == 3.125 and subsidy[3] == 1.5625
    summary = answer["results"][0]["summary"]
    assert len(answer["results"][0]["series"]["cumulative_cash_flow_usd"]) == 24
    assert 0 < summary["payback_months"] < 24 and summary["npv_usd"] > 0
    assert summary["irr_annual"] > 0.1  # a positive NPV at 10 % means an IRR above 10 %


def test_projection_refuses_two_growth_rates_and_long_horizons(client):
    base = {**MARKET, "miners": [{"hashrate_ths": 200, "power_w": 3500}],
            "electricity_usd_per_kwh": 0.05}  # fmt: skip
    error = post(client, "projection", {**base, "months": 600}, status=422).json["error"]
    assert error["message"] == "months must be at most 120"
    both = {**base, "hashrate_growth_per_month": 0.02, "difficulty_growth_per_epoch": 0.01}
    assert "not both" in post(client, "projection", both, status=422).json["error"]["message"]


def test_monte_carlo_is_repeatable_with_a_seed_and_bands_are_ordered(app):
    client, registry = app
    body = {**MARKET, "miners": [{"hashrate_ths": 200, "power_w": 3500, "capex_usd": 2500}],
            "electricity_usd_per_kwh": 0.05, "months": 24, "paths": 300, "seed": 7}  # fmt: skip
    response = post(client, "montecarlo", body)
    documented(registry, "/api/v1/calculator/montecarlo", response)
    first = response.json
    assert post(client, "montecarlo", body).json == first
    bands = first["cumulative_cash_flow_usd"]
    assert all(lo <= mid <= hi for lo, mid, hi in zip(bands["p10"], bands["p50"], bands["p90"],
                                                      strict=True))  # fmt: skip
    assert 0 <= first["probability_of_payback"] <= 1 and first["seed"] == 7
    assert first["model_source"] == "default"
    two = {**body, "miners": body["miners"] * 2}
    post(client, "montecarlo", two, status=400)  # one miner at a time
    error = post(client, "montecarlo", {**body, "paths": 1_000_000}, status=422).json["error"]
    assert error["message"] == "paths must be at most 5,000"


def test_monte_carlo_fits_stored_history_or_says_what_is_missing(client, dbsession):
    body = {**MARKET, "miners": [{"hashrate_ths": 200, "power_w": 3500}], "paths": 50,
            "electricity_usd_per_kwh": 0.05, "seed": 1, "fit_history": True}  # fmt: skip
    error = post(client, "montecarlo", body, status=422).json["error"]
    assert "0 days of price and difficulty history" in error["message"]
    start = dt.date(2024, 1, 1)
    for day in range(200):
        date = start + dt.timedelta(days=day)
        dbsession.add(MarketPriceDaily(date=date, close=40_000 * 1.002**day))
        if day % 14 == 0:
            dbsession.add(MarketDifficulty(date=date, difficulty=7e13 * 1.02 ** (day // 14)))
    dbsession.commit_now()
    answer = post(client, "montecarlo", body).json
    assert answer["model_source"] == "fitted"
    # Price grows 0.2 % a day: a log drift of 365.25 * ln(1.002) a year, with no noise.
    assert answer["model"]["price_drift"] == pytest.approx(365.25 * 0.0019980, rel=1e-3)


def test_sensitivity_ranks_the_inputs(app):
    client, registry = app
    body = {**MARKET, "miners": [{"hashrate_ths": 200, "power_w": 3500, "capex_usd": 3000}],
            "electricity_usd_per_kwh": 0.05}  # fmt: skip
    response = post(client, "sensitivity", body)
    documented(registry, "/api/v1/calculator/sensitivity", response)
    rows = response.json["rows"]
    swings = [r["swing_profit_usd_per_day"] for r in rows]
    assert swings == sorted(swings, reverse=True)
    # Price, difficulty and hashrate move revenue alike: +-25 % of it is the biggest swing.
    assert {r["input"] for r in rows[:3]} == {"btc_price_usd", "difficulty", "hashrate_ths"}


# --- batch -----------------------------------------------------------------------------------


def test_batch_grid_is_models_times_prices_times_rates(app, models):
    client, registry = app
    body = {**MARKET, "grid": {"models": [models["s21"], {"model_id": models["m60"],
            "quantity": 3}], "btc_prices_usd": [80_000, 120_000],
            "electricity_usd_per_kwh": [0.04, 0.06, 0.08]}}  # fmt: skip
    response = client.post_json("/api/v1/calculator/batch", body, headers=api_headers(client))
    documented(registry, "/api/v1/calculator/batch", response)
    table = response.json
    assert table["count"] == 2 * 2 * 3
    rows = [dict(zip(table["columns"], r, strict=True)) for r in table["rows"]]
    last = rows[-1]
    assert (last["label"], last["quantity"], last["btc_price_usd"]) == (
        "MicroBT WhatsMiner M60S", 3, 120_000)  # fmt: skip
    # 3 machines of 3,441 W for 24 h at 0.08 USD/kWh.
    assert last["power_cost_usd_per_day"] == pytest.approx(3 * 3.441 * 24 * 0.08)
    assert rows[0]["hashrate_ths"] == 150  # the S21's default mode


def test_batch_downloads_csv_and_excel_with_text_kept_as_text(client, models):
    body = {**MARKET, "scenarios": [
        {"label": "=HYPERLINK(\"http://x\")", "hashrate_ths": 100, "power_w": 2000,
         "electricity_usd_per_kwh": 0.05},
        {"model": "Bitmain Antminer S21", "mode": "turbo", "electricity_usd_per_kwh": 0.07},
    ]}  # fmt: skip
    csv_answer = client.post_json("/api/v1/calculator/batch?format=csv", body,
                                  headers=api_headers(client))  # fmt: skip
    assert csv_answer.content_type == "text/csv"
    assert "attachment" in csv_answer.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(csv_answer.body.decode("utf-8-sig"))))
    assert lines[0][:5] == ["row", "label", "model", "mode", "hashrate_ths"]
    assert lines[1][1] == '\'=HYPERLINK("http://x")'  # a spreadsheet would run it otherwise
    xlsx = client.post_json("/api/v1/calculator/batch?format=xlsx", body,
                            headers=api_headers(client))  # fmt: skip
    sheet = load_workbook(io.BytesIO(xlsx.body)).active
    assert sheet["B2"].value == '=HYPERLINK("http://x")' and sheet["B2"].data_type == "s"
    assert sheet["D3"].value == "turbo" and sheet["E3"].value == 230


def test_batch_file_upload_csv_and_excel(client, dbsession, models):
    store_market(dbsession, price_usd=100_000, difficulty=1.5e14, block_height=925_000)
    csv_file = b"model,quantity,electricity_usd_per_kwh\nBitmain Antminer S21,2,0.05\n" \
        b"MicroBT WhatsMiner M60S,1,\n"  # fmt: skip
    url = "/api/v1/calculator/batch/file?electricity_usd_per_kwh=0.07"
    headers = {**api_headers(client), "Content-Type": "text/csv"}
    table = client.post(url, csv_file, headers=headers).json
    rows = [dict(zip(table["columns"], r, strict=True)) for r in table["rows"]]
    assert [(r["row"], r["electricity_usd_per_kwh"]) for r in rows] == [(2, 0.05), (3, 0.07)]
    assert table["market"]["btc_price_usd"]["source"] == "binance"

    book = Workbook()
    book.active.append(["hashrate_ths", "power_w", "btc_price_usd"])
    book.active.append([200, 3500, 60_000])
    data = io.BytesIO()
    book.save(data)
    xlsx_headers = {**headers, "Content-Type": "application/vnd.openxmlformats-officedocument"
                    ".spreadsheetml.sheet"}  # fmt: skip
    table = client.post(url, data.getvalue(), headers=xlsx_headers).json
    row = dict(zip(table["columns"], table["rows"][0], strict=True))
    assert row["revenue_usd_per_day"] == pytest.approx(BTC_200 / 3.145 * 3.125 * 60_000)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"model,colour\nx,red\n", "row 1, column B (colour): unknown column 'colour'"),
        (b"hashrate_ths,power_w\n200,3500\n-1,3500\n", "row 3, column A (hashrate_ths): must be "
         "greater than 0 TH/s"),
        (b"hashrate_ths,power_w\n200,abc\n", "row 2, column B (power_w): must be a number"),
        (b"hashrate_ths,power_w,pool_fee\n200,3500,2\n", "row 2, column C (pool_fee): must be at "
         "most 0.99"),
        (b"model\nNope\n", "row 2, column A (model): 'Nope' is not in the miner catalogue"),
        (b"power_w\n3500\n", "name a model (column model or model_id) or give hashrate_ths"),
        (b"hashrate_ths,power_w\n", "the file has no scenarios, only the header"),
        (b"\n \n", "the file is empty"),
        (b"\xd0\xcf\x11\xe0rest", "old Excel file (.xls)"),
        (b"PK\x03\x04broken", "not a readable Excel workbook"),
        (b"hashrate_ths;power_w\n200;3500\n", "separated by commas, not semicolons"),
        (b"hashrate_ths,power_w\n\xff\xfe,1\n", "row 2: the file is not UTF-8 text"),
    ],
)  # fmt: skip
def test_bad_files_name_the_row_and_column_and_nothing_is_stored(client, models, engine,
                                                                 content, message):  # fmt: skip
    before = _row_counts(engine)
    url = "/api/v1/calculator/batch/file?electricity_usd_per_kwh=0.05&" + "&".join(
        f"{k}={v}" for k, v in MARKET.items())  # fmt: skip
    error = client.post(url, content, status=422, headers={
        **api_headers(client), "Content-Type": "text/csv"}).json["error"]  # fmt: skip
    assert message in error["message"]
    assert error["details"]
    assert _row_counts(engine) == before


def test_huge_batches_are_refused_before_running(client, models):
    header = b"hashrate_ths,power_w\n"
    too_many = header + b"200,3500\n" * 10_001
    url = "/api/v1/calculator/batch/file?electricity_usd_per_kwh=0.05&" + "&".join(
        f"{k}={v}" for k, v in MARKET.items())  # fmt: skip
    headers = {**api_headers(client), "Content-Type": "text/csv"}
    error = client.post(url, too_many, status=422, headers=headers).json["error"]
    assert "more than 10,000 scenarios: split the file" in error["message"]
    huge = header + b"200,3500," + b"x" * (2 * 1024 * 1024) + b"\n"
    error = client.post(url, huge, status=422, headers=headers).json["error"]
    assert "the limit is 2,097,152 bytes" in error["message"]
    grid = {**MARKET, "electricity_usd_per_kwh": 0.05, "grid": {"models": [models["s21"]] * 101,
            "btc_prices_usd": list(range(1, 101)), "electricity_usd_per_kwh": [0.05]}}  # fmt: skip
    error = post(client, "batch", grid, status=422).json["error"]
    assert "101 models x 100 prices x 1 rates is 10,100 scenarios" in error["message"]


def _row_counts(engine) -> dict:
    with engine.connect() as conn:
        return {
            name: conn.scalar(sa.text(f'SELECT count(*) FROM "{name}"'))
            for name in ("calculator_asic_models", "core_market_latest", "core_audit_events")
        }


# --- pages ---------------------------------------------------------------------------------


def stat(page, key):
    return page.html.find(attrs={"data-result": key})


def test_page_restores_the_inputs_of_a_shared_link_without_javascript(client, dbsession, models):
    store_market(dbsession, price_usd=100_000, difficulty=1.5e14, block_height=925_000,
                 fees_btc_144=0.02)  # fmt: skip
    page = client.get("/calculator/", {"model": models["s21"], "mode": "turbo", "quantity": "2",
                                       "electricity_usd_per_kwh": "0.05", "pool_fee_pct": "0",
                                       "compare": str(models["m60"])})  # fmt: skip
    assert page.html.find(id="electricity_usd_per_kwh")["value"] == "0.05"
    assert page.html.find(id="model").find("option", selected=True)["value"] == str(models["s21"])
    assert page.html.find(id="mode").find("option", selected=True)["value"] == "turbo"
    assert page.html.find(id="hashrate_ths")["value"] == "230"
    # 2 turbo S21s: 230 TH/s each, 4.6 kW each at 0.05 USD/kWh, no pool fee.
    btc = 2 * 230e12 * 86_400 / (1.5e14 * TWO_32) * 3.145
    profit = btc * 100_000 - 2 * 4.6 * 24 * 0.05
    assert float(stat(page, "profit_usd_per_day")["data-value"]) == pytest.approx(profit)
    assert stat(page, "profit_usd_per_day").get_text(strip=True) == f"{profit:,.2f}"
    source = page.html.find(attrs={"data-market-source": "btc_price_usd"}).get_text(" ", strip=True)
    assert "binance" in source and "just now" in source
    catalogue_json = json.loads(page.html.find(id="calculator-catalogue").string)
    assert {m["name"] for m in catalogue_json} == {
        "Bitmain Antminer S21",
        "MicroBT WhatsMiner M60S",
    }


def test_page_shows_a_stale_badge_and_marks_a_bad_field(client, dbsession, models):
    store_market(dbsession, age_s=3 * 3600, price_usd=100_000, difficulty=1.5e14,
                 block_height=925_000)  # fmt: skip
    page = client.get("/calculator/")
    assert page.html.find(attrs={"data-market-source": "btc_price_usd"}).find(attrs={
        "data-stale": True}) is not None  # fmt: skip
    assert "3 h ago" in page.text
    page = client.get("/calculator/", {"model": "", "hashrate_ths": "200", "power_w": "-5",
                                       "electricity_usd_per_kwh": "0.05"}, status=422)  # fmt: skip
    assert "is-invalid" in page.html.find(id="power_w")["class"]
    page = client.get("/calculator/", {"model": models["s21"], "pool_fee_pct": "150"}, status=422)
    assert "pool_fee_pct must be at most 99" in page.text
    assert "is-invalid" in page.html.find(id="pool_fee_pct")["class"]


def test_first_visit_with_no_market_data_asks_for_values_without_an_error_status(client, models):
    page = client.get("/calculator/")
    assert page.status_int == 200
    assert "No market value stored yet" in page.text


def test_pages_have_no_inline_script_or_style(client, models):
    for path in ("/calculator/", "/calculator/batch/"):
        page = client.get(path)
        for script in page.html.find_all("script"):
            assert script.get("src") or script.get("type") == "application/json"
        assert " style=" not in page.text and "<style" not in page.text
        for script in page.html.find_all("script", src=True):
            client.get(script["src"], status=200)


@pytest.mark.parametrize("role", ["owner", "admin", "operator", "customer", "viewer"])
def test_every_role_and_visitors_may_use_the_calculator_apis(make_app, engine, role, models):
    from tests.conftest import login

    client, _ = make_app(plugins=["calculator"], market__offline="true")
    body = {**MARKET, "miners": [{"hashrate_ths": 200, "power_w": 3500}],
            "electricity_usd_per_kwh": 0.05}  # fmt: skip
    post(client, "quote", body)  # a visitor
    login(client, engine, role)
    post(client, "quote", body)
    client.get("/calculator/batch/", status=200)
    client.post_json("/api/v1/calculator/quote", body, status=400)  # no CSRF header
