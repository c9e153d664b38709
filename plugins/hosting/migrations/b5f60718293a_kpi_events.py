"""hosting: excused events for KPIs

Revision ID: b5f60718293a
Revises: a4e5f6071829
Create Date: 2026-12-03 15:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "b5f60718293a"
down_revision = "a4e5f6071829"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "hosting_excused_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('curtailment', 'maintenance', 'customer_pause', 'utility_outage')",
            name=op.f("ck_hosting_excused_events_kind"),
        ),
        sa.CheckConstraint(
            "ends_at IS NULL OR ends_at > starts_at",
            name=op.f("ck_hosting_excused_events_period"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["core_customers.id"],
            name=op.f("fk_hosting_excused_events_customer_id_core_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["hosting_sites.id"],
            name=op.f("fk_hosting_excused_events_site_id_hosting_sites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["hosting_zones.id"],
            name=op.f("fk_hosting_excused_events_zone_id_hosting_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_excused_events")),
    )
    op.create_index(
        op.f("ix_hosting_excused_events_customer_id"), "hosting_excused_events", ["customer_id"]
    )
    op.create_index(
        "ix_hosting_excused_events_site_starts",
        "hosting_excused_events",
        ["site_id", "starts_at"],
    )
    op.create_table(
        "hosting_excused_event_miners",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("miner_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["hosting_excused_events.id"],
            name=op.f("fk_hosting_excused_event_miners_event_id_hosting_excused_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["miner_id"],
            ["hosting_miners.id"],
            name=op.f("fk_hosting_excused_event_miners_miner_id_hosting_miners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "event_id", "miner_id", name=op.f("pk_hosting_excused_event_miners")
        ),
    )
    op.create_index(
        op.f("ix_hosting_excused_event_miners_miner_id"),
        "hosting_excused_event_miners",
        ["miner_id"],
    )


def downgrade():
    op.drop_table("hosting_excused_event_miners")
    op.drop_table("hosting_excused_events")
