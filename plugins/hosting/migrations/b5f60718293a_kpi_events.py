"""hosting: excused events for KPIs

Revision ID: b5f60718293a
Revises: a4e5f6071829
Create Date: 2026-12-03 15:00:00.000000
"""

revision = "b5f60718293a"
down_revision = "a4e5f6071829"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
