"""Leases on claimed work: which instance holds a claim, and whether that instance still lives.

Every running instance has a row in `instances` whose `last_seen` it renews (bot.leases). A
piece of work (a survey DM, a deal digest, a 1:1 DM, the weekly summary) is claimed by writing
the claimer's instance id beside the claim time. The claim is a lease: it holds while its
instance keeps renewing, and lapses once that instance has not been seen for the lease period
(killed, or gone) or its row is gone (it stopped and handed its claims back). A claim without an
owner (made before leases existed) lapses one lease period after it was made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, delete, exists, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Mapped, Session, mapped_column

from storage.base import Base, UTCDateTime, upsert_statement


class Instance(Base):
    """A running pulsebot instance: alive while it renews `last_seen`."""

    __tablename__ = "instances"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


def renew_instance(session: Session, instance: str, now: datetime) -> None:
    """Record that `instance` is alive at `now` (its row made on the first renewal). Never
    backwards: a job's `now` may be older than the heartbeat's."""
    statement = upsert_statement(session, Instance).values(
        id=instance, started_at=now, last_seen=now
    )
    later = case((Instance.last_seen < now, now), else_=Instance.last_seen)
    session.execute(
        statement.on_conflict_do_update(index_elements=["id"], set_={"last_seen": later})
    )


def forget_instance(session: Session, instance: str) -> None:
    """The instance stopped: every claim it still holds lapses at once."""
    session.execute(delete(Instance).where(Instance.id == instance))


def forget_instances_unseen_since(session: Session, before: datetime) -> int:
    """Rows of instances long gone (their claims lapsed long ago); returns how many."""
    result = session.execute(delete(Instance).where(Instance.last_seen < before))
    return int(getattr(result, "rowcount", 0) or 0)


def live_instances(session: Session, seen_since: datetime) -> list[str]:
    return list(session.scalars(select(Instance.id).where(Instance.last_seen >= seen_since)))


def lapsed(
    owner: InstrumentedAttribute[str | None],
    claimed_at: InstrumentedAttribute[Any],
    cutoff: datetime,
) -> ColumnElement[bool]:
    """A claim whose lease has lapsed at `cutoff` (now − the lease period): its owner was not
    seen since then (or is gone); an ownerless claim, when it was made before then."""
    owner_alive = exists().where(Instance.id == owner, Instance.last_seen >= cutoff)
    return and_(
        claimed_at.is_not(None),
        ~owner_alive,
        or_(owner.is_not(None), claimed_at < cutoff),
    )


def take_over(
    session: Session,
    table: type[Base],
    match: ColumnElement[bool],
    *,
    owner: InstrumentedAttribute[str | None],
    previous_owner: str | None,
    instance: str,
    claimed_at: InstrumentedAttribute[Any],
    now: datetime,
) -> bool:
    """Make a lapsed claim ours, compare-and-set on its owner: of several instances taking
    over at once, one wins. The claim's time is renewed with it."""
    same_owner = owner.is_(None) if previous_owner is None else owner == previous_owner
    result = session.execute(
        update(table).where(match, same_owner).values({owner.key: instance, claimed_at.key: now})
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1
