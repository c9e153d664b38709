import datetime as dt
from decimal import Decimal as D

import sqlalchemy as sa

from hashinsight_core.reports import report_sections
from hashinsight_core.tasks import run_in_request
from tests.conftest import api_headers, csrf_token

ENTRIES = "/api/v1/treasury/entries"
SUMMARY = "/api/v1/treasury/summary"


def add(webtest, status=201, **fields):
    return webtest.post_json(ENTRIES, fields, headers=api_headers(webtest), status=status).json


def count_entries(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT count(*) FROM treasury_entries"))


def the_worked_example(webtest):
    add(webtest, occurred_on="2024-01-10", kind="bought", btc="1", usd="60000")
    add(webtest, occurred_on="2024-02-10", kind="bought", btc=1, usd=40000)
    return add(
        webtest, occurred_on="2024-03-10", kind="sold", btc="0.5", usd="35000.00", note="OTC desk"
    )


def test_buys_and_a_sale_give_the_hand_computed_summary(webtest, login_as):
    login_as("admin")
    sale = the_worked_example(webtest)
    assert sale["btc"] == "0.50000000" and sale["usd"] == "35000.00"
    assert sale["realized_pl_usd"] == "10000.00"  # 35,000 - 0.5 x 50,000
    assert sale["balance_btc"] == "1.50000000" and sale["average_cost_usd"] == "50000.00"
    summary = webtest.get(SUMMARY).json
    assert summary == {
        "balance_btc": "1.50000000",
        "average_cost_usd": "50000.00",
        "cost_basis_usd": "75000.00",
        "realized_pl_usd": "10000.00",
        "btc_in": "2.00000000",
        "btc_out": "0.50000000",
        "fee_btc": "0.00000000",
        "fee_cost_usd": "0.00",
        "entries": 3,
        "as_of": None,
    }
    before_sale = webtest.get(SUMMARY, {"as_of": "2024-02-29"}).json
    assert before_sale["balance_btc"] == "2.00000000"
    assert before_sale["realized_pl_usd"] == "0.00" and before_sale["as_of"] == "2024-02-29"


def test_entries_list_in_date_order_with_the_position_after_each(webtest, login_as):
    login_as("admin")
    the_worked_example(webtest)
    add(webtest, occurred_on="2024-01-05", kind="mined", btc="0.25")  # earlier, no USD value
    listing = webtest.get(ENTRIES).json
    assert listing["total"] == 4
    rows = [
        (i["occurred_on"], i["kind"], i["balance_btc"], i["average_cost_usd"])
        for i in listing["items"]
    ]
    assert rows == [
        ("2024-01-05", "mined", "0.25000000", "0.00"),
        ("2024-01-10", "bought", "1.25000000", "48000.00"),  # 60,000 / 1.25
        ("2024-02-10", "bought", "2.25000000", "44444.44"),  # 100,000 / 2.25
        # 77,777.78 of cost left for 1.75 BTC: the cent the sale's cost was rounded to shows.
        ("2024-03-10", "sold", "1.75000000", "44444.45"),
    ]
    # 0.5 BTC at 44,444.44... = 22,222.22 of cost; received 35,000.
    assert listing["items"][3]["realized_pl_usd"] == "12777.78"
    assert listing["items"][0]["usd"] is None and listing["items"][3]["note"] == "OTC desk"
    filtered = webtest.get(ENTRIES, {"date_from": "2024-01-10", "date_to": "2024-02-10"}).json
    assert [i["occurred_on"] for i in filtered["items"]] == ["2024-01-10", "2024-02-10"]
    assert filtered["items"][0]["balance_btc"] == "1.25000000"  # counts the earlier entry
    assert webtest.get(ENTRIES, {"kind": "sold"}).json["total"] == 1
    page = webtest.get(ENTRIES, {"limit": 2, "offset": 1}).json
    assert [i["kind"] for i in page["items"]] == ["bought", "bought"] and page["total"] == 4


def test_entries_page_with_limit_and_offset_and_keep_the_position_of_earlier_pages(
    webtest, login_as
):
    login_as("admin")
    the_worked_example(webtest)
    first = webtest.get(ENTRIES, {"limit": 2}).json
    assert [i["occurred_on"] for i in first["items"]] == ["2024-01-10", "2024-02-10"]
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    rest = webtest.get(ENTRIES, {"limit": 2, "offset": 2}).json
    assert [i["kind"] for i in rest["items"]] == ["sold"] and rest["total"] == 3
    # The sale alone on its page still carries the position built by the entries before it.
    assert rest["items"][0]["balance_btc"] == "1.50000000"
    assert rest["items"][0]["realized_pl_usd"] == "10000.00"
    default = webtest.get(ENTRIES).json
    assert (len(default["items"]), default["limit"], default["offset"]) == (3, 50, 0)
    for query, message in (
        ({"limit": 0}, "limit: 0 is less than the minimum of 1"),
        ({"limit": 500}, "limit: 500 is greater than the maximum of 200"),
        ({"offset": -1}, "offset: -1 is less than the minimum of 0"),
    ):
        error = webtest.get(ENTRIES, query, status=400).json["error"]
        assert (error["code"], error["message"]) == ("invalid_request", message)


def test_a_sale_larger_than_the_balance_is_refused_naming_the_date(webtest, login_as, engine):
    login_as("admin")
    add(webtest, occurred_on="2024-01-10", kind="bought", btc="1", usd="60000")
    error = add(webtest, 422, occurred_on="2024-01-20", kind="sold", btc="1.5", usd="90000")[
        "error"
    ]
    assert "2024-01-20" in error["message"] and "1.00000000 BTC held" in error["message"]
    assert error["details"][0]["field"] == "btc"
    fee = add(webtest, 422, occurred_on="2024-01-05", kind="fee", btc="0.0001")["error"]
    assert "fee" in fee["message"] and "2024-01-05" in fee["message"]  # before the buy
    assert count_entries(engine) == 1


def test_a_backdated_sale_that_breaks_a_later_one_is_refused(webtest, login_as, engine):
    login_as("admin")
    add(webtest, occurred_on="2024-01-10", kind="bought", btc="1", usd="60000")
    add(webtest, occurred_on="2024-03-01", kind="sold", btc="0.8", usd="50000")
    error = add(webtest, 422, occurred_on="2024-02-01", kind="sold", btc="0.5", usd="30000")[
        "error"
    ]
    assert "2024-03-01" in error["message"]  # the later sale no longer has its coins
    assert count_entries(engine) == 2
    assert webtest.get(SUMMARY).json["balance_btc"] == "0.20000000"


def test_bad_input_is_a_4xx_with_a_message_and_nothing_written(webtest, login_as, engine):
    login_as("admin")
    base = {"occurred_on": "2024-01-10", "kind": "bought", "btc": "1", "usd": "1"}
    for change, status, words in [
        ({"usd": None}, 422, "usd is needed"),
        ({"kind": "stolen"}, 422, "kind must be one of"),
        ({"btc": "0"}, 422, "more than 0"),
        ({"btc": -1}, 422, "more than 0"),
        ({"btc": "0.123456789"}, 422, "8 decimal places"),
        ({"usd": "-5"}, 422, "0 or more"),
        ({"occurred_on": "2024-02-30"}, 400, "occurred_on"),
        ({"btc": True}, 400, "btc"),
        ({"price": 1}, 400, "price"),
    ]:
        error = add(webtest, status, **{**base, **change})["error"]
        assert words in error["message"], (change, error)
    webtest.post_json(
        ENTRIES, {"kind": "mined", "btc": "1"}, headers=api_headers(webtest), status=400
    )
    webtest.get(ENTRIES, {"kind": "stolen"}, status=422)
    webtest.get(ENTRIES, {"date_from": "2024-02-01", "date_to": "2024-01-01"}, status=422)
    webtest.get(SUMMARY, {"as_of": "yesterday"}, status=400)
    assert count_entries(engine) == 0


def test_money_is_stored_exactly(webtest, login_as, dbsession):
    from plugins.treasury.models import Entry

    login_as("admin")
    add(
        webtest,
        occurred_on="2024-01-10",
        kind="bought",
        btc="20999999.99999999",
        usd="999999999999.99",
    )
    entry = dbsession.scalar(sa.select(Entry))
    assert entry.btc == D("20999999.99999999") and entry.usd == D("999999999999.99")
    assert webtest.get(SUMMARY).json["balance_btc"] == "20999999.99999999"


def test_roles_read_and_write_as_granted(webtest, login_as):
    login_as("viewer")
    assert webtest.get(SUMMARY).json["balance_btc"] == "0.00000000"
    page = webtest.get("/treasury/")
    assert 'name="btc"' not in page.text  # no add form without the write grant
    add(webtest, 403, occurred_on="2024-01-10", kind="mined", btc="1")
    webtest.post(
        "/treasury/",
        {
            "occurred_on": "2024-01-10",
            "kind": "mined",
            "btc": "1",
            "csrf_token": csrf_token(webtest),
        },
        status=403,
    )


def test_operator_and_customer_cannot_see_the_treasury(make_app, engine):
    from tests.conftest import login

    for role in ("operator", "customer"):
        app, _ = make_app()
        login(app, engine, role)
        app.get(SUMMARY, status=403)
        app.get(ENTRIES, status=403)
        app.get("/treasury/", status=403)
        assert 'data-route="treasury.entry.list"' not in app.get("/").text


def test_anonymous_api_call_is_401_json(webtest):
    assert webtest.get(SUMMARY, status=401).json["error"]["code"] == "unauthorized"
    assert "/login/" in webtest.get("/treasury/", status=302).location


def test_page_shows_the_cards_and_the_newest_entry_first(webtest, login_as):
    login_as("admin")
    page = webtest.get("/treasury/")
    assert "No entries yet." in page.text
    assert page.html.find(attrs={"data-testid": "average-cost"}).text.strip() == "—"
    the_worked_example(webtest)
    page = webtest.get("/treasury/")
    assert page.html.find(attrs={"data-testid": "balance-btc"}).text.strip() == "1.50000000"
    assert page.html.find(attrs={"data-testid": "average-cost"}).text.strip() == "$50,000.00"
    assert page.html.find(attrs={"data-testid": "realized-pl"}).text.strip() == "$10,000.00"
    dates = [row.find("td").text for row in page.html.select("tr[data-entry-id]")]
    assert dates == ["2024-03-10", "2024-02-10", "2024-01-10"]
    assert 'data-route="treasury.entry.list"' in page.text


def test_admin_adds_an_entry_with_the_form(webtest, login_as):
    login_as("admin")
    response = webtest.post(
        "/treasury/",
        {
            "occurred_on": "2024-05-01",
            "kind": "mined",
            "btc": "0.0625",
            "usd": "",
            "note": "May pool payout",
            "csrf_token": csrf_token(webtest),
        },
        status=303,
    )
    page = response.follow()
    assert "May pool payout" in page.text and "0.06250000" in page.text
    assert webtest.get(SUMMARY).json["balance_btc"] == "0.06250000"


def test_form_error_shows_the_message_and_keeps_what_was_typed(webtest, login_as, engine):
    login_as("admin")
    page = webtest.post(
        "/treasury/",
        {
            "occurred_on": "2024-05-01",
            "kind": "sold",
            "btc": "2",
            "usd": "120000",
            "note": "too much",
            "csrf_token": csrf_token(webtest),
        },
        status=422,
    )
    assert "the sale of 2.00000000 BTC on 2024-05-01" in page.text
    assert 'value="2024-05-01"' in page.text and 'value="2"' in page.text
    assert 'value="120000"' in page.text and 'value="too much"' in page.text
    assert '<option value="sold" selected>' in page.text
    page = webtest.post(
        "/treasury/",
        {
            "occurred_on": "2024-05-01",
            "kind": "bought",
            "btc": "1",
            "usd": "",
            "csrf_token": csrf_token(webtest),
        },
        status=422,
    )
    assert "usd is needed" in page.text
    assert count_entries(engine) == 0


def test_form_without_csrf_token_is_refused_and_writes_nothing(webtest, login_as, engine):
    login_as("admin")
    webtest.post(
        "/treasury/", {"occurred_on": "2024-05-01", "kind": "mined", "btc": "1"}, status=400
    )
    webtest.post_json(
        ENTRIES, {"occurred_on": "2024-05-01", "kind": "mined", "btc": "1"}, status=400
    )
    assert count_entries(engine) == 0


def build_report(registry, period, role="admin"):
    """Build the section the way the report runner will: in a request and a transaction."""
    from hashinsight_core.models import User

    section = next(s for s in report_sections(registry) if s.name == "treasury.inventory")

    def build(request):
        request.user = User(id=1, email="r@example.com", role=role)
        allowed = bool(request.has_permission(str(section.permission)))
        return section, allowed, section.build(request, period)

    return run_in_request(registry, build)


def test_report_section_lists_the_period_and_a_totals_row(webtest, login_as, registry):
    login_as("admin")
    the_worked_example(webtest)
    add(webtest, occurred_on="2024-03-20", kind="fee", btc="0.001")
    add(webtest, occurred_on="2024-04-02", kind="mined", btc="0.1", usd="7000")
    section, allowed, table = build_report(registry, (dt.date(2024, 2, 1), dt.date(2024, 3, 31)))
    assert section.title == "BTC inventory" and allowed
    assert table["columns"] == [
        "Date",
        "Type",
        "BTC in",
        "BTC out",
        "USD",
        "Realized profit/loss (USD)",
        "Balance (BTC)",
    ]
    assert table["rows"] == [
        [
            dt.date(2024, 2, 10),
            "Bought",
            D("1.00000000"),
            None,
            D("40000.00"),
            None,
            D("2.00000000"),
        ],
        [
            dt.date(2024, 3, 10),
            "Sold",
            None,
            D("0.50000000"),
            D("35000.00"),
            D("10000.00"),
            D("1.50000000"),
        ],
        [dt.date(2024, 3, 20), "Fee", None, D("0.00100000"), None, None, D("1.49900000")],
        ["Total", "", D("1.00000000"), D("0.50100000"), None, D("10000.00"), D("1.49900000")],
    ]
    _, _, empty = build_report(registry, (dt.date(2023, 1, 1), dt.date(2023, 12, 31)))
    assert empty["rows"] == [["Total", "", D(0), D(0), None, D(0), D(0)]]


def test_report_section_is_for_treasury_readers_only(registry):
    section, allowed, _ = build_report(
        registry, (dt.date(2024, 1, 1), dt.date(2024, 1, 31)), role="operator"
    )
    assert str(section.permission) == "treasury:entry:read" and not allowed


def test_report_is_gone_when_treasury_is_off(make_app):
    _, registry = make_app(plugins=["hosting"])
    assert all(s.name != "treasury.inventory" for s in report_sections(registry))
