"""core: customers (organizations), accounts belong to a customer, site/zone memberships

Revision ID: 5d2e8b1c9a47
Revises: 41c97591fd16
Create Date: 2026-12-03 12:40:00

Customers used to live in the CRM plugin's ``crm_customers``. They are the unit of ABAC
isolation now, so the core owns them; existing rows are copied with their ids (the CRM
branch drops its old table afterwards).
"""

import sqlalchemy as sa
from alembic import op

revision = "5d2e8b1c9a47"
down_revision = "41c97591fd16"
branch_labels = None
depends_on = None

COLUMNS = "id, name, contact_name, contact_email, phone, status, notes, created_at, updated_at"


def upgrade() -> None:
    op.create_table(
        "core_customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'ended')", name=op.f("ck_core_customers_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_customers")),
        sa.UniqueConstraint("name", name=op.f("uq_core_customers_name")),
    )
    connection = op.get_bind()
    if sa.inspect(connection).has_table("crm_customers"):
        op.execute(f"INSERT INTO core_customers ({COLUMNS}) SELECT {COLUMNS} FROM crm_customers")
        if connection.dialect.name == "postgresql":
            op.execute(
                "SELECT setval(pg_get_serial_sequence('core_customers', 'id'), "
                "COALESCE((SELECT MAX(id) FROM core_customers), 0) + 1, false)"
            )
    op.create_table(
        "core_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core_users.id"],
            name=op.f("fk_core_memberships_user_id_core_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_memberships")),
        sa.UniqueConstraint(
            "user_id", "site_id", "zone_id", name=op.f("uq_core_memberships_user_id")
        ),
    )
    op.create_index("ix_core_memberships_user_id", "core_memberships", ["user_id"], unique=False)
    with op.batch_alter_table("core_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_core_users_customer_id"), ["customer_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_core_users_customer_id_core_customers"),
            "core_customers",
            ["customer_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("core_users", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_core_users_customer_id_core_customers"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_core_users_customer_id"))
        batch_op.drop_column("customer_id")
    op.drop_index("ix_core_memberships_user_id", table_name="core_memberships")
    op.drop_table("core_memberships")
    op.drop_table("core_customers")
