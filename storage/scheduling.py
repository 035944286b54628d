"""The keys of scheduled effects done: what a job firing twice, or after a restart, reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base, UTCDateTime, upsert_statement
from storage.leases import lapsed, take_over


class ScheduledEffect(Base):
    """One row per scheduled effect done (`summary:2026-W48`), so a job firing twice acts once."""

    __tablename__ = "scheduled_effects"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # For an effect in progress: the instance whose lease covers it (storage.leases).
    claimed_by: Mapped[str | None] = mapped_column(String(32))


def claim_effect(session: Session, key: str, now: datetime, *, instance: str | None = None) -> bool:
    """Record `key` as done at `now` (an in-progress key: claimed under `instance`'s lease);
    False when it was recorded before (the effect was already done)."""
    statement = (
        upsert_statement(session, ScheduledEffect)
        .values(key=key, done_at=now, claimed_by=instance)
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


def lapsed_effects_in_progress(
    session: Session, prefix: str, cutoff: datetime
) -> list[tuple[str, datetime, str | None]]:
    """(effect key, claimed at, owner) of effects in progress under a lease that has lapsed at
    `cutoff` (storage.leases)."""
    rows = session.execute(
        select(ScheduledEffect.key, ScheduledEffect.done_at, ScheduledEffect.claimed_by).where(
            ScheduledEffect.key.startswith(prefix, autoescape=True),
            ScheduledEffect.key.endswith(IN_PROGRESS, autoescape=True),
            lapsed(ScheduledEffect.claimed_by, ScheduledEffect.done_at, cutoff),
        )
    )
    return [(key.removesuffix(IN_PROGRESS), at, by) for key, at, by in rows]


def take_over_effect(
    session: Session, key: str, previous_owner: str | None, instance: str, now: datetime
) -> bool:
    """Make an interrupted effect ours (compare and set: only one instance wins it)."""
    return take_over(
        session,
        ScheduledEffect,
        ScheduledEffect.key == key + IN_PROGRESS,
        owner=ScheduledEffect.claimed_by,
        previous_owner=previous_owner,
        instance=instance,
        claimed_at=ScheduledEffect.done_at,
        now=now,
    )


def finish_effect(session: Session, key: str, now: datetime) -> None:
    """The effect is done at `now`: its key recorded, its in-progress claim gone."""
    claim_effect(session, key, now)
    release_effect(session, key + IN_PROGRESS)
