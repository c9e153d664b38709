"""The KPI engine: uptime with and without excused events, realized hashrate, J/TH and energy
per site, zone, customer, model or miner, over a period, from the 5-minute telemetry history.

Plain functions over a SQLAlchemy session (no Pyramid): the views, the exports and the tests
call the same ``compute``. Queries use the ORM entities, so on a request's session the
account's scope (``hashinsight_core.scoping``) limits the miners and telemetry rows read.

::

    miners (expected statuses) ──┐
    excused events (+ miner list)├─> per miner: expected and excused intervals per day (Python,
                                 │   interval arithmetic — no row per interval is ever built)
    KPI daily rollup, and ───────┴─> per miner and day: reachable, hashing, of them excused,
    5-minute rows ⨝ miners           hashrate, energy (``source``: whole days from the rollup,
                                     the rest from one GROUP BY over 5-minute rows)
                                 ──> add up per group and per day ──> derived figures

Definitions (docs/kpi.md has the formulas):

- An *interval* is one 5-minute bucket of one miner. A miner is *expected* while its status is
  installed, online, offline or maintenance, from the first bucket starting at or after it was
  added to the farm; retired, received, RMA and unassigned miners are not expected.
- *Reachable*: the miner answered at least one poll in the interval (``online_samples > 0``).
- *Hashing*: the interval's average hashrate is above ``HASHING_THRESHOLD`` (10 percent) of
  the miner's nominal TH/s (any hashrate > 0 when the nominal is unknown).
- An interval is *excused* when it overlaps an excused event covering the miner.
- Uptime = reachable (or hashing) / expected; "excluding excused" removes the excused intervals
  from both numerator and denominator.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import sqlalchemy as sa

from plugins.hosting.kpi import source, sums
from plugins.hosting.kpi.models import ExcusedEvent, ExcusedEventMiner
from plugins.hosting.kpi.period import Period
from plugins.hosting.models import (
    INSTALLED,
    MAINTENANCE,
    OFFLINE,
    ONLINE,
    RMA,
    Miner,
    Site,
    Zone,
)
from plugins.hosting.telemetry.config import BUCKET, DAY, TelemetryConfig, floor_time
from plugins.hosting.telemetry.models import TelemetryLive
from plugins.hosting.telemetry.read import status_conditions

EXPECTED_STATUSES = (INSTALLED, ONLINE, OFFLINE, MAINTENANCE)
# Fleet health also counts the miners away for repair.
HEALTH_STATUSES = (*EXPECTED_STATUSES, RMA)
IN_REPAIR_STATUSES = (MAINTENANCE, RMA)
HASHING_THRESHOLD = sums.HASHING_THRESHOLD
GROUPS = ("site", "zone", "customer", "model")
HEALTH_STATES = ("healthy", "degraded", "offline", "in_repair")
FAR_FUTURE = dt.datetime(9999, 1, 1)


# --- intervals --------------------------------------------------------------------------------


def _ceil(value: dt.datetime) -> dt.datetime:
    floor = floor_time(value, BUCKET)
    return floor if floor == value else floor + BUCKET


def event_buckets(starts_at: dt.datetime, ends_at: dt.datetime | None) -> tuple:
    """The buckets an event overlaps, as [first, end): a bucket overlapping the event by any
    part counts as excused (an outage from 10:02 to 10:07 excuses 10:00 and 10:05)."""
    return floor_time(starts_at, BUCKET), _ceil(ends_at) if ends_at else FAR_FUTURE


def merge(intervals) -> list[tuple]:
    """Sorted, non-overlapping union of [start, end) intervals."""
    merged: list[list] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [tuple(i) for i in merged]


def overlap_buckets(intervals, start: dt.datetime, end: dt.datetime) -> int:
    """Buckets of the merged ``intervals`` inside [start, end)."""
    total = dt.timedelta()
    for a, b in intervals:
        a, b = max(a, start), min(b, end)
        if b > a:
            total += b - a
    return int(total / BUCKET)


def miner_window_start(period: Period, created_at: dt.datetime | None) -> dt.datetime:
    """A miner is expected from the first bucket that starts at or after it was added."""
    if created_at is None:
        return period.start
    return max(period.start, _ceil(created_at))


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


# --- accumulators -----------------------------------------------------------------------------


@dataclass
class Totals:
    """Sums that add up across miners and days; the figures are derived from them."""

    expected: int = 0  # expected intervals
    excused: int = 0  # of them excused
    reachable: int = 0
    hashing: int = 0
    reachable_excused: int = 0  # reachable intervals that were also excused
    hashing_excused: int = 0
    hashrate_sum: float = 0.0  # sum over intervals of the average TH/s (TH/s × intervals)
    nominal_sum: float = 0.0  # nominal TH/s × expected intervals
    nominal_w_sum: float = 0.0  # nominal W × expected intervals
    energy_kwh: float = 0.0
    metered_power_sum: float = 0.0  # W × intervals, intervals that reported power
    metered_hashrate_sum: float = 0.0  # TH/s × the same intervals
    miners: int = 0

    def add(self, other: Totals) -> None:
        mine, theirs = self.__dict__, other.__dict__
        for name in _TOTAL_FIELDS:
            mine[name] += theirs[name]

    def figures(self, intervals: int, capacity_kw: float | None = None) -> dict:
        """The KPIs of these sums over a period of ``intervals`` buckets.

        ``capacity_kw`` is the place's capacity (site or zone); without one, capacity is the
        nameplate power of the expected miners (nominal W over their expected time).
        """
        hours = intervals * BUCKET.total_seconds() / 3600
        unexcused = self.expected - self.excused
        if capacity_kw is not None:
            capacity_kwh, basis = capacity_kw * hours, "capacity"
        else:
            capacity_kwh = self.nominal_w_sum * BUCKET.total_seconds() / 3600 / 1000
            basis = "nameplate"
        return {
            "miners": self.miners,
            "expected_intervals": self.expected,
            "excused_intervals": self.excused,
            "reachable_intervals": self.reachable,
            "hashing_intervals": self.hashing,
            "reachable_uptime": _ratio(self.reachable, self.expected),
            "hashing_uptime": _ratio(self.hashing, self.expected),
            "reachable_uptime_excl": _ratio(self.reachable - self.reachable_excused, unexcused),
            "hashing_uptime_excl": _ratio(self.hashing - self.hashing_excused, unexcused),
            "hashrate_ths": self.hashrate_sum / intervals if intervals else None,
            "nominal_ths": self.nominal_sum / intervals if intervals else None,
            "realized_ratio": _ratio(self.hashrate_sum, self.nominal_sum),
            "j_per_th": _ratio(self.metered_power_sum, self.metered_hashrate_sum),
            "energy_kwh": self.energy_kwh,
            "capacity_kwh": capacity_kwh,
            "capacity_basis": basis,
            "energy_ratio": _ratio(self.energy_kwh, capacity_kwh),
        }


_TOTAL_FIELDS = tuple(f.name for f in fields(Totals))


def _ratio(part, whole):
    if part is None or not whole:
        return None
    return part / whole


# --- what the engine reads --------------------------------------------------------------------


@dataclass(frozen=True)
class MinerInfo:
    id: int
    serial: str | None
    site_id: int
    zone_id: int
    customer_id: int | None
    model_name: str
    nominal_ths: float | None
    nominal_w: float | None
    status: str
    created_at: dt.datetime | None


GROUP_KEYS: dict[str, Callable[[MinerInfo], object]] = {
    "site": lambda m: m.site_id,
    "zone": lambda m: m.zone_id,
    "customer": lambda m: m.customer_id,
    "model": lambda m: m.model_name or "",
    "miner": lambda m: m.id,
}
GROUP_COLUMNS = {
    "site": Miner.site_id,
    "zone": Miner.zone_id,
    "customer": Miner.customer_id,
    "model": Miner.model_name,
    "miner": Miner.id,
}


@dataclass(frozen=True)
class Filters:
    """What the report is limited to: a site, and/or one group (the drill-down)."""

    site_id: int | None = None
    group: str | None = None  # one of GROUPS
    key: object = None  # the group's key (None = miners without a customer)

    def clauses(self) -> list:
        clauses = []
        if self.site_id is not None:
            clauses.append(Miner.site_id == self.site_id)
        if self.group is not None:
            column = GROUP_COLUMNS[self.group]
            clauses.append(column.is_(None) if self.key is None else column == self.key)
        return clauses


def load_miners(db, filters: Filters, statuses=EXPECTED_STATUSES) -> list[MinerInfo]:
    rows = db.execute(
        sa.select(
            Miner.id,
            Miner.serial,
            Miner.site_id,
            Miner.zone_id,
            Miner.customer_id,
            Miner.model_name,
            Miner.nominal_ths,
            Miner.nominal_w,
            Miner.status,
            Miner.created_at,
        ).where(Miner.status.in_(statuses), *filters.clauses())
    ).all()
    return [MinerInfo(*row) for row in rows]


@dataclass(frozen=True)
class EventSpan:
    """An event reduced to what coverage needs, with its excused buckets [first, end)."""

    id: int
    site_id: int
    zone_id: int | None
    customer_id: int | None
    miner_ids: frozenset[int]
    first: dt.datetime
    end: dt.datetime

    def covers(self, miner: MinerInfo) -> bool:
        return (
            self.site_id == miner.site_id
            and (self.zone_id is None or self.zone_id == miner.zone_id)
            and (self.customer_id is None or self.customer_id == miner.customer_id)
            and (not self.miner_ids or miner.id in self.miner_ids)
        )


def load_events(db, period: Period, site_ids) -> list[EventSpan]:
    """Events overlapping the period at these sites.

    Read without the account's scope on purpose: an event only ever changes the figures of
    miners the account already sees, and a site-limited operator's uptime must not depend on
    whether it may open the whole-site event that explains it.
    """
    if not site_ids:
        return []
    rows = db.execute(
        sa.select(
            ExcusedEvent.id,
            ExcusedEvent.site_id,
            ExcusedEvent.zone_id,
            ExcusedEvent.customer_id,
            ExcusedEvent.starts_at,
            ExcusedEvent.ends_at,
        )
        .where(
            ExcusedEvent.site_id.in_(sorted(site_ids)),
            ExcusedEvent.deleted_at.is_(None),
            ExcusedEvent.starts_at < period.end,
            sa.or_(ExcusedEvent.ends_at.is_(None), ExcusedEvent.ends_at > period.start),
        )
        .execution_options(unscoped=True)
    ).all()
    links: dict[int, set[int]] = defaultdict(set)
    if rows:
        for event_id, miner_id in db.execute(
            sa.select(ExcusedEventMiner.event_id, ExcusedEventMiner.miner_id).where(
                ExcusedEventMiner.event_id.in_([r.id for r in rows])
            )
        ):
            links[event_id].add(miner_id)
    spans = []
    for row in rows:
        first, end = event_buckets(row.starts_at, row.ends_at)
        spans.append(
            EventSpan(
                row.id,
                row.site_id,
                row.zone_id,
                row.customer_id,
                frozenset(links.get(row.id, ())),
                max(first, period.start),
                min(end, period.end),
            )
        )
    return spans


def miner_clauses(filters: Filters) -> list:
    """The expected miners of the report, as WHERE clauses on ``Miner``."""
    return [Miner.status.in_(EXPECTED_STATUSES), *filters.clauses()]


def interval_sums(db, period: Period, filters: Filters, spans: list[EventSpan]):
    """Per miner and UTC day: the telemetry sums straight from the period's 5-minute rows
    (one GROUP BY; the definitions are in :mod:`plugins.hosting.kpi.sums`)."""
    return sums.direct_sums(db, [(period.start, period.end)], miner_clauses(filters), spans)


# --- the report -------------------------------------------------------------------------------


@dataclass
class Report:
    period: Period
    group_by: str
    groups: dict[object, Totals] = field(default_factory=dict)
    days: dict[dt.date, dict[object, Totals]] = field(default_factory=dict)
    total: Totals = field(default_factory=Totals)
    day_totals: dict[dt.date, Totals] = field(default_factory=dict)
    miners: dict[int, MinerInfo] = field(default_factory=dict)


def compute(
    db, period: Period, group_by: str, filters: Filters | None = None, *, rollup: bool = True
) -> Report:
    """Sums per group (``site``, ``zone``, ``customer``, ``model`` or ``miner``), per group and
    day, and in total, for the expected miners the session may see.

    The telemetry side comes from the KPI daily rollup for whole rolled days and from the
    5-minute rows for the rest (:mod:`plugins.hosting.kpi.source`); ``rollup=False`` reads
    everything from the 5-minute rows (tests and the benchmark compare the two).
    """
    filters = filters or Filters()
    key_of = GROUP_KEYS[group_by]
    miners = {m.id: m for m in load_miners(db, filters)}
    spans = load_events(db, period, {m.site_id for m in miners.values()})
    report = Report(period, group_by, miners=miners)
    days = period.days()
    bounds = [
        (day, max(period.start, _midnight(day)), min(period.end, _midnight(day) + DAY))
        for day in days
    ]
    # Plain lists per (group, day) while adding up miners x days (hundreds of thousands at
    # 30,000 miners): Totals objects are built once per (group, day) at the end.
    planned: dict[tuple, list] = {}  # expected, excused, nominal TH/s x n, nominal W x n
    measured: dict[tuple, list] = {}  # in sums.SUM_NAMES order
    counted: dict[object, int] = {}

    # Expected and excused intervals (no telemetry needed: a silent miner is still expected).
    for miner in miners.values():
        key = key_of(miner)
        start = miner_window_start(period, miner.created_at)
        counted.setdefault(key, 0)
        if start >= period.end:
            continue
        counted[key] += 1
        covered = merge((s.first, s.end) for s in spans if s.covers(miner))
        ths, watts = miner.nominal_ths or 0.0, miner.nominal_w or 0.0
        for day, day_start, day_end in bounds:
            day_start = max(start, day_start)
            if day_end <= day_start:
                continue
            expected = (day_end - day_start) // BUCKET
            excused = overlap_buckets(covered, day_start, day_end) if covered else 0
            sums = planned.get((key, day))
            if sums is None:
                planned[(key, day)] = [expected, excused, ths * expected, watts * expected]
            else:
                sums[0] += expected
                sums[1] += excused
                sums[2] += ths * expected
                sums[3] += watts * expected

    # What the telemetry says.
    if rollup:
        found = source.telemetry_sums(
            db, period, miner_clauses(filters), spans, miners, GROUP_COLUMNS[group_by], key_of
        )
    else:
        found = (
            (key_of(miners[miner_id]), day, values)
            for miner_id, day, values in interval_sums(db, period, filters, spans)
            if miner_id in miners  # else e.g. it became expected while the query ran
        )
    in_period = set(days)
    for key, day, values in found:
        if day not in in_period:
            continue
        slot = (key, day)
        sums = measured.get(slot)
        if sums is None:
            measured[slot] = [v or 0 for v in values]
        else:
            for n, value in enumerate(values):
                sums[n] += value or 0

    report.days = {d: {} for d in days}
    report.day_totals = {d: Totals() for d in days}
    for key, count in counted.items():
        report.groups[key] = Totals(miners=count)
        report.total.miners += count
    for slot in planned.keys() | measured.keys():
        key, day = slot
        expected, excused, nominal, nominal_w = planned.get(slot, (0, 0, 0.0, 0.0))
        reach, hashing, reach_exc, hashing_exc, rate, energy, m_power, m_rate = measured.get(
            slot, (0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0)
        )
        sums = Totals(
            expected=expected,
            excused=excused,
            nominal_sum=nominal,
            nominal_w_sum=nominal_w,
            reachable=int(reach),
            hashing=int(hashing),
            reachable_excused=int(reach_exc),
            hashing_excused=int(hashing_exc),
            hashrate_sum=float(rate),
            energy_kwh=float(energy),
            metered_power_sum=float(m_power),
            metered_hashrate_sum=float(m_rate),
        )
        report.days[day][key] = sums
        for target in (
            report.groups.setdefault(key, Totals()),
            report.day_totals[day],
            report.total,
        ):
            target.add(sums)
    return report


# --- fleet health -----------------------------------------------------------------------------


def health(
    db, group_by: str, filters: Filters, now: dt.datetime, config: TelemetryConfig
) -> dict[object, dict[str, int]]:
    """Miners per health state and group, now:

    - *in repair*: status maintenance or RMA (whatever the telemetry says);
    - *healthy*: online (a fresh answered poll) with no warning;
    - *degraded*: online with a warning (hot, failed fan, missing board, hashrate below the
      warning ratio of nominal, an error) — the monitoring page's "warning";
    - *offline*: everything else (no fresh poll, not answering, never reported).
    """
    live = TelemetryLive
    online, warning = status_conditions(config, now)
    state = sa.case(
        (Miner.status.in_(IN_REPAIR_STATUSES), "in_repair"),
        (live.miner_id.is_(None), "offline"),
        (warning, "degraded"),
        (online, "healthy"),
        else_="offline",
    )
    key = GROUP_COLUMNS[group_by]
    rows = db.execute(
        sa.select(key, state, sa.func.count())
        .select_from(Miner)
        .outerjoin(live, live.miner_id == Miner.id)
        .where(Miner.status.in_(HEALTH_STATUSES), *filters.clauses())
        .group_by(key, state)
    ).all()
    found: dict[object, dict[str, int]] = {}
    for group_key, name, count in rows:
        if group_by == "model":
            group_key = group_key or ""
        found.setdefault(group_key, dict.fromkeys(HEALTH_STATES, 0))[name] += int(count)
    return found


# --- capacity ---------------------------------------------------------------------------------


def capacities(db, group_by: str, keys) -> dict[object, float]:
    """kW capacity of sites or zones (other groupings use nameplate power)."""
    model = {"site": Site, "zone": Zone}.get(group_by)
    if model is None or not keys:
        return {}
    ids = [k for k in keys if k is not None]
    return dict(
        db.execute(
            sa.select(model.id, model.capacity_kw)
            .where(model.id.in_(ids))
            .execution_options(unscoped=True)
        ).all()
    )
