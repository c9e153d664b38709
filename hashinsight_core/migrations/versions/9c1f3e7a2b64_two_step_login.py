"""core: two-step login (TOTP secret and recovery codes per account)

Revision ID: 9c1f3e7a2b64
Revises: 7e2a91c4d5b0
Create Date: 2026-11-25 02:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "9c1f3e7a2b64"
down_revision = "7e2a91c4d5b0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_user_mfa",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_encrypted", sa.String(length=200), nullable=False),
        sa.Column("enabled_at", sa.DateTime(), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("recovery_hashes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core_users.id"],
            name=op.f("fk_core_user_mfa_user_id_core_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_core_user_mfa")),
    )


def downgrade() -> None:
    op.drop_table("core_user_mfa")
