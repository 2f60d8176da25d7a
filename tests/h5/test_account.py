"""The account pages of the H5 client, driven through a phone-sized chromium: login, first run, home, me,
settings, privacy and history. Each test checks what the resident sees and what the database holds."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Audience, Authorisation, PartnerKind, Resident
from carbon_platform.services import accounts, auth, households, organisations
from tests import factories as f
from tests.h5.conftest import screenshot
from tests.mobile_api.helpers import sms_code

pytestmark = pytest.mark.browser

COMBOS = [("zh", "zh-CN", "390x844"), ("zh", "zh-CN", "360x640"), ("en", "en-US", "390x844"),
          ("en", "en-US", "360x640")]


def make_resident(app, *, name="小绿", district="370902", points=0, pending=0, grams=0):
    """A resident with a profile, optionally funded; returns (id, account_id, phone)."""
    with app.app_context():
        seeding.load_reference()
        person = f.resident(display_name=name, district_code=district)
        if points:
            f.fund(person.account_id, points, grams=grams)
        if pending:
            f.fund(person.account_id, pending, hold_days=3)
        commit()
        return person.id, person.account_id, person.phone


def refresh_token_for(app, resident_id: int) -> str:
    """A fresh session for a resident (the SMS login is throttled to one code a minute per phone)."""
    with app.app_context():
        pair = auth.issue_tokens(Audience.RESIDENT, resident_id)
        commit()
        return pair.refresh_token


def refresh_works(app, token: str) -> bool:
    return app.test_client().post("/api/v1/auth/refresh", json={"refresh_token": token}).status_code == 201


def test_login_and_first_run_save_profile_and_an_authorisation(app, phone, site):
    with app.app_context():
        seeding.load_reference()
        partner, _secret = organisations.register_partner(name="泰安公交集团", kind=PartnerKind.TRANSIT,
                                                          actor=f.TEST_ACTOR)
        commit()
        partner_id = partner.id
    number = f.phone()
    page = phone.open()
    page.goto(f"{site}/h5/mall")
    page.wait_for_url(re.compile(r".*/h5/login\?next="))
    # A wrong number is refused before any code is asked for.
    page.locator("input[name=phone]").fill("12345")
    page.locator("[data-test=get-code]").tap()
    page.get_by_text("请输入正确的 11 位手机号").wait_for()
    page.locator("input[name=phone]").fill(number)
    page.locator("[data-test=get-code]").tap()
    page.get_by_text(re.compile(r"\d+ 秒后重发")).wait_for()
    page.locator("input[name=code]").fill(sms_code(app, number))
    screenshot(page, "login-filled-zh-390x844")
    page.locator("[data-test=log-in]").tap()
    page.wait_for_url(re.compile(r".*/h5/welcome"))
    page.locator("input[name=display_name]").fill("绿色出行者")
    page.locator("[data-test=district]").tap()
    page.locator(".van-action-sheet__item", has_text="泰山区").tap()
    page.locator("[data-test=save-profile]").tap()
    page.get_by_text("场景授权").first.wait_for()
    switch = page.locator(f"[data-test=scene-{partner_id}-bus_ride]")
    assert switch.get_attribute("aria-checked") == "false"  # off until the resident switches it on
    switch.tap()
    page.locator("[data-test=finish]").tap()
    page.wait_for_url(re.compile(r".*/h5/mall$"))
    with app.app_context():
        person = accounts.find_resident_by_phone(number)
        assert (person.display_name, person.district.code) == ("绿色出行者", "370902")
        granted = db.session.execute(sa.select(Authorisation.partner_id, Authorisation.scenario)
                                     .where(Authorisation.account_id == person.account_id)).all()
        assert granted == [(partner_id, "bus_ride")]


def test_home_shows_the_balances_of_a_funded_resident(app, phone, site):
    resident_id, _account, _phone = make_resident(app, points=1234, pending=56, grams=43_600)
    page = phone.open(refresh_token=refresh_token_for(app, resident_id))
    page.goto(f"{site}/h5/")
    assert page.locator("[data-test=available]").inner_text() == "1,234"
    pending = page.locator("[data-test=pending]").inner_text()
    assert "待到账 56 积分" in pending and "起可用" in pending
    # 43.6 kg at 21.8 kg a tree-year is two trees.
    reduction = page.locator("[data-test=reduction]").inner_text()
    assert "43.6 千克" in reduction and "相当于 2 棵树一年的吸碳量" in reduction
    assert page.locator("[data-test=history-row]").count() == 2


def test_a_small_reduction_is_compared_in_tree_days_and_none_shows_no_comparison(app, phone, site):
    # 480 g is a first short ride: 480 / 21,800 g a year is 0.022 tree-years, 8.04 days of one tree: "8 天".
    resident_id, _account, _phone = make_resident(app, points=10, grams=480)
    page = phone.open(refresh_token=refresh_token_for(app, resident_id))
    page.goto(f"{site}/h5/")
    assert page.locator("[data-test=trees]").inner_text() == "相当于一棵树 8 天的吸碳量"
    newcomer, _account, _phone = make_resident(app, points=0)
    page = phone.open(refresh_token=refresh_token_for(app, newcomer))
    page.goto(f"{site}/h5/")
    page.locator("[data-test=available]").wait_for()
    assert page.locator("[data-test=trees]").count() == 0


def test_language_switch_turns_the_ui_english(app, phone, site):
    resident_id, _account, _phone = make_resident(app, points=10)
    page = phone.open(refresh_token=refresh_token_for(app, resident_id))
    page.goto(f"{site}/h5/settings")
    page.get_by_text("退出所有设备").wait_for()
    page.locator("[data-test=lang-en]").tap()
    page.get_by_text("Log out everywhere").wait_for()
    page.locator(".van-nav-bar__left").tap()  # back to /me, inside the app
    page.get_by_text("Points and reduction history").wait_for()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "我的" not in page.locator("body").inner_text()


def test_log_out_everywhere_makes_every_refresh_token_useless(app, phone, site):
    resident_id, _account, _phone = make_resident(app)
    other_device = refresh_token_for(app, resident_id)
    page = phone.open(refresh_token=refresh_token_for(app, resident_id))
    page.goto(f"{site}/h5/settings")
    page.locator("[data-test=log-out-all]").tap()
    page.locator(".van-dialog__confirm").tap()
    page.wait_for_url(re.compile(r".*/h5/login"))
    assert page.evaluate("localStorage.getItem('carbon.h5.resident.refresh')") is None
    assert not refresh_works(app, other_device)


def test_export_downloads_valid_json(app, phone, site):
    resident_id, _account, number = make_resident(app, points=300)
    page = phone.open(refresh_token=refresh_token_for(app, resident_id))
    page.goto(f"{site}/h5/privacy")
    with page.expect_download() as download:
        page.locator("[data-test=export]").tap()
    assert re.fullmatch(r"carbon-export-.+\.json", download.value.suggested_filename)
    body = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert number in json.dumps(body, ensure_ascii=False)


def test_a_blocked_deletion_says_why_and_a_deletion_logs_out(app, phone, site):
    head_id, _account, head_phone = make_resident(app, name="户主")
    with app.app_context():
        head = db.session.get(Resident, head_id)
        household = households.create_household(head, name="绿色之家", address="泰山区东岳大街 1 号",
                                                district_code="370902")
        member = f.resident(display_name="成员", district_code="370902")
        households.join(member, households.invite(head, household.id).code)
        commit()
    page = phone.open(refresh_token=refresh_token_for(app, head_id))
    page.goto(f"{site}/h5/privacy")
    page.locator("[data-test=delete]").tap()
    page.locator("[data-test=delete-digits] input").fill("0000")
    page.locator(".van-dialog__confirm").tap()
    page.get_by_text("后四位不正确").wait_for()
    page.locator("[data-test=delete-digits] input").fill(head_phone[-4:])
    page.locator(".van-dialog__confirm").tap()
    page.locator("[data-test=blocked]").get_by_text("请先把户主转交给其他成员").wait_for()
    with app.app_context():
        assert accounts.find_resident_by_phone(head_phone).id == head_id  # nothing erased

    loner_id, _account, loner_phone = make_resident(app, name="独居者", points=50)
    token = refresh_token_for(app, loner_id)
    page = phone.open(refresh_token=token, size="360x640")
    page.goto(f"{site}/h5/privacy")
    page.locator("[data-test=delete]").tap()
    page.locator("[data-test=delete-digits] input").fill(loner_phone[-4:])
    page.locator(".van-dialog__confirm").tap()
    page.locator("[data-test=farewell]").wait_for()
    page.wait_for_url(re.compile(r".*/h5/login\?farewell=1"))
    assert page.evaluate("localStorage.getItem('carbon.h5.resident.refresh')") is None
    assert not refresh_works(app, token)
    with app.app_context():
        assert accounts.find_resident_by_phone(loner_phone) is None


def test_history_shows_rows_and_the_monthly_chart(app, phone, site):
    resident_id, _account, _phone = make_resident(app)
    with app.app_context():
        person = db.session.get(Resident, resident_id)
        now = utcnow()
        for n, days in enumerate((1, 2, 40)):
            f.bus_ride(person, now - timedelta(days=days), f"history-ride-{n}")
        commit()
    page = phone.open(refresh_token=refresh_token_for(app, resident_id))
    page.goto(f"{site}/h5/history")
    page.locator("[data-test=chart] canvas").wait_for()
    assert page.locator("[data-test=chart-unit]").inner_text() == "单位：克"
    rows = page.locator("[data-test=history-row]")
    rows.nth(2).wait_for()
    assert rows.count() == 3 and "公交出行" in rows.first.inner_text()


def test_screenshots_of_every_account_page(app, phone, site):
    resident_id, _account, _phone = make_resident(app, points=880, pending=40, grams=125_000)
    with app.app_context():
        person = db.session.get(Resident, resident_id)
        f.bus_ride(person, utcnow() - timedelta(days=3), "shot-ride")
        commit()
    for language, locale, size in COMBOS:
        page = phone.open(size=size, locale=locale)
        page.goto(f"{site}/h5/login")
        page.locator("[data-test=log-in]").wait_for()
        screenshot(page, f"login-{language}-{size}")
        for name, path, ready in (
            ("home", "/", "[data-test=available]"),
            ("welcome", "/welcome", "[data-test=finish]"),
            ("me", "/me", "[data-test=display-name]"),
            ("settings", "/settings", "[data-test=log-out-all]"),
            ("privacy", "/privacy", "[data-test=export]"),
            ("history", "/history", "[data-test=chart] canvas"),
        ):
            # A phone per page: the stored refresh token is put back on every full load, and refresh tokens
            # rotate, so a second load in one phone would reuse a spent one.
            page = phone.open(size=size, locale=locale, refresh_token=refresh_token_for(app, resident_id))
            page.goto(f"{site}/h5{path}")
            page.locator(ready).first.wait_for()
            if name == "history":
                page.locator("[data-test=history-row]").first.wait_for()
            text = page.locator("body").inner_text()
            assert not re.search(r"\baccount\.[a-z]+\.[A-Za-z.]+", text), f"untranslated key on {name}"
            screenshot(page, f"{name}-{language}-{size}")
            page.context.close()
