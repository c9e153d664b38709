"""core: sessions remember the account's security stamp; access periods

Revision ID: b26d0fffe8f7
Revises: 143232137b99
Create Date: 2026-11-25 01:37:41.824205

Existing sessions are ended (they predate stamps) and every existing account gets its own
random stamp, so the upgrade works on a database that already has users.
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "b26d0fffe8f7"
down_revision = "143232137b99"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM core_user_sessions")
    with op.batch_alter_table("core_user_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stamp", sa.String(length=32), nullable=False))

    with op.batch_alter_table("core_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("valid_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("security_stamp", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("password_changed_at", sa.DateTime(), nullable=True))

    users = sa.table("core_users", sa.column("id", sa.Integer), sa.column("security_stamp"))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            users.update().where(users.c.id == user_id).values(security_stamp=secrets.token_hex(16))
        )
    with op.batch_alter_table("core_users", schema=None) as batch_op:
        batch_op.alter_column("security_stamp", existing_type=sa.String(length=32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("core_users", schema=None) as batch_op:
        batch_op.drop_column("password_changed_at")
        batch_op.drop_column("security_stamp")
        batch_op.drop_column("valid_until")
        batch_op.drop_column("valid_from")

    with op.batch_alter_table("core_user_sessions", schema=None) as batch_op:
        batch_op.drop_column("stamp")
