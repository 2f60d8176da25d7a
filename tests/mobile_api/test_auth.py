"""Login by SMS code, tokens (hashed, expiring, rotating, revocable), throttling, staff login."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Audience, AuthToken, LoginCode, Merchant, MerchantStaff, Resident
from carbon_platform.services import auth
from carbon_platform.services.auth import token_hash
from tests import factories as f
from tests.mobile_api.helpers import assert_error, bearer, resident_headers, sms_code, tokens
from tests.serving import race, served


def test_first_login_opens_a_carbon_account(client, app):
    phone = f.phone()
    body = tokens(client, app, phone)
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    me = client.get("/api/v1/me", headers=bearer(body))
    assert me.status_code == 200
    assert me.json["phone"] == "+86" + phone
    assert me.json["balances"] == {"available": 0, "pending": 0, "next_release_at": None, "expiring_soon": 0,
                                   "expiring_within_days": 30}
    assert me.json["display_name"] == f"泰安市民{phone[-4:]}"


def test_tokens_and_codes_are_stored_only_as_hashes(client, app):
    phone = f.phone()
    body = tokens(client, app, phone)
    with app.app_context():
        stored = {t.token_hash for t in db.session.execute(sa.select(AuthToken)).scalars()}
        assert token_hash(body["access_token"]) in stored and body["access_token"] not in stored
        code_row = db.session.execute(sa.select(LoginCode)).scalar_one()
        assert sms_code(app, phone) not in code_row.code_hash


def test_a_wrong_code_counts_and_five_wrong_codes_burn_it(client, app):
    phone = f.phone()
    client.post("/api/v1/auth/codes", json={"phone": phone})
    right = sms_code(app, phone)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        assert_error(client.post("/api/v1/auth/tokens", json={"phone": phone, "code": wrong}), 401, "invalid_code")
    # The sixth try, even with the right code, fails: the code is spent.
    assert_error(client.post("/api/v1/auth/tokens", json={"phone": phone, "code": right}), 401, "invalid_code")
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Resident)).scalar_one() == 0


def test_a_code_works_once_and_not_after_it_expires(client, app):
    phone = f.phone()
    client.post("/api/v1/auth/codes", json={"phone": phone})
    code = sms_code(app, phone)
    assert client.post("/api/v1/auth/tokens", json={"phone": phone, "code": code}).status_code == 201
    assert_error(client.post("/api/v1/auth/tokens", json={"phone": phone, "code": code}), 401)

    other = f.phone()
    client.post("/api/v1/auth/codes", json={"phone": other})
    with app.app_context():
        db.session.execute(sa.update(LoginCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        commit()
    assert_error(client.post("/api/v1/auth/tokens", json={"phone": other, "code": sms_code(app, other)}), 401)


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_session(client, app):
    first = tokens(client, app)
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 201
    assert_error(client.get("/api/v1/me", headers=bearer(first)), 401)  # old access token spent by the rotation
    assert client.get("/api/v1/me", headers=bearer(second.json)).status_code == 200
    # Someone replays the first refresh token: the whole session dies, including the new tokens.
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}), 401)
    assert_error(client.get("/api/v1/me", headers=bearer(second.json)), 401)
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": second.json["refresh_token"]}), 401)


def test_access_tokens_expire(client, app):
    body = tokens(client, app)
    with app.app_context():
        db.session.execute(sa.update(AuthToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        commit()
    assert_error(client.get("/api/v1/me", headers=bearer(body)), 401, "invalid_token")


def test_log_out_this_device_or_everywhere(client, app):
    app.config["OTP_SEND_LIMIT"] = "10 per minute"  # three logins on one phone in a row
    phone = f.phone()
    phone_a, phone_b = tokens(client, app, phone), tokens(client, app, phone)
    assert client.delete("/api/v1/auth/session", headers=bearer(phone_a)).status_code == 204
    assert_error(client.get("/api/v1/me", headers=bearer(phone_a)), 401)
    assert client.get("/api/v1/me", headers=bearer(phone_b)).status_code == 200
    third = tokens(client, app, phone)
    assert client.delete("/api/v1/auth/sessions", headers=bearer(third)).status_code == 204
    assert_error(client.get("/api/v1/me", headers=bearer(phone_b)), 401)
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": phone_b["refresh_token"]}), 401)


def test_malformed_tokens_are_refused(client):
    for header in ("Bearer", "Bearer nope", "Basic abc", "bearer ct_" + "x" * 500, ""):
        assert_error(client.get("/api/v1/me", headers={"Authorization": header}), 401)


def test_sending_codes_is_throttled_per_phone(client, app):
    phone = f.phone()
    assert client.post("/api/v1/auth/codes", json={"phone": phone}).status_code == 202
    body = assert_error(client.post("/api/v1/auth/codes", json={"phone": "+86 " + phone}), 429, "rate_limited")
    assert body["message"]
    # Another phone from the same address is not held back by the first one's limit.
    assert client.post("/api/v1/auth/codes", json={"phone": f.phone()}).status_code == 202
    assert len(app.extensions["sms_sender"].outbox) == 2


def test_sending_codes_is_throttled_per_address(client, app):
    app.config["OTP_SEND_LIMIT_PER_IP"] = "3 per hour"
    for _ in range(3):
        assert client.post("/api/v1/auth/codes", json={"phone": f.phone()}).status_code == 202
    assert_error(client.post("/api/v1/auth/codes", json={"phone": f.phone()}), 429, "rate_limited")
    other_address = client.post("/api/v1/auth/codes", json={"phone": f.phone()},
                                environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other_address.status_code == 202


def test_verifying_codes_is_throttled_per_address(client, app):
    app.config["OTP_VERIFY_LIMIT_PER_IP"] = "4 per hour"
    for _ in range(4):
        client.post("/api/v1/auth/tokens", json={"phone": f.phone(), "code": "123456"})
    assert_error(client.post("/api/v1/auth/tokens", json={"phone": f.phone(), "code": "123456"}), 429)


def test_staff_log_in_for_their_merchant_and_use_only_staff_endpoints(client, app):
    with app.app_context():
        merchant = f.merchant(name="岱庙低碳书店")
        cashier = f.staff(merchant)
        cashier_phone, merchant_id = cashier.phone.removeprefix("+86"), merchant.id
        commit()
    staff_tokens = tokens(client, app, cashier_phone, prefix="/api/v1/merchant/auth")
    me = client.get("/api/v1/merchant/me", headers=bearer(staff_tokens))
    assert me.status_code == 200 and me.json["merchant_id"] == merchant_id and me.json["role"] == "cashier"
    assert_error(client.get("/api/v1/me", headers=bearer(staff_tokens)), 403)
    assert_error(client.get("/api/v1/merchant/me", headers=resident_headers(client, app)), 403)


def test_staff_tokens_stop_working_when_the_staff_member_or_their_merchant_is_deactivated(client, app):
    with app.app_context():
        merchant = f.merchant(name="岱庙低碳书店")
        cashier = f.staff(merchant)
        phone, staff_id, merchant_id = cashier.phone.removeprefix("+86"), cashier.id, merchant.id
        commit()
    headers = bearer(tokens(client, app, phone, prefix="/api/v1/merchant/auth"))
    assert client.get("/api/v1/merchant/me", headers=headers).status_code == 200
    for model, row_id in ((MerchantStaff, staff_id), (Merchant, merchant_id)):
        with app.app_context():
            db.session.get(model, row_id).active = False
            commit()
        assert_error(client.get("/api/v1/merchant/me", headers=headers), 401)
        with app.app_context():
            db.session.get(model, row_id).active = True
            commit()
        assert client.get("/api/v1/merchant/me", headers=headers).status_code == 200


def test_account_views_refuse_every_token_a_profile_view_refuses(client, app):
    """The views about a carbon account (``holder_required``, a resident's or an enterprise's token) must
    refuse the same tokens in the same words as the profile views."""
    with app.app_context():
        merchant = f.merchant(name="岱庙低碳书店")
        cashier_phone = f.staff(merchant).phone.removeprefix("+86")
        enterprise = f.enterprise()
        contact = enterprise.contact_phone.removeprefix("+86")
        commit()
    resident = tokens(client, app)
    resident_history = client.get("/api/v1/me/points/history", headers=bearer(resident))
    assert resident_history.status_code == 200 and resident_history.json == []
    company = bearer(tokens(client, app, contact, prefix="/api/v1/enterprise/auth"))
    company_history = client.get("/api/v1/me/points/history", headers=company)
    assert company_history.status_code == 200 and company_history.json == []

    staff = tokens(client, app, cashier_phone, prefix="/api/v1/merchant/auth")
    assert_error(client.get("/api/v1/me/points/history", headers=bearer(staff)), 403)
    refresh_as_access = {"Authorization": f"Bearer {resident['refresh_token']}"}
    expired, logged_out = tokens(client, app), tokens(client, app)
    with app.app_context():
        db.session.execute(sa.update(AuthToken).where(AuthToken.token_hash == token_hash(expired["access_token"]))
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        commit()
    assert client.delete("/api/v1/auth/session", headers=bearer(logged_out)).status_code == 204
    for headers in (refresh_as_access, bearer(expired), bearer(logged_out), {"Authorization": "Bearer ct_nope"}, {}):
        profile = assert_error(client.get("/api/v1/me", headers=headers), 401, "invalid_token")
        account = assert_error(client.get("/api/v1/me/points/history", headers=headers), 401, "invalid_token")
        assert account == profile


def test_a_phone_serving_two_merchants_gets_their_names_to_choose_from(client, app):
    """The 409 lists the choices with names, so a scanner can offer a picker instead of bare ids."""
    phone = f.phone()
    with app.app_context():
        first, second = f.merchant(name="岱庙低碳书店"), f.merchant(name="泰山绿色超市")
        f.staff(first, phone_number=phone)
        f.staff(second, phone_number=phone)
        first_id, second_id = first.id, second.id
        commit()
    assert client.post("/api/v1/merchant/auth/codes", json={"phone": phone}).status_code == 202
    code = sms_code(app, phone)
    body = assert_error(client.post("/api/v1/merchant/auth/tokens", json={"phone": phone, "code": code}), 409,
                        "merchant_required")
    assert body["details"] == {"merchant_ids": [first_id, second_id],
                               "merchants": [{"id": first_id, "name": "岱庙低碳书店"},
                                             {"id": second_id, "name": "泰山绿色超市"}]}
    chosen = client.post("/api/v1/merchant/auth/tokens", json={"phone": phone, "code": code, "merchant_id": second_id})
    assert chosen.status_code == 201
    assert client.get("/api/v1/merchant/me", headers=bearer(chosen.json)).json["merchant_id"] == second_id


def test_a_phone_that_is_not_staff_gets_the_same_answer_and_no_message(client, app):
    stranger = f.phone()
    response = client.post("/api/v1/merchant/auth/codes", json={"phone": stranger})
    assert response.status_code == 202 and response.json == {"expires_in": 300}
    assert app.extensions["sms_sender"].outbox == []


# -- races over real HTTP (both databases, each repeated 20 times) --------------------------------------

REPETITIONS = 20


def _session(app) -> auth.TokenPair:
    with app.app_context():
        pair = auth.issue_tokens(Audience.RESIDENT, f.resident().id)
        commit()
    return pair


def _live_tokens(app, session_id: str) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(AuthToken)
                                  .where(AuthToken.session_id == session_id, AuthToken.revoked_at.is_(None))
                                  ).scalar_one()


def _refresh(token: str) -> tuple[str, str, dict, dict]:
    return ("POST", "/api/v1/auth/refresh", {}, {"refresh_token": token})


def _assert_all_dead(client, session: auth.TokenPair, minted: list[dict]) -> None:
    """Every token of the session is refused: the first ones and those minted in the race."""
    for access in [session.access_token] + [m["access_token"] for m in minted]:
        assert_error(client.get("/api/v1/me", headers={"Authorization": f"Bearer {access}"}), 401, "invalid_token")
    for refresh in [m["refresh_token"] for m in minted]:
        assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": refresh}), 401, "invalid_token")


@pytest.mark.concurrency
def test_one_refresh_token_refreshed_ten_times_at_once_wins_once_and_the_reuse_revokes_the_session(client, app):
    app.config["OTP_VERIFY_LIMIT_PER_IP"] = "10000 per hour"  # every refresh here comes from 127.0.0.1
    with served(app) as address:
        for repetition in range(REPETITIONS):
            session = _session(app)
            results = race(address, [_refresh(session.refresh_token)] * 10)
            statuses = sorted(status for status, _ in results)
            assert statuses == [201] + [401] * 9, f"repetition {repetition}: {statuses}"
            assert {body["error"]["code"] for status, body in results if status == 401} == {"invalid_token"}
            assert _live_tokens(app, session.session_id) == 0, f"repetition {repetition}"
            _assert_all_dead(client, session, [body for status, body in results if status == 201])


@pytest.mark.concurrency
def test_a_replayed_refresh_token_racing_the_current_one_leaves_no_token_of_the_session_alive(client, app):
    app.config["OTP_VERIFY_LIMIT_PER_IP"] = "10000 per hour"
    with served(app) as address:
        for repetition in range(REPETITIONS):
            session = _session(app)
            with app.app_context():
                current = auth.refresh(session.refresh_token)  # the owner's rotation; the old token is copied
                commit()
            results = race(address, [_refresh(session.refresh_token), _refresh(current.refresh_token)] * 5)
            statuses = [status for status, _ in results]
            assert set(statuses) <= {201, 401} and statuses.count(201) <= 1, f"repetition {repetition}: {statuses}"
            assert all(statuses[i] == 401 for i in range(0, 10, 2)), "the copied token never works"
            assert _live_tokens(app, session.session_id) == 0, f"repetition {repetition}: {statuses}"
            _assert_all_dead(client, current, [body for status, body in results if status == 201])


@pytest.mark.concurrency
def test_logging_out_everywhere_while_refreshing_leaves_no_token_alive(app):
    app.config["OTP_VERIFY_LIMIT_PER_IP"] = "10000 per hour"
    with served(app) as address:
        for repetition in range(REPETITIONS):
            session = _session(app)
            results = race(address, [("DELETE", "/api/v1/auth/sessions",
                                      {"Authorization": f"Bearer {session.access_token}"}, {}),
                                     _refresh(session.refresh_token)])
            (logged_out, _), (refreshed, _) = results
            assert logged_out in (204, 401) and refreshed in (201, 401), f"repetition {repetition}: {results}"
            if logged_out == 204:  # the log-out went through, so it must have caught a racing refresh's tokens
                assert _live_tokens(app, session.session_id) == 0, f"repetition {repetition}: {results}"
            else:  # the refresh spent the access token first: its new pair lives, the old ones do not
                assert refreshed == 201 and _live_tokens(app, session.session_id) == 2, f"repetition {repetition}"
