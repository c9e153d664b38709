from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hashinsight_core.db import Base, TimestampMixin


class Site(TimestampMixin, Base):
    """A mining site: one location with a power capacity and a local time zone."""

    __tablename__ = "hosting_sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    capacity_kw: Mapped[float] = mapped_column(sa.Float, default=0.0)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "timezone": self.timezone,
            "capacity_kw": self.capacity_kw,
            "created_at": self.created_at.isoformat() + "Z",
        }
