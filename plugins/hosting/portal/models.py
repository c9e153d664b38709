"""Portal tables: each account's notification preferences. See docs/white-label.md."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hashinsight_core.db import Base, utcnow


class PortalPreference(Base):
    """What one account wants by e-mail. No row: the defaults (everything on)."""

    __tablename__ = "hosting_portal_preferences"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("core_users.id", ondelete="CASCADE"), primary_key=True
    )
    mail_tickets: Mapped[bool] = mapped_column(default=True)
    mail_alerts: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
