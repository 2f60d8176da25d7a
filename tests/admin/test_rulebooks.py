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


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*value="([^"]*)"', html).group(1)


def new_draft(client, source, note=""):
    """Save a draft from the editor, as a browser does: with the base version the editor was opened on."""
    editor = client.get("/admin/rulebooks/new").get_data(as_text=True)
    return client.post("/admin/rulebooks/new", data={"csrf_token": hidden(editor, "csrf_token"), "source": source,
                                                     "note": note, "based_on": hidden(editor, "based_on")})


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
    saved = new_draft(client, source, "公交按次因子上调")
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
    # marshmallow's words, in the console's language: the key misspelt, and the one it should have been missing
    assert "没有这一项（可能拼错了）。" in html and "缺少这一项（必填）。" in html and "Unknown field." not in html
    client.get("/admin/lang/en")
    english = post(client, "/admin/rulebooks/new", {"source": broken, "note": ""}, "/admin/rulebooks/new")
    assert "Unknown field." in english.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(RulebookVersion)).scalar_one() == 1


def test_a_scheduled_version_takes_effect_at_its_time_and_a_rejection_needs_a_reason(app, rides):
    client = rides
    page = new_draft(client, changed_source(app)).headers["Location"]
    later = (datetime.now(BEIJING) + timedelta(days=3)).replace(second=0, microsecond=0)
    post(client, f"{page}/submit", {"effective_from": later.strftime("%Y-%m-%dT%H:%M")}, page)
    second = console(app, AdminRole.SUPER_ADMIN)
    refused = post(second, f"{page}/reject", {"note": ""}, page)  # refused: no reason, the page says so
    assert refused.status_code == 400 and "请填写原因" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(RulebookVersion.status).where(
            RulebookVersion.version == "2026.2")).scalar_one() is RulebookStatus.PENDING
    assert post(second, f"{page}/approve", {"note": ""}, page).status_code == 302
    with app.app_context():
        assert rulebooks.in_force(utcnow())[0].version == "2026.1"
        assert rulebooks.in_force(later + timedelta(minutes=1))[0].version == "2026.2"


def submitted(client, source) -> str:
    page = new_draft(client, source).headers["Location"]
    assert post(client, f"{page}/submit", {"effective_from": ""}, page).status_code == 302
    return page


def test_approving_a_draft_made_before_a_newer_version_was_published_is_refused_and_undoes_nothing(app, rides):
    from tests.admin.test_campaigns import form as campaign_form

    client, second = rides, console(app, AdminRole.SUPER_ADMIN)
    stale = submitted(client, changed_source(app, version="2026.2", to="120"))  # made from 2026.1
    # Meanwhile a campaign is drafted (from 2026.1 too) and published: the rulebook now has a running campaign.
    started = (datetime.now(BEIJING) - timedelta(hours=1)).replace(second=0, microsecond=0)
    drafted = post(client, "/admin/campaigns/new", campaign_form("bus_double", starts=started), "/admin/campaigns/new")
    campaign_page = drafted.headers["Location"].split("?")[0]
    assert post(client, f"{campaign_page}/submit", {"effective_from": ""}, campaign_page).status_code == 302
    assert post(second, f"{campaign_page}/approve", {"note": ""}, campaign_page).status_code == 302
    with app.app_context():
        newer = rulebooks.in_force(utcnow())[0].version
    assert "bus_double" in newer
    assert client.get("/admin/campaigns/bus_double").status_code == 200

    page = second.get(stale).get_data(as_text=True)
    assert "data-stale" in page  # the approver is warned before trying
    refused = post(second, f"{stale}/approve", {"note": "同意"}, stale)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert f"之后已发布版本 {newer}" in html and "新建草稿" in html  # why, and what to do, in Chinese
    with app.app_context():
        assert rulebooks.in_force(utcnow())[0].version == newer  # the campaign's version stays in force
        assert db.session.execute(sa.select(RulebookVersion.status).where(
            RulebookVersion.version == "2026.2")).scalar_one() is RulebookStatus.PENDING
        assert not db.session.execute(sa.select(AuditEvent).where(
            AuditEvent.action == "rulebook.publish", AuditEvent.details["version"].as_string() == "2026.2")).first()
    assert client.get("/admin/campaigns/bus_double").status_code == 200  # its results page is still there

    # A new draft from the version in force keeps the campaign and is approved.
    with app.app_context():
        base_source = rulebooks.source_of(rulebooks.in_force(utcnow())[0])
    renewed = submitted(client, re.sub(r"^version: .*$", "version: '2026.3'", base_source, count=1, flags=re.M))
    assert post(second, f"{renewed}/approve", {"note": ""}, renewed).status_code == 302
    with app.app_context():
        version = rulebooks.in_force(utcnow())[0]
        assert version.version == "2026.3"
        assert [c["id"] for c in version.document["campaigns"]].count("bus_double") == 1


def test_an_effective_time_in_year_1_is_a_400_page_and_submits_nothing(app, rides):
    page = new_draft(rides, changed_source(app)).headers["Location"]
    response = post(rides, f"{page}/submit", {"effective_from": "0001-01-01T00:00"}, page)
    assert response.status_code == 400 and "生效时间格式不对" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(RulebookVersion.status).where(
            RulebookVersion.version == "2026.2")).scalar_one() is RulebookStatus.DRAFT
