"""Remote commands end to end through the web app: request, approvals by risk, signed dispatch
to the zone's device, acknowledgements, outcome from telemetry, expiry; who may do what; bad
input writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from webtest import TestApp

from edge_collector import signing as wire_signing
from hashinsight_core.db import utcnow
from hashinsight_core.tasks import run_in_request
from plugins.controlplane.models import Approval, Command, CommandTarget
from plugins.controlplane.services import expire_commands
from plugins.controlplane.signing import write_key_file
from tests.conftest import api_headers, login

API = "/api/v1/controlplane/commands"
PAGE = "/controlplane/commands/"
POLL = "/api/v1/edge/commands"


# --- the farm and its people ----------------------------------------------------------------


@pytest.fixture
def key(tmp_path):
    path = tmp_path / "command-signing.key"
    private = write_key_file(path)
    return path, wire_signing.public_bytes(private)


@pytest.fixture
def app(make_app, key):
    """(TestApp, registry) with a command-signing key."""
    return make_app(controlplane__signing_key_file=str(key[0]))


@pytest.fixture
def farm(dbsession):
    """Site A (zones A1, A2) and site B (B1); customer Acme owns M1 and M3, Beta owns M5."""
    from hashinsight_core.models import Customer
    from plugins.hosting.models import Miner, Site, Zone

    acme, beta = Customer(name="Acme"), Customer(name="Beta")
    a, b = Site(name="Site A"), Site(name="Site B")
    dbsession.add_all([acme, beta, a, b])
    dbsession.flush()
    a1, a2, b1 = (
        Zone(site_id=a.id, name="A1"),
        Zone(site_id=a.id, name="A2"),
        Zone(site_id=b.id, name="B1"),
    )
    dbsession.add_all([a1, a2, b1])
    dbsession.flush()
    miners = {}
    for name, zone, customer, model in (
        ("M1", a1, acme, "S19"),
        ("M2", a1, None, "S19"),
        ("M3", a2, acme, "S21"),
        ("M4", b1, None, "S19"),
        ("M5", a1, beta, "S19"),
    ):
        miner = Miner(
            serial=f"SN{name}",
            miner_key=f"key-{name}",
            model_name=model,
            nominal_ths=100.0,
            site_id=zone.site_id,
            zone_id=zone.id,
            customer_id=customer.id if customer else None,
            status="online",
        )
        dbsession.add(miner)
        miners[name] = miner
    dbsession.flush()
    dbsession.commit_now()
    return {
        "customers": {"acme": acme.id, "beta": beta.id},
        "sites": {"A": a.id, "B": b.id},
        "zones": {"A1": a1.id, "A2": a2.id, "B1": b1.id},
        "miners": {k: m.id for k, m in miners.items()},
    }


class Person:
    def __init__(self, app, engine, role, customer_id=None):
        self.client = TestApp(app.app, extra_environ=dict(app.extra_environ))
        self.email = login(self.client, engine, role, customer_id=customer_id)
        with sa.orm.Session(engine) as session:
            from hashinsight_core.models import User

            self.id = session.scalar(sa.select(User.id).where(User.email == self.email))

    def post(self, path, body=None, status=200):
        return self.client.post_json(
            path, body or {}, headers=api_headers(self.client), status=status
        ).json

    def get(self, path, status=200):
        return self.client.get(path, status=status).json


@pytest.fixture
def people(app, engine, farm):
    webapp = app[0]
    return {
        "owner": Person(webapp, engine, "owner"),
        "admin": Person(webapp, engine, "admin"),
        "operator": Person(webapp, engine, "operator"),
        "operator2": Person(webapp, engine, "operator"),
        "acme": Person(webapp, engine, "customer", farm["customers"]["acme"]),
        "acme2": Person(webapp, engine, "customer", farm["customers"]["acme"]),
        "beta": Person(webapp, engine, "customer", farm["customers"]["beta"]),
        "viewer": Person(webapp, engine, "viewer"),
    }


def register_device(app, engine, zone_id, name="collector") -> str:
    admin = Person(app, engine, "admin")
    created = admin.post(f"/api/v1/hosting/zones/{zone_id}/devices", {"name": name}, status=201)
    return created["token"]


@pytest.fixture
def device(app, engine, farm):
    """The token of an edge device of zone A1."""
    return register_device(app[0], engine, farm["zones"]["A1"])


def poll(app, token, path=POLL, status=200):
    return app.get(path, headers={"Authorization": f"Bearer {token}"}, status=status)


def ack(app, token, target_id, status="completed", path=None, status_code=200, **extra):
    path = path or f"/api/v1/edge/commands/{target_id}/ack"
    body = {"status": status, **extra}
    return app.post_json(
        path, body, headers={"Authorization": f"Bearer {token}"}, status=status_code
    ).json


def ask(person, farm, command_type="reboot", miners=("M1",), params=None, status=201, **extra):
    body = {
        "site_id": farm["sites"]["A"],
        "command_type": command_type,
        "params": params or {},
        "target": {"miner_ids": [farm["miners"][m] for m in miners]},
        **extra,
    }
    return person.post(API, body, status=status)


def audit_tags(engine, command_id) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT tag FROM core_audit_events WHERE subject_type = 'command' "
                "AND subject_id = :id ORDER BY seq"
            ),
            {"id": str(command_id)},
        )
        return [r[0] for r in rows]


def rows(engine, model):
    with sa.orm.Session(engine) as session:
        return list(session.scalars(sa.select(model).order_by(model.id)))


# --- risk levels and approvals --------------------------------------------------------------


def test_low_risk_is_approved_at_once_signed_fetched_acked_and_completed(
    app, engine, farm, people, device, key
):
    webapp = app[0]
    created = ask(people["operator"], farm, "wake", ("M1", "M2"))
    assert created["status"] == "APPROVED" and created["risk"] == "low"
    assert created["required_approvals"] == []
    assert {t["status"] for t in created["targets"]} == {"pending"}
    assert all(t["signed"] for t in created["targets"])

    commands = poll(webapp, device).json["commands"]
    assert sorted(c["miner_key"] for c in commands) == ["key-M1", "key-M2"]
    keys = {wire_signing.key_id(key[1]): key[1]}
    for command in commands:
        wire_signing.verify(command, keys)  # raises if the signature or approvals are off
        assert command["action"] == "wake" and command["site_name"] == "Site A"
    assert people["operator"].get(f"{API}/{created['id']}")["status"] == "DISPATCHED"

    first, second = commands
    assert ack(webapp, device, first["id"], before={"online": True}, after={"online": True}) == {
        "ok": True,
        "duplicate": False,
        "status": "completed",
    }
    assert people["operator"].get(f"{API}/{created['id']}")["status"] == "DISPATCHED"
    ack(webapp, device, second["id"], "skipped", result_message="already awake")
    detail = people["operator"].get(f"{API}/{created['id']}")
    assert detail["status"] == "COMPLETED"
    assert detail["miners"] == {"completed": 1, "skipped": 1}
    assert audit_tags(engine, created["id"]) == [
        "controlplane:command:request",
        "controlplane:command:approved",
        "controlplane:command:dispatched",
        "controlplane:command:deliver",
        "controlplane:command:ack",
        "controlplane:command:ack",
        "controlplane:command:completed",
    ]


def test_medium_risk_needs_one_approval_by_an_approver_role_and_never_the_requester(
    app, farm, people, device
):
    created = ask(people["operator"], farm, "sleep")
    assert created["status"] == "PENDING_APPROVAL" and created["required_approvals"] == ["approver"]
    # Nothing reaches the device before the approval.
    assert poll(app[0], device).json == {"commands": []}
    url = f"{API}/{created['id']}/approve"
    error = people["operator"].post(url, status=403)["error"]
    assert "own request" in error["message"]
    # An operator is not an approver role by default (owner, admin).
    people["operator2"].post(url, status=403)
    approved = people["admin"].post(url, {"reason": "ok"})
    assert approved["status"] == "APPROVED"
    assert [a["role"] for a in approved["approvals"]] == ["admin"]
    people["owner"].post(url, status=409)  # already approved: no second transition
    [command] = poll(app[0], device).json["commands"]
    assert command["approvals"][0]["digest"] == created["digest"]


def test_a_site_can_change_risks_and_approver_roles(app, farm, people):
    site = farm["sites"]["A"]
    url = f"/api/v1/controlplane/sites/{site}/policy"
    assert people["operator"].get(url)["risks"]["sleep"] == "medium"
    people["operator"].client.put_json(
        url, {"risks": {"sleep": "low"}}, headers=api_headers(people["operator"].client), status=403
    )
    admin = people["admin"].client
    changed = admin.put_json(
        url,
        {"risks": {"sleep": "low", "wake": "medium"}, "approver_roles": ["operator"]},
        headers=api_headers(admin),
    ).json
    assert changed["risks"]["sleep"] == "low" and changed["approver_roles"] == ["operator"]
    for bad in ({"risks": {"sleep": "none"}}, {"risks": {"fly": "low"}}, {"approver_roles": []},
                {"allow_unsigned": "yes"}, {"colour": 1}):  # fmt: skip
        admin.put_json(url, bad, headers=api_headers(admin), status=422)
    assert ask(people["operator"], farm, "sleep")["status"] == "APPROVED"
    waiting = ask(people["admin"], farm, "wake")
    assert waiting["status"] == "PENDING_APPROVAL"
    approved = people["operator"].post(f"{API}/{waiting['id']}/approve")
    assert approved["status"] == "APPROVED"


def test_high_risk_needs_the_owning_customer_and_the_hosting_provider(
    app, engine, farm, people, device
):
    # An operator asks: both sides must agree, each by someone else.
    created = ask(people["operator"], farm, "reboot")
    assert created["risk"] == "high" and created["customer_id"] == farm["customers"]["acme"]
    assert sorted(created["required_approvals"]) == ["customer", "hosting"]
    url = f"{API}/{created['id']}/approve"
    people["beta"].get(f"{API}/{created['id']}", status=404)  # another customer's command
    people["beta"].post(url, status=404)
    people["operator2"].post(url, status=403)  # neither the customer nor owner/admin
    half = people["acme"].post(url)
    assert half["status"] == "PENDING_APPROVAL"
    people["acme2"].post(url, status=403)  # the customer's slot is filled
    assert poll(app[0], device).json == {"commands": []}
    done = people["owner"].post(url)
    assert done["status"] == "APPROVED"
    assert sorted(a["role"] for a in done["approvals"]) == ["customer", "hosting"]


def test_a_customer_asks_for_a_reboot_and_the_owner_approves(
    app, engine, farm, people, device, key
):
    created = ask(people["acme"], farm, "reboot", reason="It stopped hashing")
    assert created["required_approvals"] == ["hosting"]
    assert created["requester_role"] == "customer"
    # Another customer's miner is "not found" for Acme, never "forbidden".
    error = ask(people["acme"], farm, "reboot", ("M5",), status=422)["error"]
    assert "not a working miner" in error["message"]
    people["acme"].post(f"{API}/{created['id']}/approve", status=403)
    approved = people["owner"].post(f"{API}/{created['id']}/approve")
    assert approved["status"] == "APPROVED"
    [command] = poll(app[0], device).json["commands"]
    wire_signing.verify(command, {wire_signing.key_id(key[1]): key[1]})
    assert command["requester_role"] == "customer"


def test_mixed_customers_cannot_share_a_high_risk_command(app, farm, people):
    error = ask(people["owner"], farm, "reboot", ("M1", "M5"), status=422)["error"]
    assert "one customer" in error["message"]
    # A medium-risk command may span customers; no customer sees it then.
    created = ask(people["owner"], farm, "sleep", ("M1", "M5"))
    assert created["customer_id"] is None
    people["acme"].get(f"{API}/{created['id']}", status=404)


def test_rejecting_needs_a_reason_and_ends_the_command(app, engine, farm, people):
    created = ask(people["operator"], farm, "sleep")
    url = f"{API}/{created['id']}/reject"
    people["admin"].post(url, status=422)
    rejected = people["admin"].post(url, {"reason": "Not during the pool migration"})
    assert rejected["status"] == "REJECTED"
    assert rejected["status_reason"] == "Not during the pool migration"
    assert {t["status"] for t in rejected["targets"]} == {"cancelled"}
    people["owner"].post(f"{API}/{created['id']}/approve", status=409)


def test_targets_by_zone_customer_and_model_are_resolved_when_asked(app, farm, people):
    owner, site = people["owner"], farm["sites"]["A"]

    def miners(target):
        body = {"site_id": site, "command_type": "wake", "target": target}
        return sorted(t["miner_id"] for t in owner.post(API, body, status=201)["targets"])

    m = farm["miners"]
    assert miners({"zone_id": farm["zones"]["A1"]}) == sorted([m["M1"], m["M2"], m["M5"]])
    assert miners({"customer_id": farm["customers"]["acme"]}) == sorted([m["M1"], m["M3"]])
    assert miners({"model": "S21"}) == [m["M3"]]
    for bad in (
        {},
        {"zone_id": 1, "model": "S19"},
        {"model": "Nope"},
        {"miner_ids": [m["M4"]]},  # a miner of site B
        {"miner_ids": ["1"]},
        {"zone_id": farm["zones"]["B1"]},
    ):
        body = {"site_id": site, "command_type": "wake", "target": bad}
        owner.post(
            API, body, status=400 if "miner_ids" in bad and bad["miner_ids"] == ["1"] else 422
        )


def test_bad_requests_are_4xx_and_write_nothing(app, engine, farm, people):
    owner = people["owner"]
    cases = [
        ({"site_id": 999999, "command_type": "wake", "target": {"zone_id": 1}}, 422),
        ({"site_id": farm["sites"]["A"], "command_type": "fly", "target": {"zone_id": 1}}, 400),
        ({"site_id": farm["sites"]["A"], "command_type": "wake"}, 400),
        (
            {
                "site_id": farm["sites"]["A"],
                "command_type": "switch_pool",
                "params": {"index": 99},
                "target": {"miner_ids": [farm["miners"]["M1"]]},
            },
            422,
        ),
    ]
    for body, status in cases:
        owner.post(API, body, status=status)
    owner.client.post(API, "not json", headers=api_headers(owner.client), status=400)
    assert rows(engine, Command) == [] and rows(engine, CommandTarget) == []


def test_viewer_reads_but_cannot_act_and_anonymous_is_401(app, farm, people):
    created = ask(people["operator"], farm, "sleep")
    people["viewer"].get(f"{API}/{created['id']}")
    people["viewer"].post(f"{API}/{created['id']}/approve", status=403)
    ask(people["viewer"], farm, "wake", status=403)
    TestApp(app[0].app).get(API, status=401)


# --- dispatch, acknowledgements, the device's zone ------------------------------------------


def test_a_device_sees_only_its_zone_and_cannot_ack_another_zones_miner(
    app, engine, farm, people, device
):
    webapp = app[0]
    created = ask(people["owner"], farm, "wake", ("M1", "M3"))  # M3 is in zone A2
    [command] = poll(webapp, device).json["commands"]
    assert command["miner_key"] == "key-M1"
    a2 = register_device(webapp, engine, farm["zones"]["A2"], "a2")
    [other] = poll(webapp, a2).json["commands"]
    assert other["miner_key"] == "key-M3"
    error = ack(webapp, device, other["id"], status_code=403)["error"]
    assert error["code"] == "zone_mismatch"
    assert "controlplane:command:foreign_ack" in audit_tags(engine, created["id"])
    detail = people["owner"].get(f"{API}/{created['id']}")
    assert {t["status"] for t in detail["targets"]} == {"dispatched"}


def test_a_command_is_handed_out_until_acked_and_a_repeated_ack_changes_nothing(
    app, farm, people, device
):
    webapp = app[0]
    ask(people["owner"], farm, "wake", ("M1",))
    [first] = poll(webapp, device).json["commands"]
    [again] = poll(webapp, device).json["commands"]
    assert first == again  # the same id: the collector refuses a repeat by its id
    ack(webapp, device, first["id"], "failed", error_class="timeout", message="no answer")
    assert poll(webapp, device).json["commands"] == []
    repeat = ack(webapp, device, first["id"], "completed")
    assert repeat["duplicate"] is True and repeat["status"] == "failed"
    assert ack(webapp, device, first["id"], "duplicate")["duplicate"] is True


def test_bad_acks_are_refused_with_a_reason(app, farm, people, device):
    webapp = app[0]
    ask(people["owner"], farm, "wake", ("M1",))
    [command] = poll(webapp, device).json["commands"]
    target = command["id"]
    ack(webapp, device, target, "done", status_code=422)
    ack(webapp, device, target, "completed", miner_id="SNM2", status_code=422)
    ack(webapp, device, target, "completed", before=[1], status_code=422)
    ack(webapp, device, target, "completed", duration_ms=-1, status_code=422)
    ack(webapp, device, "999999", status_code=404)
    ack(webapp, device, "abc", status_code=404)
    webapp.post(
        f"/api/v1/edge/commands/{target}/ack",
        "{nope",
        headers={"Authorization": f"Bearer {device}", "Content-Type": "application/json"},
        status=400,
    )
    poll(webapp, "hie_not-a-token", status=401)
    assert poll(webapp, device).json["commands"][0]["id"] == target  # still open


def test_a_command_changed_in_the_database_after_approval_is_never_dispatched(
    app, engine, farm, people, device
):
    created = ask(people["owner"], farm, "wake", ("M1",))
    with engine.begin() as conn:
        conn.execute(
            sa.update(Command).where(Command.id == created["id"]).values(command_type="reboot")
        )
    assert poll(app[0], device).json == {"commands": []}
    detail = people["owner"].get(f"{API}/{created['id']}")
    assert detail["status"] == "FAILED" and "changed after approval" in detail["status_reason"]
    assert {t["status"] for t in detail["targets"]} == {"failed"}


def test_without_a_key_commands_go_unsigned_only_where_the_site_allows(make_app, engine, farm):
    webapp, _ = make_app()
    owner = Person(webapp, engine, "owner")
    token = register_device(webapp, engine, farm["zones"]["A1"])
    created = ask(owner, farm, "wake", ("M1",))
    assert created["targets"][0]["signed"] is False
    assert poll(webapp, token).json == {"commands": []}
    poll(webapp, token, "/api/edge/v1/commands/poll", status=204)
    owner.client.put_json(
        f"/api/v1/controlplane/sites/{farm['sites']['A']}/policy",
        {"allow_unsigned": True},
        headers=api_headers(owner.client),
    )
    [command] = poll(webapp, token).json["commands"]
    assert command["signature"] == ""


# --- the legacy collector contract ----------------------------------------------------------


def test_legacy_endpoints_answer_in_the_legacy_shapes(app, engine, farm, people, device):
    webapp = app[0]
    site = farm["sites"]["A"]
    headers = {"X-Collector-Key": device, "X-Site-ID": str(site)}
    ask(people["owner"], farm, "wake", ("M1",))
    # Signed-only site: a collector that cannot check signatures gets nothing.
    assert webapp.get("/api/edge/v1/commands/poll", headers=headers, status=204).body == b""
    assert webapp.get("/api/collector/commands/pending", headers=headers).json == {
        "success": True,
        "commands": [],
    }
    admin = people["admin"].client
    admin.put_json(
        f"/api/v1/controlplane/sites/{site}/policy",
        {"allow_unsigned": True},
        headers=api_headers(admin),
    )
    [command] = webapp.get("/api/edge/v1/commands/poll", headers=headers).json["commands"]
    assert set(command) == {
        "command_id",
        "miner_id",
        "miner_key",
        "command",
        "params",
        "site_id",
        "zone_id",
        "expires_at",
        "issued_at",
    }
    assert command["miner_id"] == farm["miners"]["M1"] and command["command"] == "wake"
    assert command["site_id"] == site and command["zone_id"] == farm["zones"]["A1"]
    pending = webapp.get("/api/collector/commands/pending", headers=headers).json
    assert pending["success"] is True and pending["commands"] == [command]
    result = {
        "status": "completed",
        "result_code": "0",
        "result_message": "woke up",
        "executed_at": "2026-12-03T10:00:00Z",
        "miner_id": farm["miners"]["M1"],
        "command": "wake",
        "device_id": "legacy-1",
        "duration_ms": 1500,
        "error_class": "",
        "before": {"hashrate_ghs": 0},
        "after": {"hashrate_ghs": 100000},
    }
    answer = webapp.post_json(
        f"/api/collector/commands/{command['command_id']}/result", result, headers=headers
    ).json
    assert answer == {"success": True, "ok": True, "duplicate": False, "status": "completed"}
    again = webapp.post_json(
        f"/api/edge/v1/commands/{command['command_id']}/ack", result, headers=headers
    ).json
    assert again["success"] is True and again["duplicate"] is True
    bad = webapp.post_json(
        f"/api/edge/v1/commands/{command['command_id']}/ack",
        result,
        headers={"X-Collector-Key": "hie_wrong"},
        status=401,
    ).json
    assert bad["success"] is False and bad["code"] == "unauthorized"
    [target] = rows(engine, CommandTarget)
    assert target.result_message == "woke up" and target.duration_ms == 1500
    assert target.after == {"hashrate_ghs": 100000}


# --- expiry and timeouts --------------------------------------------------------------------


def test_expiry_and_ack_timeouts_run_from_the_job_and_a_second_run_changes_nothing(
    app, engine, farm, people, device
):
    webapp, registry = app
    waiting = ask(people["operator"], farm, "sleep")
    taken = ask(people["owner"], farm, "wake", ("M1",))
    [command] = poll(webapp, device).json["commands"]
    past = utcnow() - dt.timedelta(hours=2)
    with engine.begin() as conn:
        conn.execute(sa.update(Command).where(Command.id == waiting["id"]).values(expires_at=past))
        conn.execute(
            sa.update(CommandTarget)
            .where(CommandTarget.id == int(command["id"]))
            .values(dispatched_at=past)
        )
    assert run_in_request(registry, expire_commands) >= 1
    states = {c.id: c.status for c in rows(engine, Command)}
    assert states == {waiting["id"]: "EXPIRED", taken["id"]: "FAILED"}
    target = people["owner"].get(f"{API}/{taken['id']}")["targets"][0]
    assert target["status"] == "failed" and target["error_class"] == "timeout"
    snapshot = [(t.id, t.status, t.result_message) for t in rows(engine, CommandTarget)]
    assert run_in_request(registry, expire_commands) == 0
    assert [(t.id, t.status, t.result_message) for t in rows(engine, CommandTarget)] == snapshot
    assert "controlplane.expire_commands" in registry["periodic_task_names"]


def test_cancel_and_retry_the_failed_miners(app, engine, farm, people, device):
    webapp = app[0]
    created = ask(people["owner"], farm, "wake", ("M1", "M2"))
    first, second = poll(webapp, device).json["commands"]
    ack(webapp, device, first["id"], "completed")
    ack(webapp, device, second["id"], "failed", error_class="unreachable")
    detail = people["owner"].get(f"{API}/{created['id']}")
    assert detail["status"] == "FAILED"
    people["owner"].post(f"{API}/{created['id']}/cancel", status=409)
    retried = people["operator"].post(f"{API}/{created['id']}/retry", status=201)
    assert retried["retry_of_id"] == created["id"]
    assert [t["miner_id"] for t in retried["targets"]] == [farm["miners"]["M2"]]
    assert retried["digest"] != created["digest"]
    cancelled = people["operator"].post(f"{API}/{retried['id']}/cancel", {"reason": "later"})
    assert cancelled["status"] == "CANCELLED"
    assert poll(webapp, device).json == {"commands": []}


# --- outcome from telemetry -----------------------------------------------------------------


def _live(engine, miner_id, **values):
    from plugins.hosting.telemetry.models import TelemetryLive

    row = {
        "miner_id": miner_id,
        "ts": utcnow(),
        "site_id": 0,
        "zone_id": 0,
        "customer_id": None,
        "online": True,
        "hashrate_ths": 100.0,
        "nominal_ths": 100.0,
        "uptime_s": 90000,
        "pool_url": "",
        "error_class": "",
    }
    row.update(values)
    with engine.begin() as conn:
        conn.execute(sa.delete(TelemetryLive).where(TelemetryLive.miner_id == miner_id))
        conn.execute(sa.insert(TelemetryLive).values(**row))


def test_outcome_is_confirmed_from_telemetry_or_marked_unconfirmed(
    app, engine, farm, people, device
):
    webapp, registry = app
    admin = people["admin"].client
    admin.put_json(
        f"/api/v1/controlplane/sites/{farm['sites']['A']}/policy",
        {"risks": {"sleep": "low", "reboot": "low"}},
        headers=api_headers(admin),
    )
    slept = ask(people["owner"], farm, "sleep", ("M1",))
    rebooted = ask(people["owner"], farm, "reboot", ("M2",))
    by_miner = {c["miner_id"]: c for c in poll(webapp, device).json["commands"]}
    m1, m2 = farm["miners"]["M1"], farm["miners"]["M2"]
    _live(engine, m1, hashrate_ths=0.0)
    ack(webapp, device, by_miner[m1]["id"])
    ack(webapp, device, by_miner[m2]["id"])  # no fresh telemetry yet
    detail = people["owner"].get(f"{API}/{slept['id']}")
    assert detail["targets"][0]["outcome"] == "confirmed" and detail["confirmed"] is True
    assert people["owner"].get(f"{API}/{rebooted['id']}")["targets"][0]["outcome"] == "waiting"
    _live(engine, m2, uptime_s=20)
    run_in_request(registry, expire_commands)
    assert people["owner"].get(f"{API}/{rebooted['id']}")["confirmed"] is True
    assert "controlplane:command:confirmed" in audit_tags(engine, rebooted["id"])

    # A sleep whose miner keeps hashing is not confirmed once the window has passed.
    again = ask(people["owner"], farm, "sleep", ("M5",))
    [command] = poll(webapp, device).json["commands"]
    ack(webapp, device, command["id"])
    _live(engine, farm["miners"]["M5"], hashrate_ths=99.0)
    with engine.begin() as conn:
        conn.execute(
            sa.update(CommandTarget)
            .where(CommandTarget.id == int(command["id"]))
            .values(acked_at=utcnow() - dt.timedelta(hours=1))
        )
    run_in_request(registry, expire_commands)
    target = people["owner"].get(f"{API}/{again['id']}")["targets"][0]
    assert target["outcome"] == "unconfirmed" and "99.0" in target["outcome_note"]


# --- pages ----------------------------------------------------------------------------------


def form_to(page, ending):
    return next(f for f in page.forms.values() if (f.action or "").endswith(ending))


def test_command_centre_pages_create_approve_and_reject(app, engine, farm, people):
    operator = people["operator"].client
    page = operator.get(PAGE)
    form = page.forms["command-form"]
    form["site_id"] = str(farm["sites"]["A"])
    form["command_type"] = "sleep"
    form["target_kind"] = "miner_ids"
    form["miner_ids"] = f"{farm['miners']['M1']}, {farm['miners']['M2']}"
    form["reason"] = "Heat wave"
    detail = form.submit().follow()
    assert "Needs approval" in detail.text and "SNM1" in detail.text
    [command] = rows(engine, Command)
    assert command.reason == "Heat wave"
    # The requester gets no approve button; an admin does.
    assert "/approve/" not in detail.text
    admin = people["admin"].client
    page = admin.get(f"{PAGE}{command.id}/")
    approved = form_to(page, "/approve/").submit().follow()
    assert 'data-status="APPROVED"' in approved.text

    form = operator.get(PAGE).forms["command-form"]
    form["site_id"] = str(farm["sites"]["A"])
    form["command_type"] = "set_work_mode"
    form["mode"] = "low"
    form["target_kind"] = "zone_id"
    form["zone_id"] = str(farm["zones"]["A1"])
    second = form.submit().follow()
    assert "Needs approval" in second.text
    command_id = max(c.id for c in rows(engine, Command))
    reject = form_to(admin.get(f"{PAGE}{command_id}/"), "/reject/")
    reject["reason"] = "Not now"
    assert 'data-status="REJECTED"' in reject.submit().follow().text


def test_page_form_errors_show_a_message_and_write_nothing(app, engine, farm, people):
    operator = people["operator"].client
    form = operator.get(PAGE).forms["command-form"]
    form["site_id"] = str(farm["sites"]["A"])
    form["command_type"] = "wake"
    form["target_kind"] = "miner_ids"
    form["miner_ids"] = "twelve"
    page = form.submit(status=422)
    assert "whole numbers" in page.html.find(attrs={"data-testid": "error"}).text
    assert rows(engine, Command) == []


def test_a_customer_sees_only_commands_for_its_own_miners(app, farm, people):
    ours = ask(people["owner"], farm, "wake", ("M1",))
    theirs = ask(people["owner"], farm, "wake", ("M5",))
    listed = people["acme"].get(API)
    assert [c["id"] for c in listed["items"]] == [ours["id"]]
    people["acme"].client.get(f"{PAGE}{theirs['id']}/", status=404)
    assert people["acme"].client.get(f"{PAGE}{ours['id']}/").status_int == 200


def test_approvals_are_bound_to_the_digest(app, engine, farm, people):
    created = ask(people["operator"], farm, "reboot")
    people["acme"].post(f"{API}/{created['id']}/approve")
    # Someone widens the target in the database: the digest no longer holds.
    with engine.begin() as conn:
        conn.execute(
            sa.insert(CommandTarget).values(
                command_id=created["id"],
                miner_id=farm["miners"]["M2"],
                site_id=farm["sites"]["A"],
                zone_id=farm["zones"]["A1"],
                miner_key="key-M2",
                serial="SNM2",
                status="pending",
                signature="",
                deliveries=0,
                result_code="",
                result_message="",
                error_class="",
                outcome="",
                outcome_note="",
            )
        )
    people["owner"].post(f"{API}/{created['id']}/approve", status=409)
    assert people["owner"].get(f"{API}/{created['id']}")["status"] == "REJECTED"
    assert [a.decision for a in rows(engine, Approval)] == ["approve"]


def test_the_people_whose_approval_counts_get_an_email_with_a_link(app, engine, farm, people):
    outbox = app[1]["mailer"].outbox
    del outbox[:]
    created = ask(people["operator"], farm, "reboot")  # Acme's miner, high risk
    with sa.orm.Session(engine) as session:
        from hashinsight_core.models import User

        emails = dict(session.execute(sa.select(User.id, User.email)).all())
    to = sorted(r for m in outbox for r in m.recipients)
    expected = sorted(emails[people[n].id] for n in ("owner", "admin", "acme", "acme2"))
    assert to == expected  # not the requester, other operators, viewers or Beta
    body = outbox[0].body
    assert f"/controlplane/commands/{created['id']}/" in body and "reboot" in body
    assert f"command #{created['id']}" in outbox[0].subject
    del outbox[:]
    ask(people["operator"], farm, "wake")  # low risk: nobody to ask
    assert outbox == []
