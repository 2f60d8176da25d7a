"""Database set-up (SQLite pragmas and its write lock, taken when a transaction first needs it; PostgreSQL
cursors that describe their results only when asked) and the one commit boundary."""

from __future__ import annotations

import fcntl
import functools
import os
import sqlite3
import threading
from collections.abc import Sequence

import psycopg
import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from werkzeug.routing import IntegerConverter, ValidationError

from carbon_platform.extensions import db
from carbon_platform.models.base import MAX_INT32, MAX_INT64
from points_rules.periods import _CITY_OFFSET

#: Statements that never need SQLite's write lock; anything else (INSERT, UPDATE, DELETE, DDL, SAVEPOINT…)
#: and every ``SELECT … FOR UPDATE`` takes it first.
_READS = frozenset({"SELECT", "PRAGMA", "EXPLAIN", "BEGIN", "COMMIT", "ROLLBACK"})


class _HeldQueues(threading.local):
    def __init__(self):
        self.paths: set[str] = set()  # the databases whose writers' queue this thread holds


class QueuedSQLiteConnection(sqlite3.Connection):
    """A SQLite connection whose writers queue for the write lock on an OS file lock beside the database.

    SQLite's own busy handler sleeps and retries (1, 2, 5 … 100 ms), so under several writers the lock
    often lies free while the next one sleeps. ``flock`` wakes a waiter the moment the lock is let go.
    The queue lock is held from ``BEGIN IMMEDIATE`` to the commit or rollback; the kernel lets it go if
    the process dies. A writer that does not queue (the ``sqlite3`` shell, say) still meets SQLite's
    ordinary busy timeout, and so does a second connection of a thread that already holds the queue: it
    could only wait for itself.
    """

    _held = _HeldQueues()

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        self._path = str(database)
        memory = self._path == ":memory:" or self._path.startswith("file::memory:") or "mode=memory" in self._path
        self._queue = None if memory else os.open(f"{self._path}-writers", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                                                  0o600)
        self._queued = False

    def begin_writing(self) -> None:
        """Wait for the write lock (queueing behind other writers) and open a write transaction."""
        if self._queue is not None and not self._queued and self._path not in self._held.paths:
            fcntl.flock(self._queue, fcntl.LOCK_EX)
            self._queued = True
            self._held.paths.add(self._path)
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._leave_queue()
            raise

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._leave_queue()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave_queue()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._close_queue()

    def __del__(self) -> None:  # a connection dropped without close() (the pool closes its own)
        self._close_queue()

    def _close_queue(self) -> None:
        self._leave_queue()
        queue, self._queue = getattr(self, "_queue", None), None
        if queue is not None:
            os.close(queue)

    def _leave_queue(self) -> None:
        if getattr(self, "_queued", False):
            self._queued = False
            self._held.paths.discard(self._path)
            fcntl.flock(self._queue, fcntl.LOCK_UN)


class LazyDescription(Sequence):
    """A result's ``cursor.description``, built from psycopg's own on first use."""

    __slots__ = ("_cursor", "_result", "_columns")

    def __init__(self, cursor: psycopg.Cursor, result):
        self._cursor, self._result, self._columns = cursor, result, None

    def _built(self) -> list:
        if self._columns is None:
            if self._cursor.pgresult is not self._result:  # psycopg describes only the cursor's current result
                raise RuntimeError("describe a result before the cursor executes again")
            self._columns = psycopg.Cursor.description.fget(self._cursor)
        return self._columns

    def __len__(self) -> int:
        return len(self._built())

    def __getitem__(self, index):
        return self._built()[index]


_RETURNS_ROWS = frozenset({psycopg.pq.ExecStatus.TUPLES_OK, psycopg.pq.ExecStatus.SINGLE_TUPLE,
                           psycopg.pq.ExecStatus.TUPLES_CHUNK})


class LazyDescriptionCursor(psycopg.Cursor):
    """A psycopg cursor whose ``description`` is a ``LazyDescription``.

    psycopg 3 builds ``description`` anew on every access: a ``Column`` per column, each asking libpq for
    its name, type and sizes (psycopg/psycopg#446; its PR #1240 was closed). SQLAlchemy reads it after
    every statement, yet once a compiled statement's result metadata is cached it only asks whether it is
    None. On a self-report (89 columns over 8 results) building them was 7% of the app's instructions.
    The None/not-None answer is psycopg's own.
    """

    @property
    def description(self) -> LazyDescription | None:
        result = self.pgresult
        if result and (result.nfields or result.status in _RETURNS_ROWS):  # the test psycopg makes
            return LazyDescription(self, result)
        return None


def engine_options(url: str, options: dict) -> dict:
    """``SQLALCHEMY_ENGINE_OPTIONS`` for ``url``: SQLite connections are ``QueuedSQLiteConnection``s and
    psycopg cursors ``LazyDescriptionCursor``s."""
    if url.startswith("sqlite"):
        connect_args = {"factory": QueuedSQLiteConnection}
    elif url.startswith("postgresql+psycopg:"):
        connect_args = {"cursor_factory": LazyDescriptionCursor}
    else:
        return options
    return {**options, "connect_args": {**connect_args, **options.get("connect_args", {})}}


def configure_engine(engine: Engine, *, busy_timeout_ms: int = 30_000, take_write_lock: bool = True) -> None:
    """Make SQLite safe for several writers; PostgreSQL needs nothing here.

    SQLite: WAL so readers never block the writer, foreign keys on, a busy timeout. Transactions begin
    deferred, so a request that only reads never waits for a writer. Before a transaction's first write,
    or its first ``SELECT … FOR UPDATE`` (which SQLite cannot express), it takes the database's write lock:
    its reads so far only held a snapshot, which is let go (``COMMIT`` of nothing written), and it goes on
    as ``BEGIN IMMEDIATE``, waiting for the lock. From there on it is the only writer, and reads see the
    latest data: the same guarantee PostgreSQL's row locks give the code after ``lock_accounts``, and the
    one that makes the ledger's guarded statements race-free. (A deferred transaction that read and then
    wrote could not wait for the lock: SQLite answers "database is locked" at once.)
    ``take_write_lock=False`` exists only for the test that proves the difference.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Hand transaction control to the events below (pysqlite otherwise opens deferred transactions
        # behind our back).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes under WAL
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.info["writing"] = False
        connection.exec_driver_sql("BEGIN")

    if not take_write_lock:
        return

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(connection, _cursor, statement, _parameters, context, _executemany):
        if connection.info.get("writing", True) or not _needs_write_lock(statement, context):
            return
        connection.info["writing"] = True
        dbapi_connection = connection.connection.dbapi_connection
        dbapi_connection.execute("COMMIT")  # nothing written yet: this only lets go of the read snapshot
        if isinstance(dbapi_connection, QueuedSQLiteConnection):
            dbapi_connection.begin_writing()
        else:
            dbapi_connection.execute("BEGIN IMMEDIATE")


def _needs_write_lock(statement: str, context) -> bool:
    compiled = getattr(context, "compiled", None)
    if compiled is not None and getattr(compiled.statement, "_for_update_arg", None) is not None:
        return True
    return statement.lstrip().split(None, 1)[0].upper() not in _READS


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


def init_app(app) -> None:
    # Before any route is registered: the API's and the console's ids are bounded alike.
    app.url_map.converters.update(int=IdConverter, bigint=BigIdConverter)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"],
                                                             app.config["SQLALCHEMY_ENGINE_OPTIONS"])
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
