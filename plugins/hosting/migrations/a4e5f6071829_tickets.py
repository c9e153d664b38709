"""hosting: tickets, ticket comments and attachments, repair log

Revision ID: a4e5f6071829
Revises: 9c3d4e5f6071
Create Date: 2026-12-03 15:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "a4e5f6071829"
down_revision = "9c3d4e5f6071"
branch_labels = None
depends_on = None

CATEGORIES = (
    "hashboard",
    "fan",
    "psu",
    "control_board",
    "network",
    "pool",
    "overheating",
    "billing",
    "other",
)
STATUSES = ("open", "in_progress", "waiting_customer", "waiting_parts", "resolved", "closed")


def listed(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _places() -> list:
    return [
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("zone_id", sa.Integer(), nullable=True),
    ]


def _ticket_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["ticket_id"],
        ["hosting_tickets.id"],
        name=op.f(f"fk_{table}_ticket_id_hosting_tickets"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "hosting_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        *_places(),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("first_response_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("response_due_at", sa.DateTime(), nullable=False),
        sa.Column("resolution_due_at", sa.DateTime(), nullable=False),
        sa.Column("paused_seconds", sa.Integer(), nullable=False),
        sa.Column("paused_since", sa.DateTime(), nullable=True),
        sa.Column("response_breached", sa.Boolean(), nullable=False),
        sa.Column("resolution_breached", sa.Boolean(), nullable=False),
        sa.Column("alert_rule_id", sa.Integer(), nullable=True),
        sa.Column("incident_key", sa.String(length=64), nullable=True),
        sa.Column("open_incident_key", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            f"category IN ({listed(CATEGORIES)})", name=op.f("ck_hosting_tickets_category")
        ),
        sa.CheckConstraint(
            "priority IN ('low', 'normal', 'high', 'urgent')",
            name=op.f("ck_hosting_tickets_priority"),
        ),
        sa.CheckConstraint(
            "source IN ('customer', 'operator', 'alert')", name=op.f("ck_hosting_tickets_source")
        ),
        sa.CheckConstraint(
            f"status IN ({listed(STATUSES)})", name=op.f("ck_hosting_tickets_status")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["core_customers.id"],
            name=op.f("fk_hosting_tickets_customer_id_core_customers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_tickets")),
        sa.UniqueConstraint("open_incident_key", name=op.f("uq_hosting_tickets_open_incident_key")),
    )
    for name, columns in (
        ("assignee_status", ["assignee_id", "status"]),
        ("customer_status", ["customer_id", "status"]),
        ("rule_incident", ["alert_rule_id", "incident_key"]),
        ("site_status", ["site_id", "status"]),
        ("status_priority", ["status", "priority"]),
    ):
        op.create_index(f"ix_hosting_tickets_{name}", "hosting_tickets", columns)

    op.create_table(
        "hosting_ticket_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        *_places(),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _ticket_fk("hosting_ticket_comments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_ticket_comments")),
    )
    op.create_index(
        "ix_hosting_ticket_comments_ticket_id", "hosting_ticket_comments", ["ticket_id"]
    )

    op.create_table(
        "hosting_ticket_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        *_places(),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_value", sa.String(length=100), nullable=False),
        sa.Column("to_value", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        _ticket_fk("hosting_ticket_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_ticket_events")),
    )
    op.create_index(
        "ix_hosting_ticket_events_ticket_at", "hosting_ticket_events", ["ticket_id", "at"]
    )

    op.create_table(
        "hosting_ticket_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        *_places(),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "content_type IN ('image/png', 'image/jpeg', 'image/webp', 'image/gif')",
            name=op.f("ck_hosting_ticket_attachments_content_type"),
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["hosting_ticket_comments.id"],
            name=op.f("fk_hosting_ticket_attachments_comment_id_hosting_ticket_comments"),
            ondelete="SET NULL",
        ),
        _ticket_fk("hosting_ticket_attachments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_ticket_attachments")),
    )
    op.create_index(
        "ix_hosting_ticket_attachments_ticket_id", "hosting_ticket_attachments", ["ticket_id"]
    )

    op.create_table(
        "hosting_repairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("miner_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("part", sa.String(length=100), nullable=False),
        sa.Column("old_serial", sa.String(length=100), nullable=False),
        sa.Column("new_serial", sa.String(length=100), nullable=False),
        sa.Column("rma_number", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('part_swap', 'rma_sent', 'rma_returned', 'repair', 'note')",
            name=op.f("ck_hosting_repairs_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["miner_id"],
            ["hosting_miners.id"],
            name=op.f("fk_hosting_repairs_miner_id_hosting_miners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["hosting_tickets.id"],
            name=op.f("fk_hosting_repairs_ticket_id_hosting_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_repairs")),
    )
    op.create_index("ix_hosting_repairs_miner_at", "hosting_repairs", ["miner_id", "at"])
    op.create_index("ix_hosting_repairs_ticket_id", "hosting_repairs", ["ticket_id"])

    op.create_table(
        "hosting_ticket_miners",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("miner_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["miner_id"],
            ["hosting_miners.id"],
            name=op.f("fk_hosting_ticket_miners_miner_id_hosting_miners"),
            ondelete="CASCADE",
        ),
        _ticket_fk("hosting_ticket_miners"),
        sa.PrimaryKeyConstraint("ticket_id", "miner_id", name=op.f("pk_hosting_ticket_miners")),
    )
    op.create_index("ix_hosting_ticket_miners_miner_id", "hosting_ticket_miners", ["miner_id"])

    # Alert rules may open a ticket per incident.
    op.add_column(
        "hosting_alert_rules",
        sa.Column("open_ticket", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("hosting_alert_rules") as batch:
        batch.drop_column("open_ticket")
    for table in (
        "hosting_ticket_miners",
        "hosting_repairs",
        "hosting_ticket_attachments",
        "hosting_ticket_events",
        "hosting_ticket_comments",
        "hosting_tickets",
    ):
        op.drop_table(table)
