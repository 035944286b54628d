"""Keys of Slack deliveries already handled, so retries and replays change nothing twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, String, bindparam, cast, delete, func, select
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.expression import Executable

from storage.base import Base, UTCDateTime


class HandledRequest(Base):
    __tablename__ = "handled_requests"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


def _claim_statement(dialect: str) -> Executable:
    """Built once per dialect: every request runs it, before Slack gets its answer."""
    found = _CLAIM_STATEMENTS.get(dialect)
    if found is not None:
        return found
    statement: pg.Insert | sqlite.Insert
    if dialect == "postgresql":
        # Losing this row in a server crash only means one retry is handled again, so its
        # commit need not wait for the WAL flush. The statement turns that off for its own
        # transaction (set_config(..., true) is SET LOCAL), saving a round trip for SET.
        row = select(
            cast(bindparam("key"), String(255)), cast(bindparam("handled_at"), UTCDateTime())
        ).where(func.set_config("synchronous_commit", "off", True).is_not(None))
        statement = pg.insert(HandledRequest).from_select(["key", "handled_at"], row)
    else:
        statement = sqlite.insert(HandledRequest).values(
            key=bindparam("key"), handled_at=bindparam("handled_at")
        )
    built = statement.on_conflict_do_nothing(index_elements=["key"]).returning(HandledRequest.key)
    _CLAIM_STATEMENTS[dialect] = built
    return built


_CLAIM_STATEMENTS: dict[str, Executable] = {}


def claim_request(connection: Connection, key: str, now: datetime) -> bool:
    """Record `key`, handled at `now`; False when it was recorded before (a retry or a replay).

    Core and one statement: this runs on every request, before Slack gets its answer. Give
    it a connection of its own (`Database.single_statement()`): on PostgreSQL it commits by
    itself, asynchronously.
    """
    statement = _claim_statement(connection.dialect.name)
    # RETURNING, not rowcount: an ORM-executed INSERT may report rowcount -1.
    return connection.execute(statement, {"key": key, "handled_at": now}).first() is not None


def release_request(session: Session, key: str) -> None:
    """Forget `key` after a failed attempt, so Slack's retry is handled for real."""
    session.execute(delete(HandledRequest).where(HandledRequest.key == key))


def prune_handled_requests(session: Session, older_than: datetime) -> int:
    """Slack retries within minutes; keys older than that only take space."""
    result = session.execute(delete(HandledRequest).where(HandledRequest.handled_at < older_than))
    assert isinstance(result, CursorResult)
    return result.rowcount
