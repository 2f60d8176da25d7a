"""Every throttled endpoint, API and console, answers 429 with a positive whole-second ``Retry-After``."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from flask_limiter.util import get_qualified_name

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.errors import DomainError
from carbon_platform.extensions import limiter
from carbon_platform.models import AdminRole, PartnerKind
from carbon_platform.services import organisations
from tests import factories as f
from tests.admin.test_console import csrf_token, log_in
from tests.mobile_api.helpers import assert_error, resident_headers, signed
from tests.mobile_api.test_rewards import staff_token

BEIJING = timezone(timedelta(hours=8))


def until_throttled(send, at_most: int):
    """Send until the answer is 429 (at most ``at_most`` times) and return that answer."""
    for _ in range(at_most):
        response = send()
        if response.status_code == 429:
            return response
    raise AssertionError(f"no 429 after {at_most} requests (last: {response.status_code})")


def codes(prefix):
    def case(client, app):
        app.config["OTP_SEND_LIMIT"] = "1 per hour"
        phone = f.phone()
        return until_throttled(lambda: client.post(f"{prefix}/codes", json={"phone": phone}), 3)
    return case


def tokens(prefix):
    def case(client, app):
        app.config["OTP_VERIFY_LIMIT_PER_IP"] = "1 per hour"
        return until_throttled(lambda: client.post(f"{prefix}/tokens", json={"phone": f.phone(), "code": "123456"}), 3)
    return case


def refresh(client, app):
    app.config["OTP_VERIFY_LIMIT_PER_IP"] = "1 per hour"
    return until_throttled(lambda: client.post("/api/v1/auth/refresh", json={"refresh_token": "rt_nope"}), 3)


def evidence(client, app):
    headers = resident_headers(client, app)
    # Not photos at all (422): each still counts against the resident's 60 an hour.
    return until_throttled(lambda: client.post("/api/v1/evidence", headers=headers, content_type="multipart/form-data",
                                               data={"photo": (io.BytesIO(b"x"), "x.jpg")}), 62)


def actions(client, app):
    with app.app_context():
        seeding.load_reference()
        commit()
    headers = resident_headers(client, app)
    body = {"scenario": "pv_installation", "occurred_at": datetime.now(BEIJING).isoformat()}
    # No Idempotency-Key (422, nothing written): each still counts against the resident's 120 an hour.
    return until_throttled(lambda: client.post("/api/v1/actions", headers=headers, json=body), 122)


def till(path):
    def case(client, app):
        app.config["VOUCHER_SCAN_FAILURE_LIMIT"] = "1 per 10 minutes"
        with app.app_context():
            headers = staff_token(f.staff(f.merchant()))
            commit()
        body = {"code": "ABCDE12345", "scan_nonce": "scan-00000001"}
        return until_throttled(lambda: client.post(f"/api/v1/merchant/vouchers/{path}", headers=headers,
                                                   json=body if path == "consume" else {"code": body["code"]}), 3)
    return case


def partner(path, body):
    def case(client, app):
        with app.app_context():
            seeding.load_reference()
            record, secret = organisations.register_partner(name="泰安公交集团", kind=PartnerKind.TRANSIT,
                                                            actor=f.TEST_ACTOR)
            record.rate_limit = "1 per minute"
            key_id = record.key_id
            commit()
        raw = json.dumps(body).encode()
        return until_throttled(lambda: client.post(f"/api/v1/partner/{path}", data=raw,
                                                   headers=signed(key_id, secret, raw, f"/api/v1/partner/{path}")), 3)
    return case


def console_login(client, app):
    app.config["ADMIN_LOGIN_LIMIT"] = "1 per 15 minutes"
    return until_throttled(lambda: log_in(client, "someone", "wrong-password"), 3)


def console_password_change(client, app):
    app.config["ADMIN_LOGIN_LIMIT"] = "1 per 15 minutes"
    with app.app_context():
        f.admin(AdminRole.OPERATOR, username="borrowed")
        commit()
    assert log_in(client, "borrowed", f.PASSWORD).status_code == 302
    guess = {"csrf_token": csrf_token(client, "/admin/profile"), "current_password": "a wrong guess",
             "new_password": "a-new-password-0123", "confirm": "a-new-password-0123"}
    return until_throttled(lambda: client.post("/admin/profile/password", data=guess), 3)


def statement_check(send):
    def case(client, app):
        app.config["STATEMENT_CHECK_LIMIT"] = "1 per hour"
        return until_throttled(lambda: send(client), 3)
    return case


CASES = {
    "auth.send_code": codes("/api/v1/auth"),
    "auth.log_in": tokens("/api/v1/auth"),
    "auth.refresh": refresh,
    "merchant_auth.staff_send_code": codes("/api/v1/merchant/auth"),
    "merchant_auth.staff_log_in": tokens("/api/v1/merchant/auth"),
    "enterprise_auth.enterprise_send_code": codes("/api/v1/enterprise/auth"),
    "enterprise_auth.enterprise_log_in": tokens("/api/v1/enterprise/auth"),
    "evidence.upload": evidence,
    "actions.report": actions,
    "till.verify": till("verify"),
    "till.consume": till("consume"),
    "partner.ping": partner("ping", {"echo": "hi"}),
    "partner.events": partner("events", {"events": [{
        "event_id": "e1", "scenario": "bus_ride", "binding": {"kind": "transit_card", "id": "88012345"},
        "occurred_at": datetime.now(BEIJING).replace(microsecond=0).isoformat(), "inputs": {"distance_km": 3}}]}),
    "partner.propose_binding": partner("bindings", {"code": "WRONGCOD", "kind": "transit_card", "identifier": "8801"}),
    "partner.confirm_binding": partner("binding-confirmations",
                                       {"code": "WRONGCOD", "kind": "transit_card", "identifier": "8801"}),
    "statements.check": statement_check(lambda client: client.get("/api/v1/statements/CS2025-NOSUCHSERIAL00")),
    "statements.verify": statement_check(lambda client: client.post("/api/v1/statements/verify", json={
        "statement": {}, "signature": {}})),
    "admin.login": console_login,
    "admin.change_password": console_password_change,
}


def test_every_rate_limited_endpoint_has_a_case_here(app):
    limited = {endpoint for endpoint, view in app.view_functions.items()
               if get_qualified_name(view) in limiter.limit_manager._decorated_limits}
    assert limited, "no limits found: the way limits are listed has changed"
    assert limited <= set(CASES), f"add a case for {sorted(limited - set(CASES))}"


@pytest.mark.parametrize("endpoint", sorted(CASES))
def test_every_429_says_when_to_come_back(client, app, endpoint):
    response = CASES[endpoint](client, app)
    if endpoint.startswith("admin."):
        assert response.mimetype == "text/html"  # the console keeps its HTML error page
    else:
        assert_error(response, 429)
    retry_after = response.headers.get("Retry-After", "")
    assert retry_after.isdigit() and int(retry_after) > 0, retry_after


class Throttled(DomainError):
    code, status, message = "throttled_here", 429, "Too many tries."


@pytest.mark.parametrize("seconds, header", [(90, "90"), (0.2, "1"), (None, None)])
def test_a_domain_error_that_knows_its_wait_says_so(app, seconds, header):
    error = Throttled()
    if seconds is not None:
        error.retry_after = seconds
    with app.test_request_context("/api/v1/anything"):
        response = app.handle_user_exception(error)
    assert_error(response, 429, "throttled_here")
    assert response.headers.get("Retry-After") == header

