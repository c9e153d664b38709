"""controlplane: per-miner targets, approvals, risk and digest, site policies

Revision ID: 3f6a0c2b9d1e
Revises: 18dce9f383ad
Create Date: 2026-12-03 13:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "3f6a0c2b9d1e"
down_revision = "18dce9f383ad"
branch_labels = None
# The core's customers and hosting's miners, which the new foreign keys point at.
depends_on = ("5d2e8b1c9a47", "7a1b2c3d4e5f")


def upgrade() -> None:
    with op.batch_alter_table("controlplane_commands", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("selector", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(
            sa.Column("risk", sa.String(length=10), nullable=False, server_default="low")
        )
        batch_op.add_column(
            sa.Column("required", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(
            sa.Column("requester_role", sa.String(length=20), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("digest", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("status_reason", sa.String(length=500), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("dispatched_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("retry_of_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_controlplane_commands_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_controlplane_commands_customer_id_core_customers"),
            "core_customers",
            ["customer_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_controlplane_commands_retry_of_id_controlplane_commands"),
            "controlplane_commands",
            ["retry_of_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint(
            op.f("ck_controlplane_commands_risk"), "risk IN ('low', 'medium', 'high')"
        )
    # The server defaults only fill the rows that exist; the models always set these.
    with op.batch_alter_table("controlplane_commands", schema=None) as batch_op:
        for name in ("selector", "risk", "required", "requester_role", "digest", "status_reason"):
            batch_op.alter_column(name, server_default=None)

    op.create_table(
        "controlplane_command_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("command_id", sa.Integer(), nullable=False),
        sa.Column("miner_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("miner_key", sa.String(length=128), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(), nullable=True),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("acked_at", sa.DateTime(), nullable=True),
        sa.Column("result_code", sa.String(length=64), nullable=False),
        sa.Column("result_message", sa.String(length=500), nullable=False),
        sa.Column("error_class", sa.String(length=32), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("outcome_note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["command_id"],
            ["controlplane_commands.id"],
            name=op.f("fk_controlplane_command_targets_command_id_controlplane_commands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["miner_id"],
            ["hosting_miners.id"],
            name=op.f("fk_controlplane_command_targets_miner_id_hosting_miners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_controlplane_command_targets")),
        sa.UniqueConstraint(
            "command_id", "miner_id", name=op.f("uq_controlplane_command_targets_command_id")
        ),
    )
    with op.batch_alter_table("controlplane_command_targets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_controlplane_command_targets_command_id"), ["command_id"], unique=False
        )
        batch_op.create_index(
            "ix_controlplane_command_targets_zone_status", ["zone_id", "status"], unique=False
        )

    op.create_table(
        "controlplane_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("command_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "decision IN ('approve', 'reject')", name=op.f("ck_controlplane_approvals_decision")
        ),
        sa.ForeignKeyConstraint(
            ["command_id"],
            ["controlplane_commands.id"],
            name=op.f("fk_controlplane_approvals_command_id_controlplane_commands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core_users.id"],
            name=op.f("fk_controlplane_approvals_user_id_core_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_controlplane_approvals")),
        sa.UniqueConstraint(
            "command_id", "user_id", name=op.f("uq_controlplane_approvals_command_id")
        ),
    )
    with op.batch_alter_table("controlplane_approvals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_controlplane_approvals_command_id"), ["command_id"], unique=False
        )

    op.create_table(
        "controlplane_site_policies",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("risks", sa.JSON(), nullable=False),
        sa.Column("approver_roles", sa.JSON(), nullable=False),
        sa.Column("allow_unsigned", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["hosting_sites.id"],
            name=op.f("fk_controlplane_site_policies_site_id_hosting_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_controlplane_site_policies")),
    )


def downgrade() -> None:
    op.drop_table("controlplane_site_policies")
    with op.batch_alter_table("controlplane_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_controlplane_approvals_command_id"))
    op.drop_table("controlplane_approvals")
    with op.batch_alter_table("controlplane_command_targets", schema=None) as batch_op:
        batch_op.drop_index("ix_controlplane_command_targets_zone_status")
        batch_op.drop_index(batch_op.f("ix_controlplane_command_targets_command_id"))
    op.drop_table("controlplane_command_targets")
    with op.batch_alter_table("controlplane_commands", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_controlplane_commands_risk"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_controlplane_commands_retry_of_id_controlplane_commands"),
            type_="foreignkey",
        )
        batch_op.drop_constraint(
            batch_op.f("fk_controlplane_commands_customer_id_core_customers"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_controlplane_commands_customer_id"))
        for name in (
            "retry_of_id",
            "finished_at",
            "dispatched_at",
            "approved_at",
            "status_reason",
            "digest",
            "required",
            "requester_role",
            "risk",
            "selector",
            "customer_id",
        ):
            batch_op.drop_column(name)
