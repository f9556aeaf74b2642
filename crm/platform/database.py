"""Database plumbing: UTC timestamps, SQLite pragmas and immediate write transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from crm.platform.extensions import db

# The largest id our tables hold: every id column is INTEGER, 32 bits on PostgreSQL. Anything
# above is no row's id, and the driver refuses to bind it (a 500) rather than find nothing.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


SQLITE_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
# PostgreSQL: lock or statement timeout, serialisation conflict, deadlock, server shutting down,
# starting up or out of connections; class 08 is any connection failure.
POSTGRES_TRANSIENT_STATES = frozenset(
    {"55P03", "57014", "40001", "40P01", "57P01", "57P03", "53300"}
)


def is_transient(error: SQLAlchemyError) -> bool:
    """Whether a failed write may succeed if simply tried again: the database was busy, locked
    or out of reach. A missing table or a broken constraint is a fault, and retrying won't help."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    cause = getattr(error, "orig", None)
    if isinstance(cause, sqlite3.Error):
        code = getattr(cause, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in SQLITE_BUSY_CODES
    state = getattr(cause, "sqlstate", None)
    if state:
        return state.startswith("08") or state in POSTGRES_TRANSIENT_STATES
    # No code to go by (e.g. a server that refused the connection): treat it as away.
    return isinstance(error, OperationalError)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores none of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """How long to wait for a lock before giving up, on either database; and for SQLite,
    WAL, foreign keys and BEGIN IMMEDIATE for write transactions.

    pysqlite's own transaction handling defers BEGIN and cannot start an immediate transaction,
    so we switch it off and emit BEGIN ourselves (the recipe in SQLAlchemy's SQLite notes).
    """
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _on_pg_connect(dbapi_connection: Any, _record: Any) -> None:
            # A request waits this long for a row or table lock, then fails (503) instead of
            # hanging a worker; the same budget SQLite gets from its busy timeout.
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET lock_timeout = {int(busy_timeout_ms)}")
            cursor.close()
            dbapi_connection.commit()

        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction() -> Iterator[Session]:
    """One write transaction that commits on success and rolls back on any error.

    On SQLite it begins IMMEDIATE, taking the write lock up front (waiting up to the busy
    timeout) instead of failing half-way when a read transaction tries to upgrade.
    """
    session = db.session()
    if session.in_transaction():
        # A read snapshot from earlier in the request; writes start their own transaction.
        session.commit()
    session.connection(execution_options={"sqlite_immediate": True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
