"""hosting: telemetry in four layers — raw (partitioned by 5-minute bucket on PostgreSQL),
live, 5-minute history (partitioned by day), daily per miner/site/zone/customer — and the
rollup watermarks and late-data marks

Revision ID: 8b2c3d4e5f60
Revises: 7a1b2c3d4e5f
Create Date: 2026-12-03 12:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "8b2c3d4e5f60"
down_revision = "7a1b2c3d4e5f"
branch_labels = None
depends_on = None


def miner_keys() -> list:
    return [
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
    ]


def reading() -> list:
    return [
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("hashrate_ths", sa.Float(), nullable=True),
        sa.Column("hashrate_5s_ths", sa.Float(), nullable=True),
        sa.Column("nominal_ths", sa.Float(), nullable=True),
        sa.Column("power_w", sa.Float(), nullable=True),
        sa.Column("temp_max_c", sa.Float(), nullable=True),
        sa.Column("temp_avg_c", sa.Float(), nullable=True),
        sa.Column("fan_min_rpm", sa.Integer(), nullable=True),
        sa.Column("fans_total", sa.Integer(), nullable=True),
        sa.Column("fans_failed", sa.Integer(), nullable=True),
        sa.Column("boards_total", sa.Integer(), nullable=True),
        sa.Column("boards_ok", sa.Integer(), nullable=True),
        sa.Column("accepted", sa.BigInteger(), nullable=True),
        sa.Column("rejected", sa.BigInteger(), nullable=True),
        sa.Column("hw_errors", sa.BigInteger(), nullable=True),
        sa.Column("uptime_s", sa.Integer(), nullable=True),
        sa.Column("pool_url", sa.String(length=255), nullable=False),
        sa.Column("error_class", sa.String(length=64), nullable=False),
    ]


def aggregate() -> list:
    return [
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("online_samples", sa.Integer(), nullable=False),
        sa.Column("hashing_samples", sa.Integer(), nullable=False),
        sa.Column("hashrate_avg_ths", sa.Float(), nullable=False),
        sa.Column("hashrate_max_ths", sa.Float(), nullable=True),
        sa.Column("nominal_ths", sa.Float(), nullable=True),
        sa.Column("power_avg_w", sa.Float(), nullable=True),
        sa.Column("power_samples", sa.Integer(), nullable=False),
        sa.Column("energy_kwh", sa.Float(), nullable=False),
        sa.Column("temp_max_c", sa.Float(), nullable=True),
        sa.Column("temp_avg_c", sa.Float(), nullable=True),
        sa.Column("temp_samples", sa.Integer(), nullable=False),
        sa.Column("fan_min_rpm", sa.Integer(), nullable=True),
        sa.Column("fans_failed_max", sa.Integer(), nullable=True),
        sa.Column("boards_missing_max", sa.Integer(), nullable=True),
        sa.Column("accepted_delta", sa.BigInteger(), nullable=True),
        sa.Column("rejected_delta", sa.BigInteger(), nullable=True),
        sa.Column("hw_errors_delta", sa.BigInteger(), nullable=True),
        sa.Column("error_samples", sa.Integer(), nullable=False),
    ]


def fleet_daily() -> list:
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("miners", sa.Integer(), nullable=False),
        sa.Column("buckets", sa.Integer(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("online_samples", sa.Integer(), nullable=False),
        sa.Column("hashing_samples", sa.Integer(), nullable=False),
        sa.Column("hashrate_avg_ths", sa.Float(), nullable=False),
        sa.Column("nominal_ths", sa.Float(), nullable=False),
        sa.Column("power_avg_w", sa.Float(), nullable=False),
        sa.Column("energy_kwh", sa.Float(), nullable=False),
        sa.Column("temp_max_c", sa.Float(), nullable=True),
        sa.Column("accepted_delta", sa.BigInteger(), nullable=True),
        sa.Column("rejected_delta", sa.BigInteger(), nullable=True),
        sa.Column("hw_errors_delta", sa.BigInteger(), nullable=True),
        sa.Column("error_samples", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    # On PostgreSQL the raw and 5-minute tables are partitioned parents without partitions;
    # the telemetry jobs (and store() / the rollup, when one is missing) create them.
    op.create_table(
        "hosting_telemetry_raw",
        sa.Column("miner_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        *miner_keys(),
        *reading(),
        sa.PrimaryKeyConstraint("miner_id", "ts", name=op.f("pk_hosting_telemetry_raw")),
        postgresql_partition_by="RANGE (ts)",
    )
    op.create_table(
        "hosting_telemetry_live",
        sa.Column("miner_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        *miner_keys(),
        *reading(),
        sa.PrimaryKeyConstraint("miner_id", name=op.f("pk_hosting_telemetry_live")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Every upload rewrites its miners' live rows: free room in each page lets PostgreSQL
        # update them in place (HOT) without touching the index.
        op.execute("ALTER TABLE hosting_telemetry_live SET (fillfactor = 50)")
    op.create_table(
        "hosting_telemetry_5min",
        sa.Column("miner_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.DateTime(), nullable=False),
        *miner_keys(),
        *aggregate(),
        sa.PrimaryKeyConstraint("miner_id", "bucket", name=op.f("pk_hosting_telemetry_5min")),
        postgresql_partition_by="RANGE (bucket)",
    )
    op.create_table(
        "hosting_telemetry_daily",
        sa.Column("miner_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("buckets", sa.Integer(), nullable=False),
        *miner_keys(),
        *aggregate(),
        sa.PrimaryKeyConstraint("miner_id", "day", name=op.f("pk_hosting_telemetry_daily")),
    )
    op.create_index(
        op.f("ix_hosting_telemetry_daily_day"), "hosting_telemetry_daily", ["day"], unique=False
    )
    op.create_table(
        "hosting_telemetry_daily_sites",
        sa.Column("site_id", sa.Integer(), nullable=False),
        *fleet_daily(),
        sa.PrimaryKeyConstraint("site_id", "day", name=op.f("pk_hosting_telemetry_daily_sites")),
    )
    op.create_table(
        "hosting_telemetry_daily_zones",
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        *fleet_daily(),
        sa.PrimaryKeyConstraint("zone_id", "day", name=op.f("pk_hosting_telemetry_daily_zones")),
    )
    op.create_table(
        "hosting_telemetry_daily_customers",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        *fleet_daily(),
        sa.PrimaryKeyConstraint(
            "customer_id", "day", name=op.f("pk_hosting_telemetry_daily_customers")
        ),
    )
    op.create_table(
        "hosting_telemetry_watermarks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_hosting_telemetry_watermarks")),
    )
    op.create_table(
        "hosting_telemetry_dirty",
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("period", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("layer", "period", name=op.f("pk_hosting_telemetry_dirty")),
    )


def downgrade() -> None:
    op.drop_table("hosting_telemetry_dirty")
    op.drop_table("hosting_telemetry_watermarks")
    op.drop_table("hosting_telemetry_daily_customers")
    op.drop_table("hosting_telemetry_daily_zones")
    op.drop_table("hosting_telemetry_daily_sites")
    op.drop_index(op.f("ix_hosting_telemetry_daily_day"), table_name="hosting_telemetry_daily")
    op.drop_table("hosting_telemetry_daily")
    # Dropping a partitioned parent drops its partitions with it.
    op.drop_table("hosting_telemetry_5min")
    op.drop_table("hosting_telemetry_live")
    op.drop_table("hosting_telemetry_raw")
