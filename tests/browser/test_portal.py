"""The customer portal on a 375 px wide phone: it fits (nothing scrolls sideways), miners are
cards, and the strict CSP reports nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def customer(engine):
    import transaction

    from hashinsight_core.db import get_tm_session, utcnow
    from hashinsight_core.models import Customer
    from plugins.hosting.models import Miner, Site, Zone
    from plugins.hosting.telemetry.store import store
    from tests.unit.plugins.test_telemetry_store import make_row

    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    db = get_tm_session(sa.orm.sessionmaker(bind=engine, expire_on_commit=False), tm)
    acme = Customer(name="Phone Mining Co")
    site = Site(name="Phone site")
    db.add_all([acme, site])
    db.flush()
    zone = Zone(site_id=site.id, name="Hall 1")
    db.add(zone)
    db.flush()
    miners = [
        Miner(
            serial=f"PHONE-{n:02d}-WITH-A-LONG-SERIAL",
            model_name="Antminer S19 XP Hydro",
            nominal_ths=255.0,
            site_id=site.id,
            zone_id=zone.id,
            customer_id=acme.id,
            status="online",
        )
        for n in range(6)
    ]
    db.add_all(miners)
    db.flush()
    now = utcnow().replace(microsecond=0)
    store(
        db,
        [
            make_row(
                m.id,
                now,
                site_id=site.id,
                zone_id=zone.id,
                customer_id=acme.id,
                nominal_ths=255.0,
                hashrate_ths=250.0,
                temp_max_c=95.0 if n == 2 else 70.0,
            )
            for n, m in enumerate(miners)
        ],
        now=now,
    )
    customer_id = acme.id
    tm.commit()
    email, _ = make_user(engine, "customer", customer_id=customer_id)
    return email


def test_the_portal_fits_a_375px_phone(browser, live_server, customer):
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(f"{live_server}/login/")
        page.fill("input[name=email]", customer)
        page.fill("input[name=password]", PASSWORD)
        page.locator("main button[type=submit]").click()
        page.wait_for_url(f"{live_server}/portal/")
        for path, name in (
            ("/portal/", "portal-home-375"),
            ("/portal/miners/", "portal-miners-375"),
            ("/portal/settings/", "portal-settings-375"),
        ):
            page.goto(f"{live_server}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{path} is {width}px wide"
            screenshot(page, name)
        cards = page.locator("[data-testid=miner-cards] [data-miner-id]")
        page.goto(f"{live_server}/portal/miners/")
        assert cards.count() == 6 and cards.first.is_visible()
        assert not page.locator("[data-testid=miner-table]").is_visible()
        assert problems == []
    finally:
        context.close()


def test_the_brand_page_fits_a_phone_and_applies_the_brand(browser, live_server, engine):
    import transaction

    from hashinsight_core.db import get_tm_session
    from plugins.hosting.brands.models import Brand

    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    db = get_tm_session(sa.orm.sessionmaker(bind=engine, expire_on_commit=False), tm)
    brand = Brand(
        name="Phone Brand",
        slug="phone-brand",
        primary_color="#22aa66",
        background_color="#0f1720",
        support_email="help@phone.example",
        support_phone="+1 555 0101",
        legal_footer="Phone Brand Ltd",
    )
    db.add(brand)
    db.flush()
    brand_id = brand.id
    tm.commit()
    email, _ = make_user(engine, "admin")
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    try:
        page.goto(f"{live_server}/login/")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("main button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        page.goto(f"{live_server}/hosting/brands/{brand_id}/")
        # The live server answers on 127.0.0.1: make that this brand's host name, on the page
        # (which also drops the server's brand cache).
        page.fill("input[name=host]", "127.0.0.1")
        with page.expect_navigation():
            page.get_by_role("button", name="Add").click()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        accent = page.evaluate(
            "getComputedStyle(document.documentElement).getPropertyValue('--hi-accent').trim()"
        )
        assert accent == "#22aa66"
        assert page.get_by_test_id("legal-footer").inner_text() == "Phone Brand Ltd"
        assert page.get_by_test_id("brand-name").inner_text() == "Phone Brand"
        screenshot(page, "brand-edit-375")
        visitor = browser.new_context(viewport={"width": 375, "height": 812}).new_page()
        visitor.goto(f"{live_server}/login/")
        assert visitor.get_by_test_id("login-brand").inner_text().strip() == "Phone Brand"
        visitor.context.close()
        # Take the host name back on the page: the session's server must not keep showing
        # this brand (from its cache) to the browser tests that follow.
        page.goto(f"{live_server}/hosting/brands/{brand_id}/")
        with page.expect_navigation():
            page.locator("[data-testid=brand-hosts] button").click()
        assert page.get_by_test_id("brand-name").inner_text() != "Phone Brand"
        assert problems == []
    finally:
        context.close()
