"""The KPI daily rollup (``hosting_kpi_daily``) gives the same reports as the 5-minute rows.

On the fixture farm of ``test_kpi`` (Nov 30 23:30 → Dec 1 00:30): the job rolls Nov 30
(finished) and Dec 1 up to the 5-minute watermark; every report — aligned and unaligned
periods, every grouping, a customer's view — must equal the one computed straight from the
5-minute rows. Changing an excused event or late telemetry must show at once in reports and
in the rolled-up rows after the next run. Frozen clocks: the job gets ``now``.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
import sqlalchemy as sa

from plugins.hosting.kpi import engine as kpi_engine
from plugins.hosting.kpi.period import Period
from tests.conftest import api_headers, login
from tests.functional import test_kpi
from tests.functional.test_kpi import API, PERIOD, b

NOV30, DEC1 = dt.date(2026, 11, 30), dt.date(2026, 12, 1)
MIDNIGHT = dt.datetime(2026, 12, 1)
farm = test_kpi.farm  # the fixture farm, shared


def set_five_watermark(dbsession, value: dt.datetime) -> None:
    """Pretend the 5-minute rollup has rolled every bucket before ``value``."""
    from plugins.hosting.telemetry.models import TelemetryWatermark

    row = dbsession.get(TelemetryWatermark, "5min")
    if row is None:
        dbsession.add(TelemetryWatermark(name="5min", value=value))
    else:
        row.value = value
    dbsession.commit_now()


def run_rollup(dbsession, now: dt.datetime):
    from plugins.hosting.kpi.rollup import rollup_kpi

    result = rollup_kpi(dbsession, now=now)
    dbsession.commit_now()
    return result


def kpi_rows(dbsession, day: dt.date) -> dict:
    from plugins.hosting.kpi.models import KpiDaily

    rows = dbsession.execute(sa.select(KpiDaily).where(KpiDaily.day == day)).scalars()
    return {r.miner_id: r for r in rows}


def same(a, b, path="") -> None:
    """Equal, floats to 1e-9 relative (sums added in another order)."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for key in a:
            if key != "as_of":
                same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{n}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (path, a, b)
    else:
        assert a == b, (path, a, b)


def totals(report) -> dict:
    """Every sum of a report, per group, per group and day, and in total."""
    return {
        "groups": {str(k): v.__dict__ for k, v in report.groups.items()},
        "days": {
            d.isoformat(): {str(k): v.__dict__ for k, v in g.items()}
            for d, g in report.days.items()
        },
        "total": report.total.__dict__,
    }


PERIODS = [
    Period(b(0), b(12)),  # the fixture's hour: partial Nov 30 + Dec 1 up to the watermark
    Period(dt.datetime(2026, 11, 30), b(12)),  # whole Nov 30 + Dec 1
    Period(dt.datetime(2026, 11, 30), MIDNIGHT),  # Nov 30 only
    Period(dt.datetime(2026, 11, 29), dt.datetime(2026, 12, 2)),  # runs past the watermark
    Period(b(3), b(9)),  # unaligned on both sides, ends before the rolled part of Dec 1
    Period(MIDNIGHT, b(10)),  # Dec 1, ends before its rolled part does
    Period(b(1) + dt.timedelta(hours=-24), b(11)),  # "last 24 hours"-like
    Period(dt.datetime(2026, 11, 30, 1), b(11)),  # rollup minus 01:00 of Nov 30, 5 min of Dec 1
]
GROUPINGS = ["site", "zone", "customer", "model", "miner"]


def assert_rollup_equals_direct(dbsession) -> None:
    for period in PERIODS:
        for group_by in GROUPINGS:
            rolled = kpi_engine.compute(dbsession, period, group_by)
            direct = kpi_engine.compute(dbsession, period, group_by, rollup=False)
            same(totals(rolled), totals(direct), f"{period} {group_by}")


def test_rollup_rows_and_reports_equal_the_five_minute_path(dbsession, farm):
    from plugins.hosting.kpi import source

    set_five_watermark(dbsession, b(12))  # Dec 1 00:30
    result = run_rollup(dbsession, now=b(12) + dt.timedelta(minutes=3))
    assert (result.start, result.end) == (NOV30, DEC1)
    assert result.today == b(12)
    m = farm["m"]

    # Nov 30 (b0-b5): m1 reachable b0, b1, b4, b5; hashing b0, b1, b5; E1 excuses b2-b4.
    nov30 = kpi_rows(dbsession, NOV30)
    m1 = nov30[m["m1"]]
    assert (m1.reachable, m1.hashing, m1.reachable_excused, m1.hashing_excused) == (4, 3, 1, 0)
    assert m1.hashrate_sum == pytest.approx(305.0) and m1.uniform
    assert (nov30[m["m2"]].reachable, nov30[m["m2"]].hashing_excused) == (5, 3)
    # Dec 1 so far: m5's b6 row predates the miner (not counted); b7 and b8 count.
    dec1 = kpi_rows(dbsession, DEC1)
    assert (dec1[m["m5"]].buckets, dec1[m["m5"]].reachable, dec1[m["m5"]].hashing) == (3, 2, 1)
    assert dec1[m["m5"]].reachable_excused == 1  # b8, E2

    # The plan: whole rolled days from the rollup, edges from the 5-minute rows.
    rolled, direct, minus = source.plan(dbsession, PERIODS[0])
    assert rolled == {DEC1: b(12)} and direct == [(b(0), MIDNIGHT)] and minus == []
    rolled, direct, minus = source.plan(dbsession, PERIODS[3])
    assert rolled == {NOV30: MIDNIGHT, DEC1: b(12)} and minus == []
    assert direct == [
        (dt.datetime(2026, 11, 29), dt.datetime(2026, 11, 30)),
        (b(12), dt.datetime(2026, 12, 2)),
    ]
    # Most of a rolled day: the rollup minus the small rest.
    rolled, direct, minus = source.plan(dbsession, PERIODS[7])
    assert rolled == {NOV30: MIDNIGHT, DEC1: b(12)} and direct == []
    assert minus == [(dt.datetime(2026, 11, 30), dt.datetime(2026, 11, 30, 1)), (b(11), b(12))]
    assert_rollup_equals_direct(dbsession)

    # Run again: nothing new to roll in order; today is re-rolled (idempotent rows).
    again = run_rollup(dbsession, now=b(12) + dt.timedelta(minutes=8))
    assert again.start is None and again.rerolled == [] and again.today == b(12)
    assert kpi_rows(dbsession, NOV30)[m["m1"]].reachable == 4
    assert_rollup_equals_direct(dbsession)


def test_today_rolled_part_plus_the_newest_minutes(dbsession, farm):
    # The 5-minute rollup has reached 00:15 only: Dec 1 is rolled to 00:15, the report adds
    # 00:15-00:30 from the 5-minute rows.
    set_five_watermark(dbsession, b(9))
    result = run_rollup(dbsession, now=b(9) + dt.timedelta(minutes=3))
    assert result.today == b(9)
    assert kpi_rows(dbsession, DEC1)[farm["m"]["m1"]].reachable == 3  # b6, b7, b8
    assert_rollup_equals_direct(dbsession)


def test_the_hand_computed_api_figures_come_from_the_rollup_too(webtest, engine, dbsession, farm):
    set_five_watermark(dbsession, b(12))
    before = {}
    for role, group_by in (("operator", "site"), ("admin", "customer"), ("acme", "site")):
        before[(role, group_by)] = _api(webtest, engine, dbsession, farm, role, group_by)
    run_rollup(dbsession, now=b(12) + dt.timedelta(minutes=3))
    for (role, group_by), data in before.items():
        same(_api(webtest, engine, dbsession, farm, role, group_by), data, f"{role} {group_by}")
    # The hand-computed values of test_kpi (S1 over the hour) still hold.
    login(webtest, engine, "operator")
    data = webtest.get(f"{API}?{PERIOD}&group_by=site").json
    s1 = next(g for g in data["groups"] if g["label"] == "S1")
    assert (s1["reachable_intervals"], s1["hashing_intervals"]) == (20, 19)
    assert s1["reachable_uptime_excl"] == pytest.approx(16 / 25)


def _api(webtest, engine, dbsession, farm, role, group_by):
    if role == "acme":
        login(webtest, engine, "customer", customer_id=farm["customers"]["acme"])
    else:
        login(webtest, engine, role)
    wide = "period=custom&from=2026-11-30T00:00:00Z&to=2026-12-01T00:30:00Z"
    out = {}
    for query in (PERIOD, wide):
        out[query] = webtest.get(f"{API}?{query}&group_by={group_by}").json
        out[query + " miners"] = webtest.get(
            f"{API}/miners?{query}&group=site&key={farm['sites']['S1']}"
        ).json
    return out


def test_an_event_change_shows_at_once_and_after_the_next_run(webtest, engine, dbsession, farm):
    set_five_watermark(dbsession, b(12))
    run_rollup(dbsession, now=b(12) + dt.timedelta(minutes=3))
    m1 = farm["m"]["m1"]
    assert kpi_rows(dbsession, NOV30)[m1].reachable_excused == 1  # b4, E1

    # Move E1 (the S1 outage) to 23:30-23:45: b0-b2 excused on Nov 30 instead of b2-b4.
    login(webtest, engine, "operator")
    event = f"/api/v1/hosting/excused-events/{farm['events']['E1']}"
    response = webtest.patch_json(
        event,
        {"starts_at": "2026-11-30T23:30:00Z", "ends_at": "2026-11-30T23:45:00Z"},
        headers=_headers(webtest),
    )
    assert response.status_int == 200
    # Reports are right at once (the day is read from the 5-minute rows until re-rolled).
    assert_rollup_equals_direct(dbsession)
    from plugins.hosting.kpi import source

    assert NOV30 not in source.plan(dbsession, PERIODS[2])[0]  # read from 5-minute rows
    nov30 = kpi_engine.compute(dbsession, PERIODS[2], "miner").groups[m1]
    assert (nov30.excused, nov30.reachable_excused) == (3, 2)  # b0-b2; reachable b0, b1
    result = run_rollup(dbsession, now=b(12) + dt.timedelta(minutes=13))
    assert NOV30 in result.rerolled
    # m1 reachable b0, b1 (excused now) and b4, b5: 2 of them excused.
    assert kpi_rows(dbsession, NOV30)[m1].reachable_excused == 2
    assert NOV30 in source.plan(dbsession, PERIODS[2])[0]
    assert_rollup_equals_direct(dbsession)

    # Deleting it: nothing excused on Nov 30 for m1 any more (E5 is Z1b only).
    assert webtest.delete(event, headers=_headers(webtest)).status_int in (200, 204)
    assert_rollup_equals_direct(dbsession)
    run_rollup(dbsession, now=b(12) + dt.timedelta(minutes=23))
    assert kpi_rows(dbsession, NOV30)[m1].reachable_excused == 0
    assert_rollup_equals_direct(dbsession)


def _headers(webtest):
    return api_headers(webtest)


def test_late_telemetry_is_picked_up(dbsession, farm):
    from plugins.hosting.telemetry.models import TelemetryFiveMin

    set_five_watermark(dbsession, b(12))
    run_rollup(dbsession, now=b(12) + dt.timedelta(minutes=3))
    m = farm["m"]
    # Late polls of m1 during the outage: the 5-minute rollup re-rolls b2 (a new row), and
    # b0 gets more samples (an existing row recomputed).
    row = dbsession.get(TelemetryFiveMin, (m["m1"], b(0)))
    row.samples, row.online_samples = 12, 12
    dbsession.add(
        TelemetryFiveMin(
            miner_id=m["m1"], bucket=b(2), site_id=row.site_id, zone_id=row.zone_id,
            customer_id=row.customer_id, samples=4, online_samples=4, hashing_samples=4,
            hashrate_avg_ths=100.0, hashrate_max_ths=100.0, nominal_ths=100.0,
            power_avg_w=3000.0, power_samples=4, energy_kwh=0.25, temp_samples=0,
            error_samples=0,
        )
    )  # fmt: skip
    dbsession.commit_now()
    result = run_rollup(dbsession, now=b(12) + dt.timedelta(minutes=13))
    assert result.rerolled == [NOV30]
    m1 = kpi_rows(dbsession, NOV30)[m["m1"]]
    assert (m1.reachable, m1.hashing, m1.reachable_excused, m1.hashing_excused) == (5, 4, 2, 1)
    assert_rollup_equals_direct(dbsession)
    # Nothing changed since: the next run leaves Nov 30 alone.
    assert run_rollup(dbsession, now=b(12) + dt.timedelta(minutes=23)).rerolled == []


def test_a_moved_or_edited_miner_is_read_from_the_five_minute_rows(dbsession, farm):
    from plugins.hosting.models import Miner

    set_five_watermark(dbsession, b(12))
    run_rollup(dbsession, now=b(12) + dt.timedelta(minutes=3))
    m = farm["m"]
    # m2 moves to zone Z1b (E5 excuses it now on Nov 30), m4's nominal rises to 2000 TH/s
    # (no longer hashing), both without a re-roll.
    dbsession.get(Miner, m["m2"]).zone_id = farm["zones"]["Z1b"]
    dbsession.get(Miner, m["m4"]).nominal_ths = 2000.0
    dbsession.commit_now()
    assert_rollup_equals_direct(dbsession)
    period = Period(dt.datetime(2026, 11, 30), b(12))
    report = kpi_engine.compute(dbsession, period, "miner")
    assert report.groups[m["m4"]].hashing == 0
    assert report.groups[m["m2"]].hashing_excused == 5  # b0-b4 (E5 + E1)


def test_rollup_waits_for_the_five_minute_rollup_and_is_safe_to_repeat(dbsession, farm):
    from plugins.hosting.kpi.rollup import rollup_kpi

    assert rollup_kpi(dbsession, now=b(12)).as_dict()["start"] is None  # no 5-minute run yet
    set_five_watermark(dbsession, MIDNIGHT)  # exactly the end of Nov 30
    result = run_rollup(dbsession, now=MIDNIGHT + dt.timedelta(minutes=3))
    assert (result.start, result.end, result.today) == (NOV30, DEC1, None)
    assert kpi_rows(dbsession, DEC1) == {}
    first = {k: v.reachable for k, v in kpi_rows(dbsession, NOV30).items()}
    assert run_rollup(dbsession, now=MIDNIGHT + dt.timedelta(minutes=13)).start is None
    assert {k: v.reachable for k, v in kpi_rows(dbsession, NOV30).items()} == first


def test_the_job_is_scheduled_and_commits_on_its_own(registry, dbsession, engine, farm):
    from hashinsight_core.db import utcnow
    from plugins.hosting.kpi.models import KpiDaily
    from plugins.hosting.telemetry.config import BUCKET, floor_time

    assert "hosting.kpi_rollup" in registry["periodic_task_names"]
    set_five_watermark(dbsession, floor_time(utcnow(), BUCKET))
    registry["periodic_tasks"]["hosting.kpi_rollup"].call_local()
    with engine.connect() as conn:
        days = conn.execute(sa.select(KpiDaily.day).distinct()).scalars().all()
        assert sorted(str(d)[:10] for d in days) == ["2026-11-30", "2026-12-01"]
    assert_rollup_equals_direct(dbsession)
