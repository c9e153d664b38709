from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hashinsight_core.db import Base, TimestampMixin

STATUSES = ("active", "paused", "ended")


class Customer(TimestampMixin, Base):
    """A customer of the hosting provider: who they are and how to reach them."""

    __tablename__ = "crm_customers"
    __table_args__ = (sa.CheckConstraint("status IN ('active', 'paused', 'ended')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    contact_name: Mapped[str | None] = mapped_column(sa.String(200))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(50))
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    notes: Mapped[str | None] = mapped_column(sa.Text)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "contact_name": self.contact_name,
            "contact_email": self.contact_email,
            "phone": self.phone,
            "status": self.status,
            "notes": self.notes,
            "created_at": self.created_at.isoformat() + "Z",
            "updated_at": self.updated_at.isoformat() + "Z",
        }
