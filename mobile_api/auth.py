"""Bearer-token authentication for the resident and merchant-staff clients."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, request

from carbon_platform.errors import AuthenticationFailed, Forbidden
from carbon_platform.extensions import db
from carbon_platform.models import Audience, MerchantStaff, Resident
from carbon_platform.services import auth

BEARER = {"bearerAuth": []}


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _authenticate(audience: Audience):
    token = auth.authenticate_access(_bearer_token() or "")
    if token is None:
        raise AuthenticationFailed("a valid bearer token is required", code="invalid_token")
    if token.audience != audience:
        raise Forbidden("this token is not for this part of the API")
    g.auth_token = token
    return token


def resident_required(view: Callable) -> Callable:
    """Load ``g.resident`` from an access token issued to a resident."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = _authenticate(Audience.RESIDENT)
        g.resident = db.session.get(Resident, token.subject_id)
        if g.resident is None:
            raise AuthenticationFailed("a valid bearer token is required", code="invalid_token")
        return view(*args, **kwargs)

    return wrapper


def staff_required(view: Callable) -> Callable:
    """Load ``g.staff`` (and through it the merchant) from a merchant-staff access token."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = _authenticate(Audience.MERCHANT_STAFF)
        g.staff = db.session.get(MerchantStaff, token.subject_id)
        if g.staff is None or not g.staff.active or not g.staff.merchant.active:
            raise AuthenticationFailed("this staff account is not active", code="invalid_token")
        return view(*args, **kwargs)

    return wrapper
