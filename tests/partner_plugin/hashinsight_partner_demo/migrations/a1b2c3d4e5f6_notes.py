"""partner demo notes

Revision ID: a1b2c3d4e5f6
Revises:
Create Date: 2026-11-25 01:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a1b2c3d4e5f6"
down_revision = None
branch_labels = ("partner_demo",)
depends_on = ("c85298b7c5b4",)  # hosting's first revision: this plugin requires hosting


def upgrade() -> None:
    op.create_table(
        "partner_demo_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_demo_notes")),
    )


def downgrade() -> None:
    op.drop_table("partner_demo_notes")
