"""A real browser: Debian's chromium driven by Playwright against the app served by waitress.

Outside CI these tests skip (with the install command) when chromium is absent; in CI they
fail instead, because `.ci/run` installs it.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from tests.conftest import base_settings, unavailable

CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(os.environ.get("HASHINSIGHT_TEST_OUTPUT", "test-output"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live_server(db_url):
    """The whole app (every shipped plugin) on a free local port, for the session."""
    from waitress.server import create_server

    from hashinsight_core import make_config

    app = make_config(base_settings(db_url), environ={}).make_wsgi_app()
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in this
# thread while it is open, and other tests on the same worker call asyncio.run().
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        unavailable("chromium", "install it with: sudo apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors and failed requests."""
    # A phone first; reduced motion turns off Bootstrap's transitions, so a click never lands on
    # a menu that is still sliding open.
    context = browser.new_context(viewport={"width": 390, "height": 844}, reduced_motion="reduce")
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    # A request the browser itself cancels because the test moved on to the next address
    # (net::ERR_ABORTED, e.g. a favicon still loading) is not a failure of the app.
    page.on(
        "requestfailed",
        lambda r: (
            "ERR_ABORTED" not in (r.failure or "")
            and page.problems.append(f"failed: {r.url} {r.failure}")
        ),
    )
    page.on("response", lambda r: r.status >= 400 and page.problems.append(f"{r.status}: {r.url}"))
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def choose_language(page, name: str) -> None:
    """Switch language the way a person does on a phone: open the header menu, then the
    language menu, and pick `name` once it is shown."""
    page.locator(".navbar-toggler").click()
    page.locator(".navbar-collapse.show").wait_for()  # the menu has finished opening
    page.get_by_test_id("language-menu").click()
    link = page.get_by_role("link", name=name)
    link.wait_for(state="visible")
    with page.expect_navigation():
        link.click()
    page.wait_for_load_state("networkidle")
