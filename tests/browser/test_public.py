"""The public page in Debian's chromium at a phone's size and a desk's, in both languages: the app button is on
the first screen, nothing scrolls sideways, every request stays on this server, and the language switch works.
Screenshots go to ``test-artifacts/screenshots/public/`` (``CARBON_TEST_PUBLIC_SHOTS`` to put them elsewhere)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.carbon_platform.test_public import build_city
from tests.h5.conftest import PHONE_UA

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("CARBON_TEST_PUBLIC_SHOTS") or SCREENSHOTS / "public")
SIZES = {
    "phone": dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True,
                  user_agent=PHONE_UA),
    "desktop": dict(viewport={"width": 1366, "height": 900}),
}


@pytest.mark.parametrize("size", list(SIZES))
def test_the_public_page_at_phone_and_desktop_size_in_both_languages(app, chromium, site, size):
    build_city(app, riders=12, walkers=9)
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **SIZES[size])
    elsewhere = []
    context.on("request", lambda r: None if r.url.startswith(site) else elsewhere.append(r.url))
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{site}/")
        assert page.url == f"{site}/"  # a phone stays here: no redirect to /h5/
        button = page.get_by_role("link", name="打开碳惠泰安 App")
        box = button.bounding_box()
        assert box and box["y"] + box["height"] <= SIZES[size]["viewport"]["height"], "the app button is below the fold"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.locator("[data-figure=participants] .value").inner_text() == "21"
        assert page.locator("tr[data-key=walking] .suppressed").count() == 4
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{size}-zh.png"), full_page=True)
        page.screenshot(path=str(SHOTS / f"{size}-zh-first-screen.png"))

        page.get_by_role("link", name="English").click()
        page.get_by_role("heading", name="City figures").wait_for()
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(SHOTS / f"{size}-en.png"), full_page=True)
        page.screenshot(path=str(SHOTS / f"{size}-en-first-screen.png"))

        page.get_by_role("link", name="Open the Carbon Inclusion Tai'an app").click()
        page.wait_for_url(f"{site}/h5/**")
    finally:
        context.close()
    assert elsewhere == []  # no CDN, no remote font


@pytest.mark.parametrize("size", list(SIZES))
def test_a_statements_check_page_says_genuine_and_current_and_refuses_an_unknown_serial(app, chromium, site, size):
    from carbon_platform.db import commit
    from carbon_platform.extensions import db
    from carbon_platform.models import Enterprise
    from carbon_platform.services import audit, statements
    from tests.mobile_api.test_statements import our_works

    enterprise_id, _phone = our_works(app, months=range(1, 4), output=None)
    with app.app_context():
        statement = statements.issue(db.session.get(Enterprise, enterprise_id), period_from="2025-01",
                                     period_to="2025-03", actor=audit.SYSTEM)
        serial, digest = statement.serial, statement.digest
        commit()
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **SIZES[size])
    elsewhere = []
    context.on("request", lambda r: None if r.url.startswith(site) else elsewhere.append(r.url))
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{site}/statements/{serial}")  # what the PDF's QR code opens
        assert "真实有效" in page.get_by_role("status").inner_text()
        assert digest in page.locator("dl.facts").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"statement-{size}-zh.png"), full_page=True)
        page.get_by_role("link", name="English").click()
        assert "Genuine" in page.get_by_role("status").inner_text()
        page.screenshot(path=str(SHOTS / f"statement-{size}-en.png"), full_page=True)
        page.get_by_label("Statement serial").fill("CS2025-NOTISSUED0000")
        page.get_by_role("button", name="Check").click()
        assert "No statement has this serial" in page.get_by_role("status").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        context.close()
    assert elsewhere == []
