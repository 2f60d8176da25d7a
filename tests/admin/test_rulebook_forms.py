"""The structured rulebook forms: a factor's new value becomes a draft whose YAML differs from its base only in
that factor's lines (comments kept), through the same dual control; the next version name is proposed."""

from __future__ import annotations

import difflib

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import AdminRole, RulebookStatus, RulebookVersion
from carbon_platform.services import audit, rulebooks
from tests import factories as f
from tests.admin.conftest import SEED
from tests.admin.helpers import log_in
from tests.admin.test_rulebooks import hidden


def form_data(client, **over):
    page = client.get("/admin/rulebooks/factor").get_data(as_text=True)
    data = {"csrf_token": hidden(page, "csrf_token"), "based_on": hidden(page, "based_on"),
            "version": hidden(page, "version"), "factor": "ef_grid_shandong", "value": "581.5",
            "source": "生态环境部、国家统计局《2023年电力二氧化碳排放因子》山东省 0.5815 kgCO2/kWh", "year": "2023",
            "published": "2026-01-10", "valid_from": "2026-02-01", "note": ""}
    return {**data, **over}


def drafts(app) -> list:
    with app.app_context():
        return db.session.execute(sa.select(RulebookVersion.id, RulebookVersion.version, RulebookVersion.note,
                                            RulebookVersion.source)
                                  .where(RulebookVersion.status == RulebookStatus.DRAFT)).all()


def test_the_page_lists_each_factor_with_its_value_unit_and_source_and_proposes_the_next_version(app, commented):
    page = commented.get("/admin/rulebooks/factor").get_data(as_text=True)
    assert 'data-factor="ef_grid_shandong"' in page and "641.0" in page and "g/kWh" in page
    assert "（2024年发布）山东省 0.6410" in page  # the source of the version in force, not the 2021 one
    assert hidden(page, "version") == "2026.5"


def test_a_factor_change_is_a_draft_that_differs_from_its_base_only_in_that_factor(app, commented):
    response = commented.post("/admin/rulebooks/factor", data=form_data(commented))
    assert response.status_code == 302, response.get_data(as_text=True)
    (draft,) = drafts(app)
    assert draft.version == "2026.5" and "ef_grid_shandong" in draft.note
    changed = [line for line in difflib.unified_diff(SEED.splitlines(), draft.source.splitlines(), lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == [
        '-version: "2026.4"', '+version: "2026.5"',
        "+    valid_to: 2026-02-01",
        "+  - id: ef_grid_shandong", "+    value: 581.5", "+    unit: g/kWh",
        "+    source: 生态环境部、国家统计局《2023年电力二氧化碳排放因子》山东省 0.5815 kgCO2/kWh",
        "+    year: 2023", "+    published: 2026-01-10", "+    valid_from: 2026-02-01",
    ]
    assert "# 泰安市碳普惠规则" in draft.source and "# 1 point = 5 g CO2e" in draft.source  # comments kept
    with app.app_context():
        rulebook = rulebooks.compiled(db.session.get(RulebookVersion, draft.id))
    from datetime import date
    assert str(rulebook.factor_on("ef_grid_shandong", date(2026, 1, 31)).value) == "641.0"
    assert str(rulebook.factor_on("ef_grid_shandong", date(2026, 2, 1)).value) == "581.5"
    page = commented.get(response.headers["Location"]).get_data(as_text=True)  # the diff, for the approver
    assert "+    value: 581.5" in page and "提交审批" in page


@pytest.mark.parametrize(("over", "zh", "en"), [
    ({"value": "abc"}, "不是有效的小数", "Not a valid decimal value"),
    ({"value": ""}, "请输入一个数字", "Enter a number"),
    ({"year": "1800"}, "须在 1990 到 2100 之间", "between 1990 and 2100"),
    ({"valid_from": "2024-01-01", "published": ""}, "新数值的生效日期须晚于现有版本的生效日期（2024-12-20）",
     "must start after the current version does (2024-12-20)"),
    ({"valid_from": "2026-01-01"}, "生效日期不能早于发布日期", "cannot be earlier than its publication date"),
    ({"version": "2026.4"}, "这个版本号已经存在", "exists already"),
    ({"version": "两千"}, "版本号只能包含", "A version name"),
    ({"source": ""}, "该字段是必填字段", "This field is required"),
    ({"factor": "no_such_factor"}, "不是有效的选择", "Not a valid choice"),
])
def test_bad_values_are_refused_with_a_clear_message_in_both_languages(app, commented, over, zh, en):
    response = commented.post("/admin/rulebooks/factor", data=form_data(commented, **over))
    assert response.status_code in (400, 409) and zh in response.get_data(as_text=True)
    commented.get("/admin/lang/en")
    response = commented.post("/admin/rulebooks/factor", data=form_data(commented, **over))
    assert response.status_code in (400, 409) and en in response.get_data(as_text=True)
    assert drafts(app) == []


def test_a_factor_whose_current_version_ends_before_the_new_one_is_refused(app, commented):
    response = commented.post("/admin/rulebooks/factor", data=form_data(
        commented, factor="er_cycling_per_km", valid_from="2026-03-01", published=""))
    assert response.status_code == 302  # the 2025 version is open-ended: it now ends on 2026-03-01
    (draft,) = drafts(app)
    assert draft.source.count("valid_to: 2026-03-01") == 1


def test_only_rules_managers_change_factors(app, commented):
    for role in (AdminRole.AUDITOR, AdminRole.REVIEWER, AdminRole.MERCHANT_MANAGER):
        client = app.test_client()
        with app.app_context():
            username = f.admin(role).username
            commit()
        log_in(client, username)
        assert client.get("/admin/rulebooks/factor").status_code == 403
        assert client.post("/admin/rulebooks/factor", data={"factor": "ef_grid_shandong"}).status_code in (400, 403)
    assert drafts(app) == []


def test_the_yaml_editor_proposes_the_next_version_name(app, commented):
    page = commented.get("/admin/rulebooks/new").get_data(as_text=True)
    assert 'version: &#34;2026.5&#34;' in page or 'version: "2026.5"' in page


def test_next_version_names():
    from carbon_platform.services.rulebook_edits import next_version
    assert next_version("2026.4", set(), 2026) == "2026.5"
    assert next_version("2026.4", {"2026.5", "2026.6"}, 2026) == "2026.7"
    assert next_version("2025.9", set(), 2026) == "2026.1"
    assert next_version(None, set(), 2026) == "2026.1"
    assert next_version("spring", {"spring.1"}, 2026) == "spring.2"


def test_seeding_is_unaffected(app):
    with app.app_context():
        seeding.load_reference()



def test_a_cap_change_is_a_draft_that_changes_that_limit_only(app, commented):
    page = commented.get("/admin/rulebooks/cap").get_data(as_text=True)
    assert 'value="bus_ride:0"' in page and hidden(page, "version") == "2026.5"
    data = {"csrf_token": hidden(page, "csrf_token"), "based_on": hidden(page, "based_on"), "version": "2026.5",
            "cap": "bus_ride:0", "limit": "6", "note": ""}
    response = commented.post("/admin/rulebooks/cap", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    (draft,) = drafts(app)
    changed = [line for line in difflib.unified_diff(SEED.splitlines(), draft.source.splitlines(), lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ['-version: "2026.4"', '+version: "2026.5"',
                       "-      - {per: day, unit: count, limit: 4}", "+      - {per: day, unit: count, limit: 6}"]
    for over, message in (({"limit": "0"}, "须在 1 到"), ({"cap": "bus_ride:9"}, "不是有效的选择")):
        response = commented.post("/admin/rulebooks/cap", data={**data, "version": "2026.6", **over})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert len(drafts(app)) == 1



def test_the_approver_sees_the_diff_and_the_what_if_on_the_approval_page(app, commented):
    response = commented.post("/admin/rulebooks/factor", data=form_data(commented))
    version_url = response.headers["Location"]
    draft_page = commented.get(version_url).get_data(as_text=True)
    assert 'data-figure="points_delta"' not in draft_page  # a draft's what-if is asked for
    commented.post(f"{version_url}/submit", data={"csrf_token": hidden(draft_page, "csrf_token"),
                                                   "effective_from": ""})
    approver = app.test_client()
    log_in(approver, "second")
    page = approver.get(version_url).get_data(as_text=True)
    assert 'data-status="pending"' in page and "批准发布" in page
    assert 'data-figure="points_delta"' in page and "+    value: 581.5" in page


def test_a_campaign_draft_keeps_the_base_text_and_its_comments(app, commented):
    from carbon_platform.services import campaigns
    campaign = {"id": "green_weekend", "name_zh": "周末绿色出行", "name_en": "Green weekend",
                "starts_at": "2026-12-12T00:00:00+08:00", "ends_at": "2026-12-14T00:00:00+08:00",
                "target": {"scenarios": ["bus_ride"]}, "effects": [{"type": "multiplier", "factor": 2}],
                "budget_points": 500}
    with app.app_context():
        maker = f.admin(AdminRole.OPERATOR)
        draft = campaigns.draft_with(campaign, admin_id=maker.id, actor=audit.Actor.admin(maker))
        source, version = draft.source, draft.version
        assert draft.document["campaigns"][-1] == campaign
        commit()
    changed = [line for line in difflib.unified_diff(SEED.splitlines(), source.splitlines(), lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed[:2] == ['-version: "2026.4"', f"+version: {version}"]
    assert all(line.startswith("+") for line in changed[2:]) and "+  - id: green_weekend" in changed
    assert "# Set to the week announced for 2026" in source  # the other campaigns' comments stay
