"""hosting: the farm — zones, racks, miners and their history, edge devices, batches,
discovery candidates; sites get a location and a tariff

Revision ID: 7a1b2c3d4e5f
Revises: c85298b7c5b4
Create Date: 2026-12-03 12:27:24.560910
"""

import sqlalchemy as sa
from alembic import op

revision = "7a1b2c3d4e5f"
down_revision = "c85298b7c5b4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hosting_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("capacity_kw", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["hosting_sites.id"],
            name=op.f("fk_hosting_zones_site_id_hosting_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_zones")),
        sa.UniqueConstraint("site_id", "name", name=op.f("uq_hosting_zones_site_id")),
    )
    op.create_table(
        "hosting_edge_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_prefix", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("rotated_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.Column("last_ip", sa.String(length=45), nullable=True),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("edge_uid", sa.String(length=64), nullable=False),
        sa.Column("spool_depth", sa.Integer(), nullable=True),
        sa.Column("dropped_total", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["hosting_sites.id"],
            name=op.f("fk_hosting_edge_devices_site_id_hosting_sites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["hosting_zones.id"],
            name=op.f("fk_hosting_edge_devices_zone_id_hosting_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_edge_devices")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_hosting_edge_devices_token_hash")),
    )
    op.create_table(
        "hosting_racks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("rows >= 1 AND slots >= 1", name=op.f("ck_hosting_racks_size")),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["hosting_sites.id"],
            name=op.f("fk_hosting_racks_site_id_hosting_sites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["hosting_zones.id"],
            name=op.f("fk_hosting_racks_zone_id_hosting_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_racks")),
        sa.UniqueConstraint("zone_id", "name", name=op.f("uq_hosting_racks_zone_id")),
    )
    op.create_table(
        "hosting_edge_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("idem_key", sa.String(length=128), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["hosting_edge_devices.id"],
            name=op.f("fk_hosting_edge_batches_device_id_hosting_edge_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_edge_batches")),
        sa.UniqueConstraint(
            "device_id", "idem_key", name=op.f("uq_hosting_edge_batches_device_id")
        ),
    )
    with op.batch_alter_table("hosting_edge_batches", schema=None) as batch_op:
        batch_op.create_index("ix_hosting_edge_batches_received_at", ["received_at"], unique=False)

    op.create_table(
        "hosting_miners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=True),
        sa.Column("mac", sa.String(length=17), nullable=True),
        sa.Column("miner_key", sa.String(length=128), nullable=True),
        sa.Column("asic_model_id", sa.Integer(), nullable=True),
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("nominal_ths", sa.Float(), nullable=True),
        sa.Column("nominal_w", sa.Float(), nullable=True),
        sa.Column("firmware", sa.String(length=100), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("rack_id", sa.Integer(), nullable=True),
        sa.Column("rack_row", sa.Integer(), nullable=True),
        sa.Column("rack_slot", sa.Integer(), nullable=True),
        sa.Column("pool_url", sa.String(length=300), nullable=False),
        sa.Column("pool_worker", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('unassigned', 'received', 'installed', 'online', 'offline', "
            "'maintenance', 'rma', 'retired')",
            name=op.f("ck_hosting_miners_status"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["core_customers.id"],
            name=op.f("fk_hosting_miners_customer_id_core_customers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rack_id"],
            ["hosting_racks.id"],
            name=op.f("fk_hosting_miners_rack_id_hosting_racks"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["hosting_sites.id"],
            name=op.f("fk_hosting_miners_site_id_hosting_sites"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["hosting_zones.id"],
            name=op.f("fk_hosting_miners_zone_id_hosting_zones"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_miners")),
        sa.UniqueConstraint("mac", name=op.f("uq_hosting_miners_mac")),
        sa.UniqueConstraint(
            "rack_id", "rack_row", "rack_slot", name=op.f("uq_hosting_miners_rack_id")
        ),
        sa.UniqueConstraint("serial", name=op.f("uq_hosting_miners_serial")),
        sa.UniqueConstraint("site_id", "miner_key", name=op.f("uq_hosting_miners_site_id")),
    )
    with op.batch_alter_table("hosting_miners", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hosting_miners_customer_status", ["customer_id", "status"], unique=False
        )
        batch_op.create_index("ix_hosting_miners_model_name", ["model_name"], unique=False)
        batch_op.create_index("ix_hosting_miners_site_status", ["site_id", "status"], unique=False)
        batch_op.create_index("ix_hosting_miners_zone_status", ["zone_id", "status"], unique=False)

    op.create_table(
        "hosting_discovery_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("miner_key", sa.String(length=128), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=17), nullable=False),
        sa.Column("vendor", sa.String(length=50), nullable=False),
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("firmware", sa.String(length=100), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("seen_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("miner_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('new', 'adopted', 'ignored')",
            name=op.f("ck_hosting_discovery_candidates_status"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["hosting_edge_devices.id"],
            name=op.f("fk_hosting_discovery_candidates_device_id_hosting_edge_devices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["miner_id"],
            ["hosting_miners.id"],
            name=op.f("fk_hosting_discovery_candidates_miner_id_hosting_miners"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["hosting_sites.id"],
            name=op.f("fk_hosting_discovery_candidates_site_id_hosting_sites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["hosting_zones.id"],
            name=op.f("fk_hosting_discovery_candidates_zone_id_hosting_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_discovery_candidates")),
        sa.UniqueConstraint(
            "zone_id", "miner_key", name=op.f("uq_hosting_discovery_candidates_zone_id")
        ),
    )
    with op.batch_alter_table("hosting_discovery_candidates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hosting_discovery_candidates_zone_status", ["zone_id", "status"], unique=False
        )

    op.create_table(
        "hosting_miner_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("miner_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_value", sa.String(length=200), nullable=False),
        sa.Column("to_value", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["miner_id"],
            ["hosting_miners.id"],
            name=op.f("fk_hosting_miner_history_miner_id_hosting_miners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_miner_history")),
    )
    with op.batch_alter_table("hosting_miner_history", schema=None) as batch_op:
        batch_op.create_index("ix_hosting_miner_history_miner_at", ["miner_id", "at"], unique=False)

    with op.batch_alter_table("hosting_sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("location", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("tariff_per_kwh", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("tariff_currency", sa.String(length=3), server_default="USD", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("hosting_sites", schema=None) as batch_op:
        batch_op.drop_column("tariff_currency")
        batch_op.drop_column("tariff_per_kwh")
        batch_op.drop_column("location")

    with op.batch_alter_table("hosting_miner_history", schema=None) as batch_op:
        batch_op.drop_index("ix_hosting_miner_history_miner_at")

    op.drop_table("hosting_miner_history")
    with op.batch_alter_table("hosting_discovery_candidates", schema=None) as batch_op:
        batch_op.drop_index("ix_hosting_discovery_candidates_zone_status")

    op.drop_table("hosting_discovery_candidates")
    with op.batch_alter_table("hosting_miners", schema=None) as batch_op:
        batch_op.drop_index("ix_hosting_miners_zone_status")
        batch_op.drop_index("ix_hosting_miners_site_status")
        batch_op.drop_index("ix_hosting_miners_model_name")
        batch_op.drop_index("ix_hosting_miners_customer_status")

    op.drop_table("hosting_miners")
    with op.batch_alter_table("hosting_edge_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_hosting_edge_batches_received_at")

    op.drop_table("hosting_edge_batches")
    op.drop_table("hosting_racks")
    op.drop_table("hosting_edge_devices")
    op.drop_table("hosting_zones")
