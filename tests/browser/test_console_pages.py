"""Every console page in a real browser, in both languages: drawn without a script error, in the session's
language, and kept as a screenshot (``test-artifacts/screenshots/console/pages/<page>-<language>.png``) for a
person to look at. The pages are those ``tests/admin/test_pages.py`` walks, on the same fixture."""

from __future__ import annotations

import re

import pytest

from carbon_platform.models import AdminRole
from tests import factories as f
from tests.admin.test_pages import REDIRECTS, page_urls, reachable, stocked  # noqa: F401 (stocked is a fixture)
from tests.browser.conftest import SCREENSHOTS, log_in

pytestmark = pytest.mark.browser
#: Files, not pages: downloads and pictures.
FILES = re.compile(r"\.(csv|xlsx|json|pdf)(\?|$)|/evidence/|/picture")


def pages(app, stocked) -> dict[str, str]:  # noqa: F811
    """One URL per page (the first the walk fills in), keyed by its endpoint."""
    found: dict[str, str] = {}
    for endpoint, url in page_urls(app, stocked):
        if endpoint not in REDIRECTS and not FILES.search(url):
            found.setdefault(endpoint, url)
    return found


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_console_page_draws_in_the_browser_in_both_languages(page, site, app, stocked, language):  # noqa: F811
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    folder = SCREENSHOTS / "console" / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    visited = pages(app, stocked)
    assert len(visited) > 25, visited  # 28 pages when this was written
    problems = []
    # The super admin draws every page but the bank's own, which the demo bank's staff draw (its enterprise's).
    as_bank = {endpoint for endpoint in visited if not reachable(app, AdminRole.SUPER_ADMIN, endpoint)}
    assert as_bank == {"admin.bank_enterprises", "admin.bank_enterprise"}, as_bank
    for endpoint, url in sorted(visited.items(), key=lambda item: (item[0] in as_bank, item[0])):
        if endpoint == min(as_bank) or endpoint == min(set(visited) - as_bank):
            role = AdminRole.BANK if endpoint in as_bank else AdminRole.SUPER_ADMIN
            page.context.clear_cookies()
            log_in(page, site, stocked.usernames[role], f.PASSWORD)
            page.goto(f"{site}/admin/lang/{language}?next=/admin/profile")
        response = page.goto(f"{site}{url}")
        page.wait_for_load_state("load")
        lang = page.locator("html").get_attribute("lang")
        if response is None or response.status != 200:
            problems.append(f"{url}: {response.status if response else 'no response'}")
        elif lang != ("en" if language == "en" else "zh-CN"):
            problems.append(f"{url}: drawn in {lang}")
        elif page.locator("h1").count() < 1:
            problems.append(f"{url}: no heading")
        elif page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
            # a wide table scrolls inside its .table-wrap; the page itself never scrolls sideways
            problems.append(f"{url}: wider than the window")
        page.screenshot(path=str(folder / f"{endpoint.removeprefix('admin.')}-{language.split('_')[0]}.png"),
                        full_page=True)
    assert problems == [] and errors == [], problems + errors
