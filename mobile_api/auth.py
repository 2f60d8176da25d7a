"""Bearer-token authentication for the resident, enterprise and merchant-staff clients."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from flask import current_app, g, request

from carbon_platform.errors import AuthenticationFailed, Forbidden
from carbon_platform.models import Audience, Enterprise, MerchantStaff, Resident
from carbon_platform.services import auth

BEARER = {"bearerAuth": []}


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _authenticator(name: str, subjects: Mapping[Audience, type],
                   valid: Callable[[Any], bool] | None = None) -> Callable[[], None]:
    """A function that authenticates a token of one of ``subjects``' audiences (audience -> the subject's
    class) and puts the token on ``g.auth_token`` and its subject on ``g.<name>``, both loaded in one query
    with what the subject loads joined (its account: ``auth.access_query``). ``valid``: a further check of
    the subject (a staff member still active)."""
    audiences = list(subjects)
    query = auth.access_query(subjects)

    def authenticate() -> None:
        found = auth.authenticate_access(_bearer_token() or "", query)
        if found is None:
            raise _invalid_token()
        token = found[0]
        if token.audience not in subjects:
            raise _wrong_audience()
        subject = found[1 + audiences.index(token.audience)]
        if subject is None or (valid is not None and not valid(subject)):
            raise _invalid_token()
        g.auth_token = token
        setattr(g, name, subject)

    return authenticate


_authenticate_holder = _authenticator("holder", {Audience.RESIDENT: Resident, Audience.ENTERPRISE: Enterprise})


def _authenticate_account_holder() -> None:
    _authenticate_holder()
    g.account_id = g.holder.account_id


def authenticated_by(authenticate: Callable[[], None]) -> Callable:
    """A decorator that makes a view authenticate with ``authenticate`` (which raises, or fills ``g``).

    The view is marked with it, and ``authenticate_request`` runs it before anything else looks at the
    request: flask-smorest's ``@blp.arguments`` wraps the view from outside and parses the body before the
    view runs, so checking inside the view would validate strangers' bodies (and teach them the schema). The
    wrapper is the fallback for a view called some other way; it does not authenticate twice."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if g.get("authenticated_by") is not authenticate:
                authenticate()
                g.authenticated_by = authenticate
            return view(*args, **kwargs)

        # Every decorator stacked on top copies this with functools.wraps (flask-smorest's own do), so the
        # function Flask routes to carries it too.
        wrapper.authenticate = authenticate
        return wrapper

    return decorator


def authenticate_request() -> None:
    """``before_request``: authenticate as the endpoint's view declares, before its body or query is parsed.

    Runs after the body's type and size are checked (that reads nothing), so a partner's signature is computed
    over a body already bounded in size."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    authenticate = getattr(view, "authenticate", None)
    if authenticate is None or (request.method == "OPTIONS" and request.url_rule.provide_automatic_options):
        return  # Flask answers OPTIONS itself, without calling the view
    authenticate()
    g.authenticated_by = authenticate


def _invalid_token() -> AuthenticationFailed:
    return AuthenticationFailed("a valid bearer token is required", code="invalid_token")


def _wrong_audience() -> Forbidden:
    return Forbidden("this token is not for this part of the API")


#: Load ``g.resident`` from an access token issued to a resident.
resident_required = authenticated_by(_authenticator("resident", {Audience.RESIDENT: Resident}))
#: Load ``g.enterprise`` from an access token issued to an enterprise's registered contact.
enterprise_required = authenticated_by(_authenticator("enterprise", {Audience.ENTERPRISE: Enterprise}))
#: A resident's or an enterprise's token, for the views about "my carbon account", which are the same for
#: both: ``g.holder`` is the ``Resident`` or ``Enterprise`` and ``g.account_id`` its account's id.
holder_required = authenticated_by(_authenticate_account_holder)
#: Load ``g.staff`` (and through it the merchant) from an active merchant-staff access token.
staff_required = authenticated_by(_authenticator("staff", {Audience.MERCHANT_STAFF: MerchantStaff},
                                                 lambda staff: staff.active and staff.merchant.active))
