"""The admin console: login, CSRF, cookies, throttling, roles (generated from the URL map),
language, the audit log, and dashboard figures that equal the ledger."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from admin.permissions import PERMISSIONS
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import AdminRole, AuditEvent, Book, LedgerEntry
from carbon_platform.services import admins as admin_service
from carbon_platform.services import ledger
from tests import factories as f

#: Console endpoints anyone may reach (they are how you get in).
PUBLIC = {"admin.login", "admin.logout", "admin.set_language", "admin.static", "admin.index"}


def csrf_token(client, path="/admin/login") -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def log_in(client, username, password=f.PASSWORD):
    return client.post("/admin/login", data={"username": username, "password": password,
                                             "csrf_token": csrf_token(client)})


@pytest.fixture
def admin_of(app):
    """admin_of(role) -> a logged-in test client for a new administrator with that role."""

    def make(role: AdminRole):
        with app.app_context():
            admin = f.admin(role)
            username = admin.username
            commit()
        client = app.test_client()
        assert log_in(client, username).status_code == 302
        return client

    return make


def test_the_console_speaks_chinese_first_and_english_on_request(client):
    page = client.get("/admin/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "管理员登录" in page and 'lang="zh-CN"' in page
    client.get("/admin/lang/en")
    english = client.get("/admin/login").get_data(as_text=True)
    assert "Administrator login" in english and 'lang="en"' in english


def test_log_in_and_out(app, client):
    with app.app_context():
        f.admin(AdminRole.OPERATOR, username="ops")
        commit()
    response = log_in(client, "ops")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/dashboard")
    assert "仪表盘" in client.get("/admin/dashboard").get_data(as_text=True)
    logout = client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/dashboard")})
    assert logout.status_code == 302
    assert client.get("/admin/dashboard").status_code == 302
    with app.app_context():
        actions = db.session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    assert actions == ["admin.create", "admin.login", "admin.logout"]


def test_unknown_and_known_usernames_get_the_same_answer_and_the_same_work(app, client, monkeypatch):
    with app.app_context():
        f.admin(username="real")
        commit()
    hashed = []
    real_check = admin_service.check_password_hash
    monkeypatch.setattr(admin_service, "check_password_hash", lambda h, p: hashed.append(h) or real_check(h, p))
    wrong_password = log_in(client, "real", "not-the-password")
    unknown_user = log_in(client, "nobody-here", "not-the-password")
    assert wrong_password.status_code == unknown_user.status_code == 401
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731 - tokens differ
    assert strip(wrong_password) == strip(unknown_user)
    assert len(hashed) == 2  # a password hash was checked for the unknown name too


def test_session_cookie_flags(app, client):
    with app.app_context():
        f.admin(username="cookie")
        commit()
    cookie = log_in(client, "cookie").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("token", [None, "foreign"])
def test_unsafe_requests_without_a_valid_csrf_token_are_refused(app, admin_of, token):
    client = admin_of(AdminRole.SUPER_ADMIN)
    if token == "foreign":
        token = csrf_token(app.test_client())  # valid, but another session's
    data = {"username": "x", "display_name": "x", "role": "operator", "password": "long-enough-1"}
    if token:
        data["csrf_token"] = token
    assert client.post("/admin/administrators", data=data).status_code == 400
    assert client.post("/admin/logout", data={"csrf_token": token} if token else {}).status_code == 400
    with app.app_context():
        assert db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == "admin.create", AuditEvent.target_id.isnot(None))
        ).scalars().all().__len__() == 1  # only the fixture's own administrator


def test_repeated_failed_logins_are_throttled(app, client):
    app.config["ADMIN_LOGIN_LIMIT"] = "3 per 15 minutes"
    for _ in range(3):
        assert log_in(client, "someone", "wrong-password").status_code == 401
    assert log_in(client, "someone", "wrong-password").status_code == 429


def console_endpoints(app):
    return sorted({rule.endpoint: rule for rule in app.url_map.iter_rules()
                   if rule.endpoint.startswith("admin.") and rule.endpoint not in PUBLIC}.items())


def test_every_console_view_declares_a_permission(app):
    for endpoint, _rule in console_endpoints(app):
        assert getattr(app.view_functions[endpoint], "permission", None) in PERMISSIONS, endpoint


def concrete(rule: str) -> str:
    """A URL for a rule: 1 for every id, the first choice of every any(…) converter."""
    rule = re.sub(r"<(?:big)?int:\w+>", "1", rule)
    return re.sub(r"<any\(([^,)]+)[^)]*\):\w+>", lambda m: m.group(1).strip(), rule)


def test_role_matrix_each_role_reaches_exactly_what_it_should(app, admin_of):
    endpoints = console_endpoints(app)
    assert endpoints, "no console endpoints found"
    anonymous = app.test_client()
    for role in AdminRole:
        client = admin_of(role)
        for endpoint, rule in endpoints:
            allowed = role in PERMISSIONS[app.view_functions[endpoint].permission]
            url = concrete(rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                data = {"csrf_token": csrf_token(client, "/admin/dashboard")} if method == "POST" else None
                status = client.open(url, method=method, data=data).status_code
                if allowed:  # 404/409: allowed in, but object 1 does not exist or is not in that state
                    assert status in (200, 302, 400, 404, 409), f"{role} {method} {url} -> {status}"
                else:
                    assert status == 403, f"{role} {method} {url} -> {status}"
                assert anonymous.open(url, method=method).status_code in (302, 400)


def test_the_auditor_reads_but_cannot_act(admin_of):
    auditor = admin_of(AdminRole.AUDITOR)
    assert auditor.get("/admin/audit").status_code == 200
    page = auditor.get("/admin/administrators").get_data(as_text=True)
    assert "新建管理员" not in page
    token = csrf_token(auditor, "/admin/dashboard")
    assert auditor.post("/admin/administrators", data={"csrf_token": token, "username": "x", "display_name": "x",
                                                       "role": "super_admin", "password": "long-enough-1"}
                        ).status_code == 403


def test_a_super_admin_creates_an_administrator_and_it_is_audited(app, admin_of):
    client = admin_of(AdminRole.SUPER_ADMIN)
    token = csrf_token(client, "/admin/administrators")
    response = client.post("/admin/administrators", data={"csrf_token": token, "username": "newbie",
                                                           "display_name": "新人", "role": "reviewer",
                                                           "password": "long-enough-1"})
    assert response.status_code == 302
    audit_page = client.get("/admin/audit?action=admin.create").get_data(as_text=True)
    assert "newbie" in audit_page
    with app.app_context():
        created = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "admin.create")
                                     .order_by(AuditEvent.id.desc())).scalars().first()
        assert created.actor_type == "admin" and created.details["role"] == "reviewer"


def dashboard_figures(client) -> dict[str, int]:
    page = client.get("/admin/dashboard").get_data(as_text=True)
    return {name: int(value) for name, value in re.findall(r'data-figure="(\w+)" data-value="(-?\d+)"', page)}


def test_dashboard_figures_equal_the_ledger(app, admin_of):
    with app.app_context():
        alice, bob = f.resident().account_id, f.resident().account_id
        f.fund(alice, 300, grams=12_000)
        doomed = f.fund(bob, 80, grams=900)
        f.fund(bob, 20, grams=100, hold_days=3)
        ledger.spend(alice, points=120, idempotency_key=f.key())
        ledger.reverse(doomed.id, idempotency_key=f.key(), reason="test")
        ledger.adjust(alice, points=7, idempotency_key=f.key(), reason="goodwill")
        commit()
        system = dict(db.session.execute(
            sa.select(LedgerEntry.book, sa.func.sum(LedgerEntry.amount)).where(LedgerEntry.account_id.is_(None))
            .group_by(LedgerEntry.book)).all())
    figures = dashboard_figures(admin_of(AdminRole.AUDITOR))
    assert figures["reduction_grams"] == -system[Book.CERTIFIED] == 12_100
    assert figures["points_issued"] == -system[Book.ISSUED] == 320
    assert figures["points_spent"] == system[Book.REDEEMED] == 120
    assert figures["points_adjusted"] == 7
    assert figures["points_outstanding"] == 300 - 120 + 7 + 20
    assert figures["residents"] == 2
    assert figures["points_issued"] + figures["points_adjusted"] - figures["points_spent"] - figures[
        "points_expired"] == figures["points_outstanding"]
