"""Console sessions end on the server: a cookie copied before logout, a password change or a
deactivation is refused afterwards, though it is still validly signed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Administrator, AdminRole, AuditEvent
from carbon_platform.services import admins as admin_service
from tests import factories as f
from tests.admin.test_console import csrf_token, log_in
from tests.concurrency import run_concurrently

NEW_PASSWORD = "a brand new passphrase"
REPETITIONS, WORKERS = 20, 10


def logged_in(app, username: str, password: str = f.PASSWORD):
    client = app.test_client()
    assert log_in(client, username, password).status_code == 302
    assert client.get("/admin/dashboard").status_code == 200
    return client


class Copy:
    """The session cookie as a thief (or a shared machine) keeps it: replayed by a new browser each time,
    so a refusal that merely dropped the cookie from one browser cannot pass for a refusal on the server."""

    def __init__(self, app, client):
        self.app, self.value = app, client.get_cookie("session").value
        assert self.get("/admin/dashboard").status_code == 200  # the copy works while the session lives

    def get(self, path):
        browser = self.app.test_client()
        browser.set_cookie("session", self.value)
        return browser.get(path)


def copy_of(app, client) -> Copy:
    return Copy(app, client)


def refused(client) -> bool:
    response = client.get("/admin/dashboard")
    return response.status_code == 302 and "/admin/login" in response.headers["Location"]


def audit_actions(app) -> list[str]:
    with app.app_context():
        return db.session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()


def test_a_cookie_copied_before_logout_is_refused_after_it(app):
    with app.app_context():
        f.admin(AdminRole.OPERATOR, username="ops")
        commit()
    client = logged_in(app, "ops")
    stolen = copy_of(app, client)
    assert client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/dashboard")}
                       ).status_code == 302
    assert refused(stolen)
    assert refused(client)
    assert "admin.logout" in audit_actions(app)
    assert refused(stolen)  # and stays refused: nothing in the old cookie brings it back
    fresh = logged_in(app, "ops")  # logging in again opens a new session, which works
    assert fresh.get("/admin/dashboard").status_code == 200 and refused(stolen)


def test_a_password_change_ends_every_other_session_and_keeps_the_one_that_made_it(app):
    with app.app_context():
        f.admin(AdminRole.AUDITOR, username="watcher")
        commit()
    client = logged_in(app, "watcher")
    stolen = copy_of(app, client)
    other_device = logged_in(app, "watcher")
    response = client.post("/admin/profile/password", data={
        "csrf_token": csrf_token(client, "/admin/profile"), "current_password": f.PASSWORD,
        "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert refused(stolen) and refused(other_device)
    assert client.get("/admin/dashboard").status_code == 200
    assert log_in(app.test_client(), "watcher", f.PASSWORD).status_code == 401
    assert log_in(app.test_client(), "watcher", NEW_PASSWORD).status_code == 302
    assert "admin.password_change" in audit_actions(app)


def test_a_wrong_current_password_changes_nothing(app):
    with app.app_context():
        f.admin(AdminRole.REVIEWER, username="checker")
        commit()
    client = logged_in(app, "checker")
    stolen = copy_of(app, client)
    token = csrf_token(client, "/admin/profile")
    for current, new, confirm in [("not the password", NEW_PASSWORD, NEW_PASSWORD),  # wrong current
                                  (f.PASSWORD, "short", "short"),  # too short
                                  (f.PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x"),  # not confirmed
                                  (f.PASSWORD, f.PASSWORD, f.PASSWORD)]:  # unchanged
        response = client.post("/admin/profile/password", data={
            "csrf_token": token, "current_password": current, "new_password": new, "confirm": confirm})
        assert response.status_code == 400, (current, new, confirm)
    assert stolen.get("/admin/dashboard").status_code == 200
    assert log_in(app.test_client(), "checker", f.PASSWORD).status_code == 302
    assert "admin.password_change" not in audit_actions(app)


def test_guessing_the_current_password_is_throttled(app):
    app.config["ADMIN_LOGIN_LIMIT"] = "3 per 15 minutes"
    with app.app_context():
        f.admin(AdminRole.OPERATOR, username="borrowed")
        commit()
    client = logged_in(app, "borrowed")
    token = csrf_token(client, "/admin/profile")
    guess = {"csrf_token": token, "current_password": "a wrong guess", "new_password": NEW_PASSWORD,
             "confirm": NEW_PASSWORD}
    assert [client.post("/admin/profile/password", data=guess).status_code for _ in range(4)] == [400] * 3 + [429]
    assert log_in(app.test_client(), "borrowed").status_code == 302  # the password is unchanged


def test_deactivation_by_another_administrator_ends_the_session_even_after_reactivation(app):
    with app.app_context():
        f.admin(AdminRole.SUPER_ADMIN, username="boss")
        target_id = f.admin(AdminRole.MERCHANT_MANAGER, username="leaver").id
        commit()
    boss, leaver = logged_in(app, "boss"), logged_in(app, "leaver")
    stolen = copy_of(app, leaver)
    page = boss.get("/admin/administrators").get_data(as_text=True)
    assert f"/admin/administrators/{target_id}/deactivate" in page
    token = csrf_token(boss, "/admin/administrators")
    assert boss.post(f"/admin/administrators/{target_id}/deactivate", data={"csrf_token": token}
                     ).status_code == 302
    assert refused(leaver) and refused(stolen)
    assert log_in(app.test_client(), "leaver").status_code == 401
    assert boss.post(f"/admin/administrators/{target_id}/activate", data={"csrf_token": token}
                     ).status_code == 302
    assert refused(stolen)  # reactivating does not revive a session from before
    assert logged_in(app, "leaver").get("/admin/dashboard").status_code == 200
    assert audit_actions(app)[-2:] == ["admin.activate", "admin.login"]
    assert "admin.deactivate" in audit_actions(app)


def test_nobody_deactivates_themselves_and_only_super_admins_deactivate(app):
    with app.app_context():
        boss_id = f.admin(AdminRole.SUPER_ADMIN, username="boss").id
        f.admin(AdminRole.OPERATOR, username="ops")
        commit()
    boss, ops = logged_in(app, "boss"), logged_in(app, "ops")
    assert f"/admin/administrators/{boss_id}/deactivate" not in boss.get("/admin/administrators").get_data(
        as_text=True)
    token = csrf_token(boss, "/admin/administrators")
    refused_self = boss.post(f"/admin/administrators/{boss_id}/deactivate", data={"csrf_token": token})
    assert refused_self.status_code == 409  # the list again, saying why, never a bare error page
    assert "不能停用或启用自己的账号" in refused_self.get_data(as_text=True)
    boss.get("/admin/lang/en")
    english = boss.post(f"/admin/administrators/{boss_id}/deactivate", data={"csrf_token": token})
    assert "You cannot deactivate or reactivate your own account" in english.get_data(as_text=True)
    assert ops.post(f"/admin/administrators/{boss_id}/deactivate",
                    data={"csrf_token": csrf_token(ops, "/admin/dashboard")}).status_code == 403
    assert boss.get("/admin/dashboard").status_code == 200
    with app.app_context():
        assert db.session.get(Administrator, boss_id).active


def test_a_session_from_before_the_generation_existed_is_refused(app):
    """A cookie naming an administrator but no session generation (or a forged-looking one) opens nothing."""
    with app.app_context():
        admin_id = f.admin(AdminRole.SUPER_ADMIN, username="old").id
        commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["admin_id"] = admin_id
    assert refused(client)
    with client.session_transaction() as session:
        assert "admin_id" not in session  # the dead session is dropped from the browser too
        session["admin_id"], session["admin_gen"] = admin_id, 1
    assert refused(client)


@pytest.mark.concurrency
def test_revocations_at_once_each_move_the_generation_past_every_issued_cookie(app):
    """Ten revocations of one administrator at once (logouts on ten devices) raise the generation by ten:
    the increment is one statement, so none is lost and no session issued meanwhile could survive."""
    with app.app_context():
        admin_id = f.admin(AdminRole.OPERATOR).id
        commit()
    for repetition in range(REPETITIONS):
        with app.app_context():
            before = db.session.get(Administrator, admin_id).session_generation
        outcomes = run_concurrently(
            app, lambda _i: admin_service.end_sessions(db.session.get(Administrator, admin_id)), WORKERS)
        with app.app_context():
            after = db.session.get(Administrator, admin_id).session_generation
        assert not outcomes.errors and not outcomes.refused, f"repetition {repetition}: {outcomes.errors[:3]}"
        assert after == before + WORKERS, f"repetition {repetition}: {before} -> {after}"
        assert sorted(outcomes.ok) == list(range(before + 1, after + 1)), f"repetition {repetition}"
