"""`pulsebot backup` and `pulsebot restore`.

SQLite: SQLite's online backup API copies the database page by page inside one read
transaction, so the copy is the database as it was at one moment, while the bot goes on writing
(WAL lets its writers run beside the reader). PostgreSQL: pg_dump does the same job better
than pulsebot could; the commands say how to call it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from shlex import quote

from sqlalchemy.engine import URL, make_url

from storage.db import normalise_url

# Counted and shown after a backup or a restore, so that the operator sees what is in it.
SHOWN_TABLES = (
    "deals",
    "deal_events",
    "surveys",
    "survey_runs",
    "survey_answers",
    "directory_users",
    "oneonone_series",
)


class BackupError(Exception):
    """Why a backup or a restore cannot be done, in one line for the operator."""


@dataclass(frozen=True, slots=True)
class DatabaseCopy:
    path: Path
    revision: str | None
    rows: dict[str, int]

    def summary(self) -> str:
        rows = ", ".join(f"{table} {count}" for table, count in self.rows.items())
        return f"schema revision {self.revision or 'none'}; rows: {rows}"


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite DATABASE_URL; None for another database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:" or url.query.get("uri"):
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=30)
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def describe(path: Path) -> DatabaseCopy:
    with contextlib.closing(_connect(path)) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        revision = None
        if "alembic_version" in tables:
            found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = found[0] if found else None
        rows = {
            table: int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
            for table in SHOWN_TABLES
            if table in tables
        }
    return DatabaseCopy(path, revision, rows)


def _check_integrity(connection: sqlite3.Connection, what: str) -> None:
    (result,) = connection.execute("PRAGMA integrity_check").fetchone()
    if result != "ok":
        raise BackupError(f"{what} failed SQLite's integrity check: {result}")


def backup_sqlite(source: Path, target: Path) -> DatabaseCopy:
    """Copy the live database `source` to the new file `target` (mode 0600, one file, no WAL)."""
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    if target.exists():
        raise BackupError(f"{target} exists; pulsebot does not overwrite a file with a backup")
    partial = target.with_name(target.name + ".partial")
    # The copy holds everything the database does: readable by its owner only, as it is.
    fd = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.close(fd)
    try:
        with (
            contextlib.closing(_connect(source)) as live,
            contextlib.closing(sqlite3.connect(partial)) as copy,
        ):
            live.backup(copy)  # every page in one step: one consistent moment
            # One self-contained file: out of WAL mode, which the copy inherited.
            copy.execute("PRAGMA journal_mode=DELETE")
            _check_integrity(copy, "the copy")
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return describe(target)


def holds_data(path: Path) -> bool:
    """Whether the SQLite file at `path` has a row in any table (schema bookkeeping aside)."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with contextlib.closing(_connect(path)) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
            )
        ]
        return any(
            connection.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() for table in tables
        )


def restore_sqlite(backup: Path, target: Path, *, force: bool) -> DatabaseCopy:
    """Replace the database at `target` with the backup file (pulsebot must be stopped)."""
    if not backup.exists():
        raise BackupError(f"there is no backup at {backup}")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as source:
            _check_integrity(source, "the backup")
            tables = {r[0] for r in source.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{backup} is not a SQLite database: {exc}") from None
    if "alembic_version" not in tables:
        raise BackupError(f"{backup} is not a pulsebot database (no schema revision in it)")
    if not force and holds_data(target):
        raise BackupError(
            f"the database at {target} is not empty; restoring would replace it "
            "(stop pulsebot, keep a copy, then use --force)"
        )
    if not target.exists():
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
    with (
        contextlib.closing(sqlite3.connect(backup)) as source,
        contextlib.closing(_connect(target)) as live,
    ):
        source.backup(live)
    return describe(target)


def _without_password(url: URL) -> str:
    # URL.set() takes None as "unchanged": a new URL, without the password, is built instead.
    plain = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return plain.render_as_string(hide_password=False)


def pg_dump_command(database_url: str, target: str) -> str:
    """The pg_dump that backs up DATABASE_URL (the password from PGPASSWORD or ~/.pgpass)."""
    url = normalise_url(database_url)
    return f"pg_dump --format=custom --file={quote(target)} {quote(_without_password(url))}"


def pg_restore_command(database_url: str, backup: str) -> str:
    url = normalise_url(database_url)
    return (
        f"pg_restore --clean --if-exists --no-owner "
        f"--dbname={quote(_without_password(url))} {quote(backup)}"
    )
