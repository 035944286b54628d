"""The schema comes only from Alembic, and the models agree with it on both databases."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from storage import surveys as store
from storage.db import Database, WalCheckpointer
from storage.deals import lapsed_owner_nudges
from storage.migrate import alembic_config, current_revision, head_revision, upgrade
from storage.models import Base


def test_upgrade_from_empty_matches_models(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert current_revision(database.engine) is None
        upgrade(database.engine)
        assert current_revision(database.engine) == head_revision()
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
        tables = set(inspect(database.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
    finally:
        database.dispose()


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    database = Database(database_url)
    try:
        upgrade(database.engine)
        upgrade(database.engine)
        assert current_revision(database.engine) == head_revision()
    finally:
        database.dispose()


def test_0008_keeps_older_schedules_and_downgrades(database_url: str) -> None:
    """A schedule made before 0008 reads back unchanged, its new fields empty (the workspace
    zone, no nth weekday, no cron); and 0008 goes down and up again cleanly."""
    database = Database(database_url)
    try:
        upgrade(database.engine, "0007")
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO surveys (name_key, name, definition, created_by, created_at,"
                    " cadence, on_weekday, at_time, audience, open_days, paused)"
                    " VALUES ('pulse', 'pulse', '{}', 'U1', CURRENT_TIMESTAMP, 'weekly', 0,"
                    " '10:00', '{\"everyone\": true}', 3, false)"
                )
            )
        upgrade(database.engine)
        with database.transaction() as session:
            survey = store.find_survey(session, "pulse")
        assert survey is not None
        assert (survey.cadence, survey.on_weekday, survey.at_time) == ("weekly", 0, "10:00")
        assert (survey.on_week, survey.cron, survey.zone) == (None, None, None)

        with database.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0007")
        columns = {c["name"] for c in inspect(database.engine).get_columns("surveys")}
        assert {"on_week", "cron", "zone"}.isdisjoint(columns) and "on_weekday" in columns
        upgrade(database.engine)
        assert current_revision(database.engine) == head_revision()
    finally:
        database.dispose()


def test_0009_keeps_who_answered_under_the_anonymous_key_and_downgrades(database_url: str) -> None:
    """Who answered moves from (run, user id) to (run, key); the user ids are gone."""
    database = Database(database_url)
    sql = text
    try:
        upgrade(database.engine, "0008")
        with database.engine.begin() as connection:
            connection.execute(
                sql(
                    "INSERT INTO surveys (name_key, name, definition, created_by, created_at,"
                    " at_time, audience, open_days, paused)"
                    " VALUES ('enps', 'enps', '{}', 'U1', CURRENT_TIMESTAMP, '10:00', '{}', 3,"
                    " false)"
                )
            )
            connection.execute(
                sql(
                    "INSERT INTO survey_runs (survey_id, number, occurrence_key, definition,"
                    " audience, local_date, at_time, opens_at, closes_at, remind_at, status,"
                    " audience_resolved, reminders_done, closed_notices_done)"
                    " SELECT id, 1, 'k1', '{}', '{}', CURRENT_DATE, '10:00', CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'open', true, false, false FROM surveys"
                )
            )
            run_id = connection.execute(sql("SELECT id FROM survey_runs")).scalar_one()
            for user in ("UANNA", "UBOB"):
                connection.execute(
                    sql("INSERT INTO survey_participants (run_id, user_id) VALUES (:r, :u)"),
                    {"r": run_id, "u": user},
                )
            for question in (0, 1):
                connection.execute(
                    sql(
                        "INSERT INTO survey_answers (run_id, respondent, question, number,"
                        " answered_on) VALUES (:r, 'key-of-anna', :q, 9, CURRENT_DATE)"
                    ),
                    {"r": run_id, "q": question},
                )
        upgrade(database.engine)
        tables = inspect(database.engine).get_table_names()
        assert "survey_participants" not in tables
        with database.transaction() as session:
            assert store.respondent_keys(session, run_id) == {"key-of-anna"}

        with database.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0008")
        tables = inspect(database.engine).get_table_names()
        assert "survey_participants" in tables and "survey_respondents" not in tables
        upgrade(database.engine)
        assert current_revision(database.engine) == head_revision()
    finally:
        database.dispose()


def test_0013_drops_the_pickled_job_table_and_downgrades(database_url: str) -> None:
    """APScheduler's job table (pickles) is gone at the head; going down brings it back as
    APScheduler 3.11 reads it, empty, and up again drops it with whatever it holds."""
    database = Database(database_url)
    try:
        upgrade(database.engine)
        assert "apscheduler_jobs" not in inspect(database.engine).get_table_names()
        with database.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0012")
        columns = inspect(database.engine).get_columns("apscheduler_jobs")
        assert [c["name"] for c in columns] == ["id", "next_run_time", "job_state"]
        with database.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO apscheduler_jobs (id, job_state) VALUES ('old', :state)"),
                {"state": b"\x80\x05."},
            )
        upgrade(database.engine)
        assert "apscheduler_jobs" not in inspect(database.engine).get_table_names()
        assert current_revision(database.engine) == head_revision()
    finally:
        database.dispose()


def test_sqlite_is_tuned_for_a_server(sqlite_url: str) -> None:
    database = Database(sqlite_url)
    try:
        with database.engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 5000
            # Checkpoints are the WalCheckpointer thread's job, not a committing request's.
            assert pragma("PRAGMA wal_autocheckpoint").scalar() == 0
    finally:
        database.dispose()


def test_sqlite_files_are_created_for_their_owner_alone(tmp_path: Path) -> None:
    """The database, its -wal and its -shm: 0600, whatever the umask would have made them."""
    lax = os.umask(0o002)  # a umask that leaves files readable, and writable by the group
    try:
        database = Database(f"sqlite:///{tmp_path}/team.db")
        try:
            upgrade(database.engine)
            with database.engine.connect():  # the -wal and -shm are open now
                modes = {
                    path.name: stat.S_IMODE(path.stat().st_mode)
                    for path in sorted(tmp_path.glob("team.db*"))
                }
        finally:
            database.dispose()
    finally:
        os.umask(lax)
    assert modes == {"team.db": 0o600, "team.db-shm": 0o600, "team.db-wal": 0o600}


def test_a_new_pooled_connection_leaves_sqlite_locks_alone(tmp_path: Path) -> None:
    """Each commit is seen at once by another process, also after the pool opened a new
    connection. Creating the file 0600 used to open and close it on every connection, which
    drops the process's POSIX locks on it: a reader process then took the WAL for unused and
    deleted it, and later commits stayed invisible until a checkpoint (or were lost)."""
    path = tmp_path / "team.db"
    database = Database(f"sqlite:///{path}")

    def seen_elsewhere() -> int:
        done = subprocess.run(
            [sys.executable, "-c", READ_COUNT, str(path)],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return int(done.stdout)

    try:
        with database.transaction() as session:
            session.execute(text("CREATE TABLE kept (x INTEGER)"))
        # Two at once: the pool opens new connections, as under concurrent requests.
        held = [database.engine.raw_connection() for _ in range(2)]
        for connection in held:
            connection.close()
        for expected in (1, 2, 3):
            with database.transaction() as session:
                session.execute(text("INSERT INTO kept VALUES (1)"))
            assert seen_elsewhere() == expected
    finally:
        database.dispose()


READ_COUNT = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
    "print(c.execute('SELECT count(*) FROM kept').fetchone()[0]); c.close()"
)


def test_an_existing_sqlite_file_keeps_its_mode_and_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "team.db"
    with sqlite3.connect(path) as existing:
        existing.execute("CREATE TABLE kept (x INTEGER)")
        existing.execute("INSERT INTO kept VALUES (7)")
    existing.close()
    path.chmod(0o640)
    database = Database(f"sqlite:///{path}")
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT x FROM kept").scalar() == 7
    finally:
        database.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_switching_to_wal_waits_for_another_process_writing(tmp_path: Path) -> None:
    # Another process (two instances starting on a new file) holds the write lock of the
    # file still in rollback mode. Changing the journal mode fails at once then, without
    # SQLite's busy handler; the connection must wait its turn instead of failing to start.
    path = tmp_path / "pulsebot.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE t (x INTEGER)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    threading.Timer(0.3, other.execute, ("COMMIT",)).start()
    database = Database(f"sqlite:///{path}")
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("SELECT x FROM t").scalar() == 1
    finally:
        database.dispose()
        other.close()


def test_wal_is_checkpointed_off_the_request_path(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(WalCheckpointer, "INTERVAL_SECONDS", 0.05)
    database = Database(sqlite_url)
    try:
        upgrade(database.engine)
        main_file = tmp_path / "pulsebot.db"
        before = main_file.stat().st_size
        with database.engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE filler (x TEXT)")
            for _ in range(200):
                connection.exec_driver_sql("INSERT INTO filler VALUES (?)", ("x" * 4000,))
        # The commit only appended to the log; the background thread moves it into the file.
        deadline = time.monotonic() + 10
        while main_file.stat().st_size < before + 700_000:
            assert time.monotonic() < deadline, "no checkpoint happened"
            time.sleep(0.02)
    finally:
        database.dispose()


def test_a_checkpoint_of_a_database_file_gone_is_a_miss_not_a_dead_thread(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    database = Database(f"sqlite:///{folder}/pulsebot.db")
    checkpointer = WalCheckpointer(database.engine)
    try:
        assert checkpointer.checkpoint()
        database.engine.dispose()  # the next checkpoint must open the file anew…
        folder.rename(tmp_path / "moved")  # …which is gone: sqlite3's own error, unwrapped
        assert not checkpointer.checkpoint()
    finally:
        (tmp_path / "moved").rename(folder)
        checkpointer.stop()
        database.dispose()


def test_0016_claims_from_before_leases_lapse_one_lease_period_after_they_were_made(
    database_url: str,
) -> None:
    """A digest claimed before 0016 has no owner: it lapses one lease period after its claim
    (not ten minutes), and 0016 goes down and up again cleanly."""
    database = Database(database_url)
    claimed = datetime(2026, 12, 1, 9, 5, tzinfo=UTC)
    try:
        upgrade(database.engine, "0015")
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO owner_nudges (owner_id, local_date, claimed_at)"
                    " VALUES ('U1', '2026-12-01', '2026-12-01 09:05:00')"
                )
            )
        upgrade(database.engine)
        with database.transaction() as session:
            assert lapsed_owner_nudges(session, claimed - timedelta(seconds=1)) == []
            (nudge,) = lapsed_owner_nudges(session, claimed + timedelta(seconds=1))
        assert (nudge.owner_id, nudge.claimed_by) == ("U1", None)

        with database.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0015")
        assert "instances" not in inspect(database.engine).get_table_names()
        upgrade(database.engine)
        assert current_revision(database.engine) == head_revision()
    finally:
        database.dispose()
