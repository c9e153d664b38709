"""A customer opens a ticket from its miner's page in a real browser (a phone-sized screen),
in English and then in Chinese, chosen from the language menu."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.browser.conftest import choose_language, screenshot
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser

CATALOG = Path(__file__).parents[2] / "hashinsight_core" / "locale"


@pytest.fixture
def farm(engine):
    from hashinsight_core.models import Customer
    from plugins.hosting.models import Miner, Site, Zone

    with sa.orm.Session(engine) as db:
        customer = Customer(name="Browser Customer")
        site = Site(name="Ticket site")
        db.add_all([customer, site])
        db.flush()
        zone = Zone(site_id=site.id, name="Hall T")
        db.add(zone)
        db.flush()
        miner = Miner(
            serial="TCK-0001",
            model_name="Antminer S21",
            nominal_ths=200.0,
            site_id=site.id,
            zone_id=zone.id,
            customer_id=customer.id,
            status="online",
        )
        db.add(miner)
        db.commit()
        return {"customer_id": customer.id, "miner_id": miner.id}


def zh(text: str) -> str:
    """The Chinese of ``text`` once the catalogs hold it (else the English, as the app shows)."""
    translations = gettext.translation("hashinsight", CATALOG, ["zh"], fallback=True)
    return translations.gettext(text)


def log_in(page, live_server, email):
    page.goto(f"{live_server}/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state("networkidle")


def open_ticket_from_miner_page(page, live_server, farm, title):
    page.goto(f"{live_server}/hosting/miners/{farm['miner_id']}/")
    button = page.get_by_test_id("report-problem")
    with page.expect_navigation():
        button.click()
    assert f"miner_id={farm['miner_id']}" in page.url
    assert page.get_by_test_id("linked-miner").inner_text().strip().startswith("TCK-0001")
    page.fill("#title", title)
    page.select_option("#category", "fan")
    page.select_option("#priority", "high")
    page.fill("#body", "Fan 2 rattles since this morning")
    with page.expect_navigation():
        page.get_by_test_id("ticket-submit").click()
    assert title in page.get_by_test_id("ticket-title").inner_text()
    assert page.get_by_test_id("ticket-miner").inner_text() == "TCK-0001"
    assert "Fan 2 rattles" in page.get_by_test_id("comment").first.inner_text()
    return button


def test_a_customer_opens_a_ticket_from_its_miner_page_in_english_and_chinese(
    page, live_server, engine, farm
):
    from plugins.hosting.tickets.models import Ticket

    email, _ = make_user(engine, "customer", customer_id=farm["customer_id"])
    log_in(page, live_server, email)
    open_ticket_from_miner_page(page, live_server, farm, "Loud fan")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_test_id("report-problem").count() == 0  # (on the ticket page now)
    screenshot(page, "ticket-en")

    # Switch to Chinese the way a person does: the menu of the phone-sized header.
    choose_language(page, "中文")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.goto(f"{live_server}/hosting/miners/{farm['miner_id']}/")
    assert page.get_by_test_id("report-problem").inner_text().strip() == zh("Report a problem")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    open_ticket_from_miner_page(page, live_server, farm, "风扇很吵")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    screenshot(page, "ticket-zh")

    # Both tickets are on the miner's repair log, and stored for the customer's miner.
    page.goto(f"{live_server}/hosting/miners/{farm['miner_id']}/")
    assert page.get_by_test_id("repair-ticket").count() == 2
    with sa.orm.Session(engine) as db:
        tickets = db.scalars(sa.select(Ticket).order_by(Ticket.id)).all()
        assert [t.title for t in tickets] == ["Loud fan", "风扇很吵"]
        assert {(t.customer_id, t.source, t.priority) for t in tickets} == {
            (farm["customer_id"], "customer", "high")
        }
    assert page.problems == []
