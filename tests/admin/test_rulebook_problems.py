"""The rulebook editor words every problem of the loader in the page's language (#19 item 2).

Each broken rulebook of tests/points_rules/test_problems.py (one per kind of problem) is saved from the editor: the
Chinese page lists each problem in Chinese, with no English sentence; the English page in English, with no Chinese but
what the author typed.
"""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from carbon_platform.extensions import db
from carbon_platform.models import AdminRole, RulebookVersion
from tests.admin.helpers import console, csrf_token
from tests.admin.test_untranslated import DELIBERATE, chinese_runs, visible_texts
from tests.points_rules.test_problems import CASES, ENGLISH_SENTENCE, problems_of

LISTED = re.compile(r'<li class="error-line"[^>]*>.*?<code>(.*?)</code>: (.*?)(?: <pre|</li>)', re.DOTALL)
CJK = re.compile(r"[\u4e00-\u9fff]+")


def listed(page: str) -> list[tuple[str, str]]:
    """(path, message) of each problem the editor lists."""
    return [(html.unescape(path), html.unescape(message).strip()) for path, message in LISTED.findall(page)]


@pytest.fixture
def editors(app):
    """A client per language, logged in as an operator (who may draft rules), with its form token."""
    clients = {}
    for language in ("zh_CN", "en"):
        client = console(app, AdminRole.OPERATOR)
        client.get(f"/admin/lang/{language}")
        clients[language] = (client, csrf_token(client, "/admin/rulebooks/new"))
    return clients


def save(editors, language: str, source: str) -> str:
    client, token = editors[language]
    response = client.post("/admin/rulebooks/new", data={"csrf_token": token, "source": source, "note": ""})
    assert response.status_code == 400, response.status_code
    return response.get_data(as_text=True)


def versions(app) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(RulebookVersion)).scalar_one()


def test_every_kind_of_problem_is_listed_in_the_pages_language(app, editors):
    before, failures = versions(app), []
    for case in CASES:
        source = case.source()
        typed = set(CJK.findall(source))
        expected = problems_of(case)
        chinese = listed(save(editors, "zh_CN", source))
        english_page = save(editors, "en", source)
        english = listed(english_page)
        if len(chinese) != len(expected) or len(english) != len(expected):
            failures.append(f"{case.code}: {len(expected)} problems, listed {len(chinese)} and {len(english)}")
            continue
        for (path, message), (_p, problem) in zip(chinese, expected, strict=True):
            if message != problem.words("zh_CN") or not CJK.search(message) or ENGLISH_SENTENCE.search(message):
                failures.append(f"{case.code} zh {path}: {message!r}")
        for (path, message), (_p, problem) in zip(english, expected, strict=True):
            if message != str(problem) or set(CJK.findall(message)) - typed:
                failures.append(f"{case.code} en {path}: {message!r}")
        runs = [r for text in visible_texts(english_page) for r in chinese_runs(text, typed | DELIBERATE)]
        if runs:
            failures.append(f"{case.code}: Chinese on the English page: {runs}")
    assert failures == [], "\n".join(failures)
    assert versions(app) == before  # nothing was saved


def test_a_campaign_draft_the_rules_refuse_names_its_problems_in_the_pages_language(app):
    """A refusal outside the editor (``message_for``): each problem in the page's language too."""
    from flask_babel import force_locale

    from admin.messages import message_for
    from carbon_platform.services.rulebooks import RulebookInvalid, parse_source

    case = next(c for c in CASES if c.code == "unknown_programme")
    with app.test_request_context("/admin/"):
        with pytest.raises(RulebookInvalid) as caught:
            parse_source(case.source())
        with force_locale("zh_CN"):
            chinese = message_for(caught.value)
        with force_locale("en"):
            english = message_for(caught.value)
    assert "没有这个工程：「九」" in chinese and "unknown programme" not in chinese
    assert "unknown programme '九'" in english and "没有这个工程" not in english
    (api,) = caught.value.details["errors"]  # the API's words, as the CLI prints them
    assert api.endswith("scenarios[0].programme: unknown programme '九'") and api.startswith("line ")
