"""Who holds an account, as awarding needs it: the account type, the district and the household."""

from __future__ import annotations

import sqlalchemy as sa

from carbon_platform.extensions import db
from carbon_platform.models import CarbonAccount, District, Enterprise, Household, HouseholdMembership, Resident


def of(account_ids: set[int]) -> dict[int, tuple[str, str | None, int | None]]:
    """(account type, district code, household account id) of whoever holds each account, in one query."""
    if not account_ids:
        return {}
    return {account_id: (kind.value, district, household) for account_id, kind, district, household
            in db.session.execute(_HOLDERS, {"ids": sorted(account_ids)})}


def _holders_statement() -> sa.Select:
    accounts = CarbonAccount.__table__.c
    resident, household, enterprise = Resident.__table__, Household.__table__, Enterprise.__table__
    membership, theirs = HouseholdMembership.__table__, Household.__table__.alias("theirs")
    district = District.__table__
    return (
        sa.select(accounts.id, accounts.kind, district.c.code, theirs.c.account_id)
        .select_from(CarbonAccount.__table__)
        .outerjoin(resident, resident.c.account_id == accounts.id)
        .outerjoin(household, household.c.account_id == accounts.id)
        .outerjoin(enterprise, enterprise.c.account_id == accounts.id)
        .outerjoin(district, district.c.id == sa.func.coalesce(resident.c.district_id, household.c.district_id,
                                                               enterprise.c.district_id))
        .outerjoin(membership, membership.c.resident_id == resident.c.id)
        .outerjoin(theirs, theirs.c.id == membership.c.household_id)
        .where(accounts.id.in_(sa.bindparam("ids", expanding=True)))
    )


_HOLDERS = _holders_statement()
