"""Every route, every role: who may call what, compared with a reviewed file.

The table in ``tests/authz_matrix.txt`` lists, for each route and HTTP method, the permission
its view names and the built-in roles that hold it (``anonymous`` for everyone). The test
builds the app with every shipped plugin, walks Pyramid's introspector, and fails when

- a view has no permission (every view must name one), or
- a route/method is missing from the file or the file lists one that no longer exists, or
- the roles allowed differ from the file.

After a deliberate change, regenerate the file and review the diff:
``HASHINSIGHT_WRITE_AUTHZ=1 .venv/bin/pytest tests/functional/test_authz_matrix.py``.
Object-level rules (a customer's own vs another customer's objects) are tested with the
objects they protect.
"""

from __future__ import annotations

import os
from pathlib import Path

from pyramid.authorization import ACLHelper, Authenticated, Everyone

from hashinsight_core.security import BUILTIN_ROLES, Root

MATRIX = Path(__file__).resolve().parents[1] / "authz_matrix.txt"
ROLES = ("anonymous",) + BUILTIN_ROLES


def principals(role: str) -> list[str]:
    if role == "anonymous":
        return [Everyone]
    return [Everyone, Authenticated, "user:1", f"role:{role}"]


def current_matrix(registry) -> tuple[list[str], list[str]]:
    """(table lines, views without a permission)."""

    class FakeRequest:
        pass

    request = FakeRequest()
    request.registry = registry
    request.custom_role_acl = []  # built-in roles only; custom roles are made at run time
    root = Root(request)
    helper = ACLHelper()
    lines, unprotected = set(), []
    for item in registry.introspector.get_category("views"):
        view = item["introspectable"]
        route = view["route_name"]
        if route is None or route.startswith("__"):  # exception and static views
            continue
        permissions = [r["value"] for r in item["related"] if r.category_name == "permissions"]
        methods = view["request_methods"] or ["ANY"]
        methods = sorted([methods] if isinstance(methods, str) else methods)
        if not permissions:
            unprotected.append(f"{route} {'/'.join(methods)}")
            continue
        permission = str(permissions[0])
        allowed = [r for r in ROLES if helper.permits(root, principals(r), permission)]
        for method in methods:
            lines.add(f"{route:40} {method:6} {permission:32} {' '.join(allowed)}")
    return sorted(lines), unprotected


def test_every_route_and_role_matches_the_reviewed_matrix(registry):
    lines, unprotected = current_matrix(registry)
    assert unprotected == [], f"views without a permission: {unprotected}"
    text = "\n".join(lines) + "\n"
    if os.environ.get("HASHINSIGHT_WRITE_AUTHZ"):
        MATRIX.write_text(text)
    expected = MATRIX.read_text().splitlines()
    added = sorted(set(lines) - set(expected))
    removed = sorted(set(expected) - set(lines))
    assert not added and not removed, (
        "the authorization matrix changed; review and regenerate tests/authz_matrix.txt\n"
        + "".join(f"+ {line}\n" for line in added)
        + "".join(f"- {line}\n" for line in removed)
    )


def unsafe_routes(registry, make_object=None) -> list[tuple[str, str, str]]:
    """(route name, method, a concrete path) for every state-changing view.

    Routes that load an object (``scoping.object_factory``) get a real one from
    ``make_object(route)``, so the request reaches the view instead of a 404.
    """
    import re

    from pyramid.interfaces import IRoutesMapper

    from tests.functional.test_abac import path_for

    routes = {r.name: r for r in registry.getUtility(IRoutesMapper).get_routes()}
    patterns = {name: r.pattern for name, r in routes.items()}
    found = set()
    for item in registry.introspector.get_category("views"):
        view = item["introspectable"]
        route = view["route_name"]
        methods = view["request_methods"] or ()
        methods = [methods] if isinstance(methods, str) else methods
        for method in set(methods) & {"POST", "PUT", "PATCH", "DELETE"}:
            pattern = patterns[route]
            # {id:\\d+} -> 1, {action:a|b} -> a, {code} -> x
            path = re.sub(r"\{(\w+):([a-z-]+)(\|[^}]*)?\}", r"\2", pattern)
            path = re.sub(r"\{\w+(:[^}]*)?\}", "1", path)
            if make_object and getattr(routes[route].factory, "model", None) is not None:
                path = path_for(routes[route], make_object(routes[route]))
            found.add((route, method, path))
    return sorted(found)


def test_every_state_changing_view_refuses_missing_token_and_foreign_origin(
    make_app, engine, dbsession
):
    from tests.abac_objects import MAKERS, build_world
    from tests.conftest import api_headers, login

    world = build_world(dbsession)
    dbsession.commit_now()

    def make_object(route):
        obj = MAKERS[route.factory.model.__name__].make(dbsession, world, "own")
        dbsession.commit_now()
        return obj

    app, registry = make_app()
    login(app, engine, "owner")
    routes = unsafe_routes(registry, make_object)
    assert len(routes) > 20
    failures = []
    for route, method, path in routes:
        no_token = app.request(
            path,
            method=method,
            body=b"{}",
            status="*",
            headers={"Content-Type": "application/json"},
        )
        foreign = app.request(
            path,
            method=method,
            body=b"{}",
            status="*",
            headers={
                **api_headers(app),
                "Content-Type": "application/json",
                "Origin": "http://evil.example",
            },
        )
        for label, response in (("no token", no_token), ("foreign origin", foreign)):
            if response.status_int != 400:
                failures.append(f"{method} {path} ({route}) with {label}: {response.status}")
    assert failures == []
