"""Brand tables: brands, the host names that choose them, their images, and which brand a
customer belongs to. See docs/white-label.md.

Brands are the provider's own set-up, edited by admins. They are :class:`Scoped` with no
customer column so that the ORM scope hides them from customer accounts (a customer reaches
its brand only through ``brand_for_request``, which reads with ``unscoped``), and so that the
brand pages answer 404 to them like any foreign object.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hashinsight_core.db import Base, TimestampMixin, utcnow
from hashinsight_core.scoping import Scoped

IMAGE_KINDS = ("logo", "favicon")


class Brand(Scoped, TimestampMixin, Base):
    """A white-label look: name, images, colours, support contacts, mail and legal texts."""

    __tablename__ = "hosting_brands"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    primary_color: Mapped[str] = mapped_column(sa.String(9), default="#f7931a")
    background_color: Mapped[str] = mapped_column(sa.String(9), default="#1a1d2e")
    support_email: Mapped[str] = mapped_column(sa.String(254), default="")
    support_phone: Mapped[str] = mapped_column(sa.String(50), default="")
    support_url: Mapped[str] = mapped_column(sa.String(500), default="")
    legal_footer: Mapped[str] = mapped_column(sa.Text, default="")
    mail_footer: Mapped[str] = mapped_column(sa.Text, default="")
    # The brand for customers without one and for host names no brand claims.
    is_default: Mapped[bool] = mapped_column(default=False)
    # SHA-256 of the stored images (hosting_brand_images); the digest is also their URL.
    logo_digest: Mapped[str | None] = mapped_column(sa.String(64))
    favicon_digest: Mapped[str | None] = mapped_column(sa.String(64))


class BrandHost(Base):
    """A host name (custom domain) that shows a brand: lower case, no port, unique."""

    __tablename__ = "hosting_brand_hosts"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hosting_brands.id", ondelete="CASCADE"), index=True
    )
    host: Mapped[str] = mapped_column(sa.String(253), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BrandImage(Base):
    """An uploaded logo or favicon, stored in the database (every web process sees it, backups
    hold it) and addressed by its SHA-256, so its URL never changes and caches forever."""

    __tablename__ = "hosting_brand_images"

    digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(sa.String(50))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CustomerBrand(Scoped, Base):
    """The brand a customer's users and mails carry, whatever host name they use."""

    __tablename__ = "hosting_customer_brands"
    __scope__ = {"customer": "customer_id"}

    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("core_customers.id", ondelete="CASCADE"), primary_key=True
    )
    brand_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hosting_brands.id", ondelete="CASCADE"), index=True
    )
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
