"""Database set-up (SQLite the documented way: pragmas, and ``BEGIN IMMEDIATE`` for a unit of work that will
write), the URL converters for ids, and the one commit boundary."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence

import sqlalchemy as sa
from flask import request
from sqlalchemy import Engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from werkzeug.routing import IntegerConverter, ValidationError

from carbon_platform.extensions import db
from carbon_platform.models.base import MAX_INT32, MAX_INT64
from points_rules.periods import _CITY_OFFSET

#: The execution option a connection carries when its transactions will write (see ``will_write``).
WRITES = "carbon_writes"

#: The methods that never write (RFC 9110's safe methods): their requests read in deferred transactions.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure_engine(engine: Engine, *, busy_timeout_ms: int = 30_000) -> None:
    """Set SQLite up for several writers, as SQLAlchemy's pysqlite documentation shows ("Serializable
    isolation / Savepoints / Transactional DDL"); PostgreSQL needs nothing here.

    On connect, the driver hands transaction control to SQLAlchemy (``isolation_level = None``; pysqlite
    would otherwise open deferred transactions of its own), and the pragmas are set: WAL so that readers
    never block the writer, foreign keys on, a busy timeout, and ``synchronous=NORMAL``. On begin, a
    connection whose unit of work will write (``will_write``) emits ``BEGIN IMMEDIATE``: it waits for the
    database's one write lock before its first read, so what it reads is the latest data and no other
    writer can change it before it commits. Every other transaction emits ``BEGIN`` (deferred) and never
    waits for a writer. A deferred transaction that read and then wrote could not wait for the lock:
    SQLite answers "database is locked" at once, which is why a writer asks up front.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes under WAL
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITES) else "BEGIN")


def will_write() -> None:
    """Declare that the current unit of work (a request, a CLI command, a worker thread) will write.

    Every transaction its session begins from now on, until the session ends with its app context, is a
    write transaction: ``BEGIN IMMEDIATE`` on SQLite (see ``configure_engine``), so a job that commits every
    so often keeps writing safely; PostgreSQL, whose row locks do the same work, ignores it. Call it before
    the session's first statement: a transaction already begun keeps the kind it began as. Unsafe requests
    ask for it in a ``before_request`` hook (``init_app``); CLI commands that write, and code that writes
    from several threads, call it themselves.
    """
    session = db.session()
    session.execution_options = session.execution_options.union({WRITES: True})


def _unsafe_requests_write() -> None:
    """``before_request``: a request whose method is not safe is a unit of work that writes."""
    if request.method not in SAFE_METHODS:
        will_write()


#: The integers the databases store: ``Integer`` columns (most ids) and ``BigInt`` ones (amounts, the ids of
#: high-volume rows). PostgreSQL refuses a larger value even in a comparison (``id = %s::INTEGER``).


class IdConverter(IntegerConverter):
    """``<int:…>`` in every URL, bounded to an ``Integer`` column: a larger id matches no route (404) rather than
    reaching the database (PostgreSQL's "integer out of range", SQLite's OverflowError: a 500)."""

    largest = MAX_INT32

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # Werkzeug's signature
        super().__init__(map, fixed_digits, min, self.largest if max is None else max, signed)

    def to_python(self, value: str):
        if len(value) > len(str(MAX_INT64)):
            raise ValidationError()  # before int(): Python refuses to convert strings of over 4,300 digits
        return super().to_python(value)


class BigIdConverter(IdConverter):
    """``<bigint:…>``: the id of a ``BigInt`` primary key (actions, evidence, vouchers, journals…)."""

    largest = MAX_INT64


def json_text(value) -> str:
    """JSON columns hold Chinese as itself, not ``\\u6cf0`` escapes, so a dump or a SQL console reads as text.
    Both spellings load to the same value: rows written before stay valid and are not rewritten."""
    return json.dumps(value, ensure_ascii=False)


def init_app(app) -> None:
    # Before any route is registered: the API's and the console's ids are bounded alike.
    app.url_map.converters.update(int=IdConverter, bigint=BigIdConverter)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"json_serializer": json_text,
                                               **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"])
    app.before_request(_unsafe_requests_write)  # the first hook: before anything in the request reads


def commit() -> None:
    """The single place a request or CLI command commits; services only flush."""
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def insert_ignoring_conflicts(model, index_elements: Sequence[str], returning: Sequence[str] = ()) -> sa.Insert:
    """``INSERT … ON CONFLICT (cols) DO NOTHING`` for whichever database is bound, ``RETURNING`` the columns
    named in ``returning``. Built once for each database and arguments, because a statement built anew is
    analysed anew on every execution: on hot paths, give the rows when executing, not with ``.values()``."""
    return _insert_ignoring(db.engine.dialect.name, model, tuple(index_elements), tuple(returning))


@functools.cache
def _insert_ignoring(dialect: str, model, index_elements: tuple[str, ...], returning: tuple[str, ...]) -> sa.Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).on_conflict_do_nothing(index_elements=list(index_elements))
    if returning:
        columns = getattr(model, "__table__", model).c
        statement = statement.returning(*(columns[name] for name in returning))
    return statement


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
