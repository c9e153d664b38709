from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hashinsight_core.db import Base, TimestampMixin

COOLING_TYPES = ("air", "hydro", "immersion")


class AsicModel(TimestampMixin, Base):
    """One miner model in the catalogue: its rated hashrate and power draw."""

    __tablename__ = "calculator_asic_models"
    __table_args__ = (
        sa.UniqueConstraint("vendor", "model", name="uq_calculator_asic_models_vendor_model"),
        sa.CheckConstraint("hashrate_ths > 0", name="hashrate_positive"),
        sa.CheckConstraint("power_w > 0", name="power_positive"),
        sa.CheckConstraint("cooling IN ('air', 'hydro', 'immersion')", name="cooling_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor: Mapped[str] = mapped_column(sa.String(100))
    model: Mapped[str] = mapped_column(sa.String(100))
    hashrate_ths: Mapped[float] = mapped_column(sa.Float)
    power_w: Mapped[float] = mapped_column(sa.Float)
    release_year: Mapped[int | None] = mapped_column(sa.Integer)
    cooling: Mapped[str] = mapped_column(sa.String(16), default="air")

    @property
    def name(self) -> str:
        return f"{self.vendor} {self.model}"

    @property
    def efficiency_j_per_th(self) -> float:
        return self.power_w / self.hashrate_ths

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "vendor": self.vendor,
            "model": self.model,
            "hashrate_ths": self.hashrate_ths,
            "power_w": self.power_w,
            "efficiency_j_per_th": round(self.efficiency_j_per_th, 2),
            "release_year": self.release_year,
            "cooling": self.cooling,
        }
