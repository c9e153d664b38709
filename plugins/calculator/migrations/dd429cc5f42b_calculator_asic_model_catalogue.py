"""calculator: ASIC model catalogue

Revision ID: dd429cc5f42b
Revises:
Create Date: 2026-11-25 01:19:11.917415
"""

import sqlalchemy as sa
from alembic import op

revision = "dd429cc5f42b"
down_revision = None
branch_labels = ("calculator",)
depends_on = "143232137b99"


def upgrade() -> None:
    op.create_table(
        "calculator_asic_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("hashrate_ths", sa.Float(), nullable=False),
        sa.Column("power_w", sa.Float(), nullable=False),
        sa.Column("release_year", sa.Integer(), nullable=True),
        sa.Column("cooling", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "cooling IN ('air', 'hydro', 'immersion')",
            name=op.f("ck_calculator_asic_models_cooling_known"),
        ),
        sa.CheckConstraint(
            "hashrate_ths > 0", name=op.f("ck_calculator_asic_models_hashrate_positive")
        ),
        sa.CheckConstraint("power_w > 0", name=op.f("ck_calculator_asic_models_power_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calculator_asic_models")),
        sa.UniqueConstraint("vendor", "model", name="uq_calculator_asic_models_vendor_model"),
    )


def downgrade() -> None:
    op.drop_table("calculator_asic_models")
