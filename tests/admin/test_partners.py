"""Partner management in the console, and the limits it sets, enforced on the feed."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from carbon_platform.extensions import db
from carbon_platform.models import AdminRole, AuditEvent, Partner, PartnerSecret
from carbon_platform.services import organisations
from tests import factories as f
from tests.admin.helpers import console, csrf_token
from tests.concurrency import run_concurrently
from tests.mobile_api.helpers import signed

BEIJING = timezone(timedelta(hours=8))
EVENTS = "/api/v1/partner/events"


def create(client, name="泰安公交集团", kind="transit"):
    page = client.post("/admin/partners", data={"csrf_token": csrf_token(client, "/admin/partners"), "name": name,
                                                "kind": kind}).get_data(as_text=True)
    return re.search(r"data-key-id>([^<]+)<", page).group(1), re.search(r"data-secret>([^<]+)<", page).group(1)


def rotation_form(client, partner_id) -> dict:
    """What the list page's rotate button posts: the CSRF token and the newest secret the page knew."""
    page = client.get("/admin/partners").get_data(as_text=True)
    section = page[page.index(f'data-partner="{partner_id}"'):]
    return {"csrf_token": csrf_token(client, "/admin/partners"),
            "after": re.search(r'name="after" value="(\d+)"', section).group(1)}


def ping(app, key_id, secret):
    raw = json.dumps({"echo": "hi"}).encode()
    path = "/api/v1/partner/ping"
    return app.test_client().post(path, data=raw, headers=signed(key_id, secret, raw, path))


def test_an_operator_creates_a_partner_whose_secret_is_shown_once_and_works(app):
    client = console(app)
    key_id, secret = create(client)
    assert ping(app, key_id, secret).status_code == 200
    assert secret not in client.get("/admin/partners").get_data(as_text=True)  # never shown again
    with app.app_context():
        assert db.session.execute(sa.select(AuditEvent.action).where(AuditEvent.action == "partner.register")
                                  ).scalar_one()


def test_rotating_keeps_the_previous_secret_until_the_next_rotation(app):
    client = console(app)
    key_id, first = create(client)
    with app.app_context():
        partner_id = db.session.execute(sa.select(Partner.id)).scalar_one()
    rotate = lambda: re.search(r"data-secret>([^<]+)<", client.post(  # noqa: E731
        f"/admin/partners/{partner_id}/rotate", data=rotation_form(client, partner_id)
    ).get_data(as_text=True)).group(1)
    second = rotate()
    assert ping(app, key_id, first).status_code == ping(app, key_id, second).status_code == 200
    third = rotate()
    assert ping(app, key_id, first).status_code == 401 and ping(app, key_id, third).status_code == 200


def test_settings_limit_the_scenes_and_the_rate_and_switch_the_feed_off(app):
    client = console(app)
    key_id, secret = create(client)
    with app.app_context():
        partner_id = db.session.execute(sa.select(Partner.id)).scalar_one()

    def settings(**values):
        return client.post(f"/admin/partners/{partner_id}/settings",
                           data={"csrf_token": csrf_token(client, "/admin/partners"), **values})

    refused = settings(allowed_scenarios="brt_ride", rate_limit="every other tuesday", active="y")
    assert refused.status_code == 400 and "请求速率的写法" in refused.get_data(as_text=True)  # in Chinese
    assert settings(allowed_scenarios="brt_ride", rate_limit="3 per minute", active="y").status_code == 302
    event = {"event_id": "e1", "scenario": "bus_ride", "binding": {"kind": "transit_card", "id": "88012345"},
             "occurred_at": datetime.now(BEIJING).replace(microsecond=0).isoformat(), "inputs": {"distance_km": 3}}
    raw = json.dumps({"events": [event]}).encode()
    feed = app.test_client()
    response = feed.post("/api/v1/partner/events", data=raw, headers=signed(key_id, secret, raw, EVENTS))
    assert response.json["results"][0]["status"] == "rejected"  # bus_ride is not among its scenes now
    assert "may not report bus_ride" in response.json["results"][0]["reason"]
    statuses = [feed.post("/api/v1/partner/events", data=raw, headers=signed(key_id, secret, raw, EVENTS)).status_code
                for _ in range(3)]
    assert statuses == [200, 200, 429]  # 3 a minute, counted per partner
    settings(allowed_scenarios="", rate_limit="3 per minute")  # no "active": switched off
    assert ping(app, key_id, secret).status_code == 401


def test_auditors_see_partners_but_cannot_change_them(app):
    client = console(app, AdminRole.AUDITOR)
    page = client.get("/admin/partners").get_data(as_text=True)
    assert "新建合作方" not in page
    assert client.post("/admin/partners", data={"csrf_token": csrf_token(client, "/admin/partners"),
                                                "name": "x", "kind": "transit"}).status_code == 403


def test_the_console_shows_until_when_a_partner_may_sign_the_old_way(app):
    client = console(app)
    create(client)
    assert "data-legacy-signature" not in client.get("/admin/partners").get_data(as_text=True)  # new: never
    with app.app_context():
        partner = db.session.execute(sa.select(Partner)).scalar_one()
        partner.legacy_signature_until = datetime(2027, 4, 1, tzinfo=UTC)
        db.session.commit()
    page = client.get("/admin/partners").get_data(as_text=True)
    assert "旧签名格式（不含请求方法和路径）可用至 2027-04-01 08:00" in page  # shown in Beijing time
    client.get("/admin/lang/en")
    assert "accepted until 2027-04-01 08:00" in client.get("/admin/partners").get_data(as_text=True)


def test_reloading_the_page_that_shows_a_rotated_secret_does_not_rotate_again(app):
    client = console(app)
    key_id, first = create(client)
    with app.app_context():
        partner_id = db.session.execute(sa.select(Partner.id)).scalar_one()
    form = rotation_form(client, partner_id)
    shown = client.post(f"/admin/partners/{partner_id}/rotate", data=form)
    assert shown.status_code == 200
    second = re.search(r"data-secret>([^<]+)<", shown.get_data(as_text=True)).group(1)
    reloaded = client.post(f"/admin/partners/{partner_id}/rotate", data=form)  # the browser re-posts the form
    html = reloaded.get_data(as_text=True)
    assert reloaded.status_code == 409 and "data-secret" not in html
    assert "密钥已经轮换过" in html  # the list again, saying why, in the console's language
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(PartnerSecret)).scalar_one() == 2
        assert db.session.execute(sa.select(sa.func.count()).where(AuditEvent.action == "partner.secret.rotate")
                                  ).scalar_one() == 1
    # both the partner's deployed secret and the one just shown still work
    assert ping(app, key_id, first).status_code == ping(app, key_id, second).status_code == 200
    client.get("/admin/lang/en")
    english = client.post(f"/admin/partners/{partner_id}/rotate", data=form).get_data(as_text=True)
    assert "The secret has already been rotated" in english


def test_reloading_the_page_that_shows_a_new_partners_secret_does_not_create_another(app):
    client = console(app)
    page = client.get("/admin/partners").get_data(as_text=True)
    form = {"csrf_token": csrf_token(client, "/admin/partners"), "name": "泰安公交集团", "kind": "transit",
            "once": re.search(r'name="once"[^>]*value="([^"]+)"', page).group(1)}
    assert "data-secret" in client.post("/admin/partners", data=form).get_data(as_text=True)
    reloaded = client.post("/admin/partners", data=form)
    assert reloaded.status_code == 409 and "没有再创建合作方" in reloaded.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Partner)).scalar_one() == 1


@pytest.mark.concurrency
def test_two_rotations_from_the_same_page_at_once_rotate_once(app):
    """Two administrators (or a double click) rotating from one page: one rotation, so the secret the
    partner runs on is never revoked by a second one; repeated 20 times."""
    client = console(app)
    key_id, _first = create(client)
    with app.app_context():
        partner_id = db.session.execute(sa.select(Partner.id)).scalar_one()
    for repetition in range(20):
        with app.app_context():
            newest = db.session.execute(sa.select(sa.func.max(PartnerSecret.id))).scalar_one()
        outcomes = run_concurrently(app, lambda _i, newest=newest: organisations.rotate_partner_secret(
            db.session.get(Partner, partner_id), actor=f.TEST_ACTOR, after=newest), 2)
        assert not outcomes.errors, f"repetition {repetition}: {outcomes.errors}"
        assert len(outcomes.ok) == 1 and outcomes.refused_codes == {"secret_already_rotated": 1}, repetition
        with app.app_context():
            live = db.session.get(Partner, partner_id).live_secrets()
            assert [s.id for s in live][0] == newest, repetition  # the previous secret is still live
            assert len(live) == 2


def test_the_form_offers_every_partner_kind_in_words_and_registers_the_new_ones(app):
    client = console(app)
    page = client.get("/admin/partners").get_data(as_text=True)
    for kind, words in (("bike_share", "共享单车"), ("vehicle", "新能源汽车平台"), ("recycling", "再生资源回收"),
                        ("forestry", "植树与碳汇林"), ("transit", "公交")):
        assert f'<option value="{kind}">{words}</option>' in page
    client.get("/admin/lang/en")
    page = client.get("/admin/partners").get_data(as_text=True)
    assert '<option value="bike_share">Bike share</option>' in page
    assert '<option value="forestry">Tree planting and carbon-sink forests</option>' in page
    create(client, name="泰安共享单车", kind="bike_share")
    with app.app_context():
        kind = db.session.execute(sa.select(Partner.kind).where(Partner.name == "泰安共享单车")).scalar_one()
    assert kind == "bike_share"
    assert '<span data-kind="bike_share">Bike share</span>' in client.get("/admin/partners").get_data(as_text=True)
