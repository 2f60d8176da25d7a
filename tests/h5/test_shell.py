"""The client's shell: served under /h5/, history-mode routes, both languages, and a login wall."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def test_unknown_route_is_a_translated_page(phone, site):
    page = phone.open(locale="zh-CN")
    page.goto(f"{site}/h5/no/such/page")
    page.get_by_text("页面不存在").first.wait_for()
    english = phone.open(locale="en-US", size="360x640")
    english.goto(f"{site}/h5/no/such/page")
    english.get_by_text("Page not found").first.wait_for()


def test_a_resident_page_without_login_goes_to_login(phone, site):
    page = phone.open()
    page.goto(f"{site}/h5/mall")
    page.wait_for_url(re.compile(r".*/h5/login\?next=.*mall"))
