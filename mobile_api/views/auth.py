"""Login by one-time SMS code, for residents, enterprise contacts and merchant staff; refresh; log out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, g, request

from carbon_platform.db import commit
from carbon_platform.errors import AuthenticationFailed, Conflict
from carbon_platform.extensions import limiter
from carbon_platform.models import Audience
from carbon_platform.services import accounts, auth, organisations
from carbon_platform.services.identity import normalise_phone
from mobile_api.auth import BEARER, enterprise_required, resident_required, staff_required
from mobile_api.blueprint import Blueprint
from mobile_api.schemas.auth import (
    CodeRequestSchema,
    CodeSentSchema,
    EnterpriseTokenRequestSchema,
    RefreshRequestSchema,
    StaffTokenRequestSchema,
    TokenPairSchema,
    TokenRequestSchema,
)
from mobile_api.schemas.common import NoBody

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Login, refresh and logout.")
staff_blp = Blueprint("merchant_auth", __name__, url_prefix="/api/v1/merchant/auth",
                      description="Merchant staff login (same flow, its own tokens).")
enterprise_blp = Blueprint("enterprise_auth", __name__, url_prefix="/api/v1/enterprise/auth",
                           description="Enterprise login: the registered contact, for the enterprise's account.")

WRONG_CODE = "wrong or expired code"


def phone_key() -> str:
    """Throttle by the phone number in the body (normalised), falling back to the client address."""
    body = request.get_json(silent=True)
    raw = body.get("phone") if isinstance(body, dict) else None
    try:
        return "phone:" + normalise_phone(raw)
    except Exception:  # an invalid number is refused by the schema; count it against the address
        return "ip:" + (request.remote_addr or "")


def _limit(setting: str, **kwargs):
    return limiter.limit(lambda: current_app.config[setting], **kwargs)


def _send_code(phone: str, audience: Audience, may_log_in: bool):
    # The same answer whether or not the number may log in: nothing to learn by probing.
    auth.send_login_code(phone, audience, deliver=may_log_in)
    commit()
    return {"expires_in": current_app.config["OTP_TTL_SECONDS"]}


def _check_code(phone: str, audience: Audience, code: str, *, consume: bool = True) -> None:
    ok = auth.check_login_code(phone, audience, code, consume=consume)
    commit()  # the attempt counts even when the code is wrong
    if not ok:
        raise AuthenticationFailed(WRONG_CODE, code="invalid_code")


@blp.post("/codes")
@blp.arguments(CodeRequestSchema)
@blp.response(202, CodeSentSchema)
@_limit("OTP_SEND_LIMIT", key_func=phone_key)
@_limit("OTP_SEND_LIMIT_PER_IP")
def send_code(body):
    """Text a six-digit login code to a mainland mobile number."""
    return _send_code(body["phone"], Audience.RESIDENT, may_log_in=True)


@blp.post("/tokens")
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenPairSchema)
@_limit("OTP_VERIFY_LIMIT_PER_IP")
def log_in(body):
    """Exchange the code for tokens. The first login opens the resident's carbon account."""
    _check_code(body["phone"], Audience.RESIDENT, body["code"])
    resident = accounts.resident_for_login(body["phone"])
    pair = auth.issue_tokens(Audience.RESIDENT, resident.id)
    commit()
    return pair


@blp.post("/refresh")
@blp.arguments(RefreshRequestSchema)
@blp.response(201, TokenPairSchema)
@_limit("OTP_VERIFY_LIMIT_PER_IP")
def refresh(body):
    """Rotate tokens. A refresh token works once; reusing one revokes its whole session."""
    pair = auth.refresh(body["refresh_token"])
    commit()
    if pair is None:
        raise AuthenticationFailed("refresh token is not valid", code="invalid_token")
    return pair


@blp.delete("/session")
@blp.arguments(NoBody)
@blp.response(204)
@blp.doc(security=[BEARER])
@resident_required
def log_out(_body):
    """Log out this device."""
    auth.revoke_session(g.auth_token.session_id)
    commit()


@blp.delete("/sessions")
@blp.arguments(NoBody)
@blp.response(204)
@blp.doc(security=[BEARER])
@resident_required
def log_out_everywhere(_body):
    """Log out every device."""
    auth.revoke_all(Audience.RESIDENT, g.resident.id)
    commit()


@staff_blp.post("/codes")
@staff_blp.arguments(CodeRequestSchema)
@staff_blp.response(202, CodeSentSchema)
@_limit("OTP_SEND_LIMIT", key_func=phone_key)
@_limit("OTP_SEND_LIMIT_PER_IP")
def staff_send_code(body):
    """Text a login code to a merchant staff member's phone."""
    return _send_code(body["phone"], Audience.MERCHANT_STAFF,
                      may_log_in=bool(organisations.staff_for_login(body["phone"])))


@staff_blp.post("/tokens")
@staff_blp.arguments(StaffTokenRequestSchema)
@staff_blp.response(201, TokenPairSchema)
@_limit("OTP_VERIFY_LIMIT_PER_IP")
def staff_log_in(body):
    """Exchange the code for staff tokens, for one merchant."""
    staff = _one_of(body, Audience.MERCHANT_STAFF, organisations.staff_for_login(body["phone"]),
                    lambda post: post.merchant_id, "merchant", "this phone serves several merchants; say which",
                    name=lambda post: post.merchant.name)
    pair = auth.issue_tokens(Audience.MERCHANT_STAFF, staff.id)
    commit()
    return pair


def _one_of(body: dict, audience: Audience, records: list, ident: Callable[[Any], int], what: str, ambiguous: str,
            *, name: Callable[[Any], str]):
    """Check the code and return the one record the phone logs in as (a staff post, an enterprise).

    With several, the client says which by ``<what>_id``; until it does, a 409 ``<what>_required``
    lists the choices (ids, and ids with names so a client can show a picker) and the code stays usable,
    so the client can send it again with its choice.
    """
    chosen = body.get(f"{what}_id")
    if chosen is not None:
        records = [r for r in records if ident(r) == chosen]
    _check_code(body["phone"], audience, body["code"], consume=len(records) <= 1)
    if not records:
        raise AuthenticationFailed(WRONG_CODE, code="invalid_code")
    if len(records) > 1:
        raise Conflict(ambiguous, code=f"{what}_required", **{
            f"{what}_ids": [ident(r) for r in records],
            f"{what}s": [{"id": ident(r), "name": name(r)} for r in records],
        })
    return records[0]


@staff_blp.delete("/session")
@staff_blp.arguments(NoBody)
@staff_blp.response(204)
@staff_blp.doc(security=[BEARER])
@staff_required
def staff_log_out(_body):
    """Log out this scanner."""
    auth.revoke_session(g.auth_token.session_id)
    commit()


@enterprise_blp.post("/codes")
@enterprise_blp.arguments(CodeRequestSchema)
@enterprise_blp.response(202, CodeSentSchema)
@_limit("OTP_SEND_LIMIT", key_func=phone_key)
@_limit("OTP_SEND_LIMIT_PER_IP")
def enterprise_send_code(body):
    """Text a login code to an enterprise's registered contact phone."""
    return _send_code(body["phone"], Audience.ENTERPRISE,
                      may_log_in=bool(accounts.enterprises_for_login(body["phone"])))


@enterprise_blp.post("/tokens")
@enterprise_blp.arguments(EnterpriseTokenRequestSchema)
@enterprise_blp.response(201, TokenPairSchema)
@_limit("OTP_VERIFY_LIMIT_PER_IP")
def enterprise_log_in(body):
    """Exchange the code for tokens acting for one enterprise's carbon account."""
    enterprise = _one_of(body, Audience.ENTERPRISE, accounts.enterprises_for_login(body["phone"]), lambda e: e.id,
                         "enterprise", "this phone is the contact of several enterprises; say which",
                         name=lambda e: e.name)
    pair = auth.issue_tokens(Audience.ENTERPRISE, enterprise.id)
    commit()
    return pair


@enterprise_blp.delete("/session")
@enterprise_blp.arguments(NoBody)
@enterprise_blp.response(204)
@enterprise_blp.doc(security=[BEARER])
@enterprise_required
def enterprise_log_out(_body):
    """Log out this device."""
    auth.revoke_session(g.auth_token.session_id)
    commit()
