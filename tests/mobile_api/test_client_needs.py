"""What the H5 client needed from endpoints that existed: vouchers with their merchant's address and face value,
scans that say where and by whom a voucher was used, reasons in words for actions not credited, and members'
points in a household."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Merchant, Voucher
from tests.mobile_api.helpers import assert_error, resident_headers
from tests.mobile_api.test_actions import report
from tests.mobile_api.test_rewards import mall, redeem  # noqa: F401 - mall is a fixture

BEIJING = timezone(timedelta(hours=8))


def test_a_voucher_shows_its_merchant_address_face_value_and_refund(app, client, mall):  # noqa: F811
    with app.app_context():
        db.session.get(Merchant, mall["merchant_id"]).address = "泰山区东岳大街 1 号"
        commit()
    voucher = redeem(client, mall["resident"], mall["coffee"]).json
    assert (voucher["merchant_name"], voucher["merchant_address"]) == ("泰山低碳咖啡", "泰山区东岳大街 1 号")
    assert (voucher["face_value_fen"], voucher["points"], voucher["refunded_points"]) == (1500, 300, 0)
    assert voucher["code"] and len(voucher["short_code"]) == 10 and voucher["expires_at"]
    listed = client.get("/api/v1/me/vouchers", headers=mall["resident"]).json
    assert listed[0]["merchant_address"] == "泰山区东岳大街 1 号" and listed[0]["face_value_fen"] == 1500
    cancelled = client.post(f"/api/v1/me/vouchers/{voucher['id']}/cancel", headers=mall["resident"], json={}).json
    assert (cancelled["status"], cancelled["refunded_points"]) == ("cancelled", 300)
    again = client.get(f"/api/v1/me/vouchers/{voucher['id']}", headers=mall["resident"]).json
    assert (again["status"], again["refunded_points"]) == ("cancelled", 300)


def test_each_scan_outcome_is_distinguishable_and_already_used_says_when_where_and_by_whom(app, client, mall):  # noqa: F811
    used = redeem(client, mall["resident"], mall["coffee"]).json
    body = {"code": used["code"], "scan_nonce": "nonce-first-scan"}
    first = client.post("/api/v1/merchant/vouchers/consume", headers=mall["cashier"], json=body).json
    assert first["outcome"] == "consumed" and first["merchant_name"] == "泰山低碳咖啡"
    assert (first["reward_name_zh"], first["face_value_fen"]) == ("低碳咖啡一杯", 1500) and first["expires_at"]
    later = client.post("/api/v1/merchant/vouchers/verify", headers=mall["cashier"], json={"code": used["code"]}).json
    assert later["outcome"] == "already_used"
    assert (later["consumed_at"], later["merchant_name"], later["consumed_by"]) == (
        first["consumed_at"], "泰山低碳咖啡", "店员")
    valid = redeem(client, mall["resident"], mall["coffee"]).json
    fresh = client.post("/api/v1/merchant/vouchers/verify", headers=mall["cashier"], json={"code": valid["code"]}).json
    assert (fresh["outcome"], fresh["consumed_at"], fresh["consumed_by"]) == ("valid", None, None)
    assert_error(client.post("/api/v1/merchant/vouchers/verify", headers=mall["stranger"],
                             json={"code": valid["code"]}), 403, "other_merchant")
    client.post(f"/api/v1/me/vouchers/{valid['id']}/cancel", headers=mall["resident"], json={})
    assert client.post("/api/v1/merchant/vouchers/verify", headers=mall["cashier"],
                       json={"code": valid["code"]}).json["outcome"] == "cancelled"
    late = redeem(client, mall["resident"], mall["coffee"]).json
    with app.app_context():
        db.session.execute(sa.update(Voucher).where(Voucher.id == late["id"])
                           .values(expires_at=datetime.now(BEIJING) - timedelta(seconds=1)))
        commit()
    assert client.post("/api/v1/merchant/vouchers/verify", headers=mall["cashier"],
                       json={"code": late["code"]}).json["outcome"] == "expired"


def test_an_action_not_credited_says_why_in_both_languages(client, headers):
    credited = report(client, headers, "walk-ok").json
    assert credited["status"] == "credited" and (credited["reason_zh"], credited["reason_en"]) == (None, None)
    old = (datetime.now(BEIJING) - timedelta(days=9)).replace(microsecond=0).isoformat()
    too_old = report(client, headers, "walk-old", occurred_at=old).json
    assert too_old["status"] == "rejected" and too_old["reason"] == "outside_claim_window"
    assert too_old["reason_zh"] == "行动发生已超过申报期限，未计入。" and "7 days" in too_old["reason_en"]
    fast = report(client, headers, "ride-fast", scenario="cycling", inputs={"distance_km": 50, "minutes": 30}).json
    assert fast["status"] == "review"
    assert fast["reason_zh"] == "待人工核实：平均速度超过 30 km/h，不像骑行。"  # the rulebook's own words
    assert fast["reason_en"] == "Held for checking: average speed above 30 km/h is not cycling."
    detail = client.get(f"/api/v1/me/actions/{fast['id']}", headers=headers).json
    assert (detail["reason_zh"], detail["reason_en"]) == (fast["reason_zh"], fast["reason_en"])
    receipt = detail["receipt"]
    assert receipt["methodology_version"] == "TA-BIKE-2026.1" and receipt["steps"]
    assert {(f["id"], f["unit"]) for f in receipt["factors"]} == {("er_cycling_per_km", "g/km")}
    assert all(f["source"] and f["value"] for f in receipt["factors"])
    listed = client.get("/api/v1/me/actions?status=rejected", headers=headers).json
    assert [a["reason_zh"] for a in listed] == ["行动发生已超过申报期限，未计入。"]


def test_household_members_show_their_names_grams_and_points(app, client, headers):
    household = client.post("/api/v1/households", headers=headers,
                            json={"name": "王家", "address": "泰山区 1 号", "district": "370902"}).json
    code = client.post(f"/api/v1/households/{household['id']}/invitations", headers=headers, json={}).json["code"]
    member = resident_headers(client, app)
    assert client.patch("/api/v1/me", headers=member, json={"display_name": "小李"}).status_code == 200
    assert client.post("/api/v1/households/join", headers=member, json={"code": code}).status_code == 200
    walk = report(client, member, "member-walk").json
    assert walk["status"] == "credited" and walk["points"] > 0
    view = client.get(f"/api/v1/households/{household['id']}", headers=headers).json
    by_name = {m["display_name"]: m for m in view["members"]}
    assert (by_name["小李"]["lifetime_points"], by_name["小李"]["lifetime_grams"]) == (walk["points"], walk["grams"])
    head = next(m for m in view["members"] if m["role"] == "head")
    assert (head["lifetime_points"], head["lifetime_grams"]) == (0, 0)
