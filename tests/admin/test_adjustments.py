"""Manual adjustments under dual control, through the console."""

from __future__ import annotations

import sqlalchemy as sa

from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import AdjustmentRequest, AdjustmentStatus, AdminRole, AuditEvent, CarbonAccount
from tests import factories as f
from tests.admin.test_console import csrf_token, log_in


def setup(app):
    with app.app_context():
        resident = f.resident()
        for name in ("asker", "checker"):
            f.admin(AdminRole.OPERATOR, username=name)
        f.admin(AdminRole.AUDITOR, username="watcher")
        commit()
        return resident.phone, resident.account_id


def as_admin(app, username):
    client = app.test_client()
    log_in(client, username)
    return client


def ask(client, target, points, reason="客服补偿：公交刷卡未计入"):
    return client.post("/admin/adjustments", data={"csrf_token": csrf_token(client, "/admin/adjustments"),
                                                   "target": target, "points": points, "reason": reason})


def decide(client, adjustment_id, decision, note=""):
    return client.post(f"/admin/adjustments/{adjustment_id}/{decision}",
                       data={"csrf_token": csrf_token(client, "/admin/adjustments"), "note": note})


def balance(app, account_id):
    with app.app_context():
        return db.session.get(CarbonAccount, account_id).points_available


def test_a_small_adjustment_applies_at_once(app):
    phone, account_id = setup(app)
    assert ask(as_admin(app, "asker"), phone[3:], 500).status_code == 302
    assert balance(app, account_id) == 500
    with app.app_context():
        actions = db.session.execute(sa.select(AuditEvent.action).where(AuditEvent.action.like("adjustment.%"))
                                     .order_by(AuditEvent.id)).scalars().all()
    assert actions == ["adjustment.request", "adjustment.apply"]


def test_a_large_adjustment_needs_a_second_administrator_and_never_its_requester(app):
    _phone, account_id = setup(app)
    asker = as_admin(app, "asker")
    assert ask(asker, str(account_id), 5000).status_code == 302
    assert balance(app, account_id) == 0
    with app.app_context():
        adjustment_id = db.session.execute(sa.select(AdjustmentRequest.id)).scalar_one()
    assert decide(asker, adjustment_id, "approve").status_code == 403  # self-approval refused
    assert balance(app, account_id) == 0
    assert decide(as_admin(app, "checker"), adjustment_id, "approve").status_code == 302
    assert balance(app, account_id) == 5000
    assert decide(as_admin(app, "checker"), adjustment_id, "approve").status_code == 409  # decided already


def test_a_rejection_needs_a_note_and_moves_nothing(app):
    _phone, account_id = setup(app)
    ask(as_admin(app, "asker"), str(account_id), -3000)
    with app.app_context():
        adjustment_id = db.session.execute(sa.select(AdjustmentRequest.id)).scalar_one()
    checker = as_admin(app, "checker")
    assert decide(checker, adjustment_id, "reject").status_code == 400
    assert decide(checker, adjustment_id, "reject", "证据不足").status_code == 302
    with app.app_context():
        assert db.session.get(AdjustmentRequest, adjustment_id).status is AdjustmentStatus.REJECTED
    assert balance(app, account_id) == 0


def test_a_deduction_beyond_the_balance_is_refused(app):
    phone, account_id = setup(app)
    assert ask(as_admin(app, "asker"), phone, -200).status_code == 409  # the balance is too low
    assert balance(app, account_id) == 0
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(AdjustmentRequest)).scalar_one() == 0


def test_auditors_see_adjustments_but_cannot_ask_for_one(app):
    _phone, account_id = setup(app)
    watcher = as_admin(app, "watcher")
    assert "申请调整" not in watcher.get("/admin/adjustments").get_data(as_text=True)
    assert ask(watcher, str(account_id), 100).status_code == 403
