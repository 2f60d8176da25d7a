"""Who holds an account, as awarding needs it: the account type, the district and the household."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sqlalchemy as sa

from carbon_platform.extensions import db
from carbon_platform.models import CarbonAccount, District, Enterprise, Household, HouseholdMembership, Resident


@dataclass(frozen=True)
class Holder:
    """Whoever holds an account, as the rules judge them."""

    account_type: str  # "resident", "household" or "enterprise"
    district: str | None  # the district's code
    household_account_id: int | None  # the account of the household a resident belongs to


@dataclass(frozen=True)
class Locked:
    """What ``lock`` found: the holder (None when there is no such account) and each locked account's ``frozen``."""

    holder: Holder | None
    frozen: dict[int, bool] = field(default_factory=dict)


def of(account_ids: set[int]) -> dict[int, Holder]:
    """Whoever holds each account, in one query."""
    if not account_ids:
        return {}
    rows = db.session.execute(_of_accounts(), {"accounts": sorted(account_ids)})
    return {row.id: _holder(row) for row in rows}


@functools.cache
def _of_accounts() -> sa.Select:
    """``of``'s statement, built once per process; its parameter is the list ``accounts``."""
    return _holders().where(CarbonAccount.id.in_(sa.bindparam("accounts", expanding=True)))


def lock(account_id: int) -> Locked:
    """Lock an account and its household's account, as ``journal.lock_accounts`` does (ascending ids,
    ``FOR NO KEY UPDATE``), and read who holds it, in one query."""
    holder, frozen = None, {}
    for row in db.session.execute(_locking(), {"account": account_id}):
        frozen[row.id] = row.frozen
        if row.id == account_id:
            holder = _holder(row)
    return Locked(holder, frozen)


@functools.cache
def _locking() -> sa.Select:
    """``lock``'s statement, built once per process (seven joins cost more to build than to run); its
    parameter is ``account``."""
    resident, membership, household = Resident.__table__, HouseholdMembership.__table__, Household.__table__
    account = sa.bindparam("account", type_=sa.Integer)
    its_household = (sa.select(household.c.account_id)
                     .join(membership, membership.c.household_id == household.c.id)
                     .join(resident, resident.c.id == membership.c.resident_id)
                     .where(resident.c.account_id == account))
    # IN (a UNION), not "= :id OR IN (…)": PostgreSQL answers that OR by scanning every account.
    both = sa.union(sa.select(sa.cast(account, sa.Integer)), its_household)
    return (_holders().where(CarbonAccount.id.in_(both))
            .order_by(CarbonAccount.id).with_for_update(of=CarbonAccount.__table__, key_share=True))


def _holders() -> sa.Select:
    """Each account with its kind, frozen flag, district code and household account: a resident's,
    a household's or an enterprise's district, and the household a resident is a member of."""
    accounts = CarbonAccount.__table__.c
    resident, household, enterprise = Resident.__table__, Household.__table__, Enterprise.__table__
    membership, theirs = HouseholdMembership.__table__, Household.__table__.alias("theirs")
    district = District.__table__
    return (
        sa.select(accounts.id, accounts.kind, accounts.frozen, district.c.code.label("district"),
                  theirs.c.account_id.label("household_account_id"))
        .select_from(CarbonAccount.__table__)
        .outerjoin(resident, resident.c.account_id == accounts.id)
        .outerjoin(household, household.c.account_id == accounts.id)
        .outerjoin(enterprise, enterprise.c.account_id == accounts.id)
        .outerjoin(district, district.c.id == sa.func.coalesce(resident.c.district_id, household.c.district_id,
                                                               enterprise.c.district_id))
        .outerjoin(membership, membership.c.resident_id == resident.c.id)
        .outerjoin(theirs, theirs.c.id == membership.c.household_id)
    )


def _holder(row: sa.Row) -> Holder:
    return Holder(row.kind.value, row.district, row.household_account_id)
