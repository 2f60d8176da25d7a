"""The scenarios page: every scenario of the rulebook in force, in words, with whether each channel can be
credited now; read-only, for the roles that may view rulebooks; in Chinese and in English."""

from __future__ import annotations

import re

import pytest

from admin.permissions import PERMISSIONS
from carbon_platform.db import commit
from carbon_platform.models import AdminRole, PartnerKind
from carbon_platform.services import checkins, organisations
from tests import factories as f
from tests.admin.helpers import console, log_in

PAGE = "/admin/scenarios"


def row(page: str, scenario_id: str) -> str:
    return re.search(rf'<tr data-scenario="{scenario_id}".*?</tr>', page, re.S).group(0)


def channel(page: str, scenario_id: str, name: str) -> str:
    return re.search(rf'<li data-channel="{re.escape(name)}".*?</li>', row(page, scenario_id), re.S).group(0)


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_each_scenario_in_words_with_its_channels_reach_in_chinese(app):
    client = console(app)
    page = client.get(PAGE).get_data(as_text=True)
    assert 'lang="zh-CN"' in page and f'href="{PAGE}"' in page  # in the navigation
    assert page.count("<tr data-scenario=") == 15
    bus = text(row(page, "bus_ride"))
    assert "公交出行" in bus and "五 交通运输绿色低碳工程" in bus and "减排：核证减排量并奖励积分" in bus
    assert "应用内自报：现在可以计分（居民或企业可在应用中自行上报）" in bus
    assert "合作方数据：公交：现在不能计分（还没有启用的这类合作方）" in bus
    assert "每天最多 4 次，每个账户" in bus and "不需上传照片" in bus and "规则当场判定，不需逐条审核" in bus
    assert "每天最多 2,799 克 CO₂e 减排量，每个账户" in text(row(page, "cycling"))
    assert "转人工核实：平均速度超过 30 km/h，不像骑行" in text(row(page, "cycling"))
    pv = text(row(page, "pv_installation"))
    assert "激励：只奖励积分，不计减排量" in pv and "每次上报都需人工审核后计分" in pv and "累计最多一次" in pv
    assert "需上传现场照片和证明材料照片各一张" in pv
    assert "同一个月已计入“电动汽车充电”时不计分" in text(row(page, "nev_driving"))
    assert "每天最多 4 次，每户所有成员合计" in text(row(page, "waste_sorting"))
    assert "不计分：该发电量已获绿证或 CCER，不重复计入" in text(row(page, "pv_generation"))
    assert "商户扫码打卡：现在不能计分（还没有启用的商户提供这一低碳场景打卡" in text(
        channel(page, "clean_plate", "merchant_checkin"))
    assert 'data-scenario="nev_driving" data-creditable="no"' in page


def test_registering_a_partner_makes_its_channel_creditable_on_the_page(app):
    client = console(app)
    assert 'data-creditable="no"' in channel(client.get(PAGE).get_data(as_text=True), "cycling",
                                             "partner:bike_share")
    with app.app_context():
        organisations.register_partner(name="泰安共享单车", kind=PartnerKind.BIKE_SHARE, actor=f.TEST_ACTOR)
        commit()
    line = channel(client.get(PAGE).get_data(as_text=True), "cycling", "partner:bike_share")
    assert 'data-creditable="yes"' in line
    assert "合作方数据：共享单车：现在可以计分（1 个启用的合作方可以上报）" in text(line)


def test_a_merchant_offering_a_scene_makes_its_check_in_creditable_on_the_page(app):
    client = console(app)
    with app.app_context():
        shop = f.merchant(name="泰山光盘餐厅")
        checkins.set_scenarios(shop, ["clean_plate"], actor=f.TEST_ACTOR)
        commit()
    page = client.get(PAGE).get_data(as_text=True)
    line = channel(page, "clean_plate", "merchant_checkin")
    assert 'data-creditable="yes"' in line and "商户扫码打卡：现在可以计分（1 家启用的商户提供扫码打卡）" in text(line)
    assert 'data-creditable="no"' in channel(page, "own_bag", "merchant_checkin")
    client.get("/admin/lang/en")
    line = channel(client.get(PAGE).get_data(as_text=True), "clean_plate", "merchant_checkin")
    assert "1 active merchant(s) offer check-ins by code" in text(line)


def test_the_page_in_english_has_no_chinese_but_the_programme_tag_and_names_from_partners(app):
    client = console(app)
    client.get("/admin/lang/en")
    page = client.get(PAGE).get_data(as_text=True)
    assert 'lang="en"' in page
    body = text(page[page.index("<main"):])
    bus = text(row(page, "bus_ride"))
    assert "Bus ride" in bus and "Green transport" in bus and "Reduction: certifies grams CO₂e and earns points" in bus
    assert "Self-report in the app: can be credited now (residents or enterprises report it in the app)" in bus
    assert "Partner data: Public transport: cannot be credited now (no active partner of this kind yet)" in bus
    assert "Per day: at most 4 actions, per account" in bus
    assert "Ever: at most once, per account" in text(row(page, "pv_installation"))
    assert "Held for a reviewer: average speed above 30 km/h is not cycling" in text(row(page, "cycling"))
    assert "Not credited in a month that already counts “EV charging”" in text(row(page, "nev_driving"))
    # The only Chinese left is the programmes' numerals (一 … 十) and the 十大工程 the header names.
    leftover = set(re.findall(r"[\u4e00-\u9fff]+", body)) - set("一二三四五六七八九十") - {"十大工程"}
    assert leftover == set()


@pytest.mark.parametrize("role", list(AdminRole), ids=[r.value for r in AdminRole])
def test_the_roles_that_may_view_rulebooks_may_open_it_and_it_offers_no_form(app, role):
    client = console(app, role)
    response = client.get(PAGE)
    if role in PERMISSIONS["rules.view"]:
        assert response.status_code == 200
        main = response.get_data(as_text=True).split("<main", 1)[1]
        assert "<form" not in main  # read-only
    else:
        assert response.status_code == 403


def test_without_a_rulebook_in_force_the_page_says_so(app):
    with app.app_context():
        username = f.admin(AdminRole.AUDITOR).username
        commit()
    client = app.test_client()
    log_in(client, username)
    assert "data-no-rulebook" in client.get(PAGE).get_data(as_text=True)
