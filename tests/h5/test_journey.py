"""The two journeys of issue #16, end to end through the UI only, on one real server and database:

- a resident logs in with the code from the development SMS sender, fills in the first-run page, authorises a
  scene, reports a walk, reads its receipt, redeems a reward and opens the voucher;
- a cashier logs in on another phone, types the voucher's short code, consumes it and finds it under Today.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Action, ActionStatus, Authorisation, PartnerKind, Voucher, VoucherStatus
from carbon_platform.services import accounts, organisations, vouchers
from tests import factories as f
from tests.h5.conftest import screenshot
from tests.mobile_api.helpers import sms_code

pytestmark = pytest.mark.browser


def test_a_resident_and_a_cashier_each_go_the_whole_way(app, phone, site):
    with app.app_context():
        seeding.load_reference()
        partner, _secret = organisations.register_partner(name="泰安公交集团", kind=PartnerKind.TRANSIT,
                                                          actor=f.TEST_ACTOR)
        shop = f.merchant(name="岱宗坊低碳咖啡")
        cashier = f.staff(shop)
        f.reward(shop, name_zh="低碳咖啡一杯", name_en="A low-carbon coffee", points_price=300, stock=5)
        commit()
        partner_id, cashier_phone = partner.id, cashier.phone[-11:]
    number = f.phone()

    # Log in: the number, the code from the SMS sender, then the first-run page.
    page = phone.open()
    page.goto(f"{site}/h5/")
    page.wait_for_url(re.compile(r".*/h5/login"))
    page.locator("input[name=phone]").fill(number)
    page.locator("[data-test=get-code]").tap()
    page.get_by_text(re.compile(r"\d+ 秒后重发")).wait_for()  # the code is sent
    page.locator("input[name=code]").fill(sms_code(app, number))
    page.locator("[data-test=log-in]").tap()
    page.wait_for_url(re.compile(r".*/h5/welcome"))
    page.locator("input[name=display_name]").fill("泰山挑山工")
    page.locator("[data-test=district]").tap()
    page.locator(".van-action-sheet__item", has_text="泰山区").tap()
    page.locator("[data-test=save-profile]").tap()
    page.locator(f"[data-test=scene-{partner_id}-bus_ride]").tap()  # 场景授权: the bus company may report rides
    page.locator("[data-test=finish]").tap()
    page.wait_for_url(re.compile(r".*/h5/$"))
    page.locator("[data-test=available]").wait_for()

    # Report a walk and read its receipt.
    page.locator(".van-tabbar-item", has_text="记一笔").tap()
    page.locator('[data-scenario="walking"]').tap()
    page.get_by_label("步数").fill("9000")
    page.get_by_test_id("report-submit").tap()
    page.get_by_test_id("report-result").get_by_text("已计入").wait_for()
    page.get_by_text("查看凭证").tap()
    factor = page.get_by_test_id("receipt").get_by_test_id("factor").first
    factor.wait_for()
    assert "来源：" in factor.inner_text()
    screenshot(page, "journey-receipt-zh-390x844")

    with app.app_context():
        person = accounts.find_resident_by_phone(number)
        walk = db.session.execute(sa.select(Action).where(Action.account_id == person.account_id)).scalar_one()
        assert (walk.scenario, walk.status) == ("walking", ActionStatus.CREDITED)
        assert db.session.execute(sa.select(Authorisation.partner_id, Authorisation.scenario).where(
            Authorisation.account_id == person.account_id)).all() == [(partner_id, "bus_ride")]
        f.fund(person.account_id, 500)  # a walk's points are held for days: the welcome points of the demo
        commit()
        account_id = person.account_id

    # Redeem in the mall and open the voucher.
    page.goto(f"{site}/h5/mall")
    page.locator(".reward-card", has_text="低碳咖啡一杯").tap()
    page.get_by_role("button", name="兑换", exact=True).tap()
    page.locator("[data-test=confirm-redeem]").tap()
    page.wait_for_url(re.compile(r".*/h5/vouchers/\d+$"))
    short_code = page.locator("[data-test=short-code]").inner_text()
    page.locator("img[src^='blob:']").first.wait_for()
    screenshot(page, "journey-voucher-zh-390x844")
    with app.app_context():
        voucher = db.session.execute(sa.select(Voucher).where(Voucher.account_id == account_id)).scalar_one()
        assert voucher.status == VoucherStatus.ISSUED
        assert vouchers.find_by_code(re.sub(r"\W", "", short_code)).id == voucher.id  # the code it shows is its own
        voucher_id = voucher.id

    # The cashier: log in, type the short code, consume, see it under Today.
    till = phone.open(audience="merchant")
    till.goto(f"{site}/h5/merchant")
    till.wait_for_url(re.compile(r".*/h5/merchant/login"))
    till.get_by_label("手机号").fill(cashier_phone)
    till.get_by_role("button", name="获取验证码").tap()
    till.get_by_text(re.compile(r"\d+ 秒后重发")).wait_for()
    till.get_by_label("验证码").fill(sms_code(app, cashier_phone))
    till.get_by_role("button", name="登录", exact=True).tap()
    till.wait_for_url(re.compile(r".*/h5/merchant$"))
    till.locator("#voucher-code").fill(short_code)
    till.get_by_role("button", name="查询").tap()
    till.get_by_text("低碳咖啡一杯").wait_for()
    till.get_by_role("button", name="确认核销").tap()
    till.get_by_text("核销成功").wait_for()
    till.locator(".van-tabbar-item", has_text="今日").tap()
    till.wait_for_url(re.compile(r".*/h5/merchant/today"))
    till.get_by_text("低碳咖啡一杯").first.wait_for()
    screenshot(till, "journey-today-zh-390x844")
    with app.app_context():
        assert db.session.get(Voucher, voucher_id).status == VoucherStatus.CONSUMED
