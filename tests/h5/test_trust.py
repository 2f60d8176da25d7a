"""The report form under rulebook 2026.3's trust per channel, at phone size: before sending, it says what a scene
needs (photos, review, bounds) and asks for the photos; typing beyond a bound says the report will be reviewed."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources

import pytest

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.models import ActionStatus
from carbon_platform.services import rulebooks
from tests import factories as f
from tests.h5.conftest import screenshot
from tests.h5.test_actions import actions_of, no_raw_keys, opened, resident, small_jpeg

pytestmark = pytest.mark.browser


def with_2026_3(app):
    ids = resident(app)
    with app.app_context():
        source = resources.files("seeds").joinpath("rulebook-2026.3.yaml").read_text("utf-8")
        document, _ = rulebooks.parse_source(source)
        rulebooks.publish(document, effective_from=utcnow() - timedelta(seconds=1), actor=f.TEST_ACTOR)
        commit()
    return ids


def test_tree_planting_asks_for_its_two_photos_and_says_it_will_be_reviewed(phone, app):
    resident_id, account_id = with_2026_3(app)
    page = opened(phone, app, resident_id, "/report/tree_planting", size="390x844")
    trust = page.get_by_test_id("report-trust")
    trust.get_by_text("每次申报需附 2 张照片，没有照片不能提交").wait_for()
    assert "每次申报都由工作人员审核后计入" in trust.inner_text()
    page.get_by_test_id("report-will-review").wait_for()
    page.get_by_test_id("report-submit").click()
    page.get_by_text("还需要上传 2 张照片").wait_for()  # checked before anything is sent
    assert actions_of(app, account_id) == []
    for name in ("planting.jpg", "certificate.jpg"):
        page.locator('input[type="file"]').first.set_input_files(
            files=[{"name": name, "mimeType": "image/jpeg", "buffer": small_jpeg()}])
        page.wait_for_function("!document.querySelector('.van-uploader__mask')")
    page.wait_for_function("document.querySelectorAll('.van-uploader__preview').length === 2")
    no_raw_keys(page)
    screenshot(page, "report-trust-tree-zh-390x844")
    page.get_by_test_id("report-submit").click()
    page.get_by_test_id("report-result").get_by_text("等待审核").first.wait_for()
    [action] = actions_of(app, account_id)
    assert (action.scenario, action.status, action.reason) == ("tree_planting", ActionStatus.REVIEW,
                                                               "review_required")


def test_waste_beyond_its_bound_says_it_will_be_reviewed_in_english(phone, app):
    resident_id, account_id = with_2026_3(app)
    page = opened(phone, app, resident_id, "/report/waste_sorting", lang="en", size="360x640")
    trust = page.get_by_test_id("report-trust")
    trust.get_by_text("The first report of a day is credited at once; later ones are checked by staff").wait_for()
    assert "Up to 3 kg (Weight) is credited at once; more is checked by staff" in trust.inner_text()
    assert page.get_by_test_id("report-over-bound").count() == 0
    page.get_by_label("Weight").fill("4")
    notice = page.get_by_test_id("report-over-bound")
    notice.wait_for()
    assert "Weight above 3 kg: this report will be checked by staff" in notice.inner_text()
    page.get_by_text("Photo (optional, helps the check)").wait_for()  # offered, not required
    no_raw_keys(page)
    screenshot(page, "report-trust-waste-en-360x640")
    page.get_by_test_id("report-submit").click()
    page.get_by_test_id("report-result").get_by_text("Held for review").wait_for()
    [action] = actions_of(app, account_id)
    assert (action.status, action.reason, action.detail) == (ActionStatus.REVIEW, "over_bound", "weight_kg=4>3")
