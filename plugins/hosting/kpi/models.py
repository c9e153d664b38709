"""Excused events: periods when downtime is not the hosting provider's fault (curtailment,
scheduled maintenance, a customer's pause, a utility outage). The KPI engine removes the
5-minute intervals they cover from "uptime excluding excused". See docs/kpi.md.

An event covers the miners of its site, narrowed by its zone (None = the whole site), its
customer (None = every customer) and its miner list (empty = every miner left). The miner list
is a link table, not a JSON column, so the KPI queries can test coverage in SQL
(``EXISTS``) on both databases and a deleted miner leaves the list by itself.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hashinsight_core.db import Base, TimestampMixin
from hashinsight_core.scoping import Scope, Scoped

CURTAILMENT = "curtailment"
MAINTENANCE = "maintenance"
CUSTOMER_PAUSE = "customer_pause"
UTILITY_OUTAGE = "utility_outage"
EVENT_KINDS = (CURTAILMENT, MAINTENANCE, CUSTOMER_PAUSE, UTILITY_OUTAGE)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


class ExcusedEvent(Scoped, TimestampMixin, Base):
    """One excused period at a site (or zone), for everyone there or for one customer."""

    __tablename__ = "hosting_excused_events"
    __table_args__ = (
        sa.CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in EVENT_KINDS) + ")", name="kind"
        ),
        sa.CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="period"),
        sa.Index("ix_hosting_excused_events_site_starts", "site_id", "starts_at"),
    )
    __scope__ = {"customer": "customer_id", "site": "site_id", "zone": "zone_id"}

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_sites.id", ondelete="CASCADE"))
    zone_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("hosting_zones.id", ondelete="CASCADE")
    )
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_customers.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime | None]  # None = still going on
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_by: Mapped[int | None]
    # Deleting keeps the row (who deleted it and when): it stops counting, but a report made
    # before can still be explained. Lists and the KPI engine skip deleted events.
    deleted_at: Mapped[dt.datetime | None]
    deleted_by: Mapped[int | None]

    miner_links: Mapped[list[ExcusedEventMiner]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )

    @classmethod
    def scope_clause(cls, scope: Scope):
        # A customer also sees the events for everyone (customer_id NULL) at a place where it
        # has miners: a utility outage or a site curtailment explains its own downtime.
        if scope.customer_id is not None and not scope.no_customer:
            from plugins.hosting.models import Miner

            own = sa.select(Miner.site_id, Miner.zone_id).where(
                Miner.customer_id == scope.customer_id
            )
            mine = sa.or_(
                cls.customer_id == scope.customer_id,
                sa.and_(
                    cls.customer_id.is_(None),
                    sa.or_(
                        sa.and_(
                            cls.zone_id.is_(None),
                            cls.site_id.in_(own.with_only_columns(Miner.site_id)),
                        ),
                        cls.zone_id.in_(own.with_only_columns(Miner.zone_id)),
                    ),
                ),
            )
            place = Scope(
                whole_sites=scope.whole_sites,
                zones=scope.zones,
                zone_sites=scope.zone_sites,
                limited_by_site=scope.limited_by_site,
            )
            return sa.and_(mine, super().scope_clause(place))
        return super().scope_clause(scope)

    @property
    def miner_ids(self) -> list[int]:
        return sorted(link.miner_id for link in self.miner_links)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "site_id": self.site_id,
            "zone_id": self.zone_id,
            "customer_id": self.customer_id,
            "miner_ids": self.miner_ids,
            "starts_at": _iso(self.starts_at),
            "ends_at": _iso(self.ends_at),
            "note": self.note,
            "created_by": self.created_by,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "deleted_at": _iso(self.deleted_at),
        }


class ExcusedEventMiner(Base):
    """The miners an event is limited to (none listed = every miner the event's place holds)."""

    __tablename__ = "hosting_excused_event_miners"

    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hosting_excused_events.id", ondelete="CASCADE"), primary_key=True
    )
    miner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hosting_miners.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class KpiDaily(Scoped, Base):
    """The telemetry side of the KPIs per miner and UTC day, kept by ``kpi.rollup``.

    The counts and sums the engine otherwise takes from the day's 5-minute rows (expected and
    excused intervals need no telemetry: the engine works them out from miners and events).
    The place, nominal TH/s and added date are the miner's *when the day was rolled*: the
    report uses a row only while they still match the miner (and ``uniform``: every 5-minute
    row of the day was written at that place), else it reads that miner's day from the
    5-minute rows. So moving or editing a miner never needs a recompute to stay exact.
    """

    __tablename__ = "hosting_kpi_daily"
    __scope__ = {"customer": "customer_id", "site": "site_id", "zone": "zone_id"}

    miner_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True, index=True)
    site_id: Mapped[int | None] = mapped_column(sa.Integer)
    zone_id: Mapped[int | None] = mapped_column(sa.Integer)
    customer_id: Mapped[int | None] = mapped_column(sa.Integer)
    nominal_ths: Mapped[float | None] = mapped_column(sa.Float)
    miner_created_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    uniform: Mapped[bool] = mapped_column(sa.Boolean)
    buckets: Mapped[int] = mapped_column(sa.Integer)  # 5-minute rows of the day
    reachable: Mapped[int] = mapped_column(sa.Integer)
    hashing: Mapped[int] = mapped_column(sa.Integer)
    reachable_excused: Mapped[int] = mapped_column(sa.Integer)
    hashing_excused: Mapped[int] = mapped_column(sa.Integer)
    hashrate_sum: Mapped[float] = mapped_column(sa.Float)
    energy_kwh: Mapped[float] = mapped_column(sa.Float)
    metered_power_sum: Mapped[float] = mapped_column(sa.Float)
    metered_hashrate_sum: Mapped[float] = mapped_column(sa.Float)


class KpiDay(Base):
    """One rolled day of ``hosting_kpi_daily``: how far it goes and what it was made from.

    ``rolled_to`` is the end of the buckets the day's rows cover (the next midnight for a
    finished day, the 5-minute rollup's watermark for today). The four counts are the
    fingerprint of the 5-minute rows read (rows, and sums of samples, online and power
    samples): a late row changes them, and the next run recomputes the day.
    """

    __tablename__ = "hosting_kpi_days"

    day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    rolled_to: Mapped[dt.datetime] = mapped_column(sa.DateTime)
    rows: Mapped[int] = mapped_column(sa.BigInteger)
    samples: Mapped[int] = mapped_column(sa.BigInteger)
    online_samples: Mapped[int] = mapped_column(sa.BigInteger)
    power_samples: Mapped[int] = mapped_column(sa.BigInteger)
    computed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime)
