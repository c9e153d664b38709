"""Rollups: raw -> 5-minute history -> daily (per miner, site, zone, customer).

Each run is driven by a watermark row (the end of the last closed period rolled up) and
recomputes whole periods from the layer below in one set-based statement per period range —
``INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE`` — so running twice, or after a crash
halfway, gives the same rows, and nothing is ever added up twice.

::

    lock watermark row ─> claim late marks ─> recompute [watermark, closed end) (bounded)
                                          └─> recompute each late period still in reach
                       ─> move watermark ─> mark the days touched for the daily rollup

The watermark row is locked for the whole run (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite
the first statement takes the database's single write lock), so a second worker waits and then
finds nothing left to do. Days are UTC days. See docs/telemetry.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hashinsight_core.db import utcnow
from plugins.hosting.telemetry import partitions
from plugins.hosting.telemetry.config import BUCKET, DAY, TelemetryConfig, floor_time
from plugins.hosting.telemetry.models import (
    TelemetryDaily,
    TelemetryDailyCustomer,
    TelemetryDailySite,
    TelemetryDailyZone,
    TelemetryDirty,
    TelemetryFiveMin,
    TelemetryRaw,
    TelemetryWatermark,
)
from plugins.hosting.telemetry.txn import mark_written

WATERMARK = TelemetryWatermark.__table__
DIRTY = TelemetryDirty.__table__
RAW = TelemetryRaw.__table__.name
FIVE = TelemetryFiveMin.__table__.name
DAILY = TelemetryDaily.__table__.name
BUCKET_SECONDS = int(BUCKET.total_seconds())


@dataclass
class RollupResult:
    """What one run did (logged by the job, asserted by tests)."""

    start: dt.datetime | None = None  # the range rolled in order, [start, end)
    end: dt.datetime | None = None
    rerolled: list[dt.datetime] = field(default_factory=list)  # late periods recomputed
    rows: int = 0  # rows inserted or updated

    def as_dict(self) -> dict:
        return {
            "start": self.start and self.start.isoformat(),
            "end": self.end and self.end.isoformat(),
            "rerolled": [p.isoformat() for p in self.rerolled],
            "rows": self.rows,
        }


# --- watermark and late marks ---------------------------------------------------------------


def _insert(conn):
    return pg_insert if partitions.is_postgresql(conn) else sqlite_insert


def lock_watermark(conn, name: str, now: dt.datetime) -> dt.datetime | None:
    """Lock the watermark row ``name`` for this transaction and return its value."""
    # Making sure the row exists is also the first write of the transaction: on SQLite that
    # takes the write lock, so a second worker waits here until this run commits.
    conn.execute(_insert(conn)(WATERMARK).on_conflict_do_nothing(), {"name": name})
    value = conn.execute(
        sa.select(WATERMARK.c.value).where(WATERMARK.c.name == name).with_for_update()
    ).scalar_one()
    conn.execute(WATERMARK.update().where(WATERMARK.c.name == name).values(updated_at=now))
    return value


def read_watermark(conn, name: str) -> dt.datetime | None:
    return conn.execute(
        sa.select(WATERMARK.c.value).where(WATERMARK.c.name == name)
    ).scalar_one_or_none()


def set_watermark(conn, name: str, value: dt.datetime) -> None:
    conn.execute(WATERMARK.update().where(WATERMARK.c.name == name).values(value=value))


def claim_marks(conn, layer: str, limit: int) -> list[dt.datetime]:
    """Take (delete) up to ``limit`` late marks of ``layer``, oldest first.

    A mark commits together with the rows that caused it, so every mark claimed here comes
    with rows that the recompute statements after it (later snapshots) see. Marks committed
    after this statement stay for the next run.
    """
    oldest = (
        sa.select(DIRTY.c.period)
        .where(DIRTY.c.layer == layer)
        .order_by(DIRTY.c.period)
        .limit(limit)
        .scalar_subquery()
    )
    periods = conn.execute(
        DIRTY.delete()
        .where(DIRTY.c.layer == layer, DIRTY.c.period.in_(oldest))
        .returning(DIRTY.c.period)
    ).scalars()
    return sorted(periods)


def mark(conn, layer: str, periods) -> None:
    periods = sorted(set(periods))
    if periods:
        conn.execute(
            _insert(conn)(DIRTY).on_conflict_do_nothing(),
            [{"layer": layer, "period": p} for p in periods],
        )


# --- SQL ------------------------------------------------------------------------------------
# Built from module constants (table and column names); values are always bound.


def _restarted_sql(dialect: str) -> str:
    """True for a poll whose miner booted after the bucket began (``:start``)."""
    if dialect == "postgresql":
        return "ts - uptime_s * INTERVAL '1 second' > :start"
    return "julianday(ts) - uptime_s / 86400.0 > julianday(:start)"


def _counter_delta(name: str, restarted: str) -> str:
    """Shares (or errors) counted in the bucket from a cumulative counter.

    Normally last - first (max - min). If the miner restarted inside the bucket (it booted
    after the bucket began), the counter began again at 0: count what it reached since the
    restart.
    """
    return (
        f"CASE WHEN count(*) FILTER (WHERE {restarted}) > 0 "
        f"THEN max({name}) FILTER (WHERE {restarted}) "
        f"ELSE max({name}) - min({name}) END"
    )


def _upsert_tail(keys: list[str], columns: list[str]) -> str:
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in keys)
    return f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"


_AGG_COLUMNS = [
    "site_id",
    "zone_id",
    "customer_id",
    "samples",
    "online_samples",
    "hashing_samples",
    "hashrate_avg_ths",
    "hashrate_max_ths",
    "nominal_ths",
    "power_avg_w",
    "power_samples",
    "energy_kwh",
    "temp_max_c",
    "temp_avg_c",
    "temp_samples",
    "fan_min_rpm",
    "fans_failed_max",
    "boards_missing_max",
    "accepted_delta",
    "rejected_delta",
    "hw_errors_delta",
    "error_samples",
]


def five_minute_sql(dialect: str) -> sa.TextClause:
    """Recompute every miner's row of the bucket [:start, :end) from its raw rows.

    One bucket per statement: on PostgreSQL that is exactly one raw partition read once, and
    grouping by the miner alone is cheaper than by a computed bucket.
    """
    restarted = "restarted"
    bucket = "CAST(:start AS timestamp)" if dialect == "postgresql" else ":start"
    # The restart test is used four times per row: compute it once per row in a subquery
    # that PostgreSQL must not flatten (OFFSET 0), or it would be inlined four times.
    fence = "OFFSET 0" if dialect == "postgresql" else ""
    hours = BUCKET_SECONDS / 3600
    columns = ["miner_id", "bucket", *_AGG_COLUMNS]
    select = f"""
        SELECT miner_id, {bucket},
            max(site_id), max(zone_id), max(customer_id),
            count(*),
            count(*) FILTER (WHERE online),
            count(*) FILTER (WHERE online AND hashrate_ths > 0),
            avg(COALESCE(hashrate_ths, 0)),
            max(hashrate_ths),
            max(nominal_ths),
            avg(power_w),
            count(power_w),
            COALESCE(avg(power_w), 0) * {hours!r} / 1000.0,
            max(temp_max_c),
            avg(temp_avg_c),
            count(temp_avg_c),
            min(fan_min_rpm),
            max(fans_failed),
            max(boards_total - boards_ok),
            {_counter_delta("accepted", restarted)},
            {_counter_delta("rejected", restarted)},
            {_counter_delta("hw_errors", restarted)},
            count(*) FILTER (WHERE error_class <> '')
        FROM (
            SELECT *, {_restarted_sql(dialect)} AS restarted
            FROM {RAW}
            WHERE ts >= :start AND ts < :end
            {fence}
        ) AS polls
        WHERE true
        GROUP BY miner_id
    """  # noqa: S608
    sql = (
        f"INSERT INTO {FIVE} ({', '.join(columns)}) {select} "
        f"{_upsert_tail(['miner_id', 'bucket'], columns)}"
    )
    return sa.text(sql).bindparams(
        sa.bindparam("start", type_=sa.DateTime), sa.bindparam("end", type_=sa.DateTime)
    )


def _weighted(column: str, weight: str) -> str:
    """The average of per-period averages ``column``, weighted by their counts ``weight``."""
    known = f"CASE WHEN {column} IS NULL THEN 0 ELSE {weight} END"
    return f"sum({column} * {weight}) / NULLIF(sum({known}), 0)"


def daily_miner_sql(dialect: str) -> sa.TextClause:
    """Recompute every miner's row of day :day from its 5-minute rows."""
    columns = ["miner_id", "day", "buckets", *_AGG_COLUMNS]
    select = f"""
        SELECT miner_id, :day, count(*),
            max(site_id), max(zone_id), max(customer_id),
            sum(samples), sum(online_samples), sum(hashing_samples),
            sum(hashrate_avg_ths * samples) / sum(samples),
            max(hashrate_max_ths),
            max(nominal_ths),
            {_weighted("power_avg_w", "power_samples")},
            sum(power_samples),
            sum(energy_kwh),
            max(temp_max_c),
            {_weighted("temp_avg_c", "temp_samples")},
            sum(temp_samples),
            min(fan_min_rpm),
            max(fans_failed_max),
            max(boards_missing_max),
            sum(accepted_delta), sum(rejected_delta), sum(hw_errors_delta),
            sum(error_samples)
        FROM {FIVE}
        WHERE bucket >= :start AND bucket < :end
        GROUP BY miner_id
    """  # noqa: S608
    sql = (
        f"INSERT INTO {DAILY} ({', '.join(columns)}) {select} "
        f"{_upsert_tail(['miner_id', 'day'], columns)}"
    )
    return sa.text(sql).bindparams(
        sa.bindparam("day", type_=sa.Date),
        sa.bindparam("start", type_=sa.DateTime),
        sa.bindparam("end", type_=sa.DateTime),
    )


TMP = "tmp_hosting_telemetry_day"

# One pass over the day's 5-minute rows: totals per bucket and (site, zone, customer). The
# site, zone and customer rows are all built from this small table.
_GROUP_BUCKETS = f"""
    SELECT bucket, site_id, zone_id, customer_id,
        sum(samples) AS samples,
        sum(online_samples) AS online_samples,
        sum(hashing_samples) AS hashing_samples,
        sum(hashrate_avg_ths) AS hashrate,
        sum(COALESCE(nominal_ths, 0)) AS nominal,
        sum(COALESCE(power_avg_w, 0)) AS power,
        sum(energy_kwh) AS energy_kwh,
        max(temp_max_c) AS temp_max_c,
        sum(accepted_delta) AS accepted_delta,
        sum(rejected_delta) AS rejected_delta,
        sum(hw_errors_delta) AS hw_errors_delta,
        sum(error_samples) AS error_samples
    FROM {FIVE}
    WHERE bucket >= :start AND bucket < :end
    GROUP BY bucket, site_id, zone_id, customer_id
"""  # noqa: S608

_FLEET_COLUMNS = [
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
]


def fleet_daily_sql(table: str, key: str, extra: list[str]) -> tuple[sa.TextClause, ...]:
    """(upsert, delete-stale) for one fleet table grouped by ``key`` (plus ``extra`` columns
    carried along, e.g. a zone's site)."""
    extra_inner = "".join(f", max({c}) AS {c}" for c in extra)
    extra_outer = "".join(f", max(g.{c})" for c in extra)
    where = f"WHERE {key} IS NOT NULL" if key == "customer_id" else ""
    # Miners are counted where their daily row is attributed (one place per miner and day).
    miners = f"(SELECT count(*) FROM {DAILY} d WHERE d.day = :day AND d.{key} = g.{key})"  # noqa: S608
    columns = [key, *extra, *_FLEET_COLUMNS]
    sql = f"""
        INSERT INTO {table} ({", ".join(columns)})
        SELECT g.{key}{extra_outer}, :day, {miners}, count(*),
            sum(g.samples), sum(g.online_samples), sum(g.hashing_samples),
            avg(g.hashrate), avg(g.nominal), avg(g.power), sum(g.energy_kwh), max(g.temp_max_c),
            sum(g.accepted_delta), sum(g.rejected_delta), sum(g.hw_errors_delta),
            sum(g.error_samples)
        FROM (
            SELECT {key}{extra_inner}, bucket,
                sum(samples) AS samples, sum(online_samples) AS online_samples,
                sum(hashing_samples) AS hashing_samples, sum(hashrate) AS hashrate,
                sum(nominal) AS nominal, sum(power) AS power, sum(energy_kwh) AS energy_kwh,
                max(temp_max_c) AS temp_max_c, sum(accepted_delta) AS accepted_delta,
                sum(rejected_delta) AS rejected_delta, sum(hw_errors_delta) AS hw_errors_delta,
                sum(error_samples) AS error_samples
            FROM {TMP} {where}
            GROUP BY {key}, bucket
        ) AS g
        WHERE true
        GROUP BY g.{key}
        {_upsert_tail([key, "day"], columns)}
    """  # noqa: S608
    stale = f"""
        DELETE FROM {table} WHERE day = :day
        AND {key} NOT IN (SELECT {key} FROM {TMP} WHERE {key} IS NOT NULL)
    """  # noqa: S608
    day = sa.bindparam("day", type_=sa.Date)
    return sa.text(sql).bindparams(day), sa.text(stale).bindparams(day)


FLEET_TABLES = [
    (TelemetryDailySite.__table__.name, "site_id", []),
    (TelemetryDailyZone.__table__.name, "zone_id", ["site_id"]),
    (TelemetryDailyCustomer.__table__.name, "customer_id", []),
]


# --- the runs -------------------------------------------------------------------------------


def _prepare(conn, config: TelemetryConfig) -> str:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(sa.text(f"SET LOCAL work_mem = '{config.rollup_work_mem}'"))
    return dialect


def roll_buckets(conn, start: dt.datetime, end: dt.datetime) -> int:
    """Recompute the 5-minute rows of [start, end) from raw; returns rows written."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        partitions.ensure(conn, partitions.FIVE_MIN, start, end)
    statement = five_minute_sql(dialect)
    rows = 0
    bucket = start
    while bucket < end:
        rows += conn.execute(statement, {"start": bucket, "end": bucket + BUCKET}).rowcount
        bucket += BUCKET
    return rows


def roll_day(conn, day: dt.date) -> int:
    """Recompute day ``day`` (UTC) of the daily tables from the 5-minute rows."""
    dialect = conn.dialect.name
    start = dt.datetime.combine(day, dt.time())
    params = {"day": day, "start": start, "end": start + DAY}
    rows = conn.execute(daily_miner_sql(dialect), params).rowcount
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {TMP}"))
    on_commit = " ON COMMIT DROP" if dialect == "postgresql" else ""
    conn.execute(
        sa.text(f"CREATE TEMPORARY TABLE {TMP}{on_commit} AS {_GROUP_BUCKETS}").bindparams(
            sa.bindparam("start", type_=sa.DateTime), sa.bindparam("end", type_=sa.DateTime)
        ),
        params,
    )
    for table, key, extra in FLEET_TABLES:
        upsert, stale = fleet_daily_sql(table, key, extra)
        rows += conn.execute(upsert, {"day": day}).rowcount
        conn.execute(stale, {"day": day})
    conn.execute(sa.text(f"DROP TABLE {TMP}"))
    return rows


def rollup_5min(
    dbsession, *, now: dt.datetime | None = None, config: TelemetryConfig | None = None
) -> RollupResult:
    """Roll every closed 5-minute bucket since the watermark (bounded) and the late ones."""
    config = config or TelemetryConfig()
    now = now or utcnow()
    conn = dbsession.connection()
    mark_written(dbsession)
    _prepare(conn, config)
    closed_end = floor_time(now - config.grace, BUCKET)
    # Raw older than this may be partly gone already: never recompute from it.
    horizon = floor_time(now - config.raw_retention, BUCKET)

    watermark = lock_watermark(conn, "5min", now)
    if watermark is None:
        # The first run starts at the oldest raw data, not 24 hours back.
        watermark = _first_bucket(conn, horizon)
        if watermark is None:
            return RollupResult()
    late = claim_marks(conn, "5min", config.reroll_max)
    start = max(watermark, horizon)
    end = min(closed_end, start + config.rollup_max_buckets * BUCKET)
    result = RollupResult()
    touched: list[dt.datetime] = []
    if end > start:
        result.start, result.end = start, end
        result.rows += roll_buckets(conn, start, end)
        set_watermark(conn, "5min", end)
        day = floor_time(start, DAY)
        while day < end:
            touched.append(day)
            day += DAY
    for bucket in late:
        # Buckets from ``start`` on were just rolled (or will be when they close).
        if horizon <= bucket < start:
            result.rows += roll_buckets(conn, bucket, bucket + BUCKET)
            result.rerolled.append(bucket)
            touched.append(bucket)
    # The daily rollup recomputes a closed day it finds marked; marking a day it has not
    # closed yet costs nothing (the mark is dropped when the day is rolled in order).
    mark(conn, "daily", {floor_time(t, DAY) for t in touched})
    return result


def _first_bucket(conn, horizon: dt.datetime) -> dt.datetime | None:
    """The first bucket with raw rows from ``horizon`` on (only before the first run)."""
    if partitions.is_postgresql(conn):
        for start, name in sorted(partitions.existing(conn, partitions.RAW).items()):
            probe = sa.text(f'SELECT 1 FROM "{name}" LIMIT 1')  # noqa: S608 (our own name)
            if start >= horizon and conn.execute(probe).first():
                return start
        return None
    raw = TelemetryRaw.__table__
    first = conn.execute(sa.select(sa.func.min(raw.c.ts)).where(raw.c.ts >= horizon)).scalar()
    return floor_time(first, BUCKET) if first else None


def _first_day(conn) -> dt.datetime | None:
    """The first day with 5-minute rows (only needed before the first daily run)."""
    if partitions.is_postgresql(conn):
        for start, name in sorted(partitions.existing(conn, partitions.FIVE_MIN).items()):
            probe = sa.text(f'SELECT 1 FROM "{name}" LIMIT 1')  # noqa: S608 (our own name)
            if conn.execute(probe).first():
                return start
        return None
    first = conn.execute(sa.select(sa.func.min(TelemetryFiveMin.__table__.c.bucket))).scalar()
    return floor_time(first, DAY) if first else None


def rollup_daily(
    dbsession, *, now: dt.datetime | None = None, config: TelemetryConfig | None = None
) -> RollupResult:
    """Roll every UTC day whose 5-minute buckets are all rolled (bounded), and marked days."""
    config = config or TelemetryConfig()
    now = now or utcnow()
    conn = dbsession.connection()
    mark_written(dbsession)
    _prepare(conn, config)
    watermark = lock_watermark(conn, "daily", now)
    five = read_watermark(conn, "5min")
    result = RollupResult()
    if five is None:
        return result
    closed_end = floor_time(five, DAY)
    start = watermark if watermark is not None else _first_day(conn)
    if start is None:
        return result
    late = claim_marks(conn, "daily", config.reroll_max)
    # Days whose 5-minute rows retention has dropped are final: never recompute them.
    kept_from = floor_time(now - config.history_retention, DAY)
    end = min(closed_end, start + config.rollup_max_days * DAY)
    day = start
    while day < end:
        result.rows += roll_day(conn, day.date())
        day += DAY
    if end > start:
        result.start, result.end = start, end
        set_watermark(conn, "daily", end)
    for period in late:
        if kept_from <= period < start:
            result.rows += roll_day(conn, period.date())
            result.rerolled.append(period)
    return result
