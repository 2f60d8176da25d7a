"""Households: create one, invite by one-time code, join, leave, hand over headship, see members' totals."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.db import insert_ignoring_conflicts
from carbon_platform.errors import Conflict, Forbidden, InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import (
    AccountKind,
    Household,
    HouseholdInvitation,
    HouseholdMembership,
    MemberRole,
    Resident,
)
from carbon_platform.services.accounts import clean_name, district_by_code, open_account
from carbon_platform.services.identity import normalise_phone

INVITATION_TTL = timedelta(days=7)
#: Invitation codes people can read aloud: no 0/O or 1/I/L.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MAX_MEMBERS = 12


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: HouseholdInvitation
    code: str  # shown once to the head; only its hash is stored


def membership_of(resident: Resident) -> HouseholdMembership | None:
    return db.session.execute(
        sa.select(HouseholdMembership).where(HouseholdMembership.resident_id == resident.id)
    ).scalar_one_or_none()


def household_for_member(resident: Resident, household_id: int) -> Household:
    """The household if the resident belongs to it; otherwise NotFound, whether or not it exists."""
    membership = membership_of(resident)
    if membership is None or membership.household_id != household_id:
        raise NotFound("household not found")
    return membership.household


def create_household(resident: Resident, *, name: str, address: str, district_code: str) -> Household:
    if membership_of(resident) is not None:
        raise Conflict("you already belong to a household; leave it first", code="already_in_household")
    household = Household(
        name=clean_name(name, "name"),
        address=clean_name(address, "address", max_length=200),
        district=district_by_code(district_code),
        account=open_account(AccountKind.HOUSEHOLD),
    )
    db.session.add(household)
    db.session.flush()
    # Claimed like a join's membership: the same resident creating (or joining) twice at once gets one.
    claimed = db.session.execute(
        insert_ignoring_conflicts(HouseholdMembership.__table__, ["resident_id"], returning=["id"]),
        {"household_id": household.id, "resident_id": resident.id, "role": MemberRole.HEAD, "joined_at": utcnow()},
    ).first()
    if claimed is None:  # raising rolls the new household back with the rest of the request
        raise Conflict("you already belong to a household; leave it first", code="already_in_household")
    return household


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def invite(head: Resident, household_id: int, *, phone: str | None = None) -> IssuedInvitation:
    household = household_for_member(head, household_id)
    require_head(head, household)
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    invitation = HouseholdInvitation(
        household=household,
        code_hash=_hash_code(code),
        invited_by_id=head.id,
        phone=normalise_phone(phone) if phone else None,
        expires_at=utcnow() + INVITATION_TTL,
    )
    db.session.add(invitation)
    db.session.flush()
    return IssuedInvitation(invitation, code)


def join(resident: Resident, code: str) -> Household:
    """Spend the invitation ``code`` and make ``resident`` a member of its household.

    Safe under any race: the code is spent by one guarded statement (of any number of joins with one code,
    one finds it unspent; on PostgreSQL the others wait for its row lock and re-check), the household row is
    locked before its members are counted (so joins with different codes cannot pass the cap together), and
    the membership is claimed with ``ON CONFLICT DO NOTHING`` (a resident joining two households at once
    gets one). Any refusal raises, so the transaction rolls back and the code stays unspent.
    """
    if not isinstance(code, str) or not code.strip():
        raise InvalidInput("invitation code required", field="code")
    now = utcnow()
    household_id = db.session.execute(
        sa.update(HouseholdInvitation)
        .where(HouseholdInvitation.code_hash == _hash_code(code),
               HouseholdInvitation.accepted_at.is_(None),
               HouseholdInvitation.revoked_at.is_(None),
               HouseholdInvitation.expires_at > now,
               sa.or_(HouseholdInvitation.phone.is_(None), HouseholdInvitation.phone == resident.phone))
        .values(accepted_at=now, accepted_by_id=resident.id)
        .returning(HouseholdInvitation.household_id),
        execution_options={"synchronize_session": False},
    ).scalar_one_or_none()
    if household_id is None:
        # One answer for unknown, used, expired and someone else's codes: nothing to probe.
        raise NotFound("invitation not found or no longer valid", code="invitation_invalid")
    if membership_of(resident) is not None:
        raise Conflict("you already belong to a household; leave it first", code="already_in_household")
    # FOR NO KEY UPDATE: serialises the joins of this household without blocking rows that merely refer
    # to it (an invitation being issued). Columns only, so the household's joined account is not locked.
    db.session.execute(sa.select(Household.id).where(Household.id == household_id).with_for_update(key_share=True))
    members = db.session.execute(sa.select(sa.func.count()).select_from(HouseholdMembership)
                                 .where(HouseholdMembership.household_id == household_id)).scalar_one()
    if members >= MAX_MEMBERS:
        raise Conflict(f"a household has at most {MAX_MEMBERS} members", code="household_full")
    claimed = db.session.execute(
        insert_ignoring_conflicts(HouseholdMembership.__table__, ["resident_id"], returning=["id"]),
        {"household_id": household_id, "resident_id": resident.id, "role": MemberRole.MEMBER, "joined_at": now},
    ).first()
    if claimed is None:  # the same resident's other join won meanwhile
        raise Conflict("you already belong to a household; leave it first", code="already_in_household")
    return db.session.get(Household, household_id)


def leave(resident: Resident) -> None:
    membership = membership_of(resident)
    if membership is None:
        raise NotFound("you do not belong to a household")
    others = [m for m in membership.household.memberships if m.id != membership.id]
    if membership.role == MemberRole.HEAD and others:
        raise Conflict("hand the headship to another member before leaving", code="head_must_transfer")
    db.session.delete(membership)
    db.session.flush()


def transfer_head(head: Resident, household_id: int, new_head_id: int) -> Household:
    household = household_for_member(head, household_id)
    current = require_head(head, household)
    successor = next((m for m in household.memberships if m.resident_id == new_head_id), None)
    if successor is None:
        raise InvalidInput("the new head must be a member of the household", field="resident_id")
    if successor is current:
        return household
    current.role = MemberRole.MEMBER
    db.session.flush()  # the one-head index must never see two heads
    successor.role = MemberRole.HEAD
    db.session.flush()
    return household


def require_head(resident: Resident, household: Household) -> HouseholdMembership:
    membership = next((m for m in household.memberships if m.resident_id == resident.id), None)
    if membership is None or membership.role != MemberRole.HEAD:
        raise Forbidden("only the head of the household can do that")
    return membership
