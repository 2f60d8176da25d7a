"""Buttons by weight: every destructive action in the console's templates is styled as one and says, before it
happens, what will happen (console.js shows the sentence in a dialog whose first button changes nothing)."""

from __future__ import annotations

import pathlib
import re

TEMPLATES = pathlib.Path(__file__).resolve().parents[2] / "admin" / "templates"
#: The labels of actions that take something away: access, points, a version, a campaign, a secret.
DESTRUCTIVE = ("驳回", "停用", "停用账号", "结束", "轮换密钥", "取消并退还积分", "冻结")
BUTTON = re.compile(r"<button\b(?P<attributes>[^>]*)>(?P<label>.*?)</button>", re.S)


def buttons():
    for template in sorted(TEMPLATES.rglob("*.html")):
        for match in BUTTON.finditer(template.read_text()):
            yield template.relative_to(TEMPLATES), match["attributes"], match["label"]


def test_every_destructive_button_is_marked_and_asks_first():
    found = [(where, attributes) for where, attributes, label in buttons()
             if any(f"_('{name}')" in label for name in DESTRUCTIVE)]
    assert len(found) >= 7, found  # administrators, staff, vouchers, adjustments, review, rulebooks, partners, accounts
    for where, attributes in found:
        assert 'class="danger"' in attributes and "data-confirm=" in attributes, (where, attributes)
    # A campaign's controls share one button with a computed label; its "end" branch is the destructive one.
    campaign = (TEMPLATES / "admin" / "campaigns" / "list.html").read_text()
    assert re.search(r"change == 'end' %\}<button[^>]*class=\"danger\"[^>]*data-confirm=", campaign)


def test_filters_are_secondary_buttons():
    filters = [(where, attributes) for where, attributes, label in buttons()
               if any(f"_('{name}')" in label for name in ("筛选", "搜索", "查看"))]
    assert len(filters) >= 8
    assert all('class="secondary"' in attributes for _where, attributes in filters), filters


def test_every_page_loads_the_script_that_asks():
    base = (TEMPLATES / "admin" / "base.html").read_text()
    assert "filename='console.js'" in base and "data-confirm-cancel=" in base
