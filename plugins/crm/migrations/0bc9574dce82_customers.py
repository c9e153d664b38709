"""crm: customers

Revision ID: 0bc9574dce82
Revises:
Create Date: 2026-11-25 01:16:04.167352
"""

import sqlalchemy as sa
from alembic import op

revision = "0bc9574dce82"
down_revision = None
branch_labels = ("crm",)
depends_on = "143232137b99"


def upgrade() -> None:
    op.create_table(
        "crm_customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'ended')", name=op.f("ck_crm_customers_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_customers")),
        sa.UniqueConstraint("name", name=op.f("uq_crm_customers_name")),
    )


def downgrade() -> None:
    op.drop_table("crm_customers")
