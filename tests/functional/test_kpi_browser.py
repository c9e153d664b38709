"""The KPI dashboard in a real browser on a phone-sized screen: the charts draw, the custom
dates appear only for a custom period, the drill-down opens — with no console error under the
strict CSP."""

from __future__ import annotations

import pytest

from tests.browser.conftest import browser, live_server, page, screenshot  # noqa: F401
from tests.conftest import PASSWORD, make_user
from tests.functional.test_kpi import PERIOD, farm  # noqa: F401

pytestmark = pytest.mark.browser


def test_dashboard_on_a_phone(page, live_server, engine, farm):  # noqa: F811
    email, _ = make_user(engine, "operator")
    page.goto(f"{live_server}/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)

    page.goto(f"{live_server}/hosting/kpi/?{PERIOD}&group_by=site")
    assert page.get_by_test_id("kpi-reachable").inner_text().startswith("64.15")  # 34 of 53
    # Chart.js drew both charts (a canvas it owns gets a non-zero size).
    for chart in ("hi-kpi-uptime", "hi-kpi-hashrate"):
        assert page.evaluate(f"!!Chart.getChart(document.getElementById('{chart}'))")
    # Custom dates show only for a custom period.
    assert page.locator("#from").is_visible()
    page.select_option("#period", "7d")
    assert not page.locator("#from").is_visible()
    screenshot(page, "kpi_dashboard_phone")
    page.select_option("#period", "custom")
    page.locator("[data-testid=kpi-table] a", has_text="S2").click()
    page.wait_for_url(lambda url: "/hosting/kpi/miners/" in url)
    assert "SN-M4" in page.get_by_test_id("kpi-miners").inner_text()
    assert page.problems == []
