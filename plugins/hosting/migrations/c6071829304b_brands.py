"""hosting: brands, their host names, customer brands, portal preferences

Revision ID: c6071829304b
Revises: b5f60718293a
Create Date: 2026-12-03 15:00:00.000000
"""

revision = "c6071829304b"
down_revision = "b5f60718293a"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
