"""An enterprise's consent for banks (issue #18 item 7): which institutions it lets see its statements and grade,
until when, revoking that at once, and the log of every page a bank's staff opened about it."""

from __future__ import annotations

from flask import g

from carbon_platform.db import commit
from carbon_platform.services import bank_access
from mobile_api.auth import BEARER, enterprise_required
from mobile_api.blueprint import Blueprint
from mobile_api.schemas.banks import (
    AccessLogEntrySchema,
    AccessLogQuerySchema,
    GrantCreateSchema,
    GrantSchema,
    InstitutionSchema,
)
from mobile_api.schemas.common import NoBody, Shown
from mobile_api.views.enterprise import actor

blp = Blueprint("enterprise_banks", __name__, url_prefix="/api/v1/enterprise",
                description="The signed-in enterprise's consent for banks.")

#: An access-log page.
LOG_PAGE = 100


def _shown(grant):
    return Shown(grant, live=bank_access.is_live(grant))


@blp.get("/banks")
@blp.response(200, InstitutionSchema(many=True))
@blp.doc(security=[BEARER])
@enterprise_required
def list_banks():
    """The financial institutions registered with the platform, which the enterprise may let in."""
    return bank_access.institutions()


@blp.get("/bank-grants")
@blp.response(200, GrantSchema(many=True))
@blp.doc(security=[BEARER])
@enterprise_required
def list_grants():
    """Every grant the enterprise made, newest first, with whether it is live."""
    return [_shown(grant) for grant in bank_access.grants_of(g.enterprise)]


@blp.post("/bank-grants")
@blp.arguments(GrantCreateSchema)
@blp.response(201, GrantSchema)
@blp.doc(security=[BEARER])
@enterprise_required
def grant(body):
    """Let a bank see the enterprise's statements and grade to the end of ``until`` (Beijing time). A grant to a
    bank that already has one replaces it: granting again is how access is extended or shortened."""
    made = bank_access.grant(g.enterprise, institution_id=body["institution_id"], until=body["until"],
                             actor=actor())
    commit()
    return _shown(made)


@blp.delete("/bank-grants/<int:grant_id>")
@blp.arguments(NoBody)
@blp.response(204)
@blp.doc(security=[BEARER])
@enterprise_required
def revoke(_body, grant_id: int):
    """Revoke a grant: from this moment the bank finds nothing of the enterprise (404)."""
    bank_access.revoke(g.enterprise, grant_id, actor=actor())
    commit()


@blp.get("/bank-log")
@blp.arguments(AccessLogQuerySchema, location="query")
@blp.response(200, AccessLogEntrySchema(many=True))
@blp.doc(security=[BEARER])
@enterprise_required
def access_log(query):
    """The enterprise's grants and revocations and every page a bank's staff opened about it, newest first, 100 a
    page (``before_id``: the smallest id of the page before)."""
    events = bank_access.access_log(g.enterprise, limit=LOG_PAGE, before_id=query["before_id"])
    return [Shown(event, what=event.action.removeprefix("bank."), institution=event.details.get("institution"),
                  institution_id=event.details.get("institution_id"),
                  staff=event.actor_name if event.action == "bank.view" else None,
                  view=event.details.get("view"), serial=event.details.get("serial")) for event in events]
