"""The app builds with no plugin, each plugin alone (with what it requires) and all of them,
and what it offers is exactly what the enabled plugins contribute."""

from importlib import import_module

import pytest
from pyramid.interfaces import IRoutesMapper
from pyramid.scripting import prepare

from hashinsight_core.models import User
from hashinsight_core.plugins import installed_plugins
from tests.conftest import ALL_PLUGINS


def with_requirements(name: str) -> list[str]:
    module = import_module(installed_plugins()[name])
    names: list[str] = []
    for required in getattr(module, "REQUIRES", ()):
        names += [n for n in with_requirements(required) if n not in names]
    return names + [name]


CASES = [[]] + [with_requirements(name) for name in ALL_PLUGINS] + [ALL_PLUGINS]


def owned(name: str, plugins: list[str]) -> bool:
    """Whether a route/permission/task name belongs to one of ``plugins`` (or the core)."""
    prefix = name.replace(":", ".").split(".")[0]
    return prefix in plugins or prefix == "core"


@pytest.mark.parametrize("plugins", CASES, ids=lambda p: "+".join(p) or "none")
def test_app_offers_exactly_the_enabled_plugins(make_app, plugins):
    app, registry = make_app(plugins=plugins)
    assert app.get("/healthz").json == {"status": "ok"}

    route_names = {r.name for r in registry.getUtility(IRoutesMapper).get_routes()}
    route_names = {n for n in route_names if not n.startswith("__")}  # static views
    assert all(owned(n, plugins) for n in route_names), sorted(route_names)
    for plugin in plugins:
        assert any(n.startswith(f"{plugin}.") for n in route_names), f"{plugin} added no route"

    permissions = {str(spec.permission) for spec in registry["permission_specs"]}
    assert all(owned(p, plugins) for p in permissions), sorted(permissions)
    for plugin in plugins:
        assert any(p.startswith(f"{plugin}:") for p in permissions), f"{plugin}: no permission"

    assert all(owned(t, plugins) for t in registry["periodic_task_names"])
    assert {t.split(".")[0] for t in registry["periodic_task_names"]} <= {"core", *plugins}
    assert "core.audit_checkpoint" in registry["periodic_task_names"]  # the core's, always

    env = prepare(registry=registry)
    try:
        env["request"].user = User(id=1, email="o@example.com", role="owner")
        nav = {item.route_name for item in env["request"].nav_items}
    finally:
        env["closer"]()
    assert all(owned(n, plugins) for n in nav)
    assert {n.split(".")[0] for n in nav} == {"core", *plugins}

    # A path belongs to whoever its operations name: the core ("core.") or a plugin, whose
    # paths also sit under /api/v1/<plugin>/ — except wire contracts fixed by collectors
    # already in the field (marked "x-wire-contract"), such as /api/collector/upload.
    for path, item in registry["openapi_document"]["paths"].items():
        owners = {op["operationId"].split(".")[0] for op in item.values()}
        assert owners <= {"core", *plugins}, path
        if owners != {"core"} and not all(op.get("x-wire-contract") for op in item.values()):
            assert path.split("/")[3] in plugins, path


def test_disabled_plugin_pages_are_not_found(make_app, engine):
    app, _ = make_app(plugins=["calculator"])
    app.get("/hosting/sites/", status=404)
    app.get("/api/v1/hosting/sites", status=404)
