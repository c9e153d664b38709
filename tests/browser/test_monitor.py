"""The monitoring pages in a real browser: fleet counters, the live table's filters and pages,
the miner charts — with no console errors under the strict CSP."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser

MINERS = 30  # more than one page of 25
HOT = (3, 7)  # these run hot: warnings


@pytest.fixture
def farm(engine):
    """One site, one zone, one 3x10 rack full of miners; each has polls over the last hour."""
    import transaction

    from hashinsight_core.db import get_tm_session, utcnow
    from plugins.hosting.models import Miner, Rack, Site, Zone
    from plugins.hosting.telemetry.store import store
    from tests.unit.plugins.test_telemetry_store import make_row

    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    db = get_tm_session(sa.orm.sessionmaker(bind=engine, expire_on_commit=False), tm)
    site = Site(name="Browser site")
    db.add(site)
    db.flush()
    zone = Zone(site_id=site.id, name="Hall 1")
    db.add(zone)
    db.flush()
    rack = Rack(site_id=site.id, zone_id=zone.id, name="R1", rows=3, slots=10)
    db.add(rack)
    db.flush()
    miners = [
        Miner(
            serial=f"BRW{n:03d}",
            model_name="Antminer S19",
            nominal_ths=95.0,
            site_id=site.id,
            zone_id=zone.id,
            rack_id=rack.id,
            rack_row=n // 10 + 1,
            rack_slot=n % 10 + 1,
            status="online",
        )
        for n in range(MINERS)
    ]
    db.add_all(miners)
    db.flush()
    now = utcnow().replace(microsecond=0)
    rows = [
        make_row(
            m.id,
            now - dt.timedelta(minutes=minutes),
            site_id=site.id,
            zone_id=zone.id,
            customer_id=None,
            temp_max_c=92.0 if n in HOT else 70.0 + n % 5,
            hashrate_ths=90.0 + n % 7,
        )
        for n, m in enumerate(miners)
        for minutes in (50, 30, 10, 0.5)
    ]
    store(db, rows, now=now)
    ids = [m.id for m in miners]
    tm.commit()
    return {"ids": ids, "site_id": site.id}


def log_in(page, live_server, engine):
    email, _ = make_user(engine, "operator")
    page.goto(f"{live_server}/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state("networkidle")


def test_fleet_page_counts_and_live_table_filters_and_pages(page, live_server, engine, farm):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, engine)
    page.goto(f"{live_server}/hosting/monitor/")
    online = page.get_by_test_id("fleet-online")
    # CountUp animates to the figure; the live refresh keeps it there.
    page.wait_for_function("el => el.textContent.trim() === '30'", arg=online.element_handle())
    assert page.get_by_test_id("fleet-warning").inner_text().strip() == str(len(HOT))
    assert page.evaluate("() => !!Chart.getChart(document.getElementById('hi-fleet-chart'))")
    screenshot(page, "monitor-fleet")

    # The live table: 25 rows a page, a second page with the rest.
    page.goto(f"{live_server}/hosting/monitor/miners/?limit=25")
    rows = page.locator('[data-testid="live-table"] tbody tr')
    assert rows.count() == 25
    with page.expect_navigation():
        page.get_by_role("link", name="Next »").click()
    assert rows.count() == MINERS - 25
    assert "offset=25" in page.url

    # Filter by state the way a person does: pick it, the form sends itself.
    with page.expect_navigation():
        page.get_by_test_id("state-filter").select_option("warning")
    assert "state=warning" in page.url
    assert rows.count() == len(HOT)
    labels = sorted(rows.locator("td:first-child a").all_inner_texts())
    assert labels == [f"BRW{n:03d}" for n in HOT]
    # Search narrows further; sorting by temperature puts the hottest first.
    page.goto(f"{live_server}/hosting/monitor/miners/?sort=temp&order=desc")
    assert rows.first.locator("td:first-child a").inner_text() in {f"BRW{n:03d}" for n in HOT}
    page.get_by_test_id("live-search").fill("BRW01")
    with page.expect_navigation():
        page.get_by_test_id("live-search").press("Enter")
    assert rows.count() == 10  # BRW010 .. BRW019
    screenshot(page, "monitor-live")
    assert page.problems == []


def test_heatmap_and_miner_charts_render(page, live_server, engine, farm):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, engine)
    page.goto(f"{live_server}/hosting/monitor/heatmap/?site_id={farm['site_id']}")
    cells = page.locator("#hi-heatmap a.hi-cell")
    cells.first.wait_for()
    assert cells.count() == MINERS
    assert page.locator("#hi-heatmap a.hi-cell.hm-t5").count() == len(HOT)  # the hot ones
    page.locator("label[for=hm-state]").click()
    assert page.locator("#hi-heatmap a.hi-cell.hm-warning").count() == len(HOT)
    screenshot(page, "monitor-heatmap")

    page.goto(f"{live_server}/hosting/miners/{farm['ids'][0]}/")
    container = page.get_by_test_id("miner-telemetry")
    page.wait_for_function(
        "el => el.getAttribute('data-points') === '4'", arg=container.element_handle()
    )
    assert page.evaluate("() => !!Chart.getChart(document.getElementById('hi-miner-raw'))")
    assert page.evaluate("() => !!Chart.getChart(document.getElementById('hi-miner-history'))")
    assert container.locator('[data-live-field="hashrate_ths"]').inner_text() == "90.00"
    screenshot(page, "monitor-miner")
    assert page.problems == []
