"""Low-carbon scene check-ins in the browser: the merchant's page shows the scene's rotating QR code, and a resident's
phone reads that very code (the QR as the merchant's screen draws it, played as chromium's fake camera) and shows
the credit."""

from __future__ import annotations

import re

import pytest

from carbon_platform.db import commit
from carbon_platform.models import Audience, Merchant, MerchantCheckin
from carbon_platform.services import auth, checkins
from tests import factories as f
from tests.conftest import CHROMIUM  # noqa: F401 - the camera fixture's browser
from tests.h5.conftest import PHONE_UA, SIZES, screenshot
from tests.h5.test_merchant import make_shop, staff_refresh_token
from tests.h5.test_scanner_camera import camera_browser, y4m_from_png  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser


def offering_shop(app):
    shop = make_shop(app, name="泰山光盘餐厅")
    with app.app_context():
        from carbon_platform.extensions import db

        checkins.set_scenarios(db.session.get(Merchant, shop.merchant_id), ["clean_plate", "own_bag"],
                               actor=f.TEST_ACTOR)
        commit()
    return shop


def test_the_merchant_shows_a_scene_code_and_a_resident_scans_it_with_the_camera(phone, camera_browser, site,  # noqa: F811
                                                                                 app):
    shop = offering_shop(app)
    page = phone.open(audience="merchant", refresh_token=staff_refresh_token(app, shop))
    page.goto(f"{site}/h5/merchant/scenes")
    page.get_by_text("光盘行动").click()
    qr = page.get_by_role("img", name="光盘行动打卡二维码")
    qr.wait_for()
    shown = page.locator("[data-checkin-code] figcaption").inner_text().strip()
    assert re.fullmatch(rf"TACK1\.{shop.merchant_id}\.clean_plate\.\d+\.[A-Za-z0-9_-]{{22}}", shown), shown
    screenshot(page, "merchant-checkin-code-zh-390x844")
    browser, video = camera_browser
    y4m_from_png(qr.screenshot(), video)  # what the merchant's screen shows, as the resident's camera sees it

    with app.app_context():
        resident = f.resident()
        refresh = auth.issue_tokens(Audience.RESIDENT, resident.id).refresh_token
        resident_id = resident.id
        commit()
    context = browser.new_context(
        viewport=SIZES["390x844"], device_scale_factor=2, is_mobile=True, has_touch=True, user_agent=PHONE_UA,
        locale="zh-CN", timezone_id="Asia/Shanghai", service_workers="block", permissions=["camera"])
    try:
        context.set_default_timeout(20_000)
        context.add_init_script(f"window.localStorage.setItem('carbon.h5.resident.refresh', {refresh!r})")
        scanner = context.new_page()
        scanner.goto(f"{site}/h5/checkin")
        scanner.get_by_role("button", name="打开摄像头扫码").click()
        scanner.locator("[data-outcome=credited]").wait_for()
        text = scanner.locator("[data-outcome=credited]").inner_text()
        assert re.search(r"打卡成功，获得 \d+ 积分", text) and "光盘行动 · 泰山光盘餐厅" in text, text
        screenshot(scanner, "resident-checkin-credited-zh-390x844")
        with app.app_context():
            from carbon_platform.extensions import db

            rows = db.session.query(MerchantCheckin).filter_by(resident_id=resident_id).all()
            assert [(r.merchant_id, r.scenario) for r in rows] == [(shop.merchant_id, "clean_plate")]

        # scanning the same scene again the same day: a clear refusal, nothing more written
        scanner.get_by_role("button", name="再扫一次").click()
        scanner.locator("[data-outcome=failed]").wait_for()
        assert "今天已经在这家商户打过这个场景的卡了" in scanner.locator("[data-outcome=failed]").inner_text()
    finally:
        context.close()

    page.get_by_role("button", name="返回场景列表").click()
    page.locator("[data-count=clean_plate]").wait_for()
    assert "光盘行动：1 人次（计分 1）" in page.locator("[data-count=clean_plate]").inner_text()
