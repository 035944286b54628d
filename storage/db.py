"""Engine and session factory for SQLite (the default) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000


def normalise_url(url: str | URL) -> URL:
    """Use psycopg 3 for plain `postgresql://` URLs (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; NORMAL is durable enough with WAL;
    # foreign keys are off in SQLite unless asked for on every connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # Take SQLite's write lock at BEGIN, so two writers queue on busy_timeout instead of
    # failing with "database is locked" when a read transaction tries to upgrade.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _tune_sqlite)
        # pysqlite's own transaction handling is switched off so BEGIN IMMEDIATE is ours.
        event.listen(
            engine,
            "connect",
            lambda dbapi_connection, _record: setattr(dbapi_connection, "isolation_level", None),
        )
        event.listen(engine, "begin", _begin_immediate)
        return engine
    # pre_ping replaces connections that died while the database restarted.
    return create_engine(
        parsed, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=5
    )


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


class WalCheckpointer:
    """Moves SQLite's write-ahead log into the database file every few seconds, off the
    request path; PASSIVE never blocks readers or writers."""

    INTERVAL_SECONDS = 5.0

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # Checkpoints run on this thread, not inside whichever request happens to commit the
        # thousandth page (that request would wait for the database file's fsync).
        event.listen(engine, "connect", _no_autocheckpoint)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def checkpoint(self, mode: str = "PASSIVE") -> bool:
        # Outside any transaction: the engine would open one (BEGIN IMMEDIATE) around a
        # statement, and a checkpoint cannot copy pages past its own open transaction.
        try:
            connection = self._engine.raw_connection()
        except SQLAlchemyError:
            return False
        try:
            connection.driver_connection.execute(f"PRAGMA wal_checkpoint({mode})")  # type: ignore[union-attr]
        except sqlite3.Error:
            return False
        finally:
            connection.close()
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.INTERVAL_SECONDS):
            if not self.checkpoint():
                log.warning("SQLite WAL checkpoint failed; will try again")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.checkpoint("TRUNCATE")


class Database:
    """One engine and its session factory; the only way the application opens sessions."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.engine = make_engine(url, echo=echo)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._checkpointer = (
            WalCheckpointer(self.engine) if self.engine.dialect.name == "sqlite" else None
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.warning("database ping failed: %s", type(exc).__name__)
            return False
        return True

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.engine.dispose()
