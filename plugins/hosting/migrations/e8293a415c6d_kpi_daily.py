"""hosting: per-miner, per-day KPI rollup

``hosting_kpi_daily`` holds the telemetry side of the KPIs per miner and UTC day (reachable,
hashing, of them excused, hashrate, energy, metered power); ``hosting_kpi_days`` says which
days are rolled, how far, and from which 5-minute rows. See docs/kpi.md.

Revision ID: e8293a415c6d
Revises: d718293a415c
Create Date: 2026-12-03 16:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "e8293a415c6d"
down_revision = "d718293a415c"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "hosting_kpi_daily",
        sa.Column("miner_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("nominal_ths", sa.Float(), nullable=True),
        sa.Column("miner_created_at", sa.DateTime(), nullable=True),
        sa.Column("uniform", sa.Boolean(), nullable=False),
        sa.Column("buckets", sa.Integer(), nullable=False),
        sa.Column("reachable", sa.Integer(), nullable=False),
        sa.Column("hashing", sa.Integer(), nullable=False),
        sa.Column("reachable_excused", sa.Integer(), nullable=False),
        sa.Column("hashing_excused", sa.Integer(), nullable=False),
        sa.Column("hashrate_sum", sa.Float(), nullable=False),
        sa.Column("energy_kwh", sa.Float(), nullable=False),
        sa.Column("metered_power_sum", sa.Float(), nullable=False),
        sa.Column("metered_hashrate_sum", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("miner_id", "day", name=op.f("pk_hosting_kpi_daily")),
    )
    op.create_index(op.f("ix_hosting_kpi_daily_day"), "hosting_kpi_daily", ["day"])
    op.create_table(
        "hosting_kpi_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rolled_to", sa.DateTime(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("samples", sa.BigInteger(), nullable=False),
        sa.Column("online_samples", sa.BigInteger(), nullable=False),
        sa.Column("power_samples", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_hosting_kpi_days")),
    )


def downgrade():
    op.drop_table("hosting_kpi_days")
    op.drop_index(op.f("ix_hosting_kpi_daily_day"), table_name="hosting_kpi_daily")
    op.drop_table("hosting_kpi_daily")
