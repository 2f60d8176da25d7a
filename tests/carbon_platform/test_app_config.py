"""Configuration, database set-up, migrations and health."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from carbon_platform import create_app
from carbon_platform.config import normalise_database_url
from carbon_platform.extensions import db
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


def test_the_default_database_is_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("CARBON_DATABASE_URL", raising=False)
    app = create_app({"SMS_SENDER": "memory"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/carbon.db"
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


def test_sqlite_connections_are_set_up_for_concurrent_writers(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/pragmas.db")
    with app.app_context():
        pragma = lambda name: db.session.execute(sa.text(f"PRAGMA {name}")).scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == TEST_CONFIG["SQLITE_BUSY_TIMEOUT_MS"]
        # The write lock is taken when the transaction begins: after a mere read, another writer is refused.
        db.session.execute(sa.text("SELECT 1"))
        other = sqlite3.connect(tmp_path / "pragmas.db", timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        db.session.rollback()
        other.execute("BEGIN IMMEDIATE")  # and released at the end of the transaction
        other.execute("ROLLBACK")
        other.close()
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
