"""Portal Lite API for customers (API tokens, only their own miners and commands) and the
legacy /api/remote adapter (same operations, old shapes, Deprecation/Sunset/Link on every
answer)."""

# The farm, people and app fixtures are shared with test_controlplane.py (imported below), so
# test parameters "redefine" them by design.
# ruff: noqa: F811

from __future__ import annotations

import sqlalchemy as sa
from webtest import TestApp

from hashinsight_core.db import utcnow
from tests.conftest import api_headers, login
from tests.functional.test_api_tokens import make_token
from tests.functional.test_controlplane import (  # noqa: F401 - fixtures
    API,
    Person,
    app,
    farm,
    key,
    people,
)

PORTAL = "/api/v1/portal"
SCOPES = [
    "hosting:miner:read",
    "controlplane:command:read",
    "controlplane:command:request",
    "controlplane:command:approve",
]


def token_client(app, engine, customer_id):
    client = TestApp(app.app, extra_environ=dict(app.extra_environ))
    login(client, engine, "customer", customer_id=customer_id)
    token, _ = make_token(client, SCOPES)
    assert token
    bare = TestApp(app.app, extra_environ=dict(app.extra_environ))  # no cookie: the token only
    bare.authorization = ("Bearer", token)
    return bare


def test_a_customer_token_lists_only_its_own_miners_with_live_status(app, engine, farm):
    from plugins.hosting.telemetry.models import TelemetryLive

    with engine.begin() as conn:
        conn.execute(
            sa.insert(TelemetryLive).values(
                miner_id=farm["miners"]["M1"],
                ts=utcnow(),
                site_id=farm["sites"]["A"],
                zone_id=farm["zones"]["A1"],
                customer_id=farm["customers"]["acme"],
                online=True,
                hashrate_ths=98.5,
                uptime_s=100,
                pool_url="",
                error_class="",
            )
        )
    client = token_client(app[0], engine, farm["customers"]["acme"])
    page = client.get(f"{PORTAL}/miners").json
    assert page["total"] == 2 and {m["serial"] for m in page["items"]} == {"SNM1", "SNM3"}
    m1 = next(m for m in page["items"] if m["serial"] == "SNM1")
    assert m1["live"]["hashrate_ths"] == 98.5
    assert client.get(f"{PORTAL}/miners", {"model": "S21"}).json["total"] == 1
    assert client.get(f"{PORTAL}/miners", {"limit": 1, "offset": 1}).json["items"][0]["id"]
    client.get(f"{PORTAL}/miners", {"limit": "many"}, status=400)
    client.get(f"{PORTAL}/miners/{farm['miners']['M5']}", status=404)  # Beta's
    assert client.get(f"{PORTAL}/miners/{farm['miners']['M1']}").json["live"]["online"]
    history = client.get(f"{PORTAL}/miners/{farm['miners']['M1']}/telemetry").json
    assert history == {"miner_id": farm["miners"]["M1"], "hours": 24, "points": []}
    client.get(f"{PORTAL}/miners/{farm['miners']['M1']}/telemetry", {"hours": 0}, status=422)
    zones = client.get(f"{PORTAL}/zones").json["items"]
    assert sorted((z["name"], z["miners"], z["online"]) for z in zones) == [
        ("A1", 1, 1),
        ("A2", 1, 0),
    ]


def test_a_customer_asks_approves_and_follows_commands_through_the_portal(
    app, engine, farm, people
):
    acme = token_client(app[0], engine, farm["customers"]["acme"])
    body = {
        "site_id": farm["sites"]["A"],
        "command_type": "reboot",
        "miner_ids": [farm["miners"]["M1"]],
        "reason": "stuck",
    }
    created = acme.post_json(f"{PORTAL}/commands", body, status=201).json
    assert created["status"] == "PENDING_APPROVAL"
    foreign = {**body, "miner_ids": [farm["miners"]["M5"]]}
    acme.post_json(f"{PORTAL}/commands", foreign, status=422)
    acme.post_json(f"{PORTAL}/commands", {**body, "colour": 1}, status=400)
    # Its own request is not waiting for its approval.
    assert acme.get(f"{PORTAL}/approvals").json["total"] == 0
    # An operator asks for a reboot of Acme's miner: Acme's approval is needed.
    asked = people["operator"].post(
        API,
        {
            "site_id": farm["sites"]["A"],
            "command_type": "reboot",
            "target": {"miner_ids": [farm["miners"]["M3"]]},
        },
        status=201,
    )
    waiting = acme.get(f"{PORTAL}/approvals").json
    assert [c["id"] for c in waiting["items"]] == [asked["id"]]
    done = acme.post_json(f"{PORTAL}/approvals/{asked['id']}/approve", {}).json
    assert [a["role"] for a in done["approvals"]] == ["customer"]
    assert acme.get(f"{PORTAL}/approvals").json["total"] == 0
    listed = acme.get(f"{PORTAL}/commands").json
    assert sorted(c["id"] for c in listed["items"]) == sorted([created["id"], asked["id"]])
    assert acme.get(f"{PORTAL}/commands/{created['id']}").json["targets"][0]["serial"] == "SNM1"
    beta_target = {"miner_ids": [farm["miners"]["M5"]]}
    beta_cmd = people["owner"].post(
        API,
        {"site_id": farm["sites"]["A"], "command_type": "wake", "target": beta_target},
        status=201,
    )
    acme.get(f"{PORTAL}/commands/{beta_cmd['id']}", status=404)
    acme.post_json(f"{PORTAL}/approvals/{beta_cmd['id']}/reject", {"reason": "x"}, status=404)


def test_a_customer_opens_follows_and_answers_tickets_through_the_portal(app, engine, farm, people):
    webapp, registry = app
    acme = farm["customers"]["acme"]
    client = TestApp(webapp.app, extra_environ=dict(webapp.extra_environ))
    login(client, engine, "customer", customer_id=acme)
    token, _ = make_token(client, ["hosting:ticket:read", "hosting:ticket:open"])
    bare = TestApp(webapp.app, extra_environ=dict(webapp.extra_environ))
    bare.authorization = ("Bearer", token)

    opened = bare.post_json(
        f"{PORTAL}/tickets",
        {
            "title": "Keeps rebooting",
            "category": "psu",
            "priority": "high",
            "body": "since this morning",
            "miner_ids": [farm["miners"]["M1"]],
        },
        status=201,
    ).json
    assert opened["status"] == "open" and opened["miner_ids"] == [farm["miners"]["M1"]]
    assert [c["body"] for c in opened["comments"]] == ["since this morning"]
    # Another customer's miner, a field the API does not know, a missing title: refused.
    bare.post_json(
        f"{PORTAL}/tickets",
        {"title": "x", "category": "fan", "miner_ids": [farm["miners"]["M5"]]},
        status=422,
    )
    bare.post_json(
        f"{PORTAL}/tickets", {"title": "x", "category": "fan", "assignee_id": 1}, status=400
    )
    bare.post_json(f"{PORTAL}/tickets", {"category": "fan"}, status=400)

    # Beta's ticket stays Beta's.
    beta = people["beta"].post(
        "/api/v1/hosting/tickets",
        {"title": "Fan", "category": "fan", "miner_ids": [farm["miners"]["M5"]]},
        status=201,
    )
    bare.get(f"{PORTAL}/tickets/{beta['id']}", status=404)
    bare.post_json(f"{PORTAL}/tickets/{beta['id']}/comments", {"body": "hi"}, status=404)

    # Staff answer: the customer sees the reply, never the internal note.
    ticket_path = f"/api/v1/hosting/tickets/{opened['id']}"
    people["operator"].post(
        f"{ticket_path}/comments", {"body": "PSU swap planned", "internal": True}, status=201
    )
    people["operator"].post(f"{ticket_path}/comments", {"body": "We are on it"}, status=201)
    people["operator"].post(f"{ticket_path}/status", {"status": "waiting_customer"})
    detail = bare.get(f"{PORTAL}/tickets/{opened['id']}").json
    assert [c["body"] for c in detail["comments"]] == ["since this morning", "We are on it"]
    assert detail["status"] == "waiting_customer"

    # The customer's answer puts it back to work; internal notes cannot be sent from here.
    bare.post_json(
        f"{PORTAL}/tickets/{opened['id']}/comments", {"body": "ok", "internal": True}, status=400
    )
    bare.post_json(f"{PORTAL}/tickets/{opened['id']}/comments", {"body": "Thanks"}, status=201)
    assert bare.get(f"{PORTAL}/tickets/{opened['id']}").json["status"] == "in_progress"

    page = bare.get(f"{PORTAL}/tickets").json
    assert [t["id"] for t in page["items"]] == [opened["id"]] and page["total"] == 1
    assert bare.get(f"{PORTAL}/tickets", {"status": "closed"}).json["total"] == 0
    bare.get(f"{PORTAL}/tickets", {"status": "lost"}, status=400)


def test_portal_needs_a_login_or_token(app):
    TestApp(app[0].app).get(f"{PORTAL}/miners", status=401)


# --- the legacy /api/remote adapter ---------------------------------------------------------


def check_deprecated(response, successor):
    assert response.headers["Deprecation"].startswith("@")
    assert response.headers["Sunset"].endswith("GMT")
    assert f'<{successor}>; rel="successor-version"' in response.headers["Link"]


def test_remote_adapter_maps_onto_the_services_with_deprecation_headers(app, engine, farm, people):
    client = people["operator"].client
    headers = api_headers(client)
    listed = client.get("/api/remote/miners")
    check_deprecated(listed, "/api/v1/portal/miners")
    assert listed.json["success"] is True and len(listed.json["miners"]) == 5
    created = client.post_json(
        "/api/remote/commands",
        {"command": "sleep", "miner_id": farm["miners"]["M1"], "site_id": farm["sites"]["A"]},
        headers=headers,
        status=201,
    )
    check_deprecated(created, "/api/v1/portal/commands")
    command = created.json["command"]
    assert created.json["success"] is True and command["status"] == "PENDING_APPROVAL"
    bad = client.post_json(
        "/api/remote/commands",
        {"command": "explode", "miner_id": farm["miners"]["M1"], "site_id": farm["sites"]["A"]},
        headers=headers,
        status=422,
    )
    assert bad.json["success"] is False and "command_type" in bad.json["error"]
    check_deprecated(bad, "/api/v1/portal/commands")
    own = client.post_json(f"/api/remote/commands/{command['id']}/approve", {}, headers=headers,
                           status=403)  # fmt: skip
    assert own.json == {
        "success": False,
        "error": "no one approves or rejects their own request",
        "code": "forbidden",
    }
    admin = people["admin"].client
    approved = admin.post_json(
        f"/api/remote/commands/{command['id']}/approve", {}, headers=api_headers(admin)
    )
    assert approved.json["command"]["status"] == "APPROVED"
    got = client.get(f"/api/remote/commands/{command['id']}")
    assert got.json["command"]["status"] == "APPROVED"
    cancelled = client.post_json(
        f"/api/remote/commands/{command['id']}/cancel", {"reason": "later"}, headers=headers
    )
    assert cancelled.json["command"]["status"] == "CANCELLED"
    assert [c["id"] for c in client.get("/api/remote/commands").json["commands"]] == [command["id"]]
    missing = client.get("/api/remote/commands/999999", status=404)
    check_deprecated(missing, "/api/v1/portal/commands")
    anonymous = TestApp(app[0].app).get("/api/remote/miners", status=401)
    check_deprecated(anonymous, "/api/v1/portal/miners")


def test_the_sunset_date_comes_from_the_settings(make_app, engine, farm):
    webapp, _ = make_app(controlplane__remote_sunset_on="2028-01-31")
    owner = Person(webapp, engine, "owner")
    response = owner.client.get("/api/remote/commands")
    assert response.headers["Sunset"] == "Mon, 31 Jan 2028 00:00:00 GMT"
