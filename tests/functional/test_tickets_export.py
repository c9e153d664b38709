"""Ticket export: the CSV and Excel downloads hold exactly the tickets the list shows for the
same filters and the same account (a site-limited operator gets its site, a customer its own
tickets without staff columns), with headings in the request's language, formulas disarmed,
and a cap the list page warns about."""

# The farm fixture is the alerts tests' (imported below), so test parameters "redefine" it.
# ruff: noqa: F811

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from hashinsight_core.models import Customer, Membership
from plugins.hosting.models import Miner
from tests.functional.test_alerts import farm  # noqa: F401 - the same two-customer farm
from tests.functional.test_tickets import TICKETS, client, new_ticket, people, post  # noqa: F401

EXPORT = "/hosting/tickets/export"
ENGLISH = [
    "Number",
    "Title",
    "Status",
    "Priority",
    "Category",
    "Customer",
    "Site",
    "Miners (serials)",
    "Assignee",
    "Opened at (UTC)",
    "First response at (UTC)",
    "Resolved at (UTC)",
    "Closed at (UTC)",
    "Response SLA missed",
    "Resolution SLA missed",
    "Source",
]


def read_csv(response) -> list[list[str]]:
    assert response.content_type == "text/csv"
    assert response.body.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"), newline="")))


def read_xlsx(response) -> list[list[str]]:
    assert response.content_type.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.body))
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.value  # nothing runs as a formula
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def numbers(table) -> list[str]:
    return [row[0] for row in table[1:]]


def page_numbers(app, query="") -> list[str]:
    text = app.get(f"/hosting/tickets/?{query}").text
    return [f"T-{int(i):06d}" for i in re.findall(r'data-ticket-id="(\d+)"', text)]


def api_numbers(app, query="") -> list[str]:
    return [t["number"] for t in app.get(f"{TICKETS}?{query}&limit=200").json["items"]]


@pytest.fixture
def tickets(people, farm):
    """Five tickets of both customers and sites, one resolved, one assigned."""
    op = people["operator"]
    made = {
        "a1": new_ticket(op, [farm["a1"]], title="Fan rattles", priority="high"),
        "a2": new_ticket(
            op, [farm["a2"]], title="风扇噪音 hot hall", priority="urgent", category="overheating"
        ),
        "b1": new_ticket(op, [farm["b1"]], title="Pool down", priority="normal", category="pool"),
        "cust": new_ticket(people["customer"], [farm["a1"]], title="My miner is slow"),
        "site": new_ticket(op, [], title="Hall lights", priority="low", site_id=farm["S2"]),
    }
    post(op, f"{TICKETS}/{made['b1']['id']}/status", {"status": "resolved"}, 200)
    body = {"assignee_id": people["operator_id"]}
    post(op, f"{TICKETS}/{made['a1']['id']}/assign", body, 200)
    return made


FILTERS = [
    "",
    "status=all",
    "status=resolved",
    "priority=urgent",
    "category=fan",
    "q=fan",
    "q=%E9%A3%8E%E6%89%87",  # 风扇
    "mine=1",
]


def test_the_export_holds_the_lists_tickets_for_every_filter(people, farm, tickets):
    op = people["operator"]
    queries = FILTERS + [
        f"site_id={farm['S1']}",
        f"customer_id={farm['B']}&status=all",
        f"assignee_id={people['operator_id']}",
        "assignee_id=none",
    ]
    for query in queries:
        listed = page_numbers(op, query)
        assert listed == api_numbers(op, query), query
        rows = read_csv(op.get(f"{EXPORT}.csv?{query}"))
        assert numbers(rows) == listed, query  # the same tickets, in the list's order
        assert numbers(read_xlsx(op.get(f"{EXPORT}.xlsx?{query}"))) == listed, query
    # Sanity: the filters really do narrow.
    assert len(page_numbers(op, "status=all")) == 5
    assert page_numbers(op, "priority=urgent") == [tickets["a2"]["number"]]
    # The page's buttons carry its filters (not its page number).
    page = op.get("/hosting/tickets/?priority=urgent&q=hot&page=1")
    link = page.html.select_one('[data-testid="ticket-export-csv"]')["href"]
    assert link.startswith(f"{EXPORT}.csv?") and "priority=urgent" in link and "q=hot" in link
    assert "page=" not in link
    assert page.html.select_one('[data-testid="ticket-export-xlsx"]') is not None


def test_rows_carry_every_column_and_the_xlsx_holds_the_same_rows(people, farm, tickets):
    op = people["operator"]
    response = op.get(f"{EXPORT}.csv?status=all")
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["X-Total-Count"] == response.headers["X-Export-Rows"] == "5"
    rows = read_csv(response)
    assert rows[0] == ENGLISH
    by_number = {row[0]: dict(zip(ENGLISH, row, strict=True)) for row in rows[1:]}
    a1 = by_number[tickets["a1"]["number"]]
    assert a1["Title"] == "Fan rattles" and a1["Status"] == "Open"
    assert (a1["Priority"], a1["Category"], a1["Source"]) == ("High", "Fan", "Staff")
    assert (a1["Customer"], a1["Site"], a1["Miners (serials)"]) == (
        "Alpha Mining",
        "North",
        "A1-SN",
    )
    assert a1["Assignee"] == "Operator"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", a1["Opened at (UTC)"])
    assert a1["First response at (UTC)"]  # staff opened it: answered at once
    assert a1["Resolved at (UTC)"] == a1["Closed at (UTC)"] == ""
    assert a1["Response SLA missed"] == a1["Resolution SLA missed"] == "No"
    b1 = by_number[tickets["b1"]["number"]]
    assert b1["Status"] == "Resolved" and b1["Resolved at (UTC)"].endswith("Z")
    assert by_number[tickets["cust"]["number"]]["Source"] == "Customer"
    assert by_number[tickets["a2"]["number"]]["Title"] == "风扇噪音 hot hall"
    site_only = by_number[tickets["site"]["number"]]
    assert (site_only["Customer"], site_only["Site"], site_only["Miners (serials)"]) == (
        "",
        "South",
        "",
    )
    assert read_xlsx(op.get(f"{EXPORT}.xlsx?status=all")) == rows


def test_headings_and_labels_follow_the_language(people, farm, tickets):
    op = people["operator"]
    op.set_cookie("_LOCALE_", "zh")
    rows = read_csv(op.get(f"{EXPORT}.csv?priority=high"))
    head = rows[0]
    for chinese in ("状态", "优先级", "类别", "客户", "站点", "负责人", "来源"):
        assert chinese in head
    assert not {"Status", "Priority", "Category", "Customer", "Site", "Assignee"} & set(head)
    row = next(dict(zip(head, r, strict=True)) for r in rows if r[0] == tickets["a1"]["number"])
    assert (row["状态"], row["优先级"], row["类别"], row["来源"]) == (
        "未处理",
        "高",
        "风扇",
        "员工",
    )
    assert read_xlsx(op.get(f"{EXPORT}.xlsx?priority=high"))[0] == head


def test_a_site_limited_operator_and_a_customer_export_only_what_they_may_list(
    make_app, engine, people, farm, tickets
):
    app = people["operator"]
    limited, limited_id = client(app, engine, "operator")
    with sa.orm.Session(engine) as session:
        session.add(Membership(user_id=limited_id, site_id=farm["S1"]))
        session.commit()
    expected = [tickets[k]["number"] for k in ("a2", "a1", "cust")]  # urgent, high, high
    assert sorted(page_numbers(limited, "status=all")) == sorted(expected)
    rows = read_csv(limited.get(f"{EXPORT}.csv?status=all"))
    assert numbers(rows) == page_numbers(limited, "status=all")
    assert sorted(numbers(rows)) == sorted(expected)
    # Asking for the other site by filter gives nothing, not the other site's tickets.
    assert numbers(read_csv(limited.get(f"{EXPORT}.csv?site_id={farm['S2']}&status=all"))) == []

    customer = people["customer"]
    rows = read_csv(customer.get(f"{EXPORT}.csv?status=all"))
    assert sorted(numbers(rows)) == sorted(tickets[k]["number"] for k in ("a1", "a2", "cust"))
    assert numbers(rows) == page_numbers(customer, "status=all")
    assert "Assignee" not in rows[0]  # staff columns stay with staff
    assert rows[0] == [h for h in ENGLISH if h != "Assignee"]
    other = read_xlsx(people["other"].get(f"{EXPORT}.xlsx?status=all"))
    assert numbers(other) == [tickets["b1"]["number"]]
    # Somebody not logged in gets no file.
    anonymous = type(app)(app.app)
    assert anonymous.get(f"{EXPORT}.csv", status="*").status_int in (302, 303, 401, 403)
    app.get(f"{EXPORT}.pdf", status=404)


def test_cells_that_would_run_as_formulas_are_written_as_text(people, farm, dbsession):
    evil = Customer(name="=cmd|' /C calc'!A0")
    dbsession.add(evil)
    dbsession.flush()
    miner = Miner(
        serial="\r@SUM(1)",
        model_name="S19",
        nominal_ths=95.0,
        customer_id=evil.id,
        site_id=farm["S1"],
        zone_id=farm["Z1"],
        status="online",
    )
    dbsession.add(miner)
    dbsession.commit_now()
    op = people["operator"]
    titles = ["=1+1", "+SUM(A1:A2)", "-2+3", '@HYPERLINK("http://x")', "Plain - fine"]
    for title in titles:
        new_ticket(op, [miner.id], title=title)
    rows = read_csv(op.get(f"{EXPORT}.csv"))
    head = rows[0]
    found = {row[head.index("Title")]: dict(zip(head, row, strict=True)) for row in rows[1:]}
    assert set(found) == {
        "'=1+1",
        "'+SUM(A1:A2)",
        "'-2+3",
        '\'@HYPERLINK("http://x")',
        "Plain - fine",
    }
    for row in found.values():
        assert row["Customer"] == "'=cmd|' /C calc'!A0"
        assert row["Miners (serials)"] == "'\r@SUM(1)"
    # The workbook holds the same text, as text (read_xlsx checks no cell is a formula).
    assert read_xlsx(op.get(f"{EXPORT}.xlsx")) == rows


def test_a_large_export_is_capped_and_the_list_says_so(make_app, engine, farm):
    app, _registry = make_app(hosting__tickets__export_max="2")
    op, _ = client(app, engine, "operator")
    for title in ("one", "two", "three"):
        new_ticket(op, [farm["a1"]], title=title)
    response = op.get(f"{EXPORT}.csv")
    assert response.headers["X-Total-Count"] == "3" and response.headers["X-Export-Rows"] == "2"
    rows = read_csv(response)
    assert numbers(rows) == page_numbers(op)[:2]
    assert len(read_xlsx(op.get(f"{EXPORT}.xlsx"))) == 3  # heading + 2
    warning = op.get("/hosting/tickets/").html.select_one('[data-testid="ticket-export-capped"]')
    assert warning is not None and "2" in warning.text and "3" in warning.text
    # Narrowed to what fits: no warning.
    narrowed = op.get("/hosting/tickets/?q=three").html
    assert narrowed.select_one('[data-testid="ticket-export-capped"]') is None
