"""Bearer-token authentication for the resident, enterprise and merchant-staff clients."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from functools import wraps

from flask import g, request

from carbon_platform.errors import AuthenticationFailed, Forbidden
from carbon_platform.extensions import db
from carbon_platform.models import Audience, Enterprise, MerchantStaff, Resident
from carbon_platform.services import auth

BEARER = {"bearerAuth": []}


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _authenticate(audiences: Collection[Audience]):
    token = auth.authenticate_access(_bearer_token() or "")
    if token is None:
        raise AuthenticationFailed("a valid bearer token is required", code="invalid_token")
    if token.audience not in audiences:
        raise Forbidden("this token is not for this part of the API")
    g.auth_token = token
    return token


def _requires(loaders: Mapping[Audience, tuple[str, Callable[[int], object | None]]]) -> Callable:
    """A decorator that authenticates one of ``loaders``' audiences and puts the token's subject on
    ``g.<name>`` (the name the audience's loader gives)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            token = _authenticate(loaders)
            name, load = loaders[token.audience]
            subject = load(token.subject_id)
            if subject is None:
                raise AuthenticationFailed("a valid bearer token is required", code="invalid_token")
            setattr(g, name, subject)
            if name in ("resident", "enterprise"):  # both hold a carbon account: the account views use it
                g.holder, g.account_id = subject, subject.account_id
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _active_staff(staff_id: int) -> MerchantStaff | None:
    staff = db.session.get(MerchantStaff, staff_id)
    return staff if staff is not None and staff.active and staff.merchant.active else None


_RESIDENT = {Audience.RESIDENT: ("resident", lambda resident_id: db.session.get(Resident, resident_id))}
_ENTERPRISE = {Audience.ENTERPRISE: ("enterprise", lambda enterprise_id: db.session.get(Enterprise, enterprise_id))}

#: Load ``g.resident`` from an access token issued to a resident.
resident_required = _requires(_RESIDENT)
#: Load ``g.enterprise`` from an access token issued to an enterprise's registered contact.
enterprise_required = _requires(_ENTERPRISE)
#: Either of the two: ``g.holder`` is the resident or enterprise, ``g.account_id`` its carbon account.
#: For the views about "my carbon account", which are the same for both.
holder_required = _requires(_RESIDENT | _ENTERPRISE)
#: Load ``g.staff`` (and through it the merchant) from an active merchant-staff access token.
staff_required = _requires({Audience.MERCHANT_STAFF: ("staff", _active_staff)})
