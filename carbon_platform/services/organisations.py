"""Merchants with their staff, and data-feed partners with their signing secrets."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.errors import Conflict, InvalidInput, NotFound
from carbon_platform.extensions import db
from carbon_platform.models import (
    AccountKind,
    Audience,
    Enterprise,
    Merchant,
    MerchantKind,
    MerchantStaff,
    Partner,
    PartnerKind,
    PartnerSecret,
    StaffRole,
)
from carbon_platform.services import audit
from carbon_platform.services.accounts import clean_name, district_by_code, open_account
from carbon_platform.services.identity import normalise_phone, normalise_uscc

MAX_LIVE_SECRETS = 2


def register_merchant(*, name: str, district_code: str, actor: audit.Actor, enterprise: Enterprise | None = None,
                      uscc: str | None = None, address: str = "") -> Merchant:
    """An enterprise's shop, or an individual business (个体工商户) with its own 统一社会信用代码."""
    if enterprise is None and not uscc:
        raise InvalidInput("an individual business needs its 统一社会信用代码", code="uscc_required", field="uscc")
    merchant = Merchant(
        name=clean_name(name, "name", max_length=128),
        kind=MerchantKind.ENTERPRISE if enterprise else MerchantKind.INDIVIDUAL,
        enterprise=enterprise,
        uscc=enterprise.uscc if enterprise else normalise_uscc(uscc),
        district=district_by_code(district_code),
        address=address.strip()[:200],
        account=open_account(AccountKind.MERCHANT),
    )
    db.session.add(merchant)
    db.session.flush()
    audit.record(actor, "merchant.register", merchant, name=merchant.name)
    return merchant


def add_staff(merchant: Merchant, *, phone: str, display_name: str, role: StaffRole,
              actor: audit.Actor) -> MerchantStaff:
    phone = normalise_phone(phone)
    exists = db.session.execute(
        sa.select(MerchantStaff.id).where(MerchantStaff.merchant_id == merchant.id, MerchantStaff.phone == phone)
    ).first()
    if exists:
        raise Conflict("this phone number is already staff of the merchant", code="staff_exists", field="phone")
    staff = MerchantStaff(merchant=merchant, phone=phone, display_name=clean_name(display_name, "display_name"),
                          role=StaffRole(role))
    db.session.add(staff)
    db.session.flush()
    audit.record(actor, "merchant.staff.add", staff, merchant_id=merchant.id, role=staff.role.value)
    return staff


def set_staff_active(staff: MerchantStaff, active: bool, *, actor: audit.Actor) -> MerchantStaff:
    """Let a staff member scan again, or stop them: a stopped one's tokens are revoked at once."""
    from carbon_platform.services import auth

    staff.active = active
    if not active:
        auth.revoke_all(Audience.MERCHANT_STAFF, staff.id)
    audit.record(actor, "merchant.staff.activate" if active else "merchant.staff.deactivate", staff,
                 merchant_id=staff.merchant_id)
    return staff


def staff_for_login(phone: str) -> list[MerchantStaff]:
    """Active staff records for a phone number (one person may serve several merchants)."""
    return list(
        db.session.execute(
            sa.select(MerchantStaff)
            .join(Merchant)
            .where(MerchantStaff.phone == normalise_phone(phone), MerchantStaff.active, Merchant.active)
            .order_by(MerchantStaff.id)
        ).scalars()
    )


def register_partner(*, name: str, kind: PartnerKind, actor: audit.Actor) -> tuple[Partner, str]:
    """Create a partner and its first secret. The secret is returned once and never shown again."""
    partner = Partner(name=clean_name(name, "name", max_length=128), kind=PartnerKind(kind),
                      key_id="pk_" + secrets.token_hex(8))
    db.session.add(partner)
    db.session.flush()
    secret = _new_secret(partner)
    audit.record(actor, "partner.register", partner, name=partner.name, key_id=partner.key_id)
    return partner, secret


class AlreadyRotated(Conflict):
    code, message = "secret_already_rotated", "The secret has been rotated since; it was not rotated again."


def rotate_partner_secret(partner: Partner, *, actor: audit.Actor, after: int | None = None) -> str:
    """Add a new secret; if two were live, the older one is revoked (two stay live for rotation).

    ``after``: the id of the newest secret the caller saw. If a newer one exists, this rotation already
    happened (a reloaded page re-posting its form, a second administrator at the same moment):
    AlreadyRotated, and nothing changes. Rotating twice would revoke the secret the partner still uses.
    """
    # The partner's row is the rotation's lock: two rotations take turns and the second sees the first.
    db.session.execute(sa.select(Partner.id).where(Partner.id == partner.id).with_for_update())
    db.session.expire(partner, ["secrets"])
    newest = db.session.execute(sa.select(sa.func.max(PartnerSecret.id))
                                .where(PartnerSecret.partner_id == partner.id)).scalar()
    if after is not None and newest != after:
        raise AlreadyRotated(partner_id=partner.id)
    live = partner.live_secrets()
    now = utcnow()
    for old in live[: max(0, len(live) - MAX_LIVE_SECRETS + 1)]:
        old.revoked_at = now
    secret = _new_secret(partner)
    audit.record(actor, "partner.secret.rotate", partner, key_id=partner.key_id)
    return secret


def revoke_partner_secret(partner: Partner, secret_id: int, *, actor: audit.Actor) -> None:
    match = next((s for s in partner.live_secrets() if s.id == secret_id), None)
    if match is None:
        raise NotFound("no live secret with that id")
    match.revoked_at = utcnow()
    audit.record(actor, "partner.secret.revoke", partner, secret_id=secret_id)


def _new_secret(partner: Partner) -> str:
    value = "ps_" + secrets.token_urlsafe(32)
    db.session.add(PartnerSecret(partner=partner, secret=value))
    db.session.flush()
    return value


def update_partner(partner: Partner, *, allowed_scenarios: list[str], rate_limit: str, active: bool,
                   actor: audit.Actor) -> Partner:
    """What a partner may report and how fast; switching a partner off stops its feed at once."""
    from limits import parse_many

    try:
        parse_many(rate_limit)
    except ValueError:
        raise InvalidInput("write the rate like '600 per minute'", code="invalid_rate_limit",
                           field="rate_limit") from None
    def state() -> dict:
        return {"allowed_scenarios": sorted(partner.allowed_scenarios or []), "rate_limit": partner.rate_limit,
                "active": partner.active}

    before = state()
    partner.allowed_scenarios = sorted({s.strip() for s in allowed_scenarios if s.strip()})
    partner.rate_limit, partner.active = rate_limit.strip(), active
    audit.record(actor, "partner.update", partner, **audit.changes(before, state()))
    return partner


def set_legacy_signature_until(key_id: str, until: datetime | None, *, actor: audit.Actor) -> Partner:
    """Until when this partner may still sign without method and path (services/partner_auth.py); None: never."""
    partner = db.session.execute(sa.select(Partner).where(Partner.key_id == key_id)).scalar_one_or_none()
    if partner is None:
        raise NotFound("no partner with that key id")
    if until is not None and until.tzinfo is None:
        raise InvalidInput("give the time with its offset, e.g. 2027-06-30T00:00:00Z", field="until")
    partner.legacy_signature_until = until
    audit.record(actor, "partner.legacy_signature", partner, key_id=key_id,
                 until=until.isoformat() if until else None)
    return partner
