"""controlplane: remote commands

Revision ID: 18dce9f383ad
Revises:
Create Date: 2026-11-25 01:16:19.301850
"""

import sqlalchemy as sa
from alembic import op

revision = "18dce9f383ad"
down_revision = None
branch_labels = ("controlplane",)
# The core (accounts) and hosting (sites), whose tables the foreign keys point at.
depends_on = ("143232137b99", "c85298b7c5b4")


def upgrade() -> None:
    op.create_table(
        "controlplane_commands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("command_type", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["core_users.id"],
            name=op.f("fk_controlplane_commands_requested_by_id_core_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["hosting_sites.id"],
            name=op.f("fk_controlplane_commands_site_id_hosting_sites"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_controlplane_commands")),
    )
    with op.batch_alter_table("controlplane_commands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_controlplane_commands_site_id"), ["site_id"], unique=False
        )
        batch_op.create_index(
            "ix_controlplane_commands_status_expires_at", ["status", "expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("controlplane_commands", schema=None) as batch_op:
        batch_op.drop_index("ix_controlplane_commands_status_expires_at")
        batch_op.drop_index(batch_op.f("ix_controlplane_commands_site_id"))

    op.drop_table("controlplane_commands")
