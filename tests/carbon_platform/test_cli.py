"""The carbon-platform console script: seeding, administrators, ledger verify and settle."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import Administrator, AuditEvent, CarbonAccount, District, Resident
from tests import factories as f


def test_seed_reference_loads_tai_an_districts_idempotently(app, runner):
    assert runner.invoke(args=["seed", "reference"]).exit_code == 0
    second = runner.invoke(args=["seed", "reference"])
    assert "nothing new" in second.output
    with app.app_context():
        names = set(db.session.execute(sa.select(District.name_zh)).scalars())
    assert {"泰山区", "岱岳区", "新泰市", "肥城市", "宁阳县", "东平县", "泰安高新区", "泰山景区"} <= names


def test_demo_data_loads_once_and_leaves_a_sound_ledger(app, runner):
    first = runner.invoke(args=["seed", "demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "4 residents" in first.output
    again = runner.invoke(args=["seed", "demo", "--if-empty"])
    assert "left alone" in again.output
    assert runner.invoke(args=["seed", "demo"]).output.strip().endswith("nothing new")
    verify = runner.invoke(args=["ledger", "verify"])
    assert verify.exit_code == 0 and "no drift" in verify.output
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Resident)).scalar_one() == 4


def test_admin_create_makes_an_audited_administrator(app, runner, monkeypatch):
    monkeypatch.setenv("CARBON_ADMIN_PASSWORD", "a-long-enough-password")
    result = runner.invoke(args=["admin", "create", "--username", "Chief", "--role", "super_admin"])
    assert result.exit_code == 0, result.output
    duplicate = runner.invoke(args=["admin", "create", "--username", "chief"])
    assert duplicate.exit_code != 0 and "taken" in duplicate.output
    with app.app_context():
        admin = db.session.execute(sa.select(Administrator)).scalar_one()
        assert admin.username == "chief" and admin.password_hash != "a-long-enough-password"
        event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "admin.create")).scalar_one()
        assert event.actor_type == "cli"


def test_ledger_verify_reports_drift_per_account_and_fails(app, runner):
    with app.app_context():
        account_id = f.resident().account_id
        f.fund(account_id, 40)
        commit()
        # Balances are caches; corrupt one the way a bad manual fix would.
        db.session.execute(sa.update(CarbonAccount).where(CarbonAccount.id == account_id).values(points_available=41))
        commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    assert f"account {account_id} expected 40, found 41" in result.output
    with app.app_context():
        db.session.execute(sa.update(CarbonAccount).where(CarbonAccount.id == account_id).values(points_available=40))
        commit()


def test_ledger_settle_releases_and_expires_as_of_a_time(app, runner):
    with app.app_context():
        account_id = f.resident().account_id
        f.fund(account_id, 15, hold_days=2)
        commit()
    result = runner.invoke(args=["ledger", "settle", "--now", (utcnow() + timedelta(days=3)).isoformat()])
    assert result.exit_code == 0 and "settled: 1 account" in result.output
    with app.app_context():
        account = db.session.get(CarbonAccount, account_id)
        assert (account.points_available, account.points_pending) == (15, 0)


def test_release_and_expire_are_separate_idempotent_commands(app, runner):
    with app.app_context():
        account_id = f.resident().account_id
        f.fund(account_id, 15, hold_days=2, expires_in_days=10)
        commit()
    later = (utcnow() + timedelta(days=3)).isoformat()
    assert "expired: 0 account" in runner.invoke(args=["ledger", "expire", "--now", later]).output
    assert "released: 1 account" in runner.invoke(args=["ledger", "release", "--now", later]).output
    assert "released: 0 account" in runner.invoke(args=["ledger", "release", "--now", later]).output
    much_later = (utcnow() + timedelta(days=11)).isoformat()
    assert "expired: 1 account" in runner.invoke(args=["ledger", "expire", "--now", much_later]).output
    with app.app_context():
        account = db.session.get(CarbonAccount, account_id)
        assert (account.points_available, account.points_pending) == (0, 0)
