"""A Chinese reader gets the errors of the customer, price and command areas in Chinese, with
the values filled in.

The expected sentences are the catalog's translations (hashinsight_core/locale/zh) of the
messages the services raise; an English sentence or an unfilled ``${...}`` fails here.
"""

import sqlalchemy as sa

from plugins.hosting.models import Site
from tests.conftest import api_headers, csrf_token

CUSTOMERS = "/api/v1/crm/customers"
PRICES = "/api/v1/curtailment/prices"


def taken(name: str) -> str:
    return f"名为“{name}”的客户已经存在"


def add_site(engine) -> int:
    with sa.orm.Session(engine) as session:
        site = Site(name="North", timezone="Asia/Almaty", capacity_kw=1000.0)
        session.add(site)
        session.commit()
        return site.id


def test_api_errors_are_in_chinese_with_the_values_filled_in(webtest, login_as, engine):
    login_as("admin")
    webtest.set_cookie("_LOCALE_", "zh")  # the account itself logged in speaking English
    headers = api_headers(webtest)
    webtest.post_json(CUSTOMERS, {"name": "Steppe Hash"}, headers=headers, status=201)
    error = webtest.post_json(CUSTOMERS, {"name": "steppe hash"}, headers=headers, status=409).json[
        "error"
    ]
    assert error["message"] == taken("steppe hash")
    assert error["details"] == [{"field": "name", "message": taken("steppe hash")}]

    # A bad row of a batch: the row and field are filled into one translated sentence.
    site_id = add_site(engine)
    rows = [{"site_id": site_id, "starts_at": "2026-03-01T00:00:00Z", "price_per_mwh": "cheap"}]
    error = webtest.post_json(PRICES, {"rows": rows}, headers=headers, status=422).json["error"]
    assert error["message"] == "rows[0].price_per_mwh：'cheap' 不是数字"
    assert "${" not in error["message"] and "is not" not in error["message"]


def test_page_forms_show_chinese_errors_with_the_values_filled_in(webtest, login_as, engine):
    login_as("admin")
    webtest.set_cookie("_LOCALE_", "zh")
    form = {"name": "Altai Mining", "status": "active", "csrf_token": csrf_token(webtest)}
    webtest.post("/crm/customers/", form, status=303)
    page = webtest.post("/crm/customers/", {**form, "name": "ALTAI MINING"}, status=409)
    assert page.html.select_one(".alert-danger").text.strip() == taken("ALTAI MINING")

    site_id = add_site(engine)
    csv = "2026-03-01T00:00:00Z,30\n\n2026-03-01T01:00:00Z,cheap\n"
    page = webtest.post(
        "/curtailment/",
        {"site_id": str(site_id), "csv": csv, "currency": "USD", "csrf_token": csrf_token(webtest)},
        status=422,
    )
    message = page.html.find(attrs={"data-testid": "error"}).text
    assert message == "第 3 行：price_per_mwh：'cheap' 不是数字"
