"""The console's wording for domain errors: Chinese pages never show a service's English text; English pages get
the catalogue's wording, or the service's own (English) text for a code without one."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from admin.messages import BY_STATUS, message_for
from carbon_platform import errors


def every_error_class() -> list[type[errors.DomainError]]:
    found, todo = [], [errors.DomainError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return found


@pytest.fixture
def request_ctx(app):
    with app.test_request_context("/admin/"):
        yield


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def test_no_domain_error_shows_english_on_a_chinese_page(request_ctx):
    assert len(every_error_class()) > 15  # the services' own subclasses too, not just carbon_platform.errors
    for cls in every_error_class():
        for code in (None, "some_new_code"):
            error = cls.__new__(cls)  # every subclass anywhere, whatever its own constructor asks for
            errors.DomainError.__init__(error, "a detailed English explanation", code=code)
            with force_locale("zh_CN"):
                text = message_for(error)
            assert has_cjk(text) and "English" not in text, (cls.__name__, error.code, text)


def test_english_pages_keep_the_services_detail_for_codes_without_wording(request_ctx):
    error = errors.Conflict("this adjustment is applied", code="some_new_code")
    with force_locale("en"):
        assert message_for(error) == "this adjustment is applied"
    with force_locale("zh_CN"):
        assert message_for(error) == BY_STATUS[409]()


def test_codes_with_wording_are_translated_both_ways(request_ctx):
    error = errors.Conflict("this adjustment is applied", code="already_decided")
    with force_locale("zh_CN"):
        assert message_for(error) == "这项申请已经处理过了。"
    with force_locale("en"):
        assert message_for(error) == "This request has already been decided."
