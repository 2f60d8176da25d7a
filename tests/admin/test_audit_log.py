"""The audit log reads as text: actions by name, details as field / before / after, Chinese never escaped,
in both languages, for rows written today and rows written before (stored with ``\\u`` escapes)."""

from __future__ import annotations

import json
import re
from html import unescape

import sqlalchemy as sa

from admin.audit_details import detail_rows
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import AdminRole, AuditEvent
from carbon_platform.services import audit, rewards
from tests import factories as f
from tests.admin.helpers import console

ACTOR = audit.Actor("admin", None, "tester")


def diff_rows(page: str) -> list[tuple[str, str, str]]:
    """(field, before, after) of every change the page shows."""
    found = re.findall(r"<tr data-diff><th>(.*?)</th><td class=\"before\"><del>(.*?)</del></td>"
                       r"<td class=\"after\"><ins>(.*?)</ins></td></tr>", page)
    return [tuple(unescape(cell) for cell in row) for row in found]


def value_rows(page: str) -> list[tuple[str, str]]:
    return [(unescape(a), unescape(b)) for a, b in
            re.findall(r"<tr data-value><th>(.*?)</th><td colspan=\"2\">(.*?)</td></tr>", page)]


def a_reward_renamed(app) -> None:
    with app.app_context():
        reward = f.reward(name_zh="低碳咖啡一杯", points_price=300)
        rewards.update(reward, actor=ACTOR, name_zh="泰山红茶一杯", points_price=250, districts=["370902"])
        commit()


def an_old_row(app, details: dict) -> None:
    """A row as the console wrote it before: the details' text with ``\\uXXXX`` escapes."""
    with app.app_context():
        escaped = json.dumps(details)  # ensure_ascii, as SQLAlchemy's default serialiser did
        assert "\\u" in escaped
        value = "CAST(:d AS JSON)" if db.engine.dialect.name == "postgresql" else ":d"
        db.session.execute(sa.text(f"INSERT INTO audit_events (occurred_at, actor_type, actor_name, action, details)"
                                   f" VALUES (CURRENT_TIMESTAMP, 'admin', 'veteran', :a, {value})"),
                           {"a": "merchant.checkin_scenarios", "d": escaped})
        commit()


def test_a_change_shows_field_by_field_before_and_after_in_chinese(app):
    client = console(app, AdminRole.AUDITOR)
    a_reward_renamed(app)
    page = client.get("/admin/audit?action=reward.update").get_data(as_text=True)
    assert "\\u" not in page and "&#34;" not in page  # no escapes, no raw JSON
    assert "修改奖品" in page and "<th>字段</th><th>修改前</th><th>修改后</th>" in page
    assert diff_rows(page) == [("名称（中文）", "低碳咖啡一杯", "泰山红茶一杯"), ("所需积分", "300", "250"),
                               ("适用区县", "—", "370902")]


def test_the_english_console_shows_the_same_change_in_english_labels(app):
    client = console(app, AdminRole.AUDITOR)
    client.get("/admin/lang/en")
    a_reward_renamed(app)
    page = client.get("/admin/audit?action=reward.update").get_data(as_text=True)
    assert 'lang="en"' in page and "Change a reward" in page and "<th>Before</th><th>After</th>" in page
    # the values are what was written: the Chinese name stays Chinese, unescaped
    assert diff_rows(page) == [("Name (Chinese)", "低碳咖啡一杯", "泰山红茶一杯"), ("Points price", "300", "250"),
                               ("Districts", "—", "370902")]


def test_rows_written_before_read_as_text_too(app):
    client = console(app, AdminRole.AUDITOR)
    an_old_row(app, {"before": ["森林步道"], "after": ["森林步道", "泰山区打卡"]})
    # a list is joined with the language's separator: 、 in Chinese, a comma in English
    for language, field, joined in (("zh_CN", "打卡场景", "森林步道、泰山区打卡"),
                                    ("en", "Check-in scenes", "森林步道, 泰山区打卡")):
        client.get(f"/admin/lang/{language}")
        page = client.get("/admin/audit?actor=veteran").get_data(as_text=True)
        assert "\\u" not in page
        assert diff_rows(page) == [(field, "森林步道", joined)]


def a_resident_frozen(app, **details) -> str:
    """An account.freeze event on a new resident, with these details; the table its target lives in."""
    with app.app_context():
        resident = f.resident()
        audit.record(ACTOR, "account.freeze", resident, **details)
        commit()
        return resident.__tablename__


def test_values_that_are_not_changes_show_as_field_and_value(app):
    client = console(app, AdminRole.AUDITOR)
    a_resident_frozen(app, reason="泰山区 疑似刷分")
    page = client.get("/admin/audit?action=account.freeze").get_data(as_text=True)
    assert ("原因", "泰山区 疑似刷分") in value_rows(page) and "冻结账户" in page and diff_rows(page) == []


def test_new_rows_are_stored_with_chinese_unescaped(app):
    a_reward_renamed(app)
    with app.app_context():
        stored = db.session.execute(sa.select(sa.cast(AuditEvent.details, sa.Text))
                                    .where(AuditEvent.action == "reward.update")).scalar_one()
        event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "reward.update")).scalar_one()
    assert "泰山红茶一杯" in stored and "\\u" not in stored
    assert event.details["before"]["name_zh"] == "低碳咖啡一杯" and event.details["after"]["points_price"] == 250


def test_the_audit_csv_carries_chinese_unescaped(app):
    client = console(app, AdminRole.AUDITOR)
    a_reward_renamed(app)
    text = client.get("/admin/audit.csv?action=reward.update").get_data(as_text=True)
    assert "泰山红茶一杯" in text and "\\u" not in text


def test_detail_rows_cover_the_shapes_the_services_write(app):
    with app.test_request_context():
        assert detail_rows("partner.update", {"before": {"active": True, "rate_limit": "600 per minute"},
                                              "after": {"active": False, "rate_limit": "600 per minute"}}) == \
            [detail_rows("x", {"before": {"active": True}, "after": {"active": False}})[0]]
        only_context = detail_rows("rulebook.publish", {"version": "2026.2", "submitted_by": 3})
        assert [(r.field, r.before, r.after) for r in only_context] == [("版本", None, "2026.2"), ("提交人", None, "3")]
        assert [(r.field, r.after) for r in detail_rows("admin.create", {"role": "reviewer"})] == [("角色", "审核")]
        assert detail_rows("admin.login", {}) == []


def test_objects_are_named_by_kind_and_recorded_times_read_in_beijing_time(app):
    client = console(app, AdminRole.AUDITOR)
    target = a_resident_frozen(app, until="2026-12-06T21:01:54.029654+00:00")
    for language, kind, until in (("zh_CN", "居民", "截止时间"), ("en", "Resident", "Until")):
        client.get(f"/admin/lang/{language}")
        page = client.get("/admin/audit?action=account.freeze").get_data(as_text=True)
        assert f"<td>{kind} " in page and f"<td>{target} " not in page
        # 21:01 UTC is 05:01 the next morning in Tai'an; the ISO text itself never shows
        assert (until, "2026-12-07 05:01:54") in value_rows(page) and "T21:01" not in page


def test_every_action_the_code_records_has_a_name():
    from pathlib import Path

    from admin.audit_details import ACTION_NAMES
    root = Path(__file__).parents[2]
    recorded = {match for package in ("carbon_platform", "admin", "mobile_api")
                for path in (root / package).rglob("*.py")
                for match in re.findall(r"audit\.record\([^\"]*?\"([a-z_]+(?:\.[a-z_]+)+)\"", path.read_text())}
    assert len(recorded) > 30  # the scan finds the calls (it would pass vacuously otherwise)
    assert recorded - set(ACTION_NAMES) == set()
