"""Bearer-token authentication for the resident, enterprise and merchant-staff clients."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps

from flask import g, request

from carbon_platform.errors import AuthenticationFailed, Forbidden
from carbon_platform.models import Audience, Enterprise, MerchantStaff, Resident
from carbon_platform.services import auth

BEARER = {"bearerAuth": []}


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


Loader = tuple[str, type, Callable[[object], bool] | None]  # g's name, the subject's class, a further check


def _requires(loaders: Mapping[Audience, Loader], *, joined: bool = True) -> Callable:
    """A decorator that authenticates one of ``loaders``' audiences and puts the token's subject on
    ``g.<name>`` (the name the audience's loader gives). The token and its subject are one query, with what
    the subject loads joined (its account) unless ``joined`` is false (``auth.access_query``)."""
    audiences = list(loaders)
    query = auth.access_query({audience: model for audience, (_name, model, _check) in loaders.items()},
                              joined=joined)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            found = auth.authenticate_access(_bearer_token() or "", query)
            if found is None:
                raise AuthenticationFailed("a valid bearer token is required", code="invalid_token")
            token = found[0]
            if token.audience not in loaders:
                raise Forbidden("this token is not for this part of the API")
            name, _model, check = loaders[token.audience]
            subject = found[1 + audiences.index(token.audience)]
            if subject is None or (check is not None and not check(subject)):
                raise AuthenticationFailed("a valid bearer token is required", code="invalid_token")
            g.auth_token = token
            setattr(g, name, subject)
            if name in ("resident", "enterprise"):  # both hold a carbon account: the account views use it
                g.holder, g.account_id = subject, subject.account_id
            return view(*args, **kwargs)

        return wrapper

    return decorator


_RESIDENT: dict[Audience, Loader] = {Audience.RESIDENT: ("resident", Resident, None)}
_ENTERPRISE: dict[Audience, Loader] = {Audience.ENTERPRISE: ("enterprise", Enterprise, None)}

#: Load ``g.resident`` from an access token issued to a resident.
resident_required = _requires(_RESIDENT)
#: Load ``g.enterprise`` from an access token issued to an enterprise's registered contact.
enterprise_required = _requires(_ENTERPRISE)
#: Either of the two: ``g.holder`` is the resident or enterprise, ``g.account_id`` its carbon account.
#: For the views about "my carbon account", which are the same for both. They query the account by
#: ``g.account_id`` (awarding locks it first), so the holder comes without its account row.
holder_required = _requires(_RESIDENT | _ENTERPRISE, joined=False)
#: Load ``g.staff`` (and through it the merchant) from an active merchant-staff access token.
staff_required = _requires({Audience.MERCHANT_STAFF: (
    "staff", MerchantStaff, lambda staff: staff.active and staff.merchant.active)})
