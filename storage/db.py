"""Engines and transactions for SQLite (embedded default) and PostgreSQL.

Timestamps are aware UTC datetimes everywhere. On SQLite every write transaction starts with
``BEGIN IMMEDIATE``, so that concurrent writers wait for the lock instead of failing on a
read-to-write upgrade; reads start a deferred transaction and never wait for writers (WAL).

Both engines hide statement parameters from their errors: a failed insert's parameters are a
reporter's name, address and words, and its error ends up in a log line and a row's ``error``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000

# psycopg prepares a statement after five runs; PostgreSQL's generic plan for it is chosen while
# the tables are small and then kept, even when it scans a whole backlog. Plan every execution.
POSTGRES_SESSION_OPTIONS = "-c plan_cache_mode=force_custom_plan"


def utcnow() -> datetime:
    """Now, in UTC (sqlmodel's UTCDateTime columns store and return aware values)."""
    return datetime.now(UTC)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def create_db_engine(url: str, *, pool_size: int = 8) -> Engine:
    """An engine tuned for the pipeline: WAL and immediate transactions on SQLite."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"options": POSTGRES_SESSION_OPTIONS},
    )


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        hide_parameters=True,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if not options.get(_WRITING, False):
            connection.exec_driver_sql("BEGIN")
            return
        durable = options.get(_DURABLE, True)
        connection.exec_driver_sql(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    # Writers of this process queue on a Python lock, which wakes the next one the moment the
    # last commits; SQLite's own busy handler would sleep in growing steps of up to 100 ms.
    return engine.execution_options(**{_WRITE_LOCK: threading.Lock()})


_WRITE_LOCK = "satupintu_sqlite_write_lock"
_WRITING = "satupintu_writing"
_DURABLE = "satupintu_durable"


@contextmanager
def transaction(engine: Engine, *, durable: bool = True) -> Iterator[Connection]:
    """One write transaction: committed when the block ends, rolled back if it raises.

    ``durable=False`` is for work that can be redone from what is already durable (a stage's
    progress): on SQLite its commit skips the fsync, and survives a crash of the process but
    maybe not of the machine. The next durable commit makes it durable too (WAL is in order).
    PostgreSQL commits every transaction durably.
    """
    lock: threading.Lock | None = engine.get_execution_options().get(_WRITE_LOCK)
    if lock is None:
        with engine.begin() as connection:
            yield connection
        return
    with lock, engine.connect() as connection:
        connection.execution_options(**{_WRITING: True, _DURABLE: durable})
        with connection.begin():
            yield connection


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction; on SQLite it does not wait for writers (WAL)."""
    with engine.connect() as connection, connection.begin():
        yield connection
