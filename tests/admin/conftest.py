"""Fixtures the console's tests share."""

from __future__ import annotations

from importlib import resources

import pytest

from carbon_platform.db import commit
from carbon_platform.models import AdminRole
from carbon_platform.services import audit, rulebooks
from tests import factories as f
from tests.admin.helpers import console

SEED = resources.files("seeds").joinpath("rulebook-2026.4.yaml").read_text(encoding="utf-8")


@pytest.fixture
def commented(app):
    """The seed's 2026.4 (its comments and all) published through dual control, as the demo does."""
    client = console(app, AdminRole.OPERATOR)
    with app.app_context():
        author, approver = f.admin(AdminRole.OPERATOR), f.admin(AdminRole.SUPER_ADMIN, username="second")
        base = rulebooks.latest_published()
        draft = rulebooks.save_draft(SEED, admin_id=author.id, actor=audit.Actor.admin(author), based_on_id=base.id)
        rulebooks.submit(draft, effective_from=base.effective_from, admin_id=author.id,
                         actor=audit.Actor.admin(author))
        rulebooks.decide(draft, approve=True, admin_id=approver.id, actor=audit.Actor.admin(approver))
        commit()
    return client
