"""Financial institutions in the console (issue #18 item 7): a super admin registers a bank and creates its staff's
account with the bank role, which must name the bank; no other role may belong to one."""

from __future__ import annotations

import sqlalchemy as sa

from carbon_platform.extensions import db
from carbon_platform.models import Administrator, AdminRole, FinancialInstitution
from tests.admin.helpers import console, csrf_token

USCC = "91370900MA3D6B8N2J"  # the demo bank's, with its GB 32100-2015 check character


def register(client, **over):
    data = {"csrf_token": csrf_token(client, "/admin/institutions"), "name": "泰山农商银行", "uscc": USCC, **over}
    return client.post("/admin/institutions", data=data)


def staff(client, **over):
    data = {"csrf_token": csrf_token(client, "/admin/administrators"), "username": "loans", "display_name": "信贷员",
            "role": "bank", "password": "long-enough-1", **over}
    return client.post("/admin/administrators", data=data)


def test_a_super_admin_registers_a_bank_and_its_staff(app):
    client = console(app, AdminRole.SUPER_ADMIN)
    assert register(client).status_code == 302
    with app.app_context():
        bank_id = db.session.execute(sa.select(FinancialInstitution.id)).scalar_one()
    assert "泰山农商银行" in client.get("/admin/institutions").get_data(as_text=True)
    assert staff(client, institution=str(bank_id)).status_code == 302
    with app.app_context():
        made = db.session.execute(sa.select(Administrator).filter_by(username="loans")).scalar_one()
        assert (made.role, made.institution_id) == (AdminRole.BANK, bank_id)
    listed = client.get("/admin/administrators").get_data(as_text=True)
    assert "银行（金融机构员工）" in listed and "泰山农商银行" in listed


def test_bank_staff_need_a_bank_and_nobody_else_may_have_one(app):
    client = console(app, AdminRole.SUPER_ADMIN)
    register(client)
    with app.app_context():
        bank_id = db.session.execute(sa.select(FinancialInstitution.id)).scalar_one()
    refused = staff(client)
    assert refused.status_code == 400 and "银行角色的账号必须选择所属金融机构" in refused.get_data(as_text=True)
    refused = staff(client, role="operator", institution=str(bank_id))
    assert refused.status_code == 400 and "只有银行角色的账号属于金融机构" in refused.get_data(as_text=True)
    assert staff(client, institution="999999").status_code == 400  # not one of the list
    with app.app_context():
        assert db.session.execute(sa.select(Administrator).filter_by(username="loans")).first() is None


def test_a_bank_is_registered_once_with_a_valid_code(app):
    client = console(app, AdminRole.SUPER_ADMIN)
    assert register(client).status_code == 302
    again = register(client, name="另一家")
    assert again.status_code == 400 and "已经登记过" in again.get_data(as_text=True)
    assert register(client, uscc="91370900MA3D6B8N2X").status_code == 400  # a wrong check character
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(FinancialInstitution)).scalar() == 1


def test_only_a_super_admin_registers_banks(app):
    client = console(app, AdminRole.AUDITOR)
    assert client.get("/admin/institutions").status_code == 200
    assert register(client).status_code == 403
