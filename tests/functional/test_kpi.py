"""KPIs on a small fixture farm: every figure equals the value worked out by hand below,
excused events included; customers see only their miners; exports carry the same numbers;
bad input is a 422 with a message; excused events are scoped, checked and audited.

The farm (period 2026-11-30 23:30 → 2026-12-01 00:30 UTC = 12 five-minute intervals,
b0 = 23:30 … b5 = 23:55 on Nov 30, b6 = 00:00 … b11 = 00:25 on Dec 1)::

    site S1 (20 kW): zone Z1a (12 kW), zone Z1b (8 kW)      site S2 (10 kW): zone Z2
    m1  S1/Z1a  Acme  S19  100 TH/s 3000 W  online          m4  S2/Z2  Beta  S19  100 TH/s 3000 W
    m2  S1/Z1a  Beta  S19  100 TH/s 3000 W  online          m5  S2/Z2  Acme  M30   80 TH/s 3400 W
    m3  S1/Z1b  Acme  M30   80 TH/s 3400 W  maintenance         installed, added 00:02 → from b7
    m6  S1/Z1a  Acme  S19  retired (its telemetry is ignored)

Excused events::

    E1 utility outage, all of S1, everyone, 23:42–23:53    → b2, b3, b4 (any overlap counts)
    E2 customer pause, S2, Acme, miners [m5], 00:10–open  → b8 … b11
    E3 curtailment, S2/Z2, Beta, 00:00–00:10              → b6, b7 (m4)
    E4 maintenance, S1, 2026-11-29 (outside the period)    → nothing
    E5 maintenance, S1/Z1b, everyone, 23:30–23:40         → b0, b1 (m3; with E1: b0 … b4)
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa

from hashinsight_core.db import utcnow
from plugins.hosting.telemetry import partitions
from tests.conftest import api_headers, login

START = dt.datetime(2026, 11, 30, 23, 30)
END = dt.datetime(2026, 12, 1, 0, 30)
PERIOD = "period=custom&from=2026-11-30T23:30:00Z&to=2026-12-01T00:30:00Z"
API = "/api/v1/hosting/kpi"


def b(n: int) -> dt.datetime:
    return START + dt.timedelta(minutes=5 * n)


@pytest.fixture
def farm(dbsession):
    from hashinsight_core.models import Customer
    from plugins.hosting.kpi.models import ExcusedEvent, ExcusedEventMiner
    from plugins.hosting.models import Miner, Site, Zone
    from plugins.hosting.telemetry.models import TelemetryFiveMin, TelemetryLive

    if partitions.is_postgresql(dbsession.connection()):
        partitions.ensure(dbsession.connection(), partitions.FIVE_MIN, START, END)
    acme, beta = Customer(name="Acme"), Customer(name="Beta")
    s1, s2 = Site(name="S1", capacity_kw=20.0), Site(name="S2", capacity_kw=10.0)
    dbsession.add_all([acme, beta, s1, s2])
    dbsession.flush()
    z1a = Zone(site_id=s1.id, name="Z1a", capacity_kw=12.0)
    z1b = Zone(site_id=s1.id, name="Z1b", capacity_kw=8.0)
    z2 = Zone(site_id=s2.id, name="Z2", capacity_kw=10.0)
    dbsession.add_all([z1a, z1b, z2])
    dbsession.flush()
    added = dt.datetime(2026, 11, 1)
    spec = {
        "m1": (z1a, acme, "S19", 100.0, 3000.0, "online", added),
        "m2": (z1a, beta, "S19", 100.0, 3000.0, "online", added),
        "m3": (z1b, acme, "M30", 80.0, 3400.0, "maintenance", added),
        "m4": (z2, beta, "S19", 100.0, 3000.0, "online", added),
        "m5": (z2, acme, "M30", 80.0, 3400.0, "installed", dt.datetime(2026, 12, 1, 0, 2)),
        "m6": (z1a, acme, "S19", 100.0, 3000.0, "retired", added),
    }
    m = {}
    for name, (zone, customer, model, ths, watts, status, created) in spec.items():
        m[name] = Miner(
            serial=f"SN-{name.upper()}",
            model_name=model,
            nominal_ths=ths,
            nominal_w=watts,
            site_id=zone.site_id,
            zone_id=zone.id,
            customer_id=customer.id,
            status=status,
            created_at=created,
        )
    dbsession.add_all(m.values())
    dbsession.flush()

    rows = []

    def five(name, n, hashrate, power=None, online=True):
        miner = m[name]
        rows.append(
            TelemetryFiveMin(
                miner_id=miner.id,
                bucket=b(n),
                site_id=miner.site_id,
                zone_id=miner.zone_id,
                customer_id=miner.customer_id,
                samples=10,
                online_samples=10 if online else 0,
                hashing_samples=10 if hashrate > 0 else 0,
                hashrate_avg_ths=hashrate,
                hashrate_max_ths=hashrate,
                nominal_ths=miner.nominal_ths,
                power_avg_w=power,
                power_samples=10 if power is not None else 0,
                energy_kwh=(power or 0.0) * 5 / 60 / 1000,
                temp_samples=0,
                error_samples=0,
            )
        )

    # m1: down in the outage (no rows b2, b3), back at 5 TH/s in b4 (reachable, not hashing:
    # 5 is not above 10 percent of 100), then fine. Reports power.
    for n in (0, 1, 5, 6, 7, 8, 9, 10, 11):
        five("m1", n, 100.0, 3000.0)
    five("m1", 4, 5.0, 1200.0)
    # m2: 90 TH/s all along (hashing through the outage), unreachable in b5 and b6; no power.
    for n in range(12):
        five("m2", n, 0.0 if n in (5, 6) else 90.0, online=n not in (5, 6))
    # m3 (maintenance): no telemetry at all.
    # m4: 110 TH/s at 3300 W; curtailed in b6, b7 (reachable, 0 TH/s, 60 W).
    for n in range(12):
        if n in (6, 7):
            five("m4", n, 0.0, 60.0)
        else:
            five("m4", n, 110.0, 3300.0)
    # m5: added 00:02, so expected from b7. A row at b6 (before it was added) is left out.
    five("m5", 6, 80.0, 3600.0)
    five("m5", 7, 80.0, 3600.0)
    five("m5", 8, 0.0, 60.0)  # paused: reachable, not hashing; b9 … b11 no rows
    # m6 is retired: not expected, its row is ignored.
    five("m6", 0, 100.0, 3000.0)
    dbsession.add_all(rows)

    def event(kind, site, start, end, zone=None, customer=None, miners=(), note=""):
        e = ExcusedEvent(
            kind=kind,
            site_id=site.id,
            zone_id=zone.id if zone else None,
            customer_id=customer.id if customer else None,
            starts_at=start,
            ends_at=end,
            note=note,
        )
        e.miner_links = [ExcusedEventMiner(miner_id=m[x].id) for x in miners]
        dbsession.add(e)
        return e

    hm = dt.datetime
    events = {
        "E1": event("utility_outage", s1, hm(2026, 11, 30, 23, 42), hm(2026, 11, 30, 23, 53)),
        "E2": event(
            "customer_pause", s2, hm(2026, 12, 1, 0, 10), None, customer=acme, miners=["m5"]
        ),
        "E3": event(
            "curtailment", s2, hm(2026, 12, 1, 0, 0), hm(2026, 12, 1, 0, 10), zone=z2, customer=beta
        ),
        "E4": event("maintenance", s1, hm(2026, 11, 29, 10, 0), hm(2026, 11, 29, 11, 0)),
        "E5": event(
            "maintenance", s1, hm(2026, 11, 30, 23, 30), hm(2026, 11, 30, 23, 40), zone=z1b
        ),
    }

    # Live rows for fleet health (relative to the real clock, as the monitor tests do):
    # m1 healthy, m2 hot (degraded), m4 silent for 20 minutes (offline), m5 never reported
    # (offline), m3 in maintenance (in repair, whatever it says).
    now = utcnow().replace(microsecond=0)

    def live(name, ts, **values):
        miner = m[name]
        base = {
            "online": True,
            "hashrate_ths": miner.nominal_ths,
            "nominal_ths": miner.nominal_ths,
            "power_w": 3000.0,
            "temp_max_c": 70.0,
            "pool_url": "",
            "error_class": "",
        }
        dbsession.add(
            TelemetryLive(
                miner_id=miner.id,
                ts=ts,
                site_id=miner.site_id,
                zone_id=miner.zone_id,
                customer_id=miner.customer_id,
                **{**base, **values},
            )
        )

    live("m1", now - dt.timedelta(seconds=30))
    live("m2", now - dt.timedelta(seconds=30), temp_max_c=95.0)
    live("m3", now - dt.timedelta(seconds=30))
    live("m4", now - dt.timedelta(minutes=20))
    dbsession.flush()
    dbsession.commit_now()
    return {
        "m": {k: v.id for k, v in m.items()},
        "customers": {"acme": acme.id, "beta": beta.id},
        "sites": {"S1": s1.id, "S2": s2.id},
        "zones": {"Z1a": z1a.id, "Z1b": z1b.id, "Z2": z2.id},
        "events": {k: v.id for k, v in events.items()},
    }


def field_of(error: dict):
    """The parameter or field a 4xx names."""
    return (error.get("details") or [{}])[0].get("field")


def by_label(data) -> dict:
    return {g["label"]: g for g in data["groups"]}


def test_site_kpis_equal_the_hand_computed_values(webtest, engine, farm):
    login(webtest, engine, "operator")
    data = webtest.get(f"{API}?{PERIOD}&group_by=site").json
    assert data["period"]["intervals"] == 12 and data["period"]["hours"] == 1
    s1, s2 = by_label(data)["S1"], by_label(data)["S2"]

    # S1 = m1 + m2 + m3 (m6 is retired), 12 intervals each.
    #   expected 36; excused: m1 3 (E1), m2 3 (E1), m3 5 (E5 b0-b1 + E1 b2-b4) = 11
    #   reachable: m1 10 (all but b2, b3), m2 10 (all but b5, b6), m3 0 = 20
    #   hashing:   m1 9 (b4 only 5 TH/s), m2 10, m3 0 = 19
    #   reachable and excused: m1 1 (b4), m2 3 (b2-b4) = 4; hashing and excused: m2 3 = 3
    assert s1["miners"] == 3
    assert (s1["expected_intervals"], s1["excused_intervals"]) == (36, 11)
    assert (s1["reachable_intervals"], s1["hashing_intervals"]) == (20, 19)
    assert s1["reachable_uptime"] == pytest.approx(20 / 36)
    assert s1["hashing_uptime"] == pytest.approx(19 / 36)
    assert s1["reachable_uptime_excl"] == pytest.approx((20 - 4) / (36 - 11))  # 0.64
    assert s1["hashing_uptime_excl"] == pytest.approx((19 - 3) / (36 - 11))  # 0.64
    # Hashrate: m1 9 x 100 + 5 = 905, m2 10 x 90 = 900 -> 1805 TH/s-intervals over 12.
    assert s1["hashrate_ths"] == pytest.approx(1805 / 12)
    assert s1["nominal_ths"] == pytest.approx(100 + 100 + 80)
    assert s1["realized_ratio"] == pytest.approx(1805 / (280 * 12))
    # J/TH over intervals that reported power (m1 only): (9 x 3000 + 1200) W / 905 TH/s.
    assert s1["j_per_th"] == pytest.approx(28200 / 905)
    # Energy: m1 9 x 0.25 kWh + 1200 W x 5 min = 0.1 kWh -> 2.35; capacity 20 kW x 1 h.
    assert s1["energy_kwh"] == pytest.approx(2.35)
    assert (s1["capacity_kwh"], s1["capacity_basis"]) == (pytest.approx(20.0), "capacity")
    assert s1["energy_ratio"] == pytest.approx(2.35 / 20)

    # S2 = m4 (12 intervals) + m5 (added 00:02: b7-b11, 5 intervals) = 17 expected.
    #   excused: m4 2 (E3 b6, b7), m5 4 (E2 b8-b11) = 6
    #   reachable: m4 12, m5 2 (b7, b8; the b6 row predates the miner) = 14
    #   hashing: m4 10, m5 1 (b7) = 11; reachable+excused: m4 2, m5 1 = 3; hashing+excused 0
    assert (s2["miners"], s2["expected_intervals"], s2["excused_intervals"]) == (2, 17, 6)
    assert s2["reachable_uptime"] == pytest.approx(14 / 17)
    assert s2["hashing_uptime"] == pytest.approx(11 / 17)
    assert s2["reachable_uptime_excl"] == pytest.approx((14 - 3) / (17 - 6))  # 1.0
    assert s2["hashing_uptime_excl"] == pytest.approx((11 - 0) / (17 - 6))  # 1.0
    # Hashrate m4 10 x 110 + m5 80 = 1180; nominal m4 100 x 12 + m5 80 x 5 = 1600 (x intervals)
    assert s2["hashrate_ths"] == pytest.approx(1180 / 12)
    assert s2["nominal_ths"] == pytest.approx(1600 / 12)
    assert s2["realized_ratio"] == pytest.approx(1180 / 1600)
    # J/TH: (m4 10 x 3300 + 2 x 60 + m5 3600 + 60) W / (1100 + 80) TH/s.
    assert s2["j_per_th"] == pytest.approx((33000 + 120 + 3600 + 60) / 1180)
    # Energy: m4 10 x 0.275 + 2 x 0.005, m5 0.3 + 0.005.
    assert s2["energy_kwh"] == pytest.approx(2.75 + 0.01 + 0.3 + 0.005)
    assert s2["capacity_kwh"] == pytest.approx(10.0)

    # Total: expected 53, excused 17, reachable 34, hashing 30, excused parts 7 and 3.
    t = data["total"]
    assert (t["miners"], t["expected_intervals"], t["excused_intervals"]) == (5, 53, 17)
    assert t["reachable_uptime"] == pytest.approx(34 / 53)
    assert t["hashing_uptime"] == pytest.approx(30 / 53)
    assert t["reachable_uptime_excl"] == pytest.approx(27 / 36)
    assert t["hashing_uptime_excl"] == pytest.approx(27 / 36)
    assert t["energy_kwh"] == pytest.approx(2.35 + 3.065)
    assert t["capacity_kwh"] == pytest.approx(30.0)  # the two sites' 20 + 10 kW for 1 h

    # Fleet health now: m1 healthy, m2 hot -> degraded, m3 in repair; m4 silent, m5 never.
    assert s1["health"] == {"healthy": 1, "degraded": 1, "offline": 0, "in_repair": 1}
    assert s2["health"] == {"healthy": 0, "degraded": 0, "offline": 2, "in_repair": 0}
    assert t["health"] == {"healthy": 1, "degraded": 1, "offline": 2, "in_repair": 1}

    # Daily series: Nov 30 has b0-b5. S1 expected 3 x 6 = 18; reachable m1 4 (b0, b1, b4,
    # b5) + m2 5 (b0-b4) = 9. All miners that day: + m4 6 of 6 -> 15 of 24.
    series = data["series"]
    assert series["days"] == ["2026-11-30", "2026-12-01"]
    s1_series = next(g for g in series["groups"] if g["label"] == "S1")
    assert s1_series["reachable_uptime"][0] == pytest.approx(9 / 18)
    assert series["total"]["reachable_uptime"][0] == pytest.approx(15 / 24)
    # Dec 1: 6 intervals, S1 hashrate m1 6 x 100 + m2 5 x 90 = 1050 over 6.
    assert s1_series["hashrate_ths"][1] == pytest.approx(1050 / 6)


def test_customer_and_model_groups(webtest, engine, farm):
    login(webtest, engine, "admin")
    data = webtest.get(f"{API}?{PERIOD}&group_by=customer").json
    acme, beta = by_label(data)["Acme"], by_label(data)["Beta"]
    # Acme = m1 (12) + m3 (12) + m5 (5) = 29 expected; excused 3 + 5 + 4 = 12;
    # reachable 10 + 0 + 2 = 12, of them excused 1 + 0 + 1 = 2; hashing 9 + 0 + 1 = 10, 0.
    assert (acme["expected_intervals"], acme["excused_intervals"]) == (29, 12)
    assert acme["reachable_uptime"] == pytest.approx(12 / 29)
    assert acme["reachable_uptime_excl"] == pytest.approx(10 / 17)
    assert acme["hashing_uptime_excl"] == pytest.approx(10 / 17)
    # A customer's capacity is its miners' nameplate power over their expected time:
    # (3000 x 12 + 3400 x 12 + 3400 x 5) W-intervals x 5 min = 7.8167 kWh.
    assert acme["capacity_basis"] == "nameplate"
    assert acme["capacity_kwh"] == pytest.approx((36000 + 40800 + 17000) / 12 / 1000)
    # Beta = m2 + m4: 24 expected, excused 3 + 2 = 5, reachable 22 (excused 5),
    # hashing 20 (excused 3 + 0).
    assert beta["reachable_uptime"] == pytest.approx(22 / 24)
    assert beta["reachable_uptime_excl"] == pytest.approx(17 / 19)
    assert beta["hashing_uptime_excl"] == pytest.approx(17 / 19)

    models = by_label(webtest.get(f"{API}?{PERIOD}&group_by=model").json)
    # M30 = m3 + m5: expected 17, reachable 2, hashing 1; S19 = m1 + m2 + m4: 36, 32, 29.
    assert models["M30"]["reachable_uptime"] == pytest.approx(2 / 17)
    assert models["S19"]["hashing_uptime"] == pytest.approx(29 / 36)

    zones = by_label(webtest.get(f"{API}?{PERIOD}&group_by=zone").json)
    assert zones["S1 / Z1b"]["capacity_kwh"] == pytest.approx(8.0)
    assert zones["S1 / Z1b"]["excused_intervals"] == 5


def test_drill_down_lists_the_miners_of_a_group(webtest, engine, farm):
    login(webtest, engine, "operator")
    s2 = farm["sites"]["S2"]
    data = webtest.get(f"{API}/miners?{PERIOD}&group=site&key={s2}").json
    rows = {r["serial"]: r for r in data["miners"]}
    assert set(rows) == {"SN-M4", "SN-M5"}
    assert rows["SN-M5"]["expected_intervals"] == 5
    assert rows["SN-M5"]["reachable_uptime_excl"] == pytest.approx(1.0)  # 1 of 1 unexcused
    assert rows["SN-M4"]["hashing_uptime"] == pytest.approx(10 / 12)
    assert rows["SN-M4"]["health"] == "offline"
    page = webtest.get(f"/hosting/kpi/miners/?{PERIOD}&group=site&key={s2}")
    assert "SN-M4" in page.html.select_one('[data-testid="kpi-miners"]').text
    # The dashboard links each row to this drill-down.
    dash = webtest.get(f"/hosting/kpi/?{PERIOD}&group_by=site")
    links = [a["href"] for a in dash.html.select('[data-testid="kpi-table"] a')]
    assert any(f"key={s2}" in link and "group=site" in link for link in links)


def test_a_customer_sees_only_its_own_miners(webtest, engine, farm):
    login(webtest, engine, "customer", customer_id=farm["customers"]["acme"])
    data = webtest.get(f"{API}?{PERIOD}&group_by=site").json
    s1 = by_label(data)["S1"]
    # Acme at S1 = m1 + m3: expected 24, excused 3 + 5 = 8, reachable 10 (1 excused),
    # hashing 9 (0 excused). m2 (Beta) is not in its figures.
    assert (s1["miners"], s1["expected_intervals"], s1["excused_intervals"]) == (2, 24, 8)
    assert s1["reachable_uptime"] == pytest.approx(10 / 24)
    assert s1["reachable_uptime_excl"] == pytest.approx(9 / 16)
    assert s1["hashrate_ths"] == pytest.approx(905 / 12)
    # Never a site's capacity (that is the provider's business): its miners' nameplate.
    assert s1["capacity_basis"] == "nameplate"
    assert data["total"]["miners"] == 3
    assert data["total"]["health"]["degraded"] == 0  # m2 (hot) is Beta's
    # Drill-down into another customer, or a miner of another customer: nothing to see.
    beta = farm["customers"]["beta"]
    other = webtest.get(f"{API}/miners?{PERIOD}&group=customer&key={beta}").json
    assert other["miners"] == []
    # Events: the outage at its site and its own pause, not Beta's curtailment.
    events = webtest.get("/api/v1/hosting/excused-events?limit=50").json
    seen = {e["id"] for e in events["items"]}
    ids = farm["events"]
    assert {ids["E1"], ids["E2"], ids["E5"]} <= seen
    assert ids["E3"] not in seen
    webtest.get(f"/api/v1/hosting/excused-events/{ids['E3']}", status=404)


def test_exports_carry_the_same_figures(webtest, engine, farm):
    login(webtest, engine, "operator")
    data = webtest.get(f"{API}?{PERIOD}&group_by=site").json
    response = webtest.get(f"/hosting/kpi/export.csv?{PERIOD}&group_by=site")
    assert response.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.body.decode("utf-8-sig"))))
    by_group = {r["Group"]: r for r in rows}
    assert set(by_group) == {"S1", "S2", "Total"}
    for label, source in (("S1", by_label(data)["S1"]), ("Total", data["total"])):
        row = by_group[label]
        assert float(row["Reachable uptime %"]) == pytest.approx(source["reachable_uptime"] * 100)
        assert float(row["Hashing uptime excl. excused %"]) == pytest.approx(
            source["hashing_uptime_excl"] * 100
        )
        assert float(row["J/TH"]) == pytest.approx(source["j_per_th"])
        assert float(row["Energy kWh"]) == pytest.approx(source["energy_kwh"])
    assert float(by_group["S1"]["Reachable uptime %"]) == pytest.approx(100 * 20 / 36)

    from openpyxl import load_workbook

    xlsx = webtest.get(f"/hosting/kpi/export.xlsx?{PERIOD}&group_by=site")
    sheet = load_workbook(io.BytesIO(xlsx.body), read_only=True)["KPIs"]
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    head = table[0]
    found = {r[0]: dict(zip(head, r, strict=True)) for r in table[1:]}
    assert found["S1"]["Reachable uptime excl. excused %"] == pytest.approx(64.0)
    assert found["S2"]["Expected intervals"] == 17
    assert found["Total"]["Hashing uptime %"] == pytest.approx(100 * 30 / 53)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=fortnight", "period"),
        ("period=custom&from=2026-13-01", "from"),
        ("period=custom&from=2026-12-01&to=2026-11-01", "from"),
        ("period=custom", "from"),
        ("group_by=planet", "group_by"),
        ("site_id=abc", "site_id"),
        ("period=custom&from=2020-01-01&to=2026-01-01", "to"),
    ],
)
def test_bad_input_is_a_422_with_a_message(webtest, engine, query, field):
    login(webtest, engine, "operator")
    error = webtest.get(f"{API}?{query}", status=422).json["error"]
    assert error["message"] and field_of(error) == field
    page = webtest.get(f"/hosting/kpi/?{query}", status=422)
    assert page.html.select_one('[data-testid="kpi-error"]').text.strip()


def test_drill_down_needs_a_group_and_key(webtest, engine):
    login(webtest, engine, "operator")
    webtest.get(f"{API}/miners?group=site", status=422)
    webtest.get(f"{API}/miners?group=galaxy&key=1", status=422)
    webtest.get(f"{API}/miners?group=site&key=x", status=422)


def test_pages_render_for_each_role(webtest, engine, farm):
    login(webtest, engine, "viewer")
    page = webtest.get(f"/hosting/kpi/?{PERIOD}&group_by=customer")
    assert "Acme" in page.html.select_one('[data-testid="kpi-table"]').text
    assert page.html.select_one('[data-testid="kpi-health"]')
    events = webtest.get("/hosting/kpi/events/")
    assert events.html.select_one('[data-testid="events-table"]')
    assert not events.html.select_one('[data-testid="event-new"]')  # viewers cannot record
    webtest.post_json(
        "/api/v1/hosting/excused-events", {}, headers=api_headers(webtest), status=403
    )


# --- excused events -----------------------------------------------------------------------------


def _audit_tags(engine) -> list[str]:
    from hashinsight_core.audit.models import AuditEvent

    with sa.orm.Session(engine) as session:
        return list(session.scalars(sa.select(AuditEvent.tag).order_by(AuditEvent.seq)))


def test_staff_record_change_and_delete_events_audited(webtest, engine, farm):
    login(webtest, engine, "operator")
    headers = api_headers(webtest)
    body = {
        "kind": "curtailment",
        "site_id": farm["sites"]["S1"],
        "zone_id": farm["zones"]["Z1a"],
        "miner_ids": [farm["m"]["m1"]],
        "starts_at": "2026-11-30T23:55:00Z",
        "ends_at": "2026-12-01T00:05:00Z",
        "note": "grid peak",
    }
    created = webtest.post_json("/api/v1/hosting/excused-events", body, headers=headers).json
    assert created["miner_ids"] == [farm["m"]["m1"]] and created["ends_at"].startswith(
        "2026-12-01T00:05"
    )
    # m1 now also has b5, b6 excused (both reachable and hashing): S1 excused 11 -> 13.
    s1 = by_label(webtest.get(f"{API}?{PERIOD}&group_by=site").json)["S1"]
    assert s1["excused_intervals"] == 13
    assert s1["reachable_uptime_excl"] == pytest.approx((20 - 6) / (36 - 13))
    item = f"/api/v1/hosting/excused-events/{created['id']}"
    changed = webtest.patch_json(item, {"ends_at": None}, headers=headers).json
    assert changed["ends_at"] is None
    webtest.delete(item, headers=headers, status=204)
    # Deleted: it no longer counts and leaves the list, but stays on record.
    assert webtest.get(item).json["deleted_at"] is not None
    listed = webtest.get("/api/v1/hosting/excused-events").json["items"]
    assert created["id"] not in {e["id"] for e in listed}
    assert (
        by_label(webtest.get(f"{API}?{PERIOD}&group_by=site").json)["S1"]["excused_intervals"] == 11
    )
    webtest.patch_json(item, {"note": "again"}, headers=headers, status=409)
    tags = _audit_tags(engine)
    for tag in ("hosting:excused:create", "hosting:excused:update", "hosting:excused:delete"):
        assert tag in tags


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "holiday"}, "kind"),
        ({"starts_at": "yesterday"}, "starts_at"),
        ({"ends_at": "2026-11-30T00:00:00Z"}, "ends_at"),  # before the start
        ({"zone_id": "ZONE_OF_S2"}, "zone_id"),
        ({"miner_ids": ["M4"]}, "miner_ids"),  # a miner at another site
        ({"site_id": 999999}, "site_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_events_are_refused_and_nothing_is_stored(webtest, engine, farm, change, field):
    login(webtest, engine, "admin")
    body = {
        "kind": "maintenance",
        "site_id": farm["sites"]["S1"],
        "starts_at": "2026-12-01T00:00:00Z",
        "ends_at": "2026-12-01T01:00:00Z",
    }
    change = {
        k: (farm["zones"]["Z2"] if v == "ZONE_OF_S2" else [farm["m"]["m4"]] if v == ["M4"] else v)
        for k, v in change.items()
    }
    error = webtest.post_json(
        "/api/v1/hosting/excused-events",
        {**body, **change},
        headers=api_headers(webtest),
        status=422,
    ).json["error"]
    assert field_of(error) == field
    total = webtest.get("/api/v1/hosting/excused-events").json["total"]
    assert total == 5  # the fixture's


def test_a_customer_records_a_pause_of_its_own_miners_only(webtest, engine, farm):
    login(webtest, engine, "customer", customer_id=farm["customers"]["acme"])
    headers = api_headers(webtest)
    url = "/api/v1/hosting/excused-events"
    pause = {
        "kind": "customer_pause",
        "site_id": farm["sites"]["S1"],
        "miner_ids": [farm["m"]["m1"]],
        "starts_at": "2026-12-01T00:00:00Z",
    }
    created = webtest.post_json(url, pause, headers=headers, status=201).json
    assert created["customer_id"] == farm["customers"]["acme"]
    # Another kind: only staff.
    webtest.post_json(url, {**pause, "kind": "curtailment"}, headers=headers, status=403)
    # Another customer's miner: as if it did not exist.
    other = {**pause, "miner_ids": [farm["m"]["m2"]]}
    refused = webtest.post_json(url, other, headers=headers, status=422).json["error"]
    assert field_of(refused) == "miner_ids"
    # Its own pause it may end; the site's outage it may see but not change.
    own = f"{url}/{created['id']}"
    webtest.patch_json(own, {"ends_at": "2026-12-01T00:20:00Z"}, headers=headers, status=200)
    outage = f"{url}/{farm['events']['E1']}"
    webtest.get(outage, status=200)
    webtest.patch_json(outage, {"note": "mine now"}, headers=headers, status=403)
    webtest.delete(outage, headers=headers, status=403)
    # Another customer's event does not exist for it.
    webtest.delete(f"{url}/{farm['events']['E3']}", headers=headers, status=404)


def test_event_form_pages(webtest, engine, farm):
    login(webtest, engine, "operator")
    form = webtest.get("/hosting/kpi/events/new")
    assert form.html.select_one("select#kind")
    token = api_headers(webtest)["X-CSRF-Token"]
    bad = webtest.post(
        "/hosting/kpi/events/new",
        {
            "csrf_token": token,
            "kind": "maintenance",
            "site_id": str(farm["sites"]["S1"]),
            "zone_id": "",
            "customer_id": "",
            "starts_at": "2026-12-01T02:00",
            "ends_at": "2026-12-01T01:00",
            "miner_ids": "",
            "note": "",
        },
        status=422,
    )
    assert bad.html.select_one('[data-testid="event-error"]')
    good = webtest.post(
        "/hosting/kpi/events/new",
        {
            "csrf_token": token,
            "kind": "maintenance",
            "site_id": str(farm["sites"]["S1"]),
            "zone_id": str(farm["zones"]["Z1b"]),
            "customer_id": "",
            "starts_at": "2026-12-01T02:00",
            "ends_at": "2026-12-01T03:00",
            "miner_ids": "",
            "note": "fans",
        },
        status=303,
    )
    assert good.location.endswith("/hosting/kpi/events/")
    listing = webtest.get("/hosting/kpi/events/")
    assert "fans" in listing.html.select_one('[data-testid="events-table"]').text
    edit = webtest.get(f"/hosting/kpi/events/{farm['events']['E5']}/")
    assert edit.html.select_one("input#starts_at")["value"] == "2026-11-30T23:30"
    webtest.post(
        f"/hosting/kpi/events/{farm['events']['E5']}/delete", {"csrf_token": token}, status=303
    )
    gone = webtest.get(f"/api/v1/hosting/excused-events/{farm['events']['E5']}").json
    assert gone["deleted_at"] is not None


# --- tickets --------------------------------------------------------------------------------------


@pytest.fixture
def tickets(dbsession, farm):
    """T1 S1/Z1a Acme [m1]: opened 23:35, resolved 00:05 (30 min), resolution SLA breached.
    T2 S1/Z1a Beta [m2]: opened 23:00 (before the period), resolved 23:50 (50 min), response
    SLA breached (but not opened in the period, so not counted as a breach of the period).
    T3 S2/Z2 Beta [m4]: opened 00:10, still open, response SLA breached.
    T4 S2/Z2 Acme [m5]: opened and closed on Nov 29 — outside the period."""
    models = pytest.importorskip("plugins.hosting.tickets.models")
    hm, m = dt.datetime, farm["m"]

    def ticket(title, site, zone, customer, miner, created, **values):
        t = models.Ticket(
            title=title,
            site_id=farm["sites"][site],
            zone_id=farm["zones"][zone],
            customer_id=farm["customers"][customer],
            created_at=created,
            response_due_at=created + dt.timedelta(hours=1),
            resolution_due_at=created + dt.timedelta(hours=8),
            **values,
        )
        dbsession.add(t)
        dbsession.flush()
        dbsession.add(models.TicketMiner(ticket_id=t.id, miner_id=m[miner]))
        return t

    ticket(
        "T1", "S1", "Z1a", "acme", "m1", hm(2026, 11, 30, 23, 35),
        status="resolved", resolved_at=hm(2026, 12, 1, 0, 5), resolution_breached=True,
    )  # fmt: skip
    ticket(
        "T2", "S1", "Z1a", "beta", "m2", hm(2026, 11, 30, 23, 0),
        status="resolved", resolved_at=hm(2026, 11, 30, 23, 50), response_breached=True,
    )  # fmt: skip
    ticket(
        "T3", "S2", "Z2", "beta", "m4", hm(2026, 12, 1, 0, 10), response_breached=True
    )  # fmt: skip
    ticket(
        "T4", "S2", "Z2", "acme", "m5", hm(2026, 11, 29, 8, 0),
        status="closed", closed_at=hm(2026, 11, 29, 9, 0),
    )  # fmt: skip
    dbsession.commit_now()
    return farm


def test_ticket_figures(webtest, engine, tickets):
    login(webtest, engine, "operator")
    data = webtest.get(f"{API}?{PERIOD}&group_by=site").json
    assert data["tickets_available"] is True
    s1, s2 = by_label(data)["S1"]["tickets"], by_label(data)["S2"]["tickets"]
    # S1: opened T1; closed T1 and T2; MTTR (30 + 50) / 2 = 40 min; breaches: T1 (resolution).
    assert (s1["opened"], s1["closed"], s1["sla_breaches"]) == (1, 2, 1)
    assert s1["mttr_hours"] == pytest.approx(40 / 60)
    assert (s1["response_breaches"], s1["resolution_breaches"]) == (0, 1)
    # S2: opened T3 (response breached), nothing resolved; T4 is outside the period.
    assert (s2["opened"], s2["closed"], s2["mttr_hours"], s2["sla_breaches"]) == (1, 0, None, 1)
    total = data["total"]["tickets"]
    assert (total["opened"], total["closed"], total["sla_breaches"]) == (2, 2, 2)
    assert total["mttr_hours"] == pytest.approx(40 / 60)
    # By model, through the tickets' miners: all three in-period tickets are about S19s.
    models = by_label(webtest.get(f"{API}?{PERIOD}&group_by=model").json)
    assert models["S19"]["tickets"]["opened"] == 2
    assert models["M30"]["tickets"]["opened"] == 0
    # The export has the same ticket columns.
    body = webtest.get(f"/hosting/kpi/export.csv?{PERIOD}&group_by=site").body
    rows = {r["Group"]: r for r in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))}
    assert rows["S1"]["Tickets closed"] == "2"
    assert float(rows["Total"]["MTTR hours"]) == pytest.approx(40 / 60)


def test_a_customer_counts_only_its_own_tickets(webtest, engine, tickets):
    login(webtest, engine, "customer", customer_id=tickets["customers"]["acme"])
    data = webtest.get(f"{API}?{PERIOD}&group_by=site").json
    s1 = by_label(data)["S1"]["tickets"]
    # Only T1: opened, resolved after 30 minutes, resolution breached.
    assert (s1["opened"], s1["closed"], s1["sla_breaches"]) == (1, 1, 1)
    assert s1["mttr_hours"] == pytest.approx(0.5)
    assert data["total"]["tickets"]["opened"] == 1
