"""Where a report's telemetry sums come from: whole UTC days from the KPI daily rollup, the
rest from the 5-minute rows — with the same SQL builder (:mod:`plugins.hosting.kpi.sums`).

::

    period days ──> rolled, not marked dirty, and fewer 5-minute rows to read that way?
        yes ──> hosting_kpi_daily rows (the part [midnight, rolled_to)) ──┐
                   row's miner moved / edited since, or not uniform ──────┤─> 5-minute rows,
                   + the day's tail [rolled_to, end) (today) ─────────────┤   that miner/day
                   - [midnight, start) and [end, rolled_to) ──────────────┤   or that range
        no  ──> 5-minute rows [start, end) of that day ───────────────────┘

A period not aligned to UTC days (e.g. the last 24 hours) reads the smaller side of a partial
first or last day from the 5-minute rows: the part inside the period, or — when the period
covers most of a rolled day — the rollup minus the part outside (at most 12 hours either way).
A day marked dirty (an excused event changed) is read from the 5-minute rows until the rollup
job has recomputed it, so an event edit shows at once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa

from plugins.hosting.kpi.models import KpiDaily, KpiDay
from plugins.hosting.kpi.rollup import dirty_days
from plugins.hosting.kpi.sums import SUM_NAMES, as_date, direct_sums
from plugins.hosting.models import Miner
from plugins.hosting.telemetry.config import DAY


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def merge_ranges(ranges) -> list[tuple]:
    """Sorted ranges with touching ones joined (fewer ``OR`` terms in the query)."""
    out: list[list] = []
    for a, b in sorted(r for r in ranges if r[1] > r[0]):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [tuple(r) for r in out]


def plan(db, period) -> tuple[dict[dt.date, dt.datetime], list[tuple], list[tuple]]:
    """``(rolled, direct, minus)``: the days read from the rollup (day -> the end of the part
    it covers, from midnight), the time ranges added from the 5-minute rows, and the ranges
    taken away (a rolled day the period covers most of: the rollup minus the small rest)."""
    days = period.days()
    state = dict(
        db.execute(sa.select(KpiDay.day, KpiDay.rolled_to).where(KpiDay.day.in_(days))).all()
    )
    state = {as_date(d): to for d, to in state.items()}
    dirty = dirty_days(db, days[0], days[-1]) if state else set()
    rolled, direct, minus = {}, [], []
    for day in days:
        midnight = _midnight(day)
        start, end = max(period.start, midnight), min(period.end, midnight + DAY)
        to = state.get(day)
        if to is None or day in dirty:
            direct.append((start, end))
            continue
        # With the rollup: [midnight, to) - [midnight, start) - [end, to) + [to, end).
        cut = [(midnight, start), (end, to)]
        add = (to, end)
        cost = sum((max(b - a, dt.timedelta()) for a, b in (*cut, add)), dt.timedelta())
        if cost < end - start:
            rolled[day] = to
            direct.append(add)
            minus.extend(cut)
        else:
            direct.append((start, end))
    return rolled, merge_ranges(direct), merge_ranges(minus)


def _fits():
    """The rollup row was made for the miner as it is now (place, nominal, added) and from
    rows all written at that place."""
    k, m = KpiDaily, Miner
    return sa.and_(
        k.uniform,
        k.site_id.is_not_distinct_from(m.site_id),
        k.zone_id.is_not_distinct_from(m.zone_id),
        k.customer_id.is_not_distinct_from(m.customer_id),
        k.nominal_ths.is_not_distinct_from(m.nominal_ths),
        k.miner_created_at.is_not_distinct_from(m.created_at),
    )


def telemetry_sums(db, period, miner_clauses, spans, miners, group_column, key_of):
    """Per group and UTC day, ``(key, day, values)`` in ``SUM_NAMES`` order; a group and day
    may come more than once (rollup, tail, minus the rest): the caller adds them up.

    Rolled days are added up per group in SQL (``group_column`` of the miner as it is now);
    5-minute rows come per miner and are keyed with ``key_of(miner)``.
    """
    rolled, direct, minus = plan(db, period)

    def keyed(found, sign=1):
        for miner_id, day, values in found:
            miner = miners.get(miner_id)
            if miner is not None:  # else e.g. it became expected while the query ran
                yield key_of(miner), day, tuple(sign * (v or 0) for v in values)

    redo: dict[int, set[dt.date]] = defaultdict(set)
    if rolled:
        k, m = KpiDaily, Miner
        days = sorted(rolled)
        grouped = (
            sa.select(group_column, k.day, *(sa.func.sum(getattr(k, n)) for n in SUM_NAMES))
            .join_from(k, m, m.id == k.miner_id)
            .where(k.day.in_(days), *miner_clauses, _fits())
            .group_by(group_column, k.day)
        )
        for row in db.execute(grouped):
            key = key_of(_Keyed(row[0]))
            yield key, as_date(row[1]), tuple(v or 0 for v in row[2:])
        misfits = (
            sa.select(k.miner_id, k.day)
            .join_from(k, m, m.id == k.miner_id)
            .where(k.day.in_(days), *miner_clauses, sa.not_(_fits()))
        )
        for miner_id, day in db.execute(misfits):
            if miner_id in miners:
                redo[miner_id].add(as_date(day))
    yield from keyed(direct_sums(db, direct, miner_clauses, spans))
    yield from keyed(direct_sums(db, minus, miner_clauses, spans), -1)
    if redo:
        days = set().union(*redo.values())
        ranges = merge_ranges((_midnight(d), rolled[d]) for d in days)
        found = direct_sums(db, ranges, miner_clauses, spans, miner_ids=set(redo))
        yield from keyed((i, d, v) for i, d, v in found if d in redo[i])


class _Keyed:
    """A group value from SQL, dressed as a miner for ``key_of`` (e.g. no model -> "")."""

    def __init__(self, value):
        self.id = self.site_id = self.zone_id = self.customer_id = self.model_name = value
