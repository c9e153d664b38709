"""The calculator in a real browser: pick a model, see the figures and the charts, change the
electricity price, share the address, and read the page in Chinese."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from hashinsight_core.db import utcnow
from hashinsight_core.market import figures
from hashinsight_core.market.models import MarketLatest
from plugins.calculator import catalogue
from plugins.calculator.models import AsicModel, AsicPowerMode
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

# Every fetched figure fresh, so no page view queues a refresh that would change them.
MARKET = {
    "price_usd": 100_000.0,
    "difficulty": 1.5e14,
    "hashrate_ehs": 1070.0,
    "block_height": 925_000,
    "fees_btc_144": 0.02,
    "fees_btc_1008": 0.02,
    "fees_btc_2016": 0.02,
    "next_adjustment_pct": 1.0,
    "next_adjustment_height": 925_344,
    "next_adjustment_time": 1_900_000_000,
}


@pytest.fixture
def market_and_catalogue(engine):
    assert set(MARKET) == set(figures.FETCHED)
    with sa.orm.Session(engine) as session:
        session.execute(sa.delete(MarketLatest))
        session.execute(sa.delete(AsicPowerMode))
        session.execute(sa.delete(AsicModel))
        now = utcnow()
        for name, value in MARKET.items():
            session.add(MarketLatest(figure=name, value=value, source="test", as_of=now))
        catalogue.seed(SimpleNamespace(dbsession=session, audit=lambda *a, **k: None))
        session.commit()


def figure(page, key: str) -> float:
    return float(page.locator(f'[data-result="{key}"]').get_attribute("data-value"))


def wait_for_figures(page):
    """Until the round of API calls for the current inputs has been drawn."""
    page.wait_for_function(
        "() => !document.getElementById('calculator-form').hasAttribute('data-busy')"
        " && window.Chart && Chart.getChart('chart-cashflow')"
        " && Chart.getChart('chart-tornado') && Chart.getChart('chart-montecarlo')"
    )


def test_pick_a_model_change_the_power_price_and_share_the_link(
    page, live_server, market_and_catalogue
):
    page.goto(f"{live_server}/calculator/")
    page.get_by_test_id("model-search").fill("S21 XP")
    page.locator("#model").select_option(label="Bitmain Antminer S21 XP · 270 TH/s · 3645 W")
    page.wait_for_function("() => location.search.includes('model=')")
    wait_for_figures(page)
    # 270 TH/s at difficulty 1.5e14 and 3.125 + 0.02 BTC a block, 2 % pool fee, 100,000 USD:
    # 270e12 * 86400 / (1.5e14 * 2**32) * 3.145 * 0.98 * 100,000 = 11.16 USD a day.
    revenue = 270e12 * 86_400 / (1.5e14 * 2**32) * 3.145 * 0.98 * 100_000
    assert figure(page, "revenue_usd_per_day") == pytest.approx(revenue, rel=1e-9)
    cheap = figure(page, "profit_usd_per_day")
    # 3,645 W for 24 h at 0.06 USD/kWh = 5.2488 USD.
    assert cheap == pytest.approx(revenue - 3.645 * 24 * 0.06, rel=1e-9)
    cash_flow = page.evaluate(
        "() => { const c = Chart.getChart('chart-cashflow');"
        " return {label: c.data.datasets[0].label, points: c.data.datasets[0].data.length,"
        " halving: c.options.plugins.halvingLine.month}; }"
    )
    assert cash_flow["label"] == "Bitmain Antminer S21 XP"
    assert cash_flow["points"] == 37  # the purchase at month 0, then 36 months
    assert 20 < cash_flow["halving"] < 30  # 125,000 blocks to 1,050,000: about two years
    assert page.locator("#calculator-market-used").inner_text().startswith("Market values used")

    page.locator("#electricity_usd_per_kwh").fill("0.09")
    page.wait_for_function(
        f"() => Number(document.querySelector('[data-result=profit_usd_per_day]')"
        f".getAttribute('data-value')) < {cheap}"
    )
    dear = figure(page, "profit_usd_per_day")
    assert dear == pytest.approx(revenue - 3.645 * 24 * 0.09, rel=1e-9)
    wait_for_figures(page)
    screenshot(page, "calculator-en")
    assert "electricity_usd_per_kwh=0.09" in page.url
    shared = page.url

    other = page.context.new_page()
    other.goto(shared)
    assert other.locator("#electricity_usd_per_kwh").input_value() == "0.09"
    assert other.locator("#model option:checked").inner_text().startswith("Bitmain Antminer S21 XP")
    other.wait_for_function("() => document.querySelector('[data-result=payback_months]')"
                            ".hasAttribute('data-value')")  # fmt: skip
    assert figure(other, "profit_usd_per_day") == pytest.approx(dear, rel=1e-9)
    assert page.problems == []


def test_chinese_page_renders_with_figures(page, live_server, market_and_catalogue):
    page.context.add_cookies([{"name": "_LOCALE_", "value": "zh", "url": live_server}])
    page.goto(f"{live_server}/calculator/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", name="收益计算器").is_visible()
    assert page.get_by_text("电价", exact=True).is_visible()
    wait_for_figures(page)
    assert figure(page, "btc_per_day") > 0
    screenshot(page, "calculator-zh")
    assert page.problems == []


def test_batch_grid_runs_and_shows_the_table(page, live_server, market_and_catalogue):
    page.goto(f"{live_server}/calculator/batch/")
    page.locator("#batch-model-search").fill("S21 XP")
    page.get_by_label("Bitmain Antminer S21 XP", exact=False).first.check()
    page.locator("#batch-prices").fill("80000, 120000")
    page.locator("#batch-rates").fill("0.05")
    page.get_by_test_id("batch-run").click()
    page.wait_for_selector("#batch-table tbody tr")
    assert page.locator("#batch-table tbody tr").count() == 2  # 1 model x 2 prices x 1 rate
    assert page.locator("#batch-count").inner_text() == "2 scenarios"
    with page.expect_download() as download:
        page.locator('[data-download="csv"]').click()
    assert download.value.suggested_filename == "hashinsight-batch.csv"
    assert page.problems == []
