"""The farm: sites, zones, racks, miners and their history, edge devices and what they send.

Every table here holds a site's or a customer's data, so every one is :class:`Scoped`: the
session hook in ``hashinsight_core.scoping`` adds the account's limits to each query. Sites
and zones are seen by a customer only where the customer has miners.

Miner models come from the calculator's catalogue *or* a free text: ``asic_model_id`` is a
plain integer (no foreign key, the calculator may be disabled) and the figures the rollups
need (``nominal_ths``, ``nominal_w``) are copied onto the miner.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hashinsight_core.db import Base, TimestampMixin, utcnow
from hashinsight_core.scoping import Scoped

# --- lifecycle ------------------------------------------------------------------------------

UNASSIGNED = "unassigned"  # adopted automatically from telemetry, not yet checked by a person
RECEIVED = "received"
INSTALLED = "installed"
ONLINE = "online"
OFFLINE = "offline"
MAINTENANCE = "maintenance"
RMA = "rma"
RETIRED = "retired"

MINER_STATUSES = (UNASSIGNED, RECEIVED, INSTALLED, ONLINE, OFFLINE, MAINTENANCE, RMA, RETIRED)

# from -> the statuses a person may move a miner to
TRANSITIONS: dict[str, frozenset[str]] = {
    UNASSIGNED: frozenset({RECEIVED, INSTALLED, ONLINE, OFFLINE, RETIRED}),
    RECEIVED: frozenset({INSTALLED, RMA, RETIRED}),
    INSTALLED: frozenset({ONLINE, OFFLINE, MAINTENANCE, RECEIVED, RETIRED}),
    ONLINE: frozenset({OFFLINE, MAINTENANCE, RETIRED}),
    OFFLINE: frozenset({ONLINE, MAINTENANCE, RMA, RETIRED}),
    MAINTENANCE: frozenset({INSTALLED, ONLINE, OFFLINE, RMA, RETIRED}),
    RMA: frozenset({RECEIVED, MAINTENANCE, RETIRED}),
    RETIRED: frozenset(),
}

# Telemetry moves a miner between these by itself (a racked miner that reports is online).
TELEMETRY_STATUSES = frozenset({INSTALLED, ONLINE, OFFLINE})


def _status_check(column: str, values) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=column)


# --- sites and zones ------------------------------------------------------------------------

CREDENTIAL_MODES = ("masked", "encrypted", "device")


class Site(Scoped, TimestampMixin, Base):
    """A mining site: one location with a power capacity, a tariff and a local time zone."""

    __tablename__ = "hosting_sites"
    __table_args__ = (_status_check("credential_mode", CREDENTIAL_MODES),)
    __scope__ = {"site": "id"}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    capacity_kw: Mapped[float] = mapped_column(sa.Float, default=0.0)
    location: Mapped[str | None] = mapped_column(sa.String(200))
    # Energy price: per kWh in ``tariff_currency``; None = not set.
    tariff_per_kwh: Mapped[float | None] = mapped_column(sa.Float)
    tariff_currency: Mapped[str] = mapped_column(sa.String(3), default="USD", server_default="USD")
    # How miner credentials (IP, pool and web passwords) are protected at this site (DESIGN.md
    # "Security model"): masked in the UI, envelope-encrypted on the server, or end-to-end
    # encrypted for the edge device. Only 'masked' lets the server search and show an IP.
    credential_mode: Mapped[str] = mapped_column(
        sa.String(16), default="masked", server_default="masked"
    )

    zones: Mapped[list[Zone]] = relationship(
        back_populates="site", order_by="Zone.name", passive_deletes=True
    )

    @classmethod
    def scope_for_customer(cls, customer_id: int):
        # A customer sees the sites where it has miners (their names, not their other data).
        return cls.id.in_(sa.select(Miner.site_id).where(Miner.customer_id == customer_id))

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "timezone": self.timezone,
            "capacity_kw": self.capacity_kw,
            "location": self.location,
            "tariff_per_kwh": self.tariff_per_kwh,
            "tariff_currency": self.tariff_currency,
            "created_at": self.created_at.isoformat() + "Z",
        }


class Zone(Scoped, TimestampMixin, Base):
    """A building, container or power feed inside a site: the boundary for access and for
    edge devices."""

    __tablename__ = "hosting_zones"
    __table_args__ = (sa.UniqueConstraint("site_id", "name"),)
    __scope__ = {"site": "site_id", "zone": "id"}

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_sites.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    capacity_kw: Mapped[float] = mapped_column(sa.Float, default=0.0)

    site: Mapped[Site] = relationship(back_populates="zones")

    @classmethod
    def scope_for_customer(cls, customer_id: int):
        return cls.id.in_(sa.select(Miner.zone_id).where(Miner.customer_id == customer_id))

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "site_id": self.site_id,
            "name": self.name,
            "capacity_kw": self.capacity_kw,
            "created_at": self.created_at.isoformat() + "Z",
        }


class Rack(Scoped, TimestampMixin, Base):
    """A rack in a zone; a miner's position is the rack plus a row (shelf) and a slot."""

    __tablename__ = "hosting_racks"
    __table_args__ = (
        sa.UniqueConstraint("zone_id", "name"),
        sa.CheckConstraint("rows >= 1 AND slots >= 1", name="size"),
    )
    __scope__ = {"site": "site_id", "zone": "zone_id"}

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_sites.id", ondelete="CASCADE"))
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_zones.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(50))
    rows: Mapped[int] = mapped_column(default=1)
    slots: Mapped[int] = mapped_column(default=1)

    @classmethod
    def scope_for_customer(cls, customer_id: int):
        return cls.id.in_(sa.select(Miner.rack_id).where(Miner.customer_id == customer_id))

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "site_id": self.site_id,
            "zone_id": self.zone_id,
            "name": self.name,
            "rows": self.rows,
            "slots": self.slots,
        }


# --- miners ---------------------------------------------------------------------------------

# The text columns the quick search looks in (the IP only where the site allows it).
SEARCH_COLUMNS = ("serial", "mac", "pool_worker", "model_name", "ip")


class Miner(Scoped, TimestampMixin, Base):
    """One ASIC: identity, model, owner, place and lifecycle status."""

    __tablename__ = "hosting_miners"
    __table_args__ = (
        _status_check("status", MINER_STATUSES),
        sa.UniqueConstraint("rack_id", "rack_row", "rack_slot"),
        sa.UniqueConstraint("site_id", "miner_key"),
        sa.Index("ix_hosting_miners_zone_status", "zone_id", "status"),
        sa.Index("ix_hosting_miners_site_status", "site_id", "status"),
        sa.Index("ix_hosting_miners_customer_status", "customer_id", "status"),
        sa.Index("ix_hosting_miners_model_name", "model_name"),
        # Quick search (plugins/hosting/search): on PostgreSQL a trigram GIN index per searched
        # column serves ILIKE '%q%' (one per column: the planner costs a multi-column GIN index
        # too high and scans instead). SQLite searches an FTS5 table that the migration keeps
        # in sync with triggers, so there these are created empty (WHERE 0): declared here only
        # so that models and migrations agree on both backends.
        *(
            sa.Index(
                f"ix_hosting_miners_{name}_trgm",
                name,
                postgresql_using="gin",
                postgresql_ops={name: "public.gin_trgm_ops"},
                sqlite_where=sa.text("0"),
            )
            for name in SEARCH_COLUMNS
        ),
    )
    __scope__ = {"customer": "customer_id", "site": "site_id", "zone": "zone_id"}

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique when known; NULL for a miner adopted from telemetry before anyone read its label.
    serial: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    mac: Mapped[str | None] = mapped_column(sa.String(17), unique=True)  # aa:bb:cc:dd:ee:ff
    # The edge collector's stable key for the miner (a salted hash of its address).
    miner_key: Mapped[str | None] = mapped_column(sa.String(128))
    asic_model_id: Mapped[int | None]  # calculator_asic_models.id, no foreign key on purpose
    model_name: Mapped[str] = mapped_column(sa.String(100), default="")
    nominal_ths: Mapped[float | None] = mapped_column(sa.Float)
    nominal_w: Mapped[float | None] = mapped_column(sa.Float)
    firmware: Mapped[str] = mapped_column(sa.String(100), default="")
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("core_customers.id", ondelete="RESTRICT")
    )
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_sites.id", ondelete="RESTRICT"))
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_zones.id", ondelete="RESTRICT"))
    rack_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("hosting_racks.id", ondelete="RESTRICT")
    )
    rack_row: Mapped[int | None]
    rack_slot: Mapped[int | None]
    pool_url: Mapped[str] = mapped_column(sa.String(300), default="")
    pool_worker: Mapped[str] = mapped_column(sa.String(200), default="")
    # LAN address as the site knows it; searchable and shown only where the site's
    # credential_mode is 'masked' (see plugins/hosting/search).
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    status: Mapped[str] = mapped_column(sa.String(16), default=RECEIVED)
    status_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    site: Mapped[Site] = relationship(lazy="raise")
    zone: Mapped[Zone] = relationship(lazy="raise")
    rack: Mapped[Rack | None] = relationship(lazy="raise")

    @property
    def position(self) -> str:
        """``R12/3/7``-style text, or '' when the miner is not racked."""
        if self.rack_id is None:
            return ""
        rack = self.__dict__.get("rack")
        name = rack.name if rack is not None else f"#{self.rack_id}"
        return f"{name}/{self.rack_row}/{self.rack_slot}"

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "serial": self.serial,
            "mac": self.mac,
            "miner_key": self.miner_key,
            "asic_model_id": self.asic_model_id,
            "model_name": self.model_name,
            "nominal_ths": self.nominal_ths,
            "nominal_w": self.nominal_w,
            "firmware": self.firmware,
            "customer_id": self.customer_id,
            "site_id": self.site_id,
            "zone_id": self.zone_id,
            "rack_id": self.rack_id,
            "rack_row": self.rack_row,
            "rack_slot": self.rack_slot,
            "pool_url": self.pool_url,
            "pool_worker": self.pool_worker,
            "status": self.status,
            "status_changed_at": self.status_changed_at.isoformat() + "Z",
            "created_at": self.created_at.isoformat() + "Z",
            "updated_at": self.updated_at.isoformat() + "Z",
        }


class MinerEvent(Scoped, Base):
    """Append-only history of a miner: creation, status changes, moves, owner changes.

    Rows are never updated or deleted by the application (a mapper hook refuses it); they go
    only with the miner itself.
    """

    __tablename__ = "hosting_miner_history"
    __table_args__ = (sa.Index("ix_hosting_miner_history_miner_at", "miner_id", "at"),)
    __scope__ = {"customer": "customer_id", "site": "site_id", "zone": "zone_id"}

    id: Mapped[int] = mapped_column(primary_key=True)
    miner_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_miners.id", ondelete="CASCADE"))
    # where the miner is after the change (so the scope follows the miner's current place)
    customer_id: Mapped[int | None]
    site_id: Mapped[int]
    zone_id: Mapped[int]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_type: Mapped[str] = mapped_column(sa.String(16))  # user, device, system
    actor_id: Mapped[str] = mapped_column(sa.String(64), default="")
    kind: Mapped[str] = mapped_column(sa.String(16))  # create, status, move, owner, edit
    from_value: Mapped[str] = mapped_column(sa.String(200), default="")
    to_value: Mapped[str] = mapped_column(sa.String(200), default="")
    note: Mapped[str] = mapped_column(sa.String(300), default="")

    @classmethod
    def scope_for_customer(cls, customer_id: int):  # pragma: no cover - has a customer column
        return sa.false()

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "miner_id": self.miner_id,
            "at": self.at.isoformat() + "Z",
            "actor": f"{self.actor_type}:{self.actor_id}" if self.actor_id else self.actor_type,
            "kind": self.kind,
            "from": self.from_value,
            "to": self.to_value,
            "note": self.note,
        }


@event.listens_for(MinerEvent, "before_update")
def _history_is_append_only(_mapper, _connection, target):
    raise RuntimeError("miner history is append-only")


# --- edge devices ---------------------------------------------------------------------------


class EdgeDevice(Scoped, TimestampMixin, Base):
    """A collector registered for one zone. Its token is shown once; only its SHA-256 stays."""

    __tablename__ = "hosting_edge_devices"
    __scope__ = {"site": "site_id", "zone": "zone_id"}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_sites.id", ondelete="CASCADE"))
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_zones.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(sa.String(12))
    created_by: Mapped[int | None]
    rotated_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    last_seen_at: Mapped[dt.datetime | None]
    last_ip: Mapped[str | None] = mapped_column(sa.String(45))
    version: Mapped[str] = mapped_column(sa.String(100), default="")
    edge_uid: Mapped[str] = mapped_column(sa.String(64), default="")  # X-Edge-Device-ID
    spool_depth: Mapped[int | None]
    dropped_total: Mapped[int | None]

    def as_dict(self) -> dict:
        def iso(value):
            return value.isoformat() + "Z" if value else None

        return {
            "id": self.id,
            "name": self.name,
            "site_id": self.site_id,
            "zone_id": self.zone_id,
            "token_prefix": self.token_prefix,
            "active": self.revoked_at is None,
            "rotated_at": iso(self.rotated_at),
            "revoked_at": iso(self.revoked_at),
            "last_seen_at": iso(self.last_seen_at),
            "version": self.version,
            "edge_uid": self.edge_uid,
            "spool_depth": self.spool_depth,
            "dropped_total": self.dropped_total,
            "created_at": iso(self.created_at),
        }


class EdgeBatch(Scoped, Base):
    """One telemetry batch a device sent, by its idempotency key: a replay answers the stored
    result and stores nothing; the same key with another body is refused."""

    __tablename__ = "hosting_edge_batches"
    __table_args__ = (
        sa.UniqueConstraint("device_id", "idem_key"),
        sa.Index("ix_hosting_edge_batches_received_at", "received_at"),
    )
    __scope__ = {"site": "site_id", "zone": "zone_id"}

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hosting_edge_devices.id", ondelete="CASCADE")
    )
    site_id: Mapped[int]
    zone_id: Mapped[int]
    idem_key: Mapped[str] = mapped_column(sa.String(128))
    body_sha256: Mapped[str] = mapped_column(sa.String(64))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int]
    result: Mapped[dict] = mapped_column(sa.JSON)


DISCOVERY_STATUSES = ("new", "adopted", "ignored")


class DiscoveryCandidate(Scoped, Base):
    """A miner a device reported that matches no miner of its zone, waiting to be adopted."""

    __tablename__ = "hosting_discovery_candidates"
    __table_args__ = (
        sa.UniqueConstraint("zone_id", "miner_key"),
        _status_check("status", DISCOVERY_STATUSES),
        sa.Index("ix_hosting_discovery_candidates_zone_status", "zone_id", "status"),
    )
    __scope__ = {"site": "site_id", "zone": "zone_id"}

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_sites.id", ondelete="CASCADE"))
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("hosting_zones.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("hosting_edge_devices.id", ondelete="SET NULL")
    )
    miner_key: Mapped[str] = mapped_column(sa.String(128))
    serial: Mapped[str] = mapped_column(sa.String(64), default="")
    mac: Mapped[str] = mapped_column(sa.String(17), default="")
    vendor: Mapped[str] = mapped_column(sa.String(50), default="")
    model_name: Mapped[str] = mapped_column(sa.String(100), default="")
    firmware: Mapped[str] = mapped_column(sa.String(100), default="")
    first_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    seen_count: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(sa.String(16), default="new")
    miner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("hosting_miners.id", ondelete="SET NULL")
    )

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "site_id": self.site_id,
            "zone_id": self.zone_id,
            "device_id": self.device_id,
            "miner_key": self.miner_key,
            "serial": self.serial,
            "mac": self.mac,
            "vendor": self.vendor,
            "model_name": self.model_name,
            "firmware": self.firmware,
            "first_seen_at": self.first_seen_at.isoformat() + "Z",
            "last_seen_at": self.last_seen_at.isoformat() + "Z",
            "seen_count": self.seen_count,
            "status": self.status,
            "miner_id": self.miner_id,
        }
