"""The console's one unit of work (``admin/blueprint.py``): a request commits once, in one place; a refusal rolls
back everything the request staged and shows its message on the page the view names; the views register on
the blueprint without an import cycle."""

from __future__ import annotations

import ast
import pathlib

import pytest
import sqlalchemy as sa
from flask import redirect

from admin.blueprint import on_refusal, record_read
from carbon_platform.errors import Conflict, InvalidInput
from carbon_platform.extensions import db
from carbon_platform.models import AuditEvent
from carbon_platform.services import audit
from tests import factories as f

ADMIN = pathlib.Path(__file__).resolve().parents[2] / "admin"


def _calls(path: pathlib.Path) -> set[str]:
    return {node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)}


def test_only_the_blueprint_commits_or_rolls_back():
    modules = sorted(ADMIN.rglob("*.py"))
    assert len(modules) > 15
    for module in modules:
        if module.name != "blueprint.py":
            assert not {"commit", "rollback"} & _calls(module), module


def test_the_blueprint_imports_no_view_and_the_views_package_imports_nothing():
    imported = [node.module for node in ast.walk(ast.parse((ADMIN / "blueprint.py").read_text()))
                if isinstance(node, ast.ImportFrom)]
    assert imported and not [name for name in imported if name.startswith("admin.views")]
    views_package = ast.parse((ADMIN / "views" / "__init__.py").read_text())
    assert not [node for node in views_package.body if isinstance(node, ast.Import | ast.ImportFrom)]


def _stage(label: str) -> None:
    audit.record(f.TEST_ACTOR, "probe." + label)


def _staged(app) -> list[str]:
    with app.app_context():
        return db.session.execute(sa.select(AuditEvent.action).where(AuditEvent.action.startswith("probe."))
                                  .order_by(AuditEvent.id)).scalars().all()


def _page():
    return "<p>the form again</p>"


@pytest.fixture
def probe(app):
    """Routes on the console's blueprint (their endpoints are ``admin.…``, so its hooks run) that stage an
    audit row and then answer in each of the ways a console view can."""

    def saved():
        _stage("saved")
        return redirect("/admin/")

    def invalid():
        _stage("invalid")
        return "<p>please fix the form</p>", 400

    @on_refusal(_page)
    def conflict():
        _stage("conflict")
        raise Conflict("taken", code="probe_taken")

    @on_refusal(lambda: redirect("/admin/"))
    def conflict_then_back():
        _stage("conflict_then_back")
        raise Conflict("taken", code="probe_taken")

    def unguarded():
        _stage("unguarded")
        raise InvalidInput("no such month")

    def read():
        _stage("read")
        return "<p>a page</p>"

    def download():
        _stage("download")
        record_read()
        return "a,b\n"

    for name, view in {"saved": saved, "invalid": invalid, "conflict": conflict, "unguarded": unguarded,
                       "conflict_then_back": conflict_then_back}.items():
        app.add_url_rule(f"/admin/_probe/{name}", endpoint=f"admin.probe_{name}", view_func=view,
                         methods=["POST"])
        app.extensions["csrf"].exempt(view)
    for name, view in {"read": read, "download": download}.items():
        app.add_url_rule(f"/admin/_probe/{name}", endpoint=f"admin.probe_{name}", view_func=view)
    with app.app_context():
        from carbon_platform import seeding

        seeding.load_reference()
        db.session.commit()
    return app.test_client()


def test_a_write_commits_when_its_view_succeeds_and_only_then(app, probe):
    assert probe.post("/admin/_probe/saved").status_code == 302
    assert probe.post("/admin/_probe/invalid").status_code == 400
    assert _staged(app) == ["probe.saved"]


def test_a_refusal_rolls_back_and_shows_its_message_on_the_page_the_view_names(app, probe):
    refused = probe.post("/admin/_probe/conflict")
    assert refused.status_code == 409 and "the form again" in refused.get_data(as_text=True)
    with probe.session_transaction() as session:
        # a code without wording of its own: the console's message for its status (never the service's English)
        assert ("error", "与当前状态冲突，未做任何更改。请刷新页面后重试。") in session.get("_flashes", [])
    back = probe.post("/admin/_probe/conflict_then_back")
    assert back.status_code == 302  # a redirect stays one; what it staged is still undone
    assert _staged(app) == []


def test_a_refusal_no_view_handles_is_the_consoles_page_with_the_message(app, probe):
    refused = probe.post("/admin/_probe/unguarded")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400  # input the service refused is the form's 400
    # a code without wording of its own: the console's message for a 422, not the service's English
    assert 'data-bad-request="refused"' in html and "输入无效，未做任何更改。" in html and "no such month" not in html
    assert _staged(app) == []


def test_a_get_commits_nothing_but_the_record_of_a_download(app, probe):
    assert probe.get("/admin/_probe/read").status_code == 200
    assert probe.get("/admin/_probe/download").status_code == 200
    assert _staged(app) == ["probe.download"]

