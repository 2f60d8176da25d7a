"""Configuration, database set-up, migrations and health."""

from __future__ import annotations

import fcntl
import os
import sqlite3

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from carbon_platform import create_app
from carbon_platform.config import normalise_database_url
from carbon_platform.db import LazyDescriptionCursor
from carbon_platform.extensions import db
from tests import factories as f
from tests.conftest import TEST_CONFIG, dispose, make_app


def test_production_refuses_the_development_secret(tmp_path):
    with pytest.raises(RuntimeError, match="CARBON_SECRET_KEY"):
        create_app({"ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    with pytest.raises(RuntimeError, match="CARBON_SECRET_KEY"):
        create_app({"ENV": "production", "SECRET_KEY": "short", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_production_refuses_the_logging_sms_sender(tmp_path):
    with pytest.raises(RuntimeError, match="CARBON_SMS_SENDER"):
        create_app({"ENV": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_production_settings_start_with_secure_cookies(tmp_path):
    app = create_app({"ENV": "production", "SECRET_KEY": "x" * 40, "SMS_SENDER": "carbon_platform.sms:LogSender",
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


T = sa.table("t", sa.column("x"))  # a scratch table for the SQLite locking tests


def test_sqlite_connections_are_set_up_for_concurrent_writers(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/pragmas.db")
    with app.app_context():
        pragma = lambda name: db.session.execute(sa.text(f"PRAGMA {name}")).scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == TEST_CONFIG["SQLITE_BUSY_TIMEOUT_MS"]
        db.session.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        db.session.commit()
        other = sqlite3.connect(tmp_path / "pragmas.db", timeout=0, isolation_level=None)
        # A transaction that only reads leaves the write lock free for another writer.
        db.session.execute(sa.select(T.c.x)).all()
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        # Its first locking read (or write) takes the lock, and then another writer is refused…
        db.session.execute(sa.select(T.c.x).with_for_update()).all()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        db.session.rollback()
        other.execute("BEGIN IMMEDIATE")  # …until the transaction ends
        other.execute("ROLLBACK")
        # A write takes it too, and so does a savepoint (a rollback to one must not lose the lock).
        for statement in (sa.update(T).values(x=1), None):
            if statement is None:
                db.session.begin_nested()
                db.session.execute(sa.select(T.c.x)).all()  # the SAVEPOINT goes first
            else:
                db.session.execute(statement)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            db.session.rollback()
        other.close()
    dispose(app)


def test_sqlite_writers_queue_on_an_os_lock_held_until_commit_or_rollback(tmp_path):
    """Waiting writers are woken by the kernel the moment the lock is let go (not by SQLite's sleeps)."""
    app = make_app(f"sqlite:///{tmp_path}/queue.db")
    queue = os.open(tmp_path / "queue.db-writers", os.O_RDWR | os.O_CREAT)

    def queue_is_free() -> bool:
        try:
            fcntl.flock(queue, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(queue, fcntl.LOCK_UN)
        return True

    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        db.session.commit()
        db.session.execute(sa.select(T.c.x)).all()
        assert queue_is_free()
        for end in (db.session.commit, db.session.rollback):
            db.session.execute(sa.update(T).values(x=1))
            assert not queue_is_free()
            end()
            assert queue_is_free()
    os.close(queue)
    dispose(app)


def test_a_second_sqlite_writer_in_the_thread_holding_the_queue_is_refused_not_hung(tmp_path):
    """It could only wait for itself: it meets SQLite's busy timeout instead of the queue."""
    app = make_app(f"sqlite:///{tmp_path}/again.db", SQLITE_BUSY_TIMEOUT_MS=50)
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        db.session.commit()
        db.session.execute(sa.update(T).values(x=1))
        with db.engine.connect() as other, pytest.raises(sa.exc.OperationalError, match="locked"):
            other.execute(sa.update(T).values(x=2))
        db.session.rollback()
        with db.engine.connect() as other:  # and once the first has let go, the second writes
            other.execute(sa.update(T).values(x=2))
            other.commit()
    dispose(app)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # psycopg's cursors: PostgreSQL only
def test_postgresql_cursors_describe_results_as_psycopg_does_when_asked(app):
    with app.app_context(), db.engine.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()
        assert isinstance(cursor, LazyDescriptionCursor)
        cursor.execute("SELECT 1 AS one, 'x'::text AS word")
        plain = psycopg.Cursor.description.fget(cursor)
        described = cursor.description
        assert [(c.name, c.type_code) for c in described] == [(c.name, c.type_code) for c in plain] \
            == [("one", 23), ("word", 25)]
        assert len(described) == 2 and described[1].name == "word"
        cursor.execute("SELECT")  # a result with rows but no columns is described, as psycopg does
        assert cursor.description is not None and len(cursor.description) == 0
        cursor.execute("CREATE TEMPORARY TABLE t (x int)")
        assert cursor.description is None  # no result rows: None, as psycopg says
        cursor.execute("SELECT 2 AS two")
        early = cursor.description
        cursor.execute("SELECT 3 AS three")
        with pytest.raises(RuntimeError, match="before the cursor executes again"):
            len(early)  # never the wrong result's columns
        assert [c.name for c in cursor.description] == ["three"]
        # SQLAlchemy reads names through it the first time a statement runs, and results work as ever.
        assert connection.execute(sa.text("SELECT 4 AS four, 5 AS five")).mappings().one() == {"four": 4, "five": 5}
        cursor.close()


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
