"""Opening accounts: residents, enterprises, merchants and their staff; freezing; the audit trail."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from carbon_platform.errors import Conflict, InvalidInput
from carbon_platform.extensions import db
from carbon_platform.models import AccountKind, AuditEvent, StaffRole
from carbon_platform.services import accounts, organisations
from tests import factories as f


@pytest.fixture
def districts(ctx):
    f.districts()


def enterprise(**over):
    return f.enterprise(**{"name": "泰安绿能光伏科技有限公司", "uscc": "91370900MA3C5X7Q1K", **over})


def test_every_holder_gets_its_own_kind_of_carbon_account(districts):
    resident = f.resident(district_code="370902")
    company = enterprise()
    shop = organisations.register_merchant(name="岱宗坊咖啡", district_code="370902", uscc="92370902MA3D2N8K40",
                                           actor=f.TEST_ACTOR)
    kinds = {resident.account.kind, company.account.kind, shop.account.kind}
    assert kinds == {AccountKind.RESIDENT, AccountKind.ENTERPRISE, AccountKind.MERCHANT}
    assert resident.district.name_zh == "泰山区" and company.district.kind.value == "zone"


def test_enterprises_are_checked_and_unique_and_audited(districts):
    with pytest.raises(InvalidInput, match="check character"):
        enterprise(uscc="91370900MA3C5X7Q1F")
    enterprise()
    with pytest.raises(Conflict):
        enterprise(uscc="91370900ma3c5x7q1k", name="同一家公司")
    event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "enterprise.register")).scalar_one()
    assert event.details["uscc"] == "91370900MA3C5X7Q1K" and event.actor_name == "test"


def test_a_merchant_is_an_enterprise_or_an_individual_business_with_its_own_code(districts):
    company = enterprise()
    shop = organisations.register_merchant(name="绿能直营店", district_code="370902", enterprise=company,
                                           actor=f.TEST_ACTOR)
    assert shop.kind.value == "enterprise" and shop.uscc == company.uscc
    with pytest.raises(InvalidInput, match="individual business"):
        organisations.register_merchant(name="个体小店", district_code="370902", actor=f.TEST_ACTOR)


def test_staff_are_unique_per_merchant_and_may_serve_several(districts):
    first, second = f.merchant(), f.merchant()
    phone = f.phone()
    organisations.add_staff(first, phone=phone, display_name="小李", role=StaffRole.MANAGER, actor=f.TEST_ACTOR)
    organisations.add_staff(second, phone=phone, display_name="小李", role=StaffRole.CASHIER, actor=f.TEST_ACTOR)
    with pytest.raises(Conflict):
        organisations.add_staff(first, phone="+86" + phone, display_name="小李", role=StaffRole.CASHIER,
                                actor=f.TEST_ACTOR)
    assert len(organisations.staff_for_login(phone)) == 2


def test_a_resident_phone_is_unique_and_stored_normalised(ctx):
    resident = f.resident(phone="138 0013 8000")
    assert resident.phone == "+8613800138000"
    with pytest.raises(Conflict):
        accounts.register_resident("+86 13800138000")


def test_freezing_says_why_and_is_audited(ctx):
    account = f.resident().account
    with pytest.raises(InvalidInput):
        accounts.set_frozen(account, True, actor=f.TEST_ACTOR, reason=" ")
    accounts.set_frozen(account, True, actor=f.TEST_ACTOR, reason="suspected fraud")
    accounts.set_frozen(account, False, actor=f.TEST_ACTOR, reason="cleared")
    actions = db.session.execute(sa.select(AuditEvent.action).where(AuditEvent.target_type == "carbon_accounts")
                                 .order_by(AuditEvent.id)).scalars().all()
    assert actions == ["account.freeze", "account.unfreeze"] and account.frozen is False
