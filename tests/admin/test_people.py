"""People pages: search, one account with its ledger and receipts, freeze and unfreeze."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import AdminRole, AuditEvent, BindingKind, CarbonAccount, Enterprise, PartnerKind
from carbon_platform.services import consent, households, organisations
from tests import factories as f
from tests.admin.helpers import console, csrf_token

BEIJING = timezone(timedelta(hours=8))


def test_find_a_resident_see_the_account_and_freeze_it(app):
    client = console(app, AdminRole.OPERATOR)
    with app.app_context():
        resident = f.resident(phone="13800004444", display_name="王女士", district_code="370902")
        when = datetime.now(BEIJING) - timedelta(hours=2)
        f.bus_ride(resident, when, "ride", distance_km=6.2)
        company = f.enterprise(name="泰山光伏")
        account_id, company_account = resident.account_id, company.account_id
        commit()
    found = client.get("/admin/people?kind=resident&q=13800004444").get_data(as_text=True)
    row = re.search(rf'<tr data-account="{account_id}">.*?</tr>', found, re.S).group(0)
    assert "138****4444" in row and "13800004444" not in row  # the list shows phones masked
    assert f'data-account="{company_account}"' in client.get("/admin/people?kind=enterprise&q=光伏").get_data(
        as_text=True)
    page = client.get(f"/admin/accounts/{account_id}").get_data(as_text=True)
    assert 'data-figure="available">0<' in page and "bus_ride" in page and "166" in page  # the receipt
    refused = client.post(f"/admin/accounts/{account_id}/freeze",
                          data={"csrf_token": csrf_token(client, f"/admin/accounts/{account_id}"), "reason": ""})
    frozen = client.post(f"/admin/accounts/{account_id}/freeze",
                         data={"csrf_token": csrf_token(client, f"/admin/accounts/{account_id}"), "reason": "疑似刷分"})
    assert refused.status_code == 302 and frozen.status_code == 302
    with app.app_context():
        assert db.session.get(CarbonAccount, account_id).frozen
        event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "account.freeze")).scalar_one()
        assert event.details["reason"] == "疑似刷分"
    auditor = console(app, AdminRole.AUDITOR)
    assert auditor.get(f"/admin/accounts/{account_id}").status_code == 200
    assert auditor.post(f"/admin/accounts/{account_id}/unfreeze",
                        data={"csrf_token": csrf_token(auditor, f"/admin/accounts/{account_id}"),
                              "reason": "x"}).status_code == 403


def test_the_partner_form_offers_the_utility_and_a_households_meter_shows_masked(app):
    client = console(app, AdminRole.OPERATOR)
    assert '<option value="utility">电网</option>' in client.get("/admin/partners").get_data(as_text=True)
    with app.app_context():
        head = f.resident(display_name="赵大", district_code="370902")
        household = households.create_household(head, name="赵家", address="泰山区东岳大街 8 号",
                                                district_code="370902")
        utility, _secret = organisations.register_partner(name="国网泰安供电公司", kind=PartnerKind.UTILITY,
                                                          actor=f.TEST_ACTOR)
        f.proven_binding(household.account_id, utility, BindingKind.ELECTRICITY_METER, "3709 0012 3456")
        pending = consent.add_binding(head.account_id, BindingKind.TRANSIT_CARD, "8801 2345 6789")
        account_id, head_account, pending_id = household.account_id, head.account_id, pending.id
        commit()
    page = client.get(f"/admin/accounts/{account_id}").get_data(as_text=True)
    row = re.search(r'<tr data-binding="\d+">.*?</tr>', page, re.S).group(0)
    assert "电表" in row and "••••3456" in row and "已生效" in row
    assert "370900123456" not in page and "3709 0012 3456" not in page
    head_page = client.get(f"/admin/accounts/{head_account}").get_data(as_text=True)
    assert f'data-binding="{pending_id}"' in head_page and "••••6789" in head_page and "待确认" in head_page


def test_an_operator_sets_an_enterprises_industry_so_it_can_report(app):
    client = console(app, AdminRole.OPERATOR)
    with app.app_context():
        company = f.enterprise(name="泰山水泥")
        account_id, enterprise_id = company.account_id, company.id
        commit()
    page = client.get(f"/admin/accounts/{account_id}").get_data(as_text=True)
    assert "未设定行业" in page and '<option value="30">30 非金属矿物制品业</option>' in page
    url = f"/admin/accounts/{account_id}/classification"
    token = csrf_token(client, f"/admin/accounts/{account_id}")
    saved = client.post(url, data={"csrf_token": token, "industry_code": "30", "key_energy_user": "y"})
    assert saved.status_code == 302
    with app.app_context():
        saved = db.session.get(Enterprise, enterprise_id)
        assert (saved.industry_code, saved.key_energy_user) == ("30", True)
        event = db.session.execute(sa.select(AuditEvent).filter_by(action="enterprise.classify")
                                   .order_by(AuditEvent.id.desc())).scalars().first()
        assert event.details["after"] == {"industry_code": "30", "key_energy_user": True}
    page = client.get(f"/admin/accounts/{account_id}").get_data(as_text=True)
    assert "30 非金属矿物制品业" in page and "未设定行业" not in page
    # A division the list does not offer is refused, and nothing changes.
    refused = client.post(url, data={"csrf_token": token, "industry_code": "99"})
    assert refused.status_code == 302 and "请从列表中选择行业" in client.get(refused.headers["Location"]).get_data(
        as_text=True)
    with app.app_context():
        assert db.session.get(Enterprise, enterprise_id).industry_code == "30"
    auditor = console(app, AdminRole.AUDITOR)  # reads the page, without the form
    assert "data-classification" in auditor.get(f"/admin/accounts/{account_id}").get_data(as_text=True)
    auditor_token = csrf_token(auditor, "/admin/dashboard")
    assert auditor.post(url, data={"csrf_token": auditor_token, "industry_code": "31"}).status_code == 403
