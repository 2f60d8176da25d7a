"""The console's 403, 404, 405 and 500 are console pages in the session's language with a way back; a 500
rolls the request's writes back and shows nothing of the exception; the API keeps its JSON errors."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from carbon_platform.extensions import db
from carbon_platform.models import Administrator, AdminRole
from tests.admin.helpers import console

LANGUAGES = {"zh_CN": ('lang="zh-CN"', "页面不存在"), "en": ('lang="en"', "Page not found")}


def in_language(client, language: str):
    client.get(f"/admin/lang/{language}")
    return client


def assert_console_page(response, status: int, language: str):
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert f'data-error="{status}"' in html
    assert LANGUAGES[language][0] in html
    assert 'href="/admin/dashboard"' in html  # a way back
    assert 'class="topbar"' in html  # the console's layout
    return html


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", ["/admin/no-such-page", "/admin/merchants/999999"])
def test_a_404_is_a_console_page_in_the_sessions_language(app, language, path):
    client = in_language(console(app, AdminRole.SUPER_ADMIN), language)
    html = assert_console_page(client.get(path), 404, language)
    assert LANGUAGES[language][1] in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_404_before_logging_in_is_a_console_page_too(app, language):
    client = in_language(app.test_client(), language)
    html = assert_console_page(client.get("/admin/no-such-page"), 404, language)
    assert "/admin/logout" not in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_403_is_a_console_page_in_the_sessions_language(app, language):
    client = in_language(console(app, AdminRole.OPERATOR), language)  # operators may not see administrators
    html = assert_console_page(client.get("/admin/administrators"), 403, language)
    assert ("没有权限" if language == "zh_CN" else "Access denied") in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_405_is_a_console_page_and_names_the_allowed_methods(app, language):
    client = in_language(console(app, AdminRole.SUPER_ADMIN), language)
    response = client.delete("/admin/dashboard")
    html = assert_console_page(response, 405, language)
    assert "GET" in response.headers["Allow"]
    assert ("请求方式不被接受" if language == "zh_CN" else "Method not allowed") in html


@pytest.fixture
def crashing(app):
    """/admin/dashboard replaced by a view that stages a write the database refuses, then fails."""

    def boom():
        db.session.add(Administrator(username="dup", display_name="x", password_hash="x", role=AdminRole.AUDITOR))
        db.session.add(Administrator(username="dup", display_name="y", password_hash="y", role=AdminRole.AUDITOR))
        db.session.flush()  # IntegrityError: the session is unusable until rolled back

    app.view_functions["admin.dashboard"] = boom
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_500_rolls_back_and_shows_a_console_page_without_the_exception(crashing, language):
    client = in_language(console(crashing, AdminRole.SUPER_ADMIN), language)
    html = assert_console_page(client.get("/admin/dashboard"), 500, language)
    # The page was drawn with the database (the administrator's name in the bar), so the session was usable.
    assert "/admin/logout" in html
    assert ("服务器出错" if language == "zh_CN" else "Server error") in html
    for leak in ("IntegrityError", "UNIQUE", "unique", "Traceback", "dup", "sqlalchemy"):
        assert leak not in html
    with crashing.app_context():
        assert db.session.execute(sa.select(Administrator).filter_by(username="dup")).first() is None


def test_the_api_keeps_its_json_errors(app):
    client = console(app, AdminRole.SUPER_ADMIN)  # a console session does not turn the API's errors into pages
    missing = client.get("/api/v1/no-such-endpoint")
    assert missing.status_code == 404 and missing.is_json
    assert missing.json["error"]["code"] == "not_found"
    wrong_method = client.delete("/api/v1/auth/codes")
    assert wrong_method.status_code == 405 and wrong_method.is_json
    assert wrong_method.json["error"]["code"] == "method_not_allowed"


def test_the_api_keeps_its_json_500(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    endpoint = next(rule.endpoint for rule in app.url_map.iter_rules() if rule.rule == "/api/v1/auth/codes")

    def boom(*_args, **_kwargs):
        raise RuntimeError("secret detail")

    app.view_functions[endpoint] = boom
    response = app.test_client().post("/api/v1/auth/codes", json={"phone": "13800000001"})
    assert response.status_code == 500 and response.is_json
    assert response.json["error"]["code"] == "internal_error"
    assert "secret detail" not in response.get_data(as_text=True)


def test_pages_outside_the_console_keep_their_own_errors(app):
    response = app.test_client().get("/no-such-page")
    assert response.status_code == 404
    assert 'data-error="404"' not in response.get_data(as_text=True)
