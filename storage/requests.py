"""Keys of Slack deliveries already handled, so retries and replays change nothing twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, String, bindparam, delete, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base, UTCDateTime, utcnow


class HandledRequest(Base):
    __tablename__ = "handled_requests"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")
# Built once per dialect: this runs on every request, before Slack gets its answer.
_CLAIMS = {
    name: dialect.insert(HandledRequest.__table__)
    .values(key=bindparam("key"), handled_at=bindparam("handled_at"))
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(HandledRequest.__table__.c.key)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def claim_request(connection: Connection, key: str) -> bool:
    """Record `key`; False when it was recorded before (a retry or a replay)."""
    if connection.dialect.name == "postgresql":
        # Losing this row in a server crash only means one retry is handled again; not
        # waiting for the WAL flush keeps the ack fast.
        connection.execute(_ASYNC_COMMIT)
    claim = _CLAIMS[connection.dialect.name]
    # RETURNING, not rowcount: psycopg may report rowcount -1 for this statement.
    return connection.execute(claim, {"key": key, "handled_at": utcnow()}).first() is not None


def release_request(session: Session, key: str) -> None:
    """Forget `key` after a failed attempt, so Slack's retry is handled for real."""
    session.execute(delete(HandledRequest).where(HandledRequest.key == key))


def prune_handled_requests(session: Session, older_than: datetime) -> int:
    """Slack retries within minutes; keys older than that only take space."""
    result = session.execute(delete(HandledRequest).where(HandledRequest.handled_at < older_than))
    assert isinstance(result, CursorResult)
    return result.rowcount
