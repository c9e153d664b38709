"""The public profitability calculator: page, live API and the model catalogue."""

import json

import pytest
import sqlalchemy as sa

from plugins.calculator.models import AsicModel, AsicPowerMode
from tests.conftest import api_headers

TWO_32 = 4_294_967_296
INPUT = {
    "hashrate_ths": 100,
    "power_w": 3000,
    "electricity_usd_per_kwh": 0.05,
    "btc_price_usd": 60_000,
    "difficulty": 1e14,
    "block_height": 840_000,
}


def add_models(dbsession, *rows):
    """Exactly these models in the catalogue (the migration's seed is cleared first, so a
    test gives the same answer whether it runs first or after another)."""
    dbsession.execute(sa.delete(AsicPowerMode))
    dbsession.execute(sa.delete(AsicModel))
    for vendor, model, ths, watts in rows:
        dbsession.add(
            AsicModel(
                vendor=vendor,
                model=model,
                hashrate_ths=ths,
                power_w=watts,
                release_year=2024,
                cooling="air",
            )
        )
    dbsession.commit_now()


def result_text(page, key):
    return page.html.find(attrs={"data-result": key}).get_text(strip=True)


def test_visitor_sees_example_figures_without_logging_in(webtest):
    page = webtest.get("/calculator/")
    assert page.status_int == 200
    assert 'data-route="calculator.estimate.page"' in page.text  # in the menu for visitors
    assert "example numbers" in page.text
    # Example: 200 TH/s at difficulty 1.5e14, 3.125 + 0.02 BTC a block, 100,000 USD,
    # 3,500 W at 0.06 USD/kWh.
    btc = 200e12 * 86_400 / (1.5e14 * TWO_32) * 3.145
    assert result_text(page, "btc_per_day") == f"{btc:.8f}" == "0.00008436"
    assert result_text(page, "power_cost_usd_per_day") == "5.04"
    assert result_text(page, "profit_usd_per_day") == f"{btc * 100_000 - 5.04:.2f}" == "3.40"
    assert result_text(page, "profit_usd_per_month") == "101.87"
    assert result_text(page, "block_subsidy_btc") == "3.125"


def test_query_parameters_are_calculated_on_the_server(webtest):
    page = webtest.get(
        "/calculator/", {**INPUT, "difficulty": "100000000000000", "fees_per_block_btc": ""}
    )
    revenue = 86_400 / TWO_32 * 3.125 * 60_000  # 3.7719 USD
    assert "d-none" in page.html.find(id="calculator-example")["class"]  # not examples now
    assert result_text(page, "btc_per_day") == "0.00006286"
    assert result_text(page, "revenue_usd_per_day") == "3.77"
    assert result_text(page, "power_cost_usd_per_day") == "3.60"
    assert result_text(page, "profit_usd_per_day") == f"{revenue - 3.6:.2f}" == "0.17"
    assert result_text(page, "break_even_usd_per_kwh") == f"{revenue / 72:.4f}" == "0.0524"
    assert result_text(page, "efficiency_j_per_th") == "30.0"
    assert result_text(page, "block_subsidy_btc") == "3.125"


def test_a_loss_is_shown_in_red(webtest):
    page = webtest.get("/calculator/", {**INPUT, "electricity_usd_per_kwh": "0.10"})
    profit = page.html.find(attrs={"data-result": "profit_usd_per_day"})
    assert profit.get_text(strip=True) == "-3.43"
    assert "text-danger" in profit["class"]


def test_bad_query_shows_the_form_again_with_the_field_marked(webtest):
    page = webtest.get("/calculator/", {**INPUT, "power_w": "-5"}, status=422)
    assert "power_w must not be negative" in page.text
    assert "is-invalid" in page.html.find(id="power_w")["class"]
    assert page.html.find(id="hashrate_ths")["value"] == "100"
    page = webtest.get("/calculator/", {**INPUT, "btc_price_usd": "lots"}, status=422)
    assert "btc_price_usd must be a number" in page.text


def test_page_has_no_inline_script_and_loads_its_own_script(webtest):
    page = webtest.get("/calculator/")
    for script in page.html.find_all("script"):
        assert script.get("src") or script.get("type") == "application/json"
    assert page.html.find("form", id="calculator-form")["data-api"] == "/api/v1/calculator/estimate"
    src = next(
        s["src"] for s in page.html.find_all("script") if "calculator.js" in s.get("src", "")
    )
    assert "HI.api" in webtest.get(src).text
    assert " style=" not in page.text


@pytest.mark.parametrize("role", ["owner", "admin", "operator", "customer", "viewer"])
def test_every_role_can_use_the_calculator(webtest, login_as, role):
    login_as(role)
    webtest.get("/calculator/", status=200)
    webtest.post_json(
        "/api/v1/calculator/estimate", INPUT, headers=api_headers(webtest), status=200
    )


def test_api_estimate_for_a_visitor_matches_the_hand_calculation(webtest):
    result = webtest.post_json(
        "/api/v1/calculator/estimate",
        {**INPUT, "fees_per_block_btc": 0.1},
        headers=api_headers(webtest),
    ).json
    btc = 86_400 / TWO_32 * (3.125 + 0.1)
    assert result["btc_per_day"] == pytest.approx(btc, rel=1e-12)
    assert result["revenue_usd_per_day"] == pytest.approx(btc * 60_000, rel=1e-12)
    assert result["power_cost_usd_per_day"] == pytest.approx(3.6)
    assert result["profit_usd_per_day"] == pytest.approx(btc * 60_000 - 3.6, rel=1e-12)
    assert result["profit_usd_per_month"] == pytest.approx((btc * 60_000 - 3.6) * 30, rel=1e-12)
    assert result["break_even_usd_per_kwh"] == pytest.approx(btc * 60_000 / 72, rel=1e-12)
    assert result["hashprice_usd_per_th_day"] == pytest.approx(btc * 600, rel=1e-12)
    assert result["efficiency_j_per_th"] == 30
    assert result["block_subsidy_btc"] == 3.125
    assert result["input"]["block_height"] == 840_000


def test_api_fees_default_to_zero_and_zero_power_has_no_break_even(webtest):
    result = webtest.post_json(
        "/api/v1/calculator/estimate", {**INPUT, "power_w": 0}, headers=api_headers(webtest)
    ).json
    assert result["btc_per_day"] == pytest.approx(86_400 / TWO_32 * 3.125, rel=1e-12)
    assert result["break_even_usd_per_kwh"] is None
    assert result["power_cost_usd_per_day"] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hashrate_ths": -1}, "hashrate_ths"),
        ({"difficulty": 0}, "difficulty"),
        ({"block_height": 840_000.5}, "block_height"),
        ({"btc_price_usd": "60000"}, "btc_price_usd"),
        ({"power_w": 5e12}, "power_w"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_api_bad_input_is_a_400_naming_the_field(webtest, change, field):
    error = webtest.post_json(
        "/api/v1/calculator/estimate", {**INPUT, **change}, headers=api_headers(webtest), status=400
    ).json["error"]
    assert error["code"] == "invalid_request"
    assert field in error["message"]


def test_api_missing_field_is_a_400(webtest):
    body = {k: v for k, v in INPUT.items() if k != "difficulty"}
    error = webtest.post_json(
        "/api/v1/calculator/estimate", body, headers=api_headers(webtest), status=400
    ).json["error"]
    assert "difficulty" in error["message"]


def test_api_nan_is_refused_not_answered_with_nan(webtest):
    # Python's JSON reader accepts NaN, and the schema's "minimum" cannot catch it.
    body = json.dumps(INPUT).replace('"btc_price_usd": 60000', '"btc_price_usd": NaN')
    error = webtest.post(
        "/api/v1/calculator/estimate",
        body,
        headers={**api_headers(webtest), "Content-Type": "application/json"},
        status=422,
    ).json["error"]
    assert error["message"] == "btc_price_usd must be a finite number (not NaN or infinity)"


def test_api_post_without_csrf_header_is_refused(webtest):
    webtest.post_json("/api/v1/calculator/estimate", INPUT, status=400)


def test_catalogue_is_listed_and_offered_as_presets(webtest, dbsession):
    add_models(
        dbsession, ("MicroBT", "WhatsMiner M60S", 186, 3441), ("Bitmain", "Antminer S21", 200, 3500)
    )
    listing = webtest.get("/api/v1/calculator/models").json
    assert listing["total"] == 2
    assert [m["vendor"] for m in listing["items"]] == ["Bitmain", "MicroBT"]
    assert listing["items"][0]["efficiency_j_per_th"] == 17.5

    page = webtest.get("/calculator/")
    options = page.html.find("select", id="preset").find_all("option")
    assert [o.get_text(strip=True).split(" · ")[0] for o in options[1:]] == [
        "Bitmain Antminer S21",
        "MicroBT WhatsMiner M60S",
    ]
    assert options[2]["data-hashrate"] == "186" and options[2]["data-power"] == "3441"


def test_catalogue_pages_with_limit_and_offset_and_counts_every_model(webtest, dbsession):
    add_models(
        dbsession,
        ("MicroBT", "WhatsMiner M60S", 186, 3441),
        ("Bitmain", "Antminer S21", 200, 3500),
        ("Bitmain", "Antminer S19", 95, 3250),
    )
    api = "/api/v1/calculator/models"
    first = webtest.get(api, {"limit": 2}).json
    assert [m["model"] for m in first["items"]] == ["Antminer S19", "Antminer S21"]
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    rest = webtest.get(api, {"limit": 2, "offset": 2}).json
    assert [m["model"] for m in rest["items"]] == ["WhatsMiner M60S"] and rest["total"] == 3
    default = webtest.get(api).json
    assert (len(default["items"]), default["limit"], default["offset"]) == (3, 50, 0)
    for query, message in (
        ({"limit": 0}, "limit: 0 is less than the minimum of 1"),
        ({"limit": 500}, "limit: 500 is greater than the maximum of 200"),
    ):
        error = webtest.get(api, query, status=400).json["error"]
        assert (error["code"], error["message"]) == ("invalid_request", message)
    # The page's preset list is not paged: every model is offered.
    options = webtest.get("/calculator/").html.find("select", id="preset").find_all("option")
    assert len(options[1:]) == 3


def test_use_button_fills_the_form_from_a_preset_without_javascript(webtest, dbsession):
    add_models(dbsession, ("MicroBT", "WhatsMiner M60S", 186, 3441))
    model_id = webtest.get("/api/v1/calculator/models").json["items"][0]["id"]
    page = webtest.get("/calculator/", {**INPUT, "preset": model_id, "apply_preset": "1"})
    assert page.html.find(id="hashrate_ths")["value"] == "186"
    assert page.html.find(id="power_w")["value"] == "3441"
    assert result_text(page, "efficiency_j_per_th") == "18.5"  # 3441 / 186
    # Without the button the typed numbers win over the selected model.
    page = webtest.get("/calculator/", {**INPUT, "preset": model_id})
    assert page.html.find(id="hashrate_ths")["value"] == "100"
    webtest.get("/calculator/", {**INPUT, "preset": 999_999, "apply_preset": "1"}, status=422)


def test_catalogue_keeps_vendor_and_model_unique(dbsession, engine):
    add_models(dbsession, ("Bitmain", "Antminer S21", 200, 3500))
    session = sa.orm.Session(engine)
    session.add(AsicModel(vendor="Bitmain", model="Antminer S21", hashrate_ths=1, power_w=1))
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()
    session.close()
