"""Enterprises: their registered contact logs in and sees the enterprise's carbon account, as a resident does."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.models import PartnerKind
from carbon_platform.services import organisations
from tests import factories as f
from tests.mobile_api.helpers import assert_error, bearer, bind_proven, resident_headers, signed, sms_code, tokens

BEIJING = timezone(timedelta(hours=8))
ENTERPRISE_AUTH = "/api/v1/enterprise/auth"


@pytest.fixture
def company(app, client):
    """An enterprise with the rulebook in force, logged in through the API by its registered contact."""
    with app.app_context():
        seeding.load_reference()
        enterprise = f.enterprise(name="泰安绿能光伏科技有限公司")
        contact, ids = enterprise.contact_phone.removeprefix("+86"), (enterprise.id, enterprise.account_id)
        commit()
    return {"id": ids[0], "account_id": ids[1], "phone": contact,
            "headers": bearer(tokens(client, app, contact, prefix=ENTERPRISE_AUTH))}


def test_the_contact_logs_in_and_sees_the_enterprise_account(client, company):
    me = client.get("/api/v1/enterprise/me", headers=company["headers"])
    assert me.status_code == 200, me.json
    assert me.json["id"] == company["id"] and me.json["name"] == "泰安绿能光伏科技有限公司"
    assert me.json["balances"] == {"available": 0, "pending": 0, "next_release_at": None, "expiring_soon": 0,
                                   "expiring_within_days": 30}
    assert me.json["district"]["code"] == "370900-hitech"


def test_enterprise_and_resident_tokens_keep_to_their_own_endpoints(client, app, company):
    assert_error(client.get("/api/v1/me", headers=company["headers"]), 403)  # a resident's profile
    assert_error(client.get("/api/v1/households/1", headers=company["headers"]), 403)
    assert_error(client.get("/api/v1/enterprise/me", headers=resident_headers(client, app)), 403)


def test_a_phone_that_is_no_contact_gets_the_same_answer_and_no_message(client, app):
    stranger = f.phone()
    response = client.post(f"{ENTERPRISE_AUTH}/codes", json={"phone": stranger})
    assert response.status_code == 202 and response.json == {"expires_in": 300}
    assert app.extensions["sms_sender"].outbox == []


def test_the_contact_of_two_enterprises_says_which(client, app):
    phone = f.phone()
    with app.app_context():
        first, second = f.enterprise(contact_phone=phone).id, f.enterprise(contact_phone=phone).id
        commit()
    assert client.post(f"{ENTERPRISE_AUTH}/codes", json={"phone": phone}).status_code == 202
    code = sms_code(app, phone)
    body = assert_error(client.post(f"{ENTERPRISE_AUTH}/tokens", json={"phone": phone, "code": code}), 409,
                        "enterprise_required")
    assert body["details"]["enterprise_ids"] == [first, second]
    assert [choice["id"] for choice in body["details"]["enterprises"]] == [first, second]
    assert all(choice["name"] for choice in body["details"]["enterprises"])
    chosen = client.post(f"{ENTERPRISE_AUTH}/tokens", json={"phone": phone, "code": code, "enterprise_id": second})
    assert chosen.status_code == 201
    assert client.get("/api/v1/enterprise/me", headers=bearer(chosen.json)).json["id"] == second


def test_an_enterprise_self_report_is_credited_to_its_account_and_listed(client, company):
    when = (datetime.now(BEIJING) - timedelta(hours=2)).replace(microsecond=0).isoformat()
    reported = client.post("/api/v1/actions", headers={**company["headers"], "Idempotency-Key": "recycle-1"},
                           json={"scenario": "recyclables", "inputs": {"clothes_kg": 10}, "occurred_at": when})
    assert reported.status_code == 201, reported.json
    # 10 kg of used clothes × the rulebook's factor, floored, then 5 g per point: the receipt says so
    action = client.get(f"/api/v1/me/actions/{reported.json['id']}", headers=company["headers"]).json
    assert action["status"] == "credited" and action["points"] == action["grams"] // 5 > 0
    assert action["receipt"]["scenario"] == "recyclables"
    listed = client.get("/api/v1/me/actions", headers=company["headers"]).json
    assert [a["id"] for a in listed] == [reported.json["id"]]
    me = client.get("/api/v1/enterprise/me", headers=company["headers"]).json
    assert me["balances"]["pending"] == action["points"] and me["reduction"]["lifetime_grams"] == action["grams"]
    history = client.get("/api/v1/me/points/history", headers=company["headers"]).json
    assert [(h["points"], h["grams"]) for h in history] == [(action["points"], action["grams"])]


def test_a_resident_only_scenario_is_not_credited_to_an_enterprise(client, company):
    when = (datetime.now(BEIJING) - timedelta(hours=2)).replace(microsecond=0).isoformat()
    reported = client.post("/api/v1/actions", headers={**company["headers"], "Idempotency-Key": "walk-1"},
                           json={"scenario": "walking", "inputs": {"steps": 8000}, "occurred_at": when})
    assert reported.status_code == 201 and reported.json["status"] == "rejected"
    assert reported.json["points"] == 0


def test_an_enterprise_authorises_a_pv_feed_and_its_readings_are_credited(client, app, company):
    with app.app_context():
        partner, secret = organisations.register_partner(name="光伏云平台", kind=PartnerKind.PV, actor=f.TEST_ACTOR)
        partner_id, key_id = partner.id, partner.key_id
        commit()
    headers = company["headers"]
    bind_proven(client, headers, (partner_id, key_id, secret), "pv_inverter", "INV-7788")
    assert client.post("/api/v1/me/authorisations", headers=headers,
                       json={"partner_id": partner_id, "scenario": "pv_generation"}).status_code == 201
    yesterday = (datetime.now(BEIJING) - timedelta(days=1)).replace(microsecond=0).isoformat()
    raw = json.dumps({"events": [{"event_id": "pv-1", "scenario": "pv_generation", "occurred_at": yesterday,
                                  "binding": {"kind": "pv_inverter", "id": "INV-7788"},
                                  "inputs": {"kwh": 300, "rated_kw": 5, "hours": 720}}]}).encode()
    path = "/api/v1/partner/events"
    response = client.post(path, data=raw, headers=signed(key_id, secret, raw, path))
    assert response.status_code == 200, response.json
    [result] = response.json["results"]
    assert result["status"] == "credited", result
    assert client.get("/api/v1/me/authorisations", headers=headers).json[0]["scenario"] == "pv_generation"
    me = client.get("/api/v1/enterprise/me", headers=headers).json
    # 300 kWh × 641.0 g/kWh (Shandong 2022) = 192,300 g; the points follow the scenario's caps
    assert me["reduction"]["lifetime_grams"] == 192_300 and me["balances"]["pending"] == result["points"] > 0
