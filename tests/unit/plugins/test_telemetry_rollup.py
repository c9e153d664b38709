"""Rollups raw -> 5-minute -> daily, watermark-driven, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict

import pytest
import sqlalchemy as sa

from plugins.hosting.telemetry import partitions
from plugins.hosting.telemetry.config import TelemetryConfig
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
from plugins.hosting.telemetry.retention import apply_retention
from plugins.hosting.telemetry.rollup import rollup_5min, rollup_daily
from plugins.hosting.telemetry.store import store
from tests.unit.plugins.test_telemetry_store import make_row

T = dt.datetime(2026, 12, 3, 11, 0)  # a bucket start
MIN = dt.timedelta(minutes=1)
# Reach back far enough for the fixed times of these tests in one run.
WIDE = TelemetryConfig(raw_retention_hours=72, rollup_max_buckets=1000, rollup_max_days=5)


def at(minutes: float) -> dt.datetime:
    return T + dt.timedelta(minutes=minutes)


def five_min(session, miner_id, bucket=T) -> TelemetryFiveMin:
    session.expire_all()
    return session.get(TelemetryFiveMin, (miner_id, bucket))


def snapshot(session, model) -> list[tuple]:
    """Every row of a table as plain tuples (for comparing runs)."""
    session.expire_all()
    table = model.__table__
    rows = session.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows]


def watermark(session, name):
    session.expire_all()
    row = session.get(TelemetryWatermark, name)
    return row and row.value


def test_one_bucket_rolls_up_to_hand_computed_figures(dbsession):
    polls = [
        make_row(
            1,
            at(0.2),
            hashrate_ths=100.0,
            power_w=3000.0,
            temp_max_c=70.0,
            temp_avg_c=60.0,
            fan_min_rpm=4000,
            accepted=1000,
            rejected=10,
            hw_errors=0,
            uptime_s=10_000,
        ),
        make_row(
            1,
            at(1.2),
            hashrate_ths=80.0,
            power_w=3200.0,
            temp_max_c=75.0,
            temp_avg_c=64.0,
            fan_min_rpm=3800,
            fans_failed=1,
            boards_ok=2,
            accepted=1100,
            rejected=12,
            hw_errors=1,
            uptime_s=10_060,
            error_class="fan_failure",
        ),
        make_row(
            1,
            at(2.2),
            online=False,
            hashrate_ths=None,
            hashrate_5s_ths=None,
            power_w=None,
            temp_max_c=None,
            temp_avg_c=None,
            fan_min_rpm=None,
            fans_failed=None,
            boards_ok=None,
            boards_total=None,
            accepted=None,
            rejected=None,
            hw_errors=None,
            uptime_s=None,
            nominal_ths=None,
        ),
        make_row(
            1,
            at(3.2),
            hashrate_ths=0.0,
            power_w=500.0,
            temp_max_c=50.0,
            temp_avg_c=None,
            fan_min_rpm=3000,
            accepted=1150,
            rejected=12,
            hw_errors=3,
            uptime_s=10_180,
        ),
        # The next bucket is not part of this one.
        make_row(1, at(5.0), hashrate_ths=1000.0),
    ]
    store(dbsession, polls, now=at(5.5), config=WIDE)
    result = rollup_5min(dbsession, now=at(7.5), config=WIDE)
    assert result.end == T + dt.timedelta(minutes=5)  # 11:05-11:10 is still within the grace
    row = five_min(dbsession, 1)
    assert (row.samples, row.online_samples, row.hashing_samples) == (4, 3, 2)
    assert row.hashrate_avg_ths == pytest.approx(45.0)  # (100 + 80 + 0 + 0) / 4
    assert row.hashrate_max_ths == 100.0 and row.nominal_ths == 95.0
    assert row.power_avg_w == pytest.approx(6700 / 3) and row.power_samples == 3
    assert row.energy_kwh == pytest.approx(6700 / 3 * 5 / 60 / 1000)
    assert (row.temp_max_c, row.temp_avg_c, row.temp_samples) == (75.0, pytest.approx(62.0), 2)
    assert (row.fan_min_rpm, row.fans_failed_max, row.boards_missing_max) == (3000, 1, 1)
    assert (row.accepted_delta, row.rejected_delta, row.hw_errors_delta) == (150, 2, 3)
    assert row.error_samples == 1
    assert (row.site_id, row.zone_id, row.customer_id) == (1, 11, 101)
    assert five_min(dbsession, 1, at(5)) is None
    assert watermark(dbsession, "5min") == at(5)


def test_a_restart_inside_the_bucket_counts_shares_since_the_restart(dbsession):
    polls = [
        make_row(2, at(0.5), accepted=900, rejected=9, uptime_s=5000),
        make_row(2, at(2.5), accepted=5, rejected=0, uptime_s=20),  # restarted at 11:02:10
        make_row(2, at(4.5), accepted=30, rejected=1, uptime_s=140),
    ]
    store(dbsession, polls, now=at(5), config=WIDE)
    rollup_5min(dbsession, now=at(8), config=WIDE)
    row = five_min(dbsession, 2)
    assert (row.accepted_delta, row.rejected_delta) == (30, 1)


def test_an_open_bucket_waits_for_the_grace_period(dbsession):
    store(dbsession, [make_row(1, at(1))], now=at(1), config=WIDE)
    assert rollup_5min(dbsession, now=at(6), config=WIDE).rows == 0  # 11:00-11:05 ended 1 min ago
    assert five_min(dbsession, 1) is None
    rollup_5min(dbsession, now=at(7), config=WIDE)
    assert five_min(dbsession, 1).samples == 1


def test_running_again_changes_nothing_and_a_recompute_gives_the_same_rows(dbsession):
    rows = [
        make_row(m, at(k * 0.5), hashrate_ths=90.0 + m + k) for m in range(1, 6) for k in range(30)
    ]
    store(dbsession, rows, now=at(15), config=WIDE)
    rollup_5min(dbsession, now=at(20), config=WIDE)
    first = snapshot(dbsession, TelemetryFiveMin)
    assert len(first) == 5 * 3
    again = rollup_5min(dbsession, now=at(20), config=WIDE)
    assert (again.start, again.rows) == (None, 0)
    assert snapshot(dbsession, TelemetryFiveMin) == first
    # Forget the watermark: everything is recomputed from raw, and nothing is counted twice.
    dbsession.execute(sa.update(TelemetryWatermark).values(value=None))
    redo = rollup_5min(dbsession, now=at(20), config=WIDE)
    assert redo.rows == 15
    assert snapshot(dbsession, TelemetryFiveMin) == first


def test_catching_up_after_downtime_goes_bucket_range_by_range(dbsession):
    config = TelemetryConfig(raw_retention_hours=72, rollup_max_buckets=4)
    rows = [make_row(1, at(k), hashrate_ths=float(k)) for k in range(0, 60)]  # one hour of polls
    store(dbsession, rows, now=at(60), config=config)
    # The worker was down; the watermark says it last rolled up to 11:00.
    rollup_5min(dbsession, now=T + dt.timedelta(minutes=2, seconds=1), config=config)
    dbsession.execute(sa.update(TelemetryWatermark).values(value=T))
    runs = []
    while True:
        result = rollup_5min(dbsession, now=at(70), config=config)
        if result.start is None:
            break
        runs.append((result.start, result.end))
    assert runs[0] == (T, at(20)) and runs[-1] == (at(60), at(65))  # 4 buckets per run
    assert len(runs) == 4
    buckets = dbsession.scalars(
        sa.select(TelemetryFiveMin.bucket).order_by(TelemetryFiveMin.bucket)
    ).all()
    assert buckets == [at(5 * k) for k in range(12)]
    # Each bucket holds its own 5 polls: 0..4, 5..9, ...
    assert five_min(dbsession, 1, at(55)).hashrate_avg_ths == pytest.approx(57.0)


def test_the_first_run_starts_at_the_oldest_raw_data(dbsession):
    assert rollup_5min(dbsession, now=at(60), config=WIDE).rows == 0  # nothing yet
    store(dbsession, [make_row(1, at(31)), make_row(1, at(42))], now=at(45), config=WIDE)
    result = rollup_5min(dbsession, now=at(60), config=TelemetryConfig(raw_retention_hours=72))
    # Not 72 hours back in steps of 12 buckets: straight to the data.
    assert (result.start, result.end, result.rows) == (at(30), at(55), 2)


def test_a_long_outage_starts_again_at_the_raw_horizon(dbsession):
    config = TelemetryConfig(rollup_max_buckets=1000)
    now = dt.datetime(2026, 12, 10, 12, 0)
    store(dbsession, [make_row(1, now - dt.timedelta(hours=2))], now=now)
    dbsession.execute(
        sa.insert(TelemetryWatermark).values(name="5min", value=dt.datetime(2026, 12, 1))
    )
    result = rollup_5min(dbsession, now=now, config=config)
    assert result.start == now - dt.timedelta(hours=24)
    assert result.end == now - dt.timedelta(minutes=5)
    assert five_min(dbsession, 1, now - dt.timedelta(hours=2)).samples == 1


def test_late_rows_re_roll_their_bucket_and_then_their_day(dbsession):
    day = dt.datetime(2026, 12, 2)
    store(
        dbsession,
        [make_row(1, day + dt.timedelta(hours=23, minutes=50), hashrate_ths=100.0)],
        now=day + dt.timedelta(hours=23, minutes=50),
        config=WIDE,
    )
    rollup_5min(dbsession, now=day + dt.timedelta(days=1, minutes=5), config=WIDE)
    rollup_daily(dbsession, now=day + dt.timedelta(days=1, minutes=5), config=WIDE)
    dbsession.expire_all()
    assert dbsession.get(TelemetryDaily, (1, day.date())).hashrate_avg_ths == 100.0
    # A collector comes back from an outage with polls for that bucket.
    late_time = day + dt.timedelta(hours=23, minutes=51)
    store(
        dbsession,
        [make_row(1, late_time, hashrate_ths=0.0, online=False)],
        now=day + dt.timedelta(days=1, minutes=20),
        config=WIDE,
    )
    result = rollup_5min(dbsession, now=day + dt.timedelta(days=1, minutes=21), config=WIDE)
    assert result.rerolled == [day + dt.timedelta(hours=23, minutes=50)]
    row = five_min(dbsession, 1, day + dt.timedelta(hours=23, minutes=50))
    assert (row.samples, row.online_samples, row.hashrate_avg_ths) == (2, 1, 50.0)
    daily = rollup_daily(dbsession, now=day + dt.timedelta(days=1, minutes=21), config=WIDE)
    assert daily.rerolled == [day]
    dbsession.expire_all()
    assert dbsession.get(TelemetryDaily, (1, day.date())).hashrate_avg_ths == 50.0
    assert dbsession.get(TelemetryDailySite, (1, day.date())).samples == 2


# --- daily rollups against the same figures computed straight from raw ----------------------


def bucket_of(ts):
    return ts.replace(minute=ts.minute - ts.minute % 5, second=0, microsecond=0)


def reference(rows):
    """Per-miner bucket, per-miner day and per-group day figures, computed in Python."""
    buckets = defaultdict(list)
    for r in rows:
        buckets[(r.miner_id, bucket_of(r.ts))].append(r)
    per_bucket = {}
    for key, polls in buckets.items():
        powers = [p.power_w for p in polls if p.power_w is not None]
        power = sum(powers) / len(powers) if powers else None
        per_bucket[key] = {
            "samples": len(polls),
            "online": sum(p.online for p in polls),
            "hashrate": sum(p.hashrate_ths or 0 for p in polls) / len(polls),
            "power": power,
            "power_n": len(powers),
            "energy": (power or 0) * 5 / 60 / 1000,
            "nominal": max(
                (p.nominal_ths for p in polls if p.nominal_ths is not None), default=None
            ),
            "site": polls[0].site_id,
            "zone": polls[0].zone_id,
            "customer": polls[0].customer_id,
        }
    return per_bucket


def make_day(day):
    """A small fleet over one day: 6 miners, two sites' worth of zones, some offline time."""
    rows = []
    for m in range(1, 7):
        for k in range(0, 24 * 60, 7):  # every 7 minutes, so buckets hold 0, 1 or 2 polls
            ts = day + dt.timedelta(minutes=k, seconds=m)
            down = (k // 60) % 5 == m % 5  # each miner is unreachable some hours
            rows.append(
                make_row(
                    m,
                    ts,
                    online=not down,
                    hashrate_ths=None if down else 90.0 + m + (k % 13),
                    power_w=None if down else 3000.0 + 10 * m + k % 7,
                    site_id=1 + m % 2,
                    zone_id=10 + m % 3,
                    customer_id=None if m == 6 else 100 + m % 2,
                    nominal_ths=95.0 + m,
                )
            )
    return rows


def test_daily_rows_equal_the_same_aggregates_computed_from_raw(dbsession):
    day = dt.datetime(2026, 12, 2)
    rows = make_day(day)
    store(dbsession, rows, now=day + dt.timedelta(days=1), config=WIDE)
    now = day + dt.timedelta(days=1, minutes=10)
    rollup_5min(dbsession, now=now, config=WIDE)
    result = rollup_daily(dbsession, now=now, config=WIDE)
    assert (result.start, result.end) == (day, day + dt.timedelta(days=1))
    ref = reference(rows)
    dbsession.expire_all()
    for m in range(1, 7):
        mine = {b: v for (miner, b), v in ref.items() if miner == m}
        daily = dbsession.get(TelemetryDaily, (m, day.date()))
        samples = sum(v["samples"] for v in mine.values())
        assert daily.buckets == len(mine)
        assert daily.samples == samples == sum(1 for r in rows if r.miner_id == m)
        assert daily.online_samples == sum(r.online for r in rows if r.miner_id == m)
        assert daily.hashrate_avg_ths == pytest.approx(
            sum(r.hashrate_ths or 0 for r in rows if r.miner_id == m) / samples
        )
        powers = [r.power_w for r in rows if r.miner_id == m and r.power_w is not None]
        assert daily.power_avg_w == pytest.approx(sum(powers) / len(powers))
        assert daily.energy_kwh == pytest.approx(sum(v["energy"] for v in mine.values()))
    # Groups: the total averaged over the buckets that had data; sums for the rest.
    for model, key, attr in (
        (TelemetryDailySite, "site", 1),
        (TelemetryDailySite, "site", 2),
        (TelemetryDailyZone, "zone", 10),
        (TelemetryDailyZone, "zone", 12),
        (TelemetryDailyCustomer, "customer", 100),
        (TelemetryDailyCustomer, "customer", 101),
    ):
        group = {k: v for k, v in ref.items() if v[key] == attr}
        per_bucket = defaultdict(lambda: [0.0, 0.0, 0.0])
        for (_miner, b), v in group.items():
            per_bucket[b][0] += v["hashrate"]
            per_bucket[b][1] += v["power"] or 0
            per_bucket[b][2] += v["nominal"] or 0
        row = dbsession.get(model, (attr, day.date()))
        assert row.buckets == len(per_bucket)
        assert row.miners == len({miner for miner, _b in group})
        assert row.samples == sum(v["samples"] for v in group.values())
        assert row.online_samples == sum(v["online"] for v in group.values())
        assert row.hashrate_avg_ths == pytest.approx(
            sum(t[0] for t in per_bucket.values()) / len(per_bucket)
        )
        assert row.power_avg_w == pytest.approx(
            sum(t[1] for t in per_bucket.values()) / len(per_bucket)
        )
        assert row.nominal_ths == pytest.approx(
            sum(t[2] for t in per_bucket.values()) / len(per_bucket)
        )
        assert row.energy_kwh == pytest.approx(sum(v["energy"] for v in group.values()))
    # Miner 6 has no customer: it is in its site and zone but in no customer's total.
    customers = dbsession.scalars(sa.select(TelemetryDailyCustomer.customer_id)).all()
    assert sorted(customers) == [100, 101]
    # Once more: the same rows.
    before = [
        snapshot(dbsession, m)
        for m in (TelemetryDaily, TelemetryDailySite, TelemetryDailyZone, TelemetryDailyCustomer)
    ]
    dbsession.execute(
        sa.update(TelemetryWatermark).where(TelemetryWatermark.name == "daily").values(value=day)
    )
    rollup_daily(dbsession, now=now, config=WIDE)
    after = [
        snapshot(dbsession, m)
        for m in (TelemetryDaily, TelemetryDailySite, TelemetryDailyZone, TelemetryDailyCustomer)
    ]
    assert after == before


def test_daily_waits_until_every_bucket_of_the_day_is_rolled(dbsession):
    day = dt.datetime(2026, 12, 2)
    store(
        dbsession,
        [make_row(1, day + dt.timedelta(hours=23, minutes=58))],
        now=day + dt.timedelta(days=1),
        config=WIDE,
    )
    # 23:55-24:00 is still inside the grace at 00:01: the day is not closed.
    rollup_5min(dbsession, now=day + dt.timedelta(days=1, minutes=1), config=WIDE)
    assert (
        rollup_daily(dbsession, now=day + dt.timedelta(days=1, minutes=1), config=WIDE).end is None
    )
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(TelemetryDaily)) == 0
    rollup_5min(dbsession, now=day + dt.timedelta(days=1, minutes=3), config=WIDE)
    assert rollup_daily(
        dbsession, now=day + dt.timedelta(days=1, minutes=3), config=WIDE
    ).end == day + dt.timedelta(days=1)
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(TelemetryDaily)) == 1


# --- two workers at once ---------------------------------------------------------------------


def test_two_rollups_at_once_give_the_same_rows_as_one(dbsession, engine):
    rows = [
        make_row(m, at(k * 0.5), hashrate_ths=float(m * k)) for m in range(1, 21) for k in range(40)
    ]
    store(dbsession, rows, now=at(20), config=WIDE)
    dbsession.commit_now()
    now = at(25)
    factory = sa.orm.sessionmaker(bind=engine)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with factory() as session:
                barrier.wait()
                results.append(rollup_5min(session, now=now, config=WIDE))
                session.commit()
        except Exception as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    # One run did the work; the other waited for the watermark and found nothing left.
    assert sorted(r.rows for r in results) == [0, 20 * 4]
    together = snapshot(dbsession, TelemetryFiveMin)
    # The same data rolled by a single run.
    dbsession.execute(sa.delete(TelemetryFiveMin))
    dbsession.execute(sa.delete(TelemetryWatermark))
    rollup_5min(dbsession, now=now, config=WIDE)
    assert snapshot(dbsession, TelemetryFiveMin) == together
    assert watermark(dbsession, "5min") == at(20)


# --- retention -------------------------------------------------------------------------------


def test_retention_removes_only_data_past_its_age(dbsession):
    now = dt.datetime(2026, 12, 3, 12, 2)
    config = TelemetryConfig(raw_retention_hours=24, history_retention_days=90)
    keep = [
        make_row(1, now - dt.timedelta(hours=23, minutes=55)),
        make_row(1, now - dt.timedelta(minutes=1)),
    ]
    old = [make_row(1, now - dt.timedelta(hours=24, minutes=10))]
    store(dbsession, keep, now=now, config=config)
    store(dbsession, old, now=now - dt.timedelta(hours=1), config=config)
    five = TelemetryFiveMin.__table__
    if partitions.is_postgresql(dbsession.connection()):
        partitions.ensure(
            dbsession.connection(),
            partitions.FIVE_MIN,
            dt.datetime(2026, 9, 3),
            dt.datetime(2026, 9, 6),
        )
    for bucket in (
        dt.datetime(2026, 9, 3, 23, 55),
        dt.datetime(2026, 9, 4, 0, 0),
        dt.datetime(2026, 9, 5),
    ):
        dbsession.execute(
            five.insert().values(
                miner_id=1,
                bucket=bucket,
                site_id=1,
                zone_id=1,
                samples=1,
                online_samples=1,
                hashing_samples=1,
                hashrate_avg_ths=1.0,
                power_samples=0,
                energy_kwh=0.0,
                temp_samples=0,
                error_samples=0,
            )
        )
    daily_before = dbsession.scalar(sa.select(sa.func.count()).select_from(TelemetryDaily))
    result = apply_retention(dbsession, now=now, config=config)
    assert result.raw_before == dt.datetime(2026, 12, 2, 12, 0)
    assert result.history_before == dt.datetime(2026, 9, 4)
    assert dbsession.scalars(sa.select(TelemetryRaw.ts).order_by(TelemetryRaw.ts)).all() == [
        r.ts for r in keep
    ]
    assert dbsession.scalars(
        sa.select(TelemetryFiveMin.bucket).order_by(TelemetryFiveMin.bucket)
    ).all() == [dt.datetime(2026, 9, 4, 0, 0), dt.datetime(2026, 9, 5)]
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(TelemetryDaily)) == daily_before
    # Nothing left to remove on a second run.
    again = apply_retention(dbsession, now=now, config=config)
    assert (again.raw_removed, again.history_removed) == (0, 0)


def test_a_day_older_than_the_5_minute_history_is_never_recomputed(dbsession):
    day = dt.datetime(2026, 12, 2)
    store(dbsession, make_day(day)[:50], now=day + dt.timedelta(days=1), config=WIDE)
    now = day + dt.timedelta(days=1, minutes=10)
    rollup_5min(dbsession, now=now, config=WIDE)
    rollup_daily(dbsession, now=now, config=WIDE)
    old = dt.date(2026, 6, 1)  # its 5-minute rows are long gone
    dbsession.execute(
        sa.insert(TelemetryDailySite).values(
            site_id=1,
            day=old,
            miners=3,
            buckets=288,
            samples=864,
            online_samples=864,
            hashing_samples=864,
            hashrate_avg_ths=285.0,
            nominal_ths=285.0,
            power_avg_w=9750.0,
            energy_kwh=234.0,
            error_samples=0,
        )
    )
    dbsession.execute(
        sa.insert(TelemetryDirty).values(layer="daily", period=dt.datetime(2026, 6, 1))
    )
    result = rollup_daily(dbsession, now=now, config=WIDE)
    assert result.rerolled == []
    dbsession.expire_all()
    assert dbsession.get(TelemetryDailySite, (1, old)).energy_kwh == 234.0
