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


def test_catalogue_is_listed_through_the_api(webtest, dbsession):
    add_models(
        dbsession, ("MicroBT", "WhatsMiner M60S", 186, 3441), ("Bitmain", "Antminer S21", 200, 3500)
    )
    listing = webtest.get("/api/v1/calculator/models").json
    assert listing["total"] == 2
    assert [m["vendor"] for m in listing["items"]] == ["Bitmain", "MicroBT"]
    assert listing["items"][0]["efficiency_j_per_th"] == 17.5


def test_catalogue_keeps_vendor_and_model_unique(dbsession, engine):
    add_models(dbsession, ("Bitmain", "Antminer S21", 200, 3500))
    session = sa.orm.Session(engine)
    session.add(AsicModel(vendor="Bitmain", model="Antminer S21", hashrate_ths=1, power_w=1))
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()
    session.close()
