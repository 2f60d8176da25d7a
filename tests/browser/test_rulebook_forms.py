"""In chromium, in Chinese and in English: a factor changed through the structured form becomes a draft whose
page shows the difference from the version in force (the factor's lines only), ready for a second administrator."""

from __future__ import annotations

from importlib import resources

import pytest

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.models import AdminRole
from carbon_platform.services import audit, rulebooks
from tests import factories as f
from tests.browser.conftest import SCREENSHOTS, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def published(app):
    """The seed's 2026.4, comments and all, published through dual control as the demo does."""
    with app.app_context():
        seeding.load_reference()
        maker, checker = f.admin(AdminRole.OPERATOR, username="maker"), f.admin(AdminRole.SUPER_ADMIN)
        source = resources.files("seeds").joinpath("rulebook-2026.4.yaml").read_text(encoding="utf-8")
        base = rulebooks.latest_published()
        draft = rulebooks.save_draft(source, admin_id=maker.id, actor=audit.Actor.admin(maker), based_on_id=base.id)
        rulebooks.submit(draft, effective_from=base.effective_from, admin_id=maker.id, actor=audit.Actor.admin(maker))
        rulebooks.decide(draft, approve=True, admin_id=checker.id, actor=audit.Actor.admin(checker))
        commit()


@pytest.mark.parametrize(("lang", "link", "save", "submit"), [
    ("zh", "修改排放因子", "保存草稿", "提交，由另一位管理员批准"),
    ("en", "Change an emission factor", "Save draft", "Submit for a second administrator to approve"),
])
def test_a_factor_is_changed_through_the_form_and_the_draft_shows_its_diff(page, site, published, lang, link,
                                                                            save, submit):
    log_in(page, site, "maker", f.PASSWORD)
    if lang == "en":
        page.goto(f"{site}/admin/lang/en")
    page.goto(f"{site}/admin/rulebooks")
    page.get_by_role("link", name=link).click()
    page.select_option("select[name=factor]", "ef_grid_shandong")
    assert page.locator("input[name=version]").input_value() == "2026.5"  # proposed, editable
    page.fill("input[name=value]", "581.5")
    page.fill("input[name=source]", "生态环境部、国家统计局《2023年电力二氧化碳排放因子》山东省 0.5815 kgCO2/kWh")
    page.fill("input[name=year]", "2023")
    page.fill("input[name=published]", "2026-01-10")
    page.fill("input[name=valid_from]", "2026-02-01")
    shots = SCREENSHOTS / "console"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"rulebook-factor-form-{lang}.png"), full_page=True)
    page.get_by_role("button", name=save).click()
    page.wait_for_selector("[data-status='draft']")
    diff = page.locator("pre.diff")
    added = diff.locator("span.add").all_inner_texts()
    removed = diff.locator("span.del").all_inner_texts()
    assert [line for line in added if not line.startswith("+++")] == [
        '+version: "2026.5"', "+    valid_to: 2026-02-01", "+  - id: ef_grid_shandong", "+    value: 581.5",
        "+    unit: g/kWh", "+    source: 生态环境部、国家统计局《2023年电力二氧化碳排放因子》山东省 0.5815 kgCO2/kWh",
        "+    year: 2023", "+    published: 2026-01-10", "+    valid_from: 2026-02-01"]
    assert [line for line in removed if not line.startswith("---")] == ['-version: "2026.4"']
    assert page.get_by_role("button", name=submit).is_visible()
    diff.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"rulebook-factor-draft-{lang}.png"), full_page=True)
    # the draft's text in the code editor, comments kept, with line numbers beside each line
    editor = page.locator(".code-editor")
    editor.scroll_into_view_if_needed()
    assert page.locator(".cm-lineNumbers .cm-gutterElement", has_text="1").first.is_visible()
    assert "# 泰安市碳普惠规则" in page.locator(".cm-content .cm-line").first.inner_text()
    editor.screenshot(path=str(shots / f"rulebook-editor-{lang}.png"))


def test_a_cap_is_changed_through_the_form_in_english(page, site, published):
    log_in(page, site, "maker", f.PASSWORD)
    page.goto(f"{site}/admin/lang/en")
    page.goto(f"{site}/admin/rulebooks")
    page.get_by_role("link", name="Change a cap").click()
    page.select_option("select[name=cap]", "bus_ride:0")
    assert "Bus ride (bus_ride)" in page.locator("select[name=cap] option:checked").inner_text()
    page.fill("input[name=limit]", "6")
    page.screenshot(path=str(SCREENSHOTS / "console" / "rulebook-cap-form-en.png"), full_page=True)
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_selector("[data-status='draft']")
    changed = [line for line in page.locator("pre.diff span.add, pre.diff span.del").all_inner_texts()
               if not line.startswith(("+++", "---"))]
    assert changed == ['-version: "2026.4"', '+version: "2026.5"',
                       "-      - {per: day, unit: count, limit: 4}", "+      - {per: day, unit: count, limit: 6}"]


@pytest.mark.parametrize(("lang", "link", "choose", "save", "photos"), [
    ("zh", "修改证据与审核规则", "选择", "保存草稿", "需上传一张照片"),
    ("en", "Change evidence and review rules", "Choose", "Save draft", "One photo"),
])
def test_a_channels_evidence_rule_is_changed_by_name_and_the_draft_shows_that_line(page, site, published, lang,
                                                                                   link, choose, save, photos):
    log_in(page, site, "maker", f.PASSWORD)
    if lang == "en":
        page.goto(f"{site}/admin/lang/en")
    page.goto(f"{site}/admin/rulebooks")
    page.get_by_role("link", name=link).click()
    page.select_option("select[name=rule]", "bus_ride|app")  # picked by the scenario's and channel's names
    page.get_by_role("button", name=choose).click()
    assert page.locator("input[name=count_per_day]").input_value() == "2"  # the rule in force, filled in
    page.select_option("select[name=evidence]", label=page.locator("select[name=evidence] option", has_text=photos)
                       .first.inner_text())
    page.fill("input[name=bound_distance_km]", "10")
    shots = SCREENSHOTS / "console"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"rulebook-trust-form-{lang}.png"), full_page=True)
    page.get_by_role("button", name=save).click()
    page.wait_for_selector("[data-status='draft']")
    added = page.locator("pre.diff span.add").all_inner_texts()
    assert [line for line in added if not line.startswith("+++")] == [
        '+version: "2026.5"', "+      app: {evidence: photo, below: {count_per_day: 2, distance_km: 10}}"]
    page.screenshot(path=str(shots / f"rulebook-trust-draft-{lang}.png"), full_page=True)
