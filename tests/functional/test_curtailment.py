"""Power prices (all-or-nothing batches) and curtailment plans, through the API and the page."""

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from hashinsight_core import hookimpl
from plugins.curtailment.models import EnergyPrice
from plugins.hosting.models import Site
from tests.conftest import api_headers, csrf_token

PRICES = "/api/v1/curtailment/prices"
PLAN = "/api/v1/curtailment/plan"
PAGE = "/curtailment/"


def add_site(engine, name="North", capacity_kw=1000.0) -> int:
    with sa.orm.Session(engine) as session:
        site = Site(name=name, timezone="Asia/Almaty", capacity_kw=capacity_kw)
        session.add(site)
        session.commit()
        return site.id


def stored(engine) -> list[EnergyPrice]:
    with sa.orm.Session(engine) as session:
        query = sa.select(EnergyPrice).order_by(EnergyPrice.site_id, EnergyPrice.starts_at)
        return list(session.scalars(query))


def day(site_id, *prices, start="2026-03-01T00:00:00Z"):
    """One row per hour from ``start``."""
    t0 = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
    return [
        {
            "site_id": site_id,
            "starts_at": (t0 + dt.timedelta(hours=i)).isoformat(),
            "price_per_mwh": p,
        }
        for i, p in enumerate(prices)
    ]


# The worked example: breakeven 45 $/MWh, 10 MW. Hours above 45 are 02:00 (50), 03:00 (120.5)
# and 05:00 (80): savings (50-45)*10 = 50, (120.5-45)*10 = 755, (80-45)*10 = 350 -> 1155.
# Power bill avoided (50+120.5+80)*10 = 2505; mining income given up 3*45*10 = 1350.
EXAMPLE = (30, 45, 50, "120.50", -20, 80)


@pytest.fixture
def admin(webtest, login_as):
    login_as("admin")
    return webtest


def post_prices(app, rows, status=201):
    return app.post_json(PRICES, {"rows": rows}, headers=api_headers(app), status=status).json


class EventRecorder:
    def __init__(self):
        self.events = []

    @hookimpl
    def hashinsight_event(self, request, event):
        self.events.append(event)


def test_admin_adds_a_day_of_prices_and_reads_them_back(admin, engine, registry):
    recorder = EventRecorder()
    registry.plugin_manager.register(recorder, name="test-recorder")
    site_id = add_site(engine)
    rows = day(site_id, *EXAMPLE)
    rows[4]["currency"] = "usd"
    rows[5]["source"] = "Nordpool"
    created = post_prices(admin, rows)
    assert created["created"] == 6
    listing = admin.get(PRICES, {"site_id": site_id}).json
    assert (listing["total"], listing["limit"], listing["offset"]) == (6, 50, 0)
    assert [p["price_per_mwh"] for p in listing["items"]] == [
        "30.0000",
        "45.0000",
        "50.0000",
        "120.5000",
        "-20.0000",
        "80.0000",
    ]
    assert listing["items"][0]["starts_at"] == "2026-03-01T00:00:00Z"
    assert listing["items"][4]["currency"] == "USD"
    assert listing["items"][5]["source"] == "nordpool"
    assert listing["items"][0]["source"] == "manual"
    assert [e.data for e in recorder.events if e.tag == "curtailment:price:create"] == [
        {
            "site_id": site_id,
            "count": 6,
            "first": "2026-03-01T00:00:00Z",
            "last": "2026-03-01T05:00:00Z",
        }
    ]


def test_prices_page_with_limit_and_offset_inside_the_window(admin, engine):
    site_id = add_site(engine)
    post_prices(admin, day(site_id, 10, 20, 30, 40))
    window = {"site_id": site_id, "from": "2026-03-01T01:00:00Z"}  # leaves out the first hour
    first = admin.get(PRICES, {**window, "limit": 2}).json
    assert [p["price_per_mwh"] for p in first["items"]] == ["20.0000", "30.0000"]
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    rest = admin.get(PRICES, {**window, "limit": 2, "offset": 2}).json
    assert [p["starts_at"] for p in rest["items"]] == ["2026-03-01T03:00:00Z"]
    assert rest["total"] == 3
    for query, message in (
        ({"limit": 0}, "limit: 0 is less than the minimum of 1"),
        ({"limit": 500}, "limit: 500 is greater than the maximum of 200"),
        ({"offset": -1}, "offset: -1 is less than the minimum of 0"),
    ):
        error = admin.get(PRICES, {"site_id": site_id, **query}, status=400).json["error"]
        assert (error["code"], error["message"]) == ("invalid_request", message)


def test_a_month_of_prices_is_paged_through_the_api_and_shown_whole_on_the_page(admin, engine):
    site_id = add_site(engine)
    for week in range(5):  # 5 x 168 = 840 hours, from 2026-03-01
        start = f"2026-03-{1 + 7 * week:02d}T00:00:00Z"
        post_prices(admin, day(site_id, *range(168), start=start))
    seen = []
    while True:
        page = admin.get(PRICES, {"site_id": site_id, "limit": 200, "offset": len(seen)}).json
        assert page["total"] == 840
        if not page["items"]:
            break
        seen += [p["starts_at"] for p in page["items"]]
    assert len(seen) == len(set(seen)) == 840 and seen == sorted(seen)
    shown = admin.get(PAGE, {"site_id": site_id, "from": "2026-03-01", "to": "2026-04-01"})
    assert len(shown.html.find(attrs={"data-testid": "prices"}).select("tbody tr")) == 31 * 24


def test_times_with_an_offset_are_stored_in_utc_and_the_window_is_half_open(admin, engine):
    site_id = add_site(engine)
    post_prices(
        admin,
        [
            {"site_id": site_id, "starts_at": "2026-03-01T05:00:00+05:00", "price_per_mwh": 1},
            {"site_id": site_id, "starts_at": "2026-03-01T01:00:00Z", "price_per_mwh": "2.25"},
            {"site_id": site_id, "starts_at": "2026-03-01T02:00:00Z", "price_per_mwh": -3},
        ],
    )
    items = admin.get(PRICES, {"site_id": site_id}).json["items"]
    assert [p["starts_at"] for p in items] == [
        "2026-03-01T00:00:00Z",
        "2026-03-01T01:00:00Z",
        "2026-03-01T02:00:00Z",
    ]
    window = admin.get(
        PRICES, {"site_id": site_id, "from": "2026-03-01T01:00:00Z", "to": "2026-03-01T02:00:00Z"}
    ).json
    assert [p["price_per_mwh"] for p in window["items"]] == ["2.2500"]
    bad = admin.get(
        PRICES, {"site_id": site_id, "from": "2026-03-02", "to": "2026-03-01"}, status=422
    ).json
    assert bad["error"]["details"][0]["field"] == "to"
    assert (
        admin.get(PRICES, {"site_id": 999}, status=422).json["error"]["message"]
        == "there is no site with id 999"
    )


def test_money_keeps_four_places_exactly(admin, engine):
    site_id = add_site(engine)
    post_prices(admin, day(site_id, "-12.3456", 0.1, "99999.9999", "1.00005"))
    assert [p.price_per_mwh for p in stored(engine)] == [
        Decimal("-12.3456"),
        Decimal("0.1000"),
        Decimal("99999.9999"),
        Decimal("1.0000"),
    ]


@pytest.mark.parametrize(
    ("index", "field", "value", "words"),
    [
        (3, "price_per_mwh", "abc", "is not a number"),
        (3, "price_per_mwh", "1e6", "between"),
        (2, "starts_at", "2026-03-01T02:00:00", "needs a time zone"),
        (2, "starts_at", "2026-03-01T02:30:00Z", "start of an hour"),
        (2, "starts_at", "yesterday", "not a date and time"),
        (5, "currency", "US", "3-letter"),
        (5, "currency", "$$$", "3-letter"),
        (1, "source", "my laptop", "short word"),
        (4, "site_id", 987654, "no site with id 987654"),
    ],
)
def test_one_bad_row_refuses_the_whole_batch_and_names_it(
    admin, engine, index, field, value, words
):
    site_id = add_site(engine)
    rows = day(site_id, *EXAMPLE)
    rows[index][field] = value
    error = post_prices(admin, rows, status=422)["error"]
    assert error["code"] == "invalid_input"
    assert error["details"] == [{"field": f"rows[{index}].{field}", "message": error["message"]}]
    assert error["message"].startswith(f"rows[{index}].{field}: ")
    assert words in error["message"]
    assert stored(engine) == []


def test_the_same_hour_twice_in_one_batch_is_a_conflict(admin, engine):
    site_id = add_site(engine)
    rows = day(site_id, *EXAMPLE)
    rows[4]["starts_at"] = "2026-03-01T06:00:00+05:00"  # = 01:00 UTC, the hour of rows[1]
    error = post_prices(admin, rows, status=409)["error"]
    assert error["code"] == "conflict"
    assert error["message"] == "rows[4].starts_at: the same site and hour as rows[1]"
    assert stored(engine) == []


def test_an_hour_that_already_has_a_price_is_a_conflict_and_nothing_is_added(admin, engine):
    site_id = add_site(engine)
    other = add_site(engine, "South")
    post_prices(admin, day(site_id, 10, 20))
    rows = (
        day(other, 1, 2)
        + day(site_id, 30, start="2026-03-01T02:00:00Z")
        + day(site_id, 99, start="2026-03-01T01:00:00Z")
    )
    error = post_prices(admin, rows, status=409)["error"]
    assert error["details"][0]["field"] == "rows[3].starts_at"
    assert "already has a price for 2026-03-01T01:00:00Z" in error["message"]
    assert [(p.site_id, str(p.price_per_mwh)) for p in stored(engine)] == [
        (site_id, "10.0000"),
        (site_id, "20.0000"),
    ]
    # The same hour at another site is fine.
    assert post_prices(admin, day(other, 5))["created"] == 1


def test_batch_size_and_shape(admin, engine):
    site_id = add_site(engine)
    headers = api_headers(admin)
    assert admin.post_json(PRICES, {"rows": []}, headers=headers, status=400).json
    too_many = day(site_id, *range(1001))
    assert (
        "rows"
        in admin.post_json(PRICES, {"rows": too_many}, headers=headers, status=400).json["error"][
            "message"
        ]
    )
    missing = day(site_id, 1, 2)
    del missing[1]["price_per_mwh"]
    assert "price_per_mwh" in post_prices(admin, missing, status=400)["error"]["message"]
    extra = day(site_id, 1)
    extra[0]["colour"] = "red"
    assert "colour" in post_prices(admin, extra, status=400)["error"]["message"]
    assert stored(engine) == []
    assert post_prices(admin, day(site_id, *range(1000)))["created"] == 1000
    assert len(stored(engine)) == 1000


def test_plan_worked_by_hand(admin, engine):
    site_id = add_site(engine)
    post_prices(admin, day(site_id, *EXAMPLE))
    plan = admin.post_json(
        PLAN,
        {
            "site_id": site_id,
            "breakeven_usd_per_mwh": 45,
            "from": "2026-03-01T00:00:00Z",
            "to": "2026-03-01T08:00:00Z",
            "load_mw": 10,
        },
        headers=api_headers(admin),
    ).json
    assert plan["hours_in_window"] == 8
    assert plan["hours_priced"] == 6
    assert plan["hours_to_curtail"] == 3
    assert plan["curtail_hours"] == [
        {"starts_at": "2026-03-01T02:00:00Z", "price_per_mwh": "50.0000", "saving_usd": "50.00"},
        {"starts_at": "2026-03-01T03:00:00Z", "price_per_mwh": "120.5000", "saving_usd": "755.00"},
        {"starts_at": "2026-03-01T05:00:00Z", "price_per_mwh": "80.0000", "saving_usd": "350.00"},
    ]
    assert plan["energy_avoided_mwh"] == 30
    assert plan["energy_cost_avoided_usd"] == "2505.00"
    assert plan["revenue_forgone_usd"] == "1350.00"
    assert plan["estimated_saving_usd"] == "1155.00"
    assert plan["breakeven_usd_per_mwh"] == "45.0000"
    assert plan["currency"] == "USD"


def test_plan_load_defaults_to_the_site_capacity_and_breakeven_may_be_a_string(admin, engine):
    site_id = add_site(engine, capacity_kw=2500)  # 2.5 MW
    post_prices(admin, day(site_id, *EXAMPLE))
    plan = admin.post_json(
        PLAN,
        {
            "site_id": site_id,
            "breakeven_usd_per_mwh": "79.99",
            "from": "2026-03-01",
            "to": "2026-03-02",
        },
        headers=api_headers(admin),
    ).json
    # Above 79.99: 120.50 and 80 -> (40.51 + 0.01) * 2.5 = 101.30; each hour is rounded to
    # the cent on its own (101.275 -> 101.28, 0.025 -> 0.03), the total from the exact sum.
    assert plan["load_mw"] == 2.5
    assert plan["hours_in_window"] == 24
    assert [h["saving_usd"] for h in plan["curtail_hours"]] == ["101.28", "0.03"]
    assert plan["estimated_saving_usd"] == "101.30"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"site_id": 424242}, "site_id"),
        ({"breakeven_usd_per_mwh": -1}, "breakeven_usd_per_mwh"),
        ({"breakeven_usd_per_mwh": "lots"}, "breakeven_usd_per_mwh"),
        ({"load_mw": 0}, "load_mw"),
        ({"load_mw": 20000}, "load_mw"),
        ({"to": "2026-02-28T00:00:00Z"}, "to"),
        ({"to": "2027-06-01T00:00:00Z"}, "to"),
        ({"from": "soon"}, "from"),
    ],
)
def test_plan_bad_input_is_422_with_the_field(admin, engine, change, field):
    site_id = add_site(engine)
    body = {
        "site_id": site_id,
        "breakeven_usd_per_mwh": 45,
        "from": "2026-03-01T00:00:00Z",
        "to": "2026-03-02T00:00:00Z",
        "load_mw": 10,
        **change,
    }
    error = admin.post_json(PLAN, body, headers=api_headers(admin), status=422).json["error"]
    assert error["details"][0]["field"] == field


def test_plan_needs_a_load_when_the_site_has_no_capacity(admin, engine):
    site_id = add_site(engine, capacity_kw=0)
    error = admin.post_json(
        PLAN,
        {"site_id": site_id, "breakeven_usd_per_mwh": 45, "from": "2026-03-01", "to": "2026-03-02"},
        headers=api_headers(admin),
        status=422,
    ).json["error"]
    assert "load_mw is needed" in error["message"]


def test_plan_refuses_prices_in_another_currency(admin, engine):
    site_id = add_site(engine)
    rows = day(site_id, 10, 500)
    rows[1]["currency"] = "EUR"
    post_prices(admin, rows)
    error = admin.post_json(
        PLAN,
        {
            "site_id": site_id,
            "breakeven_usd_per_mwh": 45,
            "from": "2026-03-01",
            "to": "2026-03-02",
            "load_mw": 1,
        },
        headers=api_headers(admin),
        status=422,
    ).json["error"]
    assert "EUR" in error["message"]


def test_who_may_do_what(webtest, login_as, engine):
    site_id = add_site(engine)
    body = {
        "site_id": site_id,
        "breakeven_usd_per_mwh": 45,
        "from": "2026-03-01",
        "to": "2026-03-02",
        "load_mw": 1,
    }
    assert (
        webtest.get(PRICES, {"site_id": site_id}, status=401).json["error"]["code"]
        == "unauthorized"
    )
    webtest.post_json(PLAN, body, status=401)

    login_as("operator")
    assert webtest.get(PRICES, {"site_id": site_id}).json["total"] == 0
    assert webtest.post_json(PLAN, body, headers=api_headers(webtest)).json["hours_priced"] == 0
    post_prices(webtest, day(site_id, 1), status=403)

    login_as("viewer")
    assert webtest.get(PRICES, {"site_id": site_id}).json["total"] == 0
    webtest.post_json(PLAN, body, headers=api_headers(webtest), status=403)
    post_prices(webtest, day(site_id, 1), status=403)

    login_as("customer")
    webtest.get(PRICES, {"site_id": site_id}, status=403)
    webtest.get(PAGE, status=403)
    assert stored(engine) == []


def test_page_shows_prices_and_the_plan_marks_the_hours_to_switch_off(admin, engine):
    site_id = add_site(engine)
    post_prices(admin, day(site_id, *EXAMPLE))
    page = admin.get(
        PAGE,
        {
            "site_id": site_id,
            "from": "2026-03-01",
            "to": "2026-03-02",
            "breakeven": "45",
            "load_mw": "10",
        },
    )
    table = page.html.find(attrs={"data-testid": "prices"})
    assert len(table.select("tbody tr")) == 6
    assert len(table.select("tr[data-curtail]")) == 3
    assert "05:00" in table.select("tbody tr")[0].text  # 00:00 UTC is 05:00 in Almaty
    assert page.html.find(attrs={"data-testid": "plan-saving"}).text.strip() == "$1155.00"
    assert page.html.find(attrs={"data-testid": "plan-hours"}).text.strip() == "3 / 6"
    assert "18 hours have no price" in page.text


def test_page_plan_errors_are_shown_not_raised(admin, engine):
    site_id = add_site(engine)
    page = admin.get(PAGE, {"site_id": site_id, "breakeven": "-5"})
    assert "breakeven_usd_per_mwh" in page.html.find(attrs={"data-testid": "plan-error"}).text


def test_viewer_sees_prices_but_no_plan_or_import_form(webtest, login_as, engine):
    add_site(engine)
    login_as("viewer")
    page = webtest.get(PAGE, {"breakeven": "45"})
    assert page.html.find(id="plan-form") is None
    assert page.html.find(id="csv-form") is None
    assert page.html.find(attrs={"data-testid": "plan"}) is None


def test_admin_pastes_csv_prices(admin, engine):
    site_id = add_site(engine)
    csv = "starts_at,price_per_mwh\n2026-03-01T00:00:00Z,30\n2026-03-01T01:00:00Z,-4.5\n"
    response = admin.post(
        PAGE, {"site_id": str(site_id), "csv": csv, "currency": "", "csrf_token": csrf_token(admin)}
    )
    assert response.status_int == 303
    assert [(str(p.price_per_mwh), p.source, p.currency) for p in stored(engine)] == [
        ("30.0000", "csv", "USD"),
        ("-4.5000", "csv", "USD"),
    ]


def test_a_bad_csv_line_adds_nothing_and_names_the_line(admin, engine):
    site_id = add_site(engine)
    csv = "2026-03-01T00:00:00Z,30\n\n2026-03-01T01:00:00Z,cheap\n"
    page = admin.post(
        PAGE,
        {"site_id": str(site_id), "csv": csv, "currency": "USD", "csrf_token": csrf_token(admin)},
        status=422,
    )
    message = page.html.find(attrs={"data-testid": "error"}).text
    assert message == "line 3: price_per_mwh: 'cheap' is not a number"
    assert "cheap" in page.html.find("textarea").text  # kept for fixing
    assert stored(engine) == []
    admin.post(PAGE, {"site_id": str(site_id), "csv": csv}, status=400)  # no CSRF token


def test_operator_cannot_paste_prices(webtest, login_as, engine):
    site_id = add_site(engine)
    login_as("operator")
    webtest.post(
        PAGE,
        {
            "site_id": str(site_id),
            "csv": "2026-03-01T00:00:00Z,30",
            "csrf_token": csrf_token(webtest),
        },
        status=403,
    )
    assert stored(engine) == []


def test_curtailment_needs_controlplane(make_app):
    from hashinsight_core.plugins import PluginError

    with pytest.raises(PluginError, match="requires plugin 'controlplane'"):
        make_app(plugins=["hosting", "curtailment"])
