"""Merchant low-carbon scenes: the signed rotating code, a resident's check-in with it, and the merchant's list."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from carbon_platform import clock, seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Action, MerchantCheckin
from carbon_platform.services import checkins, invariants
from tests import factories as f
from tests.concurrency import run_concurrently
from tests.mobile_api.helpers import assert_error
from tests.mobile_api.test_rewards import resident_token, staff_token

REPETITIONS = 20
SLOT = timedelta(seconds=checkins.SLOT_SECONDS)


def slot_now():
    """The start of the present minute: tests move the app clock from there."""
    return checkins.slot_start(checkins.slot_of(clock.utcnow()))


@pytest.fixture
def shop(app):
    """A merchant offering clean plate and own bag, a cashier, a second merchant offering clean plate."""
    with app.app_context():
        seeding.load_reference()
        merchant, other = f.merchant(name="泰山光盘餐厅"), f.merchant(name="岱庙小馆")
        checkins.set_scenarios(merchant, ["clean_plate", "own_bag"], actor=f.TEST_ACTOR)
        checkins.set_scenarios(other, ["clean_plate"], actor=f.TEST_ACTOR)
        cashier = f.staff(merchant)
        world = {"merchant": merchant.id, "other": other.id, "staff": staff_token(cashier),
                 "other_staff": staff_token(f.staff(other))}
        commit()
        return world


@pytest.fixture
def at(monkeypatch):
    """Set the app clock: ``at(moment)``."""
    def move(moment):
        monkeypatch.setattr(clock, "utcnow", lambda: moment)
        return moment
    return move


def code_now(client, headers, scenario="clean_plate"):
    response = client.get(f"/api/v1/merchant/checkin-scenes/{scenario}/code", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def post(client, headers, code, key="k1"):
    return client.post("/api/v1/checkins", json={"code": code}, headers={**headers, "Idempotency-Key": key})


def test_a_code_is_signed_per_merchant_scene_and_minute(app, client, shop, at):
    start = at(slot_now())
    first = code_now(client, shop["staff"])
    assert first["code"].startswith(f"TACK1.{shop['merchant']}.clean_plate.")
    assert first["issued_at"] == start.isoformat().replace("+00:00", "Z") or first["issued_at"].startswith(
        start.strftime("%Y-%m-%dT%H:%M"))
    at(start + SLOT - timedelta(seconds=1))
    assert code_now(client, shop["staff"])["code"] == first["code"]
    at(start + SLOT)
    assert code_now(client, shop["staff"])["code"] != first["code"]
    assert code_now(client, shop["staff"], "own_bag")["code"] != code_now(client, shop["staff"])["code"]
    assert code_now(client, shop["other_staff"])["code"] != code_now(client, shop["staff"])["code"]


def test_a_scene_the_merchant_does_not_offer_has_no_code(client, shop):
    assert_error(client.get("/api/v1/merchant/checkin-scenes/bus_ride/code", headers=shop["staff"]), 404,
                 "scene_not_offered")
    assert_error(client.get("/api/v1/merchant/checkin-scenes/own_bag/code", headers=shop["other_staff"]), 404,
                 "scene_not_offered")
    scenes = client.get("/api/v1/merchant/checkin-scenes", headers=shop["staff"]).json
    assert scenes == [{"scenario": "clean_plate", "name_zh": "光盘行动", "name_en": "Clean plate"},
                      {"scenario": "own_bag", "name_zh": "自带购物袋", "name_en": "Own shopping bag"}]


def test_a_resident_checks_in_and_is_credited_by_the_rules(app, client, shop, at):
    at(slot_now())
    code = code_now(client, shop["staff"])["code"]
    with app.app_context():
        headers, account_id = resident_token()
        commit()
    response = post(client, headers, code)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["scenario"] == "clean_plate" and body["merchant_name"] == "泰山光盘餐厅"
    assert body["name_zh"] == "光盘行动" and body["replayed"] is False
    assert body["action"]["status"] == "credited" and body["action"]["channel"] == "merchant_checkin"
    assert body["action"]["points"] > 0
    with app.app_context():
        from carbon_platform.models import CarbonAccount

        account = db.session.get(CarbonAccount, account_id)
        assert account.points_pending + account.points_available == body["action"]["points"]
        assert invariants.verify() == []


def test_a_retry_with_the_same_key_is_the_same_check_in_and_another_code_under_it_is_a_conflict(app, client, shop,
                                                                                                at):
    at(slot_now())
    code = code_now(client, shop["staff"])["code"]
    with app.app_context():
        headers, _ = resident_token()
        commit()
    start = clock.utcnow()
    first = post(client, headers, code, "same")
    again = post(client, headers, code, "same")
    assert again.status_code == 201 and again.json["replayed"] is True
    assert again.json["action"]["id"] == first.json["action"]["id"]
    at(start + timedelta(hours=1))  # a retry after a lost answer, the code long expired: still the same check-in
    late = post(client, headers, code, "same")
    assert late.status_code == 201 and late.json["action"]["id"] == first.json["action"]["id"]
    assert_error(post(client, headers, code, "new-key"), 422, "checkin_code_expired")
    at(start)
    other = code_now(client, shop["staff"], "own_bag")["code"]
    assert_error(post(client, headers, other, "same"), 409, "idempotency_key_reused")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MerchantCheckin)) == 1


def test_a_second_check_in_the_same_day_with_a_new_key_and_code_is_refused(app, client, shop, at):
    start = at(slot_now())
    with app.app_context():
        headers, _ = resident_token()
        commit()
    assert post(client, headers, code_now(client, shop["staff"])["code"], "a").status_code == 201
    at(start + 10 * SLOT)
    assert_error(post(client, headers, code_now(client, shop["staff"])["code"], "b"), 409, "already_checked_in")
    # the same scene at another merchant is another check-in: the rulebook's caps decide it
    assert post(client, headers, code_now(client, shop["other_staff"])["code"], "c").status_code == 201


def test_the_rulebook_cap_holds_across_merchants(app, client, shop, at):
    at(slot_now())
    with app.app_context():
        third = f.merchant(name="第三家")
        checkins.set_scenarios(third, ["clean_plate"], actor=f.TEST_ACTOR)
        third_staff = staff_token(f.staff(third))
        headers, _ = resident_token()
        commit()
    statuses = [post(client, headers, code_now(client, h)["code"], f"cap{i}").json["action"]
                for i, h in enumerate([shop["staff"], shop["other_staff"], third_staff])]
    # clean plate: at most 2 a day (both rulebooks); the engine records the third, capped to nothing
    assert [s["points"] > 0 for s in statuses] == [True, True, False]
    assert statuses[2]["points"] == 0 and statuses[2]["grams"] == 0


@pytest.mark.parametrize("age", [0, 1, checkins.VALID_SLOTS * 60 - 1])
def test_a_code_is_accepted_from_its_minute_until_it_expires(app, client, shop, at, age):
    start = at(slot_now())
    code = code_now(client, shop["staff"])
    assert code["expires_at"].startswith((start + checkins.VALID_SLOTS * SLOT).strftime("%Y-%m-%dT%H:%M"))
    with app.app_context():
        headers, _ = resident_token()
        commit()
    at(start + timedelta(seconds=age))
    assert post(client, headers, code["code"]).status_code == 201


@pytest.mark.parametrize("shift", [checkins.VALID_SLOTS * 60, checkins.VALID_SLOTS * 60 + 1, 86_400, -1])
def test_an_expired_code_or_one_from_the_future_is_refused(app, client, shop, at, shift):
    start = at(slot_now())
    code = code_now(client, shop["staff"])["code"]
    with app.app_context():
        headers, _ = resident_token()
        commit()
    at(start + timedelta(seconds=shift))
    assert_error(post(client, headers, code), 422, "checkin_code_expired")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Action)) == 0


def test_yesterdays_photographed_code_is_refused(app, client, shop, at):
    start = at(slot_now() - timedelta(days=1))
    yesterday = code_now(client, shop["staff"])["code"]
    at(start + timedelta(days=1))
    with app.app_context():
        headers, _ = resident_token()
        commit()
    assert_error(post(client, headers, yesterday), 422, "checkin_code_expired")


def test_tampered_codes_are_refused(app, client, shop, at):
    at(slot_now())
    code = code_now(client, shop["staff"])["code"]
    prefix, merchant, scenario, slot, mac = code.split(".")
    with app.app_context():
        headers, _ = resident_token()
        commit()
    forged = [
        f"{prefix}.{shop['other']}.{scenario}.{slot}.{mac}",  # another merchant
        f"{prefix}.{merchant}.own_bag.{slot}.{mac}",  # another scene
        f"{prefix}.{merchant}.{scenario}.{int(slot) + 1}.{mac}",  # another minute
        f"{prefix}.{merchant}.{scenario}.{slot}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
        f"TACK2.{merchant}.{scenario}.{slot}.{mac}", "VCH1.1.abc", "", "x" * 200,
    ]
    for n, bad in enumerate(forged):
        response = post(client, headers, bad, f"t{n}")
        assert response.status_code == 422, (bad, response.json)
        assert response.json["error"]["code"] in ("checkin_code_invalid", "validation_error"), bad
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MerchantCheckin)) == 0


def test_a_scene_no_longer_offered_or_an_inactive_merchant_is_refused(app, client, shop, at):
    at(slot_now())
    bag = code_now(client, shop["staff"], "own_bag")["code"]
    plate = code_now(client, shop["other_staff"])["code"]
    with app.app_context():
        from carbon_platform.models import Merchant

        checkins.set_scenarios(db.session.get(Merchant, shop["merchant"]), ["clean_plate"], actor=f.TEST_ACTOR)
        db.session.get(Merchant, shop["other"]).active = False
        headers, _ = resident_token()
        commit()
    assert_error(post(client, headers, bag, "a"), 422, "scene_not_offered")
    assert_error(post(client, headers, plate, "b"), 422, "merchant_inactive")


def test_staff_and_strangers_cannot_check_in_and_residents_cannot_fetch_codes(app, client, shop, at):
    at(slot_now())
    code = code_now(client, shop["staff"])["code"]
    assert_error(post(client, shop["staff"], code), 403)
    assert_error(client.post("/api/v1/checkins", json={"code": code}, headers={"Idempotency-Key": "x"}), 401)
    with app.app_context():
        headers, _ = resident_token()
        commit()
    assert_error(client.get("/api/v1/merchant/checkin-scenes/clean_plate/code", headers=headers), 403)
    assert_error(client.post("/api/v1/checkins", json={"code": code}, headers=headers), 422,
                 "idempotency_key_required")
    assert_error(client.post("/api/v1/checkins", json={"code": code, "points": 999},
                             headers={**headers, "Idempotency-Key": "m"}), 422, "validation_error")
    assert_error(client.post("/api/v1/checkins", json={}, headers={**headers, "Idempotency-Key": "n"}), 422,
                 "validation_error")


def test_the_merchant_lists_its_check_ins_by_day_with_phones_masked(app, client, shop, at):
    at(slot_now())
    with app.app_context():
        a, _ = resident_token(phone="+8613800138000")
        b, _ = resident_token()
        commit()
    post(client, a, code_now(client, shop["staff"])["code"], "1")
    post(client, a, code_now(client, shop["staff"], "own_bag")["code"], "2")
    post(client, b, code_now(client, shop["staff"])["code"], "3")
    post(client, b, code_now(client, shop["other_staff"])["code"], "4")  # elsewhere
    listed = client.get("/api/v1/merchant/checkins", headers=shop["staff"])
    assert listed.status_code == 200, listed.json
    body = listed.json
    assert body["count"] == 3
    assert body["by_scenario"] == [{"scenario": "clean_plate", "count": 2, "credited": 2},
                                   {"scenario": "own_bag", "count": 1, "credited": 1}]
    assert "138****8000" in {c["resident"] for c in body["checkins"]}
    assert "13800138000" not in listed.get_data(as_text=True)
    yesterday = (clock.city_day(clock.utcnow()) - timedelta(days=1)).isoformat()
    assert client.get(f"/api/v1/merchant/checkins?day={yesterday}", headers=shop["staff"]).json["count"] == 0
    tomorrow = (clock.city_day(clock.utcnow()) + timedelta(days=1)).isoformat()
    assert_error(client.get(f"/api/v1/merchant/checkins?day={tomorrow}", headers=shop["staff"]), 422)
    assert client.get("/api/v1/merchant/checkins", headers=shop["other_staff"]).json["count"] == 1


@pytest.mark.concurrency
def test_one_resident_racing_two_check_ins_at_one_merchant_gets_one(app, shop):
    with app.app_context():
        now = slot_now()
        code = checkins.code_for(shop["merchant"], "clean_plate", checkins.slot_of(now))
    for repetition in range(REPETITIONS):
        with app.app_context():
            resident = f.resident()
            resident_id = resident.id
            commit()

        def scan(i, rid=resident_id):
            from carbon_platform.models import Resident

            return checkins.check_in(db.session.get(Resident, rid), code, client_key=f"race-{i}", now=now).action.id

        outcomes = run_concurrently(app, scan, 6)
        assert not outcomes.errors, (repetition, outcomes.errors[:2])
        assert len(outcomes.ok) == 1, (repetition, outcomes.ok, outcomes.refused_codes)
        assert outcomes.refused_codes == {"already_checked_in": 5}, repetition
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(MerchantCheckin)
                                     .where(MerchantCheckin.resident_id == resident_id)) == 1
    with app.app_context():
        assert invariants.verify() == []


@pytest.mark.concurrency
def test_one_scan_posted_six_times_at_once_with_one_key_is_one_check_in(app, shop):
    with app.app_context():
        now = slot_now()
        code = checkins.code_for(shop["merchant"], "own_bag", checkins.slot_of(now))
    for repetition in range(REPETITIONS):
        with app.app_context():
            resident_id = f.resident().id
            commit()

        def scan(_i, rid=resident_id):
            from carbon_platform.models import Resident

            return checkins.check_in(db.session.get(Resident, rid), code, client_key="one-scan", now=now).action.id

        outcomes = run_concurrently(app, scan, 6)
        assert not outcomes.errors and not outcomes.refused, (repetition, outcomes.errors[:2], outcomes.refused_codes)
        assert len(set(outcomes.ok)) == 1 and len(outcomes.ok) == 6, repetition
