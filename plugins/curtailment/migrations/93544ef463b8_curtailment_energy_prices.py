"""curtailment: energy prices

Revision ID: 93544ef463b8
Revises:
Create Date: 2026-11-25 01:19:57.053221
"""

import sqlalchemy as sa
from alembic import op

revision = "93544ef463b8"
down_revision = None
branch_labels = ("curtailment",)
# The core, hosting (sites, the foreign key's target) and controlplane, which this plugin
# requires: the branch follows the plugins' requirement chain.
depends_on = ("143232137b99", "c85298b7c5b4", "18dce9f383ad")


def upgrade() -> None:
    op.create_table(
        "curtailment_energy_prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("price_per_mwh", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["hosting_sites.id"],
            name=op.f("fk_curtailment_energy_prices_site_id_hosting_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_curtailment_energy_prices")),
        sa.UniqueConstraint(
            "site_id", "starts_at", name="uq_curtailment_energy_prices_site_id_starts_at"
        ),
    )


def downgrade() -> None:
    op.drop_table("curtailment_energy_prices")
