"""Exactly one instance schedules: file lock on SQLite, advisory lock on PostgreSQL, real processes."""

from __future__ import annotations

import contextlib
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot import leader as leader_module
from bot.app import build_services
from bot.leader import (
    RETRY_SECONDS,
    FileLeadershipLock,
    PostgresAdvisoryLock,
    ProcessLocalLock,
    SchedulerLeader,
    leadership_lock_for,
)
from bot.services import Services
from bot.standin import SlackStandIn
from storage.db import Database
from storage.migrate import upgrade
from storage.scheduling import ScheduledEffect
from tests.conftest import (
    SECRETS,
    TEST_BOT_TOKEN,
    TEST_SECRET,
    TEST_SIGNING_SECRET,
    make_settings,
)
from tests.faketime_compat import child_python_path

REPO = Path(__file__).resolve().parent.parent
# The bound: a standby instance leads within 30 s of the leader's death.
TAKEOVER_LIMIT_SECONDS = 30
# Short in tests, so they stay quick; the production value is checked on its own below.
TEST_RETRY_SECONDS = 0.5


def services_on(url: str) -> Services:
    return build_services(make_settings(DATABASE_URL=url))


class StubScheduler:
    """Stands for a started scheduler where only leading matters."""

    def __init__(self) -> None:
        self.stopped = False

    def shutdown(self, wait: bool = True) -> None:
        self.stopped = True


def stub_start(_services: Services) -> StubScheduler:
    return StubScheduler()


def random_lock_key() -> int:
    # Advisory locks are per database, and test schemas share one: each test takes its own key.
    return secrets.randbelow(2**62)


def test_takeover_fits_in_thirty_seconds() -> None:
    # A standby instance tries every RETRY_SECONDS; the keepalives drop a vanished leader in 20 s.
    assert RETRY_SECONDS <= 10
    assert 5 + 3 * 5 + RETRY_SECONDS < TAKEOVER_LIMIT_SECONDS
    assert "tcp_keepalives_count = 3" in leader_module.PG_KEEPALIVES


def test_lock_follows_the_database(tmp_path: Path) -> None:
    on_file = leadership_lock_for(services_on(f"sqlite:///{tmp_path}/team.db"))
    assert isinstance(on_file, FileLeadershipLock)
    assert on_file.path == tmp_path / "team.db.scheduler.lock"
    assert isinstance(leadership_lock_for(services_on("sqlite://")), ProcessLocalLock)
    assert isinstance(
        leadership_lock_for(services_on("postgresql://nobody@127.0.0.1:1/none")),
        PostgresAdvisoryLock,
    )


def test_sqlite_file_lock_refuses_a_second_scheduler(sqlite_url: str) -> None:
    services = services_on(sqlite_url)
    upgrade(services.db.engine)
    first = SchedulerLeader(services, retry_seconds=TEST_RETRY_SECONDS)  # the real scheduler
    second = SchedulerLeader(services, retry_seconds=TEST_RETRY_SECONDS, start=stub_start)
    try:
        first.step()
        assert first.leading.is_set()
        assert first.scheduler.running
        second.step()
        assert not second.leading.is_set()
        first.stop()  # stops the scheduler and frees the file
        assert not first.leading.is_set()
        second.step()
        assert second.leading.is_set()
    finally:
        first.stop()
        second.stop()
        services.db.dispose()


@pytest.mark.postgres
def test_postgres_advisory_lock_admits_one_and_frees_on_release(postgres_url: str) -> None:
    database = Database(postgres_url)
    key = random_lock_key()
    one, two = (
        PostgresAdvisoryLock(database.engine, key),
        PostgresAdvisoryLock(database.engine, key),
    )
    try:
        assert one.try_acquire()
        assert not two.try_acquire()
        assert one.still_held()
        one.release()
        assert two.try_acquire()
    finally:
        one.release()
        two.release()
        database.dispose()


@pytest.mark.postgres
def test_postgres_leader_stops_when_its_session_dies(postgres_url: str) -> None:
    services = services_on(postgres_url)
    key = random_lock_key()
    leader = SchedulerLeader(
        services, lock=PostgresAdvisoryLock(services.db.engine, key), start=stub_start
    )
    try:
        leader.step()
        assert leader.leading.is_set()
        scheduler = leader.scheduler
        # Someone (a DBA, a failover) ends the leader's session: the lock is gone with it.
        with services.db.engine.begin() as connection:
            ended = connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND classid = :high AND objid = :low"
                ),
                {"high": key >> 32, "low": key & 0xFFFFFFFF},
            ).scalars()
            assert list(ended) == [True]
        leader.step()
        assert not leader.leading.is_set()
        assert scheduler.stopped
        leader.step()  # the lock is free again, so this instance leads anew
        assert leader.leading.is_set()
    finally:
        leader.stop()
        services.db.dispose()


class Instance:
    """A pulsebot instance in a process of its own (tests/scheduler_process.py)."""

    def __init__(self, database_url: str, lock_key: int) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-u",
                "-m",
                "tests.scheduler_process",
                database_url,
                str(lock_key),
                str(TEST_RETRY_SECONDS),
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": child_python_path(str(REPO))},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._output_ended = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._output_ended.set()

    def printed(self, text: str, *, within: float = 0.0) -> bool:
        """Whether the instance has printed `text`, waiting for its output up to `within` s."""
        deadline = time.monotonic() + within
        while not any(text in line for line in self.lines):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self._output_ended.is_set() and self._lines.empty()):
                return False
            with contextlib.suppress(queue.Empty):
                self.lines.append(self._lines.get(timeout=min(remaining, 0.05)))
        return True

    def wait_for(self, text: str, timeout: float = 20) -> float:
        """Wait until the instance prints `text`; returns the seconds it took."""
        started = time.monotonic()
        if not self.printed(text, within=timeout):
            raise AssertionError(f"no {text!r} within {timeout} s; output:\n" + self.output)
        return time.monotonic() - started

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=15)


@pytest.fixture
def instances() -> Iterator[list[Instance]]:
    started: list[Instance] = []
    yield started
    for instance in started:
        if instance.process.poll() is None:
            instance.process.kill()
            instance.process.wait(timeout=10)


LEADS = "this instance now runs the scheduler"
STANDS_BY = "another instance runs the scheduler; this one stands by"
SUMMARY_DONE = "weekly summary summary:"


def test_two_processes_one_leads_and_the_other_takes_over_when_it_is_killed(
    database_url: str, instances: list[Instance]
) -> None:
    key = random_lock_key()
    instances.extend([Instance(database_url, key), Instance(database_url, key)])
    # Both start together; whichever gets the lock first leads.
    deadline = time.monotonic() + 20
    while not any(instance.printed(LEADS, within=0.05) for instance in instances):
        assert time.monotonic() < deadline, "\n---\n".join(i.output for i in instances)
    first, second = instances if instances[0].printed(LEADS) else instances[::-1]
    first.wait_for(SUMMARY_DONE)  # it fired this week's summary as it took the lead
    assert first.count(" recorded") == 1
    second.wait_for(STANDS_BY)
    assert second.count(LEADS) == 0

    assert first.count("JOBS ") == 1 and second.count("JOBS ") == 0

    first.kill()  # kill -9: no clean-up, the lock goes with the process (and its session)
    took = second.wait_for(LEADS, timeout=TAKEOVER_LIMIT_SECONDS)
    assert took < TAKEOVER_LIMIT_SECONDS
    # The new leader fires the same week's summary: its unique key makes it a no-op.
    second.wait_for("was already done; nothing to do")
    assert second.count(" recorded") == 0
    assert second.stop() == 0  # SIGTERM: a clean stop
    second.wait_for("STOPPED")

    database = Database(database_url)
    try:
        with database.transaction() as session:
            keys = list(session.scalars(select(ScheduledEffect.key)))
        assert len(keys) == 1 and keys[0].startswith("summary:")
        # The new leader built every job afresh, from code: none came from the old one.
        (jobs,) = [line for line in second.lines if line.startswith("JOBS ")]
        assert jobs.split()[1:] == sorted(
            [
                "prune_handled_requests",
                "send_deal_digests",
                "sync_directory",
                "weekly_summary",
                "finish_interrupted_summary",
                "open_due_runs",
                "dispatch_due_deliveries",
                "send_due_reminders",
                "close_due_runs",
                "send_oneonone_reminders",
            ]
        )
    finally:
        database.dispose()


def test_lock_file_outlives_nothing_after_stop(sqlite_url: str) -> None:
    services = services_on(sqlite_url)
    lock = leadership_lock_for(services)
    assert lock.try_acquire()
    lock.release()
    assert lock.try_acquire()  # released for real, not only forgotten
    lock.release()
    services.db.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_runs_the_scheduler_and_stops_cleanly_on_sigterm(
    tmp_path: Path, standin: SlackStandIn
) -> None:
    """`pulsebot serve` serves and schedules; SIGTERM stops both and frees the lock file."""
    database = tmp_path / "team.db"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "PULSEBOT_", "DATABASE_URL"))
    }
    env.update(
        SLACK_BOT_TOKEN=TEST_BOT_TOKEN,
        SLACK_SIGNING_SECRET=TEST_SIGNING_SECRET,
        PULSEBOT_SECRET=TEST_SECRET,
        SLACK_API_URL=standin.url,
        DATABASE_URL=f"sqlite:///{database}",
        PYTHONPATH=child_python_path(str(REPO)),
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "bot",
            "serve",
            "--port",
            str(free_port()),
            "--host",
            "127.0.0.1",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line)
            if LEADS in line:
                break
        assert any(LEADS in line for line in lines), "".join(lines)
        process.terminate()
        lines.extend(process.stdout)
        assert process.wait(timeout=15) == 0, "".join(lines)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert any("stopping" in line for line in lines)
    output = "".join(lines)
    for secret in SECRETS:  # the bot token, the signing secret and PULSEBOT_SECRET
        assert secret not in output
    # The lock was given up: another scheduler may start at once.
    lock = FileLeadershipLock(database.with_name("team.db.scheduler.lock"))
    assert lock.try_acquire()
    lock.release()
