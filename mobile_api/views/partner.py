"""Partner data feeds, authenticated by request signature (the feeds themselves join this blueprint)."""

from __future__ import annotations

from flask import g, request
from marshmallow import fields

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import limiter
from carbon_platform.models import BindingKind
from carbon_platform.services import consent, feeds, partner_auth
from mobile_api.auth import authenticated_by
from mobile_api.blueprint import Blueprint
from mobile_api.schemas.common import Input, Output, Shown, text
from mobile_api.schemas.consent import BindingProposalSchema, BindingSchema, EventBatchSchema, EventResultsSchema

blp = Blueprint("partner", __name__, url_prefix="/api/v1/partner",
                description="Signed partner endpoints: HMAC-SHA256 over key_id.timestamp.METHOD.path.raw_body.")
SIGNED = {"partnerSignature": []}


def _verify_signature() -> None:
    """Verify the request signature and put the partner on ``g.partner``."""
    g.partner = partner_auth.verify(
        request.headers.get(partner_auth.KEY_HEADER),
        request.headers.get(partner_auth.TIMESTAMP_HEADER),
        request.headers.get(partner_auth.SIGNATURE_HEADER),
        request.get_data(cache=True),
        method=request.method,
        path=request.script_root + request.path,  # as the partner addressed it, without the query string
    )


#: Signed requests only; checked before the body is parsed (``mobile_api.auth.authenticated_by``).
partner_required = authenticated_by(_verify_signature)


#: Each partner's own request rate (set in the console), counted per partner across workers.
partner_limit = limiter.limit(lambda: g.partner.rate_limit, key_func=lambda: f"partner:{g.partner.id}")


class PingSchema(Input):
    echo = text(200, metadata={"description": "Returned as sent."})


class PongSchema(Output):
    """The signing ``Partner`` ``Shown`` with the ``echo`` and the server's time."""

    key_id = fields.String()
    partner = fields.String(attribute="name")
    echo = fields.String(allow_none=True)
    server_time = fields.DateTime()


@blp.post("/ping")
@blp.arguments(PingSchema)
@blp.response(200, PongSchema)
@blp.doc(security=[SIGNED])
@partner_required
@partner_limit
def ping(body):
    """Check your signing: answers with your key id when the signature is valid (nothing is written)."""
    return Shown(g.partner, echo=body.get("echo"), server_time=utcnow())


@blp.post("/events")
@blp.arguments(EventBatchSchema)
@blp.response(200, EventResultsSchema)
@blp.doc(security=[SIGNED])
@partner_required
@partner_limit
def events(body):
    """Up to 500 events; each gets its own result. Resending an event (same id) is always safe."""
    outcomes = feeds.ingest(g.partner, body["events"])
    commit()
    return {"results": outcomes}


@blp.post("/bindings")
@blp.arguments(BindingProposalSchema)
@blp.response(201, BindingSchema)
@blp.doc(security=[SIGNED])
@partner_required
@partner_limit
def propose_binding(body):
    """Propose an identifier for the person who showed you their binding code. It stays pending, and
    none of your data is matched to it, until they confirm it in the app."""
    binding = consent.propose_binding(g.partner, body["code"], BindingKind(body["kind"]), body["identifier"])
    commit()
    return binding


@blp.post("/binding-confirmations")
@blp.arguments(BindingProposalSchema)
@blp.response(200, BindingSchema)
@blp.doc(security=[SIGNED])
@partner_required
@partner_limit
def confirm_binding(body):
    """Confirm that an identifier the person entered in the app is theirs (they showed you their binding
    code, and you checked the card or account is theirs). It is active at once, and your events for it
    that were unmatched within the claim window are credited."""
    binding = consent.confirm_by_partner(g.partner, body["code"], BindingKind(body["kind"]), body["identifier"])
    commit()
    return binding
