"""The alert evaluator on crafted live and 5-minute rows: every kind fires after its
for_minutes, stays open between the thresholds, clears only after clear_minutes past the clear
threshold, never opens a second alert for the same rule and subject, and costs the same number
of statements for 3 miners as for 60 (set-based, no query per miner)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from hashinsight_core.models import Customer
from plugins.hosting.alerts.evaluate import evaluate
from plugins.hosting.alerts.models import Alert, AlertRule, AlertState
from plugins.hosting.models import EdgeDevice, Miner, Site, Zone
from plugins.hosting.telemetry import partitions
from plugins.hosting.telemetry.models import TelemetryFiveMin, TelemetryLive

T0 = dt.datetime(2026, 12, 3, 12, 0)
MIN = dt.timedelta(minutes=1)

HEALTHY = {
    "online": True,
    "hashrate_ths": 95.0,
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
    "pool_url": "stratum+tcp://pool.example.com:3333",
    "error_class": "",
}


@pytest.fixture
def farm(dbsession):
    """Customers A and B, sites S1 (zone Z1) and S2 (zone Z2), miners and one edge device."""
    a, b = Customer(name="Alpha Mining"), Customer(name="Beta Hash")
    s1, s2 = Site(name="Site one"), Site(name="Site two")
    dbsession.add_all([a, b, s1, s2])
    dbsession.flush()
    z1, z2 = Zone(site_id=s1.id, name="Z1"), Zone(site_id=s2.id, name="Z2")
    dbsession.add_all([z1, z2])
    dbsession.flush()
    miners = {}
    for name, customer, zone, model in (
        ("a1", a, z1, "S19"),
        ("a2", a, z1, "S21"),
        ("b1", b, z2, "S19"),
    ):
        miner = Miner(
            serial=name.upper() + "SERIAL",
            model_name=model,
            nominal_ths=95.0,
            customer_id=customer.id,
            site_id=zone.site_id,
            zone_id=zone.id,
            status="online",
        )
        dbsession.add(miner)
        miners[name] = miner
    device = EdgeDevice(
        name="collector Z1",
        site_id=s1.id,
        zone_id=z1.id,
        token_hash="f" * 64,
        token_prefix="hie_test",
        last_seen_at=T0,
    )
    dbsession.add(device)
    dbsession.flush()
    return {"A": a, "B": b, "S1": s1, "S2": s2, "Z1": z1, "Z2": z2, "device": device, **miners}


def live(db, miner, ts, **values):
    """Replace the miner's live row (the newest poll)."""
    db.execute(sa.delete(TelemetryLive).where(TelemetryLive.miner_id == miner.id))
    row = {**HEALTHY, **values}
    db.add(
        TelemetryLive(
            miner_id=miner.id,
            ts=ts,
            site_id=miner.site_id,
            zone_id=miner.zone_id,
            customer_id=miner.customer_id,
            **row,
        )
    )
    db.flush()


def five(db, miner, bucket, *, accepted, rejected, online=10):
    """Replace the miner's 5-minute rows by one bucket."""
    if db.get_bind().dialect.name == "postgresql":
        partitions.ensure(db.connection(), partitions.FIVE_MIN, bucket, bucket + MIN)
    db.execute(sa.delete(TelemetryFiveMin).where(TelemetryFiveMin.miner_id == miner.id))
    db.add(
        TelemetryFiveMin(
            miner_id=miner.id,
            bucket=bucket,
            site_id=miner.site_id,
            zone_id=miner.zone_id,
            customer_id=miner.customer_id,
            samples=10,
            online_samples=online,
            hashing_samples=online,
            hashrate_avg_ths=95.0,
            power_samples=10,
            energy_kwh=0.27,
            temp_samples=10,
            accepted_delta=accepted,
            rejected_delta=rejected,
            error_samples=0,
        )
    )
    db.flush()


def make_rule(db, kind, **values) -> AlertRule:
    values.setdefault("for_minutes", 2)
    values.setdefault("clear_minutes", 3)
    rule = AlertRule(name=f"{kind} rule", kind=kind, severity="warning", **values)
    db.add(rule)
    db.flush()
    return rule


def alerts(db, rule=None) -> list[Alert]:
    query = sa.select(Alert).order_by(Alert.id)
    if rule is not None:
        query = query.where(Alert.rule_id == rule.id)
    db.expire_all()
    return list(db.scalars(query))


# kind -> (rule values, bad reading, in-between reading (holds, does not fire), good reading)
LIVE_CASES = {
    "offline": ({}, {"online": False, "hashrate_ths": None}, None, {}),
    "low_hashrate": (
        {"threshold": 80, "clear_threshold": 90},
        {"hashrate_ths": 60.0},  # 63 % of 95
        {"hashrate_ths": 80.0},  # 84 %: above 80, below 90
        {"hashrate_ths": 94.0},
    ),
    "high_temp": (
        {"threshold": 85, "clear_threshold": 80},
        {"temp_max_c": 91.0},
        {"temp_max_c": 83.0},
        {"temp_max_c": 72.0},
    ),
    "fan_failure": (
        {"threshold": 1000, "clear_threshold": 2000},
        {"fan_min_rpm": 400},
        {"fan_min_rpm": 1500},
        {"fan_min_rpm": 4100},
    ),
    "board_missing": ({}, {"boards_ok": 2}, None, {}),
}


@pytest.mark.parametrize("kind", sorted(LIVE_CASES))
def test_live_rules_fire_after_for_minutes_and_clear_with_hysteresis(dbsession, farm, kind):
    values, bad, between, good = LIVE_CASES[kind]
    rule = make_rule(dbsession, kind, **values)
    miner, healthy = farm["a1"], farm["a2"]

    def at(minute, reading):
        now = T0 + minute * MIN
        live(dbsession, miner, now, **reading)
        live(dbsession, healthy, now)
        return evaluate(dbsession, now=now)

    at(0, bad)
    assert alerts(dbsession) == []  # pending: for_minutes is 2
    at(1, bad)
    assert alerts(dbsession) == []
    result = at(2, bad)
    (alert,) = alerts(dbsession)
    assert result.opened == {rule.id: [alert.id]}
    assert (alert.subject_type, alert.subject_id, alert.status) == ("miner", miner.id, "open")
    assert alert.since == T0 and alert.opened_at == T0 + 2 * MIN
    assert alert.customer_id == farm["A"].id and alert.subject_label == "A1SERIAL"
    at(2, bad)  # the same minute again
    at(3, bad)
    assert [a.id for a in alerts(dbsession)] == [alert.id]  # no duplicate

    minute = 4
    if between is not None:
        # Past the threshold but not past the clear threshold: stays open, clear timer idle.
        for minute in (4, 5, 6, 7):
            at(minute, between)
        assert alerts(dbsession)[0].status == "open"
        minute = 8
    at(minute, good)
    at(minute + 2, good)
    assert alerts(dbsession)[0].status == "open"  # good for 2 of 3 minutes
    result = at(minute + 3, good)
    (alert,) = alerts(dbsession)
    assert alert.status == "resolved" and alert.resolution == "cleared"
    assert alert.resolved_at == T0 + (minute + 3) * MIN and alert.resolved_by is None
    assert result.cleared == {rule.id: [alert.id]}
    assert dbsession.scalar(sa.select(sa.func.count()).select_from(AlertState)) == 0
    at(minute + 4, good)
    assert len(alerts(dbsession)) == 1


def test_a_streak_that_breaks_before_for_minutes_fires_nothing(dbsession, farm):
    make_rule(dbsession, "high_temp", threshold=85, for_minutes=3)
    miner = farm["a1"]
    for minute, temp in ((0, 90.0), (1, 90.0), (2, 70.0), (3, 90.0), (4, 90.0), (5, 90.0)):
        live(dbsession, miner, T0 + minute * MIN, temp_max_c=temp)
        evaluate(dbsession, now=T0 + minute * MIN)
    assert alerts(dbsession) == []  # the streak started over at minute 3
    live(dbsession, miner, T0 + 6 * MIN, temp_max_c=90.0)
    evaluate(dbsession, now=T0 + 6 * MIN)
    (alert,) = alerts(dbsession)
    assert alert.since == T0 + 3 * MIN and alert.value == 90.0


def test_a_silent_collector_makes_its_miners_offline_since_their_last_poll(dbsession, farm):
    rule = make_rule(dbsession, "offline", for_minutes=10)
    live(dbsession, farm["a1"], T0)  # online, then nothing more
    evaluate(dbsession, now=T0 + 4 * MIN)  # fresh for 5 minutes
    assert alerts(dbsession) == []
    evaluate(dbsession, now=T0 + 9 * MIN)  # stale, offline since T0: 9 < 10 minutes
    assert alerts(dbsession) == []
    evaluate(dbsession, now=T0 + 10 * MIN)
    (alert,) = alerts(dbsession, rule)
    assert alert.since == T0


FIVE_CASES = {
    "pool_down": ({}, (0, 0), None, (900, 3)),
    "reject_rate": ({"threshold": 5, "clear_threshold": 2}, (900, 100), (970, 30), (995, 5)),
}


@pytest.mark.parametrize("kind", sorted(FIVE_CASES))
def test_five_minute_rules_fire_and_clear(dbsession, farm, kind):
    values, bad, between, good = FIVE_CASES[kind]
    rule = make_rule(dbsession, kind, window_minutes=10, **values)
    miner = farm["b1"]

    def at(minute, shares):
        now = T0 + minute * MIN
        bucket = now - (now - T0) % dt.timedelta(minutes=5) - dt.timedelta(minutes=5)
        five(dbsession, miner, bucket, accepted=shares[0], rejected=shares[1])
        five(dbsession, farm["a1"], bucket, accepted=1000, rejected=1)
        return evaluate(dbsession, now=now)

    at(0, bad)
    at(1, bad)
    assert alerts(dbsession) == []
    at(2, bad)
    (alert,) = alerts(dbsession)
    assert (alert.rule_id, alert.subject_id, alert.customer_id) == (
        rule.id,
        miner.id,
        farm["B"].id,
    )
    if kind == "reject_rate":
        assert alert.value == pytest.approx(10.0)
    at(3, bad)
    if between is not None:
        at(4, between)  # 3 %: below 5, above 2
        at(9, between)
        assert alerts(dbsession)[0].status == "open"
    at(10, good)
    at(12, good)
    assert alerts(dbsession)[0].status == "open"
    at(13, good)
    (alert,) = alerts(dbsession)
    assert alert.status == "resolved" and alert.resolution == "cleared"


def test_an_old_bucket_outside_the_window_is_not_used(dbsession, farm):
    make_rule(dbsession, "pool_down", window_minutes=10, for_minutes=0)
    five(dbsession, farm["a1"], T0 - dt.timedelta(minutes=30), accepted=0, rejected=0)
    evaluate(dbsession, now=T0)
    assert alerts(dbsession) == []


def test_device_silent_fires_from_the_last_upload_and_clears_when_it_uploads(dbsession, farm):
    device = farm["device"]
    rule = make_rule(dbsession, "device_silent", for_minutes=5, clear_minutes=0)
    evaluate(dbsession, now=T0 + 4 * MIN)
    assert alerts(dbsession) == []
    evaluate(dbsession, now=T0 + 5 * MIN)
    (alert,) = alerts(dbsession, rule)
    assert (alert.subject_type, alert.subject_id, alert.subject_label) == (
        "device",
        device.id,
        "collector Z1",
    )
    assert alert.customer_id is None and alert.site_id == farm["S1"].id
    device.last_seen_at = T0 + 6 * MIN
    dbsession.flush()
    evaluate(dbsession, now=T0 + 6 * MIN + dt.timedelta(seconds=30))
    assert alerts(dbsession)[0].status == "resolved"
    # A revoked device is not watched.
    device.revoked_at = T0
    dbsession.flush()
    evaluate(dbsession, now=T0 + 60 * MIN)
    assert len(alerts(dbsession)) == 1


def test_rules_look_only_where_they_are_scoped(dbsession, farm):
    by_customer = make_rule(
        dbsession, "high_temp", threshold=85, for_minutes=0, customer_id=farm["A"].id
    )
    by_site = make_rule(dbsession, "high_temp", threshold=85, for_minutes=0, site_id=farm["S2"].id)
    by_zone = make_rule(dbsession, "high_temp", threshold=85, for_minutes=0, zone_id=farm["Z1"].id)
    by_model = make_rule(dbsession, "high_temp", threshold=85, for_minutes=0, model_name="S21")
    everywhere = make_rule(dbsession, "high_temp", threshold=85, for_minutes=0)
    for name in ("a1", "a2", "b1"):
        live(dbsession, farm[name], T0, temp_max_c=95.0)
    farm["a2"].status = "maintenance"  # taken out of service: no alerts
    dbsession.flush()
    evaluate(dbsession, now=T0)

    def subjects(rule):
        return sorted(a.subject_id for a in alerts(dbsession, rule))

    assert subjects(by_customer) == [farm["a1"].id]
    assert subjects(by_site) == [farm["b1"].id]
    assert subjects(by_zone) == [farm["a1"].id]
    assert subjects(by_model) == []  # the S21 is in maintenance
    assert subjects(everywhere) == sorted([farm["a1"].id, farm["b1"].id])


def test_disabled_rules_are_not_evaluated(dbsession, farm):
    make_rule(dbsession, "high_temp", threshold=85, for_minutes=0, enabled=False)
    live(dbsession, farm["a1"], T0, temp_max_c=99.0)
    assert evaluate(dbsession, now=T0).rules == 0
    assert alerts(dbsession) == []


def test_the_database_refuses_a_second_open_alert_for_the_same_rule_and_subject(dbsession, farm):
    rule = make_rule(dbsession, "high_temp", threshold=85, for_minutes=0)
    live(dbsession, farm["a1"], T0, temp_max_c=99.0)
    evaluate(dbsession, now=T0)
    (first,) = alerts(dbsession)
    copy = Alert(
        rule_id=rule.id,
        rule_name=rule.name,
        kind=rule.kind,
        severity=rule.severity,
        subject_type="miner",
        subject_id=first.subject_id,
        site_id=first.site_id,
        zone_id=first.zone_id,
        since=T0,
        open_key=first.open_key,
    )
    dbsession.add(copy)
    with pytest.raises(sa.exc.IntegrityError):
        dbsession.flush()


def _count_statements(engine, func) -> int:
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        func()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(seen)


def test_evaluation_is_set_based_the_same_statements_for_3_or_60_miners(dbsession, farm, engine):
    for kind, values in (("high_temp", {"threshold": 85}), ("offline", {}), ("pool_down", {})):
        make_rule(dbsession, kind, for_minutes=0, **values)
    for name in ("a1", "a2", "b1"):
        live(dbsession, farm[name], T0, temp_max_c=95.0)
    small = _count_statements(engine, lambda: evaluate(dbsession, now=T0))
    zone = farm["Z1"]
    for i in range(57):
        miner = Miner(
            serial=f"BULK{i:04d}",
            model_name="S19",
            customer_id=farm["A"].id,
            site_id=zone.site_id,
            zone_id=zone.id,
            status="online",
        )
        dbsession.add(miner)
        dbsession.flush()
        live(dbsession, miner, T0 + MIN, temp_max_c=95.0)
    large = _count_statements(engine, lambda: evaluate(dbsession, now=T0 + MIN))
    assert large == small
    assert len([a for a in alerts(dbsession) if a.kind == "high_temp"]) == 60
