"""store(): raw + live in the caller's transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from plugins.hosting.telemetry import partitions
from plugins.hosting.telemetry.models import TelemetryDirty, TelemetryLive, TelemetryRaw
from plugins.hosting.telemetry.rows import FIELDS, TelemetryRow
from plugins.hosting.telemetry.store import store

NOW = dt.datetime(2026, 12, 3, 12, 0, 0)


def make_row(miner_id: int, ts: dt.datetime, **values) -> TelemetryRow:
    """A healthy S19-like poll; override any field."""
    base = {
        "site_id": 1,
        "zone_id": 10 + miner_id % 2,
        "customer_id": 100 + miner_id % 3,
        "device_id": 7,
        "online": True,
        "hashrate_ths": 95.0,
        "hashrate_5s_ths": 96.0,
        "nominal_ths": 95.0,
        "power_w": 3250.0,
        "temp_max_c": 70.0,
        "temp_avg_c": 62.0,
        "fan_min_rpm": 4200,
        "fans_total": 4,
        "fans_failed": 0,
        "boards_total": 3,
        "boards_ok": 3,
        "accepted": 1000,
        "rejected": 2,
        "hw_errors": 0,
        "uptime_s": 86_400,
        "pool_url": "stratum+tcp://pool.example.com:3333",
        "error_class": "",
    }
    base.update(values)
    return TelemetryRow(ts=ts, miner_id=miner_id, **base)


def raw_rows(session) -> list[TelemetryRaw]:
    return session.scalars(
        sa.select(TelemetryRaw).order_by(TelemetryRaw.miner_id, TelemetryRaw.ts)
    ).all()


def live(session, miner_id) -> TelemetryLive | None:
    session.expire_all()
    return session.get(TelemetryLive, miner_id)


def test_rows_carry_exactly_the_agreed_fields():
    # The receivers build these by name; the names are the contract.
    assert [f for f in TelemetryRow.__dataclass_fields__] == list(FIELDS)
    row = make_row(1, NOW)
    assert row.as_tuple()[FIELDS.index("pool_url")] == "stratum+tcp://pool.example.com:3333"
    assert (
        TelemetryRow(
            ts=NOW, miner_id=1, site_id=1, zone_id=1, customer_id=None, device_id=None, online=False
        ).pool_url
        == ""
    )


def test_store_writes_every_poll_to_raw_and_the_newest_to_live(dbsession):
    rows = [
        make_row(m, NOW - dt.timedelta(seconds=30 * k), hashrate_ths=90.0 + k)
        for m in (1, 2)
        for k in range(3)
    ]
    assert store(dbsession, rows, now=NOW) == 6
    stored = raw_rows(dbsession)
    assert len(stored) == 6
    first = stored[0]
    assert (first.miner_id, first.ts, first.hashrate_ths) == (
        1,
        NOW - dt.timedelta(seconds=60),
        92.0,
    )
    assert first.pool_url == "stratum+tcp://pool.example.com:3333"
    assert first.online is True and first.customer_id == 101
    for miner in (1, 2):
        row = live(dbsession, miner)
        assert row.ts == NOW and row.hashrate_ths == 90.0


def test_an_older_record_never_overwrites_a_newer_live_row(dbsession):
    store(dbsession, [make_row(1, NOW, temp_max_c=71.0)], now=NOW)
    older = make_row(1, NOW - dt.timedelta(minutes=2), temp_max_c=99.0, online=False)
    assert store(dbsession, [older], now=NOW) == 1  # history keeps it
    row = live(dbsession, 1)
    assert (row.ts, row.temp_max_c, row.online) == (NOW, 71.0, True)
    newer = make_row(
        1, NOW + dt.timedelta(seconds=30), temp_max_c=72.5, online=False, hashrate_ths=None
    )
    store(dbsession, [newer], now=NOW + dt.timedelta(seconds=30))
    row = live(dbsession, 1)
    assert (row.ts, row.temp_max_c, row.online, row.hashrate_ths) == (newer.ts, 72.5, False, None)
    assert len(raw_rows(dbsession)) == 3


def test_the_same_poll_twice_is_stored_once(dbsession):
    batch = [make_row(1, NOW), make_row(1, NOW, hashrate_ths=1.0), make_row(2, NOW)]
    assert store(dbsession, batch, now=NOW) == 2
    # A replayed upload: nothing new, and the transaction is still usable afterwards.
    assert store(dbsession, [make_row(1, NOW, hashrate_ths=5.0), make_row(3, NOW)], now=NOW) == 1
    stored = raw_rows(dbsession)
    assert [(r.miner_id, r.hashrate_ths) for r in stored] == [(1, 95.0), (2, 95.0), (3, 95.0)]
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(TelemetryLive)) == 3


def test_rows_older_than_raw_retention_are_not_stored(dbsession):
    old = make_row(1, NOW - dt.timedelta(hours=25))
    assert store(dbsession, [old, make_row(2, NOW)], now=NOW) == 1
    assert [r.miner_id for r in raw_rows(dbsession)] == [2]
    assert live(dbsession, 1) is None


def test_timezone_aware_times_are_stored_as_utc(dbsession):
    aware = dt.datetime(2026, 12, 3, 19, 59, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    store(dbsession, [make_row(1, aware)], now=NOW)
    assert raw_rows(dbsession)[0].ts == dt.datetime(2026, 12, 3, 11, 59, 30)


def test_late_rows_mark_their_bucket_for_a_re_roll_and_on_time_rows_do_not(dbsession):
    store(dbsession, [make_row(1, NOW - dt.timedelta(seconds=20))], now=NOW)
    assert dbsession.scalars(sa.select(TelemetryDirty.period)).all() == []
    late = [
        make_row(2, dt.datetime(2026, 12, 3, 11, 41, 10)),
        make_row(3, dt.datetime(2026, 12, 3, 11, 44, 50)),
    ]
    store(dbsession, late, now=NOW)
    periods = dbsession.scalars(
        sa.select(TelemetryDirty.period).where(TelemetryDirty.layer == "5min")
    ).all()
    assert periods == [dt.datetime(2026, 12, 3, 11, 40)]


def test_text_values_survive_the_bulk_path_and_are_cut_to_the_column(dbsession):
    url = "stratum+tcp://pool\\with\ttab\nand newline.example:3333/" + "x" * 300
    store(
        dbsession, [make_row(1, NOW, pool_url=url, error_class="fan_failure\t" + "e" * 80)], now=NOW
    )
    row = raw_rows(dbsession)[0]
    assert row.pool_url == url[:255]
    assert row.error_class == ("fan_failure\t" + "e" * 80)[:64]
    assert live(dbsession, 1).pool_url == url[:255]


def test_whole_numbers_given_as_floats_are_stored_as_integers(dbsession):
    store(dbsession, [make_row(1, NOW, fan_min_rpm=4500.0, accepted=12.0)], now=NOW)
    row = raw_rows(dbsession)[0]
    assert (row.fan_min_rpm, row.accepted) == (4500, 12)


def test_nulls_stay_nulls(dbsession):
    unknown = dict.fromkeys(
        [
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
            "customer_id",
            "device_id",
        ]
    )
    store(dbsession, [make_row(1, NOW, online=False, **unknown)], now=NOW)
    row = raw_rows(dbsession)[0]
    assert all(getattr(row, name) is None for name in unknown)
    assert row.online is False


def test_nothing_is_written_when_the_caller_rolls_back(dbsession, engine):
    store(dbsession, [make_row(1, NOW)], now=NOW)
    dbsession.tm.abort()
    dbsession.tm.begin()
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(TelemetryRaw.__table__)) == 0
        assert conn.scalar(sa.select(sa.func.count()).select_from(TelemetryLive.__table__)) == 0


def test_postgresql_creates_missing_partitions_on_the_way(dbsession):
    conn = dbsession.connection()
    if not partitions.is_postgresql(conn):
        pytest.skip("partitions are PostgreSQL only")
    when = dt.datetime(2026, 12, 3, 3, 17, 0)  # far from any partition a job made ahead
    assert (
        store(dbsession, [make_row(1, when), make_row(2, when + dt.timedelta(minutes=5))], now=when)
        == 2
    )
    have = partitions.existing(conn, partitions.RAW)
    assert {dt.datetime(2026, 12, 3, 3, 15), dt.datetime(2026, 12, 3, 3, 20)} <= set(have)
    # The next batch for the same buckets takes the fast path (COPY) and lands in them.
    assert store(dbsession, [make_row(3, when)], now=when) == 1
    name = have[dt.datetime(2026, 12, 3, 3, 15)]
    assert dbsession.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar() == 2
