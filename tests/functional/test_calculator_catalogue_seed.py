"""The migration that seeds the catalogue: every shipped model, once, and never over an
admin's rows. Each test builds its own database (SQLite file or PostgreSQL schema)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic import command

from hashinsight_core import migrate
from hashinsight_core.db import make_engine
from plugins.calculator import catalogue
from tests.conftest import ALL_PLUGINS, PG_URL, backend, unavailable

BEFORE_SEED = "4f2a9c1e7b30"  # sources, notes, is_active and the power modes table


@pytest.fixture
def fresh_url(tmp_path):
    if backend() != "postgresql":
        yield f"sqlite:///{tmp_path / 'seed.sqlite'}"
        return
    schema = f"seed_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as error:
        unavailable("PostgreSQL", str(error).splitlines()[0])
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def rows(engine) -> dict[tuple[str, str], tuple]:
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT vendor, model, hashrate_ths, power_w, cooling, release_year, source, "
                "is_active FROM calculator_asic_models"
            )
        ).all()
    return {(r[0], r[1]): tuple(r[2:]) for r in found}


def test_a_new_database_holds_the_shipped_catalogue_with_sources_and_modes(fresh_url):
    migrate.upgrade(fresh_url, ALL_PLUGINS)
    engine = make_engine(fresh_url)
    found = rows(engine)
    specs = catalogue.load_seed_specs()
    assert len(found) == len(specs) >= 25
    for spec in specs:
        hashrate, power, cooling, year, source, active = found[(spec.vendor, spec.model)]
        assert (hashrate, power, cooling, year) == (
            spec.hashrate_ths,
            spec.power_w,
            spec.cooling,
            spec.release_year,
        )
        assert "http" in source and active
    with engine.connect() as conn:
        modes = conn.execute(
            sa.text(
                "SELECT p.name, p.hashrate_ths, p.power_w, p.is_default "
                "FROM calculator_asic_power_modes p JOIN calculator_asic_models m "
                "ON m.id = p.asic_model_id WHERE m.model = 'Antminer T19' ORDER BY p.power_w"
            )
        ).all()
    # The reference gives the T19 as 84 TH/s at 3,150 W with an 88 TH/s / 3,344 W bin.
    assert [tuple(m) for m in modes] == [("84T", 84, 3150, True), ("88T bin", 88, 3344, False)]
    engine.dispose()


def test_the_seed_adds_only_missing_models_and_keeps_admin_rows(fresh_url):
    cfg = migrate.alembic_config(fresh_url)
    command.upgrade(cfg, "core@head")
    command.upgrade(cfg, BEFORE_SEED)
    engine = make_engine(fresh_url)
    with engine.begin() as conn:
        # An admin entered the S21 before the seed existed (other case, own figures) and a
        # model the seed does not know.
        for vendor, model, power in (("bitmain", "antminer s21", 3550), ("Acme", "Own 1", 3000)):
            conn.execute(
                sa.text(
                    "INSERT INTO calculator_asic_models (vendor, model, hashrate_ths, power_w, "
                    "cooling, created_at, updated_at) VALUES (:v, :m, 200, :p, 'air', "
                    "'2026-01-01', '2026-01-01')"
                ),
                {"v": vendor, "m": model, "p": power},
            )
    migrate.upgrade(fresh_url, ALL_PLUGINS)
    migrate.upgrade(fresh_url, ALL_PLUGINS)  # again: a no-op
    found = rows(engine)
    assert found[("bitmain", "antminer s21")][1] == 3550  # not overwritten
    assert ("Bitmain", "Antminer S21") not in found  # and not added twice
    assert found[("Acme", "Own 1")][1] == 3000
    assert len(found) == len(catalogue.load_seed_specs()) + 1
    engine.dispose()
