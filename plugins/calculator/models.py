from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hashinsight_core.db import Base, TimestampMixin

COOLING_TYPES = ("air", "hydro", "immersion")


class AsicModel(TimestampMixin, Base):
    """One miner model in the catalogue: its nameplate hashrate and wall power.

    Efficiency (J/TH) is never stored: it is ``power_w / hashrate_ths``, so it cannot drift
    from the two figures it comes from. ``source`` says where the figures were read (a URL or
    a short citation); a deactivated model stays in the database (other tables may point at
    it) but is no longer offered to the calculator's visitors.
    """

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
    source: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    power_modes: Mapped[list[AsicPowerMode]] = relationship(
        back_populates="asic_model",
        cascade="all, delete-orphan",
        order_by="(AsicPowerMode.power_w, AsicPowerMode.name)",
    )

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
            "source": self.source,
            "notes": self.notes,
            "is_active": self.is_active,
            "power_modes": [mode.as_dict() for mode in self.power_modes],
            "updated_at": self.updated_at.isoformat() + "Z" if self.updated_at else None,
        }


class AsicPowerMode(Base):
    """A named operating point of a model: eco/normal/turbo, a firmware profile, or a factory
    hashrate bin. At most one is the default (checked by the catalogue, not the database)."""

    __tablename__ = "calculator_asic_power_modes"
    __table_args__ = (
        sa.UniqueConstraint(
            "asic_model_id", "name", name="uq_calculator_asic_power_modes_model_name"
        ),
        sa.CheckConstraint("hashrate_ths > 0", name="hashrate_positive"),
        sa.CheckConstraint("power_w > 0", name="power_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    asic_model_id: Mapped[int] = mapped_column(
        sa.ForeignKey("calculator_asic_models.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(40))
    hashrate_ths: Mapped[float] = mapped_column(sa.Float)
    power_w: Mapped[float] = mapped_column(sa.Float)
    is_default: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    asic_model: Mapped[AsicModel] = relationship(back_populates="power_modes")

    @property
    def efficiency_j_per_th(self) -> float:
        return self.power_w / self.hashrate_ths

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "hashrate_ths": self.hashrate_ths,
            "power_w": self.power_w,
            "efficiency_j_per_th": round(self.efficiency_j_per_th, 2),
            "is_default": self.is_default,
        }
