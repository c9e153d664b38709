"""core: custom roles

Revision ID: a3d58e10c2f7
Revises: 9c1f3e7a2b64
Create Date: 2026-11-25 02:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a3d58e10c2f7"
down_revision = "9c1f3e7a2b64"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_roles")),
        sa.UniqueConstraint("name", name=op.f("uq_core_roles_name")),
    )


def downgrade() -> None:
    op.drop_table("core_roles")
