"""The read API: fleet totals and series equal the same figures computed straight from raw,
and a customer's session sees only that customer's miners (ABAC in the data layer)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
import sqlalchemy as sa

from hashinsight_core import scoping
from hashinsight_core.scoping import Scope, limited_session
from plugins.hosting.telemetry import read
from plugins.hosting.telemetry.config import TelemetryConfig
from plugins.hosting.telemetry.models import TelemetryLive
from plugins.hosting.telemetry.rollup import rollup_5min, rollup_daily
from plugins.hosting.telemetry.store import store
from tests.unit.plugins.test_telemetry_rollup import make_day, reference
from tests.unit.plugins.test_telemetry_store import make_row

NOW = dt.datetime(2026, 12, 3, 12, 0)
CONFIG = TelemetryConfig()
WIDE = TelemetryConfig(raw_retention_hours=72, rollup_max_buckets=1000, rollup_max_days=5)


@pytest.fixture(autouse=True)
def _scoping_installed():
    scoping.install()  # the app does this at start-up; these tests use a bare session


def fleet(dbsession) -> list:
    """A fleet in every state, polled twice; the second poll is the one that counts."""
    rows = []
    states = {
        1: {},  # healthy
        2: {"temp_max_c": 91.0},  # hot
        3: {"fans_failed": 1},
        4: {"boards_ok": 2},
        5: {"hashrate_ths": 60.0},  # below 80 % of 95
        6: {"error_class": "pool_down"},
        7: {"online": False, "hashrate_ths": None, "power_w": None},
        8: {"ts": NOW - dt.timedelta(minutes=20)},  # its collector went silent
        9: {"customer_id": None, "hashrate_ths": 100.0},
    }
    for miner, changes in states.items():
        rows.append(make_row(miner, NOW - dt.timedelta(minutes=30), online=True, temp_max_c=99.0))
        values = {"ts": NOW - dt.timedelta(seconds=40), **changes}
        ts = values.pop("ts")
        rows.append(make_row(miner, ts, **values))
    store(dbsession, rows, now=NOW)
    return rows


def from_raw(rows, config, customer=None):
    """The fleet figures computed directly from the raw polls (newest per miner)."""
    newest = {}
    for r in sorted(rows, key=lambda r: r.ts):
        if customer is None or r.customer_id == customer:
            newest[r.miner_id] = r
    online = [r for r in newest.values() if r.online and r.ts >= NOW - config.stale_after]
    warning = [
        r
        for r in online
        if (r.temp_max_c or 0) >= config.temp_warning_c
        or (r.fans_failed or 0) > 0
        or (r.boards_ok is not None and r.boards_ok < r.boards_total)
        or (r.nominal_ths and (r.hashrate_ths or 0) < r.nominal_ths * config.low_hashrate_ratio)
        or r.error_class
    ]
    hashrate = sum(r.hashrate_ths or 0 for r in online)
    power = sum(r.power_w or 0 for r in online)
    return {
        "miners": len(newest),
        "online": len(online),
        "offline": len(newest) - len(online),
        "warning": len(warning),
        "hashrate_ths": hashrate,
        "nominal_ths": sum(r.nominal_ths or 0 for r in newest.values()),
        "power_w": power,
        "j_per_th": power / hashrate,
    }


def test_fleet_totals_equal_the_figures_computed_from_raw(dbsession):
    rows = fleet(dbsession)
    totals = read.fleet_totals(dbsession, now=NOW, config=CONFIG)
    expected = from_raw(rows, CONFIG)
    assert {k: totals[k] for k in expected} == pytest.approx(expected)
    assert (totals["online"], totals["warning"], totals["offline"]) == (7, 5, 2)
    assert totals["realized_ratio"] == pytest.approx(
        expected["hashrate_ths"] / expected["nominal_ths"]
    )
    # Filters narrow the same figures.
    mine = read.fleet_totals(dbsession, now=NOW, config=CONFIG, customer_id=101)
    expected = from_raw(rows, CONFIG, customer=101)
    assert {k: mine[k] for k in expected} == pytest.approx(expected)


def test_an_empty_fleet_has_zero_totals_and_no_ratios(dbsession):
    totals = read.fleet_totals(dbsession, now=NOW)
    assert (totals["miners"], totals["online"], totals["hashrate_ths"]) == (0, 0, 0.0)
    assert totals["realized_ratio"] is None and totals["j_per_th"] is None


def test_series_equal_the_figures_computed_from_raw(dbsession):
    day = dt.datetime(2026, 12, 2)
    rows = make_day(day)
    store(dbsession, rows, now=day + dt.timedelta(days=1), config=WIDE)
    now = day + dt.timedelta(days=1, minutes=10)
    rollup_5min(dbsession, now=now, config=WIDE)
    rollup_daily(dbsession, now=now, config=WIDE)
    ref = reference(rows)

    raw = read.miner_raw_series(dbsession, 3, now=now)
    mine = [r for r in rows if r.miner_id == 3 and r.ts >= now - dt.timedelta(hours=24)]
    assert [(p["ts"], p["hashrate_ths"], p["online"]) for p in raw] == [
        (r.ts, r.hashrate_ths, r.online) for r in sorted(mine, key=lambda r: r.ts)
    ]

    history = read.miner_5min_series(dbsession, 3, now=now)
    buckets = sorted((b, v) for (m, b), v in ref.items() if m == 3)
    assert [h["bucket"] for h in history] == [b for b, _ in buckets]
    for point, (_bucket, v) in zip(history, buckets, strict=True):
        assert point["hashrate_avg_ths"] == pytest.approx(v["hashrate"])
        assert point["reachable_uptime"] == pytest.approx(v["online"] / v["samples"])
        assert point["energy_kwh"] == pytest.approx(v["energy"])

    daily = read.miner_daily_series(dbsession, 3, start=day.date(), end=now.date())
    assert len(daily) == 1
    polls = [r for r in rows if r.miner_id == 3]
    assert daily[0]["hashrate_avg_ths"] == pytest.approx(
        sum(r.hashrate_ths or 0 for r in polls) / len(polls)
    )
    assert daily[0]["reachable_uptime"] == pytest.approx(sum(r.online for r in polls) / len(polls))
    assert daily[0]["hashing_uptime"] == pytest.approx(
        sum(bool(r.hashrate_ths) for r in polls) / len(polls)
    )
    assert daily[0]["j_per_th"] == pytest.approx(
        daily[0]["power_avg_w"] / daily[0]["hashrate_avg_ths"]
    )

    curve = read.fleet_5min_series(dbsession, start=day, end=now, site_id=2)
    totals = defaultdict(float)
    for (_m, b), v in ref.items():
        if v["site"] == 2:
            totals[b] += v["hashrate"]
    assert {p["bucket"]: p["hashrate_avg_ths"] for p in curve} == pytest.approx(dict(totals))

    site = read.fleet_daily_series(dbsession, "site", 2, start=day.date(), end=now.date())
    assert site[0]["hashrate_avg_ths"] == pytest.approx(sum(totals.values()) / len(totals))
    energy = sum(v["energy"] for v in ref.values() if v["site"] == 2)
    assert site[0]["energy_kwh"] == pytest.approx(energy)
    with pytest.raises(ValueError, match="site, zone, customer"):
        read.fleet_daily_series(dbsession, "rack", 1, start=day.date(), end=now.date())


def test_a_customer_session_sees_only_its_own_miners(dbsession):
    rows = fleet(dbsession)
    limited_session(dbsession, Scope(customer_id=101))
    totals = read.fleet_totals(dbsession, now=NOW, config=CONFIG)
    assert {k: totals[k] for k in ("miners", "online", "warning")} == {
        k: from_raw(rows, CONFIG, customer=101)[k] for k in ("miners", "online", "warning")
    }
    visible = dbsession.scalars(
        sa.select(TelemetryLive.miner_id).order_by(TelemetryLive.miner_id)
    ).all()
    assert visible == [m for m in range(1, 10) if 100 + m % 3 == 101 and m != 9]
    assert dbsession.get(TelemetryLive, 2) is None  # customer 102's miner: as if absent
    assert read.miner_raw_series(dbsession, 2, now=NOW) == []
    assert len(read.miner_raw_series(dbsession, 1, now=NOW)) == 2
    # Filtering on another customer does not get round the scope.
    assert read.fleet_totals(dbsession, now=NOW, customer_id=102)["miners"] == 0


def test_a_user_without_a_customer_sees_no_customer_data(dbsession):
    fleet(dbsession)
    limited_session(dbsession, Scope(no_customer=True))
    assert read.fleet_totals(dbsession, now=NOW)["miners"] == 0


def test_an_operator_limited_to_a_zone_sees_its_miners_and_no_customer_totals(dbsession):
    day = dt.datetime(2026, 12, 2)
    store(dbsession, make_day(day), now=day + dt.timedelta(days=1), config=WIDE)
    now = day + dt.timedelta(days=1, minutes=10)
    rollup_5min(dbsession, now=now, config=WIDE)
    rollup_daily(dbsession, now=now, config=WIDE)
    limited_session(
        dbsession, Scope(zones=frozenset({10}), zone_sites=frozenset({1, 2}), limited_by_site=True)
    )
    assert read.fleet_totals(dbsession, now=day + dt.timedelta(hours=23, minutes=59))["miners"] == 2
    assert read.fleet_daily_series(dbsession, "zone", 10, start=day.date(), end=now.date())
    assert read.fleet_daily_series(dbsession, "zone", 11, start=day.date(), end=now.date()) == []
    assert (
        read.fleet_daily_series(dbsession, "customer", 100, start=day.date(), end=now.date()) == []
    )
    assert read.miner_5min_series(dbsession, 1, now=now) == []  # miner 1 is in zone 11
    assert read.miner_5min_series(dbsession, 3, now=now)  # miner 3 is in zone 10
