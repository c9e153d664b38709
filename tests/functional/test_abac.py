"""ABAC: every object route × principal × own/foreign object.

Principals: a customer user of customer A, an operator limited to site S1 by a membership,
and an owner. Objects: one belonging to A/S1 ("own") and one to B/S2 ("foreign"), made by
``tests/abac_objects.py``. Expected, for every method a route serves:

- a foreign object is invisible to the customer user (and to the site-limited operator when
  the table has a site or zone): 404, exactly as for an id that does not exist, never 403;
- an own object is visible (anything but 404: the role may still lack the permission → 403);
- the owner sees both.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from pyramid.interfaces import IRoutesMapper
from webtest import TestApp

from hashinsight_core.models import Customer, Membership, User
from hashinsight_core.scoping import Scope, Scoped, limited_session
from tests.abac_objects import MAKERS, build_world
from tests.conftest import api_headers, login, make_user

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def object_routes(registry) -> list[tuple[object, str]]:
    """(route, method) for every view of a route whose factory loads an object."""
    routes = {r.name: r for r in registry.getUtility(IRoutesMapper).get_routes()}
    found = set()
    for item in registry.introspector.get_category("views"):
        view = item["introspectable"]
        route = routes.get(view["route_name"])
        if route is None or getattr(route.factory, "model", None) is None:
            continue
        methods = view["request_methods"] or ("GET",)
        methods = [methods] if isinstance(methods, str) else methods
        for method in methods:
            found.add((route.name, method))
    return [(routes[name], method) for name, method in sorted(found)]


def path_for(route, obj) -> str:
    values = {}
    for name in re.findall(r"\{(\w+)", route.pattern):
        values[name] = obj.id if name == route.factory.key else getattr(obj, name)
    return route.generate(values)


def has_place(model) -> bool:
    return bool({"site", "zone"} & set(getattr(model, "__scope__", {})))


def test_every_object_route_has_a_maker(registry):
    missing = sorted(
        {route.factory.model.__name__ for route, _ in object_routes(registry)} - set(MAKERS)
    )
    assert missing == [], f"add makers to tests/abac_objects.py for {missing}"
    for route, _ in object_routes(registry):
        assert issubclass(route.factory.model, Scoped), f"{route.name}: model is not Scoped"


@pytest.fixture
def world(dbsession):
    world = build_world(dbsession)
    dbsession.commit_now()
    return world


def client_for(app, engine, role: str, world, **user) -> TestApp:
    client = TestApp(app.app)
    email = login(client, engine, role, **user)
    return client, email


def test_foreign_objects_answer_404_and_own_objects_do_not(make_app, engine, dbsession, world):
    app, registry = make_app()
    routes = object_routes(registry)
    assert routes, "no object routes found"

    customer, _ = client_for(app, engine, "customer", world, customer_id=world.customer["own"])
    operator, operator_email = client_for(app, engine, "operator", world)
    owner, _ = client_for(app, engine, "owner", world)
    with sa.orm.Session(engine) as session:
        user_id = session.scalar(sa.select(User.id).where(User.email == operator_email))
        session.add(Membership(user_id=user_id, site_id=world.site["own"]))
        session.commit()

    failures = []
    for route, method in routes:
        maker = MAKERS[route.factory.model.__name__]
        for side in ("own", "foreign"):
            obj = maker.make(dbsession, world, side)
            dbsession.commit_now()
            path = path_for(route, obj)
            place = has_place(route.factory.model)
            expected = {
                "customer": side == "own" and maker.customer_sees_own,
                "operator": side == "own" or not place,
                "owner": True,
            }
            for name, client in (("customer", customer), ("operator", operator), ("owner", owner)):
                if method in UNSAFE:  # the client before may have deleted it: a fresh one
                    obj = maker.make(dbsession, world, side)
                    dbsession.commit_now()
                    path = path_for(route, obj)
                headers = {"Content-Type": "application/json"}
                if method in UNSAFE:
                    headers.update(api_headers(client))
                response = client.request(
                    path, method=method, body=b"{}", headers=headers, status="*"
                )
                visible = response.status_int != 404
                if visible != expected[name]:
                    failures.append(
                        f"{method} {path} ({route.name}) {side} object as {name}: "
                        f"{response.status}, expected {'visible' if expected[name] else '404'}"
                    )
    assert failures == []


def test_a_customer_account_lists_only_its_own_customer(make_app, engine, dbsession, world):
    """A custom role that may read customers, given to someone of customer A, lists only A."""
    from hashinsight_core.models import Role

    dbsession.add(Role(name="customer-reader", title="Reads", permissions=["crm:customer:read"]))
    dbsession.commit_now()
    app, _registry = make_app()
    login(app, engine, "customer-reader", customer_id=world.customer["own"])
    body = app.get("/api/v1/crm/customers").json
    assert [c["id"] for c in body["items"]] == [world.customer["own"]]
    assert body["total"] == 1
    app.get(f"/api/v1/crm/customers/{world.customer['foreign']}", status=404)
    app.get(f"/api/v1/crm/customers/{world.customer['own']}", status=200)


def test_the_scope_reaches_counts_updates_deletes_and_get(dbsession, world):
    scope = Scope(customer_id=world.customer["own"])
    limited_session(dbsession, scope)
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1
    assert dbsession.get(Customer, world.customer["foreign"]) is None
    result = dbsession.execute(sa.update(Customer).values(notes="touched"))
    assert result.rowcount == 1
    result = dbsession.execute(sa.delete(Customer).where(Customer.id == world.customer["foreign"]))
    assert result.rowcount == 0
    dbsession.info.pop("scope")
    foreign = dbsession.get(Customer, world.customer["foreign"])
    assert foreign is not None and foreign.notes is None


def test_a_customer_user_without_a_customer_sees_nothing(dbsession, world):
    limited_session(dbsession, Scope(no_customer=True))
    assert dbsession.scalars(sa.select(Customer)).all() == []


def test_owners_and_admins_are_never_limited(dbsession, world, engine):
    from hashinsight_core.scoping import scope_for_user

    make_user(engine, "admin", "limited-admin@example.com")
    admin = dbsession.scalar(sa.select(User).where(User.email == "limited-admin@example.com"))
    dbsession.add(Membership(user_id=admin.id, site_id=world.site["own"]))
    dbsession.flush()
    assert scope_for_user(dbsession, admin).unlimited


def test_site_membership_and_zone_membership_limits():
    scope = Scope(
        whole_sites=frozenset({1}),
        zones=frozenset({7}),
        zone_sites=frozenset({2}),
        limited_by_site=True,
    )
    assert scope.allows_site(1) and scope.allows_site(2) and not scope.allows_site(3)
    assert scope.allows_zone(1, 99)  # any zone of a whole site
    assert scope.allows_zone(2, 7) and not scope.allows_zone(2, 8)
