"""The review queue: approving credits what the receipt computed; rejecting frees reserved budget."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Action, ActionStatus, AdminRole, AuditEvent, CampaignBudget, CarbonAccount, Resident
from carbon_platform.services import earning
from tests import factories as f
from tests.admin.test_console import csrf_token, log_in

BEIJING = timezone(timedelta(hours=8))


@pytest.fixture
def queued(app):
    """A PV installation (always reviewed) and a quarantined waste deposit during the 泰山区 challenge."""
    with app.app_context():
        seeding.load_reference()
        resident = f.resident(district_code="370902")
        now = datetime(2026, 7, 8, 19, tzinfo=BEIJING)
        install = earning.self_report(resident, scenario="pv_installation", inputs={}, occurred_at=now,
                                             client_key="pv", now=now).action
        heavy = earning.award_action(resident.account_id, account_type="resident", scenario="waste_sorting",
                                     inputs={"weight_kg": 20}, occurred_at=now, idempotency_key="bin-1",
                                     district="370902", now=now).action
        f.admin(AdminRole.REVIEWER, username="checker")
        commit()
        return {"account": resident.account_id, "install": install.id, "heavy": heavy.id}


def decide(client, action_id, decision, note=""):
    return client.post(f"/admin/review/{action_id}/{decision}",
                       data={"csrf_token": csrf_token(client, "/admin/review"), "note": note})


def test_the_queue_shows_receipts_and_approval_credits_the_receipt(app, client, queued):
    log_in(client, "checker")
    page = client.get("/admin/review").get_data(as_text=True)
    assert f'data-action="{queued["install"]}"' in page
    assert f'data-action="{queued["heavy"]}"' in page
    assert "激励规则" in page  # the PV installation's receipt, rendered in Chinese
    assert decide(client, queued["install"], "approve").status_code == 302
    with app.app_context():
        action = db.session.get(Action, queued["install"])
        assert action.status is ActionStatus.CREDITED and action.reviewed_by_id is not None
        assert db.session.get(CarbonAccount, queued["account"]).points_available == 2000
        assert db.session.execute(sa.select(AuditEvent.action).where(AuditEvent.action.like("action.%"))
                                  ).scalars().all() == ["action.approve"]


def test_rejecting_needs_a_reason_and_frees_the_campaign_budget(app, client, queued):
    log_in(client, "checker")
    with app.app_context():
        reserved = db.session.get(CampaignBudget, "taishan_sorting_challenge_2026").spent
    assert reserved == 20  # the first-time bonus, held while in review
    assert decide(client, queued["heavy"], "reject").status_code == 400  # no reason given
    assert decide(client, queued["heavy"], "reject", "称重记录异常").status_code == 302
    with app.app_context():
        action = db.session.get(Action, queued["heavy"])
        assert (action.status, action.review_note) == (ActionStatus.REJECTED, "称重记录异常")
        assert db.session.get(CampaignBudget, "taishan_sorting_challenge_2026").spent == 0
        assert db.session.get(CarbonAccount, queued["account"]).points_available == 0
    assert decide(client, queued["heavy"], "approve").status_code == 409  # decided already


def test_asking_for_evidence_keeps_it_in_the_queue(app, client, queued):
    log_in(client, "checker")
    assert decide(client, queued["install"], "evidence", "请上传并网验收单").status_code == 302
    with app.app_context():
        action = db.session.get(Action, queued["install"])
        assert action.status is ActionStatus.REVIEW and action.evidence_requested_at is not None
    assert "已要求补充材料" in client.get("/admin/review").get_data(as_text=True)


def test_operators_see_the_queue_but_only_reviewers_decide(app, client, queued):
    with app.app_context():
        f.admin(AdminRole.OPERATOR, username="ops")
        commit()
    log_in(client, "ops")
    page = client.get("/admin/review").get_data(as_text=True)
    assert ">通过</button>" not in page and "批量通过" not in page  # no approve button (receipts may say 审核通过)
    assert decide(client, queued["install"], "approve").status_code == 403


def test_bulk_approval_takes_routine_actions_only(app, client, queued):
    log_in(client, "checker")
    token = csrf_token(client, "/admin/review")
    with app.app_context():
        when = datetime(2026, 7, 9, 8, tzinfo=BEIJING)
        # 10 km in 10 minutes is too fast for a bicycle: held, worth 10 × 93.3 = 933 g → 186 points each
        rides = [earning.award_action(queued["account"], account_type="resident", scenario="cycling",
                                      inputs={"distance_km": 10, "minutes": 10}, occurred_at=when + timedelta(hours=n),
                                      idempotency_key=f"ride-{n}", now=when + timedelta(hours=n)).action.id
                 for n in range(2)]
        commit()
    # the 20 kg deposit (920 points) is too much for a bulk decision, so the whole batch is refused
    refused = client.post("/admin/review/bulk-approve", data={"csrf_token": token,
                                                              "action_ids": [*rides, queued["heavy"]]})
    assert refused.status_code == 400
    assert client.post("/admin/review/bulk-approve", data={"csrf_token": token, "action_ids": []}).status_code == 400
    approved = client.post("/admin/review/bulk-approve", data={"csrf_token": token, "action_ids": rides})
    assert approved.status_code == 302
    with app.app_context():
        assert [db.session.get(Action, r).status for r in rides] == [ActionStatus.CREDITED] * 2
        assert db.session.get(Action, queued["heavy"]).status is ActionStatus.REVIEW
        assert db.session.get(CarbonAccount, queued["account"]).points_available == 2 * 186


def test_action_search_filters_and_shows_receipts(app, client, queued):
    log_in(client, "checker")
    with app.app_context():
        phone = db.session.execute(sa.select(Resident.phone)).scalar_one()
    page = client.get(f"/admin/actions?phone={phone[3:]}&scenario=waste_sorting").get_data(as_text=True)
    assert f'data-action="{queued["heavy"]}"' in page and f'data-action="{queued["install"]}"' not in page
    assert "方法学" in page  # the receipt, in Chinese
    nobody = client.get("/admin/actions?phone=not-a-phone").get_data(as_text=True)
    assert "data-action=" not in nobody


def test_a_refused_decision_shows_the_queue_with_the_reason_not_a_redirect_page(app, client, queued):
    log_in(client, "checker")
    response = decide(client, queued["heavy"], "reject")  # no reason
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Redirecting" not in html and "Location" not in response.headers
    assert "请填写原因" in html and f'data-action="{queued["heavy"]}"' in html  # the queue, with the message
    client.get("/admin/lang/en")
    english = decide(client, queued["heavy"], "reject").get_data(as_text=True)
    assert "Give a reason" in english and "say why" not in english  # the console's language, not the service's
    assert decide(client, queued["heavy"], "reject", "称重记录异常").status_code == 302
    again = decide(client, queued["heavy"], "approve")
    assert again.status_code == 409 and "no longer waiting for review" in again.get_data(as_text=True)


def test_bulk_approval_over_the_limit_shows_the_queue_with_the_limit(app, client, queued):
    log_in(client, "checker")
    token = csrf_token(client, "/admin/review")
    response = client.post("/admin/review/bulk-approve",
                           data={"csrf_token": token, "action_ids": [str(n) for n in range(1, 52)]})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Redirecting" not in html
    assert "请选择 1 到 50 条行为" in html and f'data-action="{queued["install"]}"' in html
    large = client.post("/admin/review/bulk-approve", data={"csrf_token": token, "action_ids": [queued["heavy"]]})
    assert large.status_code == 400 and f"需要逐条审批：{queued['heavy']}" in large.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Action, queued["heavy"]).status is ActionStatus.REVIEW


def test_an_expired_form_is_a_console_page_that_leads_back(app, client, queued):
    log_in(client, "checker")
    response = client.post(f"/admin/review/{queued['install']}/approve", data={"csrf_token": "expired"},
                           headers={"Referer": "http://localhost/admin/review?scenario=pv_installation"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'data-bad-request="csrf"' in html and "表单已过期" in html
    assert 'href="http://localhost/admin/review?scenario=pv_installation"' in html
    with app.app_context():
        assert db.session.get(Action, queued["install"]).status is ActionStatus.REVIEW
