"""A plugin from another distribution (tests/partner_plugin) plugs in through the same hooks."""

import sqlalchemy as sa

from hashinsight_core import migrate
from hashinsight_core.db import make_engine
from tests.conftest import base_settings, login


def test_partner_plugin_adds_route_model_task_and_nav(tmp_path):
    from webtest import TestApp

    from hashinsight_core import make_config

    url = f"sqlite:///{tmp_path / 'partner.sqlite'}"
    branches = migrate.upgrade(url, ["hosting", "partner_demo"])
    assert branches == ["core", "hosting", "partner_demo"]
    engine = make_engine(url)
    assert sa.inspect(engine).has_table("partner_demo_notes")

    settings = base_settings(url)
    settings["hashinsight.plugins"] = "hosting partner_demo"
    settings["hashinsight.engine"] = engine
    config = make_config(settings, environ={})
    registry = config.registry
    app = TestApp(config.make_wsgi_app())

    # The periodic task is registered on huey and runs inside a request + transaction.
    assert "partner_demo.heartbeat" in registry["periodic_task_names"]
    registry["periodic_tasks"]["partner_demo.heartbeat"].call_local()

    login(app, engine, "viewer")
    assert app.get("/api/v1/partner-demo/notes/count").json == {"count": 1}
    home = app.get("/")
    assert 'data-route="partner_demo.note.list"' in home.text
    assert "heartbeat" in app.get("/partner-demo/notes/").text
    assert "/api/v1/partner-demo/notes/count" in app.get("/api/v1/openapi.json").json["paths"]
    engine.dispose()


def test_partner_plugin_without_its_requirement_refuses_to_start(tmp_path):
    import pytest

    from hashinsight_core import make_config
    from hashinsight_core.plugins import PluginError

    settings = base_settings(f"sqlite:///{tmp_path / 'x.sqlite'}")
    settings["hashinsight.plugins"] = "partner_demo"
    with pytest.raises(PluginError, match="'partner_demo' requires plugin 'hosting'"):
        make_config(settings, environ={})
