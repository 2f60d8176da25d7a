"""The mall in a real phone: filters, a reward's page, redeeming through the confirmation sheet exactly once (a
double tap, a retry after a dropped answer), each refusal in words, my vouchers, one voucher's QR code and short
code, and cancelling it with the refund shown. Every page photographed in both languages at both sizes."""

from __future__ import annotations

import base64
import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from carbon_platform.db import commit, db
from carbon_platform.models import CarbonAccount, Merchant, Resident, Voucher, VoucherStatus
from carbon_platform.services import rewards, vouchers
from tests import factories as f
from tests.h5.conftest import logged_in_refresh_token, screenshot

pytestmark = pytest.mark.browser

ZH = "zh-CN"
EN = "en-US"
VOUCHER_URL = re.compile(r".*/h5/vouchers/(\d+)$")
MERCHANT_WORDS = ("岱宗茶馆", "泰城单车行", "泰山区东岳大街 18 号", "泰山区灵山大街 6 号")


def _png(color=(60, 140, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), color).save(out, format="PNG")
    return out.getvalue()


def _mall(app, *, points: int = 1000):
    """A resident of 泰山区 with `points`, and two merchants' rewards: a cheap tea (with a picture) and a dear
    bicycle service, plus one for 岱岳区 only."""
    with app.app_context():
        resident = f.resident(district_code="370902", display_name="泰山挑山工")
        f.fund(resident.account_id, points)
        tea_house = f.merchant(name="岱宗茶馆", address="泰山区东岳大街 18 号")
        bikes = f.merchant(name="泰城单车行", address="泰山区灵山大街 6 号")
        tea = f.reward(tea_house, name_zh="绿茶一壶", name_en="A pot of green tea", points_price=300, stock=5,
                       description_zh="自带杯再减一元。", description_en="Bring your own cup for ¥1 off.",
                       limit_count=2, limit_period="month", voucher_days=14)
        rewards.set_picture(tea, _png(), actor=f.TEST_ACTOR)
        service = f.reward(bikes, name_zh="单车保养一次", name_en="A bicycle service", points_price=5000, stock=3)
        daiyue = f.reward(bikes, name_zh="岱岳区专享骑行券", name_en="Daiyue riders' voucher", points_price=100,
                          stock=3, districts=["370911"])
        commit()
        ids = {"resident": resident.id, "account": resident.account_id, "phone": resident.phone, "tea": tea.id,
               "service": service.id, "daiyue": daiyue.id, "tea_house": tea_house.id, "bikes": bikes.id}
    ids["token"] = logged_in_refresh_token(app, ids["phone"])
    return ids


def _available(app, account_id: int) -> int:
    with app.app_context():
        return db.session.get(CarbonAccount, account_id).points_available


def _vouchers(app, account_id: int) -> list[Voucher]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Voucher).where(Voucher.account_id == account_id)).all()
        db.session.expunge_all()
        return rows


def _cards(page) -> list[str]:
    page.locator(".reward-card").first.wait_for()
    return page.locator(".reward-card .name").all_inner_texts()


def _pick(page, menu_index: int, option: str):
    page.locator(".van-dropdown-menu__item").nth(menu_index).click()
    page.locator(".van-dropdown-item__option:visible", has_text=option).click()


def test_filter_then_redeem_once_through_the_sheet(app, phone, site):
    mall = _mall(app)
    page = phone.open(refresh_token=mall["token"])
    page.goto(f"{site}/h5/mall")
    page.get_by_text("1,000").first.wait_for()
    assert set(_cards(page)) == {"绿茶一壶", "单车保养一次", "岱岳区专享骑行券"}
    page.locator(".reward-card img").first.wait_for()  # the tea's picture, fetched with the token

    _pick(page, 1, "泰城单车行")
    page.wait_for_url(re.compile(rf".*merchant={mall['bikes']}"))
    page.wait_for_function("() => ![...document.querySelectorAll('.reward-card .name')]"
                           ".some(n => n.textContent.includes('绿茶'))")
    assert set(_cards(page)) == {"单车保养一次", "岱岳区专享骑行券"}
    page.get_by_role("button", name="我能兑换").click()
    page.wait_for_url(re.compile(r".*affordable=1"))
    page.wait_for_function("() => document.querySelectorAll('.reward-card').length === 1")
    assert _cards(page) == ["岱岳区专享骑行券"]
    _pick(page, 1, "全部商户")
    page.wait_for_function("() => document.querySelectorAll('.reward-card').length === 2")
    assert set(_cards(page)) == {"绿茶一壶", "岱岳区专享骑行券"}  # the 5,000-point service is out of reach

    page.locator(".reward-card", has_text="绿茶一壶").click()
    page.locator(".reward h1", has_text="绿茶一壶").wait_for()
    body = page.locator("body")
    for words in ("自带杯再减一元。", "每人每月限兑 2 次", "兑换后 14 天内有效", "岱宗茶馆", "剩余 5 件"):
        assert words in body.inner_text(), words
    page.get_by_role("button", name="兑换", exact=True).click()
    sheet = page.locator("[data-test=redeem-sheet]")
    sheet.wait_for()
    assert sheet.locator("[data-test=before]").inner_text() == "1,000"
    assert sheet.locator("[data-test=after]").inner_text() == "700"
    keys = []
    page.on("request", lambda r: keys.append(r.headers.get("idempotency-key"))
            if r.method == "POST" and r.url.endswith("/redemptions") else None)
    sheet.locator("[data-test=confirm-redeem]").dblclick()  # an impatient double tap
    page.wait_for_url(VOUCHER_URL)
    page.locator("[data-test=short-code]").wait_for()

    issued = _vouchers(app, mall["account"])
    assert len(issued) == 1 and issued[0].reward_id == mall["tea"] and issued[0].points == 300
    assert _available(app, mall["account"]) == 700
    assert keys and len(set(keys)) == 1 and all(keys)
    assert page.url.endswith(f"/vouchers/{issued[0].id}")


def test_a_retry_after_a_lost_answer_reuses_the_key(app, phone, site):
    mall = _mall(app)
    page = phone.open(size="360x640", refresh_token=mall["token"])
    keys = []

    def lose_first_answer(route):
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()  # the server redeems ...
            route.abort("connectionreset")  # ... and the answer never reaches the phone
        else:
            route.continue_()

    page.route(re.compile(r".*/api/v1/rewards/\d+/redemptions$"), lose_first_answer)
    page.goto(f"{site}/h5/mall/{mall['tea']}")
    page.get_by_role("button", name="兑换", exact=True).click()
    page.locator("[data-test=confirm-redeem]").click()
    page.get_by_text("网络连接失败").wait_for()
    assert len(_vouchers(app, mall["account"])) == 1  # it did happen on the server
    page.locator(".van-dialog__confirm").click()
    page.get_by_role("button", name="兑换", exact=True).click()
    page.locator("[data-test=confirm-redeem]").click()
    page.wait_for_url(VOUCHER_URL)

    assert len(keys) == 2 and keys[0] == keys[1] and keys[0]
    issued = _vouchers(app, mall["account"])
    assert len(issued) == 1
    assert _available(app, mall["account"]) == 700
    assert page.url.endswith(f"/vouchers/{issued[0].id}")


def _refusal(page) -> str:
    page.locator(".van-dialog__message").wait_for()
    text = page.locator(".van-dialog__message").inner_text()
    page.locator(".van-dialog__confirm").click()
    return text


def test_each_refusal_in_words(app, phone, site):
    mall = _mall(app, points=500)
    page = phone.open(refresh_token=mall["token"])

    # Another district's reward: 403 not_eligible.
    page.goto(f"{site}/h5/mall/{mall['daiyue']}")
    page.get_by_role("button", name="兑换", exact=True).click()
    page.locator("[data-test=confirm-redeem]").click()
    assert _refusal(page) == "这是其他区县的奖励，您所在区县不能兑换。"

    # Out of stock: the last unit goes to someone else while the sheet is open.
    with app.app_context():
        last = f.reward(f.merchant(name="泰山书屋"), name_zh="最后一本书", name_en="The last book", points_price=100,
                        stock=1)
        commit()
        last_id = last.id
    page.goto(f"{site}/h5/mall/{last_id}")
    page.get_by_role("button", name="兑换", exact=True).click()
    page.locator("[data-test=confirm-redeem]").wait_for()
    with app.app_context():
        other = f.resident(district_code="370902")
        f.fund(other.account_id, 500)
        vouchers.redeem(other, last_id, client_key="someone-else")
        commit()
    page.locator("[data-test=confirm-redeem]").click()
    assert _refusal(page) == "已兑完，库存不足。"
    page.get_by_role("button", name="已兑完").wait_for()  # the page reloaded the reward

    # Not enough points: the balance is spent elsewhere while the sheet is open (the API refuses) ...
    page.goto(f"{site}/h5/mall/{mall['tea']}")
    page.get_by_role("button", name="兑换", exact=True).click()
    page.locator("[data-test=after]", has_text="200").wait_for()
    with app.app_context():
        me = db.session.get(Resident, mall["resident"])
        with_the_rest = f.reward(f.merchant(name="泰山书屋二店"), points_price=400, stock=1)
        vouchers.redeem(me, with_the_rest.id, client_key="spent-elsewhere")
        commit()
        rest_id = with_the_rest.id
    page.locator("[data-test=confirm-redeem]").click()
    assert _refusal(page) == "可用积分不足。"
    # ... and the sheet, opened again, says so before asking.
    page.get_by_role("button", name="兑换", exact=True).click()
    page.locator("[data-test=after]", has_text="-200").wait_for()
    assert page.locator("[data-test=redeem-sheet]").get_by_text("可用积分不足。").is_visible()
    assert page.locator("[data-test=confirm-redeem]").is_disabled()

    assert [v.reward_id for v in _vouchers(app, mall["account"])] == [rest_id]
    assert _available(app, mall["account"]) == 100

    # The same phone switched to English (the setting the language switch stores).
    english = page
    english.evaluate("() => localStorage.setItem('carbon.h5.lang', 'en')")
    english.set_viewport_size({"width": 360, "height": 640})
    english.goto(f"{site}/h5/mall/{mall['daiyue']}")
    english.get_by_role("button", name="Redeem", exact=True).click()
    english.locator("[data-test=confirm-redeem]").click()
    assert _refusal(english) == "This reward is for another district; residents of yours cannot redeem it."


def test_voucher_shows_its_qr_and_code_then_cancels_with_the_refund(app, phone, site):
    mall = _mall(app)
    with app.app_context():
        me = db.session.get(Resident, mall["resident"])
        tea_house = db.session.get(Merchant, mall["tea_house"])
        quick = f.reward(tea_house, name_zh="限时绿茶", name_en="Green tea, this week", points_price=300, stock=2,
                         voucher_days=3)
        voucher = vouchers.redeem(me, quick.id, client_key="tea-for-two").voucher
        commit()
        voucher_id, short_code = voucher.id, vouchers.short_code_of(voucher.id, voucher.nonce)
    assert _available(app, mall["account"]) == 700
    page = phone.open(refresh_token=mall["token"])
    page.goto(f"{site}/h5/vouchers")
    page.locator(f"[data-voucher-id='{voucher_id}']").click()
    page.wait_for_url(re.compile(rf".*/h5/vouchers/{voucher_id}$"))

    qr = page.locator("img.qr")
    qr.wait_for()
    assert qr.get_attribute("src").startswith("blob:")
    data = page.evaluate("""async (src) => {
        const bytes = new Uint8Array(await (await fetch(src)).arrayBuffer())
        let text = ''; for (const b of bytes) text += String.fromCharCode(b)
        return btoa(text) }""", qr.get_attribute("src"))
    png = base64.b64decode(data)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.width >= 200 and image.height >= 200
    code_text = page.locator("[data-test=short-code]").inner_text()
    assert code_text.replace(" ", "") == short_code
    text = page.locator("body").inner_text()
    for words in ("调高屏幕亮度", "岱宗茶馆", "泰山区东岳大街 18 号", "有效期至", "3 天后到期"):
        assert words in text, words

    page.get_by_role("button", name="取消兑换").click()
    page.locator(".van-dialog__message", has_text="300 积分将退回").wait_for()
    page.get_by_role("button", name="确认取消").click()
    page.locator("[data-test=refund]", has_text="已取消，退回 300 积分").wait_for()
    assert page.locator("img.qr").count() == 0
    assert page.locator("[data-test=short-code]").count() == 0
    with app.app_context():
        cancelled = db.session.get(Voucher, voucher_id)
        assert cancelled.status is VoucherStatus.CANCELLED and cancelled.refunded_points == 300
    assert _available(app, mall["account"]) == 1000

    page.goto(f"{site}/h5/vouchers?status=cancelled")
    page.locator(f"[data-voucher-id='{voucher_id}']", has_text="已取消").wait_for()


@pytest.mark.parametrize("locale", [ZH, EN])
def test_screenshots_of_every_mall_page(app, phone, site, locale):
    mall = _mall(app)
    with app.app_context():
        me = db.session.get(Resident, mall["resident"])
        used = vouchers.redeem(me, mall["tea"], client_key="shot-1").voucher
        open_one = vouchers.redeem(me, mall["tea"], client_key="shot-2").voucher
        commit()
        used_id, open_id = used.id, open_one.id
        vouchers.cancel(used, reason="for the screenshot")
        commit()
    short = "zh" if locale == ZH else "en"

    def shoot(page, name):
        screenshot(page, f"{name}-{short}-{size}")
        text = page.locator("body").inner_text()
        assert not re.search(r"\b(mall|common)\.[a-zA-Z]", text), name  # an untranslated key
        if locale == EN:  # merchants have one name, in Chinese; everything else is English
            for name_or_address in MERCHANT_WORDS:
                text = text.replace(name_or_address, "")
            assert not re.search(r"[\u4e00-\u9fff]", text), (name, text)

    page = phone.open(locale=locale, refresh_token=mall["token"])
    for size in ("390x844", "360x640"):
        width, height = size.split("x")
        page.set_viewport_size({"width": int(width), "height": int(height)})
        page.goto(f"{site}/h5/mall")
        page.locator(".reward-card img").first.wait_for()
        shoot(page, "mall")
        page.goto(f"{site}/h5/mall/{mall['tea']}")
        page.locator(".reward .name").wait_for()
        shoot(page, "reward")
        page.get_by_role("button", name="兑换" if locale == ZH else "Redeem", exact=True).click()
        page.locator("[data-test=redeem-sheet]").wait_for()
        page.wait_for_timeout(400)  # the sheet's slide-in, for the picture only
        shoot(page, "reward-sheet")
        page.goto(f"{site}/h5/vouchers")
        page.locator(f"[data-voucher-id='{open_id}']").wait_for()
        shoot(page, "vouchers")
        page.goto(f"{site}/h5/vouchers/{open_id}")
        page.locator("img.qr").wait_for()
        shoot(page, "voucher")
        page.goto(f"{site}/h5/vouchers/{used_id}")
        page.locator("[data-test=voucher-gone]").wait_for()
        shoot(page, "voucher-cancelled")
