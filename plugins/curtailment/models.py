from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hashinsight_core.db import Base, TimestampMixin

PRICE_PLACES = Decimal("0.0001")


class EnergyPrice(TimestampMixin, Base):
    """The price of one hour of power at a site (day-ahead, real-time or a contract).

    ``starts_at`` is the start of the hour in UTC. Prices may be negative: real markets pay
    consumers to take power when there is too much of it.
    """

    __tablename__ = "curtailment_energy_prices"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_sites.id", ondelete="CASCADE"))
    starts_at: Mapped[dt.datetime]
    price_per_mwh: Mapped[Decimal] = mapped_column(sa.Numeric(12, 4))
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD")
    source: Mapped[str] = mapped_column(sa.String(32), default="manual")

    # One price per site and hour; the index behind it also serves "prices of a site between
    # two times", the only query this table gets.
    __table_args__ = (
        sa.UniqueConstraint(
            "site_id", "starts_at", name="uq_curtailment_energy_prices_site_id_starts_at"
        ),
    )

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "site_id": self.site_id,
            "starts_at": self.starts_at.isoformat() + "Z",
            "price_per_mwh": str(Decimal(self.price_per_mwh).quantize(PRICE_PLACES)),
            "currency": self.currency,
            "source": self.source,
        }
