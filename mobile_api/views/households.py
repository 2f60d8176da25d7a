"""Households: create, view with members' totals, invite, join, leave, hand over headship."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Action, ActionStatus
from carbon_platform.services import households
from mobile_api.auth import BEARER, resident_required
from mobile_api.blueprint import Blueprint
from mobile_api.schemas.common import NoBody, Shown
from mobile_api.schemas.households import (
    HouseholdCreateSchema,
    HouseholdSchema,
    InvitationCreateSchema,
    InvitationSchema,
    JoinSchema,
    TransferHeadSchema,
)

blp = Blueprint("households", __name__, url_prefix="/api/v1/households", description="Households.")


def shown(household, viewer) -> Shown:
    """The household as ``HouseholdSchema`` shows it to ``viewer``: each member with the points they earned."""
    earned = dict(db.session.execute(
        sa.select(Action.account_id, sa.func.sum(Action.points))
        .where(Action.account_id.in_([m.resident.account_id for m in household.memberships]),
               Action.status == ActionStatus.CREDITED)
        .group_by(Action.account_id)).all())
    members = [Shown(m, lifetime_points=int(earned.get(m.resident.account_id) or 0)) for m in household.memberships]
    return Shown(household, members=members,
                 my_role=next(m.role for m in household.memberships if m.resident_id == viewer.id),
                 total_grams=sum(m.resident.account.reduction_grams for m in household.memberships)
                 + household.account.reduction_grams)


@blp.post("")
@blp.arguments(HouseholdCreateSchema)
@blp.response(201, HouseholdSchema)
@blp.doc(security=[BEARER])
@resident_required
def create(body):
    """Create a household; you become its head."""
    household = households.create_household(g.resident, name=body["name"], address=body["address"],
                                            district_code=body["district"])
    commit()
    return shown(household, g.resident)


@blp.post("/join")
@blp.arguments(JoinSchema)
@blp.response(200, HouseholdSchema)
@blp.doc(security=[BEARER])
@resident_required
def join(body):
    """Join a household with the invitation code its head gave you."""
    household = households.join(g.resident, body["code"])
    commit()
    return shown(household, g.resident)


@blp.get("/<int:household_id>")
@blp.response(200, HouseholdSchema)
@blp.doc(security=[BEARER])
@resident_required
def show(household_id: int):
    """Your household with each member's reduction. Other households answer 404."""
    return shown(households.household_for_member(g.resident, household_id), g.resident)


@blp.post("/<int:household_id>/invitations")
@blp.arguments(InvitationCreateSchema)
@blp.response(201, InvitationSchema)
@blp.doc(security=[BEARER])
@resident_required
def invite(body, household_id: int):
    """The head issues a one-time invitation code (valid for 7 days)."""
    issued = households.invite(g.resident, household_id, phone=body.get("phone"))
    commit()
    return issued


@blp.post("/<int:household_id>/head")
@blp.arguments(TransferHeadSchema)
@blp.response(200, HouseholdSchema)
@blp.doc(security=[BEARER])
@resident_required
def transfer_head(body, household_id: int):
    """The head hands the headship to another member."""
    household = households.transfer_head(g.resident, household_id, body["resident_id"])
    commit()
    return shown(household, g.resident)


@blp.post("/<int:household_id>/leave")
@blp.arguments(NoBody)
@blp.response(204)
@blp.doc(security=[BEARER])
@resident_required
def leave(_body, household_id: int):
    """Leave your household (a head with other members must hand over first)."""
    households.household_for_member(g.resident, household_id)
    households.leave(g.resident)
    commit()
