"""hosting: brands, their host names, customer brands, portal preferences

Revision ID: c6071829304b
Revises: b5f60718293a
Create Date: 2026-12-03 15:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "c6071829304b"
down_revision = "b5f60718293a"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "hosting_brands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("primary_color", sa.String(length=9), nullable=False),
        sa.Column("background_color", sa.String(length=9), nullable=False),
        sa.Column("support_email", sa.String(length=254), nullable=False),
        sa.Column("support_phone", sa.String(length=50), nullable=False),
        sa.Column("support_url", sa.String(length=500), nullable=False),
        sa.Column("legal_footer", sa.Text(), nullable=False),
        sa.Column("mail_footer", sa.Text(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("logo_digest", sa.String(length=64), nullable=True),
        sa.Column("favicon_digest", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_brands")),
        sa.UniqueConstraint("name", name=op.f("uq_hosting_brands_name")),
        sa.UniqueConstraint("slug", name=op.f("uq_hosting_brands_slug")),
    )
    op.create_table(
        "hosting_brand_hosts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["hosting_brands.id"],
            name=op.f("fk_hosting_brand_hosts_brand_id_hosting_brands"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosting_brand_hosts")),
        sa.UniqueConstraint("host", name=op.f("uq_hosting_brand_hosts_host")),
    )
    op.create_index(op.f("ix_hosting_brand_hosts_brand_id"), "hosting_brand_hosts", ["brand_id"])
    op.create_table(
        "hosting_brand_images",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_hosting_brand_images")),
    )
    op.create_table(
        "hosting_customer_brands",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["hosting_brands.id"],
            name=op.f("fk_hosting_customer_brands_brand_id_hosting_brands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["core_customers.id"],
            name=op.f("fk_hosting_customer_brands_customer_id_core_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_hosting_customer_brands")),
    )
    op.create_index(
        op.f("ix_hosting_customer_brands_brand_id"), "hosting_customer_brands", ["brand_id"]
    )
    op.create_table(
        "hosting_portal_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("mail_tickets", sa.Boolean(), nullable=False),
        sa.Column("mail_alerts", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core_users.id"],
            name=op.f("fk_hosting_portal_preferences_user_id_core_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_hosting_portal_preferences")),
    )


def downgrade():
    op.drop_table("hosting_portal_preferences")
    op.drop_index(op.f("ix_hosting_customer_brands_brand_id"), table_name="hosting_customer_brands")
    op.drop_table("hosting_customer_brands")
    op.drop_table("hosting_brand_images")
    op.drop_index(op.f("ix_hosting_brand_hosts_brand_id"), table_name="hosting_brand_hosts")
    op.drop_table("hosting_brand_hosts")
    op.drop_table("hosting_brands")
