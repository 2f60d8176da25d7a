"""``/api/v1``: the residents' mobile client and the merchants' scanners (flask-smorest, bearer tokens)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request

from mobile_api import openapi
from mobile_api.auth import authenticate_request
from mobile_api.errors import API_PREFIX, Api, register
from mobile_api.parsing import JSONProvider

#: Endpoints that take file uploads (multipart/form-data); every other endpoint takes JSON only.
UPLOAD_ENDPOINTS = {"evidence.upload", "enterprise.upload_sheet"}


def guard_request_body():
    """Type and size checks that run before any view parses a body: JSON up to MAX_JSON_BYTES, or,
    for upload endpoints, multipart up to MAX_CONTENT_LENGTH. Anything else is 415."""
    if not request.path.startswith(API_PREFIX) or request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    upload = request.endpoint in UPLOAD_ENDPOINTS
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding") == "chunked"
    if (has_body or upload) and request.mimetype != ("multipart/form-data" if upload else "application/json"):
        abort(415)
    limit = current_app.config["MAX_CONTENT_LENGTH" if upload else "MAX_JSON_BYTES"]
    request.max_content_length = limit  # also bounds bodies sent without Content-Length
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    return None


def init_app(app) -> None:
    from mobile_api.views import (
        actions,
        auth,
        bank_grants,
        catalogue,
        checkins,
        consent,
        enterprise,
        evidence,
        household_partners,
        households,
        me,
        merchant,
        partner,
        rewards,
        statements,
    )

    app.json = JSONProvider(app)  # request.get_json() within the same limits as the API's parser
    api = Api(app, spec_kwargs=openapi.spec_kwargs(info={"description": "碳惠泰安 carbon-inclusion platform API."}))
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "Opaque access token from /auth/tokens."}
    )
    api.spec.components.security_scheme(
        "partnerSignature",
        {"type": "apiKey", "in": "header", "name": "X-Carbon-Signature",
         "description": "hex HMAC-SHA256 of `key_id.timestamp.METHOD.path.raw_body` (path without the query "
                        "string) with a live partner secret; send X-Carbon-Key-Id and X-Carbon-Timestamp (Unix "
                        "seconds, ±300 s) too."},
    )
    for blueprint in (auth.blp, auth.staff_blp, auth.enterprise_blp, me.blp, enterprise.blp, actions.blp,
                      evidence.blp, consent.blp, households.blp, household_partners.blp, merchant.blp, partner.blp,
                      rewards.blp, rewards.till, catalogue.blp, checkins.blp, checkins.counter, statements.blp,
                      bank_grants.blp):
        api.register_blueprint(blueprint)
        app.extensions["csrf"].exempt(blueprint)  # bearer tokens, never cookies: CSRF cannot apply
    app.extensions["carbon_api"] = api
    app.before_request(guard_request_body)
    app.before_request(authenticate_request)  # after the body's size is bounded, before anything parses it
    register(app)
    # Our own copy of the OpenAPI UI (vendored from npm by `make`), never a CDN.
    app.register_blueprint(
        Blueprint("api_static", __name__, static_folder="static", static_url_path="/api/static")
    )
