"""Banks by consent (issue #18 item 7): an enterprise grants a bank access to its statements and grade through
/api/v1/enterprise/bank-grants, and can revoke it; the bank's staff see, in the console, only enterprises whose
grant is live (404 otherwise, exactly as for an enterprise that does not exist); every view is in the log the
enterprise reads through /api/v1/enterprise/bank-log."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.clock import city_day, utcnow
from carbon_platform.db import commit
from carbon_platform.errors import NotFound
from carbon_platform.extensions import db
from carbon_platform.models import Administrator, AdminRole, AuditEvent, BankGrant, Enterprise
from carbon_platform.services import audit, bank_access
from tests import factories as f
from tests.admin.test_console import log_in
from tests.mobile_api.helpers import assert_error
from tests.mobile_api.test_statements import API, headers, issue, our_works


def today() -> date:
    return city_day(utcnow())


def a_bank(app, name="泰安测试银行") -> tuple[int, str]:
    """A bank and one of its staff, whose console login is returned."""
    with app.app_context():
        bank = f.bank(name=name)
        staff = f.admin(AdminRole.BANK, institution=bank)
        commit()
        return bank.id, staff.username


def bank_console(app, username):
    client = app.test_client()
    assert log_in(client, username).status_code == 302
    return client


@pytest.fixture
def works(client, app):
    """An enterprise with a year of reports and a statement of it, and its API headers."""
    enterprise_id, phone = our_works(app)
    auth = headers(client, app, phone)
    serial = issue(client, auth)["statement"]["serial"]
    return enterprise_id, auth, serial


def grant(client, auth, bank_id, until=None):
    return client.post(f"{API}/bank-grants", json={"institution_id": bank_id,
                                                    "until": (until or today() + timedelta(days=30)).isoformat()},
                       headers=auth)


def test_a_bank_sees_an_enterprise_only_while_its_grant_is_live(client, app, works):
    enterprise_id, auth, serial = works
    bank_id, username = a_bank(app)
    bank = bank_console(app, username)
    page, pdf = f"/admin/bank/enterprises/{enterprise_id}", f"/admin/bank/statements/{serial}.pdf"
    # Before any grant: the enterprise and its statement do not exist for the bank, and its list is empty.
    assert bank.get(page).status_code == 404
    assert bank.get(pdf).status_code == 404
    assert f"/bank/enterprises/{enterprise_id}" not in bank.get("/admin/bank").get_data(as_text=True)

    listed = client.get(f"{API}/banks", headers=auth).json
    assert {"id": bank_id, "name": "泰安测试银行"} in listed
    response = grant(client, auth, bank_id)
    assert response.status_code == 201, response.json
    made = response.json
    assert (made["institution"], made["until"], made["live"], made["revoked_at"]) == (
        {"id": bank_id, "name": "泰安测试银行"}, (today() + timedelta(days=30)).isoformat(), True, None)

    assert f"/bank/enterprises/{enterprise_id}" in bank.get("/admin/bank").get_data(as_text=True)
    shown = bank.get(page)
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert serial in text and "874,824" in text  # the statement, and the year's emissions (kg)
    downloaded = bank.get(pdf)
    assert downloaded.status_code == 200 and downloaded.data.startswith(b"%PDF")
    as_json = bank.get(f"/admin/bank/statements/{serial}.json")
    assert as_json.json["statement"]["serial"] == serial

    # Revoked: the very next request finds nothing.
    assert client.delete(f"{API}/bank-grants/{made['id']}", headers=auth).status_code == 204
    assert bank.get(page).status_code == 404
    assert bank.get(pdf).status_code == 404
    assert f"/bank/enterprises/{enterprise_id}" not in bank.get("/admin/bank").get_data(as_text=True)
    grants = client.get(f"{API}/bank-grants", headers=auth).json
    assert [(g["id"], g["live"], g["revoked_at"] is not None) for g in grants] == [(made["id"], False, True)]
    assert_error(client.delete(f"{API}/bank-grants/{made['id']}", headers=auth), 404, "grant_not_found")


def test_every_view_of_a_bank_is_in_the_enterprises_log(client, app, works):
    enterprise_id, auth, serial = works
    bank_id, username = a_bank(app)
    bank = bank_console(app, username)
    made = grant(client, auth, bank_id).json
    assert bank.get(f"/admin/bank/enterprises/{enterprise_id}").status_code == 200
    assert bank.get(f"/admin/bank/statements/{serial}.pdf").status_code == 200
    assert bank.get(f"/admin/bank/statements/{serial}.json").status_code == 200
    client.delete(f"{API}/bank-grants/{made['id']}", headers=auth)
    assert bank.get(f"/admin/bank/enterprises/{enterprise_id}").status_code == 404  # refused: not a view
    log = client.get(f"{API}/bank-log", headers=auth).json
    assert [(e["what"], e["view"], e["serial"]) for e in log] == [
        ("revoke", None, None), ("view", "statement_json", serial), ("view", "statement_pdf", serial),
        ("view", "enterprise", None), ("grant", None, None)]
    assert {e["institution"] for e in log} == {"泰安测试银行"} and {e["institution_id"] for e in log} == {bank_id}
    assert [e["staff"] for e in log if e["what"] == "view"] == [username] * 3
    assert client.get(f"{API}/bank-log?before_id={log[1]['id']}", headers=auth).json == log[2:]
    # Another enterprise's log holds none of it.
    _other_id, other_phone = our_works(app)
    assert client.get(f"{API}/bank-log", headers=headers(client, app, other_phone)).json == []


def test_a_bank_sees_only_the_enterprises_that_granted_it(client, app, works):
    enterprise_id, auth, serial = works
    ours, _our_staff = a_bank(app, "甲银行")
    _theirs, their_staff = a_bank(app, "乙银行")
    grant(client, auth, ours)
    other = bank_console(app, their_staff)
    assert other.get(f"/admin/bank/enterprises/{enterprise_id}").status_code == 404
    assert other.get(f"/admin/bank/statements/{serial}.json").status_code == 404
    assert "data-enterprise" not in other.get("/admin/bank").get_data(as_text=True)
    # City staff hold no bank role: the bank's pages are not theirs, and the city's pages are not the bank's.
    city = bank_console(app, _city_admin(app))
    assert city.get(f"/admin/bank/enterprises/{enterprise_id}").status_code == 403
    assert other.get("/admin/dashboard").status_code == 403
    assert other.get("/admin/people?kind=enterprise").status_code == 403
    assert other.get("/admin/").headers["Location"].endswith("/admin/bank")


def _city_admin(app) -> str:
    with app.app_context():
        admin = f.admin(AdminRole.SUPER_ADMIN)
        commit()
        return admin.username


def test_a_grant_ends_after_its_last_beijing_day(app, works):
    enterprise_id, _auth, _serial = works
    bank_id, username = a_bank(app)
    with app.app_context():
        enterprise = db.session.get(Enterprise, enterprise_id)
        made = bank_access.grant(enterprise, institution_id=bank_id, until=today(), actor=audit.SYSTEM)
        commit()
        # Until the end of today in Beijing: midnight at the start of tomorrow, Beijing time (16:00 UTC today).
        assert made.expires_at.isoformat().endswith("16:00:00+00:00")
        staff = db.session.execute(sa.select(Administrator).filter_by(username=username)).scalar_one()
        assert bank_access.granted_enterprise(staff, enterprise_id, now=made.expires_at - timedelta(seconds=1))
        with pytest.raises(NotFound):
            bank_access.granted_enterprise(staff, enterprise_id, now=made.expires_at)
        assert bank_access.granting(staff, now=made.expires_at) == []


def test_granting_the_same_bank_again_replaces_the_grant(client, app, works):
    _enterprise_id, auth, _serial = works
    bank_id, _username = a_bank(app)
    first = grant(client, auth, bank_id).json
    second = grant(client, auth, bank_id, until=today() + timedelta(days=400)).json
    grants = client.get(f"{API}/bank-grants", headers=auth).json
    assert [(g["id"], g["live"]) for g in grants] == [(second["id"], True), (first["id"], False)]
    assert second["until"] == (today() + timedelta(days=400)).isoformat()


@pytest.mark.parametrize("body, field", [
    ({"institution_id": 1, "until": "yesterday"}, "until"),
    ({"institution_id": "1", "until": "2030-01-01"}, "institution_id"),
    ({"institution_id": 0, "until": "2030-01-01"}, "institution_id"),
    ({"until": "2030-01-01"}, "institution_id"),
    ({"institution_id": 1}, "until"),
    ({"institution_id": 1, "until": "2030-01-01", "bank_staff": "x"}, "bank_staff"),
])
def test_malformed_grants_are_refused(client, app, works, body, field):
    _enterprise_id, auth, _serial = works
    error = assert_error(client.post(f"{API}/bank-grants", json=body, headers=auth), 422)
    assert field in str(error["details"])
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(BankGrant)).scalar() == 0


@pytest.mark.parametrize("days", [-1, 3 * 365 + 1])
def test_a_grant_runs_from_today_to_three_years(client, app, works, days):
    _enterprise_id, auth, _serial = works
    bank_id, _username = a_bank(app)
    assert_error(grant(client, auth, bank_id, until=today() + timedelta(days=days)), 422, "grant_until_invalid")
    assert grant(client, auth, 999_999).status_code == 404
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(BankGrant)).scalar() == 0


def test_only_the_enterprise_itself_grants_and_revokes(client, app, works):
    _enterprise_id, auth, _serial = works
    bank_id, _username = a_bank(app)
    made = grant(client, auth, bank_id).json
    assert_error(client.get(f"{API}/bank-grants"), 401)
    assert_error(client.post(f"{API}/bank-grants", json={"institution_id": bank_id, "until": "x"}), 401)
    _other_id, other_phone = our_works(app)
    other = headers(client, app, other_phone)
    assert_error(client.delete(f"{API}/bank-grants/{made['id']}", headers=other), 404, "grant_not_found")
    assert client.get(f"{API}/bank-grants", headers=other).json == []
    assert client.get(f"{API}/bank-grants", headers=auth).json[0]["live"] is True


def test_a_banks_pages_write_nothing_but_their_access_log(client, app, works):
    enterprise_id, auth, serial = works
    bank_id, username = a_bank(app)
    grant(client, auth, bank_id)
    bank = bank_console(app, username)
    with app.app_context():
        before = db.session.execute(sa.select(sa.func.max(AuditEvent.id))).scalar()
        grants = db.session.execute(sa.select(BankGrant.id, BankGrant.revoked_at)).all()
    for url in ("/admin/bank", f"/admin/bank/enterprises/{enterprise_id}", f"/admin/bank/statements/{serial}.pdf"):
        assert bank.get(url).status_code == 200
    with app.app_context():
        written = db.session.execute(sa.select(AuditEvent.action, AuditEvent.target_type)
                                     .where(AuditEvent.id > before)).all()
        assert db.session.execute(sa.select(BankGrant.id, BankGrant.revoked_at)).all() == grants
    assert sorted(written) == [("bank.view", "enterprises")] * 2


def test_the_demo_bank_sees_the_demo_enterprise(app):
    with app.app_context():
        seeding.load_reference()
        seeding.load_demo()
        commit()
    bank = app.test_client()
    assert log_in(bank, "bank", "taian-demo-bank").status_code == 302
    page = bank.get("/admin/bank").get_data(as_text=True)
    assert "泰安绿能光伏科技有限公司" in page and "泰安示范银行（演示）" in page
