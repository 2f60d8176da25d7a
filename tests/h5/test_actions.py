"""The actions pages of the H5 client, driven through a phone-sized chromium: report a green action (with and
without a photo, and a retried submit), my actions and a receipt, bindings and authorisations, the household."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import (
    Action,
    ActionStatus,
    Audience,
    Authorisation,
    Binding,
    BindingCode,
    BindingKind,
    Evidence,
    HouseholdMembership,
    Partner,
    PartnerKind,
    Resident,
)
from carbon_platform.services import auth, consent, earning, households, organisations, rulebooks
from tests import factories as f
from tests.h5.conftest import screenshot

pytestmark = pytest.mark.browser

LANGUAGES = {"zh": "zh-CN", "en": "en-US"}
SIZES = ("390x844", "360x640")
#: A message key showing instead of words ("actions.form.title").
RAW_KEY = re.compile(r"\b(actions|common)\.[a-z]+[A-Za-z]*(\.[A-Za-z_]+)*\b")


def resident(app, name="小林"):
    """A resident with a profile (so no first-run page); their id and account id."""
    with app.app_context():
        seeding.load_reference()
        person = f.resident(display_name=name, district_code="370902")
        ids = person.id, person.account_id
        commit()
    return ids


def token(app, resident_id: int) -> str:
    """A fresh refresh token for one phone (refresh tokens rotate, so every browser context needs its own)."""
    with app.app_context():
        pair = auth.issue_tokens(Audience.RESIDENT, resident_id)
        commit()
    return pair.refresh_token


def opened(phone, app, resident_id, path, *, lang="zh", size="390x844"):
    page = phone.open(size=size, locale=LANGUAGES[lang], refresh_token=token(app, resident_id))
    page.goto(f"{phone.site}/h5{path}")
    return page


def no_raw_keys(page):
    text = page.inner_text("body")
    assert not RAW_KEY.search(text), RAW_KEY.search(text).group(0)


def ui_text(page) -> str:
    """The page's own words: without the data shown in its own language (a factor's cited source, a name
    someone typed), which the page marks with data-i18n-data."""
    return page.evaluate("""() => {
        const body = document.body.cloneNode(true)
        body.querySelectorAll('[data-i18n-data], noscript, script').forEach((node) => node.remove())
        return body.innerText
    }""")


def shots(phone, app, resident_id, path, name, ready: str):
    """Screenshots of one page in both languages at both sizes, each checked for untranslated keys."""
    for lang in LANGUAGES:
        for size in SIZES:
            page = opened(phone, app, resident_id, path, lang=lang, size=size)
            page.locator(ready).first.wait_for()
            page.wait_for_load_state("networkidle")
            no_raw_keys(page)
            if lang == "en":
                assert not re.search(r"[\u4e00-\u9fff]", ui_text(page)), f"Chinese on the English {name}"
            screenshot(page, f"{name}-{lang}-{size}")


def actions_of(app, account_id):
    with app.app_context():
        return db.session.execute(sa.select(Action).where(Action.account_id == account_id)).scalars().all()


def small_jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 140, 80)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def test_a_walk_is_reported_credited_and_its_receipt_names_the_factor_source(phone, app):
    resident_id, account_id = resident(app)
    page = opened(phone, app, resident_id, "/report")
    page.locator('[data-scenario="walking"]').click()
    page.get_by_label("步数").fill("8000")

    # The first answer is lost on the way back (the server did record it): the resident taps again, and the
    # retry carries the same Idempotency-Key, so there is still one action.
    posts = []

    def lose_first_answer(route):
        posts.append(route.request.headers.get("idempotency-key"))
        response = route.fetch()
        if len(posts) == 1:
            assert response.status == 201
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    page.route("**/api/v1/actions", lose_first_answer)
    page.get_by_test_id("report-submit").click()
    page.get_by_text("网络连接失败").first.wait_for()
    page.get_by_test_id("report-submit").click()
    result = page.get_by_test_id("report-result")
    result.get_by_text("已计入").wait_for()
    assert len(posts) == 2 and posts[0] == posts[1]
    walks = actions_of(app, account_id)
    assert [(a.scenario, a.status, str(a.inputs["steps"])) for a in walks] == [
        ("walking", ActionStatus.CREDITED, "8000")]
    assert walks[0].points > 0
    assert re.search(rf"获得 {walks[0].points} 积分", result.inner_text())
    screenshot(page, "report-result-zh-390x844")

    page.get_by_text("查看凭证").click()
    receipt = page.get_by_test_id("receipt")
    factor = receipt.get_by_test_id("factor").first
    factor.wait_for()
    source = walks[0].receipt["factors"][0]["source"]
    assert f"来源：{source}" in factor.inner_text()
    assert "每千步减排量" in factor.inner_text()
    assert "减排量，向下取整到克" in receipt.inner_text()
    assert page.get_by_test_id("action-status").inner_text() == "已计入"
    no_raw_keys(page)


def test_a_photo_report_uploads_a_compressed_photo_and_is_credited(phone, app):
    resident_id, account_id = resident(app)
    page = opened(phone, app, resident_id, "/report/taishan_zero_waste", lang="en", size="360x640")
    page.get_by_text("1 photo(s) needed").wait_for()
    page.get_by_test_id("report-submit").click()
    page.get_by_text("1 more photo(s) needed").wait_for()  # checked before anything is sent
    assert actions_of(app, account_id) == []

    page.locator('input[type="file"]').first.set_input_files(
        files=[{"name": "summit.jpg", "mimeType": "image/jpeg", "buffer": small_jpeg()}])
    page.locator(".van-uploader__preview").first.wait_for()
    page.wait_for_function("!document.querySelector('.van-uploader__mask')")  # uploaded
    screenshot(page, "report-form-photo-en-360x640")
    delete = page.locator(".van-uploader__preview-delete").first.bounding_box()
    assert min(delete["width"], delete["height"]) >= 44  # Vant's own corner is 14 px
    page.get_by_test_id("report-submit").click()
    result = page.get_by_test_id("report-result")
    result.get_by_text("Credited").wait_for()

    [action] = actions_of(app, account_id)
    assert (action.scenario, action.status, action.points) == ("taishan_zero_waste", ActionStatus.CREDITED, 40)
    with app.app_context():
        [photo] = db.session.execute(sa.select(Evidence).where(Evidence.account_id == account_id)).scalars().all()
        assert photo.action_id == action.id and (photo.width, photo.height) == (640, 480)


def test_my_actions_filter_by_status_and_the_rejected_one_says_why(phone, app):
    resident_id, account_id = resident(app)
    with app.app_context():
        person = db.session.get(Resident, resident_id)
        now = utcnow()
        rules = rulebooks.awarding_rules(now)
        earning.self_report(person, scenario="walking", inputs={"steps": 6000}, occurred_at=now - timedelta(hours=1),
                            client_key="walk-1", rules=rules, now=now)
        earning.self_report(person, scenario="walking", inputs={"steps": 6000}, occurred_at=now - timedelta(days=90),
                            client_key="walk-old", rules=rules, now=now)
        commit()
    by_status = {a.status: a for a in actions_of(app, account_id)}
    assert set(by_status) == {ActionStatus.CREDITED, ActionStatus.REJECTED}

    page = opened(phone, app, resident_id, "/actions")
    rows = page.locator("[data-action]")
    rows.nth(1).wait_for()
    assert rows.count() == 2
    page.get_by_role("tab", name="未计入").click()
    page.wait_for_url(re.compile(r".*status=rejected"))
    page.locator(f'[data-action="{by_status[ActionStatus.REJECTED].id}"]').wait_for()
    assert rows.count() == 1
    rows.first.click()
    page.get_by_text("发生时间太早，已超过可申报的期限。").wait_for()
    no_raw_keys(page)

    for lang in LANGUAGES:
        for size in SIZES:
            listing = opened(phone, app, resident_id, "/actions", lang=lang, size=size)
            listing.locator("[data-action]").nth(1).wait_for()
            no_raw_keys(listing)
            screenshot(listing, f"actions-{lang}-{size}")
    shots(phone, app, resident_id, f"/actions/{by_status[ActionStatus.CREDITED].id}", "action", "[data-testid=factor]")


def test_bindings_add_shows_a_code_and_qr_and_an_authorisation_is_revoked(phone, app):
    resident_id, account_id = resident(app)
    with app.app_context():
        partner, _secret = organisations.register_partner(name="泰安公交集团", kind=PartnerKind.TRANSIT,
                                                          actor=f.TEST_ACTOR)
        channels = frozenset(rulebooks.rules_in_force(utcnow()).rulebook.scenarios["bus_ride"].channels)
        granted = consent.grant(account_id, partner, "bus_ride", channels).id
        commit()

    page = opened(phone, app, resident_id, "/bindings")
    page.get_by_role("button", name="添加绑定").click()
    page.get_by_text("泰安公交集团").first.click()
    page.get_by_label("卡号或表号").fill("8801 2345 6789")
    page.get_by_role("button", name="绑定并获取绑定码").click()
    shown = page.get_by_test_id("binding-code")
    shown.locator("img").wait_for()
    code = shown.locator(".qr-text").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4,12}", code), code
    assert "出示给公交卡服务点或合作方 App" in shown.inner_text()
    page.get_by_text("尾号 6789").wait_for()
    page.get_by_text("待合作方确认").wait_for()
    with app.app_context():
        [binding] = db.session.execute(sa.select(Binding).where(Binding.account_id == account_id)).scalars().all()
        assert (binding.kind.value, binding.status.value, binding.last4) == ("transit_card", "pending", "6789")
        [issued] = db.session.execute(
            sa.select(BindingCode).where(BindingCode.account_id == account_id)).scalars().all()
        assert issued.code_hash == consent._code_hash(code) and issued.used_at is None
    screenshot(page, "bindings-code-zh-390x844")

    switch = page.locator('[data-scene$=":bus_ride"] [role="switch"]')
    assert switch.get_attribute("aria-checked") == "true"
    switch.click()
    dialog = page.locator(".van-dialog")
    assert "将不再为您计分" in dialog.inner_text() and "已获得的积分保留" in dialog.inner_text()
    dialog.get_by_role("button", name="确定").click()
    page.wait_for_function("document.querySelector('[data-scene$=\":bus_ride\"] [role=switch]')"
                           ".getAttribute('aria-checked') === 'false'")
    with app.app_context():
        assert db.session.get(Authorisation, granted).revoked_at is not None
    shots(phone, app, resident_id, "/bindings", "bindings", "[data-binding]")


def test_household_create_invite_join_by_link_hand_over_and_leave(phone, app):
    head_id, _ = resident(app, "王大")
    member_id, _ = resident(app, "王二")
    shots(phone, app, head_id, "/household", "household-none", "form.create")

    head = opened(phone, app, head_id, "/household")
    head.get_by_label("家庭名称").fill("王家")
    head.get_by_label("住址").fill("泰山区东岳大街 1 号")
    head.get_by_label("所在区县").click()
    head.get_by_role("button", name="确定").click()
    head.get_by_role("button", name="创建").click()
    head.get_by_test_id("household-name").wait_for()
    head.get_by_role("button", name="邀请家人").click()
    code = head.get_by_test_id("invitation-code").inner_text().strip()
    head.get_by_test_id("invitation").locator("img").wait_for()
    screenshot(head, "household-invite-zh-390x844")

    # The invitation QR carries a link: the second phone's camera app opens it, the page offers to join.
    joiner = opened(phone, app, member_id, f"/household?join={code}", lang="en", size="360x640")
    joiner.get_by_text("You have a household invitation. Join it?").wait_for()
    assert joiner.get_by_label("Invitation code").input_value() == code
    joiner.get_by_role("button", name="Join", exact=True).click()
    joiner.get_by_test_id("household-name").wait_for()

    head = opened(phone, app, head_id, "/household")  # a reload would replay the first, spent, refresh token
    head.locator(f'[data-member="{member_id}"]').wait_for()
    # The head cannot leave before handing over: the API's 409 in words.
    head.get_by_role("button", name="退出家庭").click()
    head.locator(".van-dialog").get_by_role("button", name="退出家庭").click()
    head.get_by_text("户主需先把户主身份转交给其他成员。").wait_for()
    head.locator(".van-dialog").get_by_role("button", name="确定").click()

    head.get_by_role("button", name="转交户主").click()
    head.get_by_role("button", name="王二").click()
    head.locator(".van-dialog").get_by_role("button", name="确定").click()
    head.get_by_text("已转交户主").wait_for()
    with app.app_context():
        roles = dict(db.session.execute(sa.select(HouseholdMembership.resident_id, HouseholdMembership.role)).all())
        assert {k: v.value for k, v in roles.items()} == {head_id: "member", member_id: "head"}
    shots(phone, app, member_id, "/household", "household", "[data-member]")

    head.get_by_role("button", name="退出家庭").click()
    head.locator(".van-dialog").get_by_role("button", name="退出家庭").click()
    head.locator("form.create").wait_for()
    with app.app_context():
        members = db.session.execute(sa.select(HouseholdMembership.resident_id)).scalars().all()
        assert members == [member_id]


def test_catalogue_and_form_pages_in_both_languages(phone, app):
    resident_id, _ = resident(app)
    page = opened(phone, app, resident_id, "/report")
    page.locator('[data-scenario="walking"]').wait_for()
    text = page.inner_text("body")
    assert "由合作方自动记录" in text and "每天最多 1 次" in text and "需要 1 张照片" in text
    assert page.locator('[data-scenario="ev_charging"]').count() == 0  # partners only: not a report link
    page.get_by_role("button", name="去绑定和授权").click()
    page.wait_for_url(re.compile(r".*/h5/bindings"))
    shots(phone, app, resident_id, "/report", "report", '[data-scenario="walking"]')
    shots(phone, app, resident_id, "/report/walking", "report-form", "[data-testid=report-submit]")


def test_the_head_binds_the_households_meter_and_authorises_the_utility_at_phone_size(phone, app):
    head_id, _ = resident(app, "赵大")
    member_id, _ = resident(app, "赵二")
    with app.app_context():
        utility, _secret = organisations.register_partner(name="国网泰安供电公司", kind=PartnerKind.UTILITY,
                                                          actor=f.TEST_ACTOR)
        household = households.create_household(db.session.get(Resident, head_id), name="赵家",
                                                address="泰山区东岳大街 8 号", district_code="370902")
        households.join(db.session.get(Resident, member_id),
                        households.invite(db.session.get(Resident, head_id), household.id).code)
        utility_id, household_account = utility.id, household.account_id
        commit()

    page = opened(phone, app, head_id, "/household")
    meter = page.get_by_test_id("household-meter")
    meter.get_by_text("还没有绑定电表。").wait_for()
    page.get_by_label("电表号").fill("3709 0012 3456")
    page.get_by_role("button", name="绑定电表").click()
    shown = page.get_by_test_id("binding-code")
    shown.locator("img").wait_for()
    code = shown.locator(".qr-text").inner_text()
    assert "供电营业厅" in shown.inner_text()
    meter.get_by_text("尾号 3456").wait_for()
    meter.get_by_text("待合作方确认").wait_for()
    screenshot(page, "household-meter-code-zh-390x844")
    with app.app_context():  # the utility checks the meter and confirms, with the household's code
        partner = db.session.get(Partner, utility_id)
        consent.confirm_by_partner(partner, code, BindingKind.ELECTRICITY_METER, "370900123456")
        commit()
        [binding] = db.session.execute(sa.select(Binding)).scalars().all()
        assert (binding.account_id, binding.status.value, binding.last4) == (household_account, "active", "3456")

    page = opened(phone, app, head_id, "/household")
    meter = page.get_by_test_id("household-meter")
    meter.get_by_text("已生效").wait_for()
    switch = meter.locator(f'[data-scene="{utility_id}:electricity_saving"] [role="switch"]')
    assert switch.get_attribute("aria-checked") == "false"
    switch.click()
    page.wait_for_function(f"document.querySelector('[data-scene=\"{utility_id}:electricity_saving\"] [role=switch]')"
                           ".getAttribute('aria-checked') === 'true'")
    with app.app_context():
        [granted] = db.session.execute(sa.select(Authorisation)).scalars().all()
        assert (granted.account_id, granted.scenario, granted.revoked_at) == (household_account,
                                                                             "electricity_saving", None)
    no_raw_keys(page)
    screenshot(page, "household-meter-zh-390x844")

    # A member sees the meter, masked, and the consent, and cannot change them; in English too.
    member = opened(phone, app, member_id, "/household", lang="en", size="360x640")
    member_meter = member.get_by_test_id("household-meter")
    member_meter.get_by_text("ending 3456").wait_for()
    member_meter.get_by_text("The head of the household binds the meter and gives consent.").wait_for()
    assert member_meter.get_by_role("button", name=re.compile("Unbind|Remove")).count() == 0
    member_switch = member_meter.locator('[role="switch"]')
    assert member_switch.get_attribute("aria-checked") == "true"
    assert "van-switch--disabled" in member_switch.get_attribute("class")
    no_raw_keys(member)
    assert not re.search(r"[\u4e00-\u9fff]", ui_text(member)), "Chinese on the English household page"
    screenshot(member, "household-meter-member-en-360x640")

    # The head unbinds it.
    page.get_by_role("button", name="解除 电表 3456").click()
    page.locator(".van-dialog").get_by_role("button", name="解除").click()
    meter.get_by_text("还没有绑定电表。").wait_for()
    with app.app_context():
        assert db.session.execute(sa.select(Binding.status)).scalar_one().value == "revoked"
