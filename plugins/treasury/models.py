from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hashinsight_core.db import Base, TimestampMixin
from plugins.treasury.ledger import KINDS


class Entry(TimestampMixin, Base):
    """One movement of the farm's BTC: mined, bought, sold or paid as a fee."""

    __tablename__ = "treasury_entries"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN ({', '.join(repr(k) for k in KINDS)})", name="kind"),
        sa.CheckConstraint("btc > 0", name="btc_positive"),
        sa.CheckConstraint("usd IS NULL OR usd >= 0", name="usd_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_on: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    btc: Mapped[Decimal] = mapped_column(sa.Numeric(18, 8))
    # Bought: what was paid; sold: what was received; mined (optional): the market value then.
    usd: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    note: Mapped[str | None] = mapped_column(sa.String(500))

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "occurred_on": self.occurred_on.isoformat(),
            "kind": self.kind,
            "btc": f"{self.btc:.8f}",
            "usd": None if self.usd is None else f"{self.usd:.2f}",
            "note": self.note,
            "created_at": self.created_at.isoformat() + "Z",
        }
