"""The screenshot sweep: every route of the client, in both languages, at 390 × 844 and 360 × 640, over a small
demo city, into test-artifacts/screenshots/h5/sweep/<route>-<zh|en>-<size>.png. On each page: nothing wider than
the screen, every tap target at least 44 px (or inside a 44 px hit area), no message key shown and, in English,
no Chinese outside `data-i18n-data`.

One database only (SQLite, a module-local app built like tests/conftest.py's), so the sweep is paid once: CI
fails on a skipped PostgreSQL case, so this test is simply not parametrised.
"""

from __future__ import annotations

import pytest

from tests.conftest import SqliteDatabase, dispose, make_app
from tests.h5.conftest import SCREENSHOTS, SIZES, Phone, logged_in_refresh_token
from tests.h5.quality import (
    RESIDENT_PHONE,
    STAFF_PHONE,
    build_city,
    file_name,
    overflow,
    routes,
    small_targets,
    untranslated,
    walk,
)
from tests.serving import served

pytestmark = pytest.mark.browser
SWEEP = SCREENSHOTS / "sweep"
LANGUAGES = {"zh": "zh-CN", "en": "en-US"}


@pytest.fixture(scope="module")
def city_site(tmp_path_factory, h5_built):
    from carbon_platform.services import invariants

    template = SqliteDatabase(tmp_path_factory)
    # Four phones log the same two people in: more codes a minute than a real phone number may ask for. Every
    # page load refreshes its token, and the sweep loads every route four times from one address within minutes:
    # more refreshes an hour than the production per-address limit allows (it ran out at 30 routes).
    app = make_app(template.fresh_url(tmp_path_factory.mktemp("sweep")),
                   UPLOAD_FOLDER=str(tmp_path_factory.mktemp("sweep-uploads")),
                   OTP_SEND_LIMIT="100 per minute", OTP_SEND_LIMIT_PER_IP="100 per minute",
                   OTP_VERIFY_LIMIT_PER_IP="1000 per hour")
    urls = build_city(app)
    with served(app) as (host, port):
        yield app, f"http://{host}:{port}", urls
    with app.app_context():
        drifts = invariants.verify()
    dispose(app)
    assert not drifts, drifts


def test_every_page_in_both_languages_at_both_sizes(phone_browser, city_site):
    app, site, urls = city_site
    SWEEP.mkdir(parents=True, exist_ok=True)
    # what is wrong -> the pages it is wrong on (one line per defect, not one per screenshot)
    problems: dict[str, dict[str, list[str]]] = {"wider than the screen": {}, "tap targets under 44 px": {},
                                                 "untranslated": {}}
    shots = []
    for short, locale in LANGUAGES.items():
        for size in SIZES:
            phone = Phone(phone_browser, site)
            try:
                # Each phone logs in afresh: refresh tokens rotate, so one is good for one phone only.
                tokens = {"resident": logged_in_refresh_token(app, RESIDENT_PHONE),
                          "merchant": logged_in_refresh_token(app, STAFF_PHONE, staff=True)}
                for route, page in walk(phone, site, tokens, urls, locale=locale, size=size):
                    name = f"{file_name(route)}-{short}-{size}"
                    path = SWEEP / f"{name}.png"
                    page.screenshot(path=str(path), full_page=True)
                    shots.append(path)
                    for what, found in (("wider than the screen", overflow(page)),
                                        ("tap targets under 44 px", small_targets(page)),
                                        ("untranslated", untranslated(page, english=short == "en"))):
                        for problem in found:
                            problems[what].setdefault(f"{route.name}: {problem}", []).append(f"{short}-{size}")
            finally:
                phone.close()
    assert len(shots) == len(routes()) * len(LANGUAGES) * len(SIZES)
    assert all(path.stat().st_size > 2000 for path in shots), "an empty screenshot"
    report = "\n".join(f"{what}:\n" + "\n".join(f"  {problem}  [{', '.join(where)}]"
                                                 for problem, where in found.items())
                       for what, found in problems.items() if found)
    assert not report, "pages that fail the sweep's checks:\n" + report
