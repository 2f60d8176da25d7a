"""docs/api.md lists every error code the API can answer: each DomainError's, each ``code=`` a service passes,
and each code the HTTP error handler emits. A code added anywhere without its line in the docs fails here."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import carbon_platform
import mobile_api
from carbon_platform.errors import DomainError
from mobile_api.errors import HTTP_CODES

ROOT = Path(__file__).resolve().parents[2]
#: Codes built at run time (``f"{what}_required"`` in the login views), spelled out.
BUILT_CODES = {"merchant_required", "enterprise_required"}


def domain_error_classes() -> set[type[DomainError]]:
    for package in (carbon_platform, mobile_api):  # import every module, so every subclass is defined
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" not in module.name:
                importlib.import_module(module.name)
    found, todo = set(), [DomainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    # Only the platform's own: other tests define throwaway subclasses in the same process.
    return {c for c in found if c.__module__.split(".")[0] in ("carbon_platform", "mobile_api")}


def codes_passed_in_source(class_names: set[str]) -> set[str]:
    """Literal ``code="…"`` arguments of calls to a DomainError class, anywhere in the platform or the API."""
    codes = set()
    for folder in ("carbon_platform", "mobile_api"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in (
                        class_names):
                    codes |= {k.value.value for k in node.keywords
                              if k.arg == "code" and isinstance(k.value, ast.Constant)}
    return codes


def documented_codes() -> set[str]:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = text.split("## Errors", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([a-z][a-z0-9_]*)`", section))


def test_the_sources_of_error_codes_are_found():
    classes = domain_error_classes()
    assert {"out_of_stock", "not_eligible", "invalid_voucher", "rulebook_invalid"} <= {c.code for c in classes}
    assert {"identifier_taken", "binding_code_invalid", "voucher_not_open"} <= codes_passed_in_source(
        {c.__name__ for c in classes})


def test_docs_api_md_lists_every_error_code_the_api_can_answer():
    classes = domain_error_classes()
    codes = ({c.code for c in classes} | codes_passed_in_source({c.__name__ for c in classes})
             | set(HTTP_CODES.values()) | BUILT_CODES)
    missing = sorted(codes - documented_codes())
    assert not missing, f"add these codes to the error table in docs/api.md: {missing}"
