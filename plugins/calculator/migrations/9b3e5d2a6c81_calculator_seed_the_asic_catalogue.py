"""calculator: seed the ASIC catalogue from plugins/calculator/data/asic_models.csv

Revision ID: 9b3e5d2a6c81
Revises: 4f2a9c1e7b30
Create Date: 2026-12-03 12:45:00

Adds the shipped models that are missing, matched by vendor and model ignoring case and
spacing, so a database whose admins already entered some keeps their rows and edits. The
file is the one ``catalogue.seed`` reads (checked by the same rules); only the columns this
revision knows are written, so a later column in the file does not break it.
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "9b3e5d2a6c81"
down_revision = "4f2a9c1e7b30"
branch_labels = None
depends_on = None

models = sa.table(
    "calculator_asic_models",
    sa.column("id", sa.Integer),
    sa.column("vendor", sa.String),
    sa.column("model", sa.String),
    sa.column("hashrate_ths", sa.Float),
    sa.column("power_w", sa.Float),
    sa.column("release_year", sa.Integer),
    sa.column("cooling", sa.String),
    sa.column("source", sa.String),
    sa.column("notes", sa.Text),
    sa.column("is_active", sa.Boolean),
    sa.column("created_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)
modes = sa.table(
    "calculator_asic_power_modes",
    sa.column("asic_model_id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("hashrate_ths", sa.Float),
    sa.column("power_w", sa.Float),
    sa.column("is_default", sa.Boolean),
)


def upgrade() -> None:
    from plugins.calculator.catalogue import load_seed_specs, name_key

    conn = op.get_bind()
    present = {name_key(v, m) for v, m in conn.execute(sa.select(models.c.vendor, models.c.model))}
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for spec in load_seed_specs():
        if spec.key in present:
            continue
        present.add(spec.key)
        model_id = conn.execute(
            models.insert()
            .values(
                vendor=spec.vendor,
                model=spec.model,
                hashrate_ths=spec.hashrate_ths,
                power_w=spec.power_w,
                release_year=spec.release_year,
                cooling=spec.cooling,
                source=spec.source,
                notes=spec.notes,
                is_active=spec.is_active,
                created_at=now,
                updated_at=now,
            )
            .returning(models.c.id)
        ).scalar_one()
        for mode in spec.power_modes:
            conn.execute(
                modes.insert().values(
                    asic_model_id=model_id,
                    name=mode.name,
                    hashrate_ths=mode.hashrate_ths,
                    power_w=mode.power_w,
                    is_default=mode.is_default,
                )
            )


def downgrade() -> None:
    # The rows stay: by now admins may have edited them or pointed other tables at them.
    pass
