"""The customer portal: a customer sees only their own miners (counts, list, alerts), their
uptime from 5-minute rollups, saves e-mail preferences that ``wants_mail`` honours, and
finds how to reach the Portal API. Customers land on it; staff see no "My farm" entry."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from webtest import TestApp

from hashinsight_core.db import utcnow
from hashinsight_core.models import Customer, User
from hashinsight_core.tasks import run_in_request
from plugins.hosting.alerts.models import Alert
from plugins.hosting.models import Miner, Site, Zone
from plugins.hosting.portal import wants_mail
from plugins.hosting.portal.models import PortalPreference
from plugins.hosting.portal.services import sparkline, uptime
from plugins.hosting.telemetry import partitions
from plugins.hosting.telemetry.models import TelemetryFiveMin
from plugins.hosting.telemetry.store import store
from tests.conftest import csrf_token, login
from tests.unit.plugins.test_telemetry_store import make_row

FIVE = dt.timedelta(minutes=5)


@pytest.fixture
def farm(dbsession):
    """Acme owns three miners (two online, one hot, and one that never reported is a fourth);
    Other Co owns one. Acme's 5-minute rows over the last hour: 100 samples, 90 online,
    80 hashing."""
    acme, other = Customer(name="Acme Mining"), Customer(name="Other Co")
    site = Site(name="North")
    dbsession.add_all([acme, other, site])
    dbsession.flush()
    zone = Zone(site_id=site.id, name="Hall 1")
    dbsession.add(zone)
    dbsession.flush()
    miners = {}
    for serial, customer in (
        ("ACME-1", acme),
        ("ACME-2", acme),
        ("ACME-3", acme),
        ("ACME-4", acme),
        ("OTHER-1", other),
    ):
        miners[serial] = Miner(
            serial=serial,
            model_name="Antminer S19",
            nominal_ths=100.0,
            site_id=site.id,
            zone_id=zone.id,
            customer_id=customer.id,
            status="online",
        )
    dbsession.add_all(miners.values())
    dbsession.flush()
    now = utcnow().replace(microsecond=0)

    def poll(serial, **values):
        m = miners[serial]
        keys = {"site_id": m.site_id, "zone_id": m.zone_id, "customer_id": m.customer_id}
        return make_row(m.id, now - dt.timedelta(seconds=20), nominal_ths=100.0, **keys, **values)

    store(
        dbsession,
        [
            poll("ACME-1", hashrate_ths=98.0),
            poll("ACME-2", hashrate_ths=97.0),
            poll("ACME-3", hashrate_ths=95.0, temp_max_c=95.0),
            poll("OTHER-1", hashrate_ths=110.0),
        ],
        now=now,
    )
    start = now.replace(minute=0, second=0) - dt.timedelta(hours=2)
    if dbsession.get_bind().dialect.name == "postgresql":
        partitions.ensure(dbsession.connection(), partitions.FIVE_MIN, start, now + FIVE)
    # Two buckets for ACME-1 (60 + 40 samples) and one for OTHER-1 (which must not count).
    for miner, bucket, samples, online, hashing in (
        (miners["ACME-1"], start, 60, 60, 50),
        (miners["ACME-1"], start + FIVE, 40, 30, 30),
        (miners["OTHER-1"], start, 50, 0, 0),
    ):
        dbsession.add(
            TelemetryFiveMin(
                miner_id=miner.id,
                bucket=bucket,
                site_id=miner.site_id,
                zone_id=miner.zone_id,
                customer_id=miner.customer_id,
                samples=samples,
                online_samples=online,
                hashing_samples=hashing,
                hashrate_avg_ths=90.0,
                nominal_ths=100.0,
                power_samples=0,
                energy_kwh=0.0,
                temp_samples=0,
                error_samples=0,
            )
        )
    for miner in (miners["ACME-3"], miners["OTHER-1"]):
        dbsession.add(
            Alert(
                rule_name=f"hot {miner.serial}",
                kind="high_temp",
                severity="warning",
                subject_type="miner",
                subject_id=miner.id,
                subject_label=miner.serial,
                site_id=miner.site_id,
                zone_id=miner.zone_id,
                customer_id=miner.customer_id,
                since=now - dt.timedelta(minutes=5),
            )
        )
    dbsession.commit_now()
    return {"acme": acme.id, "other": other.id, "miners": {k: m.id for k, m in miners.items()}}


def customer_client(webtest, engine, customer_id) -> TestApp:
    client = TestApp(webtest.app)
    login(client, engine, "customer", customer_id=customer_id)
    return client


def test_uptime_and_sparkline_are_computed_by_hand():
    rows = [
        {"samples": 60, "online_samples": 60, "hashing_samples": 50},
        {"samples": 40, "online_samples": 30, "hashing_samples": 30},
    ]
    assert uptime(rows) == {"reachable": 0.9, "hashing": 0.8, "samples": 100}
    assert uptime([]) == {"reachable": None, "hashing": None, "samples": 0}
    assert sparkline([0.0, 50.0, 100.0], 100.0) == "0.0,58.0 150.0,30.0 300.0,2.0"
    assert sparkline([1.0]) == ""


def test_the_portal_shows_only_the_customers_miners(webtest, engine, farm):
    client = customer_client(webtest, engine, farm["acme"])
    assert client.get("/").headers["Location"].endswith("/portal/")
    home = client.get("/portal/")
    counts = {
        s: home.html.select_one(f"[data-testid=count-{s}]").text
        for s in ("online", "warning", "offline", "nodata")
    }
    assert counts == {"online": "2", "warning": "1", "offline": "0", "nodata": "1"}
    assert "290.0" in home.html.select_one("[data-testid=portal-hashrate]").text  # 98+97+95
    assert "400.0" in home.html.select_one("[data-testid=portal-hashrate]").text
    uptime_text = home.html.select_one("[data-testid=portal-uptime]").text
    assert "90.0%" in uptime_text and "80.0%" in uptime_text  # OTHER-1's offline bucket ignored
    alerts = home.html.select_one("[data-testid=portal-alerts]").text
    assert "ACME-3" in alerts and "OTHER-1" not in alerts
    assert "OTHER-1" not in home.text and "Other Co" not in home.text
    # The customer's approvals live in the command centre, one tap from the portal.
    commands = home.html.select_one("[data-testid=portal-commands]")
    assert commands is not None and commands["href"] == "/controlplane/commands/"

    miners = client.get("/portal/miners/")
    cards = [
        a["data-miner-id"] for a in miners.html.select("[data-testid=miner-cards] [data-miner-id]")
    ]
    rows = [
        tr["data-miner-id"]
        for tr in miners.html.select("[data-testid=miner-table] [data-miner-id]")
    ]
    acme_ids = {str(farm["miners"][s]) for s in ("ACME-1", "ACME-2", "ACME-3", "ACME-4")}
    assert set(cards) == set(rows) == acme_ids
    assert "OTHER-1" not in miners.text
    # Filters by state; a customer_id in the address does not reach another customer.
    hot = client.get("/portal/miners/", {"state": "warning"})
    assert [
        a["data-miner-id"] for a in hot.html.select("[data-testid=miner-cards] [data-miner-id]")
    ] == [str(farm["miners"]["ACME-3"])]
    sneaky = client.get("/portal/miners/", {"customer_id": farm["other"]})
    assert "OTHER-1" not in sneaky.text
    assert (
        set(
            a["data-miner-id"]
            for a in sneaky.html.select("[data-testid=miner-cards] [data-miner-id]")
        )
        == acme_ids
    )
    # Each miner links to its page (charts), which the customer may open; the other's is 404.
    link = miners.html.select_one("[data-testid=miner-cards] a")["href"]
    assert client.get(link).status_int == 200
    client.get(f"/hosting/miners/{farm['miners']['OTHER-1']}/", status=404)


def test_my_farm_is_in_the_menu_of_customers_only(webtest, engine, farm):
    client = customer_client(webtest, engine, farm["acme"])
    nav = client.get("/portal/").html.select_one("[data-testid=main-nav]")
    assert nav.select_one('[data-route="hosting.portal.home"]') is not None
    for role in ("owner", "admin", "operator"):
        staff = TestApp(webtest.app)
        login(staff, engine, role)
        page = staff.get("/hosting/alerts/")
        assert page.html.select_one('[data-route="hosting.portal.home"]') is None, role
    operator = TestApp(webtest.app)
    login(operator, engine, "operator")
    assert operator.get("/portal/", status="*").status_int == 403
    # Owners may preview one customer's portal.
    owner = TestApp(webtest.app)
    login(owner, engine, "owner")
    preview = owner.get("/portal/miners/", {"customer_id": farm["acme"]})
    assert "OTHER-1" not in preview.text and "ACME-1" in preview.text
    assert preview.html.select_one("[data-testid=portal-preview]") is not None


def test_preferences_are_saved_and_wants_mail_honours_them(webtest, engine, farm, dbsession):
    client = customer_client(webtest, engine, farm["acme"])
    page = client.get("/portal/settings/")
    assert page.html.select_one("#mail_tickets").has_attr("checked")
    assert "/api/v1/portal/miners" in page.html.select_one("[data-testid=api-example]").text
    assert page.html.select_one("[data-testid=token-link]")["href"].startswith("/account/")
    saved = client.post(
        "/portal/settings/", {"mail_alerts": "on", "csrf_token": csrf_token(client)}
    )
    assert saved.status_int == 303
    assert client.get(saved.headers["Location"]).html.select_one("[data-testid=saved]")
    user_id = dbsession.scalar(
        sa.select(User.id).where(User.customer_id == farm["acme"]).order_by(User.id.desc())
    )
    row = dbsession.get(PortalPreference, user_id)
    assert (row.mail_tickets, row.mail_alerts) == (False, True)
    page = client.get("/portal/settings/")
    assert not page.html.select_one("#mail_tickets").has_attr("checked")
    assert page.html.select_one("#mail_alerts").has_attr("checked")

    registry = webtest.app.registry

    def check(request):
        assert wants_mail(request, user_id, "tickets") is False
        assert wants_mail(request, user_id, "alerts") is True
        assert wants_mail(request, user_id + 1000, "tickets") is True  # never chose: yes
        assert wants_mail(request, None, "alerts") is True
        with pytest.raises(ValueError):
            wants_mail(request, user_id, "invoices")

    run_in_request(registry, check)
