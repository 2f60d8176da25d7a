"""Every error code the platform's services raise has the console's own wording (admin/messages.py), in both
languages, unless it cannot reach a console page: those are listed below, each with why.

The codes are found as tests/mobile_api/test_error_codes.py finds them: each DomainError subclass of the platform
and each literal ``code="…"`` passed to one in carbon_platform/services. The general codes (``invalid_input``…) are
raised with many meanings; where a service the console calls raises one without a particular code, the field it
names must have its wording (``BY_FIELD``), unless it is listed as out of the console's reach.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask_babel import force_locale

from admin.messages import BY_FIELD, MESSAGES, WORDED_APART, message_for
from carbon_platform.errors import DomainError
from tests.admin.test_messages import has_cjk
from tests.mobile_api.test_error_codes import domain_error_classes

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "carbon_platform" / "services"

#: Codes raised only where no console page leads: the resident and merchant apps (/api/v1), partners' feeds, the
#: merchants' scanning. The console never calls the service functions that raise them.
ENTERPRISE_REPORTS = "energy reports (energy_reports, report_sheets): the enterprise API, no console page"
STATEMENTS = "enterprise statements (statements): the enterprise API and the public check, no console page"
NOT_IN_CONSOLE = {
    "correction_unchanged": ENTERPRISE_REPORTS,
    "grant_not_found": "an enterprise revoking a bank's access (bank_access.revoke, the enterprise API)",
    "grant_until_invalid": "an enterprise granting a bank access (bank_access.grant, the enterprise API)",
    "statement_no_reports": STATEMENTS,
    "statement_period_invalid": STATEMENTS,
    "green_exceeds_total": ENTERPRISE_REPORTS,
    "industry_required": ENTERPRISE_REPORTS,
    "report_exists": ENTERPRISE_REPORTS,
    "report_not_found": ENTERPRISE_REPORTS,
    "report_period_invalid": ENTERPRISE_REPORTS,
    "report_period_mixed": ENTERPRISE_REPORTS,
    "report_period_not_over": ENTERPRISE_REPORTS,
    "site_exists": ENTERPRISE_REPORTS,
    "site_not_found": ENTERPRISE_REPORTS,
    "unknown_fuel": ENTERPRISE_REPORTS,
    "unknown_industry": ENTERPRISE_REPORTS,
    "sheet_invalid": ENTERPRISE_REPORTS,
    "sheet_unreadable": ENTERPRISE_REPORTS,
    "sheet_too_large": ENTERPRISE_REPORTS,
    "already_checked_in": "a merchant check-in (checkins.check_in, the merchant API)",
    "already_in_household": "a resident joining a household (households, the app)",
    "binding_code_invalid": "binding a meter or card (consent, the app)",
    "binding_kind_refused": "binding a meter or card (consent, the app)",
    "binding_not_found": "binding a meter or card (consent, the app)",
    "binding_not_proposed": "binding a meter or card (consent, the app)",
    "checkin_code_expired": "scanning a shop's check-in code (checkins, the app)",
    "checkin_code_invalid": "scanning a shop's check-in code (checkins, the app)",
    "deletion_blocked": "a resident deleting their account (privacy, the app)",
    "head_must_transfer": "leaving a household (households, the app)",
    "household_full": "joining a household (households, the app)",
    "household_has_meter": "binding a meter to a household (consent, the app)",
    "identifier_taken": "binding a meter or card (consent, the app and partners)",
    "invalid_signature": "a partner's signed request (partner_auth, the partner API)",
    "invalid_voucher": "redeeming a voucher code (vouchers.consume, the merchant API); the console's search finds "
                       "none instead (vouchers.find_by_code returns None)",
    "invitation_invalid": "joining a household by invitation (households, the app)",
    "limit_reached": "redeeming a reward (vouchers.redeem, the app)",
    "not_eligible": "redeeming a reward (vouchers.redeem, the app)",
    "other_merchant": "a merchant consuming another's voucher (vouchers, the merchant API)",
    "out_of_stock": "redeeming a reward (vouchers.redeem, the app)",
    "rate_limited": "the API's allowances (login codes, reports, voucher scans); the console's login answers its own "
                    "page (admin/views/session_views.py)",
    "reward_unavailable": "redeeming a reward (vouchers.redeem, the app)",
    "scenario_not_for_account": "consenting to a partner's data (consent, the app)",
    "scene_not_offered": "a merchant check-in (checkins, the merchant API)",
}

#: The classes' own codes, raised with many meanings (the service's text says which): worded by the field they name
#: (BY_FIELD) where the console can send it, else by status (BY_STATUS) in Chinese and as the service said in English.
GENERAL = {"invalid_input", "conflict", "forbidden"}

#: (code, field) raised without a particular code by a service the console imports, in a function it never calls.
FIELDS_NOT_IN_CONSOLE = {
    ("conflict", "phone"): "accounts.register_resident (the app's login); the console's staff form has staff_exists",
    ("conflict", "uscc"): "accounts.register_enterprise (the enterprise API and the seed)",
    ("invalid_input", "day"): "checkins.within_listing (the merchant API's check-in listing)",
    ("invalid_input", "note"): "energy_reports.correct and declare_output (the enterprise API); the bank's pages "
                               "only read year_figures",
    ("invalid_input", "output_wan"): "energy_reports.declare_output (the enterprise API)",
    ("invalid_input", "evidence"): "evidence.attach (the app's report)",
    ("invalid_input", "code"): "households.join (the app)",
    ("invalid_input", "resident_id"): "households.transfer_head (the app)",
    ("invalid_input", "idempotency_key"): "journal (the API's idempotency keys)",
    ("invalid_input", "until"): "organisations.set_legacy_signature_until (the CLI)",
    ("invalid_input", "scan_nonce"): "vouchers.consume (the merchant API)",
}


def raised_codes() -> dict[str, set[str]]:
    """code → where: each platform DomainError class's code, and each literal code passed in the services."""
    classes = {c for c in domain_error_classes() if c.__module__.startswith("carbon_platform")}
    found: dict[str, set[str]] = {}
    for cls in classes:
        found.setdefault(cls.code, set()).add(f"{cls.__module__}.{cls.__name__}")
    names = {c.__name__ for c in classes} | {"DomainError"}
    for path in SERVICES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in names:
                for keyword in node.keywords:
                    if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                        found.setdefault(keyword.value.value, set()).add(f"{path.name}:{node.lineno}")
    return found


def console_service_modules() -> set[str]:
    """The service modules the console imports (``from carbon_platform.services import x`` or ``….x import``)."""
    modules = set()
    for path in (ROOT / "admin").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "carbon_platform.services":
                modules |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("carbon_platform.services."):
                modules.add(node.module.split(".")[2])
    return {m for m in modules if (SERVICES / f"{m}.py").exists()}


def general_raises_by_field(modules: set[str]) -> dict[tuple[str, str], set[str]]:
    """(code, field) → where, for each raise of a general class without a particular code but with a literal field."""
    general = {cls.__name__: cls.code for cls in domain_error_classes() if cls.code in GENERAL}
    found: dict[tuple[str, str], set[str]] = {}
    for module in sorted(modules):
        tree = ast.parse((SERVICES / f"{module}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in general:
                keywords = {k.arg: k.value for k in node.keywords}
                field = keywords.get("field")
                if "code" not in keywords and isinstance(field, ast.Constant):
                    found.setdefault((general[node.func.id], field.value), set()).add(f"{module}.py:{node.lineno}")
    return found


def test_the_codes_and_the_console_modules_are_found():
    codes = raised_codes()
    assert {"rulebook_invalid", "already_decided", "username_taken", "out_of_stock", "invalid_input"} <= set(codes)
    modules = console_service_modules()
    assert {"rulebooks", "rewards", "admins", "identity"} <= modules and "consent" not in modules
    assert ("invalid_input", "phone") in general_raises_by_field(modules)


def test_every_code_a_console_page_can_trigger_has_its_wording():
    codes = raised_codes()
    worded = set(MESSAGES) | WORDED_APART
    missing = {code: sorted(where) for code, where in codes.items()
               if code not in worded | set(NOT_IN_CONSOLE) | GENERAL}
    assert missing == {}, "word these in admin/messages.py, or say in NOT_IN_CONSOLE why no page can raise them"
    # the lists stay true: a listed code is still raised, and not worded meanwhile
    assert sorted(set(NOT_IN_CONSOLE) - set(codes)) == []
    assert sorted(set(NOT_IN_CONSOLE) & worded) == []
    assert GENERAL <= set(codes)


def test_every_field_a_console_service_refuses_with_a_general_code_has_its_wording():
    found = general_raises_by_field(console_service_modules())
    missing = {pair: sorted(where) for pair, where in found.items()
               if pair not in BY_FIELD and pair not in FIELDS_NOT_IN_CONSOLE}
    assert missing == {}, "give these a particular code, or word their field in admin/messages.py BY_FIELD"
    assert sorted(set(FIELDS_NOT_IN_CONSOLE) - set(found)) == []  # stale entries go


@pytest.fixture
def request_ctx(app):
    with app.test_request_context("/admin/"):
        yield


def test_each_wording_is_chinese_on_a_chinese_page_and_english_on_an_english_one(request_ctx):
    """Every wording, with the details its raise gives (any value will do), in both languages."""
    details = {"base": "2026.2", "latest": "2026.3", "base_effective_from": "2026-06-01", "limit": 50,
               "max_points": 500, "action_ids": [1, 2], "maximum": 9, "minimum": 1, "scenarios": ["walk"],
               "factor": "ef_grid", "after": "2026-01-01", "ends": "2026-12-31", "district": "370999"}
    cases = [DomainError("an English sentence the page must not show", code=code, **details) for code in MESSAGES]
    cases += [DomainError("an English sentence the page must not show", code=code, **{**details, "field": field})
              for code, field in BY_FIELD]
    for error in cases:
        with force_locale("zh_CN"):
            chinese = message_for(error)
        with force_locale("en"):
            english = message_for(error)
        where = (error.code, error.details.get("field"))
        assert has_cjk(chinese) and "English sentence" not in chinese, (where, chinese)
        assert not has_cjk(english) and "English sentence" not in english, (where, english)
        assert "None" not in chinese + english, (where, chinese, english)  # each detail it names is given
