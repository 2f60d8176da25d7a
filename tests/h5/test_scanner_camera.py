"""The scanner's camera path for real: the voucher's own QR PNG, as the resident's phone shows it, becomes a Y4M
video that chromium plays as its camera (`--use-file-for-fake-video-capture`); the page must read it with the
decoder from our static files and consume the voucher exactly once. Plus the two keyboard paths: a typed short
code, and a scanner gun that types the payload and Enter into the focused field."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.conftest import CHROMIUM
from tests.h5.conftest import PHONE_UA, QUIET, SIZES, screenshot
from tests.h5.test_merchant import (
    issue_voucher,
    make_shop,
    open_scanner,
    result_kind,
    staff_refresh_token,
    voucher_state,
)
from tests.mobile_api.helpers import bearer, tokens

pytestmark = pytest.mark.browser
WIDTH, HEIGHT, FRAMES = 640, 480, 20


def voucher_qr_png(app, issued) -> bytes:
    """The PNG the resident's voucher page shows, fetched with the resident's own token."""
    client = app.test_client()
    headers = bearer(tokens(client, app, issued.resident_phone.removeprefix("+86")))
    with client.get(f"/api/v1/me/vouchers/{issued.voucher_id}/qr.png", headers=headers) as response:
        assert response.status_code == 200 and response.mimetype == "image/png"
        return response.data


def y4m_from_png(png: bytes, path) -> None:
    """A still video of the image, centred on white at 640 × 480, as YUV4MPEG2 with 4:2:0 chroma."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.thumbnail((WIDTH - 40, HEIGHT - 40))  # a margin: the quiet zone a camera would see around a phone
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    canvas.paste(image, ((WIDTH - image.width) // 2, (HEIGHT - image.height) // 2))
    y, cb, cr = canvas.convert("YCbCr").split()
    half = (WIDTH // 2, HEIGHT // 2)
    frame = b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    path.write_bytes(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * FRAMES)


@pytest.fixture
def camera_browser(playwright_api, h5_built, tmp_path):
    """A chromium of its own whose camera plays `camera.y4m` (written by the test before the page opens it)."""
    video = tmp_path / "camera.y4m"
    video.write_bytes(b"")
    browser = playwright_api.chromium.launch(executable_path=CHROMIUM, args=[
        *QUIET, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    yield browser, video
    browser.close()


def test_the_camera_reads_the_vouchers_own_qr_and_consumes_it_once(camera_browser, site, app):
    browser, video = camera_browser
    shop = make_shop(app)
    issued = issue_voucher(app, shop.merchant_id, name_zh="泰山绿茶一杯", name_en="A cup of Mount Tai green tea")
    y4m_from_png(voucher_qr_png(app, issued), video)

    context = browser.new_context(
        viewport=SIZES["390x844"], device_scale_factor=2, is_mobile=True, has_touch=True, user_agent=PHONE_UA,
        locale="zh-CN", timezone_id="Asia/Shanghai", service_workers="block", permissions=["camera"])
    try:
        context.set_default_timeout(20_000)
        context.add_init_script(
            f"window.localStorage.setItem('carbon.h5.merchant.refresh', {staff_refresh_token(app, shop)!r})")
        outside = []
        context.on("request", lambda request: None if request.url.startswith(site) else outside.append(request.url))
        page = context.new_page()
        page.goto(f"{site}/h5/merchant")

        page.get_by_role("button", name="打开摄像头扫码").click()
        assert result_kind(page) == "valid"  # read from the video, verified: nothing consumed yet
        page.get_by_text("泰山绿茶一杯").wait_for()
        assert page.locator("video").count() == 0  # the camera is released while a result is shown
        assert voucher_state(app, issued.voucher_id)[2] == 0
        screenshot(page, "merchant-camera-valid-zh-390x844")

        page.get_by_role("button", name="确认核销").click()
        page.get_by_text("核销成功").wait_for()
        status, consumed_by, consumptions = voucher_state(app, issued.voucher_id)
        assert (status.value, consumed_by, consumptions) == ("consumed", shop.staff_id, 1)

        # "Scan next" resumes the camera, which still sees the same code: it reads as already used.
        page.get_by_role("button", name="扫下一张").click()
        page.locator("section.result[data-kind=already_used]").wait_for()
        page.get_by_text("这张券已经用过了").wait_for()
        assert page.get_by_role("button", name="确认核销").count() == 0
        assert voucher_state(app, issued.voucher_id)[2] == 1  # exactly once
        assert outside == []  # the decoder came from our own static files
    finally:
        context.close()


def test_a_scanner_gun_types_the_payload_and_enter_into_the_focused_field(phone, app):
    shop = make_shop(app)
    issued = issue_voucher(app, shop.merchant_id)
    page = open_scanner(phone, app, shop, size="360x640", lang="en")
    assert page.evaluate("document.activeElement.id") == "voucher-code"
    page.keyboard.type(issued.code)  # no tap: the gun types into whatever has the focus
    page.keyboard.press("Enter")
    assert result_kind(page) == "valid"
    page.get_by_text("A low-carbon coffee").wait_for()
    page.get_by_role("button", name="Confirm and use").click()
    page.locator("section.result[data-kind=consumed]").wait_for()
    assert voucher_state(app, issued.voucher_id)[1:] == (shop.staff_id, 1)

    page.get_by_role("button", name="Scan next").click()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'voucher-code'")
    page.keyboard.type(issued.code)
    page.keyboard.press("Enter")
    assert result_kind(page) == "already_used"
    assert voucher_state(app, issued.voucher_id)[2] == 1


def test_a_typed_short_code_with_a_dash_and_spaces_is_read(phone, app):
    shop = make_shop(app)
    issued = issue_voucher(app, shop.merchant_id)
    page = open_scanner(phone, app, shop)
    typed = f"{issued.short_code[:4]}-{issued.short_code[4:]} "
    page.locator("#voucher-code").fill(typed)
    page.get_by_role("button", name="查询").click()
    assert result_kind(page) == "valid"
    assert re.search(r"¥15\.00", page.locator("section.result").inner_text())
