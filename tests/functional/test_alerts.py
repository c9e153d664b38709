"""Alerts through the app: rules CRUD and its 422s, acknowledge/resolve (audited), customer
isolation, e-mail after commit, webhooks signed and delivered to an in-test HTTP server (with
huey's retry), pages in English and Chinese."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from webtest import TestApp

from hashinsight_core.audit.models import AuditEvent
from hashinsight_core.db import utcnow
from hashinsight_core.models import Customer
from hashinsight_core.tasks import run_in_request
from plugins.hosting.alerts.evaluate import evaluate_and_notify
from plugins.hosting.alerts.models import Alert, AlertDelivery, AlertRule
from plugins.hosting.alerts.notify import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from plugins.hosting.models import Miner, Site, Zone
from plugins.hosting.telemetry.models import TelemetryLive
from tests.conftest import api_headers, login

RULES = "/api/v1/hosting/alert-rules"
ALERTS = "/api/v1/hosting/alerts"


@pytest.fixture
def farm(dbsession):
    a, b = Customer(name="Alpha Mining"), Customer(name="Beta Hash")
    s1, s2 = Site(name="North"), Site(name="South")
    dbsession.add_all([a, b, s1, s2])
    dbsession.flush()
    z1, z2 = Zone(site_id=s1.id, name="Hall 1"), Zone(site_id=s2.id, name="Hall 2")
    dbsession.add_all([z1, z2])
    dbsession.flush()
    miners = {}
    for name, customer, zone in (("a1", a, z1), ("a2", a, z1), ("b1", b, z2)):
        miners[name] = Miner(
            serial=name.upper() + "-SN",
            model_name="S19",
            nominal_ths=95.0,
            customer_id=customer.id,
            site_id=zone.site_id,
            zone_id=zone.id,
            status="online",
        )
        dbsession.add(miners[name])
    dbsession.flush()
    dbsession.commit_now()
    return {"A": a.id, "B": b.id, "S1": s1.id, "S2": s2.id, "Z1": z1.id, "Z2": z2.id} | {
        k: m.id for k, m in miners.items()
    }


def hot(dbsession, farm, *names, temp=95.0, now=None):
    """Live rows for the named miners, at ``temp`` (the others at 70 °C)."""
    now = now or utcnow()
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
                temp_max_c=temp if name in names else 70.0,
                fans_failed=0,
                boards_total=3,
                boards_ok=3,
                pool_url="",
                error_class="",
            )
        )
    dbsession.commit_now()
    return now


def evaluate_now(registry, now=None):
    return run_in_request(registry, evaluate_and_notify, now=now or utcnow())


def rule_body(**values):
    return {"name": "Hot miners", "kind": "high_temp", "threshold": 85, "for_minutes": 0, **values}


def create_rule(app, **values):
    return app.post_json(RULES, rule_body(**values), headers=api_headers(app), status=201).json


def audit_tags(engine, prefix):
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(AuditEvent.tag, AuditEvent.payload)
            .where(AuditEvent.tag.like(prefix + "%"))
            .order_by(AuditEvent.seq)
        ).all()
    return [(tag, json.loads(payload)) for tag, payload in rows]


def count(engine, model):
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(model))


# --- rules ----------------------------------------------------------------------


def test_admin_creates_reads_changes_and_deletes_a_rule(webtest, login_as, engine, farm):
    login_as("admin")
    rule = create_rule(
        webtest,
        site_id=farm["S1"],
        clear_threshold=80,
        email_to=["noc@example.com"],
        webhook_url="https://ops.example.com/hook",
    )
    assert rule["kind"] == "high_temp" and rule["clear_threshold"] == 80
    assert rule["clear_minutes"] == 5  # the kind's default
    secret = rule["webhook_secret"]
    assert secret.startswith("whsec_") and len(secret) > 30
    shown = webtest.get(f"{RULES}/{rule['id']}").json
    assert "webhook_secret" not in shown and shown["webhook_secret_set"] is True
    assert shown["email_to"] == ["noc@example.com"]

    changed = webtest.patch_json(
        f"{RULES}/{rule['id']}",
        {"threshold": 90, "zone_id": farm["Z1"]},
        headers=api_headers(webtest),
    ).json
    assert changed["threshold"] == 90 and changed["zone_id"] == farm["Z1"]
    assert "webhook_secret" not in changed
    rotated = webtest.patch_json(
        f"{RULES}/{rule['id']}", {"rotate_webhook_secret": True}, headers=api_headers(webtest)
    ).json
    assert rotated["webhook_secret"] not in ("", secret)
    assert webtest.get(RULES).json["total"] == 1

    webtest.delete(f"{RULES}/{rule['id']}", headers=api_headers(webtest), status=204)
    webtest.get(f"{RULES}/{rule['id']}", status=404)
    tags = [tag for tag, _ in audit_tags(engine, "hosting:alert_rule:")]
    assert tags == [
        "hosting:alert_rule:create",
        "hosting:alert_rule:update",
        "hosting:alert_rule:update",
        "hosting:alert_rule:delete",
    ]
    # No secret ever reaches the audit trail.
    assert secret not in json.dumps(audit_tags(engine, "hosting:alert_rule:"))


BAD_RULES = [
    ({"kind": "high_temp"}, "name"),
    ({"name": "x", "kind": "smoke"}, "kind"),
    ({"name": "x", "kind": "high_temp"}, "threshold"),
    ({"name": "x", "kind": "high_temp", "threshold": "hot"}, "threshold"),
    ({"name": "x", "kind": "high_temp", "threshold": 85, "clear_threshold": 90}, "clear_threshold"),
    (
        {"name": "x", "kind": "low_hashrate", "threshold": 80, "clear_threshold": 70},
        "clear_threshold",
    ),
    ({"name": "x", "kind": "high_temp", "threshold": 400}, "threshold"),
    ({"name": "x", "kind": "offline", "threshold": 5}, "threshold"),
    ({"name": "x", "kind": "offline", "for_minutes": -1}, "for_minutes"),
    ({"name": "x", "kind": "offline", "for_minutes": 1.5}, "for_minutes"),
    ({"name": "x", "kind": "offline", "colour": "red"}, "colour"),
    ({"name": "x", "kind": "offline", "email_to": ["not-an-address"]}, "email_to"),
    ({"name": "x", "kind": "offline", "email_roles": ["wizard"]}, "email_roles"),
    ({"name": "x", "kind": "offline", "webhook_url": "ftp://example.com/x"}, "webhook_url"),
    ({"name": "x", "kind": "offline", "webhook_url": "https://u:p@example.com/"}, "webhook_url"),
    ({"name": "x", "kind": "offline", "webhook_secret": "short"}, "webhook_secret"),
    ({"name": "x", "kind": "offline", "site_id": 999999}, "site_id"),
    ({"name": "x", "kind": "offline", "enabled": "yes"}, "enabled"),
    ({"name": "x", "kind": "device_silent", "customer_id": 1}, "customer_id"),
    ({"name": "x", "kind": "device_silent", "for_minutes": 0}, "for_minutes"),
    ({"name": "x", "kind": "pool_down", "window_minutes": 2}, "window_minutes"),
]


@pytest.mark.parametrize(("body", "field"), BAD_RULES, ids=[f for _, f in BAD_RULES])
def test_a_bad_rule_is_a_422_naming_the_field_and_nothing_is_stored(
    webtest, login_as, engine, farm, body, field
):
    login_as("admin")
    answer = webtest.post_json(RULES, body, headers=api_headers(webtest), status=422).json
    assert answer["error"]["code"] == "invalid_rule"
    assert field in answer["error"]["message"]
    assert answer["error"]["details"][0]["field"] == field
    assert count(engine, AlertRule) == 0
    assert audit_tags(engine, "hosting:alert_rule:") == []


def test_not_json_or_not_finite_numbers_are_422(webtest, login_as, engine, farm):
    login_as("admin")
    headers = {**api_headers(webtest), "Content-Type": "application/json"}
    webtest.post(RULES, "{not json", headers=headers, status=422)
    webtest.post(RULES, "[1, 2]", headers=headers, status=422)
    body = '{"name": "x", "kind": "high_temp", "threshold": NaN}'
    answer = webtest.post(RULES, body, headers=headers, status=422).json
    assert "threshold" in answer["error"]["message"]
    rule = create_rule(webtest)
    bad = webtest.patch_json(
        f"{RULES}/{rule['id']}", {"clear_threshold": 99}, headers=api_headers(webtest), status=422
    ).json
    assert "clear_threshold" in bad["error"]["message"]
    assert webtest.get(f"{RULES}/{rule['id']}").json["clear_threshold"] is None
    assert count(engine, AlertRule) == 1


def test_only_owners_and_admins_manage_rules(make_app, engine, farm):
    for role, status in (("operator", 403), ("viewer", 403), ("customer", 403), ("owner", 201)):
        app, _ = make_app()
        login(app, engine, role, customer_id=farm["A"] if role == "customer" else None)
        app.post_json(RULES, rule_body(), headers=api_headers(app), status=status)


# --- alerts: panel, acknowledge, resolve ---------------------------------------------------------


def test_operator_acknowledges_and_resolves_with_notes_and_both_are_audited(
    make_app, engine, dbsession, farm
):
    admin, registry = make_app()
    login(admin, engine, "admin")
    create_rule(admin, for_minutes=0)
    hot(dbsession, farm, "a1")
    evaluate_now(registry)
    evaluate_now(registry)  # again: still one alert
    (alert,) = admin.get(ALERTS).json["items"]
    assert alert["status"] == "open" and alert["subject_id"] == farm["a1"]
    assert admin.get(f"{ALERTS}/summary").json["open"] == 1

    operator, _ = make_app()
    login(operator, engine, "operator")
    url = f"{ALERTS}/{alert['id']}"
    acked = operator.post_json(url + "/ack", {"note": "on my way"}, headers=api_headers(operator))
    assert acked.json["status"] == "acknowledged" and acked.json["ack_note"] == "on my way"
    operator.post_json(url + "/ack", {}, headers=api_headers(operator), status=409)
    operator.post_json(url + "/resolve", {"note": 5}, headers=api_headers(operator), status=422)
    operator.post_json(url + "/resolve", {"colour": "x"}, headers=api_headers(operator), status=422)
    assert operator.get(url).json["status"] == "acknowledged"  # the 422s changed nothing
    done = operator.post_json(
        url + "/resolve", {"note": "fan replaced"}, headers=api_headers(operator)
    ).json
    assert done["status"] == "resolved" and done["resolution"] == "manual"
    assert done["resolved_by"] is not None and done["resolve_note"] == "fan replaced"
    operator.post(url + "/resolve", headers=api_headers(operator), status=409)
    assert audit_tags(engine, "hosting:alert:") == [
        ("hosting:alert:acknowledge", {"note": "on my way", "rule_id": alert["rule_id"]}),
        ("hosting:alert:resolve", {"note": "fan replaced", "rule_id": alert["rule_id"]}),
    ]
    # The miner is still hot: after a manual resolve the evaluator starts over, one new alert.
    evaluate_now(registry)
    items = admin.get(ALERTS, {"status": "all"}).json["items"]
    assert [(a["status"], a["subject_id"]) for a in items] == [
        ("open", farm["a1"]),
        ("resolved", farm["a1"]),
    ]


def test_viewers_and_customers_cannot_acknowledge(make_app, engine, dbsession, farm):
    admin, registry = make_app()
    login(admin, engine, "admin")
    create_rule(admin)
    hot(dbsession, farm, "a1")
    evaluate_now(registry)
    alert_id = admin.get(ALERTS).json["items"][0]["id"]
    for role in ("viewer", "customer"):
        app, _ = make_app()
        login(app, engine, role, customer_id=farm["A"] if role == "customer" else None)
        app.get(f"{ALERTS}/{alert_id}", status=200)
        app.post_json(f"{ALERTS}/{alert_id}/ack", {}, headers=api_headers(app), status=403)


def test_customers_see_only_alerts_about_their_own_miners(make_app, engine, dbsession, farm):
    admin, registry = make_app()
    login(admin, engine, "admin")
    create_rule(admin)
    hot(dbsession, farm, "a1", "b1")
    evaluate_now(registry)
    assert admin.get(ALERTS).json["total"] == 2

    customer, _ = make_app()
    login(customer, engine, "customer", customer_id=farm["A"])
    items = customer.get(ALERTS).json["items"]
    assert [a["subject_id"] for a in items] == [farm["a1"]]
    foreign = admin.get(ALERTS, {"customer_id": farm["B"]}).json["items"][0]
    customer.get(f"{ALERTS}/{foreign['id']}", status=404)
    assert customer.get(ALERTS, {"customer_id": farm["B"]}).json["total"] == 0
    assert customer.get(f"{ALERTS}/summary").json["open"] == 1
    page = customer.get("/hosting/alerts/")
    assert "A1-SN" in page.text and "B1-SN" not in page.text
    history = customer.get("/hosting/alerts/history/")
    assert "A1-SN" in history.text and "B1-SN" not in history.text
    # A farm-wide rule is the provider's: the customer does not see it.
    assert customer.get(RULES).json["total"] == 0


def test_alert_list_filters_page_and_refuses_bad_parameters(make_app, engine, dbsession, farm):
    admin, registry = make_app()
    login(admin, engine, "admin")
    create_rule(admin)
    hot(dbsession, farm, "a1", "a2", "b1")
    evaluate_now(registry)
    assert admin.get(ALERTS, {"site_id": farm["S1"]}).json["total"] == 2
    assert admin.get(ALERTS, {"q": "B1"}).json["total"] == 1
    page = admin.get(ALERTS, {"limit": 2, "offset": 2}).json
    assert (page["total"], len(page["items"])) == (3, 1)
    assert admin.get(ALERTS, {"status": "resolved"}).json["total"] == 0
    for params in ({"status": "nope"}, {"site_id": "x"}, {"limit": 0}, {"since": "yesterday"}):
        answer = admin.get(ALERTS, params, status=422).json
        assert answer["error"]["message"]


# --- notifications ----------------------------------------------------------------------


def test_emails_go_after_commit_to_listed_addresses_and_to_role_accounts_in_scope(
    make_app, engine, dbsession, farm
):
    admin, registry = make_app()
    login(admin, engine, "admin")
    create_rule(admin, email_to=["noc@example.com"], email_roles=["customer"])
    # Customer A's user, and a customer of B: each is mailed about its own miners only.
    login(TestApp(admin.app), engine, "customer", "ann@alpha.example", customer_id=farm["A"])
    login(TestApp(admin.app), engine, "customer", "bob@beta.example", customer_id=farm["B"])
    outbox = registry["mailer"].outbox
    hot(dbsession, farm, "a1", "a2")
    evaluate_now(registry)
    by_address = {m.recipients[0]: m for m in outbox}
    assert set(by_address) == {"noc@example.com", "ann@alpha.example"}
    assert "A1-SN" in by_address["noc@example.com"].body
    assert "A2-SN" in by_address["ann@alpha.example"].body
    assert "2" in by_address["noc@example.com"].subject
    evaluate_now(registry)  # nothing new, no new mail
    assert len(outbox) == 2


def test_a_customer_who_turned_alert_mail_off_gets_none(make_app, engine, dbsession, farm):
    from hashinsight_core.models import User
    from plugins.hosting.portal.models import PortalPreference

    admin, registry = make_app()
    login(admin, engine, "admin")
    create_rule(admin, email_roles=["customer"])
    login(TestApp(admin.app), engine, "customer", "ann@alpha.example", customer_id=farm["A"])
    login(TestApp(admin.app), engine, "customer", "al@alpha.example", customer_id=farm["A"])
    with engine.begin() as conn:
        ann = conn.scalar(sa.select(User.id).where(User.email == "ann@alpha.example"))
        conn.execute(sa.insert(PortalPreference).values(user_id=ann, mail_alerts=False))
    hot(dbsession, farm, "a1")
    evaluate_now(registry)
    assert [m.recipients[0] for m in registry["mailer"].outbox] == ["al@alpha.example"]


class Receiver:
    """A local HTTP server standing in for a customer's webhook endpoint."""

    def __init__(self, answers=(200,)):
        self.requests: list[tuple[dict, bytes]] = []
        self.answers = list(answers)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                code = receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_webhooks_are_signed_and_sent_after_commit(make_app, engine, dbsession, farm):
    admin, registry = make_app()
    login(admin, engine, "admin")
    with Receiver() as receiver:
        rule = create_rule(admin, webhook_url=receiver.url, clear_minutes=0)
        secret = rule["webhook_secret"]
        hot(dbsession, farm, "a1", "b1")
        evaluate_now(registry)
        assert len(receiver.requests) == 1
        headers, body = receiver.requests[0]
        assert verify(secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        assert not verify(
            "whsec_wrong-secret-of-enough-length",
            headers[TIMESTAMP_HEADER],
            body,
            headers[SIGNATURE_HEADER],
        )
        assert not verify(secret, headers[TIMESTAMP_HEADER], body + b" ", headers[SIGNATURE_HEADER])
        payload = json.loads(body)
        assert payload["event"] == "alert.opened" and payload["rule"]["id"] == rule["id"]
        assert sorted(a["subject_id"] for a in payload["alerts"]) == sorted(
            [farm["a1"], farm["b1"]]
        )
        # Acknowledging one and the others clearing are events too.
        alert_id = payload["alerts"][0]["id"]
        admin.post_json(f"{ALERTS}/{alert_id}/ack", {}, headers=api_headers(admin))
        hot(dbsession, farm)  # all cool again
        evaluate_now(registry)
        events = [json.loads(b)["event"] for _, b in receiver.requests]
        assert events == ["alert.opened", "alert.acknowledged", "alert.resolved"]
    with engine.connect() as conn:
        statuses = conn.execute(sa.select(AlertDelivery.status, AlertDelivery.attempts)).all()
    assert sorted(statuses) == [("sent", 1)] * 3
    deliveries = admin.get(f"{RULES}/{rule['id']}/deliveries").json
    assert deliveries["total"] == 3 and deliveries["items"][0]["status"] == "sent"


def test_a_failing_webhook_is_retried_by_huey(make_app, engine, dbsession, farm):
    # retry delay 0: the immediate test queue runs the retry at once
    admin, registry = make_app(hosting__alerts__webhook_retry_delay_seconds="0")
    login(admin, engine, "admin")
    with Receiver(answers=(500, 503, 200)) as receiver:
        create_rule(admin, webhook_url=receiver.url)
        hot(dbsession, farm, "a1")
        evaluate_now(registry)
        assert len(receiver.requests) == 3
        signatures = {h[SIGNATURE_HEADER] for h, _ in receiver.requests}
        assert len(signatures) >= 1
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(AlertDelivery.status, AlertDelivery.attempts, AlertDelivery.last_status_code)
        ).one()
    assert tuple(row) == ("sent", 3, 200)
    # The alert itself was stored whatever the receiver did.
    assert count(engine, Alert) == 1


def test_an_unreachable_webhook_fails_after_its_retries_without_touching_alerts(
    make_app, engine, dbsession, farm
):
    admin, registry = make_app(
        hosting__alerts__webhook_retry_delay_seconds="0", hosting__alerts__webhook_retries="1"
    )
    login(admin, engine, "admin")
    with Receiver() as receiver:
        url = receiver.url  # closed below: nobody listens there any more
    create_rule(admin, webhook_url=url)
    hot(dbsession, farm, "a1")
    evaluate_now(registry)
    with engine.connect() as conn:
        status, attempts = conn.execute(
            sa.select(AlertDelivery.status, AlertDelivery.attempts)
        ).one()
    assert (status, attempts) == ("failed", 2)
    assert count(engine, Alert) == 1


# --- rules changing ----------------------------------------------------------------------


def test_disabling_a_rule_resolves_its_open_alerts(make_app, engine, dbsession, farm):
    admin, registry = make_app()
    login(admin, engine, "admin")
    rule = create_rule(admin)
    hot(dbsession, farm, "a1")
    evaluate_now(registry)
    admin.patch_json(f"{RULES}/{rule['id']}", {"enabled": False}, headers=api_headers(admin))
    (alert,) = admin.get(ALERTS, {"status": "all"}).json["items"]
    assert (alert["status"], alert["resolution"]) == ("resolved", "rule_disabled")
    evaluate_now(registry)
    assert admin.get(ALERTS).json["total"] == 0


# --- pages ----------------------------------------------------------------------


def test_pages_panel_history_and_the_nav_count(make_app, engine, dbsession, farm):
    admin, registry = make_app()
    login(admin, engine, "admin")
    create_rule(admin, name="Too hot")
    hot(dbsession, farm, "a1")
    evaluate_now(registry)
    page = admin.get("/hosting/alerts/")
    assert "A1-SN" in page.text and "Too hot" in page.text
    assert page.html.select_one('[data-testid="open-count"]').text.strip() == "1"
    nav = page.html.select_one('[data-route="hosting.alert.list"]').text
    assert "Alerts (1)" in " ".join(nav.split())
    alert_id = admin.get(ALERTS).json["items"][0]["id"]
    admin.post(
        f"/hosting/alerts/{alert_id}/ack",
        {
            "csrf_token": api_headers(admin)["X-CSRF-Token"],
            "note": "seen",
            "next": "/hosting/alerts/",
        },
        status=303,
    )
    assert "A1-SN" in admin.get("/hosting/alerts/", {"status": "acknowledged"}).text
    assert "A1-SN" not in admin.get("/hosting/alerts/", {"status": "open"}).text
    history = admin.get("/hosting/alerts/history/", {"kind": "high_temp", "site_id": farm["S1"]})
    assert "A1-SN" in history.text
    assert "A1-SN" not in admin.get("/hosting/alerts/history/", {"kind": "offline"}).text
    # An off-site "next" is never followed.
    moved = admin.post(
        f"/hosting/alerts/{alert_id}/resolve",
        {"csrf_token": api_headers(admin)["X-CSRF-Token"], "next": "//evil.example/"},
        status=303,
    )
    assert moved.headers["Location"].endswith("/hosting/alerts/")
    admin.set_cookie("_LOCALE_", "zh")
    zh = admin.get("/hosting/alerts/history/")
    assert 'lang="zh-CN"' in zh.text and "A1-SN" in zh.text


def test_rule_form_creates_edits_and_refuses_bad_input(webtest, login_as, engine, farm):
    login_as("admin")
    assert "New alert rule" in webtest.get("/hosting/alerts/rules/new").text
    token = api_headers(webtest)["X-CSRF-Token"]
    fields = {
        "csrf_token": token,
        "name": "Hot hall",
        "kind": "high_temp",
        "severity": "critical",
        "site_id": str(farm["S1"]),
        "threshold": "85",
        "clear_threshold": "95",  # above the threshold: wrong for a temperature
        "for_minutes": "2",
        "enabled": "on",
    }
    bad = webtest.post("/hosting/alerts/rules/new", fields, status=422)
    assert "clear_threshold" in bad.text and 'value="Hot hall"' in bad.text
    assert count(engine, AlertRule) == 0
    fields["clear_threshold"] = "80"
    fields["webhook_url"] = "https://ops.example.com/hook"
    made = webtest.post("/hosting/alerts/rules/new", fields, status=200)
    secret = made.html.select_one("#webhook-secret").text
    assert secret.startswith("whsec_") and made.headers["Cache-Control"] == "no-store"
    rules = webtest.get("/hosting/alerts/rules/")
    assert "Hot hall" in rules.text
    rule_id = webtest.get(RULES).json["items"][0]["id"]
    edit = webtest.get(f"/hosting/alerts/rules/{rule_id}/")
    assert secret not in edit.text  # shown once only
    fields.update(name="Hot hall 1", threshold="88", webhook_url="https://ops.example.com/hook")
    webtest.post(f"/hosting/alerts/rules/{rule_id}/", fields, status=303)
    assert webtest.get(f"{RULES}/{rule_id}").json["threshold"] == 88
    webtest.post(f"/hosting/alerts/rules/{rule_id}/delete", {"csrf_token": token}, status=303)
    assert count(engine, AlertRule) == 0
