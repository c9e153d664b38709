"""The KPI daily rollup: ``hosting_kpi_daily`` (per miner and UTC day) from the 5-minute rows.

One set-based ``INSERT … SELECT … GROUP BY miner ON CONFLICT DO UPDATE`` per day, with the
columns of :func:`plugins.hosting.kpi.sums.sum_columns` (the same builder the report uses
for the edges of a period), so a day recomputed twice gives the same rows.

::

    lock "kpi" watermark ─> finished days since the watermark (bounded) ─> move watermark
                         ─> days marked dirty (excused event changed) ─┐
                         ─> finished days late rows may still reach,   ├─> recompute the day
                            whose 5-minute fingerprint changed ────────┘
                         ─> today, up to the 5-minute rollup's watermark

The watermark row is locked for the whole run (``SELECT … FOR UPDATE`` on PostgreSQL; on
SQLite the first write takes the database's write lock), as in the telemetry rollups, so a
second worker waits and then finds nothing left to do. Dirty marks live in the telemetry
layer's ``hosting_telemetry_dirty`` under the layer ``kpi``; a mark committed while a run is
going stays for the next run. See docs/kpi.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hashinsight_core.db import utcnow
from plugins.hosting.kpi.models import KpiDaily, KpiDay
from plugins.hosting.kpi.period import Period
from plugins.hosting.kpi.sums import sum_columns
from plugins.hosting.models import Miner, Site
from plugins.hosting.telemetry import partitions
from plugins.hosting.telemetry.config import BUCKET, DAY, TelemetryConfig, floor_time
from plugins.hosting.telemetry.models import TelemetryDirty, TelemetryFiveMin
from plugins.hosting.telemetry.rollup import (
    claim_marks,
    lock_watermark,
    read_watermark,
    set_watermark,
)
from plugins.hosting.telemetry.txn import mark_written

LAYER = "kpi"  # watermark name and dirty-mark layer
DIRTY = TelemetryDirty.__table__
DAILY = KpiDaily.__table__
DAYS = KpiDay.__table__
FINGERPRINT = ("rows", "samples", "online_samples", "power_samples")


@dataclass
class KpiRollupResult:
    """What one run did (logged by the job, asserted by tests)."""

    start: dt.date | None = None  # finished days rolled in order, [start, end)
    end: dt.date | None = None
    rerolled: list[dt.date] = field(default_factory=list)  # dirty or late days recomputed
    today: dt.datetime | None = None  # today's running day rolled up to here
    rows: int = 0

    def as_dict(self) -> dict:
        return {
            "start": self.start and self.start.isoformat(),
            "end": self.end and self.end.isoformat(),
            "rerolled": [d.isoformat() for d in self.rerolled],
            "today": self.today and self.today.isoformat(),
            "rows": self.rows,
        }


def _insert(conn):
    return pg_insert if partitions.is_postgresql(conn) else sqlite_insert


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


# --- marks ------------------------------------------------------------------------------------


def event_days(starts_at: dt.datetime, ends_at: dt.datetime | None, now: dt.datetime) -> list:
    """The UTC days whose buckets an event [starts_at, ends_at) touches, up to today."""
    from plugins.hosting.kpi.engine import event_buckets

    first, end = event_buckets(starts_at, ends_at)
    end = min(end, floor_time(now, DAY) + DAY)
    if end <= first:
        return []
    day, last = first.date(), (end - BUCKET).date()
    return [day + dt.timedelta(days=n) for n in range((last - day).days + 1)]


def mark_days(conn, days) -> None:
    """Mark days for a recompute; until then reports read them from the 5-minute rows."""
    periods = sorted({_midnight(d) for d in days})
    if periods:
        conn.execute(
            _insert(conn)(DIRTY).on_conflict_do_nothing(),
            [{"layer": LAYER, "period": p} for p in periods],
        )


def dirty_days(db, first: dt.date, last: dt.date) -> set[dt.date]:
    rows = db.execute(
        sa.select(DIRTY.c.period).where(
            DIRTY.c.layer == LAYER,
            DIRTY.c.period >= _midnight(first),
            DIRTY.c.period <= _midnight(last),
        )
    ).scalars()
    return {p.date() for p in rows}


# --- one day ----------------------------------------------------------------------------------


def _uniform(t, m):
    """Every 5-minute row of the day was written at the miner's present place."""

    def same(column):
        return sa.and_(
            sa.func.min(getattr(t, column)) == sa.func.max(getattr(m, column)),
            sa.func.max(getattr(t, column)) == sa.func.max(getattr(m, column)),
        )

    no_customer = sa.and_(sa.func.count(t.customer_id) == 0, sa.func.max(m.customer_id).is_(None))
    customer = sa.or_(
        no_customer, sa.and_(sa.func.count(t.customer_id) == sa.func.count(), same("customer_id"))
    )
    return sa.case(
        (sa.and_(same("site_id"), same("zone_id"), customer), sa.true()), else_=sa.false()
    )


def day_statement(conn, day: dt.date, end: dt.datetime, spans):
    """``INSERT … SELECT``: every miner's row of ``day`` from its 5-minute rows [day, end)."""
    t, m = TelemetryFiveMin, Miner
    start = _midnight(day)
    select = (
        sa.select(
            t.miner_id,
            sa.literal(day, sa.Date),
            sa.func.max(m.site_id),
            sa.func.max(m.zone_id),
            sa.func.max(m.customer_id),
            sa.func.max(m.nominal_ths),
            sa.func.max(m.created_at),
            _uniform(t, m),
            sa.func.count(),
            # Rows before the miner was added do not count (the direct path filters them in
            # its WHERE); a miner row missing or added later leaves ``miner_created_at`` NULL
            # and the report reads that miner from the 5-minute rows.
            *sum_columns(spans, counted=t.bucket >= m.created_at),
        )
        .select_from(t)
        .outerjoin(m, m.id == t.miner_id)
        .where(t.bucket >= start, t.bucket < end)
        .group_by(t.miner_id)
    )
    columns = [
        "miner_id",
        "day",
        "site_id",
        "zone_id",
        "customer_id",
        "nominal_ths",
        "miner_created_at",
        "uniform",
        "buckets",
        *(c.name for c in sum_columns([])),
    ]
    insert = _insert(conn)(DAILY).from_select(columns, select)
    keys = ("miner_id", "day")
    return insert.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: insert.excluded[c] for c in columns if c not in keys},
    )


def fingerprint(conn, start: dt.datetime, end: dt.datetime) -> dict:
    """Rows and sample sums of the 5-minute rows [start, end): what a late row changes."""
    t = TelemetryFiveMin.__table__.c
    row = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(t.samples), 0),
            sa.func.coalesce(sa.func.sum(t.online_samples), 0),
            sa.func.coalesce(sa.func.sum(t.power_samples), 0),
        ).where(t.bucket >= start, t.bucket < end)
    ).one()
    return {name: int(value) for name, value in zip(FINGERPRINT, row, strict=True)}


def roll_day(db, day: dt.date, end: dt.datetime, now: dt.datetime) -> int:
    """(Re)compute ``day`` from its 5-minute rows [day, end); returns rows written."""
    from plugins.hosting.kpi.engine import load_events

    conn = db.connection()
    start = _midnight(day)
    sites = db.execute(sa.select(Site.id).execution_options(unscoped=True)).scalars().all()
    spans = load_events(db, Period(start, start + DAY), sites)
    # The fingerprint first: a row landing between the two makes the next run recompute the
    # day once more, never miss it.
    print_ = fingerprint(conn, start, end)
    rows = conn.execute(day_statement(conn, day, end, spans)).rowcount
    # A miner whose rows have all gone (retention, a moved day) keeps no stale row.
    conn.execute(
        DAILY.delete().where(
            DAILY.c.day == day,
            ~DAILY.c.miner_id.in_(
                sa.select(TelemetryFiveMin.miner_id).where(
                    TelemetryFiveMin.bucket >= start, TelemetryFiveMin.bucket < end
                )
            ),
        )
    )
    values = {"rolled_to": end, "computed_at": now, **print_}
    conn.execute(
        _insert(conn)(DAYS)
        .values(day=day, **values)
        .on_conflict_do_update(index_elements=["day"], set_=values)
    )
    return max(rows, 0)


# --- the run ----------------------------------------------------------------------------------


def _first_day(conn) -> dt.datetime | None:
    """The first day with 5-minute rows (only before the first run)."""
    if partitions.is_postgresql(conn):
        for start, name in sorted(partitions.existing(conn, partitions.FIVE_MIN).items()):
            probe = sa.text(f'SELECT 1 FROM "{name}" LIMIT 1')  # noqa: S608 (our own name)
            if conn.execute(probe).first():
                return start
        return None
    first = conn.execute(sa.select(sa.func.min(TelemetryFiveMin.__table__.c.bucket))).scalar()
    return floor_time(first, DAY) if first else None


def rollup_kpi(
    dbsession, *, now: dt.datetime | None = None, config: TelemetryConfig | None = None
) -> KpiRollupResult:
    """Roll finished days since the watermark (bounded), dirty and late days, and today."""
    config = config or TelemetryConfig()
    now = now or utcnow()
    conn = dbsession.connection()
    mark_written(dbsession)
    if partitions.is_postgresql(conn):
        conn.execute(sa.text(f"SET LOCAL work_mem = '{config.rollup_work_mem}'"))
        conn.execute(sa.text("SET LOCAL jit = off"))
    result = KpiRollupResult()
    watermark = lock_watermark(conn, LAYER, now)
    five = read_watermark(conn, "5min")  # buckets before it are rolled
    if five is None:
        return result
    finished_end = floor_time(five, DAY)
    # Days whose 5-minute rows retention has dropped are final: never recompute them.
    kept_from = floor_time(now - config.history_retention, DAY) + DAY
    start = watermark if watermark is not None else _first_day(conn)
    if start is None:
        return result
    start = max(start, kept_from)
    end = min(finished_end, start + config.rollup_max_days * DAY)
    done: set[dt.date] = set()
    day = start
    while day < end:
        result.rows += roll_day(dbsession, day.date(), day + DAY, now)
        done.add(day.date())
        day += DAY
    if end > start:
        result.start, result.end = start.date(), end.date()
        set_watermark(conn, LAYER, end)
    rolled_to = max(end, start)  # finished days before this are rolled in order

    # Days marked dirty (an excused event changed), then finished days late rows can still
    # reach (the 5-minute rollup re-rolls late buckets within the raw retention).
    todo = [p.date() for p in claim_marks(conn, LAYER, config.reroll_max)]
    reach = floor_time(now - config.raw_retention - config.grace, DAY)
    state = {
        row.day: row
        for row in conn.execute(
            sa.select(DAYS).where(DAYS.c.day >= reach.date(), DAYS.c.day < finished_end.date())
        )
    }
    for day_value, row in sorted(state.items()):
        begin = _midnight(day_value)
        if day_value in done:
            continue  # just rolled in order
        if row.rolled_to < begin + DAY or _changed(conn, row, begin):
            todo.append(day_value)
    later = []
    for day_value in sorted(set(todo)):
        begin = _midnight(day_value)
        if day_value in done or begin < kept_from:
            continue  # rolled just now, or no longer kept (final)
        if begin >= rolled_to:
            later.append(day_value)  # today, or not reached in order yet
            continue
        result.rows += roll_day(dbsession, day_value, begin + DAY, now)
        result.rerolled.append(day_value)
        done.add(day_value)

    # Today's running day, up to the 5-minute watermark (the report adds the rest from the
    # 5-minute rows). Only once the days before it are rolled in order.
    if five > finished_end and rolled_to >= finished_end:
        result.rows += roll_day(dbsession, finished_end.date(), five, now)
        result.today = five
        done.add(finished_end.date())
    # A marked day not recomputed now loses its (partial) rows' standing: reports read it
    # from the 5-minute rows until it is rolled in order.
    stale = [d for d in later if d not in done]
    if stale:
        conn.execute(DAYS.delete().where(DAYS.c.day.in_(stale)))
    return result


def _changed(conn, row, begin: dt.datetime) -> bool:
    found = fingerprint(conn, begin, row.rolled_to)
    return any(found[name] != getattr(row, name) for name in FINGERPRINT)
