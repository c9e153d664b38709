"""crm: customers move to the core (core_customers); the old table goes

Revision ID: e1c0a7b3d925
Revises: 0bc9574dce82
Create Date: 2026-12-03 12:40:00

The core revision 5d2e8b1c9a47 copied every row (same ids) before this runs.
"""

import sqlalchemy as sa
from alembic import op

revision = "e1c0a7b3d925"
down_revision = "0bc9574dce82"
branch_labels = None
depends_on = "5d2e8b1c9a47"


def upgrade() -> None:
    op.drop_table("crm_customers")


def downgrade() -> None:
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
    op.execute(
        "INSERT INTO crm_customers (id, name, contact_name, contact_email, phone, status, notes,"
        " created_at, updated_at) SELECT id, name, contact_name, contact_email, phone, status,"
        " notes, created_at, updated_at FROM core_customers"
    )
