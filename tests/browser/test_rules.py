"""In chromium: a campaign created, simulated and published; a rulebook change published with a second
administrator (who is never the submitter)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.models import AdminRole
from tests import factories as f
from tests.browser.conftest import SCREENSHOTS, log_in

BEIJING = timezone(timedelta(hours=8))
pytestmark = pytest.mark.browser


@pytest.fixture
def admins(app):
    with app.app_context():
        seeding.load_reference()
        f.admin(AdminRole.OPERATOR, username="maker")
        f.admin(AdminRole.SUPER_ADMIN, username="checker")
        now = datetime.now(BEIJING)
        for n in range(6):
            resident = f.resident(district_code="370902")
            when = now - timedelta(days=n, hours=2)
            f.bus_ride(resident, when, f"ride-{n}")
        commit()


def approve_as_checker(chromium, site: str, version_url: str) -> None:
    """The second administrator, in a browser session of their own, approves the submitted version."""
    context = chromium.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")  # a tablet
    page = context.new_page()
    try:
        log_in(page, site, "checker", f.PASSWORD)
        page.goto(version_url)
        page.get_by_role("button", name="批准发布").click()
        page.wait_for_selector("[data-status='published']")
    finally:
        context.close()


def test_a_campaign_is_created_simulated_and_published(page, chromium, site, admins):
    log_in(page, site, "maker", f.PASSWORD)
    page.goto(f"{site}/admin/campaigns/new")
    start = (datetime.now(BEIJING) + timedelta(days=2)).replace(second=0, microsecond=0)
    page.fill("input[name=id]", "green_weekend")
    page.fill("input[name=name_zh]", "周末绿色出行")
    page.fill("input[name=name_en]", "Green weekend")
    page.fill("input[name=starts_at]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=ends_at]", (start + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    # picked by name, never typed (#19 item 1): 公交出行 is bus_ride, and nothing of BRT is ticked with it
    page.get_by_role("checkbox", name="公交出行", exact=True).check()
    assert page.locator("input[name=scenarios]:checked").evaluate_all("boxes => boxes.map(b => b.value)") == [
        "bus_ride"]
    (SCREENSHOTS / "console").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "console" / "campaign-form-zh.png"), full_page=True)
    page.fill("input[name=multiplier]", "2")
    page.fill("input[name=budget_points]", "500")
    page.get_by_role("button", name="保存为草稿并模拟").click()
    forecast = page.locator("[data-campaign='green_weekend']")
    forecast.wait_for()
    # 6 rides of 16 points in the replayed 30 days: 96 extra points
    assert forecast.locator("[data-figure='extra_points']").inner_text() == "96"
    version_url = page.url.split("?")[0]
    page.get_by_role("button", name="提交，由另一位管理员批准").click()
    page.wait_for_selector("[data-status='pending']")
    approve_as_checker(chromium, site, version_url)
    page.goto(f"{site}/admin/campaigns")
    assert page.locator("tr[data-campaign='green_weekend']").get_attribute("data-state") == "scheduled"


def test_a_rulebook_change_is_published_by_a_second_administrator(page, chromium, site, admins):
    log_in(page, site, "maker", f.PASSWORD)
    page.goto(f"{site}/admin/rulebooks/new")
    # CodeMirror over the form's textarea (which stays the submitted field): typed into as a person does
    source = page.locator("textarea[name=source]").input_value()
    assert "version: \"2026.2\"" in source  # the next version name, proposed
    editor = page.locator(".code-editor .cm-content")
    editor.fill(source.replace("grams_per_point:", "grams_per_pont:", 1))
    page.get_by_role("button", name="保存草稿").click()
    line = int(page.locator("li.error-line").first.get_attribute("data-error-line"))
    # the mistake is marked in the editor at its line (the gutter's marker beside that line number)
    marker = page.locator(".cm-gutter-lint .cm-gutterElement").filter(has=page.locator(".cm-lint-marker-error"))
    marker.first.wait_for()
    numbers = page.locator(".cm-lineNumbers .cm-gutterElement").all_inner_texts()
    assert str(line) in numbers and page.locator(".cm-lintRange-error").first.inner_text().startswith(
        "grams_per_pont")
    (SCREENSHOTS / "console").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "console" / "rulebook-editor-error-zh.png"))
    assert "table.listing" not in page.content()  # the whole file is not printed above the editor
    editor.fill(page.locator("textarea[name=source]").input_value().replace("grams_per_pont:", "grams_per_point:", 1))
    page.fill("input[name=note]", "版本号更新")
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_selector("[data-status='draft']")
    version_url = page.url
    page.get_by_role("button", name="提交，由另一位管理员批准").click()
    page.wait_for_selector("[data-status='pending']")
    # the submitter's own approval is refused
    page.get_by_role("button", name="批准发布").click()
    assert page.locator("[data-status='pending']").count() == 1
    approve_as_checker(chromium, site, version_url)
    page.goto(f"{site}/admin/rulebooks")
    assert "2026.2" in page.locator("tr[data-status='published']").first.inner_text()
