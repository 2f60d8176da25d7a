"""Database set-up (SQLite pragmas, write locks taken up front) and the one commit boundary."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from carbon_platform.extensions import db
from points_rules.periods import _CITY_OFFSET


def configure_engine(engine: Engine, *, busy_timeout_ms: int = 30_000, immediate: bool = True) -> None:
    """Make SQLite safe for several writers; PostgreSQL needs nothing here.

    SQLite: WAL so readers never block the writer, foreign keys on, a busy timeout, and every
    transaction opened with ``BEGIN IMMEDIATE``. A deferred transaction that reads and then writes
    cannot wait for the lock (SQLite answers "database is locked" at once), and there is no
    ``SELECT … FOR UPDATE``; taking the write lock up front makes the guarded statements of the
    ledger race-free. ``immediate=False`` exists only for the test that proves the difference.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Hand transaction control to SQLAlchemy's "begin" event below (pysqlite otherwise
        # opens deferred transactions behind our back).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes under WAL
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def init_app(app) -> None:
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"])


def commit() -> None:
    """The single place a request or CLI command commits; services only flush."""
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def insert_ignoring_conflicts(model, index_elements: list[str]):
    """``INSERT … ON CONFLICT (cols) DO NOTHING`` for whichever database is bound."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model).on_conflict_do_nothing(index_elements=index_elements)


def next_ids(table: sa.Table, count: int) -> list[int]:
    """``count`` ids for rows of ``table`` about to be inserted, so that rows referring to them can be
    written in the same round of statements (no INSERT … RETURNING, no UPDATE afterwards).

    PostgreSQL draws them from the table's sequence. SQLite takes the ids after the largest: safe
    because every SQLite transaction here holds the database's write lock from its first statement
    (``BEGIN IMMEDIATE``, see ``configure_engine``), so no other writer can take them meanwhile.
    """
    if count == 0:
        return []
    if db.engine.dialect.name == "postgresql":
        return list(db.session.execute(
            sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
            {"table": table.name, "count": count}).scalars())
    largest = db.session.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()
    return list(range(largest + 1, largest + 1 + count))


class city_date(FunctionElement):  # noqa: N801 - reads as the SQL function it compiles to
    """The Beijing calendar date of a UTC timestamp column, as 'YYYY-MM-DD' text."""

    type = sa.String()
    inherit_cache = True


@compiles(city_date)
def _city_date_default(element, compiler, **kw):  # str(statement), for reading it; never sent to a database
    return f"city_date({compiler.process(element.clauses, **kw)})"


@compiles(city_date, "sqlite")
def _city_date_sqlite(element, compiler, **kw):
    # SQLite keeps UTC text; China has kept one offset since 1991 (points_rules.periods checks it).
    hours = int(_CITY_OFFSET.total_seconds() // 3600)
    return f"date({compiler.process(element.clauses, **kw)}, '{hours:+d} hours')"


@compiles(city_date, "postgresql")
def _city_date_postgresql(element, compiler, **kw):
    return f"to_char(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM-DD')"
