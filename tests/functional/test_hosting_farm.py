"""The farm model: zones, miners one by one and in batches, lifecycle, history and ABAC."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from tests.conftest import api_headers, csrf_token, login


@pytest.fixture
def farm(dbsession):
    from hashinsight_core.models import Customer
    from plugins.hosting.models import Rack, Site, Zone

    acme, other = Customer(name="Acme"), Customer(name="Other")
    site = Site(name="Site A")
    dbsession.add_all([acme, other, site])
    dbsession.flush()
    z1, z2 = Zone(site_id=site.id, name="Z1"), Zone(site_id=site.id, name="Z2")
    dbsession.add_all([z1, z2])
    dbsession.flush()
    rack = Rack(site_id=site.id, zone_id=z1.id, name="R1", rows=2, slots=3)
    dbsession.add(rack)
    dbsession.commit_now()
    return {"acme": acme, "other": other, "site": site, "zones": (z1, z2), "rack": rack}


def miner(serial, zone, customer=None, **extra) -> dict:
    body = {"serial": serial, "model": "Antminer S19", "nominal_ths": 95, "zone_id": zone.id}
    if customer is not None:
        body["customer_id"] = customer.id
    body.update(extra)
    return body


def count(engine, table="hosting_miners") -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text(f"SELECT count(*) FROM {table}"))


def test_zones_and_site_fields(webtest, login_as, farm):
    login_as("admin")
    headers = api_headers(webtest)
    site = webtest.post_json(
        "/api/v1/hosting/sites",
        {"name": "B", "location": "Texas", "tariff_per_kwh": 0.04, "tariff_currency": "usd"},
        headers=headers,
        status=201,
    ).json
    assert (site["location"], site["tariff_per_kwh"], site["tariff_currency"]) == (
        "Texas",
        0.04,
        "USD",
    )
    zone = webtest.post_json(
        f"/api/v1/hosting/sites/{site['id']}/zones",
        {"name": "Hall 1", "capacity_kw": 1200},
        headers=headers,
        status=201,
    ).json
    webtest.post_json(
        f"/api/v1/hosting/sites/{site['id']}/zones", {"name": "Hall 1"}, headers=headers, status=409
    )
    listed = webtest.get(f"/api/v1/hosting/sites/{site['id']}/zones").json
    assert [z["name"] for z in listed["items"]] == ["Hall 1"]
    page = webtest.get(f"/hosting/sites/{site['id']}/")
    assert "Hall 1" in page.text
    webtest.delete(f"/api/v1/hosting/zones/{zone['id']}", headers=headers, status=204)
    webtest.get(f"/api/v1/hosting/zones/{zone['id']}", status=404)


def test_single_miner_create_normalizes_and_rejects_duplicates(webtest, login_as, farm, engine):
    login_as("operator")
    headers = api_headers(webtest)
    z1 = farm["zones"][0]
    created = webtest.post_json(
        "/api/v1/hosting/miners",
        miner(" sn-001 ", z1, farm["acme"], mac="AA-BB-CC-DD-EE-01", rack="R1", row=1, slot=2),
        headers=headers,
        status=201,
    ).json
    assert (created["serial"], created["mac"], created["status"]) == (
        "SN-001",
        "aa:bb:cc:dd:ee:01",
        "received",
    )
    assert (created["rack_row"], created["rack_slot"]) == (1, 2)
    again = webtest.post_json(
        "/api/v1/hosting/miners",
        miner("SN-001", z1, mac="aabb.ccdd.ee01", rack="R1", row=1, slot=2),
        headers=headers,
        status=422,
    ).json["error"]
    assert again["code"] == "invalid_rows"
    assert {d for d in ("serial", "mac", "slot") if f"row 1, {d}" in again["message"]} == {
        "serial",
        "mac",
        "slot",
    }
    assert count(engine) == 1


def test_batch_is_all_or_nothing_and_names_each_bad_row_and_column(webtest, login_as, farm, engine):
    login_as("admin")
    headers = api_headers(webtest)
    z1, z2 = farm["zones"]
    webtest.post_json("/api/v1/hosting/miners", miner("EXIST1", z1), headers=headers, status=201)
    rows = [
        miner("OK1", z1),
        miner("OK1", z2),  # repeats row 1
        miner("EXIST1", z1),  # in the database already
        miner("BAD3", z1, mac="not-a-mac"),
        miner("BAD4", z1, nominal_ths=-5),
        {**miner("BAD5", z1), "zone_id": 999999},
        miner("BAD6", z1, rack="R1", row=9, slot=1),
        {"serial": "BAD7", "zone_id": z1.id},  # no model
    ]
    error = webtest.post_json(
        "/api/v1/hosting/miners/batch", {"miners": rows}, headers=headers, status=422
    ).json["error"]
    where = {(d["row"], d["column"]) for d in error["details"]}
    assert where == {
        (2, "serial"),
        (3, "serial"),
        (4, "mac"),
        (5, "nominal_ths"),
        (6, "zone_id"),
        (7, "row"),
        (8, "model"),
    }
    assert count(engine) == 1
    good = [miner(f"GOOD{i}", z1 if i % 2 else z2, farm["acme"]) for i in range(300)]
    made = webtest.post_json(
        "/api/v1/hosting/miners/batch", {"miners": good}, headers=headers, status=201
    ).json
    assert made["created"] == 300 and count(engine) == 301
    assert count(engine, "hosting_miner_history") == 301
    with engine.connect() as conn:
        tags = conn.scalars(
            sa.text("SELECT tag FROM core_audit_events WHERE tag LIKE 'hosting:miner:%'")
        ).all()
    assert sorted(tags) == ["hosting:miner:batch_create", "hosting:miner:create"]


def _csv(text: str):
    return ("file", "miners.csv", text.encode())


def test_csv_and_excel_upload_with_the_error_report(webtest, login_as, farm, engine):
    login_as("admin")
    bad = (
        "Serial,MAC,Model,Site,Zone,Customer\nX1,,S19,Site A,Z1,Acme\nX1,zz,S19,Site A,Nope,Acme\n"
    )
    page = webtest.post(
        "/hosting/miners/import/",
        {"csrf_token": csrf_token(webtest)},
        upload_files=[_csv(bad)],
        status=422,
    )
    report = page.html.find(id="import-errors").text
    assert "serial" in report and "mac" in report and "zone" in report and "3" in report
    assert count(engine) == 0
    book = Workbook()
    sheet = book.active
    sheet.append(["serial", "mac", "model", "nominal_ths", "site", "zone", "customer"])
    for i in range(50):
        sheet.append([f"XL{i:03d}", f"02:00:00:00:00:{i:02x}", "S21", 200, "Site A", "Z2", "Acme"])
    data = io.BytesIO()
    book.save(data)
    ok = webtest.post(
        "/hosting/miners/import/",
        {"csrf_token": csrf_token(webtest)},
        upload_files=[("file", "miners.xlsx", data.getvalue())],
    )
    assert "50 miners added" in ok.text and count(engine) == 50


def test_lifecycle_transitions_are_enforced_and_recorded(webtest, login_as, farm):
    login_as("operator")
    headers = api_headers(webtest)
    made = webtest.post_json(
        "/api/v1/hosting/miners", miner("LC1", farm["zones"][0]), headers=headers
    ).json
    url = f"/api/v1/hosting/miners/{made['id']}"
    webtest.patch_json(url, {"status": "installed"}, headers=headers, status=200)
    refused = webtest.patch_json(url, {"status": "rma"}, headers=headers, status=422).json
    assert "cannot go from installed to rma" in refused["error"]["message"]
    moved = webtest.patch_json(
        url, {"zone_id": farm["zones"][1].id, "note": "moved to hall 2"}, headers=headers
    ).json
    assert moved["zone_id"] == farm["zones"][1].id
    history = webtest.get(url + "/history").json["items"]
    assert [h["kind"] for h in history] == ["move", "status", "create"]
    assert history[1]["from"] == "received" and history[1]["to"] == "installed"
    page = webtest.get(f"/hosting/miners/{made['id']}/")
    assert "moved to hall 2" in page.text


def test_customers_see_only_their_miners(webtest, engine, farm, dbsession):
    from plugins.hosting.models import Miner

    z1, z2 = farm["zones"]
    mine = Miner(
        serial="MINE",
        model_name="S19",
        site_id=z1.site_id,
        zone_id=z1.id,
        customer_id=farm["acme"].id,
    )
    theirs = Miner(
        serial="THEIRS",
        model_name="S19",
        site_id=z2.site_id,
        zone_id=z2.id,
        customer_id=farm["other"].id,
    )
    dbsession.add_all([mine, theirs])
    dbsession.commit_now()
    login(webtest, engine, "customer", customer_id=farm["acme"].id)
    listing = webtest.get("/api/v1/hosting/miners").json
    assert [m["serial"] for m in listing["items"]] == ["MINE"] and listing["total"] == 1
    webtest.get(f"/api/v1/hosting/miners/{theirs.id}", status=404)
    webtest.get(f"/api/v1/hosting/miners/{theirs.id}/history", status=404)
    webtest.get(f"/hosting/miners/{theirs.id}/", status=404)
    assert webtest.get(f"/api/v1/hosting/miners/{mine.id}").json["serial"] == "MINE"
    zones = webtest.get(f"/api/v1/hosting/sites/{z1.site_id}/zones").json["items"]
    assert [z["name"] for z in zones] == ["Z1"]  # only where they have miners
    page = webtest.get("/hosting/miners/")
    assert "MINE" in page.text and "THEIRS" not in page.text


def test_an_operator_with_a_zone_membership_sees_only_that_zone(webtest, engine, farm, dbsession):
    from hashinsight_core.models import Membership, User
    from plugins.hosting.models import Miner

    z1, z2 = farm["zones"]
    inside = Miner(serial="IN1", model_name="S19", site_id=z1.site_id, zone_id=z1.id)
    outside = Miner(serial="OUT1", model_name="S19", site_id=z2.site_id, zone_id=z2.id)
    dbsession.add_all([inside, outside])
    dbsession.commit_now()
    email = login(webtest, engine, "operator")
    user = dbsession.scalar(sa.select(User).where(User.email == email))
    dbsession.add(Membership(user_id=user.id, site_id=z1.site_id, zone_id=z1.id))
    dbsession.commit_now()
    listing = webtest.get("/api/v1/hosting/miners").json
    assert [m["serial"] for m in listing["items"]] == ["IN1"]
    webtest.get(f"/api/v1/hosting/miners/{outside.id}", status=404)
    # Nor can they add a miner to the other zone.
    error = webtest.post_json(
        "/api/v1/hosting/miners", miner("NEW", z2), headers=api_headers(webtest), status=422
    ).json["error"]
    assert "zone_id" in error["message"]


def test_deleting_a_zone_removes_its_memberships(webtest, login_as, engine, farm, dbsession):
    from hashinsight_core.models import Membership, User

    user = User(email="m@example.com", password_hash="x", role="operator")
    dbsession.add(user)
    dbsession.flush()
    z2 = farm["zones"][1]
    dbsession.add(Membership(user_id=user.id, site_id=z2.site_id, zone_id=z2.id))
    dbsession.commit_now()
    login_as("admin")
    webtest.delete(f"/api/v1/hosting/zones/{z2.id}", headers=api_headers(webtest), status=204)
    assert count(engine, "core_memberships") == 0


def test_miner_list_page_filters_and_pages(webtest, login_as, farm, dbsession):
    from plugins.hosting.models import Miner

    z1, z2 = farm["zones"]
    dbsession.add_all(
        Miner(
            serial=f"P{i:03d}",
            model_name="S19",
            site_id=z1.site_id,
            zone_id=(z1 if i % 2 else z2).id,
            status="installed" if i < 10 else "received",
        )
        for i in range(120)
    )
    dbsession.commit_now()
    login_as("viewer")
    page = webtest.get("/hosting/miners/", {"zone_id": z1.id})
    assert "60 miners" in page.text and "Page 1 of 2" in page.text
    found = webtest.get("/hosting/miners/", {"q": "p00"})
    assert "P001" in found.text and "P011" not in found.text
    api = webtest.get("/api/v1/hosting/miners", {"status": "installed", "limit": 3}).json
    assert api["total"] == 10 and len(api["items"]) == 3


def test_device_page_shows_the_token_once(webtest, login_as, farm):
    login_as("admin")
    zone = farm["zones"][0]
    page = webtest.post(
        "/hosting/devices/",
        {"name": "rack-pc", "zone_id": zone.id, "csrf_token": csrf_token(webtest)},
    )
    token = page.html.find(id="device-token").text
    assert token.startswith("hie_") and page.headers["Cache-Control"] == "no-store"
    listing = webtest.get("/hosting/devices/")
    assert "rack-pc" in listing.text and token not in listing.text
    device_id = webtest.get("/api/v1/hosting/devices").json["items"][0]["id"]
    webtest.post(f"/hosting/devices/{device_id}/revoke", {"csrf_token": csrf_token(webtest)})
    assert webtest.get("/api/v1/hosting/devices").json["items"][0]["active"] is False


def test_miner_ip_is_kept_only_at_sites_that_mask_addresses(webtest, login_as, farm, engine):
    from plugins.hosting.models import Site

    login_as("admin")
    headers = api_headers(webtest)
    z1 = farm["zones"][0]
    created = webtest.post_json(
        "/api/v1/hosting/miners", miner("IP-1", z1, ip=" 10.1.2.3 "), headers=headers, status=201
    ).json
    assert "ip" not in created  # addresses are never part of the miner's answer
    bad = webtest.post_json(
        "/api/v1/hosting/miners", miner("IP-2", z1, ip="10.1.2"), headers=headers, status=422
    ).json["error"]["message"]
    assert "row 1, ip" in bad and "not an IP address" in bad
    # An edit that does not name the address keeps it.
    webtest.patch_json(
        f"/api/v1/hosting/miners/{created['id']}", {"firmware": "2024-01"}, headers=headers
    )
    with engine.begin() as conn:
        assert conn.scalar(sa.text("SELECT ip FROM hosting_miners WHERE serial = 'IP-1'")) == (
            "10.1.2.3"
        )
        conn.execute(
            sa.update(Site).where(Site.id == farm["site"].id).values(credential_mode="encrypted")
        )
    refused = webtest.post_json(
        "/api/v1/hosting/miners", miner("IP-3", z1, ip="10.1.2.4"), headers=headers, status=422
    ).json["error"]["message"]
    assert "encrypted" in refused
    assert count(engine) == 1
