"""Rulebook drafts remember their base: publishing one made from an older version than the latest
published is refused (it would undo what was published since), also when two approvers race."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.errors import InvalidInput
from carbon_platform.extensions import db
from carbon_platform.models import Administrator, AdminRole, RulebookStatus, RulebookVersion
from carbon_platform.services import audit, rulebooks
from tests import factories as f
from tests.concurrency import run_concurrently

REPETITIONS = 20


@pytest.fixture
def admins(app):
    """The seeded rulebook (2026.1, in force) and two administrators: (author id, approver id)."""
    with app.app_context():
        seeding.load_reference()
        author, approver = f.admin(AdminRole.OPERATOR), f.admin(AdminRole.SUPER_ADMIN)
        commit()
        return author.id, approver.id


def actor(admin_id: int) -> audit.Actor:
    return audit.Actor.admin(db.session.get(Administrator, admin_id))


def pending(version: str, based_on_id: int | None, author: int, *, effective_from=None) -> RulebookVersion:
    """A submitted draft: the latest published version's text under a new version number."""
    source = rulebooks.source_of(rulebooks.latest_published())
    source = re.sub(r"^version: .*$", f"version: '{version}'", source, count=1, flags=re.M)
    draft = rulebooks.save_draft(source, admin_id=author, actor=actor(author), based_on_id=based_on_id)
    return rulebooks.submit(draft, effective_from=effective_from or utcnow(), admin_id=author, actor=actor(author))


def latest_id() -> int:
    return rulebooks.latest_published().id


def test_a_draft_of_a_version_no_longer_the_latest_is_refused_at_submit_and_at_approval(app, admins):
    author, approver = admins
    with app.app_context():
        base = latest_id()
        older = pending("2026.2", base, author)
        newer = pending("2026.3", base, author)
        rulebooks.decide(newer, approve=True, admin_id=approver, actor=actor(approver))
        commit()
        with pytest.raises(rulebooks.StaleDraft) as refused:
            rulebooks.decide(older, approve=True, admin_id=approver, actor=actor(approver))
        db.session.rollback()
        assert refused.value.code == "rulebook_draft_stale" and refused.value.status == 409
        assert refused.value.details == {"base": "2026.1", "latest": "2026.3"}
        assert rulebooks.in_force(utcnow())[0].version == "2026.3"
        assert db.session.get(RulebookVersion, older.id).status is RulebookStatus.PENDING
        # Sent back, it cannot be submitted again either: the author is told to start from 2026.3.
        rulebooks.decide(older, approve=False, admin_id=approver, actor=actor(approver), note="过时")
        with pytest.raises(rulebooks.StaleDraft, match="Make a new draft from 2026.3"):
            rulebooks.submit(older, effective_from=utcnow(), admin_id=author, actor=actor(author))


def test_a_draft_without_a_recorded_base_is_treated_as_stale(app, admins):
    """Drafts saved before bases were recorded (the migration leaves them NULL): their base is unknown,
    so approving is refused rather than guessed; the author redrafts from the latest version."""
    author, approver = admins
    with app.app_context():
        legacy = pending("2026.2", latest_id(), author)
        legacy.based_on_id = None  # as a pre-migration row is
        commit()
        with pytest.raises(rulebooks.StaleDraft) as refused:
            rulebooks.decide(legacy, approve=True, admin_id=approver, actor=actor(approver))
        db.session.rollback()
        assert refused.value.details["base"] is None
        assert rulebooks.in_force(utcnow())[0].version == "2026.1"


def test_a_draft_may_not_take_effect_before_the_scheduled_version_it_is_based_on(app, admins):
    author, approver = admins
    with app.app_context():
        next_week = utcnow() + timedelta(days=7)
        scheduled = pending("2026.2", latest_id(), author, effective_from=next_week)
        rulebooks.decide(scheduled, approve=True, admin_id=approver, actor=actor(approver))
        commit()
        assert rulebooks.latest_published().version == "2026.2"  # scheduled: 2026.1 is still in force
        with pytest.raises(rulebooks.StaleDraft) as early:  # now: 2026.2 would replace it next week
            pending("2026.3", scheduled.id, author)
        db.session.rollback()
        assert early.value.code == "rulebook_draft_early"
        later = pending("2026.3", scheduled.id, author, effective_from=next_week + timedelta(hours=1))
        rulebooks.decide(later, approve=True, admin_id=approver, actor=actor(approver))
        commit()
        assert rulebooks.in_force(next_week + timedelta(hours=2))[0].version == "2026.3"


def test_a_draft_based_on_an_unpublished_version_is_refused_when_saved(app, admins):
    author, _approver = admins
    with app.app_context():
        draft = pending("2026.2", latest_id(), author)
        with pytest.raises(InvalidInput) as refused:
            rulebooks.save_draft(rulebooks.source_of(draft).replace("2026.2", "2026.9", 1), admin_id=author,
                                 actor=actor(author), based_on_id=draft.id)  # a draft is no base
        assert refused.value.code == "invalid_base"


@pytest.mark.concurrency
def test_two_drafts_of_one_base_approved_at_once_publish_exactly_one(app, admins):
    author, approver = admins
    for repetition in range(REPETITIONS):
        with app.app_context():
            base = latest_id()
            ids = [pending(f"r{repetition}.{n}", base, author).id for n in range(2)]
            commit()
        outcomes = run_concurrently(app, lambda i, ids=ids: rulebooks.decide(
            db.session.get(RulebookVersion, ids[i]), approve=True, admin_id=approver, actor=actor(approver)).id, 2)
        assert not outcomes.errors, f"repetition {repetition}: {outcomes.errors}"
        assert len(outcomes.ok) == 1 and outcomes.refused_codes == {"rulebook_draft_stale": 1}, repetition
        with app.app_context():
            published = db.session.execute(sa.select(RulebookVersion.id).where(
                RulebookVersion.id.in_(ids), RulebookVersion.status == RulebookStatus.PUBLISHED)).scalars().all()
            assert published == outcomes.ok and latest_id() == outcomes.ok[0], repetition
