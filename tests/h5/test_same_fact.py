"""Rulebook 2026.4's same_fact in the resident's client: a bus ride reported in the app, then the card operator's
record of the same ride. The report's page says, in the resident's language, why its points were taken back, and
its link opens the operator's record that stands (the same view, another action)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carbon_platform.db import commit
from carbon_platform.models import Audience
from carbon_platform.services import auth
from tests.h5.conftest import screenshot
from tests.h5.test_actions import no_raw_keys, opened, resident
from tests.mobile_api.test_same_fact import RIDE, card_says, report, world_for

pytestmark = pytest.mark.browser

WORDS = {
    "zh": {"reversed": "已撤销", "title": "撤销的原因", "why": "同一件事只计一次", "hold": "积分可用时间",
           "link": "查看替代它的合作方记录", "credited": "已计入"},
    "en": {"reversed": "Reversed", "title": "Why it was reversed", "why": "It counts once",
           "hold": "Points spendable from", "link": "See the partner's record that replaced it",
           "credited": "Credited"},
}


@pytest.fixture
def ride(app, client):
    """A resident who rode the bus, reported it and was replaced by the card's record: (resident, report, record)."""
    resident_id, _account = resident(app)
    with app.app_context():
        access = auth.issue_tokens(Audience.RESIDENT, resident_id).access_token
        commit()
    world = world_for(app, client, {"Authorization": f"Bearer {access}"})
    reported = report(client, world, RIDE, 5)
    assert reported.status_code == 201 and reported.json["status"] == "credited", reported.json
    record = card_says(client, world, "ride-1", RIDE + timedelta(minutes=12), 6.2)
    assert record["status"] == "credited", record
    return resident_id, reported.json["id"], record["action_id"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_replaced_report_says_why_and_opens_the_operators_record(phone, app, ride, lang):
    resident_id, report_id, record_id = ride
    words = WORDS[lang]
    page = opened(phone, app, resident_id, f"/actions/{report_id}", lang=lang)
    page.get_by_test_id("action-status").get_by_text(words["reversed"]).wait_for()
    body = page.inner_text("body")
    assert words["title"] in body and words["why"] in body
    assert words["hold"] not in body  # its points were taken back: no date to spend them from
    no_raw_keys(page)
    screenshot(page, f"action-superseded-{lang}-390x844")

    page.get_by_test_id("replaced-by").get_by_text(words["link"]).click()
    page.wait_for_url(f"**/h5/actions/{record_id}")
    page.get_by_test_id("action-status").get_by_text(words["credited"]).wait_for()
    assert words["hold"] in page.inner_text("body")
    assert page.get_by_test_id("replaced-by").count() == 0  # the record that stands replaces nothing further
    no_raw_keys(page)
    screenshot(page, f"action-superseding-{lang}-390x844")
