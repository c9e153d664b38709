"""accounts and sessions

Revision ID: 143232137b99
Revises: 
Create Date: 2026-11-25 01:07:41.557837
"""

from alembic import op
import sqlalchemy as sa


revision = '143232137b99'
down_revision = None
branch_labels = ('core',)
depends_on = None


def upgrade() -> None:
    op.create_table('core_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=50), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=True),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_users')),
    sa.UniqueConstraint('email', name=op.f('uq_core_users_email'))
    )
    op.create_table('core_user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['core_users.id'], name=op.f('fk_core_user_sessions_user_id_core_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_user_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_core_user_sessions_token_hash'))
    )
    with op.batch_alter_table('core_user_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_core_user_sessions_user_id', ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('core_user_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_core_user_sessions_user_id')

    op.drop_table('core_user_sessions')
    op.drop_table('core_users')
