"""The merchant staff pages in a phone-sized browser: login (with the merchant choice), the scanner's typed entry
and its result screens (valid, consumed, already used, another merchant's, expired, cancelled, unknown), Today."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Audience, AuditEvent, AuthToken, TokenKind, Voucher, VoucherStatus
from carbon_platform.services import auth, vouchers
from tests import factories as f
from tests.h5.conftest import SIZES, logged_in_refresh_token, screenshot
from tests.mobile_api.helpers import sms_code

pytestmark = pytest.mark.browser
LANGS = {"zh": "zh-CN", "en": "en-US"}


@dataclass(frozen=True)
class Issued:
    voucher_id: int
    code: str  # the QR payload
    short_code: str
    resident_phone: str


@dataclass(frozen=True)
class Shop:
    merchant_id: int
    staff_id: int
    staff_phone: str


def make_shop(app, name: str = "岱庙低碳书店", staff_phone: str | None = None) -> Shop:
    with app.app_context():
        shop = f.merchant(name=name)
        cashier = f.staff(shop, phone_number=staff_phone)
        made = Shop(shop.id, cashier.id, cashier.phone.removeprefix("+86"))
        commit()
    return made


def issue_voucher(app, merchant_id: int, *, name_zh: str = "低碳咖啡一杯", name_en: str = "A low-carbon coffee",
                  face_value_fen: int = 1500) -> Issued:
    """A resident with points redeems a reward of this merchant: an issued voucher, as the mall makes them."""
    with app.app_context():
        from carbon_platform.models import Merchant

        reward = f.reward(db.session.get(Merchant, merchant_id), name_zh=name_zh, name_en=name_en,
                          face_value_fen=face_value_fen)
        resident = f.resident()
        f.fund(resident.account_id, 1000)
        voucher = vouchers.redeem(resident, reward.id, client_key=f.key("redeem")).voucher
        issued = Issued(voucher.id, vouchers.code_of(voucher), vouchers.short_code_of(voucher.id, voucher.nonce),
                        resident.phone)
        commit()
    return issued


def voucher_state(app, voucher_id: int) -> tuple[VoucherStatus, int | None, int]:
    """Status, who consumed it, and how many consumptions the audit log holds for it."""
    with app.app_context():
        voucher = db.session.get(Voucher, voucher_id)
        consumptions = db.session.execute(
            sa.select(sa.func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "voucher.consume", AuditEvent.target_id == str(voucher_id))).scalar_one()
        return voucher.status, voucher.consumed_by_id, consumptions


def staff_refresh_token(app, shop: Shop) -> str:
    """A scanner's session as the staff login issues it (the SMS login itself is driven in the login test, and
    its per-phone send limit allows one code a minute, so the other tests start logged in)."""
    with app.app_context():
        pair = auth.issue_tokens(Audience.MERCHANT_STAFF, shop.staff_id)
        commit()
    return pair.refresh_token


def open_scanner(phone, app, shop: Shop, *, size: str = "390x844", lang: str = "zh", refresh_token: str | None = None):
    page = phone.open(size=size, locale=LANGS[lang], audience="merchant",
                      refresh_token=refresh_token or staff_refresh_token(app, shop))
    page.goto(f"{phone.site}/h5/merchant")
    page.get_by_label("券码" if lang == "zh" else "Voucher code").first.wait_for()
    return page


def type_code(page, code: str, lang: str = "zh"):
    field = page.locator("#voucher-code")
    field.fill(code)
    page.get_by_role("button", name="查询" if lang == "zh" else "Check").click()


def result_kind(page) -> str:
    section = page.locator("section.result")
    section.wait_for()
    return section.get_attribute("data-kind")


def test_staff_log_in_choosing_between_two_merchants_and_log_out(phone, site, app):
    staff_phone = f.phone()
    make_shop(app, "岱庙低碳书店", staff_phone)
    second = make_shop(app, "泰山绿色超市", staff_phone)
    for lang, size in ((lang, size) for lang in LANGS for size in SIZES):
        shot = phone.open(size=size, locale=LANGS[lang])
        shot.goto(f"{site}/h5/merchant/login")
        shot.get_by_role("button", name="获取验证码" if lang == "zh" else "Send code").wait_for()
        screenshot(shot, f"merchant-login-{lang}-{size}")

    page = phone.open(size="360x640")
    page.goto(f"{site}/h5/merchant")
    page.wait_for_url(re.compile(r".*/h5/merchant/login"))  # no token: the scanner sends staff to login
    page.get_by_label("手机号").fill(staff_phone)
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_text(re.compile(r"\d+ 秒后重发")).wait_for()  # the resend countdown
    page.get_by_label("验证码").fill(sms_code(app, staff_phone))
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_text("请选择本次登录的商户").wait_for()
    screenshot(page, "merchant-login-choice-zh-360x640")
    page.get_by_role("button", name="泰山绿色超市").click()
    page.wait_for_url(re.compile(r".*/h5/merchant$"))
    page.get_by_text("泰山绿色超市").wait_for()  # the staff bar names the shop logged in for
    with app.app_context():
        tokens = db.session.execute(sa.select(AuthToken).where(
            AuthToken.audience == Audience.MERCHANT_STAFF, AuthToken.kind == TokenKind.ACCESS,
            AuthToken.revoked_at.is_(None))).scalars().all()
        assert [t.subject_id for t in tokens] == [second.staff_id]

    page.get_by_role("button", name="退出登录").click()
    page.locator(".van-dialog").get_by_role("button", name="退出登录").click()
    page.wait_for_url(re.compile(r".*/h5/merchant/login"))
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(AuthToken).where(
            AuthToken.audience == Audience.MERCHANT_STAFF, AuthToken.revoked_at.is_(None))).scalar_one() == 0


def test_a_typed_short_code_is_verified_consumed_once_and_listed_under_today(phone, app):
    shop = make_shop(app)
    issued = issue_voucher(app, shop.merchant_id)
    page = open_scanner(phone, app, shop, refresh_token=logged_in_refresh_token(app, shop.staff_phone, staff=True))
    assert page.evaluate("document.activeElement.id") == "voucher-code"  # ready for a scanner gun
    type_code(page, issued.short_code.lower())  # typed in lower case: still the code
    assert result_kind(page) == "valid"
    page.get_by_text("低碳咖啡一杯").wait_for()
    page.get_by_text("¥15.00").wait_for()
    assert voucher_state(app, issued.voucher_id) == (VoucherStatus.ISSUED, None, 0)  # verifying wrote nothing
    screenshot(page, "merchant-result-valid-zh-390x844")
    page.get_by_role("button", name="确认核销").click()
    page.get_by_text("核销成功").wait_for()
    assert result_kind(page) == "consumed"
    screenshot(page, "merchant-result-consumed-zh-390x844")
    assert voucher_state(app, issued.voucher_id) == (VoucherStatus.CONSUMED, shop.staff_id, 1)

    page.get_by_role("button", name="扫下一张").click()
    type_code(page, issued.short_code)
    assert result_kind(page) == "already_used"
    page.get_by_text("这张券已经用过了").wait_for()
    used = page.locator("section.result").inner_text()
    assert "核销时间" in used and "核销门店" in used and "岱庙低碳书店" in used and "核销店员" in used
    screenshot(page, "merchant-result-already_used-zh-390x844")
    assert voucher_state(app, issued.voucher_id) == (VoucherStatus.CONSUMED, shop.staff_id, 1)

    page.locator(".van-tabbar-item", has_text="今日").click()
    page.wait_for_url(re.compile(r".*/h5/merchant/today"))
    row = page.locator("[data-test=consumption]")
    row.first.wait_for()
    assert row.count() == 1
    assert "低碳咖啡一杯" in row.inner_text() and "¥15.00" in row.inner_text()
    assert page.locator("[data-test=today-count]").inner_text() == "1"
    assert "¥15.00" in page.locator("[data-test=settlement]").inner_text()
    assert "市碳普惠基金" in page.locator("[data-test=settlement]").inner_text()


def test_refused_vouchers_each_have_their_own_screen(phone, app):
    shop = make_shop(app)
    elsewhere = make_shop(app, "泰山绿色超市")
    theirs = issue_voucher(app, elsewhere.merchant_id)
    expired = issue_voucher(app, shop.merchant_id)
    cancelled = issue_voucher(app, shop.merchant_id)
    with app.app_context():
        db.session.execute(sa.update(Voucher).where(Voucher.id == expired.voucher_id)
                           .values(expires_at=utcnow() - timedelta(minutes=1)))
        vouchers.cancel(db.session.get(Voucher, cancelled.voucher_id), reason="cancelled by the resident")
        commit()
    page = open_scanner(phone, app, shop, size="360x640", lang="en")
    for code, kind, words in ((theirs.code, "other_merchant", "Not this shop's voucher"),
                              (expired.short_code, "expired", "Expired"),
                              (cancelled.short_code, "cancelled", "Cancelled"),
                              ("ZZZZ2222", "invalid_voucher", "Code not recognised")):
        type_code(page, code, "en")
        assert result_kind(page) == kind
        page.get_by_role("heading", name=words).wait_for()
        assert page.get_by_role("button", name="Confirm and use").count() == 0  # nothing to consume here
        screenshot(page, f"merchant-result-{kind}-en-360x640")
        page.get_by_role("button", name="Scan next").click()
    with app.app_context():
        assert db.session.get(Voucher, theirs.voucher_id).status is VoucherStatus.ISSUED
        assert db.session.get(Voucher, expired.voucher_id).consumed_at is None


def test_screenshots_of_the_scanner_and_today_in_both_languages_and_sizes(phone, app):
    shop = make_shop(app)
    issued = issue_voucher(app, shop.merchant_id)
    with app.app_context():
        from carbon_platform.models import MerchantStaff

        vouchers.consume(db.session.get(MerchantStaff, shop.staff_id), issued.code, "screenshot-nonce")
        commit()
    for lang in LANGS:
        for size in SIZES:
            page = open_scanner(phone, app, shop, size=size, lang=lang)
            page.get_by_text("岱庙低碳书店").wait_for()
            screenshot(page, f"merchant-scan-{lang}-{size}")
            page.locator(".van-tabbar-item", has_text="今日" if lang == "zh" else "Today").click()
            page.locator("[data-test=consumption]").first.wait_for()
            body = page.locator("body").inner_text()
            assert ("A low-carbon coffee" in body) == (lang == "en") and ("低碳咖啡一杯" in body) == (lang == "zh")
            assert not re.search(r"\bmerchant\.[a-z]", body), body  # no untranslated key
            screenshot(page, f"merchant-today-{lang}-{size}")


def test_a_confirm_whose_reply_was_lost_is_retried_with_the_same_scan_nonce_and_consumes_once(phone, app):
    shop = make_shop(app)
    issued = issue_voucher(app, shop.merchant_id)
    page = open_scanner(phone, app, shop)
    type_code(page, issued.short_code)
    assert result_kind(page) == "valid"
    nonces = []

    def lose_the_reply(route):
        nonces.append(route.request.post_data_json["scan_nonce"])
        route.fetch()  # the server consumes the voucher...
        route.abort("connectionreset")  # ...and the phone never hears back

    page.route("**/api/v1/merchant/vouchers/consume", lose_the_reply, times=1)
    page.get_by_role("button", name="确认核销").click()
    page.locator("section.result[data-kind=failed]").wait_for()
    page.get_by_text("网络连接失败").wait_for()
    screenshot(page, "merchant-result-failed-zh-390x844")
    assert voucher_state(app, issued.voucher_id) == (VoucherStatus.CONSUMED, shop.staff_id, 1)

    with page.expect_request("**/api/v1/merchant/vouchers/consume") as retried:
        page.get_by_role("button", name="重试").click()
    page.locator("section.result[data-kind=consumed]").wait_for()  # its success again, not already_used
    assert retried.value.post_data_json["scan_nonce"] == nonces[0]
    assert voucher_state(app, issued.voucher_id) == (VoucherStatus.CONSUMED, shop.staff_id, 1)


def test_too_many_unknown_codes_pause_the_scanner_with_the_wait_in_words(phone, app):
    app.config["VOUCHER_SCAN_FAILURE_LIMIT"] = "2 per 10 minutes"
    shop = make_shop(app)
    page = open_scanner(phone, app, shop, size="360x640")
    for guess in ("ZZZZ2222", "ZZZZ3333"):
        type_code(page, guess)
        assert result_kind(page) == "invalid_voucher"
        page.get_by_role("button", name="扫下一张").click()
    type_code(page, "ZZZZ4444")
    assert result_kind(page) == "rate_limited"
    page.get_by_text("识别失败次数过多").wait_for()
    page.get_by_text(re.compile(r"请 \d+ 秒后再试")).wait_for()  # Retry-After, in words
    screenshot(page, "merchant-result-rate_limited-zh-360x640")


def test_without_a_camera_the_scanner_says_so_and_keeps_the_typed_entry(phone, app):
    shop = make_shop(app)
    page = open_scanner(phone, app, shop, size="360x640")  # this browser has no camera and grants none
    page.get_by_role("button", name="打开摄像头扫码").click()
    alert = page.locator(".problem")
    alert.wait_for()
    assert re.search(r"没有摄像头权限|没有可用的摄像头|摄像头无法打开", alert.inner_text())
    page.wait_for_function("document.activeElement && document.activeElement.id === 'voucher-code'")
    screenshot(page, "merchant-scan-nocamera-zh-360x640")
