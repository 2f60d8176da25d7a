"""The review queue as a worklist: who claims and their record, filters kept through decisions, bulk limits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Action, ActionStatus, AdminRole
from carbon_platform.services import audit, earning, review
from carbon_platform.services.identity import mask_phone
from tests import factories as f
from tests.admin.test_console import csrf_token, log_in
from tests.mobile_api.test_statement_counts import counted

BEIJING = timezone(timedelta(hours=8))
WHEN = datetime(2026, 7, 9, 8, tzinfo=BEIJING)


def fast_ride(account_id: int, key: str, hours: int, district: str = "370902") -> int:
    """10 km in 10 minutes is too fast for a bicycle: held for a reviewer, worth 186 points."""
    return earning.award_action(account_id, account_type="resident", scenario="cycling",
                                inputs={"distance_km": 10, "minutes": 10}, occurred_at=WHEN + timedelta(hours=hours),
                                idempotency_key=key, district=district, now=WHEN + timedelta(hours=hours)).action.id


@pytest.fixture
def worklist(app):
    """A cyclist with two decided rides (one rejected) and one waiting; a newcomer's PV installation waiting."""
    with app.app_context():
        seeding.load_reference()
        reviewer = f.admin(AdminRole.REVIEWER, username="checker")
        cyclist = f.resident(district_code="370902")
        newcomer = f.resident(district_code="370911")
        actor = audit.Actor.admin(reviewer)
        review.approve(fast_ride(cyclist.account_id, "r1", 0), actor=actor)
        review.reject(fast_ride(cyclist.account_id, "r2", 1), actor=actor, reason="轨迹不像骑行")
        waiting = fast_ride(cyclist.account_id, "r3", 2)
        install = earning.self_report(newcomer, scenario="pv_installation", inputs={}, occurred_at=WHEN,
                                      client_key="pv", now=WHEN).action.id
        commit()
        return {"cyclist": cyclist.account_id, "phone": cyclist.phone, "name": cyclist.display_name,
                "waiting": waiting, "install": install, "newcomer": newcomer.account_id}


def row_of(page: str, action_id: int) -> str:
    start = page.index(f'<tr data-action="{action_id}"')
    return page[start:page.index("</tr>", start)]


def test_each_row_shows_the_resident_masked_and_their_record(app, client, worklist):
    log_in(client, "checker")
    page = client.get("/admin/review").get_data(as_text=True)
    ride = row_of(page, worklist["waiting"])
    assert mask_phone(worklist["phone"]) in ride and worklist["phone"] not in page
    assert worklist["name"] in ride
    assert 'data-history="2/1"' in ride and "2 条，驳回 1（50%）" in ride  # the waiting ride is not history yet
    assert 'data-history="0/0"' in row_of(page, worklist["install"]) and "首次" in row_of(page, worklist["install"])
    client.get("/admin/lang/en")
    english = row_of(client.get("/admin/review").get_data(as_text=True), worklist["waiting"])
    assert "1 of 2 rejected (50%)" in english


def test_history_counts_every_decided_claim_of_the_account(app, worklist):
    with app.app_context():
        found = review.histories([worklist["cyclist"], worklist["newcomer"]])
    assert found[worklist["cyclist"]] == review.History(claims=2, rejected=1)
    assert found[worklist["cyclist"]].rejection_rate == 50
    assert found[worklist["newcomer"]] == review.History() and found[worklist["newcomer"]].rejection_rate is None
    assert review.History(claims=3, rejected=1).rejection_rate == 33
    assert review.History(claims=3, rejected=2).rejection_rate == 67  # 66.7 rounds up


def test_the_page_asks_the_same_number_of_statements_for_two_accounts_or_twelve(app, client, worklist):
    log_in(client, "checker")
    client.get("/admin/review")  # warm: the rulebook cache, the session's administrator
    with counted(app) as few:
        assert client.get("/admin/review").status_code == 200
    with app.app_context():
        for n in range(10):
            fast_ride(f.resident(district_code="370902").account_id, f"more-{n}", 3 + n)
        commit()
    with counted(app) as many:
        page = client.get("/admin/review").get_data(as_text=True)
    assert page.count("<tr data-action=") == 12
    assert len(many) == len(few), "\n".join(many)


def test_filters_are_kept_after_each_decision(app, client, worklist):
    log_in(client, "checker")
    with app.app_context():
        other = fast_ride(worklist["newcomer"], "elsewhere", 5, district="370911")
        commit()
    page = client.get("/admin/review?scenario=cycling&district=370902").get_data(as_text=True)
    assert f'data-action="{worklist["waiting"]}"' in page
    assert f'data-action="{other}"' not in page and f'data-action="{worklist["install"]}"' not in page
    target = f"/admin/review/{worklist['waiting']}/evidence?scenario=cycling&district=370902"
    assert f'formaction="{target.replace("&", "&amp;")}"' in page  # the row's buttons carry the filters
    token = csrf_token(client, "/admin/review")
    asked = client.post(target, data={"csrf_token": token, "note": "请上传轨迹截图"})
    assert asked.status_code == 302
    assert asked.headers["Location"] == "/admin/review?scenario=cycling&district=370902"
    refused = client.post(target.replace("/evidence", "/reject"), data={"csrf_token": token, "note": ""})
    html = refused.get_data(as_text=True)  # a refusal shows the same filtered list, with the message
    assert refused.status_code == 400 and '<option value="cycling" selected>' in html
    assert f'data-action="{other}"' not in html and "请填写原因" in html
    approved = client.post(target.replace("/evidence", "/approve"), data={"csrf_token": token})
    assert approved.headers["Location"] == "/admin/review?scenario=cycling&district=370902"
    bulk = client.post("/admin/review/bulk-reject?reason=implausible&page=2",
                       data={"csrf_token": token, "action_ids": [other], "note": "速度不可能"})
    assert bulk.headers["Location"] == "/admin/review?reason=implausible&page=2"


def test_bulk_rejection_needs_a_reason_and_keeps_the_bulk_limits(app, client, worklist):
    log_in(client, "checker")
    token = csrf_token(client, "/admin/review")
    with app.app_context():
        heavy = earning.award_action(worklist["newcomer"], account_type="resident", scenario="waste_sorting",
                                     inputs={"weight_kg": 20}, occurred_at=WHEN, idempotency_key="bin-1",
                                     district="370902", now=WHEN).action.id  # 920 points: held, too large
        ids = [worklist["waiting"], fast_ride(worklist["newcomer"], "r4", 4)]  # 186 points each: routine
        commit()
    no_reason = client.post("/admin/review/bulk-reject", data={"csrf_token": token, "action_ids": ids})
    assert no_reason.status_code == 400 and "请填写原因" in no_reason.get_data(as_text=True)
    too_many = client.post("/admin/review/bulk-reject", data={"csrf_token": token, "note": "重复提交",
                                                              "action_ids": [str(n) for n in range(1, 52)]})
    assert too_many.status_code == 400 and "请选择 1 到 50 条行为" in too_many.get_data(as_text=True)
    large = client.post("/admin/review/bulk-reject", data={"csrf_token": token, "note": "重复提交",
                                                           "action_ids": [*ids, heavy]})
    assert large.status_code == 400 and f"需要逐条审批：{heavy}" in large.get_data(as_text=True)
    with app.app_context():
        assert {db.session.get(Action, n).status for n in [*ids, heavy]} == {ActionStatus.REVIEW}
    done = client.post("/admin/review/bulk-reject", data={"csrf_token": token, "note": "重复提交", "action_ids": ids})
    assert done.status_code == 302
    with app.app_context():
        decided = [db.session.get(Action, n) for n in ids]
        assert [(a.status, a.review_note) for a in decided] == [(ActionStatus.REJECTED, "重复提交")] * 2
        assert db.session.get(Action, heavy).status is ActionStatus.REVIEW
    assert "已批量驳回 2 条" in client.get("/admin/review").get_data(as_text=True)
