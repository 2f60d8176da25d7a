"""No codes to type (issue #19, item 1): a campaign's scenarios, districts and account types, a reward's districts
and a partner's scenes are ticked from lists of names in the console's language, and a name sent where a code
belongs (区县 "泰山区", the scene "骑行") is refused with a message, never saved."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import sqlalchemy as sa

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import AdminRole, Merchant, Partner, PartnerKind, Reward, RulebookVersion
from carbon_platform.services import organisations
from tests import factories as f
from tests.admin.helpers import console, csrf_token
from tests.admin.test_campaigns import BEIJING
from tests.admin.test_campaigns import form as campaign_form
from tests.admin.test_merchants import REWARD


def post(client, path, data, page):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def ticked(page: str, name: str) -> set[str]:
    return set(re.findall(rf'<input checked[^>]*name="{name}"[^>]*value="([^"]+)"', page))


def labels(page: str, name: str) -> dict[str, str]:
    """Each checkbox of the field: its value and the words beside it."""
    return dict(re.findall(rf'<input[^>]*name="{name}"[^>]*value="([^"]+)"[^>]*>\s*([^<]+?)\s*</label>', page))


def drafts() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RulebookVersion))


def test_a_campaign_is_targeted_by_ticking_names_and_a_typed_name_is_refused(app):
    client = console(app, AdminRole.OPERATOR)
    page = client.get("/admin/campaigns/new").get_data(as_text=True)
    assert labels(page, "scenarios")["bus_ride"] == "公交出行"
    assert labels(page, "districts")["370902"] == "泰山区"
    assert labels(page, "account_types") == {"resident": "居民", "household": "家庭", "enterprise": "企业"}
    assert not re.search(r'<input[^>]*type="text"[^>]*name="(scenarios|districts|account_types)"', page)

    starts = datetime.now(BEIJING).replace(second=0, microsecond=0) + timedelta(days=1)
    with app.app_context():
        before = drafts()
    refused = post(client, "/admin/campaigns/new", campaign_form(starts=starts, districts="泰山区"),
                   "/admin/campaigns/new")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "“泰山区”不在可选项中" in text
    with app.app_context():
        assert drafts() == before  # nothing saved

    drafted = client.post("/admin/campaigns/new", data={
        **campaign_form(starts=starts), "csrf_token": csrf_token(client, "/admin/campaigns/new"),
        "scenarios": ["bus_ride", "brt_ride"], "districts": ["370902", "370911"], "account_types": ["resident"]})
    assert drafted.status_code == 302, drafted.get_data(as_text=True)[:600]
    with app.app_context():
        draft = db.session.scalars(sa.select(RulebookVersion).order_by(RulebookVersion.id.desc())).first()
        campaign = next(c for c in draft.document["campaigns"] if c["id"] == "bus_double")
        assert campaign["target"] == {"scenarios": ["bus_ride", "brt_ride"], "districts": ["370902", "370911"],
                                      "account_types": ["resident"]}


def test_the_campaign_form_speaks_english_in_english(app):
    client = console(app, AdminRole.OPERATOR)
    client.get("/admin/lang/en")
    page = client.get("/admin/campaigns/new").get_data(as_text=True)
    assert labels(page, "scenarios")["bus_ride"] == "Bus ride"
    assert labels(page, "districts")["370902"] == "Taishan District"
    assert labels(page, "account_types")["household"] == "Households"
    starts = datetime.now(BEIJING).replace(second=0, microsecond=0) + timedelta(days=1)
    refused = post(client, "/admin/campaigns/new", campaign_form(starts=starts, scenarios="骑行"),
                   "/admin/campaigns/new")
    assert refused.status_code == 400 and "is not one of the choices" in refused.get_data(as_text=True)


def test_a_partner_is_allowed_scenes_its_kind_can_report_by_name(app):
    client = console(app, AdminRole.SUPER_ADMIN)
    with app.app_context():
        bus, _secret = organisations.register_partner(name="泰安公交集团", kind=PartnerKind.TRANSIT,
                                                      actor=f.TEST_ACTOR)
        partner_id = bus.id
        organisations.register_partner(name="泰山景区交通", kind=PartnerKind.TRANSIT, actor=f.TEST_ACTOR)
        commit()
    page = client.get("/admin/partners").get_data(as_text=True)
    offered = labels(page, "allowed_scenarios")
    assert offered["bus_ride"] == "公交出行" and "brt_ride" in offered
    assert "cycling" not in offered  # a transit operator does not report bike rides

    path = f"/admin/partners/{partner_id}/settings"
    refused = post(client, path, {"allowed_scenarios": "骑行", "rate_limit": "600 per minute", "active": "y"},
                   "/admin/partners")
    assert refused.status_code == 400 and "“骑行”不在可选项中" in refused.get_data(as_text=True)
    # a scenario of another kind of partner is refused the same way
    assert post(client, path, {"allowed_scenarios": "cycling", "rate_limit": "600 per minute", "active": "y"},
                "/admin/partners").status_code == 400
    with app.app_context():
        assert db.session.get(Partner, partner_id).allowed_scenarios == []

    saved = client.post(path, data={"csrf_token": csrf_token(client, "/admin/partners"),
                                    "allowed_scenarios": ["brt_ride"], "rate_limit": "600 per minute",
                                    "active": "y"})
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(Partner, partner_id).allowed_scenarios == ["brt_ride"]
    page = client.get("/admin/partners").get_data(as_text=True)
    assert ticked(page, "allowed_scenarios") == {"brt_ride"}  # the first partner's; the second's has none
    # one page, several partners: every checkbox has an id of its own
    ids = re.findall(r'<input[^>]*id="([^"]+)"[^>]*type="checkbox"', page)
    assert len(ids) >= 4 and len(ids) == len(set(ids))

    auditor = console(app, AdminRole.AUDITOR)
    assert "允许场景: BRT 快速公交出行" in auditor.get("/admin/partners").get_data(as_text=True)  # names, not codes


def test_a_rewards_districts_are_ticked_and_a_typed_name_is_refused(app):
    client = console(app, AdminRole.MERCHANT_MANAGER)
    with app.app_context():
        shop_id = f.merchant().id
        commit()
    page_path = f"/admin/merchants/{shop_id}"
    page = client.get(page_path).get_data(as_text=True)
    assert labels(page, "districts")["370911"] == "岱岳区"
    refused = post(client, f"{page_path}/rewards", {**REWARD, "districts": "泰山区"}, page_path)
    assert refused.status_code == 400 and "“泰山区”不在可选项中" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Reward)) == 0

    created = client.post(f"{page_path}/rewards", data={**REWARD, "districts": ["370902", "370911"],
                                                        "csrf_token": csrf_token(client, page_path)})
    assert created.status_code == 302, created.get_data(as_text=True)[:600]
    with app.app_context():
        reward = db.session.scalars(sa.select(Reward)).one()
        assert reward.districts == ["370902", "370911"] and db.session.get(Merchant, shop_id) is not None
    edit = client.get(created.headers["Location"]).get_data(as_text=True)
    assert ticked(edit, "districts") == {"370902", "370911"}
