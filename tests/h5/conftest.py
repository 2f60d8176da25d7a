"""The H5 client in a real phone-sized browser: Debian's chromium through Playwright, the real server, the real
database. The client is the built one (``make h5`` builds ``h5/dist``; ``make test`` does it first).

Phones are emulated with touch, a mobile user agent and the two sizes the issue names (390 × 844 and
360 × 640). Screenshots go to ``test-artifacts/screenshots/h5/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from carbon_platform.h5 import DEFAULT_DIST
from tests.conftest import CHROMIUM, require_browser
from tests.mobile_api.helpers import tokens
from tests.serving import served

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots" / "h5"
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/156.0.0.0 Mobile Safari/537.36")
SIZES = {"390x844": {"width": 390, "height": 844}, "360x640": {"width": 360, "height": 640}}
#: Flags every phone browser here starts with: no background calls to Google on this closed network.
QUIET = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--disable-quic"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def h5_built():
    if not (DEFAULT_DIST / "index.html").is_file():
        require_browser(f"the H5 client is not built at {DEFAULT_DIST} (make h5)")
    return DEFAULT_DIST


@pytest.fixture(scope="session")
def phone_browser(playwright_api, h5_built):
    browser = playwright_api.chromium.launch(executable_path=CHROMIUM, args=QUIET)
    yield browser
    browser.close()


@pytest.fixture
def site(app, h5_built):
    """The app over real HTTP; its base URL."""
    with served(app) as (host, port):
        yield f"http://{host}:{port}"


class Phone:
    """Opens phone-sized browser contexts and closes them at the end of the test."""

    def __init__(self, browser, site: str):
        self.browser = browser
        self.site = site
        self.contexts = []

    def open(self, *, size: str = "390x844", locale: str = "zh-CN", refresh_token: str | None = None,
             audience: str = "resident", **options):
        """A new phone (own storage). With `refresh_token`, it starts logged in as that resident (or staff
        member): the client finds the token where it keeps it and refreshes it, as after a restart."""
        context = self.browser.new_context(
            viewport=SIZES[size], device_scale_factor=2, is_mobile=True, has_touch=True, user_agent=PHONE_UA,
            locale=locale, timezone_id="Asia/Shanghai", service_workers="block", **options)
        context.set_default_timeout(15_000)
        if refresh_token:
            # Once per tab: refresh tokens rotate, so seeding the first one again on a later page.goto would
            # replay a used token (which revokes the session).
            context.add_init_script(
                "if (!window.sessionStorage.getItem('carbon.test.seeded')) {"
                f" window.localStorage.setItem('carbon.h5.{audience}.refresh', {refresh_token!r});"
                " window.sessionStorage.setItem('carbon.test.seeded', '1') }")
        self.contexts.append(context)
        page = context.new_page()
        return page

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def phone(phone_browser, site):
    opened = Phone(phone_browser, site)
    yield opened
    opened.close()


def logged_in_refresh_token(app, phone_number: str, *, staff: bool = False, **extra) -> str:
    """A refresh token from the real login endpoints (the code read from the in-memory SMS sender)."""
    prefix = "/api/v1/merchant/auth" if staff else "/api/v1/auth"
    return tokens(app.test_client(), app, phone_number, prefix=prefix, **extra)["refresh_token"]


def screenshot(page, name: str) -> Path:
    """Keep a screenshot of the whole page under test-artifacts/screenshots/h5/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^\w.-]+", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path
