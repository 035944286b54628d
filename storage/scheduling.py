"""The keys of scheduled effects done: what a job firing twice, or after a restart, reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base, UTCDateTime, upsert_statement


class ScheduledEffect(Base):
    """One row per scheduled effect done (`summary:2026-W48`), so a job firing twice acts once."""

    __tablename__ = "scheduled_effects"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())


def claim_effect(session: Session, key: str, now: datetime) -> bool:
    """Record `key` as done at `now`; False when it was recorded before (the effect was
    already done)."""
    statement = (
        upsert_statement(session, ScheduledEffect)
        .values(key=key, done_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(ScheduledEffect.key)
    )
    return session.execute(statement).first() is not None


def effect_done(session: Session, key: str) -> bool:
    return session.get(ScheduledEffect, key) is not None


def release_effect(session: Session, key: str) -> None:
    """Forget `key`, so the next firing does the effect: for when doing it failed."""
    session.execute(delete(ScheduledEffect).where(ScheduledEffect.key == key))


def forget_effects(session: Session, prefix: str) -> None:
    """Forget every key starting with `prefix` (keys of an effect that is over for good)."""
    session.execute(
        delete(ScheduledEffect).where(ScheduledEffect.key.startswith(prefix, autoescape=True))
    )


# An effect being done right now (`summary:2026-W48:in-progress`) until its own key is recorded.
IN_PROGRESS = ":in-progress"


def effects_in_progress_since(
    session: Session, prefix: str, before: datetime
) -> list[tuple[str, datetime]]:
    """(effect key, claimed at) of effects started before `before` and not finished since."""
    rows = session.execute(
        select(ScheduledEffect.key, ScheduledEffect.done_at).where(
            ScheduledEffect.key.startswith(prefix, autoescape=True),
            ScheduledEffect.key.endswith(IN_PROGRESS, autoescape=True),
            ScheduledEffect.done_at < before,
        )
    )
    return [(key.removesuffix(IN_PROGRESS), claimed_at) for key, claimed_at in rows]


def take_over_effect(session: Session, key: str, claimed_at: datetime, now: datetime) -> bool:
    """Make an interrupted effect ours (compare and set: only one instance wins it)."""
    result = session.execute(
        update(ScheduledEffect)
        .where(ScheduledEffect.key == key + IN_PROGRESS, ScheduledEffect.done_at == claimed_at)
        .values(done_at=now)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def finish_effect(session: Session, key: str, now: datetime) -> None:
    """The effect is done at `now`: its key recorded, its in-progress claim gone."""
    claim_effect(session, key, now)
    release_effect(session, key + IN_PROGRESS)
