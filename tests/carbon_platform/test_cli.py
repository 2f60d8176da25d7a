"""The carbon-platform console script: seeding, administrators, ledger verify and settle."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner, Result
from flask.cli import ScriptInfo

from carbon_platform import cli
from carbon_platform.cli import main
from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.extensions import db
from carbon_platform.models import (
    Action,
    ActionStatus,
    Administrator,
    AuditEvent,
    Binding,
    BindingKind,
    BindingStatus,
    CarbonAccount,
    District,
    Household,
    Resident,
    RulebookStatus,
    RulebookVersion,
)
from carbon_platform.services import rulebooks
from tests import factories as f
from tests.conftest import dispose


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


def test_the_demo_household_has_a_bound_meter_and_one_credited_month(app, runner):
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    with app.app_context():
        household = db.session.execute(sa.select(Household).where(Household.name == "红门路一家")).scalar_one()
        (meter,) = db.session.execute(sa.select(Binding).where(Binding.account_id == household.account_id)).scalars()
        assert (meter.kind, meter.status, meter.last4) == (BindingKind.ELECTRICITY_METER, BindingStatus.ACTIVE, "3456")
        (month,) = db.session.execute(sa.select(Action).where(Action.scenario == "electricity_saving")).scalars()
        # 38 kWh saved × 641 g = 24,358 g, 4,871 points, on the household's account and nobody else's
        assert (month.account_id, month.status, month.grams, month.points) == \
            (household.account_id, ActionStatus.CREDITED, 24358, 4871)
        assert household.account.reduction_grams == 24358 and household.account.points_pending == 4871
        assert month.receipt["methodology_version"] == "TA-SAVE-2026.3"
    assert runner.invoke(args=["seed", "demo"]).output.strip().endswith("nothing new")


def test_the_demo_publishes_the_corrected_rulebooks_through_dual_control(app, runner):
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    with app.app_context():
        versions = db.session.execute(sa.select(RulebookVersion).order_by(RulebookVersion.id)).scalars().all()
        assert [(v.version, v.status) for v in versions] == [("2026.1", RulebookStatus.PUBLISHED),
                                                             ("2026.2", RulebookStatus.PUBLISHED),
                                                             ("2026.3", RulebookStatus.PUBLISHED),
                                                             ("2026.4", RulebookStatus.PUBLISHED)]
        names = {a.id: a.username for a in db.session.execute(sa.select(Administrator)).scalars()}
        for base, correction in zip(versions, versions[1:], strict=False):
            # drafted and submitted by one administrator, approved by another, based on the version it corrects
            assert (names[correction.created_by_id], names[correction.submitted_by_id],
                    names[correction.decided_by_id]) == ("operator", "operator", "admin")
            assert correction.based_on_id == base.id
            assert correction.effective_from >= base.effective_from
        assert rulebooks.rules_in_force(utcnow()).rulebook.version == "2026.4"
        # the demo's actions, all in the past, keep the version that judged them; the household's meter reading
        # is sent after the corrections, so the newest (2026.4, with 2026.3's baseline rule) judged it
        judged = dict(db.session.execute(sa.select(Action.scenario, Action.rulebook_version_id)).all())
        assert judged.pop("electricity_saving") == versions[-1].id
        assert set(judged.values()) == {versions[0].id}
        events = [e.action for e in db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action.like("rulebook.%")).order_by(AuditEvent.id)).scalars()]
        assert events[-3:] == ["rulebook.draft", "rulebook.submit", "rulebook.publish"]
    assert runner.invoke(args=["seed", "demo"]).output.strip().endswith("nothing new")


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


def run_cli(args: list[str], **env) -> Result:
    """The console script itself (not the test app's CLI), with only the given CARBON_ settings."""
    env = {"CARBON_DATABASE_URL": None, "CARBON_INSTANCE_PATH": None, "CARBON_SMS_SENDER": "memory", **env}
    made = []

    def create_app():  # the script's own factory, kept to close its connections (the process would exit)
        made.append(cli._create_app())
        return made[-1]

    try:
        result = CliRunner().invoke(main, args, env=env, obj=ScriptInfo(create_app=create_app, set_debug_flag=False))
    finally:
        for app in made:
            dispose(app)
    # A ClickException ends as SystemExit(1) with its one line; anything else is the traceback we refuse.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def test_without_a_database_url_the_cli_uses_the_one_documented_default_and_never_creates_it_silently(tmp_path):
    # The default location is a SQLite file by definition, so this case has no PostgreSQL twin; the next test
    # runs on both databases.
    default = tmp_path / "carbon-platform" / "carbon.db"
    refused = run_cli(["seed", "reference"], XDG_DATA_HOME=str(tmp_path))
    assert refused.exit_code == 1 and not default.exists()
    assert refused.output.strip().splitlines() == [
        f"Error: no database at {default} (CARBON_DATABASE_URL to use another): run `carbon-platform db upgrade`"]
    built = run_cli(["db", "upgrade"], XDG_DATA_HOME=str(tmp_path))
    assert built.exit_code == 0 and f"database: {default}" in built.output and default.exists()
    assert "reference data: 10 districts" in run_cli(["seed", "reference"], XDG_DATA_HOME=str(tmp_path)).output
    moved = tmp_path / "elsewhere"
    assert f"no database at {moved / 'carbon.db'} " in run_cli(["ledger", "verify"], XDG_DATA_HOME=str(tmp_path),
                                                                CARBON_INSTANCE_PATH=str(moved)).output
    # `make run` runs this same console script and sets no location, so it uses this same default.
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "CARBON_DATABASE_URL" not in makefile and "CARBON_INSTANCE_PATH" not in makefile


def test_a_command_against_a_database_without_the_schema_says_run_db_upgrade_in_one_line(database, tmp_path):
    if database.name == "sqlite":
        path = tmp_path / "empty.db"
        sqlite3.connect(path).close()  # the file exists, with no tables in it
        url = f"sqlite:///{path}"
    else:
        engine = sa.create_engine(database.url)
        with engine.begin() as connection:  # an empty schema in our own test database
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS cli_empty CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA cli_empty")
        url = f"{database.url}?options=-csearch_path%3Dcli_empty"
    try:
        for args in (["seed", "reference"], ["ledger", "verify"], ["admin", "create", "--username", "x"], ["serve"]):
            result = run_cli(args, CARBON_DATABASE_URL=url)
            assert result.exit_code == 1, (args, result.output)
            [line] = result.output.strip().splitlines()
            assert line.startswith("Error: the database at ") and line.endswith(
                " has no schema: run `carbon-platform db upgrade`"), line
    finally:
        if database.name == "postgresql":
            with engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA cli_empty CASCADE")
            engine.dispose()


def test_rules_commands_need_no_database(tmp_path):
    # A rulebook file is checked, or simulated, before any database exists (a fresh clone, a reviewer's laptop).
    seeds = Path(__file__).resolve().parents[2] / "seeds"
    checked = run_cli(["rules", "check", str(seeds / "rulebook-2026.2.yaml")], XDG_DATA_HOME=str(tmp_path))
    assert checked.exit_code == 0, checked.output
    assert "ok — taian 2026.2: 15 scenarios" in checked.output
    assert not (tmp_path / "carbon-platform" / "carbon.db").exists()



def test_every_scenario_of_the_demo_can_be_credited(app, runner):
    # Issue #17's done-when: no scenario lacks a channel that can credit it (a partner of its kind, a merchant
    # offering its check-in, or the app), in the demo as `make run` shows it.
    from carbon_platform.services import reach

    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    with app.app_context():
        rulebook = rulebooks.rules_in_force(utcnow()).rulebook
        channels = reach.Reach(rulebook)
        stuck = {s.id: [(c.channel, c.reason) for c in channels.of(s)] for s in rulebook.scenarios.values()
                 if not any(c.creditable for c in channels.of(s))}
        assert stuck == {}
        assert len(rulebook.scenarios) == 15
