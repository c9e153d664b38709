"""core: single-use e-mail links; e-mail verified time

Revision ID: 4b39468fb4df
Revises: b26d0fffe8f7
Create Date: 2026-11-25 01:44:54.882559
"""

from alembic import op
import sqlalchemy as sa


revision = '4b39468fb4df'
down_revision = 'b26d0fffe8f7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('core_user_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['core_users.id'], name=op.f('fk_core_user_tokens_user_id_core_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_user_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_core_user_tokens_token_hash'))
    )
    with op.batch_alter_table('core_user_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_core_user_tokens_user_id', ['user_id'], unique=False)

    with op.batch_alter_table('core_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('core_users', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')

    with op.batch_alter_table('core_user_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_core_user_tokens_user_id')

    op.drop_table('core_user_tokens')
