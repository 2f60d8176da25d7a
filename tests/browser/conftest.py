"""The console in a real browser: Playwright driving Debian's chromium (never a downloaded one).

``make test`` installs chromium with apt; without it these tests are skipped with the reason, unless
``CARBON_TEST_REQUIRE_BROWSER=1`` (CI) turns the skip into a failure. Screenshots go to
``test-artifacts/screenshots``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM
from tests.serving import served

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def chromium(playwright_api):
    browser = playwright_api.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield browser
    browser.close()


@pytest.fixture
def site(app):
    """The app served over HTTP for the browser: its base URL."""
    with served(app) as (host, port):
        yield f"http://{host}:{port}"


@pytest.fixture
def page(chromium, request):
    """A fresh browser context (cookies of its own) at a laptop size; a screenshot is kept at the end."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    try:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    finally:
        context.close()


def log_in(page, site: str, username: str, password: str) -> None:
    page.goto(f"{site}/admin/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/(dashboard|bank)?$"))  # bank staff start at their enterprises
