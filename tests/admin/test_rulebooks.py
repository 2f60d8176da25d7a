"""Rulebook versions in the console: YAML with errors at their line, diff, what-if, dual-control publishing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Action, AdminRole, AuditEvent, RulebookStatus, RulebookVersion
from carbon_platform.services import rulebooks
from tests import factories as f
from tests.admin.helpers import console, csrf_token

BEIJING = timezone(timedelta(hours=8))


def post(client, path, data, page):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def changed_source(app, *, version="2026.2", per_ride="80", to="120") -> str:
    """The version in force as YAML, with a new version number and the per-ride bus factor changed."""
    with app.app_context():
        source = rulebooks.source_of(rulebooks.in_force(utcnow())[0])
    source = source.replace('version: "2026.1"', f'version: "{version}"', 1).replace("version: '2026.1'",
                                                                                     f"version: '{version}'", 1)
    pattern = re.compile(r"(- id: er_bus_per_ride\n(?:\s+\w+: .*\n)*?\s+value: )" + re.escape(per_ride))
    changed, count = pattern.subn(r"\g<1>" + to, source, count=1)
    assert count == 1 and f"{version}" in changed
    return changed


@pytest.fixture
def rides(app):
    """Ten bus rides without a distance (80 g each under 2026.1) in the last days, by ten residents."""
    operator_client = console(app, AdminRole.OPERATOR)  # loads the reference data and the rulebook
    with app.app_context():
        now = datetime.now(BEIJING)
        for n in range(10):
            resident = f.resident(district_code="370902")
            when = now - timedelta(days=n % 5, hours=2)
            f.bus_ride(resident, when, f"ride-{n}")
        f.admin(AdminRole.SUPER_ADMIN, username="second")
        commit()
    return operator_client


def test_a_draft_is_diffed_simulated_and_published_only_by_a_second_administrator(app, rides):
    client = rides
    source = changed_source(app)
    saved = post(client, "/admin/rulebooks/new", {"source": source, "note": "公交按次因子上调"}, "/admin/rulebooks/new")
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    page = saved.headers["Location"]
    html = client.get(page).get_data(as_text=True)
    assert re.search(r'class="del">-\s+value: 80<', html) and re.search(r'class="add">\+\s+value: 120<', html)
    what_if = client.get(f"{page}?what_if=30").get_data(as_text=True)
    # 10 rides × (120 − 80) g = 400 g more; per ride 24 points instead of 16: +80 points
    assert 'data-figure="points_delta">+80<' in what_if
    assert post(client, f"{page}/submit", {"effective_from": ""}, page).status_code == 302
    own = post(client, f"{page}/approve", {"note": ""}, page)
    assert own.status_code == 403  # the submitter cannot approve
    with app.app_context():
        assert db.session.execute(sa.select(RulebookVersion.status).where(
            RulebookVersion.version == "2026.2")).scalar_one() is RulebookStatus.PENDING
    second = console(app, AdminRole.SUPER_ADMIN)
    approved = post(second, f"{page}/approve", {"note": "同意"}, page)
    assert approved.status_code == 302
    with app.app_context():
        version, _rulebook = rulebooks.in_force(utcnow())
        assert version.version == "2026.2"
        kept = set(db.session.execute(sa.select(Action.rulebook_version_id)).scalars())
        assert version.id not in kept  # credited actions keep the version they were credited under
        actions = list(db.session.execute(sa.select(AuditEvent.action).where(
            AuditEvent.target_id == str(version.id), AuditEvent.target_type == "rulebook_versions")).scalars())
    assert actions == ["rulebook.draft", "rulebook.submit", "rulebook.publish"]


def test_errors_are_shown_at_their_line_and_nothing_is_saved(app, rides):
    client = rides
    broken = changed_source(app).replace("grams_per_point:", "grams_per_pont:", 1)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "grams_per_pont" in text)
    response = post(client, "/admin/rulebooks/new", {"source": broken, "note": ""}, "/admin/rulebooks/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and f'data-error-line="{line}"' in html
    assert "grams_per_pont" in html  # the text the author typed is kept in the editor
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(RulebookVersion)).scalar_one() == 1


def test_a_scheduled_version_takes_effect_at_its_time_and_a_rejection_needs_a_reason(app, rides):
    client = rides
    page = post(client, "/admin/rulebooks/new", {"source": changed_source(app), "note": ""},
                "/admin/rulebooks/new").headers["Location"]
    later = (datetime.now(BEIJING) + timedelta(days=3)).replace(second=0, microsecond=0)
    post(client, f"{page}/submit", {"effective_from": later.strftime("%Y-%m-%dT%H:%M")}, page)
    second = console(app, AdminRole.SUPER_ADMIN)
    assert post(second, f"{page}/reject", {"note": ""}, page).status_code == 302  # refused: no reason
    with app.app_context():
        assert db.session.execute(sa.select(RulebookVersion.status).where(
            RulebookVersion.version == "2026.2")).scalar_one() is RulebookStatus.PENDING
    assert post(second, f"{page}/approve", {"note": ""}, page).status_code == 302
    with app.app_context():
        assert rulebooks.in_force(utcnow())[0].version == "2026.1"
        assert rulebooks.in_force(later + timedelta(minutes=1))[0].version == "2026.2"
