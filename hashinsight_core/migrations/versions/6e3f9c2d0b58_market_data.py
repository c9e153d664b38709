"""core: market data - latest figures, admin overrides, daily price and difficulty history

Revision ID: 6e3f9c2d0b58
Revises: 5d2e8b1c9a47
Create Date: 2026-12-03 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "6e3f9c2d0b58"
down_revision = "5d2e8b1c9a47"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_market_latest",
        sa.Column("figure", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("error_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("figure", name=op.f("pk_core_market_latest")),
    )
    op.create_table(
        "core_market_overrides",
        sa.Column("figure", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_users.id"],
            name=op.f("fk_core_market_overrides_created_by_id_core_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("figure", name=op.f("pk_core_market_overrides")),
    )
    op.create_table(
        "core_market_price_daily",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("open", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("close", sa.Float(), nullable=False),
        sa.Column("volume", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("date", name=op.f("pk_core_market_price_daily")),
    )
    op.create_table(
        "core_market_difficulty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("difficulty", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "height IS NOT NULL OR date IS NOT NULL",
            name=op.f("ck_core_market_difficulty_height_or_date"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_market_difficulty")),
        sa.UniqueConstraint("date", name=op.f("uq_core_market_difficulty_date")),
        sa.UniqueConstraint("height", name=op.f("uq_core_market_difficulty_height")),
    )


def downgrade() -> None:
    op.drop_table("core_market_difficulty")
    op.drop_table("core_market_price_daily")
    op.drop_table("core_market_overrides")
    op.drop_table("core_market_latest")
