"""Residents and enterprises: opening their carbon accounts and keeping their profiles."""

from __future__ import annotations

import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.errors import Conflict, InvalidInput
from carbon_platform.extensions import db
from carbon_platform.models import AccountKind, CarbonAccount, District, Enterprise, Resident
from carbon_platform.services import audit
from carbon_platform.services.identity import normalise_phone, normalise_uscc


def open_account(kind: AccountKind) -> CarbonAccount:
    account = CarbonAccount(kind=kind)
    db.session.add(account)
    return account


def district_by_code(code: str | None) -> District | None:
    if code is None:
        return None
    district = db.session.execute(sa.select(District).where(District.code == code)).scalar_one_or_none()
    if district is None:
        raise InvalidInput(f"unknown district {code!r}", field="district")
    return district


def clean_name(value: str, field: str, *, max_length: int = 40) -> str:
    value = (value or "").strip()
    if not value or len(value) > max_length:
        raise InvalidInput(f"{field} must be 1 to {max_length} characters", field=field, maximum=max_length)
    return value


def find_resident_by_phone(phone: str) -> Resident | None:
    return db.session.execute(sa.select(Resident).where(Resident.phone == normalise_phone(phone))).scalar_one_or_none()


def register_resident(phone: str, *, display_name: str | None = None, district_code: str | None = None,
                      real_name: str | None = None) -> Resident:
    phone = normalise_phone(phone)
    if find_resident_by_phone(phone) is not None:
        raise Conflict("a resident with this phone number exists", field="phone")
    resident = Resident(
        phone=phone,
        display_name=clean_name(display_name or f"泰安市民{phone[-4:]}", "display_name"),
        real_name=clean_name(real_name, "real_name") if real_name else None,
        district=district_by_code(district_code),
        account=open_account(AccountKind.RESIDENT),
    )
    db.session.add(resident)
    db.session.flush()
    return resident


def resident_for_login(phone: str) -> Resident:
    """The resident behind a verified phone number; the first login opens the account."""
    resident = find_resident_by_phone(phone)
    if resident is None:
        resident = register_resident(phone)
    resident.last_login_at = utcnow()
    return resident


def update_profile(resident: Resident, *, display_name: str | None = None, district_code: str | None = None,
                   real_name: str | None = None, clear_real_name: bool = False) -> Resident:
    if display_name is not None:
        resident.display_name = clean_name(display_name, "display_name")
    if district_code is not None:
        resident.district = district_by_code(district_code)
    if clear_real_name:
        resident.real_name = None
    elif real_name is not None:
        resident.real_name = clean_name(real_name, "real_name")
    return resident


def register_enterprise(*, name: str, uscc: str, industry: str, district_code: str, contact_name: str,
                        contact_phone: str, actor: audit.Actor) -> Enterprise:
    uscc = normalise_uscc(uscc)
    if db.session.execute(sa.select(Enterprise.id).where(Enterprise.uscc == uscc)).first():
        raise Conflict("an enterprise with this 统一社会信用代码 exists", field="uscc")
    enterprise = Enterprise(
        name=clean_name(name, "name", max_length=128),
        uscc=uscc,
        industry=clean_name(industry, "industry", max_length=64),
        district=district_by_code(district_code),
        contact_name=clean_name(contact_name, "contact_name"),
        contact_phone=normalise_phone(contact_phone),
        account=open_account(AccountKind.ENTERPRISE),
    )
    db.session.add(enterprise)
    db.session.flush()
    audit.record(actor, "enterprise.register", enterprise, name=enterprise.name, uscc=uscc)
    return enterprise


def enterprises_for_login(phone: str) -> list[Enterprise]:
    """The enterprises whose registered contact is ``phone``: they may log in for those accounts."""
    return list(db.session.execute(
        sa.select(Enterprise).where(Enterprise.contact_phone == normalise_phone(phone)).order_by(Enterprise.id)
    ).scalars())


def set_frozen(account: CarbonAccount, frozen: bool, *, actor: audit.Actor, reason: str) -> CarbonAccount:
    if not reason.strip():
        raise InvalidInput("say why", code="reason_required", field="reason")
    if account.closed_at is not None and not frozen:
        raise Conflict("this account was closed when its holder deleted it", code="account_closed")
    account.frozen = frozen
    audit.record(actor, "account.freeze" if frozen else "account.unfreeze", account, reason=reason)
    return account

