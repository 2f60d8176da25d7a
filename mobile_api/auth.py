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


def _requires(audience: Audience, name: str, load: Callable[[int], object | None]) -> Callable:
    """A decorator that authenticates ``audience`` and puts the token's subject on ``g.<name>``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            subject = load(_authenticate(audience).subject_id)
            if subject is None:
                raise AuthenticationFailed("a valid bearer token is required", code="invalid_token")
            setattr(g, name, subject)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _active_staff(staff_id: int) -> MerchantStaff | None:
    staff = db.session.get(MerchantStaff, staff_id)
    return staff if staff is not None and staff.active and staff.merchant.active else None


#: Load ``g.resident`` from an access token issued to a resident.
resident_required = _requires(Audience.RESIDENT, "resident", lambda resident_id: db.session.get(Resident, resident_id))
#: Load ``g.staff`` (and through it the merchant) from an active merchant-staff access token.
staff_required = _requires(Audience.MERCHANT_STAFF, "staff", _active_staff)
