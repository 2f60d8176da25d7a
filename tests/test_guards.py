"""Standing guards of the layout: the stdlib's ``platform`` is never shadowed, the rules engine stays
pure, and dependencies point one way (points_rules ← carbon_platform ← mobile_api, admin)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(package: str) -> dict[Path, set[str]]:
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[path.relative_to(ROOT)] = names
    return found


def test_import_platform_is_the_standard_library():
    import platform

    assert Path(platform.__file__).parent == Path(sysconfig.get_paths()["stdlib"])
    assert not (ROOT / "platform").exists(), "a top-level platform/ package shadows the standard library"


@pytest.mark.parametrize("pure", ["points_rules", "emissions"])
def test_the_pure_packages_import_neither_flask_nor_sqlalchemy(pure):
    forbidden = {"flask", "sqlalchemy", "flask_sqlalchemy", "flask_smorest", "carbon_platform", "mobile_api",
                 "admin"}
    offenders = {str(p): sorted(names & forbidden) for p, names in imported_modules(pure).items()
                 if names & forbidden}
    assert offenders == {}
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, {pure}; print(sorted(m for m in sys.modules "
         "if m.split('.')[0] in ('flask', 'sqlalchemy')))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout.strip()
    assert loaded == "[]"


@pytest.mark.parametrize("package", ["carbon_platform", "points_rules", "emissions"])
def test_the_core_never_imports_the_web_packages(package):
    allowed = {Path("carbon_platform/app.py")}  # create_app registers them; nothing else may
    offenders = {str(p): sorted(names & {"mobile_api", "admin"}) for p, names in imported_modules(package).items()
                 if names & {"mobile_api", "admin"} and p not in allowed}
    assert offenders == {}


def test_the_web_packages_do_not_import_each_other():
    for package, other in (("mobile_api", "admin"), ("admin", "mobile_api")):
        offenders = [str(p) for p, names in imported_modules(package).items() if other in names]
        assert offenders == [], f"{package} imports {other}"


def h5_sources() -> dict[str, str]:
    folder = ROOT / "h5" / "src"
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8")
            for p in folder.rglob("*") if p.suffix in (".js", ".vue")}


def test_the_h5_client_talks_only_to_the_public_api():
    """The H5 client proves the public API is enough: its one network door is api/client.js, which speaks
    only to /api/v1; no page fetches anything itself or reaches into the console."""
    sources = h5_sources()
    assert "api/client.js" in sources
    for name, text in sources.items():
        if name != "api/client.js":
            assert "fetch(" not in text and "XMLHttpRequest" not in text and "sendBeacon" not in text, name
        assert "/admin" not in text, name
        for path in re.findall(r"['\"`](/api/[^'\"`]*)", text):
            assert path.startswith("/api/v1"), (name, path)
    assert "const BASE = '/api/v1'" in sources["api/client.js"]
