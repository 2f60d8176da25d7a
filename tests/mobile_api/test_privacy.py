"""PIPL over the API: a resident downloads everything held about them (writing nothing) and deletes their
account: vouchers refunded and restocked, points cancelled by a close journal, personal data erased, tokens
revoked, the ledger's anonymised figures kept, partner data for old bindings unmatched, the phone free again."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.errors import Conflict
from carbon_platform.extensions import db, limiter
from carbon_platform.models import (
    Action,
    AuditEvent,
    Authorisation,
    AuthToken,
    Binding,
    BindingCode,
    CarbonAccount,
    Evidence,
    HouseholdMembership,
    Journal,
    JournalKind,
    LedgerEntry,
    LoginCode,
    Merchant,
    PartnerKind,
    Resident,
    Reward,
    Voucher,
)
from carbon_platform.services import accounts, evidence, invariants, organisations
from tests import factories as f
from tests.mobile_api.helpers import assert_error, bearer, bind_proven, resident_headers, signed, tokens
from tests.mobile_api.test_evidence import jpeg, upload
from tests.mobile_api.test_rewards import REPETITIONS, resident_token, staff_token
from tests.serving import race, served

BEIJING = timezone(timedelta(hours=8))
CARD = "8801 2345 6789"
EVENTS = "/api/v1/partner/events"
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")


def bus_event(event_id: str) -> dict:
    return {"event_id": event_id, "scenario": "bus_ride", "binding": {"kind": "transit_card", "id": CARD},
            "occurred_at": (datetime.now(BEIJING) - timedelta(minutes=30)).replace(microsecond=0).isoformat(),
            "inputs": {"distance_km": 6.2}}


def send(client, partner, *events) -> list[str]:
    _id, key_id, secret = partner
    raw = json.dumps({"events": list(events)}).encode()
    response = client.post(EVENTS, data=raw, headers=signed(key_id, secret, raw, EVENTS))
    assert response.status_code == 200, response.get_data(as_text=True)
    return [r["status"] for r in response.json["results"]]


def count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


@pytest.fixture
def life(app, client):
    """A resident with a proven bus card, consent, a credited bus ride, a photo-backed report, points
    available and pending, and an open voucher."""
    with app.app_context():
        seeding.load_reference()
        bus, secret = organisations.register_partner(name="泰安公交集团", kind=PartnerKind.TRANSIT, actor=f.TEST_ACTOR)
        shop = f.merchant(name="泰山低碳咖啡", address="泰山大街 1 号")
        reward_id = f.reward(shop, stock=3, points_price=100).id
        commit()
        partner = (bus.id, bus.key_id, secret)
    phone = f.phone()
    pair = tokens(client, app, phone)
    headers = bearer(pair)
    assert client.patch("/api/v1/me", headers=headers, json={"display_name": "小王", "real_name": "王小明",
                                                            "district": "370902"}).status_code == 200
    bind_proven(client, headers, partner, "transit_card", CARD)
    assert client.post("/api/v1/me/authorisations", headers=headers,
                       json={"partner_id": partner[0], "scenario": "bus_ride"}).status_code == 201
    assert send(client, partner, bus_event("before")) == ["credited"]  # pending (held two days)
    photo = upload(client, headers, jpeg(64, 48))
    assert photo.status_code == 201
    walk = client.post("/api/v1/actions", headers={**headers, "Idempotency-Key": "zero-waste-1"}, json={
        "scenario": "taishan_zero_waste", "occurred_at": datetime.now(BEIJING).replace(microsecond=0).isoformat(),
        "inputs": {}, "evidence": [photo.json["id"]]})
    assert walk.status_code == 201, walk.json
    with app.app_context():
        resident = db.session.execute(sa.select(Resident).where(Resident.phone.like(f"%{phone[-11:]}"))).scalar_one()
        f.fund(resident.account_id, 500)
        commit()
        ids = {"resident": resident.id, "account": resident.account_id}
    voucher = client.post(f"/api/v1/rewards/{reward_id}/redemptions", headers={**headers, "Idempotency-Key": "v-1"},
                          json={})
    assert voucher.status_code == 201, voucher.json
    return {"headers": headers, "refresh_token": pair["refresh_token"], "phone": phone, "partner": partner,
            "reward_id": reward_id, "voucher_id": voucher.json["id"], "photo_id": photo.json["id"],
            "walk_id": walk.json["id"], **ids}


def test_the_export_holds_everything_about_me_and_no_secret_and_writes_nothing(app, client, life):
    with app.app_context():
        before = {model: count(model) for model in (AuditEvent, Journal, AuthToken, LoginCode)}
        secrets = [h for (h,) in db.session.execute(sa.select(Binding.identifier_hash))]
        secrets += [h for (h,) in db.session.execute(sa.select(AuthToken.token_hash))]
        secrets += [h for (h,) in db.session.execute(sa.select(LoginCode.code_hash))]
    response = client.get("/api/v1/me/export", headers=life["headers"])
    assert response.status_code == 200
    day = datetime.now(BEIJING).strftime("%Y%m%d")
    disposition = response.headers["Content-Disposition"]
    assert disposition in (f'attachment; filename="carbon-export-{life["resident"]}-{day}.json"',
                           f'attachment; filename="carbon-export-{life["resident"]}-'
                           f'{(datetime.now(BEIJING) - timedelta(minutes=1)).strftime("%Y%m%d")}.json"')
    body = response.json
    assert body["format"] == "carbon-taian-personal-data/1" and body["truncated"] == []
    profile = body["profile"]
    assert (profile["id"], profile["display_name"], profile["real_name"]) == (life["resident"], "小王", "王小明")
    assert profile["phone"].endswith(life["phone"][-11:]) and profile["district"]["code"] == "370902"
    assert body["account"]["points_available"] == 400 and body["account"]["points_pending"] > 0
    assert [(b["kind"], b["last4"], b["status"], b["partner"]) for b in body["bindings"]] == [
        ("transit_card", "6789", "active", "泰安公交集团")]
    assert [(a["partner"], a["scenario"]) for a in body["authorisations"]] == [("泰安公交集团", "bus_ride")]
    walk = next(a for a in body["actions"] if a["id"] == life["walk_id"])
    assert walk["scenario"] == "taishan_zero_waste" and walk["receipt"]
    assert [(p["id"], p["width"], p["height"]) for p in walk["evidence"]] == [(life["photo_id"], 64, 48)]
    assert walk["evidence"][0]["bytes"] > 0
    assert {a["scenario"] for a in body["actions"]} == {"bus_ride", "taishan_zero_waste"}
    assert [(v["id"], v["status"], v["merchant"]) for v in body["vouchers"]] == [
        (life["voucher_id"], "issued", "泰山低碳咖啡")]
    assert {"earn", "spend"} <= {j["kind"] for j in body["points_history"]}
    assert body["sessions"] and all(s["active"] for s in body["sessions"])
    assert body["login_codes"] and body["login_codes"][0]["used_at"]
    text = response.get_data(as_text=True)
    assert not [s for s in secrets if s in text]  # no hash of any kind
    assert "code" not in body["vouchers"][0] and life["refresh_token"] not in text
    with app.app_context():
        assert {model: count(model) for model in before} == before  # a GET: no audit row, nothing


def test_deleting_closes_the_account_erases_me_and_keeps_the_anonymised_figures(app, client, life):
    with app.app_context():
        photo = db.session.get(Evidence, life["photo_id"])
        files = [evidence.path_of(photo), evidence.path_of(photo, thumbnail=True)]
        stock = db.session.get(Reward, life["reward_id"]).stock
        grams = db.session.get(CarbonAccount, life["account"]).reduction_grams
    assert all(os.path.exists(p) for p in files) and grams > 0

    response = client.delete("/api/v1/me", headers=life["headers"])
    assert response.status_code == 204 and response.get_data() == b""
    assert_error(client.delete("/api/v1/me", headers=life["headers"]), 401, "invalid_token")
    assert_error(client.get("/api/v1/me", headers=life["headers"]), 401, "invalid_token")
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": life["refresh_token"]}), 401)

    with app.app_context():
        assert invariants.verify() == []
        voucher = db.session.get(Voucher, life["voucher_id"])
        assert voucher.status.value == "cancelled" and voucher.refunded_points == 100
        assert db.session.get(Reward, life["reward_id"]).stock == stock + 1
        account = db.session.get(CarbonAccount, life["account"])
        assert (account.points_available, account.points_pending) == (0, 0)
        assert account.closed_at is not None and account.frozen and account.reduction_grams == grams
        closing = db.session.execute(sa.select(Journal).where(Journal.kind == JournalKind.CLOSE)).scalar_one()
        assert closing.account_id == account.id
        resident = db.session.get(Resident, life["resident"])
        assert resident.phone == f"del-{resident.id}" and resident.deleted_at is not None
        assert (resident.display_name, resident.real_name, resident.district_id) == ("已注销用户", None, None)
        for model in (Binding, Authorisation, BindingCode, Evidence):
            assert db.session.execute(sa.select(sa.func.count()).select_from(model)
                                      .where(model.account_id == account.id)).scalar_one() == 0, model
        assert db.session.execute(sa.select(sa.func.count()).select_from(AuthToken).where(
            AuthToken.subject_id == resident.id, AuthToken.revoked_at.is_(None))).scalar_one() == 0
        assert count(LoginCode) == 0
        # The anonymised figures stay: actions and their receipts, journals and entries.
        assert db.session.execute(sa.select(sa.func.count()).select_from(Action)
                                  .where(Action.account_id == account.id)).scalar_one() == 2
        assert db.session.execute(sa.select(sa.func.count()).select_from(LedgerEntry)
                                  .where(LedgerEntry.account_id == account.id)).scalar_one() > 0
        event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "resident.delete")).scalar_one()
        assert life["phone"][-11:] not in json.dumps(event.details) and "王" not in json.dumps(event.details)
        assert event.details["vouchers_cancelled"] == 1
    assert not any(os.path.exists(p) for p in files)

    # The old card's trips now match no one, and nothing reaches the closed account.
    assert send(client, life["partner"], bus_event("after")) == ["unmatched"]
    with app.app_context():
        assert db.session.get(CarbonAccount, life["account"]).points_pending == 0

    # The same phone logs in to a new, empty account (after the resend interval the limiter enforces).
    limiter.reset()
    again = resident_headers(client, app, life["phone"])
    me = client.get("/api/v1/me", headers=again).json
    assert me["id"] != life["resident"] and me["balances"]["available"] == 0 and me["reduction"]["lifetime_grams"] == 0
    assert client.get("/api/v1/me/bindings", headers=again).json == []


def test_a_closed_account_cannot_be_unfrozen(app, client, life):
    assert client.delete("/api/v1/me", headers=life["headers"]).status_code == 204
    with app.app_context():
        account = db.session.get(CarbonAccount, life["account"])
        with pytest.raises(Conflict) as refused:
            accounts.set_frozen(account, False, actor=f.TEST_ACTOR, reason="mistake")
        assert refused.value.code == "account_closed"


def _snapshot() -> dict:
    return {model: count(model) for model in (AuditEvent, Journal, LedgerEntry, Binding, Authorisation,
                                              HouseholdMembership, Evidence)}


def test_a_head_with_members_must_hand_over_first_and_nothing_is_written(app, client, life):
    household = client.post("/api/v1/households", headers=life["headers"],
                            json={"name": "王家", "address": "泰山区 1 号", "district": "370902"})
    assert household.status_code == 201, household.json
    code = client.post(f"/api/v1/households/{household.json['id']}/invitations", headers=life["headers"],
                       json={}).json["code"]
    member = resident_headers(client, app)
    assert client.post("/api/v1/households/join", headers=member, json={"code": code}).status_code == 200
    with app.app_context():
        before = _snapshot()
    refused = client.delete("/api/v1/me", headers=life["headers"])
    assert_error(refused, 409, "deletion_blocked")
    assert refused.json["error"]["details"]["reasons"] == ["household_head_with_members"]
    with app.app_context():
        assert _snapshot() == before
        assert db.session.get(Voucher, life["voucher_id"]).status.value == "issued"
    assert client.get("/api/v1/me", headers=life["headers"]).status_code == 200  # still signed in


def test_an_action_under_review_must_be_decided_first(client, life):
    implausible = client.post("/api/v1/actions", headers={**life["headers"], "Idempotency-Key": "fast-ride"}, json={
        "scenario": "cycling", "occurred_at": datetime.now(BEIJING).replace(microsecond=0).isoformat(),
        "inputs": {"distance_km": 50, "minutes": 30}})  # 100 km/h: held for review
    assert implausible.status_code == 201 and implausible.json["status"] == "review", implausible.json
    refused = client.delete("/api/v1/me", headers=life["headers"])
    assert_error(refused, 409, "deletion_blocked")
    assert refused.json["error"]["details"]["reasons"] == ["actions_under_review"]


def test_a_member_leaves_their_household_and_a_lone_head_closes_theirs(app, client, life):
    household = client.post("/api/v1/households", headers=life["headers"],
                            json={"name": "王家", "address": "泰山区 1 号", "district": "370902"}).json
    code = client.post(f"/api/v1/households/{household['id']}/invitations", headers=life["headers"],
                       json={}).json["code"]
    member = resident_headers(client, app)
    assert client.post("/api/v1/households/join", headers=member, json={"code": code}).status_code == 200
    assert client.delete("/api/v1/me", headers=member).status_code == 204
    view = client.get(f"/api/v1/households/{household['id']}", headers=life["headers"]).json
    assert len(view["members"]) == 1
    assert client.delete("/api/v1/me", headers=life["headers"]).status_code == 204  # a head alone may go
    with app.app_context():
        assert count(HouseholdMembership) == 0
        assert invariants.verify() == []


def test_deletion_needs_a_resident_token_and_no_body(client, life):
    assert_error(client.delete("/api/v1/me"), 401)
    assert_error(client.delete("/api/v1/me", headers=life["headers"], json={"confirm": True}), 422)
    assert client.get("/api/v1/me", headers=life["headers"]).status_code == 200


def test_an_expired_voucher_is_closed_as_the_expiry_job_would_then_the_points_are_cancelled(app, client, life):
    with app.app_context():
        db.session.execute(sa.update(Voucher).where(Voucher.id == life["voucher_id"])
                           .values(expires_at=datetime.now(BEIJING) - timedelta(minutes=1)))
        commit()
    assert client.delete("/api/v1/me", headers=life["headers"]).status_code == 204
    with app.app_context():
        voucher = db.session.get(Voucher, life["voucher_id"])
        assert voucher.status.value == "expired" and voucher.refunded_points == 100  # the reward refunds on expiry
        account = db.session.get(CarbonAccount, life["account"])
        assert (account.points_available, account.points_pending) == (0, 0)
        assert invariants.verify() == []


@pytest.mark.concurrency
def test_a_deletion_racing_redemptions_and_a_till_leaves_every_voucher_settled_and_the_ledger_true(app, client):
    """Twenty times: DELETE /me, three redemptions and a till consuming the resident's open voucher, all at once.
    Whatever wins, no voucher stays open, a consumed one is never refunded, the account ends with no points and
    the invariants hold."""
    with app.app_context():
        seeding.load_reference()
        shop = f.merchant()
        cashier, shop_id = staff_token(f.staff(shop)), shop.id
        commit()
    with served(app) as address:
        for repetition in range(REPETITIONS):
            with app.app_context():
                reward_id = f.reward(db.session.get(Merchant, shop_id), stock=10, points_price=100).id
                headers, account_id = resident_token(1000)
                commit()
            open_voucher = client.post(f"/api/v1/rewards/{reward_id}/redemptions",
                                       headers={**headers, "Idempotency-Key": "first"}, json={}).json
            requests = [("DELETE", "/api/v1/me", headers, None),
                        ("POST", "/api/v1/merchant/vouchers/consume", cashier,
                         {"code": open_voucher["code"], "scan_nonce": f"race-{repetition:04d}"})]
            requests += [("POST", f"/api/v1/rewards/{reward_id}/redemptions",
                          {**headers, "Idempotency-Key": f"race-{i}"}, {}) for i in range(3)]
            (deleted, _), (scanned, scan), *redeemed = race(address, requests)
            assert deleted == 204, f"repetition {repetition}: {deleted}"
            assert scanned == 200 and scan["outcome"] in ("consumed", "cancelled"), f"repetition {repetition}"
            assert {status for status, _ in redeemed} <= {201, 401, 409}, f"repetition {repetition}: {redeemed}"
            with app.app_context():
                account = db.session.get(CarbonAccount, account_id)
                assert (account.points_available, account.points_pending) == (0, 0), f"repetition {repetition}"
                states = db.session.execute(sa.select(Voucher.status, Voucher.refunded_points)
                                            .where(Voucher.account_id == account_id)).all()
                assert all(state.value in ("consumed", "cancelled") for state, _ in states), states
                assert all(refund == 0 for state, refund in states if state.value == "consumed"), states
                consumed = sum(1 for state, _ in states if state.value == "consumed")
                assert db.session.get(Reward, reward_id).stock == 10 - consumed
                assert invariants.verify() == [], f"repetition {repetition}"
