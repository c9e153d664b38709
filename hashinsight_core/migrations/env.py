"""Alembic environment: the models of the core and of every installed plugin."""

from __future__ import annotations

from importlib import import_module

from alembic import context
from sqlalchemy import engine_from_config, pool

from hashinsight_core.db import metadata
from hashinsight_core.plugins import installed_plugins

config = context.config

import_module("hashinsight_core.models")
import_module("hashinsight_core.audit.models")
import_module("hashinsight_core.market.models")
for _name, target in installed_plugins().items():
    module = import_module(target)
    for dotted in module.hashinsight_models() if hasattr(module, "hashinsight_models") else ():
        import_module(dotted)

only_branch = config.attributes.get("only_branch")


def include_object(obj, name, type_, reflected, compare_to):
    # A new revision on one branch only holds that branch's tables.
    if only_branch and type_ == "table":
        prefix = "core_" if only_branch == "core" else f"{only_branch}_"
        return name.startswith(prefix)
    return True


def run(connection):
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        run(conn)
