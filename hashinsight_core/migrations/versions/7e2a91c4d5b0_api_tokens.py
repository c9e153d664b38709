"""core: API tokens

Revision ID: 7e2a91c4d5b0
Revises: 4b39468fb4df
Create Date: 2026-11-25 02:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7e2a91c4d5b0"
down_revision = "4b39468fb4df"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core_users.id"],
            name=op.f("fk_core_api_tokens_user_id_core_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_core_api_tokens_token_hash")),
    )
    op.create_index("ix_core_api_tokens_user_id", "core_api_tokens", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_core_api_tokens_user_id", table_name="core_api_tokens")
    op.drop_table("core_api_tokens")
