"""hosting: sites

Revision ID: c85298b7c5b4
Revises:
Create Date: 2026-11-25 01:07:41.588371
"""

import sqlalchemy as sa
from alembic import op

revision = "c85298b7c5b4"
down_revision = None
branch_labels = ("hosting",)
depends_on = "143232137b99"


def upgrade() -> None:
    op.create_table(
        "hosting_sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("capacity_kw", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_sites")),
        sa.UniqueConstraint("name", name=op.f("uq_hosting_sites_name")),
    )


def downgrade() -> None:
    op.drop_table("hosting_sites")
