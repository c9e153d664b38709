import importlib
import sys
import textwrap


def test_huey_consumer_module_builds_the_apps_huey(tmp_path, monkeypatch):
    ini = tmp_path / "w.ini"
    ini.write_text(
        textwrap.dedent(f"""
        [app:main]
        use = egg:hashinsight
        hashinsight.plugins = hosting controlplane
        sqlalchemy.url = sqlite:///{tmp_path}/db.sqlite
        huey.backend = sqlite
        huey.sqlite_path = {tmp_path}/huey.sqlite
    """)
    )
    monkeypatch.setenv("HASHINSIGHT_INI", str(ini))
    sys.modules.pop("hashinsight_core.worker", None)
    worker = importlib.import_module("hashinsight_core.worker")
    assert type(worker.huey).__name__ == "SqliteHuey"
    names = {t.__name__ for t in worker.huey._registry._periodic_tasks}
    assert "controlplane.expire_commands" in names
