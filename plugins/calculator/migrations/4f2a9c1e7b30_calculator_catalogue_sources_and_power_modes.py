"""calculator: catalogue sources, notes, active flag and power modes

Revision ID: 4f2a9c1e7b30
Revises: dd429cc5f42b
Create Date: 2026-12-03 12:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "4f2a9c1e7b30"
down_revision = "dd429cc5f42b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Server defaults fill the rows that already exist (and keep SQLite's ADD COLUMN legal).
    op.add_column(
        "calculator_asic_models",
        sa.Column("source", sa.String(length=500), server_default="", nullable=False),
    )
    op.add_column(
        "calculator_asic_models",
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
    )
    op.add_column(
        "calculator_asic_models",
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.create_table(
        "calculator_asic_power_modes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asic_model_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("hashrate_ths", sa.Float(), nullable=False),
        sa.Column("power_w", sa.Float(), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint(
            "hashrate_ths > 0", name=op.f("ck_calculator_asic_power_modes_hashrate_positive")
        ),
        sa.CheckConstraint(
            "power_w > 0", name=op.f("ck_calculator_asic_power_modes_power_positive")
        ),
        sa.ForeignKeyConstraint(
            ["asic_model_id"],
            ["calculator_asic_models.id"],
            name=op.f("fk_calculator_asic_power_modes_asic_model_id_calculator_asic_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calculator_asic_power_modes")),
        sa.UniqueConstraint(
            "asic_model_id", "name", name="uq_calculator_asic_power_modes_model_name"
        ),
    )
    op.create_index(
        op.f("ix_calculator_asic_power_modes_asic_model_id"),
        "calculator_asic_power_modes",
        ["asic_model_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_calculator_asic_power_modes_asic_model_id"),
        table_name="calculator_asic_power_modes",
    )
    op.drop_table("calculator_asic_power_modes")
    with op.batch_alter_table("calculator_asic_models") as batch_op:
        batch_op.drop_column("is_active")
        batch_op.drop_column("notes")
        batch_op.drop_column("source")
