import pytest

from tests.browser.conftest import choose_language, screenshot

pytestmark = pytest.mark.browser


def test_home_page_in_english_and_chinese_loads_cleanly(page, live_server):
    page.goto(f"{live_server}/")
    assert page.locator('[data-route="core.home"]').count() == 1
    assert (
        page.locator("body").evaluate("e => getComputedStyle(e).backgroundColor")
        == "rgb(26, 29, 46)"
    )
    assert page.title().endswith("HashInsight")
    path = screenshot(page, "home-en")
    assert path.stat().st_size > 10_000

    # Switch language the way a person does: open the menu, pick 中文.
    choose_language(page, "中文")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_text("欢迎使用").is_visible()
    screenshot(page, "home-zh")

    page.reload()
    assert page.locator("html").get_attribute("lang") == "zh-CN"  # the choice sticks
    assert page.problems == []


def test_login_page_and_api_docs_load_without_errors(page, live_server):
    page.goto(f"{live_server}/login/")
    assert page.locator("input[name=email]").is_visible()
    page.goto(f"{live_server}/docs/api/")
    page.wait_for_selector(".swagger-ui .info", timeout=15_000)
    screenshot(page, "api-docs")
    assert page.problems == []
