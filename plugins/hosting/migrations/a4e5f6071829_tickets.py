"""hosting: tickets, ticket comments and attachments, repair log

Revision ID: a4e5f6071829
Revises: 9c3d4e5f6071
Create Date: 2026-12-03 15:00:00.000000
"""

revision = "a4e5f6071829"
down_revision = "9c3d4e5f6071"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
