"""`pulsebot backup` of a bot's live database mid-traffic, and `pulsebot restore` of it."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.backup import BackupError, holds_data, pg_dump_command, restore_sqlite
from bot.cli import main
from bot.clock import FrozenClock
from bot.standin import SlackStandIn
from storage.db import Database
from storage.deals import Deal
from storage.migrate import current_revision, head_revision, upgrade
from tests.conftest import make_settings
from tests.harness import BotHarness

REP = "U05OSMITH"


@pytest.fixture
def live(tmp_path: Path, standin: SlackStandIn, clock: FrozenClock) -> Iterator[BotHarness]:
    url = f"sqlite:///{tmp_path}/live.db"
    db = Database(url)
    upgrade(db.engine)
    settings = make_settings(SLACK_API_URL=standin.url, DATABASE_URL=url)
    harness = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
    yield harness
    harness.close()
    db.dispose()


def deal_names(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("SELECT name FROM deals ORDER BY id")]


def test_backup_mid_traffic_then_restore_into_a_second_database(
    live: BotHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(20):  # something there before the traffic starts
        assert live.command(REP, "/deal", f'new "Before {n:02d}"').status == 200
    stop = threading.Event()
    created: list[str] = []

    def traffic() -> None:
        n = 0
        while not stop.is_set():
            name = f"During {n:04d}"
            if live.command(REP, "/deal", f'new "{name}"').status == 200:
                created.append(name)
            n += 1

    writer = threading.Thread(target=traffic)
    writer.start()
    try:
        live.standin.wait_for(lambda: len(created) >= 10, describe="traffic", timeout=20)
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/live.db")
        before = len(created)
        result = CliRunner().invoke(main, ["backup", str(tmp_path / "pulsebot.backup")])
        after = len(created)
        live.standin.wait_for(lambda: len(created) >= after + 5, describe="more", timeout=20)
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert "backed up" in result.output
    assert "PULSEBOT_SECRET" in result.output
    backup = tmp_path / "pulsebot.backup"
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    assert not Path(f"{backup}-wal").exists()

    # Restored into a second database: every deal made before the backup started, in order,
    # none half-written, and the ones made after it absent.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/second.db")
    result = CliRunner().invoke(main, ["restore", str(backup)])
    assert result.exit_code == 0, result.output
    restored = deal_names(tmp_path / "second.db")
    expected = [f"Before {n:02d}" for n in range(20)] + created
    assert restored[:20] == expected[:20]
    assert restored == expected[: len(restored)]  # a prefix: the database at one moment
    assert 20 + before <= len(restored) <= 20 + after + 1
    assert len(restored) < len(deal_names(tmp_path / "live.db"))
    second = Database(f"sqlite:///{tmp_path}/second.db")
    try:
        assert current_revision(second.engine) == head_revision()
        with second.transaction() as session:
            assert session.scalar(select(func.count()).select_from(Deal)) == len(restored)
    finally:
        second.dispose()
    with sqlite3.connect(tmp_path / "second.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_restore_refuses_a_database_with_data_unless_forced(
    live: BotHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert live.command(REP, "/deal", 'new "Kept"').status == 200
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/live.db")
    assert CliRunner().invoke(main, ["backup", str(tmp_path / "b.db")]).exit_code == 0
    # A second backup to the same file is refused: a backup is never overwritten.
    again = CliRunner().invoke(main, ["backup", str(tmp_path / "b.db")])
    assert again.exit_code == 1
    assert "exists" in again.stderr

    other = tmp_path / "other.db"
    other_db = Database(f"sqlite:///{other}")
    upgrade(other_db.engine)
    other_db.dispose()
    assert not holds_data(other)  # migrated but empty: restoring into it needs no --force
    with sqlite3.connect(other) as connection:
        connection.execute(
            "INSERT INTO directory_users (user_id, name, real_name, is_admin, is_owner, is_bot,"
            " is_restricted, deleted, fetched_at) VALUES ('U1', 'a', 'a', 0, 0, 0, 0, 0,"
            " '2026-01-01 00:00:00')"
        )
    assert holds_data(other)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{other}")
    refused = CliRunner().invoke(main, ["restore", str(tmp_path / "b.db")])
    assert refused.exit_code == 1
    assert "is not empty" in refused.stderr and "--force" in refused.stderr
    assert deal_names(other) == []
    forced = CliRunner().invoke(main, ["restore", "--force", str(tmp_path / "b.db")])
    assert forced.exit_code == 0, forced.output
    assert deal_names(other) == ["Kept"]


def test_restore_refuses_what_is_not_a_pulsebot_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError, match="not a SQLite database"):
        restore_sqlite(junk, tmp_path / "t.db", force=False)
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE t (x)")
    with pytest.raises(BackupError, match="not a pulsebot database"):
        restore_sqlite(foreign, tmp_path / "t.db", force=False)


def test_postgresql_is_backed_up_with_pg_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://pulsebot:s3cret@db.example:5432/pulsebot"
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, ["backup", "/var/backups/pulsebot.dump"])
    assert result.exit_code == 1
    assert "pg_dump" in result.stderr
    assert result.stdout.strip() == pg_dump_command(url, "/var/backups/pulsebot.dump")
    assert result.stdout.strip() == (
        "pg_dump --format=custom --file=/var/backups/pulsebot.dump "
        "postgresql://pulsebot@db.example:5432/pulsebot"
    )
    assert "s3cret" not in result.output + result.stderr
    restore = CliRunner().invoke(main, ["restore", os.devnull])
    assert restore.exit_code == 1
    assert restore.stdout.startswith("pg_restore --clean --if-exists --no-owner")
