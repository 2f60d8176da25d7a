"""A household's electricity meter and its consent to the utility: bound to the household's account, by its head."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.errors import NotFound
from carbon_platform.extensions import db
from carbon_platform.models import Partner
from carbon_platform.services import household_partners, households, rulebooks
from mobile_api.auth import BEARER, resident_required
from mobile_api.blueprint import Blueprint
from mobile_api.schemas.common import NoBody, Shown
from mobile_api.schemas.consent import (
    AuthorisationCreateSchema,
    AuthorisationSchema,
    BindingCodeSchema,
    BindingSchema,
    MeterCreateSchema,
    PartnerSummarySchema,
)

blp = Blueprint("household_partners", __name__, url_prefix="/api/v1/households",
                description="A household's electricity meter and scene authorisations (the head acts; members see).")

HOUSEHOLD = "household"


def _household_scenarios(partner: Partner, rulebook) -> list[str]:
    channel = f"partner:{partner.kind.value}"
    return sorted(s.id for s in rulebook.scenarios.values() if channel in s.channels and HOUSEHOLD in s.account_types)


@blp.get("/<int:household_id>/partners")
@blp.response(200, PartnerSummarySchema(many=True))
@blp.doc(security=[BEARER])
@resident_required
def partners(household_id: int):
    """The partners the household deals with itself (the utility, which knows it by its meter), with the
    household's scenes each reports."""
    households.household_for_member(g.resident, household_id)
    rulebook = rulebooks.rules_in_force(utcnow()).rulebook
    rows = db.session.execute(sa.select(Partner).where(
        Partner.active, Partner.kind.in_(sorted(household_partners.HOUSEHOLD_PARTNER_KINDS))).order_by(Partner.id))
    return [{"id": p.id, "name": p.name, "kind": p.kind.value, "scenarios": _household_scenarios(p, rulebook)}
            for p in rows.scalars()]


@blp.get("/<int:household_id>/bindings")
@blp.response(200, BindingSchema(many=True))
@blp.doc(security=[BEARER])
@resident_required
def bindings(household_id: int):
    """The household's meter (only its last four characters are kept); any member sees it."""
    return household_partners.bindings_of(g.resident, household_id)


@blp.post("/<int:household_id>/bindings")
@blp.arguments(MeterCreateSchema)
@blp.response(201, BindingSchema)
@blp.doc(security=[BEARER])
@resident_required
def add_meter(body, household_id: int):
    """The head enters the household's electricity meter number (only a hash is kept). It stays pending,
    matching no readings, until the utility confirms it: show the utility a binding code of the household
    (`POST …/binding-codes`). A household holds one meter: another one while it holds a meter is a 409
    `household_has_meter`. The answer is the same whether or not another household has entered the number;
    the utility is told (409 `identifier_taken`) when it is proven elsewhere."""
    binding = household_partners.add_meter(g.resident, household_id, body["identifier"])
    commit()
    return binding


@blp.post("/<int:household_id>/binding-codes")
@blp.arguments(NoBody)
@blp.response(201, BindingCodeSchema)
@blp.doc(security=[BEARER])
@resident_required
def binding_code(_body, household_id: int):
    """The head gets a one-time code for the utility to confirm (or propose) the household's meter."""
    record, code = household_partners.issue_code(g.resident, household_id)
    commit()
    return Shown(record, code=code)


@blp.post("/<int:household_id>/bindings/<int:binding_id>/confirm")
@blp.arguments(NoBody)
@blp.response(200, BindingSchema)
@blp.doc(security=[BEARER])
@resident_required
def confirm(_body, household_id: int, binding_id: int):
    """The head confirms the meter the utility proposed: its readings are matched to the household from now
    (and those that arrived before, within the claim window, credited)."""
    binding = household_partners.confirm(g.resident, household_id, binding_id)
    commit()
    return binding


@blp.delete("/<int:household_id>/bindings/<int:binding_id>")
@blp.arguments(NoBody)
@blp.response(204)
@blp.doc(security=[BEARER])
@resident_required
def unbind(_body, household_id: int, binding_id: int):
    """The head unbinds the meter: its readings are no longer matched to the household (another household,
    say after a move, may then bind it)."""
    household_partners.unbind(g.resident, household_id, binding_id)
    commit()


@blp.get("/<int:household_id>/authorisations")
@blp.response(200, AuthorisationSchema(many=True))
@blp.doc(security=[BEARER])
@resident_required
def authorisations(household_id: int):
    """The scenes the household allows partners to report for it."""
    return household_partners.authorisations_of(g.resident, household_id)


@blp.post("/<int:household_id>/authorisations")
@blp.arguments(AuthorisationCreateSchema)
@blp.response(201, AuthorisationSchema)
@blp.doc(security=[BEARER])
@resident_required
def authorise(body, household_id: int):
    """The head allows a partner to report one scene for the household (场景授权): the utility for
    `electricity_saving`. Without it the utility's readings are kept unmatched, and credited if it comes
    within the claim window."""
    partner = db.session.get(Partner, body["partner_id"])
    if partner is None or not partner.active:
        raise NotFound("partner not found")
    scenario = rulebooks.rules_in_force(utcnow()).rulebook.scenarios.get(body["scenario"])
    authorisation = household_partners.grant(g.resident, household_id, partner, body["scenario"],
                                             scenario.channels if scenario else frozenset(),
                                             scenario.account_types if scenario else frozenset())
    commit()
    return authorisation


@blp.delete("/<int:household_id>/authorisations/<int:authorisation_id>")
@blp.arguments(NoBody)
@blp.response(204)
@blp.doc(security=[BEARER])
@resident_required
def withdraw(_body, household_id: int, authorisation_id: int):
    """The head withdraws the household's consent: nothing more from that partner for that scene is credited."""
    household_partners.withdraw(g.resident, household_id, authorisation_id)
    commit()
