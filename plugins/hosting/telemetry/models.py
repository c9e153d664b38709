"""Telemetry tables: the four layers (raw, live, 5-minute history, daily) and the bookkeeping of
the rollup jobs. See docs/telemetry.md.

On PostgreSQL ``hosting_telemetry_raw`` is partitioned by range on ``ts`` with one partition
per 5-minute bucket, and ``hosting_telemetry_5min`` by ``bucket`` with one partition per UTC
day (:mod:`plugins.hosting.telemetry.partitions` creates and drops them). A partition is
exactly what a rollup reads, so neither table needs an index beyond its primary key, and
retention drops whole partitions. On SQLite both are plain tables.

There are no foreign keys to the farm tables on purpose: telemetry is written at 1,000+ rows
per second and kept after a miner is retired or moved, and per-miner history must survive the
miner row.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hashinsight_core.db import Base
from hashinsight_core.scoping import Scope, Scoped

MINER_SCOPE = {"customer": "customer_id", "site": "site_id", "zone": "zone_id"}


class _MinerKeys:
    """Where a miner's row belongs, for ABAC (copied from the farm model at poll time)."""

    site_id: Mapped[int] = mapped_column(sa.Integer)
    zone_id: Mapped[int] = mapped_column(sa.Integer)
    customer_id: Mapped[int | None] = mapped_column(sa.Integer)


class _Reading:
    """The values of one poll, shared by the raw and the live tables."""

    device_id: Mapped[int | None] = mapped_column(sa.Integer)
    online: Mapped[bool] = mapped_column(sa.Boolean)
    hashrate_ths: Mapped[float | None] = mapped_column(sa.Float)
    hashrate_5s_ths: Mapped[float | None] = mapped_column(sa.Float)
    nominal_ths: Mapped[float | None] = mapped_column(sa.Float)
    power_w: Mapped[float | None] = mapped_column(sa.Float)
    temp_max_c: Mapped[float | None] = mapped_column(sa.Float)
    temp_avg_c: Mapped[float | None] = mapped_column(sa.Float)
    fan_min_rpm: Mapped[int | None] = mapped_column(sa.Integer)
    fans_total: Mapped[int | None] = mapped_column(sa.Integer)
    fans_failed: Mapped[int | None] = mapped_column(sa.Integer)
    boards_total: Mapped[int | None] = mapped_column(sa.Integer)
    boards_ok: Mapped[int | None] = mapped_column(sa.Integer)
    accepted: Mapped[int | None] = mapped_column(sa.BigInteger)
    rejected: Mapped[int | None] = mapped_column(sa.BigInteger)
    hw_errors: Mapped[int | None] = mapped_column(sa.BigInteger)
    uptime_s: Mapped[int | None] = mapped_column(sa.Integer)
    pool_url: Mapped[str] = mapped_column(sa.String(255))
    error_class: Mapped[str] = mapped_column(sa.String(64))


class TelemetryRaw(Scoped, _MinerKeys, _Reading, Base):
    """Every poll, kept 24 hours. Written by COPY (PostgreSQL) from ``store()``."""

    __tablename__ = "hosting_telemetry_raw"
    __scope__ = MINER_SCOPE
    __table_args__ = {"postgresql_partition_by": "RANGE (ts)"}

    miner_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(sa.DateTime, primary_key=True)


class TelemetryLive(Scoped, _MinerKeys, _Reading, Base):
    """The newest poll of each miner (an older record never overwrites a newer one)."""

    __tablename__ = "hosting_telemetry_live"
    __scope__ = MINER_SCOPE

    miner_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    ts: Mapped[dt.datetime] = mapped_column(sa.DateTime)


class _Aggregate:
    """Per-miner aggregates of a period (5-minute bucket or UTC day).

    Averages come with the count they are over, so a longer period is an exact weighted
    average of shorter ones: ``hashrate_avg_ths`` is over all ``samples`` (an unreachable or
    unreported poll counts as 0 TH/s: the realized hashrate), ``power_avg_w`` over
    ``power_samples``, ``temp_avg_c`` over ``temp_samples``.
    """

    samples: Mapped[int] = mapped_column(sa.Integer)
    online_samples: Mapped[int] = mapped_column(sa.Integer)
    hashing_samples: Mapped[int] = mapped_column(sa.Integer)
    hashrate_avg_ths: Mapped[float] = mapped_column(sa.Float)
    hashrate_max_ths: Mapped[float | None] = mapped_column(sa.Float)
    nominal_ths: Mapped[float | None] = mapped_column(sa.Float)
    power_avg_w: Mapped[float | None] = mapped_column(sa.Float)
    power_samples: Mapped[int] = mapped_column(sa.Integer)
    energy_kwh: Mapped[float] = mapped_column(sa.Float)
    temp_max_c: Mapped[float | None] = mapped_column(sa.Float)
    temp_avg_c: Mapped[float | None] = mapped_column(sa.Float)
    temp_samples: Mapped[int] = mapped_column(sa.Integer)
    fan_min_rpm: Mapped[int | None] = mapped_column(sa.Integer)
    fans_failed_max: Mapped[int | None] = mapped_column(sa.Integer)
    boards_missing_max: Mapped[int | None] = mapped_column(sa.Integer)
    accepted_delta: Mapped[int | None] = mapped_column(sa.BigInteger)
    rejected_delta: Mapped[int | None] = mapped_column(sa.BigInteger)
    hw_errors_delta: Mapped[int | None] = mapped_column(sa.BigInteger)
    error_samples: Mapped[int] = mapped_column(sa.Integer)


class TelemetryFiveMin(Scoped, _MinerKeys, _Aggregate, Base):
    """One row per miner per 5-minute bucket (``bucket`` = its start, UTC), kept 90 days."""

    __tablename__ = "hosting_telemetry_5min"
    __scope__ = MINER_SCOPE
    __table_args__ = {"postgresql_partition_by": "RANGE (bucket)"}

    miner_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    bucket: Mapped[dt.datetime] = mapped_column(sa.DateTime, primary_key=True)


class TelemetryDaily(Scoped, _MinerKeys, _Aggregate, Base):
    """One row per miner per UTC day, kept forever."""

    __tablename__ = "hosting_telemetry_daily"
    __scope__ = MINER_SCOPE

    miner_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True, index=True)
    buckets: Mapped[int] = mapped_column(sa.Integer)


class _FleetDaily:
    """A group of miners (site, zone or customer) over one UTC day.

    ``hashrate_avg_ths``, ``nominal_ths`` and ``power_avg_w`` are the group's *total* averaged
    over the 5-minute buckets that had data (``buckets``); ``energy_kwh`` and the share deltas
    are sums; the sample counts are sums over all the group's miners.
    """

    day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    miners: Mapped[int] = mapped_column(sa.Integer)
    buckets: Mapped[int] = mapped_column(sa.Integer)
    samples: Mapped[int] = mapped_column(sa.Integer)
    online_samples: Mapped[int] = mapped_column(sa.Integer)
    hashing_samples: Mapped[int] = mapped_column(sa.Integer)
    hashrate_avg_ths: Mapped[float] = mapped_column(sa.Float)
    nominal_ths: Mapped[float] = mapped_column(sa.Float)
    power_avg_w: Mapped[float] = mapped_column(sa.Float)
    energy_kwh: Mapped[float] = mapped_column(sa.Float)
    temp_max_c: Mapped[float | None] = mapped_column(sa.Float)
    accepted_delta: Mapped[int | None] = mapped_column(sa.BigInteger)
    rejected_delta: Mapped[int | None] = mapped_column(sa.BigInteger)
    hw_errors_delta: Mapped[int | None] = mapped_column(sa.BigInteger)
    error_samples: Mapped[int] = mapped_column(sa.Integer)


class TelemetryDailySite(Scoped, _FleetDaily, Base):
    __tablename__ = "hosting_telemetry_daily_sites"
    __scope__ = {"site": "site_id"}

    site_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)


class TelemetryDailyZone(Scoped, _FleetDaily, Base):
    __tablename__ = "hosting_telemetry_daily_zones"
    __scope__ = {"site": "site_id", "zone": "zone_id"}

    zone_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.Integer)


class TelemetryDailyCustomer(Scoped, _FleetDaily, Base):
    """A customer's whole fleet per day (miners without a customer are not in this table)."""

    __tablename__ = "hosting_telemetry_daily_customers"
    __scope__ = {"customer": "customer_id"}

    customer_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)

    @classmethod
    def scope_clause(cls, scope: Scope):
        # A customer's total spans sites, so an account limited to some sites or zones must
        # not see it (it would reveal what the customer runs elsewhere).
        if scope.limited_by_site:
            return sa.false()
        return super().scope_clause(scope)


class TelemetryWatermark(Base):
    """How far a rollup has got: ``value`` is the end of the last closed period it rolled."""

    __tablename__ = "hosting_telemetry_watermarks"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    value: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    updated_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)


class TelemetryDirty(Base):
    """Periods that received data after they may have been rolled up (late data).

    ``store()`` marks 5-minute buckets; the 5-minute rollup marks days it changed. The next
    run of the layer above claims the marks (DELETE … RETURNING) and recomputes those periods.
    """

    __tablename__ = "hosting_telemetry_dirty"

    layer: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    period: Mapped[dt.datetime] = mapped_column(sa.DateTime, primary_key=True)
