"""Who holds an account, as awarding needs it: the account type, the district and the household."""

from __future__ import annotations

import sqlalchemy as sa

from carbon_platform.extensions import db
from carbon_platform.models import CarbonAccount, District, Enterprise, Household, HouseholdMembership, Resident

Holder = tuple[str, str | None, int | None]  # account type, district code, household account id


def of(account_ids: set[int]) -> dict[int, Holder]:
    """(account type, district code, household account id) of whoever holds each account, in one query."""
    if not account_ids:
        return {}
    return {account_id: (kind.value, district, household) for account_id, kind, district, household, _frozen
            in db.session.execute(_HOLDERS, {"ids": sorted(account_ids)})}


def lock(account_id: int) -> tuple[Holder | None, dict[int, bool]]:
    """Lock an account and its household's account, as ``journal.lock_accounts`` does (ascending ids,
    ``FOR NO KEY UPDATE``), and read who holds it, in one query: (its holder or None when there is no
    such account, each locked account's ``frozen``)."""
    holder, frozen = None, {}
    for locked_id, kind, district, household, is_frozen in db.session.connection().execute(_LOCK, {"id": account_id}):
        frozen[locked_id] = is_frozen
        if locked_id == account_id:
            holder = (kind.value, district, household)
    return holder, frozen


def _holders_statement() -> sa.Select:
    accounts = CarbonAccount.__table__.c
    resident, household, enterprise = Resident.__table__, Household.__table__, Enterprise.__table__
    membership, theirs = HouseholdMembership.__table__, Household.__table__.alias("theirs")
    district = District.__table__
    return (
        sa.select(accounts.id, accounts.kind, district.c.code, theirs.c.account_id, accounts.frozen)
        .select_from(CarbonAccount.__table__)
        .outerjoin(resident, resident.c.account_id == accounts.id)
        .outerjoin(household, household.c.account_id == accounts.id)
        .outerjoin(enterprise, enterprise.c.account_id == accounts.id)
        .outerjoin(district, district.c.id == sa.func.coalesce(resident.c.district_id, household.c.district_id,
                                                               enterprise.c.district_id))
        .outerjoin(membership, membership.c.resident_id == resident.c.id)
        .outerjoin(theirs, theirs.c.id == membership.c.household_id)
    )


def _lock_statement() -> sa.Select:
    """The holder query for one account and its household's account, locking their account rows only."""
    resident, membership, household = Resident.__table__, HouseholdMembership.__table__, Household.__table__
    account_id = sa.bindparam("id")
    its_household = (sa.select(household.c.account_id)
                     .join(membership, membership.c.household_id == household.c.id)
                     .join(resident, resident.c.id == membership.c.resident_id)
                     .where(resident.c.account_id == account_id))
    accounts = CarbonAccount.__table__
    # IN (a UNION), not "= :id OR IN (…)": PostgreSQL answers that OR by scanning every account.
    both = sa.union(sa.select(sa.cast(account_id, sa.Integer)), its_household)
    return (_holders_statement().where(accounts.c.id.in_(both))
            .order_by(accounts.c.id).with_for_update(of=accounts, key_share=True))


_HOLDERS = _holders_statement().where(CarbonAccount.__table__.c.id.in_(sa.bindparam("ids", expanding=True)))
_LOCK = _lock_statement()
