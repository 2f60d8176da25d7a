"""A household's own bindings and scene authorisations: its electricity meter, and the utility's consent.

A household's electricity saving is credited to the household's account (the scenario is for households only),
so the meter is bound to that account, never to a member's, and the consent is the household's. The head acts
for the household (as for invitations and the headship); every member may see what is bound, masked. The proof
is the one every binding has (``services.consent``): the number typed in stays pending until the utility
confirms it with a one-time binding code issued for the household's account, or the household confirms what
the utility proposed. A household holds one meter at a time: the monthly saving is one figure per household
(the scenario counts one a month), so a second meter would only be capped away.
"""

from __future__ import annotations

import sqlalchemy as sa

from carbon_platform.extensions import db
from carbon_platform.models import (
    Authorisation,
    Binding,
    BindingCode,
    BindingKind,
    BindingStatus,
    Household,
    Partner,
    PartnerKind,
    Resident,
)
from carbon_platform.services import consent
from carbon_platform.services.households import household_for_member, require_head

#: The partners a household deals with itself: those that know it by what it may bind (its meter).
HOUSEHOLD_PARTNER_KINDS = frozenset({PartnerKind.UTILITY})


def acting_for(resident: Resident, household_id: int) -> Household:
    """The household, if ``resident`` may act for it (its head); NotFound for others' households."""
    household = household_for_member(resident, household_id)
    require_head(resident, household)
    return household


def bindings_of(resident: Resident, household_id: int) -> list[Binding]:
    """The household's live bindings, for any member to see (only the last four characters are kept)."""
    household = household_for_member(resident, household_id)
    return list(db.session.execute(
        sa.select(Binding).where(Binding.account_id == household.account_id, Binding.status != BindingStatus.REVOKED)
        .order_by(Binding.id)).scalars())


def add_meter(resident: Resident, household_id: int, identifier: str) -> Binding:
    """The head enters the household's meter number: pending until the utility confirms it. Entering the
    number the household already holds answers that binding; another meter while one is held is a 409."""
    return consent.add_binding(acting_for(resident, household_id).account_id, BindingKind.ELECTRICITY_METER,
                               identifier)


def issue_code(resident: Resident, household_id: int) -> tuple[BindingCode, str]:
    """A one-time code for the household's account, for the utility to confirm or propose its meter."""
    return consent.issue_binding_code(acting_for(resident, household_id).account_id)


def confirm(resident: Resident, household_id: int, binding_id: int) -> Binding:
    """The head confirms the meter the utility proposed: proven, and its waiting readings credited."""
    return consent.confirm_binding(acting_for(resident, household_id).account_id, binding_id)


def unbind(resident: Resident, household_id: int, binding_id: int) -> None:
    consent.revoke_binding(acting_for(resident, household_id).account_id, binding_id)


def authorisations_of(resident: Resident, household_id: int) -> list[Authorisation]:
    household = household_for_member(resident, household_id)
    return list(db.session.execute(
        sa.select(Authorisation).where(Authorisation.account_id == household.account_id,
                                       Authorisation.revoked_at.is_(None)).order_by(Authorisation.id)).scalars())


def grant(resident: Resident, household_id: int, partner: Partner, scenario: str, accepted_channels: frozenset[str],
          account_types: frozenset[str]) -> Authorisation:
    """The head's consent, for the household's account, that ``partner`` reports ``scenario`` (a scenario
    credited to households: the saving is the household's, never a member's)."""
    return consent.grant(acting_for(resident, household_id).account_id, partner, scenario, accepted_channels,
                         account_types)


def withdraw(resident: Resident, household_id: int, authorisation_id: int) -> None:
    consent.revoke(acting_for(resident, household_id).account_id, authorisation_id)
