"""Monitoring pages and their JSON: fleet counts, the live table (filters, sort, search, pages),
the heatmap and a miner's charts, each seen through the account's scope."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from hashinsight_core.db import utcnow
from plugins.hosting.telemetry.store import store
from tests.conftest import login
from tests.unit.plugins.test_telemetry_store import make_row


@pytest.fixture
def fleet(dbsession):
    """Two sites. Site A (zone A1, one 2x3 rack) has five reporting miners: three healthy,
    one hot (warning), one whose last poll is 20 minutes old (offline); site B has one
    healthy miner and one that never reported. Acme owns two of site A's miners."""
    from hashinsight_core.models import Customer
    from plugins.hosting.models import Miner, Rack, Site, Zone

    acme, other = Customer(name="Acme"), Customer(name="Other Co")
    a, b = Site(name="Site A"), Site(name="Site B")
    dbsession.add_all([acme, other, a, b])
    dbsession.flush()
    a1, b1 = Zone(site_id=a.id, name="A1"), Zone(site_id=b.id, name="B1")
    dbsession.add_all([a1, b1])
    dbsession.flush()
    rack = Rack(site_id=a.id, zone_id=a1.id, name="R1", rows=2, slots=3)
    dbsession.add(rack)
    dbsession.flush()
    specs = [
        # serial, zone, customer, model, rack slot
        ("SNA1", a1, acme, "Antminer S19", (1, 1)),
        ("SNA2", a1, acme, "Antminer S19", (1, 2)),
        ("SNA3", a1, other, "Whatsminer M30S+", (1, 3)),
        ("SNA4", a1, None, "Antminer S19", (2, 1)),
        ("SNA5", a1, None, "Antminer S19", None),
        ("SNB1", b1, other, "Antminer S19", None),
        ("SNB2", b1, None, "Antminer S19", None),
    ]
    miners = {}
    for serial, zone, customer, model, spot in specs:
        miner = Miner(
            serial=serial,
            model_name=model,
            nominal_ths=100.0,
            site_id=zone.site_id,
            zone_id=zone.id,
            customer_id=customer.id if customer else None,
            rack_id=rack.id if spot else None,
            rack_row=spot[0] if spot else None,
            rack_slot=spot[1] if spot else None,
            status="online",
        )
        dbsession.add(miner)
        miners[serial] = miner
    dbsession.flush()
    now = utcnow().replace(microsecond=0)

    def poll(serial, ts, **values):
        m = miners[serial]
        keys = {"site_id": m.site_id, "zone_id": m.zone_id, "customer_id": m.customer_id}
        return make_row(m.id, ts, nominal_ths=100.0, **{**keys, **values})

    rows = [
        poll("SNA1", now - dt.timedelta(seconds=30), hashrate_ths=98.0, power_w=3000.0),
        poll("SNA2", now - dt.timedelta(seconds=20), hashrate_ths=101.0, power_w=3100.0),
        poll("SNA3", now - dt.timedelta(seconds=40), hashrate_ths=95.0, power_w=3300.0),
        poll("SNA4", now - dt.timedelta(seconds=10), hashrate_ths=97.0, temp_max_c=91.0),
        poll("SNA5", now - dt.timedelta(minutes=20), hashrate_ths=96.0),
        # a firmware that reports no power (stock Antminer over its API)
        poll("SNB1", now - dt.timedelta(seconds=15), hashrate_ths=110.0, power_w=None),
        # an older poll of SNA1, for its 24-hour series
        poll("SNA1", now - dt.timedelta(minutes=10), hashrate_ths=90.0, power_w=2900.0),
    ]
    store(dbsession, rows, now=now)
    dbsession.commit_now()
    return {"miners": miners, "customers": (acme, other), "sites": (a, b), "rack": rack}


def test_fleet_counts_and_totals_match_the_live_rows(webtest, engine, fleet):
    login(webtest, engine, "operator")
    data = webtest.get("/api/v1/hosting/monitor/fleet").json
    assert (data["miners"], data["online"], data["warning"], data["offline"]) == (6, 5, 1, 1)
    assert data["nodata"] == 1  # SNB2 is in the inventory but never reported
    # Hashrate and power of online miners only (the stale SNA5 is left out).
    assert data["hashrate_ths"] == pytest.approx(98 + 101 + 95 + 97 + 110)
    assert data["power_w"] == pytest.approx(3000 + 3100 + 3300 + 3250)
    # Efficiency only over the miners that report power (SNB1 does not).
    assert data["power_reporting"] == 4
    assert data["j_per_th"] == pytest.approx(data["power_w"] / (98 + 101 + 95 + 97))
    by_site = {s["name"]: s for s in data["sites"]}
    assert (by_site["Site A"]["online"], by_site["Site A"]["offline"]) == (4, 1)
    assert by_site["Site B"]["hashrate_ths"] == pytest.approx(110)
    assert by_site["Site B"]["j_per_th"] is None

    site_b = fleet["sites"][1].id
    only_b = webtest.get(f"/api/v1/hosting/monitor/fleet?site_id={site_b}").json
    assert (only_b["miners"], only_b["online"], only_b["nodata"]) == (1, 1, 1)

    page = webtest.get("/hosting/monitor/")
    assert page.html.select_one('[data-testid="fleet-online"]').text.strip() == "5"
    assert page.html.select_one('[data-testid="fleet-warning"]').text.strip() == "1"
    assert "Site A" in page.html.select_one('[data-testid="fleet-sites"]').text


def test_the_live_table_filters_sorts_searches_and_pages(webtest, engine, fleet):
    login(webtest, engine, "operator")
    api = "/api/v1/hosting/monitor/miners"
    everything = webtest.get(api).json
    assert everything["total"] == 7
    states = {i["label"]: i["state"] for i in everything["items"]}
    assert states == {
        "SNA1": "online",
        "SNA2": "online",
        "SNA3": "online",
        "SNA4": "warning",
        "SNA5": "offline",
        "SNB1": "online",
        "SNB2": "nodata",
    }
    # "online" includes warnings, as the fleet count does.
    assert webtest.get(api + "?state=online").json["total"] == 5
    assert [i["label"] for i in webtest.get(api + "?state=warning").json["items"]] == ["SNA4"]
    by_rate = webtest.get(api + "?sort=hashrate&order=desc&limit=3").json
    assert [i["label"] for i in by_rate["items"]] == ["SNB1", "SNA2", "SNA1"]
    assert by_rate["total"] == 7
    second = webtest.get(api + "?sort=hashrate&order=desc&limit=3&offset=3").json
    assert [i["label"] for i in second["items"]] == ["SNA4", "SNA5", "SNA3"]
    last = webtest.get(api + "?sort=hashrate&order=desc&limit=3&offset=6").json
    assert [i["label"] for i in last["items"]] == ["SNB2"]  # never reported: last
    acme = fleet["customers"][0].id
    assert webtest.get(api + f"?customer_id={acme}").json["total"] == 2
    assert webtest.get(api + "?model=Whatsminer M30S%2B").json["items"][0]["label"] == "SNA3"
    assert [i["label"] for i in webtest.get(api + "?q=snb").json["items"]] == ["SNB1", "SNB2"]
    row = webtest.get(api + "?q=SNA1").json["items"][0]
    assert row["position"] == "R1/1/1" and row["customer"] == "Acme" and row["site"] == "Site A"
    assert row["ratio"] == pytest.approx(0.98)

    page = webtest.get("/hosting/monitor/miners/?state=online&limit=25&sort=temp&order=desc")
    rows = page.html.select('[data-testid="live-table"] tbody tr')
    assert len(rows) == 5
    assert rows[0].select_one("a").text == "SNA4"  # the hottest first
    paged = webtest.get("/hosting/monitor/miners/?limit=25&sort=miner")
    assert paged.html.select_one('[data-testid="live-pages"]') is None  # one page only


@pytest.mark.parametrize(
    "query",
    ["state=sleeping", "sort=colour", "limit=0", "limit=500", "offset=-1", "site_id=abc"],
)
def test_bad_table_parameters_are_a_400_with_a_message(webtest, engine, fleet, query):
    login(webtest, engine, "operator")
    answer = webtest.get(f"/api/v1/hosting/monitor/miners?{query}", status=400).json
    assert answer["error"]["message"]


def test_a_bad_page_parameter_is_ignored_on_the_page(webtest, engine, fleet):
    login(webtest, engine, "operator")
    page = webtest.get("/hosting/monitor/miners/?state=sleeping&limit=abc&site_id=x")
    assert len(page.html.select('[data-testid="live-table"] tbody tr')) == 7


def test_a_customer_sees_only_its_own_miners_everywhere(webtest, engine, fleet):
    acme, _other = fleet["customers"]
    login(webtest, engine, "customer", customer_id=acme.id)
    fleet_data = webtest.get("/api/v1/hosting/monitor/fleet").json
    assert (fleet_data["miners"], fleet_data["online"]) == (2, 2)
    assert fleet_data["hashrate_ths"] == pytest.approx(98 + 101)
    assert [s["name"] for s in fleet_data["sites"]] == ["Site A"]
    table = webtest.get("/api/v1/hosting/monitor/miners").json
    assert sorted(i["label"] for i in table["items"]) == ["SNA1", "SNA2"]
    # Asking for another customer's miners finds nothing rather than leaking them.
    other = fleet["customers"][1].id
    assert webtest.get(f"/api/v1/hosting/monitor/miners?customer_id={other}").json["total"] == 0
    heat = webtest.get("/api/v1/hosting/monitor/heatmap").json
    assert sorted(c[0] for c in heat["cells"]) == sorted(
        fleet["miners"][s].id for s in ("SNA1", "SNA2")
    )
    foreign = fleet["miners"]["SNA3"].id
    webtest.get(f"/api/v1/hosting/miners/{foreign}/telemetry", status=404)
    page = webtest.get("/hosting/monitor/miners/")
    assert "SNA3" not in page.text and "SNA1" in page.text


def test_the_heatmap_places_each_racked_miner_with_its_state(webtest, engine, fleet):
    login(webtest, engine, "operator")
    site_a = fleet["sites"][0].id
    data = webtest.get(f"/api/v1/hosting/monitor/heatmap?site_id={site_a}").json
    assert data["site_id"] == site_a
    assert [r["name"] for z in data["zones"] for r in z["racks"]] == ["R1"]
    cells = {(c[2], c[3]): c for c in data["cells"]}
    assert set(cells) == {(1, 1), (1, 2), (1, 3), (2, 1)}
    assert cells[(2, 1)][4] == "warning" and cells[(2, 1)][5] == 91.0
    assert cells[(1, 1)][6] == 98.0  # % of nominal
    assert data["unracked"] == 1  # SNA5
    webtest.get("/api/v1/hosting/monitor/heatmap?site_id=999999", status=404)
    page = webtest.get(f"/hosting/monitor/heatmap/?site_id={site_a}")
    assert page.html.select_one("#hi-heatmap-data") is not None


def test_the_miner_telemetry_holds_its_polls_and_live_reading(webtest, engine, fleet):
    login(webtest, engine, "viewer")
    miner = fleet["miners"]["SNA1"]
    data = webtest.get(f"/api/v1/hosting/miners/{miner.id}/telemetry").json
    assert data["live"]["state"] == "online"
    assert data["live"]["hashrate_ths"] == 98.0
    assert data["raw"]["hashrate_ths"] == [90.0, 98.0]  # oldest first
    assert data["raw"]["t"] == sorted(data["raw"]["t"])
    assert data["hourly"]["t"] == []  # nothing rolled up yet
    never = fleet["miners"]["SNB2"]
    assert webtest.get(f"/api/v1/hosting/miners/{never.id}/telemetry").json["live"] is None
    page = webtest.get(f"/hosting/miners/{miner.id}/")
    assert page.html.select_one("#hi-miner-raw") is not None
    assert page.html.select_one("#hi-miner")["data-api"].endswith(f"/{miner.id}/telemetry")


def test_monitoring_needs_a_login_and_shows_in_the_menu(webtest, engine, fleet):
    webtest.get("/hosting/monitor/", status=302)
    webtest.get("/api/v1/hosting/monitor/fleet", status=401)
    login(webtest, engine, "viewer")
    home = webtest.get("/hosting/monitor/")
    assert home.html.select_one('[data-route="hosting.monitor.fleet"]') is not None
    # Chinese: the tabs are translated (or at least the page renders in that language).
    zh = webtest.get("/hosting/monitor/heatmap/", headers={"Accept-Language": "zh"})
    assert zh.status_int == 200


def test_the_live_table_stays_a_fixed_number_of_queries(webtest, engine, fleet):
    """No query per row: a page of 7 miners costs the same statements as a page of 1."""
    login(webtest, engine, "operator")
    counted = []

    def count(*_args, **_kwargs):
        counted.append(1)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        webtest.get("/api/v1/hosting/monitor/miners?limit=1")
        one = len(counted)
        counted.clear()
        webtest.get("/api/v1/hosting/monitor/miners?limit=200")
        many = len(counted)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert many == one
