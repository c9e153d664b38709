"""Removing an image from a ticket: the account that added it or staff may; the file and its
row go, the history (visible to the customer when the file was) and the audit log keep the
trace; another customer's file is 404, staff's or someone else's file 403 for a customer, and
nothing is removed from a closed ticket (409)."""

# The farm fixture is the alerts tests' (imported below), so test parameters "redefine" it.
# ruff: noqa: F811

from __future__ import annotations

import json

import sqlalchemy as sa

from hashinsight_core.audit.models import AuditEvent
from hashinsight_core.models import Membership
from plugins.hosting.tickets.models import TicketAttachment, TicketEvent
from tests.conftest import api_headers
from tests.functional.test_alerts import farm  # noqa: F401 - the same two-customer farm
from tests.functional.test_tickets import (  # noqa: F401
    JSON,
    PNG,
    TICKETS,
    client,
    count,
    new_ticket,
    people,
    post,
)

FILES = "/api/v1/hosting/ticket-attachments"


def attach(app, ticket_id, *, internal=False, name="photo.png"):
    data = {"internal": "1"} if internal else {}
    return app.post(
        f"{TICKETS}/{ticket_id}/attachments",
        data,
        upload_files=[("file", name, PNG)],
        headers=api_headers(app),
        status=201,
    ).json


def delete(app, file_id, status):
    return app.delete(f"{FILES}/{file_id}", headers=api_headers(app), status=status)


def detach_events(engine, ticket_id):
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(TicketEvent.from_value, TicketEvent.internal, TicketEvent.actor_id)
                .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "detach")
                .order_by(TicketEvent.id)
            )
        )


def detach_audits(engine):
    with engine.connect() as conn:
        rows = list(
            conn.execute(
                sa.select(AuditEvent.actor_id, AuditEvent.payload)
                .where(AuditEvent.tag == "hosting:ticket:detach")
                .order_by(AuditEvent.seq)
            )
        )
    return [(actor, json.loads(payload)) for actor, payload in rows]


def test_the_uploader_removes_its_image_and_the_trace_stays(people, engine, farm):
    cust = people["customer"]
    ticket = new_ticket(cust, [farm["a1"]])
    made = attach(cust, ticket["id"])
    kept = attach(cust, ticket["id"], name="second.png")
    assert delete(cust, made["id"], 204).body == b""
    # The row and the image it holds are gone; the other file is untouched.
    assert count(engine, TicketAttachment, TicketAttachment.id == made["id"]) == 0
    cust.get(f"{FILES}/{made['id']}", status=404)
    assert cust.get(f"{FILES}/{kept['id']}").body == PNG
    # History the customer sees, and the audit log.
    assert detach_events(engine, ticket["id"]) == [("photo.png", False, people["customer_id"])]
    history = cust.get(f"{TICKETS}/{ticket['id']}").json["events"]
    assert [e["from"] for e in history if e["kind"] == "detach"] == ["photo.png"]
    [(actor, payload)] = detach_audits(engine)
    assert actor == str(people["customer_id"])  # audit actors are text
    assert payload["attachment"] == made["id"] and payload["filename"] == "photo.png"
    assert payload["sha256"] == made["sha256"] and payload["internal"] is False
    # Twice: it is gone.
    delete(cust, made["id"], 404)
    assert [f["id"] for f in cust.get(f"{TICKETS}/{ticket['id']}/attachments").json["items"]] == [
        kept["id"]
    ]


def test_who_may_remove_what(people, engine, farm):
    cust, op, other = people["customer"], people["operator"], people["other"]
    ticket = new_ticket(cust, [farm["a1"]])
    mine = attach(cust, ticket["id"])
    staff_file = attach(op, ticket["id"], name="staff.png")
    internal = attach(op, ticket["id"], internal=True, name="internal.png")
    # Another customer: the file does not exist for it.
    assert delete(other, mine["id"], 404).json["error"]["code"]
    # The customer may not remove staff's files; an internal one does not exist for it.
    refused = delete(cust, staff_file["id"], 403).json
    assert "added this file" in refused["error"]["message"]
    delete(cust, internal["id"], 404)
    # A colleague of the same customer did not add it either.
    colleague, _ = client(op, engine, "customer", farm["A"], "cat@alpha.example")
    delete(colleague, mine["id"], 403)
    # A viewer may look but not remove.
    viewer, _ = client(op, engine, "viewer")
    delete(viewer, mine["id"], 403)
    # An operator limited to the other site does not see the file.
    limited, limited_id = client(op, engine, "operator")
    with sa.orm.Session(engine) as session:
        session.add(Membership(user_id=limited_id, site_id=farm["S2"]))
        session.commit()
    delete(limited, mine["id"], 404)
    assert count(engine, TicketAttachment) == 3 and detach_events(engine, ticket["id"]) == []
    assert detach_audits(engine) == []
    # Staff remove any file: the internal one leaves an internal trace only.
    delete(op, internal["id"], 204)
    delete(op, mine["id"], 204)
    events = detach_events(engine, ticket["id"])
    assert [(name, hidden) for name, hidden, _actor in events] == [
        ("internal.png", True),
        ("photo.png", False),
    ]
    seen = cust.get(f"{TICKETS}/{ticket['id']}").json["events"]
    assert [e["from"] for e in seen if e["kind"] == "detach"] == ["photo.png"]
    assert count(engine, TicketAttachment) == 1
    assert len(detach_audits(engine)) == 2


def test_nothing_is_removed_from_a_closed_ticket(people, engine, farm):
    cust, op = people["customer"], people["operator"]
    ticket = new_ticket(cust, [farm["a1"]])
    made = attach(cust, ticket["id"])
    post(op, f"{TICKETS}/{ticket['id']}/status", {"status": "closed"}, 200)
    for app in (cust, op):
        answer = delete(app, made["id"], 409).json
        assert answer["error"]["code"] == "ticket_closed"
        assert "closed" in answer["error"]["message"]
    page = op.post(
        f"/hosting/tickets/files/{made['id']}/remove",
        {"csrf_token": api_headers(op)["X-CSRF-Token"]},
        status=409,
    )
    assert "closed" in page.html.select_one('[data-testid="ticket-error"]').text
    assert count(engine, TicketAttachment) == 1
    assert detach_events(engine, ticket["id"]) == [] and detach_audits(engine) == []
    # No button on a closed ticket; reopened, staff get it back.
    assert 'data-testid="file-remove"' not in op.get(f"/hosting/tickets/{ticket['id']}/").text
    post(op, f"{TICKETS}/{ticket['id']}/status", {"status": "open"}, 200)
    assert 'data-testid="file-remove"' in op.get(f"/hosting/tickets/{ticket['id']}/").text


def test_the_page_shows_the_button_only_to_those_who_may_use_it(people, engine, farm):
    cust, op = people["customer"], people["operator"]
    ticket = new_ticket(cust, [farm["a1"]])
    mine = attach(cust, ticket["id"])
    staff_file = attach(op, ticket["id"], name="staff.png")
    detail = f"/hosting/tickets/{ticket['id']}/"

    def buttons(app):
        html = app.get(detail).html
        return {
            int(tile["data-file-id"])
            for tile in html.select('[data-testid="file"]')
            if tile.select_one('[data-testid="file-remove"]') is not None
        }

    assert buttons(cust) == {mine["id"]}
    assert buttons(op) == {mine["id"], staff_file["id"]}
    viewer, _ = client(op, engine, "viewer")
    assert buttons(viewer) == set()
    # The form needs its CSRF token.
    path = f"/hosting/tickets/files/{mine['id']}/remove"
    cust.post(path, {}, status=400)
    assert count(engine, TicketAttachment) == 2
    # Refused on the page: the ticket with the reason, nothing removed.
    page = cust.post(
        f"/hosting/tickets/files/{staff_file['id']}/remove",
        {"csrf_token": api_headers(cust)["X-CSRF-Token"]},
        status=403,
    )
    assert "added this file" in page.html.select_one('[data-testid="ticket-error"]').text
    # Allowed: back to the ticket, the file gone, the history says so.
    done = cust.post(path, {"csrf_token": api_headers(cust)["X-CSRF-Token"]}, status=303)
    assert done.location.endswith(detail)
    page = cust.get(detail)
    assert buttons(cust) == set()
    assert "photo.png" in page.html.select_one('[data-testid="ticket-history"]').text
    assert count(engine, TicketAttachment) == 1
    # Another customer's file through the page: 404 like a missing one.
    people["other"].post(
        path.replace(str(mine["id"]), str(staff_file["id"])),
        {"csrf_token": api_headers(people["other"])["X-CSRF-Token"]},
        headers=JSON,
        status=404,
    )
