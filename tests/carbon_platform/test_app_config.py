"""Configuration, database set-up, migrations and health."""

from __future__ import annotations

import base64
import sqlite3
import time

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import event

from carbon_platform import create_app
from carbon_platform.config import normalise_database_url
from carbon_platform.db import SAFE_METHODS, will_write
from carbon_platform.extensions import csrf, db
from tests import factories as f
from tests.concurrency import run_concurrently
from tests.conftest import TEST_CONFIG, dispose, make_app


def test_production_refuses_the_development_secret(tmp_path):
    with pytest.raises(RuntimeError, match="CARBON_SECRET_KEY"):
        create_app({"ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    with pytest.raises(RuntimeError, match="CARBON_SECRET_KEY"):
        create_app({"ENV": "production", "SECRET_KEY": "short", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_production_refuses_the_logging_sms_sender(tmp_path):
    with pytest.raises(RuntimeError, match="CARBON_SMS_SENDER"):
        create_app({"ENV": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_production_refuses_to_sign_statements_with_a_derived_key(tmp_path):
    with pytest.raises(RuntimeError, match="CARBON_STATEMENT_SIGNING_KEY"):
        create_app({"ENV": "production", "SECRET_KEY": "x" * 40, "SMS_SENDER": "carbon_platform.sms:LogSender",
                    "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_production_settings_start_with_secure_cookies(tmp_path):
    app = create_app({"ENV": "production", "SECRET_KEY": "x" * 40, "SMS_SENDER": "carbon_platform.sms:LogSender",
                      "STATEMENT_SIGNING_KEY": base64.b64encode(bytes(range(32))).decode(),
                      "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    dispose(app)


def test_settings_come_from_carbon_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("CARBON_OTP_TTL_SECONDS", "600")
    monkeypatch.setenv("CARBON_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("CARBON_REDIS_URL", "redis://127.0.0.1:6379/3")
    app = create_app({"SMS_SENDER": "memory"})
    assert app.config["OTP_TTL_SECONDS"] == 600
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.db"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"
    dispose(app)


def test_the_default_database_is_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("CARBON_DATABASE_URL", raising=False)
    monkeypatch.delenv("CARBON_INSTANCE_PATH", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    app = create_app({"SMS_SENDER": "memory"})
    # Whatever the current directory and however the package is installed (see config.instance_path).
    assert app.instance_path == str(tmp_path / "carbon-platform")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/carbon-platform/carbon.db"
    assert app.config["UPLOAD_FOLDER"] == str(tmp_path / "carbon-platform" / "uploads")
    dispose(app)
    monkeypatch.setenv("CARBON_INSTANCE_PATH", str(tmp_path / "mine"))
    app = create_app({"SMS_SENDER": "memory"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/mine/carbon.db"
    dispose(app)


@pytest.mark.parametrize("url, expected", [
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+psycopg2://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_postgresql_always_uses_psycopg_3(url, expected):
    assert normalise_database_url(url) == expected


T = sa.table("t", sa.column("x"))  # a scratch table for the SQLite transaction tests


def scratch_app(tmp_path, name: str, **overrides):
    """An app on a SQLite file of its own with one scratch table ``t`` holding one row, ``x = 0``."""
    app = make_app(f"sqlite:///{tmp_path}/{name}.db", **overrides)
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        db.session.execute(sa.text("INSERT INTO t (x) VALUES (0)"))
        db.session.commit()
    return app


def test_sqlite_connections_are_set_up_for_concurrent_writers(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/pragmas.db")
    with app.app_context():
        pragma = lambda name: db.session.execute(sa.text(f"PRAGMA {name}")).scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == TEST_CONFIG["SQLITE_BUSY_TIMEOUT_MS"]
        assert pragma("synchronous") == 1  # NORMAL
    dispose(app)


def test_a_request_that_writes_begins_immediate_and_a_get_does_not(tmp_path):
    app = scratch_app(tmp_path, "begins")

    @csrf.exempt
    def probe():
        return {"x": db.session.execute(sa.select(T.c.x)).scalar_one()}

    app.add_url_rule("/probe", view_func=probe, methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"])
    begins = []

    def record_begin(_connection, _cursor, statement, *_):
        if statement.startswith("BEGIN"):
            begins.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record_begin)
    client = app.test_client()
    for method in ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"):
        begins.clear()
        assert client.open("/probe", method=method).status_code == 200
        assert begins == (["BEGIN"] if method in SAFE_METHODS else ["BEGIN IMMEDIATE"]), method
    dispose(app)


def test_a_unit_of_work_that_will_write_begins_every_transaction_immediate(tmp_path):
    """A CLI job commits every so often: each of its transactions is a write transaction."""
    app = scratch_app(tmp_path, "sticky")
    with app.app_context():
        other = sqlite3.connect(tmp_path / "sticky.db", timeout=0, isolation_level=None)
        db.session.execute(sa.select(T.c.x)).all()  # not declared: a read leaves the write lock free
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        db.session.rollback()
        will_write()
        for end in (db.session.commit, db.session.rollback, db.session.commit):
            db.session.execute(sa.select(T.c.x)).all()  # the first read already holds the lock
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            end()
            other.execute("BEGIN IMMEDIATE")  # until the transaction ends
            other.execute("ROLLBACK")
        other.close()
    dispose(app)


def read_then_add_one() -> None:
    """Read ``x`` and write ``x + 1``: the shape of every check-then-write in the services."""
    x = db.session.execute(sa.select(T.c.x)).scalar_one()
    db.session.execute(sa.update(T).values(x=x + 1))


def test_deferred_transactions_that_read_then_write_fail_at_once(tmp_path):
    """What BEGIN IMMEDIATE prevents: two deferred transactions read, then both write. SQLite cannot let the
    second wait for the lock (its snapshot could be stale by then), so it answers "database is locked" at
    once, whatever the busy timeout."""
    app = scratch_app(tmp_path, "deferred", SQLITE_BUSY_TIMEOUT_MS=30_000)
    with app.app_context(), db.engine.connect() as first, db.engine.connect() as second:
        for connection in (first, second):
            connection.execute(sa.select(T.c.x)).all()  # both hold a read snapshot
        first.execute(sa.update(T).values(x=1))
        started = time.monotonic()
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):
            second.execute(sa.update(T).values(x=2))
        assert time.monotonic() - started < 5  # refused, not waited for
    dispose(app)


@pytest.mark.concurrency
def test_two_threads_that_will_write_both_succeed_on_sqlite(tmp_path):
    """The same read-then-write from two threads at once, each unit of work declared (``run_concurrently``
    calls ``will_write``): the second waits for the first, and neither is refused. 20 times over."""
    app = scratch_app(tmp_path, "writers")
    for repetition in range(20):
        outcomes = run_concurrently(app, lambda _i: read_then_add_one(), 2)
        assert not outcomes.errors, f"repetition {repetition}: {outcomes.errors}"
        assert len(outcomes.ok) == 2
    with app.app_context():
        assert db.session.execute(sa.select(T.c.x)).scalar_one() == 40  # no update lost
    dispose(app)


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       db.metadata)
    assert differences == []


def test_migrations_go_down_to_nothing_and_up_again(app):
    with app.app_context():
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "journals" in sa.inspect(db.engine).get_table_names()


def test_health_is_ok_when_migrations_are_current(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok" and response.json["migrations"] == "current"


def test_health_says_when_migrations_are_behind(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/never-migrated.db")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["migrations"] == "behind"
    dispose(app)


def test_health_says_when_the_database_is_unreachable(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/no/such/dir/x.db")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"
    dispose(app)


def _codes_from(app, *addresses: str) -> list[int]:
    """Statuses of login-code requests from clients at ``addresses``, as a proxy would forward them."""
    client = app.test_client()
    return [client.post("/api/v1/auth/codes", json={"phone": f.phone()},
                        headers={"X-Forwarded-For": address}).status_code for address in addresses]


@pytest.mark.parametrize("hops, statuses", [
    (1, [202, 202, 429]),  # two residents behind the proxy, two buckets; the first one's second try is held
    (0, [202, 429, 429]),  # no proxy trusted: the header is anyone's to send, so it is ignored
])
def test_trusted_proxy_hops_give_each_forwarded_address_its_own_bucket(database, tmp_path, hops, statuses):
    app = make_app(database.fresh_url(tmp_path), TRUSTED_PROXY_HOPS=hops, OTP_SEND_LIMIT_PER_IP="1 per hour")
    assert _codes_from(app, "203.0.113.7", "198.51.100.9", "203.0.113.7") == statuses
    dispose(app)


def test_only_the_trusted_number_of_hops_is_believed(database, tmp_path):
    app = make_app(database.fresh_url(tmp_path), TRUSTED_PROXY_HOPS=1, OTP_SEND_LIMIT_PER_IP="1 per hour")
    # A client that sends its own X-Forwarded-For cannot pick its bucket: the proxy appends the real address,
    # and only that last entry is trusted.
    assert _codes_from(app, "1.1.1.1, 203.0.113.7", "2.2.2.2, 203.0.113.7") == [202, 429]
    dispose(app)


@pytest.mark.parametrize("hops", [-1, "1", True, 1.5, 11])
def test_trusted_proxy_hops_must_be_a_small_whole_number(tmp_path, hops):
    with pytest.raises(RuntimeError, match="CARBON_TRUSTED_PROXY_HOPS"):
        create_app({**TEST_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "TRUSTED_PROXY_HOPS": hops})
