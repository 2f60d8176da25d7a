"""Test factories: plain functions over the real services, each taking overrides."""

from __future__ import annotations

import itertools
from datetime import timedelta

from carbon_platform import seeding
from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.models import AdminRole, StaffRole
from carbon_platform.services import accounts, admins, audit, bank_access, consent, ledger, organisations
from carbon_platform.services.identity import uscc_check_character

_phones = itertools.count(1)
_keys = itertools.count(1)
TEST_ACTOR = audit.Actor("test", None, "test")
PASSWORD = "correct horse battery"


def phone() -> str:
    """A fresh mainland mobile number per call: 1390 and seven digits, ten million before one repeats
    (the races create thousands of residents per run)."""
    return f"1390{next(_phones):07d}"


def key(prefix: str = "test") -> str:
    return f"{prefix}:{next(_keys)}"


def districts():
    seeding.load_reference()


def resident(**over):
    districts_needed = over.get("district_code")
    if districts_needed:
        districts()
    return accounts.register_resident(over.pop("phone", None) or phone(), **over)


def enterprise(**over):
    """A registered enterprise with a valid 统一社会信用代码 (a fresh one per call unless given)."""
    districts()
    first17 = f"91370900MA3C{next(_keys) % 100000:05d}"
    fields = dict(name=f"泰安绿能光伏科技有限公司{next(_keys)}", uscc=first17 + uscc_check_character(first17),
                  industry="光伏发电", district_code="370900-hitech", contact_name="王工", contact_phone=phone(),
                  actor=TEST_ACTOR)
    return accounts.register_enterprise(**{**fields, **over})


def admin(role: AdminRole = AdminRole.SUPER_ADMIN, username: str | None = None, password: str = PASSWORD,
          institution=None):
    """An administrator; bank staff belong to ``institution`` (a new one unless given)."""
    if role == AdminRole.BANK and institution is None:
        institution = bank()
    return admins.create_admin(username=username or f"{role.value}{next(_keys)}", password=password, role=role,
                               actor=TEST_ACTOR, institution_id=institution.id if institution else None)


def bank(**over):
    """A financial institution with a valid 统一社会信用代码 (a fresh one per call unless given)."""
    first17 = f"91370900MA3B{next(_keys) % 100000:05d}"
    fields = dict(name=f"泰安测试银行{next(_keys)}", uscc=first17 + uscc_check_character(first17), actor=TEST_ACTOR)
    return bank_access.register_institution(**{**fields, **over})


def merchant(**over):
    districts()
    return organisations.register_merchant(
        name=over.pop("name", f"测试商户{next(_keys)}"), district_code=over.pop("district_code", "370902"),
        uscc=over.pop("uscc", "92370902MA3D2N8K40"), actor=TEST_ACTOR, **over,
    )


def staff(merchant_obj, role: StaffRole = StaffRole.CASHIER, phone_number: str | None = None):
    return organisations.add_staff(merchant_obj, phone=phone_number or phone(), display_name="店员", role=role,
                                   actor=TEST_ACTOR)


def reward(merchant_obj=None, *, stock: int = 10, points_price: int = 300, **over):
    """A reward on sale now at a merchant (a new one unless given)."""
    from carbon_platform.services import rewards

    fields = dict(name_zh="低碳咖啡一杯", name_en="A low-carbon coffee", points_price=points_price, voucher_days=30,
                  face_value_fen=1500, funder="city")
    return rewards.create(merchant_obj or merchant(), stock=stock, actor=TEST_ACTOR, **{**fields, **over})


def bus_ride(resident, when, key: str, *, distance_km=None, district: str = "370902"):
    """A bus ride reported by the transit partner a minute after it happened (80 g without a distance)."""
    from carbon_platform.services import earning

    return earning.award_action(resident.account_id, account_type="resident", scenario="bus_ride",
                                inputs={} if distance_km is None else {"distance_km": distance_km}, occurred_at=when,
                                idempotency_key=key, channel="partner:transit", district=district,
                                now=when + timedelta(minutes=1))


def proven_binding(account_id: int, partner, kind, identifier: str):
    """A binding proven as a resident proves one: entered in the app, then confirmed by the partner
    the resident showed a binding code to."""
    consent.add_binding(account_id, kind, identifier)
    _record, code = consent.issue_binding_code(account_id)
    return consent.confirm_by_partner(partner, code, kind, identifier)


def fund(account_id: int, points: int, *, grams: int = 0, expires_in_days: int = 365, hold_days: int = 0,
         scenario: str = "bus_ride", now=None):
    """Credit points that are available at once (or after ``hold_days``)."""
    now = now or utcnow()
    return ledger.earn(
        account_id, points=points, grams=grams, scenario=scenario, idempotency_key=key("fund"), now=now,
        release_at=now + timedelta(days=hold_days) if hold_days else None,
        expires_at=now + timedelta(days=expires_in_days),
    )


def committed(fn, *args, **kwargs):
    """Call a factory and commit, for tests that go through HTTP afterwards."""
    result = fn(*args, **kwargs)
    commit()
    return result

