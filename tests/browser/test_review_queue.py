"""The review queue by keyboard in chromium, in both languages: a screen of compact rows, a photo in the lightbox,
shortcuts that never fire while typing, and each decision coming back to the same filtered list."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Action, ActionStatus, AdminRole
from carbon_platform.services import audit, evidence, review
from tests import factories as f
from tests.admin.test_review_queue import fast_ride
from tests.browser.conftest import SCREENSHOTS, log_in

pytestmark = pytest.mark.browser
FILTERED = "scenario=cycling&district=370902"
WORDS = {
    "zh": {"legend": "驳回（先写原因，Enter 提交）", "done": "已处理 #", "history": "1 条，驳回 1（100%）"},
    "en": {"legend": "reject (write the reason, Enter sends)", "done": " done",
           "history": "1 of 1 rejected (100%)"},
}


def picture(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def rides(app):
    """Twelve too-fast rides waiting in 泰山区 (the first with two photos, its rider rejected once before), and one
    in another district the filter leaves out."""
    with app.app_context():
        seeding.load_reference()
        reviewer = f.admin(AdminRole.REVIEWER, username="reviewer")
        waiting = []
        for n in range(12):
            rider = f.resident(district_code="370902")
            if n == 0:
                review.reject(fast_ride(rider.account_id, "before", 0), actor=audit.Actor.admin(reviewer),
                              reason="轨迹不像骑行")
            action_id = fast_ride(rider.account_id, f"ride-{n}", 1 + n)
            if n == 0:
                photos = [evidence.store(rider.account_id, picture(c)).id for c in ("green", "orange")]
                evidence.attach(photos, rider.account_id, action_id)
            waiting.append(action_id)
        elsewhere = fast_ride(f.resident(district_code="370911").account_id, "elsewhere", 3, district="370911")
        commit()
    return {"waiting": waiting, "elsewhere": elsewhere}


def status_of(app, action_id):
    with app.app_context():
        action = db.session.get(Action, action_id)
        return action.status, action.review_note, action.evidence_requested_at is not None


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_review_queue_by_keyboard(page, site, rides, app, lang):
    words, waiting = WORDS[lang], rides["waiting"]
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, site, "reviewer", f.PASSWORD)
    if lang == "en":
        page.goto(f"{site}/admin/lang/en?next=/admin/review")
    page.goto(f"{site}/admin/review?{FILTERED}")
    rows = page.locator("table[data-review-queue] tbody tr[data-action]")
    assert rows.count() == 12 and page.locator(f"tr[data-action='{rides['elsewhere']}']").count() == 0
    tenth = rows.nth(9).bounding_box()
    assert tenth["y"] + tenth["height"] <= 768, f"the tenth row ends below a laptop screen: {tenth}"
    last = rows.first.locator("button[data-decision=evidence]").bounding_box()
    assert last["x"] + last["width"] <= 1366, f"the row's last button is off the screen: {last}"
    assert words["legend"] in page.locator("[data-shortcuts]").text_content()
    assert words["history"] in rows.first.locator("[data-history]").text_content()
    assert re.search(r"\d{3}\*{4}\d{4}", rows.first.locator("[data-who]").text_content())
    (SCREENSHOTS / "console").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "console" / f"review_queue_{lang}.png"))

    # the photo opens in the lightbox, Esc closes it, and the row stays where it was
    rows.first.locator("a.thumb").first.click()
    lightbox = page.locator("dialog#lightbox")
    assert lightbox.is_visible()
    page.wait_for_function("document.querySelector('#lightbox img').naturalWidth > 0")
    page.screenshot(path=str(SCREENSHOTS / "console" / f"review_lightbox_{lang}.png"))
    page.keyboard.press("Escape")
    assert not lightbox.is_visible()

    # typing in a note is typing: "a" there approves nothing
    note = rows.nth(2).locator("input[name=note]")
    note.click()
    page.keyboard.type("a")
    page.keyboard.press("Escape")
    assert note.input_value() == "a" and status_of(app, waiting[2])[0] is ActionStatus.REVIEW

    # the click selected that row; k k j moves to the second, a approves it, and the list comes back filtered
    # with the same place selected
    assert rows.nth(2).get_attribute("aria-selected") == "true"
    for key in ("k", "k", "j"):
        page.keyboard.press(key)
    assert rows.nth(1).get_attribute("aria-selected") == "true"
    with page.expect_navigation():
        page.keyboard.press("a")
    assert page.url.endswith(f"/admin/review?{FILTERED}")
    assert words["done"] in page.locator(".flash").text_content()
    assert page.locator("select[name=scenario]").input_value() == "cycling"
    assert page.locator("select[name=district]").input_value() == "370902"
    assert status_of(app, waiting[1])[0] is ActionStatus.CREDITED
    assert rows.count() == 11 and rows.nth(1).get_attribute("data-action") == str(waiting[2])
    assert rows.nth(1).get_attribute("aria-selected") == "true"

    # r asks for the reason first; Enter sends the rejection, which asks first like every destructive action
    # (console.js): while that dialog is open no shortcut fires; Tab past Cancel and Enter says yes
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.name") == "note"
    page.keyboard.press("Backspace")  # the "a" typed above
    page.keyboard.type("速度不可能")
    page.keyboard.press("Enter")
    confirm = page.locator("dialog#confirm-dialog")
    assert confirm.is_visible()
    page.keyboard.press("a")
    assert confirm.is_visible() and status_of(app, waiting[2])[0] is ActionStatus.REVIEW
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/admin/review?{FILTERED}")
    assert status_of(app, waiting[2])[:2] == (ActionStatus.REJECTED, "速度不可能")

    # e asks for evidence the same way; the ride stays in the queue, marked
    page.keyboard.press("k")
    page.keyboard.press("e")
    page.keyboard.type("请上传轨迹截图")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/admin/review?{FILTERED}")
    assert status_of(app, waiting[0]) == (ActionStatus.REVIEW, "请上传轨迹截图", True)
    assert rows.count() == 10
    # the marked row wraps its longer description instead of pushing its buttons off the screen
    marked = page.locator(f"tr[data-action='{waiting[0]}']")
    assert marked.locator(".tag").count() == 1
    button = marked.locator("button[data-decision=evidence]").bounding_box()
    assert button["x"] + button["width"] <= 1366, f"the marked row's last button is off the screen: {button}"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(SCREENSHOTS / "console" / f"review_queue_marked_{lang}.png"))
