"""Bank grants under real concurrency (threads, one connection each, real commits), 20 times: an enterprise
granting one bank from several devices at once ends with exactly one unrevoked grant, the last one made, and
every other one ended (``services.bank_access.grant`` serialises on the enterprise)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from carbon_platform import seeding
from carbon_platform.clock import city_day, utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import BankGrant, Enterprise
from carbon_platform.services import audit, bank_access
from tests import factories as f
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.concurrency

REPETITIONS = 20
WORKERS = 6


def test_racing_grants_to_one_bank_leave_one_unrevoked_grant(app):
    with app.app_context():
        seeding.load_reference()
        bank_id = f.bank().id
        commit()
    for repetition in range(REPETITIONS):
        with app.app_context():
            enterprise_id = f.enterprise().id
            commit()

        def grant(i: int, enterprise_id=enterprise_id):
            enterprise = db.session.get(Enterprise, enterprise_id)
            return bank_access.grant(enterprise, institution_id=bank_id, until=city_day(utcnow()) + timedelta(
                days=30 + i), actor=audit.SYSTEM).id

        outcomes = run_concurrently(app, grant, WORKERS)
        assert not outcomes.errors and not outcomes.refused, f"repetition {repetition}: {outcomes.errors[:3]}"
        with app.app_context():
            rows = db.session.execute(sa.select(BankGrant.id, BankGrant.revoked_at).where(
                BankGrant.enterprise_id == enterprise_id).order_by(BankGrant.id)).all()
        assert sorted(outcomes.ok) == [row.id for row in rows], f"repetition {repetition}"
        assert [row.revoked_at is None for row in rows] == [False] * (WORKERS - 1) + [True], f"repetition {repetition}"
