"""Banks by consent (issue #18 item 7): an enterprise lets a financial institution see its statements and grade
until a day it chooses, and can take that back at once; the institution's staff see only enterprises that let
it, and every page they open is in the audit log the enterprise reads.

What a bank may not see is not there for it: an enterprise without a live grant to the staff member's institution
is "not found" (404), exactly like an enterprise that does not exist, so a bank cannot even learn who declined.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from carbon_platform.clock import city_day, city_day_start, utc_or_now
from carbon_platform.errors import InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import (
    Administrator,
    AdminRole,
    AuditEvent,
    BankGrant,
    Enterprise,
    EnterpriseStatement,
    FinancialInstitution,
)
from carbon_platform.services import audit, statements
from carbon_platform.services.accounts import clean_name
from carbon_platform.services.identity import normalise_uscc

#: The longest a grant may run: three years from today, so consent is asked for again, never left forever.
MAX_GRANT_DAYS = 3 * 365
#: What a bank's staff can open, as the access log names it.
VIEWS = ("enterprise", "statement_pdf", "statement_json")
#: The audit actions the enterprise's access log shows: its grants, revocations and every view of a bank.
LOGGED = ("bank.grant", "bank.revoke", "bank.view")


def register_institution(*, name: str, uscc: str, actor: audit.Actor) -> FinancialInstitution:
    uscc = normalise_uscc(uscc)
    if db.session.execute(sa.select(FinancialInstitution.id).where(FinancialInstitution.uscc == uscc)).first():
        raise InvalidInput("an institution with this 统一社会信用代码 is registered", code="institution_exists",
                           field="uscc")
    institution = FinancialInstitution(name=clean_name(name, "name", max_length=128), uscc=uscc)
    db.session.add(institution)
    db.session.flush()
    audit.record(actor, "institution.register", institution, name=institution.name)
    return institution


def institutions() -> list[FinancialInstitution]:
    return list(db.session.execute(sa.select(FinancialInstitution).order_by(FinancialInstitution.id)).scalars())


def institution(institution_id: int) -> FinancialInstitution:
    found = db.session.get(FinancialInstitution, institution_id) if isinstance(institution_id, int) else None
    if found is None:
        raise NotFound("no financial institution with this id", code="institution_not_found")
    return found


def is_live(grant: BankGrant, now: datetime | None = None) -> bool:
    return grant.revoked_at is None and utc_or_now(now) < grant.expires_at


def grant(enterprise: Enterprise, *, institution_id: int, until: date, actor: audit.Actor,
          now: datetime | None = None) -> BankGrant:
    """Let the institution see the enterprise's statements and grade to the end of Beijing day ``until``.

    An earlier unrevoked grant to the same institution ends now and this one takes its place, so extending or
    shortening access is granting again."""
    now = utc_or_now(now)
    today = city_day(now)
    if not isinstance(until, date) or until < today or until > today + timedelta(days=MAX_GRANT_DAYS):
        raise InvalidInput(f"until must be a day from today to {MAX_GRANT_DAYS} days ahead (Beijing time)",
                           code="grant_until_invalid", field="until", maximum_days=MAX_GRANT_DAYS)
    bank = institution(institution_id)
    # Two grants at once would both find no earlier grant: serialise on the enterprise (the unique index on
    # unrevoked grants is the backstop).
    db.session.execute(sa.select(Enterprise.id).where(Enterprise.id == enterprise.id).with_for_update())
    earlier = db.session.execute(sa.select(BankGrant).where(
        BankGrant.enterprise_id == enterprise.id, BankGrant.institution_id == bank.id,
        BankGrant.revoked_at.is_(None))).scalar_one_or_none()
    if earlier is not None:
        earlier.revoked_at = now
        db.session.flush()
    new = BankGrant(enterprise_id=enterprise.id, institution=bank, until=until,
                    expires_at=city_day_start(until + timedelta(days=1)), created_at=now)
    db.session.add(new)
    db.session.flush()
    audit.record(actor, "bank.grant", enterprise, grant=new.id, institution=bank.name,
                 institution_id=bank.id, until=until.isoformat(), replaces=earlier.id if earlier else None)
    return new


def revoke(enterprise: Enterprise, grant_id: int, *, actor: audit.Actor, now: datetime | None = None) -> BankGrant:
    """End the grant now: the institution's next request for the enterprise finds nothing."""
    found = db.session.get(BankGrant, grant_id, with_for_update=True) if isinstance(grant_id, int) else None
    if found is None or found.enterprise_id != enterprise.id or found.revoked_at is not None:
        raise NotFound("no unrevoked grant with this id", code="grant_not_found")
    found.revoked_at = utc_or_now(now)
    audit.record(actor, "bank.revoke", enterprise, grant=found.id, institution=found.institution.name,
                 institution_id=found.institution_id)
    return found


def grants_of(enterprise: Enterprise) -> list[BankGrant]:
    """Every grant the enterprise made, newest first (ended ones too: they are its record of whom it let in)."""
    return list(db.session.execute(sa.select(BankGrant).where(BankGrant.enterprise_id == enterprise.id)
                                   .order_by(BankGrant.id.desc())).scalars())


def _live_grant(admin: Administrator, now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(BankGrant.institution_id == admin.institution_id, BankGrant.revoked_at.is_(None),
                   BankGrant.expires_at > now)


@dataclass(frozen=True)
class Granted:
    enterprise: Enterprise
    grant: BankGrant


def granting(admin: Administrator, now: datetime | None = None) -> list[Granted]:
    """The enterprises whose live grant lets the administrator's institution in, by name."""
    if admin.role != AdminRole.BANK:
        return []
    rows = db.session.execute(
        sa.select(Enterprise, BankGrant).join(BankGrant, BankGrant.enterprise_id == Enterprise.id)
        .options(selectinload(Enterprise.district)).where(_live_grant(admin, utc_or_now(now)))
        .order_by(Enterprise.name, Enterprise.id)).all()
    return [Granted(enterprise, grant) for enterprise, grant in rows]


def granted_enterprise(admin: Administrator, enterprise_id: int, now: datetime | None = None) -> Granted:
    """The enterprise and the grant that lets the administrator see it; NotFound without one, as if it did not
    exist. Read on every request, so a revocation or an expiry takes effect on the next one."""
    row = None
    if admin.role == AdminRole.BANK and isinstance(enterprise_id, int):
        row = db.session.execute(
            sa.select(Enterprise, BankGrant).join(BankGrant, BankGrant.enterprise_id == Enterprise.id)
            .where(Enterprise.id == enterprise_id, _live_grant(admin, utc_or_now(now)))).first()
    if row is None:
        raise NotFound("no enterprise with this id", code="enterprise_not_found")
    return Granted(*row)


def granted_statement(admin: Administrator, serial: str, now: datetime | None = None) -> EnterpriseStatement:
    """A statement of an enterprise that lets the administrator's institution in; NotFound otherwise."""
    statement = statements.by_serial(serial)
    try:
        granted_enterprise(admin, statement.enterprise_id, now)
    except NotFound:
        raise NotFound("no statement with this number", code="statement_not_found") from None
    return statement


def record_view(admin: Administrator, enterprise: Enterprise, view: str, serial: str | None = None) -> None:
    """Write the view into the audit log the enterprise reads (the one write a bank's GET makes)."""
    if view not in VIEWS:
        raise ValueError(view)
    audit.record(audit.Actor.admin(admin), "bank.view", enterprise, view=view, serial=serial,
                 institution=admin.institution.name, institution_id=admin.institution_id)


def access_log(enterprise: Enterprise, *, limit: int = 200, before_id: int | None = None) -> list[AuditEvent]:
    """The enterprise's grants, revocations and every view of a bank, newest first."""
    query = (sa.select(AuditEvent).where(AuditEvent.target_type == Enterprise.__tablename__,
                                         AuditEvent.target_id == str(enterprise.id), AuditEvent.action.in_(LOGGED))
             .order_by(AuditEvent.id.desc()).limit(limit))
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(db.session.execute(query).scalars())
