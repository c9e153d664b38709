"""One alembic history: it builds the schema the models describe, and upgrades keep data."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hashinsight_core import migrate
from hashinsight_core.db import make_engine, metadata
from hashinsight_core.plugins import installed_plugins
from tests.conftest import ALL_PLUGINS


def import_all_models():
    from importlib import import_module

    import_module("hashinsight_core.models")
    for name in ALL_PLUGINS:
        module = import_module(installed_plugins()[name])
        for dotted in getattr(module, "hashinsight_models", lambda: [])():
            import_module(dotted)


def test_models_and_migrations_agree(engine):
    """The session database was built by `upgrade`; autogenerate must find nothing to do."""
    import_all_models()
    shipped = {t for t in metadata.tables if not t.startswith("partner_demo_")}
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [
            d
            for d in compare_metadata(context, metadata)
            if not (d[0] in {"add_table", "remove_table"} and d[1].name not in shipped)
        ]
    assert diff == [], f"models and migrations disagree: {diff}"


def test_every_shipped_plugin_with_models_has_a_migration_branch(engine):
    import_all_models()
    cfg = migrate.alembic_config(str(engine.url))
    with_migrations = set(migrate.branches_for(cfg, ALL_PLUGINS))
    for name in ALL_PLUGINS:
        if any(t.startswith(f"{name}_") for t in metadata.tables):
            assert name in with_migrations, f"{name} has tables but no migrations"


def test_enabling_more_plugins_later_keeps_existing_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'upgrade.sqlite'}"
    assert migrate.upgrade(url, ["hosting"]) == ["core", "hosting"]
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO hosting_sites (name, timezone, capacity_kw, created_at, updated_at) "
                "VALUES ('Kept', 'UTC', 10, '2026-01-01', '2026-01-01')"
            )
        )
    migrate.upgrade(url, ALL_PLUGINS)
    migrate.upgrade(url, ALL_PLUGINS)  # running again is a no-op
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT name FROM hosting_sites")) == "Kept"
    tables = set(sa.inspect(engine).get_table_names())
    import_all_models()
    shipped = {t for t in metadata.tables if not t.startswith("partner_demo_")}
    assert shipped <= tables
    engine.dispose()


def test_disabling_a_plugin_later_still_migrates(tmp_path):
    url = f"sqlite:///{tmp_path / 'disable.sqlite'}"
    migrate.upgrade(url, ALL_PLUGINS)
    assert migrate.upgrade(url, ["hosting"]) == ["core", "hosting"]


def test_customers_move_from_the_crm_into_the_core_with_their_ids(tmp_path):
    """Databases from before ABAC kept customers in crm_customers; the upgrade moves them."""
    from alembic import command

    url = f"sqlite:///{tmp_path / 'customers.sqlite'}"
    cfg = migrate.alembic_config(url)
    command.upgrade(cfg, "41c97591fd16")  # the core before customers moved
    command.upgrade(cfg, "0bc9574dce82")  # the CRM's first revision
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO crm_customers (id, name, status, contact_email, created_at, "
                "updated_at) VALUES (7, 'Kept Mining', 'active', 'ops@kept.example', "
                "'2026-01-01', '2026-01-01')"
            )
        )
    migrate.upgrade(url, ALL_PLUGINS)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT id, name, contact_email FROM core_customers")).one()
        assert tuple(row) == (7, "Kept Mining", "ops@kept.example")
    assert "crm_customers" not in sa.inspect(engine).get_table_names()
    engine.dispose()
