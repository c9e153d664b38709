"""The market tables built by migration 6e3f9c2d0b58 are exactly what the models describe."""

from __future__ import annotations

import importlib

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hashinsight_core.db import metadata


def test_market_models_and_migration_agree(engine):
    importlib.import_module("hashinsight_core.market.models")
    tables = {name for name in metadata.tables if name.startswith("core_market_")}
    assert tables == {
        "core_market_latest",
        "core_market_overrides",
        "core_market_price_daily",
        "core_market_difficulty",
    }
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(context, metadata) if "core_market_" in repr(d)]
    assert diff == [], f"market models and migration disagree: {diff}"
