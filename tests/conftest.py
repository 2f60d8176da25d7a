"""Fixtures: an app per test on SQLite and on PostgreSQL, a fresh database each time, and the
ledger's invariants checked after every test that touched a database.

PostgreSQL runs when CARBON_TEST_DATABASE_URL is set (CI sets it) and is skipped with a visible
reason otherwise; with CARBON_TEST_REQUIRE_POSTGRESQL=1 (CI) an unreachable server fails instead.
The schema is built once per backend by the real migrations, never by create_all.
"""

from __future__ import annotations

import os
import shutil

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from carbon_platform import create_app
from carbon_platform.config import normalise_database_url
from carbon_platform.extensions import db
from carbon_platform.services import invariants

PG_URL = os.environ.get("CARBON_TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("CARBON_TEST_REQUIRE_POSTGRESQL") == "1"
BACKENDS = ["sqlite", "postgresql"]

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    "SMS_SENDER": "memory",
    "RATELIMIT_STORAGE_URI": "memory://",
    "SQLITE_BUSY_TIMEOUT_MS": 60_000,
    # Up to 70 connections (PostgreSQL allows 100 here); more threads than that wait their turn.
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 10, "max_overflow": 60, "pool_timeout": 120},
}


def make_app(database_url: str, **overrides):
    return create_app({**TEST_CONFIG, "DATABASE_URL": database_url, **overrides})


def dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class SqliteDatabase:
    name = "sqlite"

    def __init__(self, tmp_path_factory):
        self.template = tmp_path_factory.mktemp("sqlite-template") / "template.db"
        app = make_app(f"sqlite:///{self.template}")
        with app.app_context():
            upgrade()
        dispose(app)

    def fresh_url(self, tmp_path) -> str:
        path = tmp_path / "carbon.db"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"


class PostgresDatabase:
    name = "postgresql"

    def __init__(self, url: str):
        self.url = normalise_database_url(url)
        engine = sa.create_engine(self.url)
        with engine.begin() as connection:  # start from nothing: the test database is ours
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
        app = make_app(self.url)
        with app.app_context():
            upgrade()
            self.tables = [t for t in sa.inspect(db.engine).get_table_names() if t != "alembic_version"]
        dispose(app)

    def fresh_url(self, tmp_path) -> str:
        engine = sa.create_engine(self.url)
        with engine.begin() as connection:
            # TRUNCATE does not fire the append-only row triggers; the app's own code never truncates.
            connection.exec_driver_sql(f"TRUNCATE {', '.join(self.tables)} RESTART IDENTITY CASCADE")
        engine.dispose()
        return self.url


def postgres_reachable(url: str) -> str | None:
    """None if reachable, otherwise why not."""
    if not url:
        return "CARBON_TEST_DATABASE_URL is not set"
    try:
        engine = sa.create_engine(normalise_database_url(url))
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # any failure to connect is a reason to skip (or, in CI, to fail)
        return f"PostgreSQL at {url} is unreachable: {exc.__class__.__name__}"
    return None


@pytest.fixture(scope="session", params=BACKENDS)
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        return SqliteDatabase(tmp_path_factory)
    reason = postgres_reachable(PG_URL)
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL tests are required here but cannot run: {reason}")
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    return PostgresDatabase(PG_URL)


@pytest.fixture
def backend(database) -> str:
    return database.name


@pytest.fixture
def app(database, tmp_path):
    app = make_app(database.fresh_url(tmp_path), UPLOAD_FOLDER=str(tmp_path / "uploads"))
    yield app
    with app.app_context():
        drifts = invariants.verify()
    dispose(app)
    assert not drifts, "ledger invariants broken:\n" + "\n".join(map(str, drifts))


@pytest.fixture
def ctx(app):
    """An application context for calling services directly."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# -- Browsers: one Playwright for the whole run. The console's tests (tests/browser) and the H5 client's
# (tests/h5) share it: a second sync_playwright() in the same process fails ("Sync API inside the asyncio loop").
CHROMIUM = os.environ.get("CARBON_TEST_CHROMIUM", "/usr/bin/chromium")


def require_browser(reason: str):
    """Skip with the reason, or fail where browser tests are required (CI: CARBON_TEST_REQUIRE_BROWSER=1)."""
    if os.environ.get("CARBON_TEST_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_api():
    if not os.access(CHROMIUM, os.X_OK):
        require_browser(f"no chromium at {CHROMIUM} (make test installs Debian's with apt)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        yield playwright
