"""The resident's bindings and scene authorisations, and the partners they can authorise."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g
from sqlalchemy.orm import joinedload

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.errors import NotFound
from carbon_platform.extensions import db
from carbon_platform.models import Authorisation, Binding, BindingKind, BindingStatus, Enterprise, Partner
from carbon_platform.services import consent, rulebooks
from mobile_api.auth import BEARER, holder_required
from mobile_api.blueprint import Blueprint
from mobile_api.schemas.common import NoBody, Shown
from mobile_api.schemas.consent import (
    AuthorisationCreateSchema,
    AuthorisationSchema,
    BindingCodeSchema,
    BindingCreateSchema,
    BindingSchema,
    PartnerSummarySchema,
)

blp = Blueprint("consent", __name__, url_prefix="/api/v1", description="Bindings and scene authorisations.")


def _account_type() -> str:
    """The signed-in holder's account type, as the rules name it."""
    return "enterprise" if isinstance(g.holder, Enterprise) else "resident"


def _scenarios_of(partner: Partner, rulebook) -> list[str]:
    """The scenes ``partner`` reports that credit my kind of account (a household's are on its own page)."""
    channel, mine = f"partner:{partner.kind.value}", _account_type()
    return sorted(s.id for s in rulebook.scenarios.values() if channel in s.channels and mine in s.account_types)


@blp.get("/partners")
@blp.response(200, PartnerSummarySchema(many=True))
@blp.doc(security=[BEARER])
@holder_required
def partners():
    """Partners whose data feeds I can authorise, with the scenes each reports that credit my account (a
    household's scenes, such as electricity saving, are authorised by its head: `/households/{id}/partners`)."""
    rulebook = rulebooks.rules_in_force(utcnow()).rulebook
    rows = db.session.execute(sa.select(Partner).where(Partner.active).order_by(Partner.id)).scalars()
    return [{"id": p.id, "name": p.name, "kind": p.kind.value, "scenarios": _scenarios_of(p, rulebook)}
            for p in rows]


@blp.get("/me/bindings")
@blp.response(200, BindingSchema(many=True))
@blp.doc(security=[BEARER])
@holder_required
def my_bindings():
    """My cards, meters and accounts that partners know me by."""
    return db.session.execute(sa.select(Binding).where(Binding.account_id == g.account_id,
                                                       Binding.status != BindingStatus.REVOKED)
                              .order_by(Binding.id)).scalars().all()


@blp.post("/me/bindings")
@blp.arguments(BindingCreateSchema)
@blp.response(201, BindingSchema)
@blp.doc(security=[BEARER])
@holder_required
def add_binding(body):
    """Enter a card, meter or account number (only a hash of it is kept). It stays pending, matching no
    partner data, until its partner confirms it is mine: show them a binding code. The answer is the same
    whether or not anyone else has entered the number."""
    binding = consent.add_binding(g.account_id, BindingKind(body["kind"]), body["identifier"])
    commit()
    return binding


@blp.post("/me/binding-codes")
@blp.arguments(NoBody)
@blp.response(201, BindingCodeSchema)
@blp.doc(security=[BEARER])
@holder_required
def binding_code(_body):
    """A one-time code to show a partner, so the partner can propose a binding to my account."""
    record, code = consent.issue_binding_code(g.account_id)
    commit()
    return Shown(record, code=code)


@blp.post("/me/bindings/<int:binding_id>/confirm")
@blp.arguments(NoBody)
@blp.response(200, BindingSchema)
@blp.doc(security=[BEARER])
@holder_required
def confirm_binding(_body, binding_id: int):
    """Confirm a binding a partner proposed: only then is its data matched to me (and its data that arrived
    before, within the claim window, credited)."""
    binding = consent.confirm_binding(g.account_id, binding_id)
    commit()
    return binding


@blp.delete("/me/bindings/<int:binding_id>")
@blp.arguments(NoBody)
@blp.response(204)
@blp.doc(security=[BEARER])
@holder_required
def remove_binding(_body, binding_id: int):
    """Unbind: partners' data for it is no longer matched to me."""
    consent.revoke_binding(g.account_id, binding_id)
    commit()


@blp.get("/me/authorisations")
@blp.response(200, AuthorisationSchema(many=True))
@blp.doc(security=[BEARER])
@holder_required
def my_authorisations():
    """The scenes I allow partners to report for me."""
    return db.session.execute(sa.select(Authorisation).options(joinedload(Authorisation.partner))
                              .where(Authorisation.account_id == g.account_id, Authorisation.revoked_at.is_(None))
                              .order_by(Authorisation.id)).scalars().all()


@blp.post("/me/authorisations")
@blp.arguments(AuthorisationCreateSchema)
@blp.response(201, AuthorisationSchema)
@blp.doc(security=[BEARER])
@holder_required
def authorise(body):
    """Allow a partner to report one scene for me (场景授权)."""
    partner = db.session.get(Partner, body["partner_id"])
    if partner is None or not partner.active:
        raise NotFound("partner not found")
    rulebook = rulebooks.rules_in_force(utcnow()).rulebook
    scenario = rulebook.scenarios.get(body["scenario"])
    authorisation = consent.grant(g.account_id, partner, body["scenario"],
                                  scenario.channels if scenario else frozenset(),
                                  scenario.account_types if scenario else frozenset())
    commit()
    return authorisation


@blp.delete("/me/authorisations/<int:authorisation_id>")
@blp.arguments(NoBody)
@blp.response(204)
@blp.doc(security=[BEARER])
@holder_required
def withdraw(_body, authorisation_id: int):
    """Withdraw consent: nothing more from that partner for that scene is credited."""
    consent.revoke(g.account_id, authorisation_id)
    commit()
