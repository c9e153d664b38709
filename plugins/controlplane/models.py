from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hashinsight_core.db import Base, TimestampMixin
from hashinsight_core.models import User
from plugins.controlplane.states import CommandStatus
from plugins.hosting.models import Site


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


class Command(TimestampMixin, Base):
    """A remote command for the miners of one site, and the record of what became of it.

    ``status`` only changes through :func:`plugins.controlplane.states.transition`.
    """

    __tablename__ = "controlplane_commands"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_sites.id"), index=True)
    command_type: Mapped[str] = mapped_column(sa.String(32))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(20), default=CommandStatus.PENDING)
    # Kept when the account is deleted: the command stays on record, without a name.
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_users.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    expires_at: Mapped[dt.datetime]

    site: Mapped[Site] = relationship()
    requested_by: Mapped[User | None] = relationship()

    # The expiry job asks "which open commands are past their time?" every minute.
    __table_args__ = (
        sa.Index("ix_controlplane_commands_status_expires_at", "status", "expires_at"),
    )

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "site_id": self.site_id,
            "command_type": self.command_type,
            "params": self.params or {},
            "status": self.status,
            "requested_by_id": self.requested_by_id,
            "reason": self.reason,
            "expires_at": _iso(self.expires_at),
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }
