"""Exactly one process runs the scheduler: the one holding an advisory lock or a file lock."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock, Timeout
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from bot.jobs import bind_services
from bot.scheduler import start_scheduler
from bot.services import Services

log = logging.getLogger(__name__)

# "pulsched" in ASCII: any fixed number, unlike storage.migrate's migration lock.
SCHEDULER_LOCK_KEY = 0x70756C7363686564
# How often a standby instance tries to take over, and the leader checks it still leads. With
# the keepalives below, a dead leader is replaced in well under 30 seconds.
RETRY_SECONDS = 5.0
# A leader whose machine vanishes sends no FIN; these make PostgreSQL drop its session (and
# so free the lock) after 5 + 3 × 5 = 20 s of silence instead of the system's two hours.
PG_KEEPALIVES = (
    "tcp_keepalives_idle = 5",
    "tcp_keepalives_interval = 5",
    "tcp_keepalives_count = 3",
)


class LeadershipLock(Protocol):
    """A lock that at most one process holds, freed by the system when its holder dies."""

    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


class PostgresAdvisoryLock:
    """A session-level advisory lock on a connection of its own.

    Not from the application's pool: a pooled connection would go back to the pool still holding
    the lock. Here closing the connection ends the session, and PostgreSQL frees the lock with it,
    also when the process is killed.
    """

    def __init__(self, engine: Engine, key: int = SCHEDULER_LOCK_KEY) -> None:
        self._engine = create_engine(engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self._key = key
        self._connection: Connection | None = None
        self._held = False

    def try_acquire(self) -> bool:
        try:
            if self._connection is None:
                self._connection = self._engine.connect()
                for setting in PG_KEEPALIVES:
                    self._connection.execute(text(f"SET {setting}"))
            acquired = self._connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            ).scalar()
        except SQLAlchemyError as exc:
            log.warning("scheduler lock: database unavailable (%s)", type(exc).__name__)
            self._close()
            return False
        self._held = bool(acquired)
        return self._held

    def still_held(self) -> bool:
        # The lock lives as long as the session; a live session is proof enough.
        if not self._held or self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.warning("scheduler lock: connection lost (%s)", type(exc).__name__)
            self._close()
            return False
        return True

    def release(self) -> None:
        if self._held and self._connection is not None:
            # Closing the session below frees the lock anyway, should this fail.
            with contextlib.suppress(SQLAlchemyError):
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
                )
        self._close()
        self._engine.dispose()

    def _close(self) -> None:
        self._held = False
        if self._connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._connection.close()
            self._connection = None


class FileLeadershipLock:
    """An OS file lock (flock) next to the SQLite file; the system frees it when its holder dies."""

    def __init__(self, path: Path) -> None:
        # thread_local=False: taken in the leader thread, maybe released from the main thread.
        # No soft (marker file) fallback: a marker outlives a crash and would block for ever.
        self._lock = FileLock(path, thread_local=False, fallback_to_soft=False)
        self.path = path

    def try_acquire(self) -> bool:
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def still_held(self) -> bool:
        return bool(self._lock.is_locked)

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)


class ProcessLocalLock:
    """For an in-memory SQLite database, which no other process can share."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def leadership_lock_for(services: Services) -> LeadershipLock:
    engine = services.db.engine
    if engine.dialect.name == "postgresql":
        return PostgresAdvisoryLock(engine)
    database = engine.url.database
    if not database or database == ":memory:":
        return ProcessLocalLock()
    path = Path(database)
    return FileLeadershipLock(path.with_name(path.name + ".scheduler.lock"))


class SchedulerLeader:
    """Every instance runs one; the one holding the lock runs the scheduler, the others stand by.

    A standby instance tries the lock every `retry_seconds`; the leader checks it still holds it
    as often, and stops scheduling when it does not.
    """

    def __init__(
        self,
        services: Services,
        *,
        lock: LeadershipLock | None = None,
        retry_seconds: float = RETRY_SECONDS,
        start: Callable[[Services], Any] = start_scheduler,
    ) -> None:
        self._services = services
        self._lock = lock or leadership_lock_for(services)
        self._retry_seconds = retry_seconds
        self._start = start
        self._scheduler: Any = None  # an apscheduler BaseScheduler while leading
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._said_standby = False
        self.leading = threading.Event()

    @property
    def scheduler(self) -> Any:
        return self._scheduler

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="scheduler-leader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop scheduling (waiting for running jobs) and give the lock up."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        else:
            self._step_down(wait=True)

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                self.step()
                self._stopping.wait(self._retry_seconds)
        finally:
            self._step_down(wait=True)

    def step(self) -> None:
        """One round: take the lead if the lock is free, or check the lead is still ours."""
        if self._scheduler is None:
            self._try_to_lead()
        elif not self._lock.still_held():
            log.warning("lost the scheduler lock; this instance stops scheduling")
            self._step_down(wait=False)

    def _try_to_lead(self) -> None:
        if not self._lock.try_acquire():
            if not self._said_standby:
                log.info("another instance runs the scheduler; this one stands by")
                self._said_standby = True
            return
        try:
            self._scheduler = self._start(self._services)
        except Exception:
            log.exception("could not start the scheduler; another instance may take over")
            self._lock.release()
            return
        self._said_standby = False
        log.info("this instance now runs the scheduler")
        self.leading.set()

    def _step_down(self, *, wait: bool) -> None:
        scheduler, self._scheduler = self._scheduler, None
        self.leading.clear()
        if scheduler is not None:
            try:
                scheduler.shutdown(wait=wait)
            except Exception:
                log.exception("scheduler did not shut down cleanly")
            bind_services(None)
        self._lock.release()
