"""Engine and session factory for SQLite (the default) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import contextlib
import logging
import os
import select
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000
# A pooled PostgreSQL connection idle longer than this is pinged before use (see _liveness_check).
PING_AFTER_IDLE_SECONDS = 10.0
SINGLE_STATEMENT = "pulsebot_single_statement"  # execution option, see Database.single_statement


def normalise_url(url: str | URL) -> URL:
    """Use psycopg 3 for plain `postgresql://` URLs (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _use_wal(dbapi_connection: Any) -> None:
    """Switch the file to WAL (it stays so), waiting out other processes doing the same.

    The change reads the file, then asks for its write lock; while another process holds
    that lock SQLite fails at once with "database is locked" instead of calling the busy
    handler (waiting could deadlock). Two instances starting together on a new file hit
    it (CI did). So: retry the whole statement until the busy timeout, and skip it when
    the file is already in WAL.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            (mode,) = dbapi_connection.execute("PRAGMA journal_mode").fetchone()
            if mode != "wal":
                dbapi_connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; NORMAL is durable enough with WAL;
    # foreign keys are off in SQLite unless asked for on every connection.
    _use_wal(dbapi_connection)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # A replaced or deleted row (a changed comment) is zeroed in the file, not left readable.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _create_privately(path: str) -> Callable[..., None]:
    """A connect hook that creates the database file readable by its owner alone.

    SQLite would create it with the umask's mode, often 0644: anyone on the machine could read
    the deals, the directory and the survey answers. Its -wal and -shm files are created with
    the database file's mode. An existing file keeps the mode it has.
    """

    def before_connect(*_: Any) -> None:
        # O_EXCL: only a file that does not exist yet is opened here. Closing a descriptor of
        # the database file drops every POSIX lock this process holds on it, SQLite's too
        # (sqlite.org/howtocorrupt.html, 2.2): another process then took the WAL for unused,
        # checkpointed and deleted it, and the bot's next commits went to the deleted file,
        # seen by no one until its own checkpoint, and lost if it died before. A missing
        # folder, or a file that exists, is left to SQLite.
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))

    return before_connect


def _begin_immediate(connection: Connection) -> None:
    # Take SQLite's write lock at BEGIN, so two writers queue on busy_timeout instead of
    # failing with "database is locked" when a read transaction tries to upgrade. Straight to
    # the driver: this runs on every transaction, and SQLAlchemy's statement machinery
    # (events, result set-up) cost more than SQLite itself here.
    if connection.get_execution_options().get(SINGLE_STATEMENT):
        # One statement is its own transaction in SQLite: it takes the write lock as it
        # starts writing (nothing was read before it that could be stale), and commits.
        return
    connection.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _liveness_check(engine: Engine) -> None:
    """What pool_pre_ping is for — a connection killed by a database restart is replaced
    before use — without its round trip on every checkout, which on the click path cost
    more than the statements themselves.

    A restarted server closes its connections: the socket of such an idle connection turns
    readable (the termination notice, then EOF). That is checked locally, for free; a
    connection that looks alive is still pinged once it has been idle a while (a silently
    dropped one, e.g. by a firewall). A failed ping raises DisconnectionError, on which the
    pool discards the connection and checks out a fresh one.
    """

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None:  # just connected
            return
        suspicious = time.monotonic() - idle_since > PING_AFTER_IDLE_SECONDS
        if not suspicious:
            try:
                fd = dbapi_connection.pgconn.socket
                suspicious = bool(select.select([fd], [], [], 0)[0])
            except Exception:  # closed, or no socket at all
                suspicious = True
        if suspicious:
            try:
                engine.dialect.do_ping(dbapi_connection)
            except Exception as exc:
                raise DisconnectionError("stale pooled connection") from exc

    event.listen(engine, "checkin", _checked_in)
    event.listen(engine, "checkout", checkout)


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        if parsed.database and parsed.database != ":memory:" and not parsed.query.get("uri"):
            event.listen(engine, "do_connect", _create_privately(parsed.database))
        event.listen(engine, "connect", _tune_sqlite)
        # pysqlite's own transaction handling is switched off so BEGIN IMMEDIATE is ours.
        event.listen(
            engine,
            "connect",
            lambda dbapi_connection, _record: setattr(dbapi_connection, "isolation_level", None),
        )
        event.listen(engine, "begin", _begin_immediate)
        return engine
    engine = create_engine(parsed, echo=echo, pool_size=10, max_overflow=20, pool_timeout=5)
    _liveness_check(engine)
    return engine


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
        except (SQLAlchemyError, sqlite3.Error):  # the pool hands on the driver's own errors
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


class CommitInDoubt(Exception):
    """The connection was lost during COMMIT: the server may have kept the change, or not.

    Saying "nothing was changed, try again" may be untrue, and after it a second
    `/deal advance` would advance twice; the user is asked to look before doing it again.
    """


@contextmanager
def _in_doubt_if_lost_at_commit() -> Iterator[Callable[[], None]]:
    """Turns a lost connection into CommitInDoubt once the body has called `committing()`.

    Before that, a lost connection leaves nothing behind: the server rolls back a transaction
    whose COMMIT it never received.
    """
    committing = False

    def mark() -> None:
        nonlocal committing
        committing = True

    try:
        yield mark
    except DBAPIError as exc:
        if committing and exc.connection_invalidated:
            raise CommitInDoubt(str(exc.orig)) from exc
        raise


class Database:
    """One engine and its session factory; the only way the application opens sessions."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.engine = make_engine(url, echo=echo)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._checkpointer = (
            WalCheckpointer(self.engine) if self.engine.dialect.name == "sqlite" else None
        )
        # For one statement that is its own transaction, committed when it ends as durably
        # as by a COMMIT: no BEGIN and COMMIT (round trips on PostgreSQL, calls on SQLite).
        self.autocommit_engine = (
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self.engine.dialect.name == "postgresql"
            else self.engine.execution_options(**{SINGLE_STATEMENT: True})
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error; a
        connection lost during the COMMIT itself raises CommitInDoubt."""
        with (
            self.sessions() as session,
            _in_doubt_if_lost_at_commit() as committing,
            session.begin(),
        ):
            yield session
            session.flush()  # the statements' own errors come here, before the COMMIT
            committing()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """`engine.begin()` (a connection in one transaction, for Core statements), with a
        connection lost during the COMMIT raising CommitInDoubt."""
        with _in_doubt_if_lost_at_commit() as committing, self.engine.begin() as connection:
            yield connection
            committing()

    @contextmanager
    def single_statement(self) -> Iterator[Connection]:
        """A connection for exactly one write statement, committed when it ends."""
        with self.autocommit_engine.begin() as connection:
            yield connection

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
