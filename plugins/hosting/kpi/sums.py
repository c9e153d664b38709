"""The telemetry side of the KPI definitions, as SQL: one builder for every path.

``sum_columns`` makes the per-miner aggregates over 5-minute rows (reachable, hashing, of
them excused, hashrate, energy, metered power and hashrate). The report's direct reading of
5-minute rows (``direct_sums``) and the daily rollup's ``INSERT … SELECT``
(:mod:`plugins.hosting.kpi.rollup`) both take their columns from here, so the rollup and the
edges of a period computed from 5-minute rows cannot drift apart. docs/kpi.md has the
definitions.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from plugins.hosting.kpi.models import ExcusedEventMiner
from plugins.hosting.models import Miner
from plugins.hosting.telemetry.models import TelemetryFiveMin

HASHING_THRESHOLD = 0.10
# The order of the values a sums row carries (and of the rollup's columns).
SUM_NAMES = (
    "reachable",
    "hashing",
    "reachable_excused",
    "hashing_excused",
    "hashrate_sum",
    "energy_kwh",
    "metered_power_sum",
    "metered_hashrate_sum",
)
COUNT_NAMES = SUM_NAMES[:4]
SORT_MEMORY = "128MB"  # PostgreSQL work_mem for a report's GROUP BY


def covers_sql(span, t, m):
    """SQL: the 5-minute row ``t`` of miner ``m`` is inside ``span`` (an ``engine.EventSpan``:
    its buckets, place, customer and miner list)."""
    clauses = [t.bucket >= span.first, t.bucket < span.end, m.site_id == span.site_id]
    if span.zone_id is not None:
        clauses.append(m.zone_id == span.zone_id)
    if span.customer_id is not None:
        clauses.append(m.customer_id == span.customer_id)
    if span.miner_ids:
        clauses.append(
            sa.exists().where(
                ExcusedEventMiner.event_id == span.id, ExcusedEventMiner.miner_id == m.id
            )
        )
    return sa.and_(*clauses)


def sum_columns(spans, *, counted=None, t=TelemetryFiveMin, m=Miner) -> list:
    """The aggregates named ``SUM_NAMES`` over rows ``t`` of miner ``m``.

    - reachable: ``online_samples > 0``; hashing: average hashrate above 10 percent of the
      miner's nominal TH/s (above 0 when the nominal is unknown);
    - excused: inside one of ``spans`` (an inline ``OR`` over the few events: no subquery per
      row; the miner-list test is a primary-key lookup reached only for rows already inside
      an event's time and place);
    - ``counted``: an extra condition a row must meet to count at all (the rollup uses it for
      "not before the miner was added", which the direct path puts in its WHERE).
    """
    hashing = sa.case(
        (m.nominal_ths > 0, t.hashrate_avg_ths > m.nominal_ths * HASHING_THRESHOLD),
        else_=t.hashrate_avg_ths > 0,
    )
    reachable = t.online_samples > 0
    excused = sa.or_(sa.false(), *(covers_sql(s, t, m) for s in spans))
    metered = t.power_samples > 0

    def only(condition):
        return condition if counted is None else sa.and_(counted, condition)

    def count(condition):
        return sa.func.coalesce(sa.func.sum(sa.case((only(condition), 1), else_=0)), 0)

    def total(value, condition=None):
        if condition is None and counted is None:
            return sa.func.coalesce(sa.func.sum(value), 0.0)
        when = counted if condition is None else only(condition)
        return sa.func.coalesce(sa.func.sum(sa.case((when, value), else_=0.0)), 0.0)

    columns = [
        count(reachable),
        count(hashing),
        count(sa.and_(reachable, excused)),
        count(sa.and_(hashing, excused)),
        total(t.hashrate_avg_ths),
        total(t.energy_kwh),
        total(t.power_avg_w, metered),
        total(t.hashrate_avg_ths, metered),
    ]
    return [c.label(name) for c, name in zip(columns, SUM_NAMES, strict=True)]


def day_expr(dialect: str):
    if dialect == "postgresql":
        return sa.cast(TelemetryFiveMin.bucket, sa.Date)
    return sa.func.date(TelemetryFiveMin.bucket)


def as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def prepare_report_query(db) -> None:
    """PostgreSQL: JIT compiling the wide aggregate costs seconds more than running it, and
    its sort by (miner, day) should stay in memory. Both last until the transaction ends."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.text("SET LOCAL jit = off"))
        db.execute(sa.text(f"SET LOCAL work_mem = '{SORT_MEMORY}'"))


def direct_sums(db, ranges, miner_clauses, spans, *, miner_ids=None):
    """Per miner and UTC day: the sums from the 5-minute rows of ``ranges`` ([start, end)
    pairs), for the expected miners ``miner_clauses`` select (and only ``miner_ids`` if given).

    Yields ``(miner_id, day, values)`` with values in ``SUM_NAMES`` order.
    """
    ranges = [(a, b) for a, b in ranges if b > a]
    if not ranges:
        return
    t, m = TelemetryFiveMin, Miner
    day = day_expr(db.get_bind().dialect.name)
    wanted = sa.select(Miner.id).where(*miner_clauses)
    where = [
        # Each miner's rows of the period are one range of the (miner_id, bucket) key, the
        # table's only index on SQLite: the IN list makes the planner walk those ranges
        # instead of the whole 90-day table.
        t.miner_id.in_(wanted),
        t.bucket >= min(a for a, _ in ranges),
        t.bucket < max(b for _, b in ranges),
        t.bucket >= m.created_at,
        *miner_clauses,
    ]
    if len(ranges) > 1:
        where.append(sa.or_(*(sa.and_(t.bucket >= a, t.bucket < b) for a, b in ranges)))
    if miner_ids is not None:
        if not miner_ids:
            return
        where.append(t.miner_id.in_(sorted(miner_ids)))
    statement = (
        sa.select(t.miner_id, day.label("day"), *sum_columns(spans))
        .join(m, m.id == t.miner_id)
        .where(*where)
        .group_by(t.miner_id, day)
    )
    prepare_report_query(db)
    for row in db.execute(statement):
        yield row[0], as_date(row[1]), row[2:]
