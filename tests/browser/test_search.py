"""The quick-search box in a real browser: "/" focuses it, typing a serial shows the miner in
the drop-down, arrow keys and Enter open it, Esc closes; Ctrl+K works too; no console errors
under the strict CSP."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser

SERIAL = "QSBROWSER0042"


@pytest.fixture
def miner_id(engine):
    from plugins.hosting.models import Miner, Rack, Site, Zone

    with sa.orm.Session(engine) as db:
        site = Site(name="Search site")
        db.add(site)
        db.flush()
        zone = Zone(site_id=site.id, name="Hall 1")
        db.add(zone)
        db.flush()
        rack = Rack(site_id=site.id, zone_id=zone.id, name="R7", rows=2, slots=5)
        db.add(rack)
        db.flush()
        miners = [
            Miner(
                serial=serial,
                model_name="Antminer S19",
                site_id=site.id,
                zone_id=zone.id,
                rack_id=rack.id,
                rack_row=1,
                rack_slot=slot,
            )
            for slot, serial in enumerate((SERIAL, SERIAL + "B", "OTHER0001"), start=1)
        ]
        db.add_all(miners)
        db.commit()
        return miners[0].id


def log_in(page, live_server, engine):
    email, _ = make_user(engine, "operator")
    page.goto(f"{live_server}/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state("networkidle")


def test_slash_type_serial_enter_opens_the_miner(page, live_server, engine, miner_id):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, engine)
    box = page.get_by_test_id("search-input")
    results = page.get_by_test_id("search-results")

    page.locator("body").click()
    page.keyboard.press("/")
    assert page.evaluate("() => document.activeElement.name") == "q"
    page.keyboard.type(SERIAL.lower())
    options = results.locator("[role=option][data-kind=miner]")
    options.first.wait_for()
    assert options.count() == 2  # the exact serial, then the one it starts
    assert options.first.inner_text().startswith(SERIAL)
    assert box.get_attribute("aria-expanded") == "true"
    screenshot(page, "search-dropdown")

    # Down to the second hit and back up to the first; Enter opens it.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert "active" in options.first.get_attribute("class")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/hosting/miners/{miner_id}/")

    # Ctrl+K from anywhere; Esc closes the drop-down.
    page.locator("body").click()
    page.keyboard.press("Control+k")
    page.keyboard.type("R7/1/3")
    results.locator("[role=option][data-kind=miner]").first.wait_for()
    assert "OTHER0001" in results.inner_text()
    page.keyboard.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"

    # Enter with nothing picked opens the full results page (what the form does without JS).
    box.fill(SERIAL)
    with page.expect_navigation():
        box.press("Enter")
    assert "/search/?q=" in page.url
    assert page.get_by_test_id("search-hit").count() == 2
    assert page.problems == []
