"""Tickets through the app: customers open them for their own miners only, staff work them
along the workflow, alerts open one per incident, attachments are checked images, bulk
actions are all-or-nothing, the repair log moves the miner's status, and mail goes after
commit to the right people."""

# The farm fixture is the alerts tests' (imported below), so test parameters "redefine" it.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from webtest import TestApp

from hashinsight_core.audit.models import AuditEvent
from hashinsight_core.db import utcnow
from hashinsight_core.models import User
from hashinsight_core.tasks import run_in_request
from plugins.hosting.alerts.evaluate import evaluate_and_notify
from plugins.hosting.models import Miner, MinerEvent
from plugins.hosting.telemetry.models import TelemetryLive
from plugins.hosting.tickets.models import (
    RepairEntry,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketEvent,
)
from plugins.hosting.tickets.services import check_breaches
from tests.conftest import api_headers, login
from tests.functional.test_alerts import farm  # noqa: F401 - the same two-customer farm

TICKETS = "/api/v1/hosting/tickets"
# (asked as JSON: the answer does not depend on the themed error page)
JSON = {"Accept": "application/json"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def client(app: TestApp, engine, role: str, customer_id=None, email=None):
    """A new browser of ``app`` logged in as a new account; returns (client, user id)."""
    browser = TestApp(app.app, extra_environ=app.extra_environ)
    email = login(browser, engine, role, email, customer_id=customer_id)
    with engine.connect() as conn:
        user_id = conn.scalar(sa.select(User.id).where(User.email == email))
    return browser, user_id


@pytest.fixture
def people(make_app, engine, farm):
    app, registry = make_app()
    operator, operator_id = client(app, engine, "operator", email="olga@farm.example")
    customer, customer_id = client(app, engine, "customer", farm["A"], "ann@alpha.example")
    other, _ = client(app, engine, "customer", farm["B"], "bob@beta.example")
    return {
        "registry": registry,
        "operator": operator,
        "operator_id": operator_id,
        "customer": customer,
        "customer_id": customer_id,
        "other": other,
        "outbox": registry["mailer"].outbox,
    }


def post(app, path, body, status=None):
    return app.post_json(path, body, headers=api_headers(app), status=status or "*")


def new_ticket(app, miner_ids, **values):
    body = {
        "title": "Fan rattles",
        "category": "fan",
        "priority": "high",
        "body": "Fan 2 makes a noise",
        "miner_ids": miner_ids,
        **values,
    }
    return post(app, TICKETS, body, 201).json


def count(engine, model, *where):
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def audit_tags(engine, prefix):
    with engine.connect() as conn:
        return list(
            conn.scalars(
                sa.select(AuditEvent.tag)
                .where(AuditEvent.tag.like(prefix + "%"))
                .order_by(AuditEvent.seq)
            )
        )


# --- opening and isolation -------------------------------------------------------------------


def test_a_customer_opens_a_ticket_for_its_own_miner(people, engine, farm):
    ticket = new_ticket(people["customer"], [farm["a1"]])
    assert ticket["number"] == f"T-{ticket['id']:06d}"
    assert ticket["source"] == "customer" and ticket["status"] == "open"
    assert (ticket["customer_id"], ticket["site_id"]) == (farm["A"], farm["S1"])
    assert ticket["zone_id"] == farm["Z1"] and ticket["miner_ids"] == [farm["a1"]]
    assert "assignee_id" not in ticket  # staff fields are not shown to customers
    assert [c["body"] for c in ticket["comments"]] == ["Fan 2 makes a noise"]
    assert ticket["sla"]["response"]["state"] == "ok"
    assert audit_tags(engine, "hosting:ticket:") == ["hosting:ticket:open"]
    # The customer's list holds it; the operator sees it with its staff fields.
    listed = people["customer"].get(TICKETS).json
    assert [t["id"] for t in listed["items"]] == [ticket["id"]]
    seen = people["operator"].get(f"{TICKETS}/{ticket['id']}").json
    assert seen["assignee_id"] is None and seen["customer_id"] == farm["A"]


def test_a_customer_cannot_link_a_foreign_miner_or_see_foreign_tickets(people, engine, farm):
    answer = post(
        people["customer"],
        TICKETS,
        {"title": "x", "category": "fan", "miner_ids": [farm["b1"]]},
        422,
    ).json
    assert answer["error"]["code"] == "invalid_ticket"
    assert "no such miner" in answer["error"]["message"]
    assert count(engine, Ticket) == 0
    mixed = {"title": "x", "category": "fan", "miner_ids": [farm["a1"], farm["b1"]]}
    post(people["customer"], TICKETS, mixed, 422)
    assert count(engine, Ticket) == 0

    foreign = new_ticket(people["other"], [farm["b1"]])
    people["customer"].get(f"{TICKETS}/{foreign['id']}", status=404)
    people["customer"].get(f"/hosting/tickets/{foreign['id']}/", headers=JSON, status=404)
    post(people["customer"], f"{TICKETS}/{foreign['id']}/comments", {"body": "hi"}, 404)
    assert people["customer"].get(TICKETS).json["total"] == 0


def test_operators_open_for_any_miner_but_not_across_customers_or_sites(people, engine, farm):
    ticket = new_ticket(people["operator"], [farm["a1"], farm["a2"]], priority="urgent")
    assert ticket["source"] == "operator" and ticket["customer_id"] == farm["A"]
    assert ticket["first_response_at"] is not None  # staff opened it: nobody waits
    answer = post(
        people["operator"],
        TICKETS,
        {"title": "x", "category": "fan", "miner_ids": [farm["a1"], farm["b1"]]},
        422,
    )
    assert "different customers" in answer.json["error"]["message"]
    bad = [
        ({"title": "", "category": "fan"}, "title"),
        ({"title": "x", "category": "smoke"}, "category"),
        ({"title": "x", "category": "fan", "priority": "asap"}, "priority"),
        ({"title": "x", "category": "fan", "miner_ids": "1"}, "miner_ids"),
        ({"title": "x", "category": "fan", "colour": "red"}, "colour"),
    ]
    for body, field in bad:
        answer = post(people["operator"], TICKETS, body, 422).json
        assert field in answer["error"]["message"], body
    assert count(engine, Ticket) == 1


def test_internal_comments_never_reach_the_customer(people, engine, farm):
    ticket = new_ticket(people["customer"], [farm["a1"]])
    path = f"{TICKETS}/{ticket['id']}"
    post(people["operator"], path + "/comments", {"body": "PSU is weak", "internal": True}, 201)
    post(people["operator"], path + "/comments", {"body": "We are on it"}, 201)
    post(people["operator"], path + "/assign", {"assignee_id": people["operator_id"]}, 200)
    seen = people["customer"].get(path).json
    assert [c["body"] for c in seen["comments"]] == ["Fan 2 makes a noise", "We are on it"]
    assert all(not e["internal"] for e in seen["events"])  # the assignment is internal
    listed = people["customer"].get(path + "/comments").json["items"]
    assert "PSU is weak" not in json.dumps(listed)
    page = people["customer"].get(f"/hosting/tickets/{ticket['id']}/")
    assert "PSU is weak" not in page.text and "We are on it" in page.text
    assert "PSU is weak" in people["operator"].get(f"/hosting/tickets/{ticket['id']}/").text
    # A customer cannot write an internal note.
    answer = post(people["customer"], path + "/comments", {"body": "x", "internal": True}, 403)
    assert answer.json["error"]["message"]
    assert count(engine, TicketComment) == 3


# --- workflow ------------------------------------------------------------------------------------


def test_the_workflow_moves_legally_and_refuses_illegal_moves(people, engine, farm):
    ticket = new_ticket(people["customer"], [farm["a1"]])
    path = f"{TICKETS}/{ticket['id']}"
    op, cust = people["operator"], people["customer"]
    assert post(op, path + "/status", {"status": "in_progress"}, 200).json["first_response_at"]
    body = post(op, path + "/status", {"status": "waiting_customer"}, 200).json
    assert body["paused"] is True and body["sla"]["resolution"]["state"] == "paused"
    # The customer answers: back to work by itself, the clock runs again.
    post(cust, path + "/comments", {"body": "Here is the photo"}, 201)
    assert op.get(path).json["status"] == "in_progress"
    # A customer may not resolve; staff may; closed cannot go back to resolved.
    refused = post(cust, path + "/status", {"status": "resolved"}, 409).json
    assert refused["error"]["code"] == "illegal_transition"
    assert "allowed" in refused["error"]["message"]
    post(op, path + "/status", {"status": "resolved", "note": "fan replaced"}, 200)
    # The customer reopens its resolved ticket, staff resolves and closes it.
    assert post(cust, path + "/status", {"status": "open"}, 200).json["resolved_at"] is None
    post(op, path + "/status", {"status": "resolved"}, 200)
    post(op, path + "/status", {"status": "closed"}, 200)
    answer = post(op, path + "/status", {"status": "resolved"}, 409).json
    assert "closed" in answer["error"]["message"]
    post(op, path + "/status", {"status": "done"}, 422)
    with engine.connect() as conn:
        moves = conn.execute(
            sa.select(TicketEvent.from_value, TicketEvent.to_value)
            .where(TicketEvent.kind == "status")
            .order_by(TicketEvent.id)
        ).all()
    assert [tuple(m) for m in moves] == [
        ("open", "in_progress"),
        ("in_progress", "waiting_customer"),
        ("waiting_customer", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "open"),
        ("open", "resolved"),
        ("resolved", "closed"),
    ]
    assert audit_tags(engine, "hosting:ticket:status").count("hosting:ticket:status") == 7
    # A closed ticket takes no more customer comments.
    post(cust, path + "/comments", {"body": "one more thing"}, 409)


def test_the_sla_job_flags_missed_targets(people, engine, farm, dbsession):
    ticket = new_ticket(people["customer"], [farm["a1"]], priority="urgent")
    registry = people["registry"]
    opened = dbsession.get(Ticket, ticket["id"]).created_at
    assert run_in_request(registry, check_breaches, now=opened + dt.timedelta(minutes=59)) == 0
    assert run_in_request(registry, check_breaches, now=opened + dt.timedelta(minutes=61)) == 1
    seen = people["operator"].get(f"{TICKETS}/{ticket['id']}").json
    assert seen["response_breached"] and not seen["resolution_breached"]
    listed = people["operator"].get(TICKETS, {"breached": "1"}).json
    assert [t["id"] for t in listed["items"]] == [ticket["id"]]


# --- bulk ----------------------------------------------------------------------------------------


def test_bulk_actions_are_all_or_nothing(people, engine, farm):
    op = people["operator"]
    ids = [new_ticket(op, [farm["a1"]])["id"] for _ in range(3)]
    post(op, f"{TICKETS}/{ids[2]}/status", {"status": "closed"}, 200)
    # Resolving a closed ticket is illegal: nothing changes, the refusal names it.
    answer = post(
        op, TICKETS + "/bulk", {"ids": ids, "action": "status", "status": "resolved"}, 409
    ).json
    assert f"T-{ids[2]:06d}" in answer["error"]["message"]
    assert count(engine, Ticket, Ticket.status == "resolved") == 0
    answer = post(op, TICKETS + "/bulk", {"ids": [*ids[:2], 999999], "action": "close"}, 409)
    assert "no such ticket" in answer.json["error"]["message"]
    assert count(engine, Ticket, Ticket.status == "closed") == 1
    # Customers are not staff: bulk-assigning to one is refused.
    answer = post(
        op,
        TICKETS + "/bulk",
        {"ids": ids[:2], "action": "assign", "assignee_id": people["customer_id"]},
        422,
    )
    assert "staff" in answer.json["error"]["message"]
    done = post(
        op,
        TICKETS + "/bulk",
        {"ids": ids[:2], "action": "assign", "assignee_id": people["operator_id"]},
        200,
    )
    assert {t["assignee_id"] for t in done.json["items"]} == {people["operator_id"]}
    post(op, TICKETS + "/bulk", {"ids": ids[:2], "action": "close", "note": "batch"}, 200)
    assert count(engine, Ticket, Ticket.status == "closed") == 3
    post(people["customer"], TICKETS + "/bulk", {"ids": ids, "action": "close"}, 403)
    # The page form does the same.
    page = op.post(
        "/hosting/tickets/bulk",
        {
            "ids": [str(i) for i in ids],
            "action": "status",
            "status": "in_progress",
            "csrf_token": api_headers(op)["X-CSRF-Token"],
        },
        status=409,
    )
    assert "T-" in page.text
    assert count(engine, Ticket, Ticket.status == "closed") == 3


# --- attachments ------------------------------------------------------------------------------


def test_images_are_attached_checked_by_content_and_served_in_scope(people, engine, farm):
    ticket = new_ticket(people["customer"], [farm["a1"]])
    path = f"{TICKETS}/{ticket['id']}/attachments"
    cust = people["customer"]
    made = cust.post(
        path, upload_files=[("file", "photo.png", PNG)], headers=api_headers(cust), status=201
    ).json
    assert made["content_type"] == "image/png" and made["size"] == len(PNG)
    served = cust.get(f"/api/v1/hosting/ticket-attachments/{made['id']}")
    assert served.content_type == "image/png" and served.body == PNG
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    people["other"].get(f"/api/v1/hosting/ticket-attachments/{made['id']}", status=404)
    people["other"].get(f"/hosting/tickets/files/{made['id']}", headers=JSON, status=404)
    # A script named .png is not an image; neither is an empty file.
    refused = cust.post(
        path,
        upload_files=[("file", "evil.png", b"<script>alert(1)</script>")],
        headers=api_headers(cust),
        status=415,
    ).json
    assert "PNG" in refused["error"]["message"]
    cust.post(
        path, upload_files=[("file", "empty.png", b"")], headers=api_headers(cust), status=415
    )
    cust.post(path, {"note": "no file"}, headers=api_headers(cust), status=422)
    assert count(engine, TicketAttachment) == 1


def test_a_too_large_image_is_refused_and_nothing_is_written(make_app, engine, farm):
    app, _registry = make_app(hosting__tickets__max_attachment_bytes="1000")
    operator, _ = client(app, engine, "operator")
    ticket = new_ticket(operator, [farm["a1"]])
    big = PNG + b"\x00" * 1000
    answer = operator.post(
        f"{TICKETS}/{ticket['id']}/attachments",
        upload_files=[("file", "big.png", big)],
        headers=api_headers(operator),
        status=413,
    ).json
    assert "KiB" in answer["error"]["message"]
    # The page form: ticket and photo in one go, refused whole.
    page = operator.post(
        "/hosting/tickets/new",
        {
            "title": "Hot",
            "category": "overheating",
            "priority": "normal",
            "miner_ids": str(farm["a2"]),
            "csrf_token": api_headers(operator)["X-CSRF-Token"],
        },
        upload_files=[("file", "big.png", big)],
        status=413,
    )
    assert "KiB" in page.text
    assert count(engine, TicketAttachment) == 0
    assert count(engine, Ticket) == 1


# --- alerts open tickets ----------------------------------------------------------------------


def heat(dbsession, farm, *names):
    now = utcnow()
    dbsession.execute(sa.delete(TelemetryLive))
    for name in ("a1", "a2", "b1"):
        miner = dbsession.get(Miner, farm[name])
        dbsession.add(
            TelemetryLive(
                miner_id=miner.id,
                ts=now,
                site_id=miner.site_id,
                zone_id=miner.zone_id,
                customer_id=miner.customer_id,
                online=True,
                hashrate_ths=95.0,
                nominal_ths=95.0,
                temp_max_c=95.0 if name in names else 70.0,
                fans_failed=0,
                boards_total=3,
                boards_ok=3,
                pool_url="",
                error_class="",
            )
        )
    dbsession.commit_now()


def test_alerts_open_one_ticket_per_incident(people, engine, farm, dbsession):
    registry = people["registry"]
    admin, _ = client(TestApp(people["operator"].app), engine, "admin")
    rule = post(
        admin,
        "/api/v1/hosting/alert-rules",
        {
            "name": "Hot",
            "kind": "high_temp",
            "threshold": 85,
            "for_minutes": 0,
            "clear_minutes": 0,
            "severity": "critical",
            "open_ticket": True,
        },
        201,
    ).json
    assert rule["open_ticket"] is True

    def evaluate(*hot):
        heat(dbsession, farm, *hot)
        run_in_request(registry, evaluate_and_notify, now=utcnow())

    evaluate("a1")
    evaluate()  # cleared
    evaluate("a1")  # a second alert, same rule and miner: same incident
    evaluate("a1")  # still the same alert: nothing new
    tickets = people["operator"].get(TICKETS).json["items"]
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket["source"] == "alert" and ticket["category"] == "overheating"
    assert ticket["priority"] == "high" and ticket["customer_id"] == farm["A"]
    assert ticket["miner_ids"] == [farm["a1"]]
    assert ticket["incident_key"] == f"{rule['id']}:miner:{farm['a1']}"
    comments = people["operator"].get(f"{TICKETS}/{ticket['id']}").json["comments"]
    assert [c["internal"] for c in comments] == [False, True]
    # The customer sees the ticket about its miner, but not the staff's alert notes.
    seen = people["customer"].get(f"{TICKETS}/{ticket['id']}").json
    assert len(seen["comments"]) == 1

    evaluate("a2")  # another miner: its own incident
    assert people["operator"].get(TICKETS).json["total"] == 2
    # Once the incident's ticket is resolved, the next alert opens a new one.
    post(people["operator"], f"{TICKETS}/{ticket['id']}/status", {"status": "resolved"}, 200)
    evaluate()
    evaluate("a1")
    assert count(engine, Ticket, Ticket.alert_rule_id == rule["id"]) == 3
    assert count(engine, Ticket, Ticket.incident_key == ticket["incident_key"]) == 2
    # Reopening the old one does not steal the incident from the new one.
    post(people["operator"], f"{TICKETS}/{ticket['id']}/status", {"status": "open"}, 200)
    evaluate()
    evaluate("a1")
    assert count(engine, Ticket) == 3


# --- repair log -------------------------------------------------------------------------------


def test_the_repair_log_follows_the_miner_status(people, engine, farm):
    op = people["operator"]
    ticket = new_ticket(people["customer"], [farm["a1"]])
    repairs = f"/api/v1/hosting/miners/{farm['a1']}/repairs"
    answer = post(op, repairs, {"kind": "rma_sent"}, 422).json
    assert "rma_number" in answer["error"]["message"]
    entry = post(
        op,
        repairs,
        {
            "kind": "rma_sent",
            "rma_number": "RMA-7",
            "ticket_id": ticket["id"],
            "note": "board 2 dead",
        },
        201,
    ).json
    assert entry["miner_status"] == "rma" and entry["ticket_number"] == ticket["number"]
    with engine.connect() as conn:
        moves = conn.execute(
            sa.select(MinerEvent.from_value, MinerEvent.to_value)
            .where(MinerEvent.miner_id == farm["a1"], MinerEvent.kind == "status")
            .order_by(MinerEvent.id)
        ).all()
    assert [tuple(m) for m in moves] == [("online", "maintenance"), ("maintenance", "rma")]
    post(op, repairs, {"kind": "rma_returned", "rma_number": "RMA-7"}, 201)
    post(
        op,
        repairs,
        {
            "kind": "part_swap",
            "part": "fan 2",
            "old_serial": "F1",
            "new_serial": "F2",
            "miner_status": "online",
        },
        201,
    )
    # A move the lifecycle refuses refuses the entry too.
    answer = post(op, repairs, {"kind": "repair", "miner_status": "received"}, 422).json
    assert "cannot go from online to received" in answer["error"]["message"]
    with engine.connect() as conn:
        assert conn.scalar(sa.select(Miner.status).where(Miner.id == farm["a1"])) == "online"
    assert count(engine, RepairEntry) == 3
    # The customer reads its miner's log (and the ticket), may not write it.
    log = people["customer"].get(repairs).json
    assert [r["kind"] for r in log["repairs"]] == ["part_swap", "rma_returned", "rma_sent"]
    assert [t["id"] for t in log["tickets"]] == [ticket["id"]]
    post(people["customer"], repairs, {"kind": "note", "note": "x"}, 403)
    people["other"].get(repairs, status=404)
    page = people["customer"].get(f"/hosting/miners/{farm['a1']}/")
    assert "RMA-7" in page.text and ticket["number"] in page.text
    assert f"/hosting/tickets/new?miner_id={farm['a1']}" in page.text
    events = people["customer"].get(f"{TICKETS}/{ticket['id']}").json["events"]
    assert "repair" in [e["kind"] for e in events]


# --- e-mail -----------------------------------------------------------------------------------


def test_mail_goes_after_commit_to_the_right_people(people, engine, farm):
    outbox, op, cust = people["outbox"], people["operator"], people["customer"]
    ticket = new_ticket(cust, [farm["a1"]])
    path = f"{TICKETS}/{ticket['id']}"
    assert outbox == []  # nobody is assigned yet
    post(op, path + "/assign", {"assignee_id": people["operator_id"]}, 200)
    assert outbox == []  # assigning oneself mails nobody
    post(cust, path + "/comments", {"body": "Any news?"}, 201)
    assert [m.recipients for m in outbox] == [["olga@farm.example"]]
    assert "Any news?" in outbox[0].body and ticket["number"] in outbox[0].subject
    outbox.clear()
    post(op, path + "/comments", {"body": "Checking the PSU", "internal": True}, 201)
    assert outbox == []  # internal notes are never mailed
    post(op, path + "/comments", {"body": "Fan ordered"}, 201)
    assert [m.recipients for m in outbox] == [["ann@alpha.example"]]
    assert "Fan ordered" in outbox[0].body and "Checking the PSU" not in outbox[0].body
    outbox.clear()
    post(op, path + "/status", {"status": "waiting_parts"}, 200)
    assert [m.recipients for m in outbox] == [["ann@alpha.example"]]
    outbox.clear()
    # A refused change sends nothing.
    post(cust, path + "/status", {"status": "closed"}, 409)
    post(op, TICKETS + "/bulk", {"ids": [ticket["id"], 424242], "action": "close"}, 409)
    assert outbox == []


# --- pages ------------------------------------------------------------------------------------


def test_pages_list_show_and_open_tickets(people, engine, farm):
    cust, op = people["customer"], people["operator"]
    form = cust.get(f"/hosting/tickets/new?miner_id={farm['a1']}")
    assert "A1-SN" in form.text
    # A foreign miner in the address is not shown (and would be refused).
    assert "B1-SN" not in cust.get(f"/hosting/tickets/new?miner_id={farm['b1']}").text
    created = cust.post(
        "/hosting/tickets/new",
        {
            "title": "Loud fan",
            "category": "fan",
            "priority": "normal",
            "body": "very loud",
            "miner_ids": str(farm["a1"]),
            "csrf_token": api_headers(cust)["X-CSRF-Token"],
        },
        upload_files=[("file", "fan.png", PNG)],
        status=303,
    )
    detail = cust.get(created.location)
    assert "Loud fan" in detail.text and "fan.png" in detail.text
    assert "Internal note" not in detail.text
    ticket_id = int(created.location.rstrip("/").rsplit("/", 1)[-1])
    listing = op.get("/hosting/tickets/")
    assert "Loud fan" in listing.text and 'name="ids"' in listing.text
    assert 'name="ids"' not in cust.get("/hosting/tickets/").text
    staff_page = op.get(f"/hosting/tickets/{ticket_id}/")
    assert "Internal note" in staff_page.text
    op.post(
        f"/hosting/tickets/{ticket_id}/status",
        {"status": "in_progress", "csrf_token": api_headers(op)["X-CSRF-Token"]},
        status=303,
    )
    refused = cust.post(
        f"/hosting/tickets/{ticket_id}/status",
        {"status": "closed", "csrf_token": api_headers(cust)["X-CSRF-Token"]},
        status=409,
    )
    assert "cannot go from" in refused.text
    assert count(engine, Ticket, Ticket.status == "in_progress") == 1


def test_mail_respects_preferences_and_carries_the_customers_brand(people, farm, monkeypatch):
    """The portal's ``wants_mail`` and the brands' ``brand_for_customer`` are asked."""
    import plugins.hosting.brands as brands
    import plugins.hosting.portal as portal

    asked = []

    def wants(request, user_id, topic):
        asked.append(topic)
        return user_id != people["customer_id"]  # Ann turned ticket mail off

    monkeypatch.setattr(portal, "wants_mail", wants)
    monkeypatch.setattr(
        brands,
        "brand_for_customer",
        lambda request, customer_id: {
            **request.brand,
            "name": f"Brand of {customer_id}",
            "support_email": "help@brand.example",
        },
    )
    outbox, op = people["outbox"], people["operator"]
    ticket = new_ticket(op, [farm["a1"]])
    assert outbox == [] and asked == ["tickets"]  # Ann said no
    post(op, f"{TICKETS}/{ticket['id']}/assign", {"assignee_id": people["operator_id"]}, 200)
    monkeypatch.setattr(portal, "wants_mail", lambda request, user_id, topic: True)
    post(op, f"{TICKETS}/{ticket['id']}/comments", {"body": "Fan ordered"}, 201)
    assert [m.recipients for m in outbox] == [["ann@alpha.example"]]
    assert f"Brand of {farm['A']}" in outbox[0].body
