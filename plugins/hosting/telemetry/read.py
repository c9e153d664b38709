"""Read API of the telemetry layer for views, dashboards and alert rules.

Every query goes through the ORM on the caller's session, so the ABAC scope of the request
(``hashinsight_core.scoping``) applies: a customer user's fleet totals and series contain only
their own miners, and another customer's miner reads as empty.

Times are naive UTC. Figures follow docs/telemetry.md ("What the numbers mean").
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from hashinsight_core.db import utcnow
from plugins.hosting.telemetry.config import BUCKET, DAY, TelemetryConfig, floor_time
from plugins.hosting.telemetry.derived import joules_per_th, realized_ratio, with_derived
from plugins.hosting.telemetry.models import (
    TelemetryDaily,
    TelemetryDailyCustomer,
    TelemetryDailySite,
    TelemetryDailyZone,
    TelemetryFiveMin,
    TelemetryLive,
    TelemetryRaw,
)

RAW_SERIES_FIELDS = (
    "ts",
    "online",
    "hashrate_ths",
    "hashrate_5s_ths",
    "power_w",
    "temp_max_c",
    "temp_avg_c",
    "fan_min_rpm",
    "fans_failed",
    "boards_ok",
    "error_class",
)
AGGREGATE_FIELDS = (
    "samples",
    "online_samples",
    "hashing_samples",
    "hashrate_avg_ths",
    "hashrate_max_ths",
    "nominal_ths",
    "power_avg_w",
    "energy_kwh",
    "temp_max_c",
    "temp_avg_c",
    "fan_min_rpm",
    "fans_failed_max",
    "boards_missing_max",
    "accepted_delta",
    "rejected_delta",
    "hw_errors_delta",
    "error_samples",
)
FLEET_DAILY_FIELDS = (
    "day",
    "miners",
    "buckets",
    "samples",
    "online_samples",
    "hashing_samples",
    "hashrate_avg_ths",
    "nominal_ths",
    "power_avg_w",
    "energy_kwh",
    "temp_max_c",
    "accepted_delta",
    "rejected_delta",
    "hw_errors_delta",
    "error_samples",
)
FLEET_DAILY = {
    "site": (TelemetryDailySite, "site_id"),
    "zone": (TelemetryDailyZone, "zone_id"),
    "customer": (TelemetryDailyCustomer, "customer_id"),
}


def _filters(model, site_id=None, zone_id=None, customer_id=None, miner_ids=None) -> list:
    clauses = []
    if site_id is not None:
        clauses.append(model.site_id == site_id)
    if zone_id is not None:
        clauses.append(model.zone_id == zone_id)
    if customer_id is not None:
        clauses.append(model.customer_id == customer_id)
    if miner_ids is not None:
        clauses.append(model.miner_id.in_(list(miner_ids)))
    return clauses


def status_conditions(config: TelemetryConfig, now: dt.datetime):
    """(online, warning) SQL conditions on the live table.

    *Online*: the last poll answered and is fresher than ``stale_after``. *Warning*: online
    and at least one of: hottest sensor at/above ``temp_warning_c``, a failed fan, a board
    missing, hashrate below ``low_hashrate_ratio`` of nominal, an error reported.
    Everything not online is *offline* (including a miner whose collector went silent).
    """
    live = TelemetryLive
    online = sa.and_(live.online.is_(True), live.ts >= now - config.stale_after)
    problem = sa.or_(
        live.temp_max_c >= config.temp_warning_c,
        live.fans_failed > 0,
        live.boards_ok < live.boards_total,
        sa.and_(
            live.nominal_ths > 0,
            sa.func.coalesce(live.hashrate_ths, 0) < live.nominal_ths * config.low_hashrate_ratio,
        ),
        live.error_class != "",
    )
    return online, sa.and_(online, problem)


def fleet_totals(
    dbsession,
    *,
    now: dt.datetime | None = None,
    config: TelemetryConfig | None = None,
    site_id: int | None = None,
    zone_id: int | None = None,
    customer_id: int | None = None,
) -> dict:
    """Counts and totals of the live table (one row per miner that ever reported).

    ``warning`` miners are also counted in ``online``; ``offline`` = ``miners`` - ``online``.
    Hashrate and power are summed over online miners; ``nominal_ths`` over all miners, so
    ``realized_ratio`` shows what offline miners cost.
    """
    config = config or TelemetryConfig()
    now = now or utcnow()
    live = TelemetryLive
    online, warning = status_conditions(config, now)

    def when(condition, value):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)

    statement = sa.select(
        sa.func.count(),
        when(online, 1),
        when(warning, 1),
        when(online, sa.func.coalesce(live.hashrate_ths, 0)),
        sa.func.coalesce(sa.func.sum(live.nominal_ths), 0),
        when(online, sa.func.coalesce(live.power_w, 0)),
        sa.func.max(live.ts),
    ).where(*_filters(live, site_id, zone_id, customer_id))
    miners, up, warn, hashrate, nominal, power, newest = dbsession.execute(statement).one()
    hashrate, nominal, power = float(hashrate), float(nominal), float(power)
    return {
        "as_of": now,
        "newest_poll": newest,
        "miners": miners,
        "online": int(up),
        "offline": miners - int(up),
        "warning": int(warn),
        "hashrate_ths": hashrate,
        "nominal_ths": nominal,
        "realized_ratio": realized_ratio(hashrate, nominal),
        "power_w": power,
        "j_per_th": joules_per_th(power, hashrate),
    }


def miner_raw_series(
    dbsession, miner_id: int, *, now: dt.datetime | None = None, hours: int = 24
) -> list[dict]:
    """Every poll of one miner over the last ``hours`` (oldest first)."""
    now = now or utcnow()
    raw = TelemetryRaw
    statement = (
        sa.select(*[getattr(raw, name) for name in RAW_SERIES_FIELDS])
        .where(raw.miner_id == miner_id, raw.ts >= now - dt.timedelta(hours=hours), raw.ts <= now)
        .order_by(raw.ts)
    )
    return [dict(zip(RAW_SERIES_FIELDS, row, strict=True)) for row in dbsession.execute(statement)]


def _aggregate_series(dbsession, model, key_column: str, statement) -> list[dict]:
    names = (key_column, *AGGREGATE_FIELDS)
    return [
        with_derived(dict(zip(names, row, strict=True))) for row in dbsession.execute(statement)
    ]


def miner_5min_series(
    dbsession, miner_id: int, *, now: dt.datetime | None = None, days: int = 90
) -> list[dict]:
    """One miner's 5-minute rows over the last ``days`` (oldest first), with derived figures."""
    now = now or utcnow()
    five = TelemetryFiveMin
    start = floor_time(now - dt.timedelta(days=days), BUCKET)
    statement = (
        sa.select(five.bucket, *[getattr(five, name) for name in AGGREGATE_FIELDS])
        .where(five.miner_id == miner_id, five.bucket >= start, five.bucket <= now)
        .order_by(five.bucket)
    )
    return _aggregate_series(dbsession, five, "bucket", statement)


def miner_daily_series(
    dbsession, miner_id: int, *, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict]:
    """One miner's daily rows with ``start <= day < end`` (default: the last 90 days)."""
    end = end or (utcnow() + DAY).date()
    start = start or end - dt.timedelta(days=90)
    daily = TelemetryDaily
    statement = (
        sa.select(daily.day, *[getattr(daily, name) for name in AGGREGATE_FIELDS])
        .where(daily.miner_id == miner_id, daily.day >= start, daily.day < end)
        .order_by(daily.day)
    )
    return _aggregate_series(dbsession, daily, "day", statement)


def fleet_5min_series(
    dbsession,
    *,
    start: dt.datetime,
    end: dt.datetime,
    site_id: int | None = None,
    zone_id: int | None = None,
    customer_id: int | None = None,
) -> list[dict]:
    """Totals per 5-minute bucket in [start, end): the fleet's hashrate/power/energy curve."""
    five = TelemetryFiveMin
    statement = (
        sa.select(
            five.bucket,
            sa.func.count(),
            sa.func.sum(five.samples),
            sa.func.sum(five.online_samples),
            sa.func.sum(five.hashing_samples),
            sa.func.sum(five.hashrate_avg_ths),
            sa.func.coalesce(sa.func.sum(five.nominal_ths), 0),
            sa.func.coalesce(sa.func.sum(five.power_avg_w), 0),
            sa.func.sum(five.energy_kwh),
        )
        .where(
            five.bucket >= start, five.bucket < end, *_filters(five, site_id, zone_id, customer_id)
        )
        .group_by(five.bucket)
        .order_by(five.bucket)
    )
    names = (
        "bucket",
        "miners",
        "samples",
        "online_samples",
        "hashing_samples",
        "hashrate_avg_ths",
        "nominal_ths",
        "power_avg_w",
        "energy_kwh",
    )
    return [
        with_derived(dict(zip(names, row, strict=True))) for row in dbsession.execute(statement)
    ]


def fleet_daily_series(
    dbsession, level: str, key: int, *, start: dt.date, end: dt.date
) -> list[dict]:
    """Daily totals of one site, zone or customer (``level``) with ``start <= day < end``."""
    try:
        model, column = FLEET_DAILY[level]
    except KeyError:
        raise ValueError(f"level must be one of {', '.join(FLEET_DAILY)}") from None
    statement = (
        sa.select(*[getattr(model, name) for name in FLEET_DAILY_FIELDS])
        .where(getattr(model, column) == key, model.day >= start, model.day < end)
        .order_by(model.day)
    )
    return [
        with_derived(dict(zip(FLEET_DAILY_FIELDS, row, strict=True)))
        for row in dbsession.execute(statement)
    ]
