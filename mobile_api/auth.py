"""Bearer-token authentication for the resident, enterprise and merchant-staff clients."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps

from flask import current_app, g, request

from carbon_platform.errors import AuthenticationFailed, Forbidden
from carbon_platform.models import Audience, Enterprise, MerchantStaff, Resident
from carbon_platform.services import auth

BEARER = {"bearerAuth": []}


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


Loader = tuple[str, type, Callable[[object], bool] | None]  # g's name, the subject's class, a further check


def _requires(loaders: Mapping[Audience, Loader]) -> Callable:
    """A decorator that authenticates one of ``loaders``' audiences and puts the token on ``g.auth_token`` and
    its subject on ``g.<name>`` (the name the audience's loader gives), both loaded in one query with what the
    subject loads joined (its account: ``auth.access_query``)."""
    audiences = list(loaders)
    query = auth.access_query({audience: model for audience, (_name, model, _check) in loaders.items()})

    def authenticate() -> None:
        found = auth.authenticate_access(_bearer_token() or "", query)
        if found is None:
            raise _invalid_token()
        token = found[0]
        if token.audience not in loaders:
            raise _wrong_audience()
        name, _model, check = loaders[token.audience]
        subject = found[1 + audiences.index(token.audience)]
        if subject is None or (check is not None and not check(subject)):
            raise _invalid_token()
        g.auth_token = token
        setattr(g, name, subject)

    return authenticated_by(authenticate)


def _authenticate_holder() -> None:
    holder = auth.authenticate_holder(_bearer_token() or "")
    if holder is None:
        raise _invalid_token()
    if holder.audience not in (Audience.RESIDENT, Audience.ENTERPRISE):
        raise _wrong_audience()
    if holder.account_id is None:
        raise _invalid_token()
    g.holder, g.account_id = holder, holder.account_id


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
resident_required = _requires({Audience.RESIDENT: ("resident", Resident, None)})
#: Load ``g.enterprise`` from an access token issued to an enterprise's registered contact.
enterprise_required = _requires({Audience.ENTERPRISE: ("enterprise", Enterprise, None)})
#: A resident's or an enterprise's token, for the views about "my carbon account", which are the same for
#: both: ``g.holder`` is an ``auth.TokenHolder`` (audience, id, account id) and ``g.account_id`` its account. Plain
#: values, no mapped objects: these views query the account by ``g.account_id`` (awarding locks it first).
holder_required = authenticated_by(_authenticate_holder)
#: Load ``g.staff`` (and through it the merchant) from an active merchant-staff access token.
staff_required = _requires({Audience.MERCHANT_STAFF: (
    "staff", MerchantStaff, lambda staff: staff.active and staff.merchant.active)})
