"""One telemetry record as the storage layer takes it.

The receivers (our own edge collector's batches and the legacy HashInsight collector
contract) map their wire formats onto :class:`TelemetryRow` and hand lists of them to
:func:`plugins.hosting.telemetry.store.store`. Nothing here imports Pyramid or SQLAlchemy.

Units: hashrates in TH/s, power in watts, temperatures in °C, timestamps naive UTC.
``None`` means "not reported", never zero.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Column order shared by the raw table, COPY and the executemany insert.
FIELDS = (
    "ts",
    "miner_id",
    "site_id",
    "zone_id",
    "customer_id",
    "device_id",
    "online",
    "hashrate_ths",
    "hashrate_5s_ths",
    "nominal_ths",
    "power_w",
    "temp_max_c",
    "temp_avg_c",
    "fan_min_rpm",
    "fans_total",
    "fans_failed",
    "boards_total",
    "boards_ok",
    "accepted",
    "rejected",
    "hw_errors",
    "uptime_s",
    "pool_url",
    "error_class",
)


@dataclass(slots=True)
class TelemetryRow:
    """One poll of one miner."""

    ts: dt.datetime  # naive UTC
    miner_id: int
    site_id: int
    zone_id: int
    customer_id: int | None
    device_id: int | None
    online: bool
    hashrate_ths: float | None = None  # the miner's average hashrate
    hashrate_5s_ths: float | None = None
    nominal_ths: float | None = None
    power_w: float | None = None
    temp_max_c: float | None = None
    temp_avg_c: float | None = None
    fan_min_rpm: int | None = None
    fans_total: int | None = None
    fans_failed: int | None = None
    boards_total: int | None = None
    boards_ok: int | None = None
    accepted: int | None = None  # cumulative share counters as the miner reports them
    rejected: int | None = None
    hw_errors: int | None = None
    uptime_s: int | None = None
    pool_url: str = ""
    error_class: str = ""

    def as_tuple(self) -> tuple:
        return tuple(getattr(self, name) for name in FIELDS)
