"""Admins put accounts in a customer (ABAC) and limit them to sites/zones."""

import json

import sqlalchemy as sa
from webtest import TestApp

from hashinsight_core.audit.models import AuditEvent
from hashinsight_core.models import Customer, Membership, User
from tests.conftest import csrf_token, login
from tests.functional.test_admin_users import edit, is_logged_in, user_id, user_row


def add_customer(dbsession, name="Acme Mining") -> int:
    customer = Customer(name=name)
    dbsession.add(customer)
    dbsession.commit_now()
    return customer.id


def invite(app, **fields):
    data = {"email": "c@example.com", "name": "", "role": "customer", "csrf_token": csrf_token(app)}
    data.update(fields)
    return app.post("/admin/users/", data, status="*")


def user_count(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(User))


def test_a_customer_user_must_belong_to_a_customer(webtest, engine, dbsession):
    login(webtest, engine, "admin")
    before = user_count(engine)
    response = invite(webtest)
    assert response.status_int == 422
    assert "Choose the customer this account belongs to." in response.text
    response = invite(webtest, customer_id="999999")
    assert response.status_int == 422 and "There is no such customer." in response.text
    response = invite(webtest, customer_id="1; DROP TABLE")
    assert response.status_int == 422
    assert user_count(engine) == before


def test_admin_invites_someone_of_a_customer(webtest, engine, dbsession):
    customer_id = add_customer(dbsession)
    login(webtest, engine, "admin")
    page = webtest.get("/admin/users/")
    assert "Acme Mining" in page.text  # offered in the invitation form
    response = invite(webtest, customer_id=str(customer_id))
    assert response.status_int == 303
    assert user_row(engine, "c@example.com").customer_id == customer_id
    assert "Acme Mining" in response.follow().text  # shown in the list
    with engine.connect() as conn:
        payload = conn.scalar(
            sa.select(AuditEvent.payload).where(AuditEvent.tag == "core:user:invite")
        )
    assert json.loads(payload)["customer_id"] == customer_id


def test_owners_and_admins_cannot_belong_to_a_customer(webtest, engine, dbsession):
    customer_id = add_customer(dbsession)
    login(webtest, engine, "owner")
    response = invite(webtest, role="admin", customer_id=str(customer_id))
    assert response.status_int == 422
    assert "they cannot belong to one" in response.text


def test_moving_an_account_to_another_customer_ends_its_sessions(
    app_and_registry, engine, dbsession
):
    app, _ = app_and_registry
    first = add_customer(dbsession, "First")
    second = add_customer(dbsession, "Second")
    them = TestApp(app.app)
    email = login(them, engine, "customer", customer_id=first)
    assert is_logged_in(them)

    login(app, engine, "admin")
    uid = user_id(engine, email)
    edit(app, uid, role="customer", name="Them", status=303)  # customer unchanged
    assert is_logged_in(them)
    edit(app, uid, role="customer", customer_id=str(second), status=303)
    assert user_row(engine, email).customer_id == second
    assert not is_logged_in(them)


def test_unknown_places_are_refused_and_nothing_is_stored(webtest, engine):
    login(webtest, engine, "admin")
    email = login(TestApp(webtest.app), engine, "operator")
    uid = user_id(engine, email)
    response = webtest.post(
        f"/admin/users/{uid}/places",
        {"place": "999:", "csrf_token": csrf_token(webtest)},
        status=400,
    )
    assert "There is no such place." in response.text
    response = webtest.post(
        f"/admin/users/{uid}/places",
        {"remove": "12345", "csrf_token": csrf_token(webtest)},
        status=400,
    )
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Membership)) == 0


def test_admin_limits_an_operator_to_a_zone_offered_by_hosting(app_and_registry, engine, dbsession):
    from plugins.hosting.models import Miner, Site, Zone

    app, _ = app_and_registry
    site = Site(name="North")
    dbsession.add(site)
    dbsession.flush()
    hall1, hall2 = Zone(site_id=site.id, name="Hall 1"), Zone(site_id=site.id, name="Hall 2")
    dbsession.add_all([hall1, hall2])
    dbsession.flush()
    dbsession.add_all(
        [
            Miner(serial="H1", model_name="S21", site_id=site.id, zone_id=hall1.id),
            Miner(serial="H2", model_name="S21", site_id=site.id, zone_id=hall2.id),
        ]
    )
    dbsession.commit_now()

    operator = TestApp(app.app)
    email = login(operator, engine, "operator")
    assert {m["serial"] for m in operator.get("/api/v1/hosting/miners").json["items"]} == {
        "H1",
        "H2",
    }

    login(app, engine, "admin")
    uid = user_id(engine, email)
    page = app.get(f"/admin/users/{uid}/")
    assert "North / Hall 1" in page.text and "No limit" in page.text
    app.post(
        f"/admin/users/{uid}/places",
        {"place": f"{site.id}:{hall1.id}", "csrf_token": csrf_token(app)},
        status=303,
    )
    page = app.get(f"/admin/users/{uid}/")
    assert "This account sees only these sites and zones." in page.text
    # The limit applies at once, to the operator's open session too.
    assert [m["serial"] for m in operator.get("/api/v1/hosting/miners").json["items"]] == ["H1"]

    with engine.connect() as conn:
        membership_id = conn.scalar(sa.select(Membership.id))
        tags = conn.scalars(sa.select(AuditEvent.tag)).all()
    assert "core:membership:add" in tags
    app.post(
        f"/admin/users/{uid}/places",
        {"remove": str(membership_id), "csrf_token": csrf_token(app)},
        status=303,
    )
    assert len(operator.get("/api/v1/hosting/miners").json["items"]) == 2
