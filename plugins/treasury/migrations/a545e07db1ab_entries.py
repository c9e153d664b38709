"""treasury: entries

Revision ID: a545e07db1ab
Revises:
Create Date: 2026-11-25 01:18:53.740460
"""

import sqlalchemy as sa
from alembic import op

revision = "a545e07db1ab"
down_revision = None
branch_labels = ("treasury",)
depends_on = "143232137b99"


def upgrade() -> None:
    op.create_table(
        "treasury_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("btc", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("usd", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('mined', 'bought', 'sold', 'fee')", name=op.f("ck_treasury_entries_kind")
        ),
        sa.CheckConstraint("btc > 0", name=op.f("ck_treasury_entries_btc_positive")),
        sa.CheckConstraint(
            "usd IS NULL OR usd >= 0", name=op.f("ck_treasury_entries_usd_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treasury_entries")),
    )
    with op.batch_alter_table("treasury_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_treasury_entries_occurred_on"), ["occurred_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("treasury_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_treasury_entries_occurred_on"))

    op.drop_table("treasury_entries")
