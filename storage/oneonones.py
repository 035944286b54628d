"""One-to-ones: series, their occurrences, shared agenda topics and private notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import (
    CursorResult,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Mapped, Session, mapped_column
from sqlalchemy.sql.dml import Update

from storage.base import Base, UTCDateTime, upsert_statement
from storage.leases import lapsed

MAX_TOPIC = 500
MAX_NOTE = 3000

# Occurrence statuses. `held`: its start time passed without a skip or a cancel.
SCHEDULED = "scheduled"
HELD = "held"
SKIPPED = "skipped"
CANCELLED = "cancelled"

TopicKind = Literal["topic", "followup"]
# The three DMs of one occurrence, each claimed once through its marker column.
Notice = Literal["day_before", "hour_before", "after"]


class OneOnOneSeries(Base):
    """A manager's regular 1:1 with one person, at a wall-clock time in the manager's zone."""

    __tablename__ = "oneonone_series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    manager_id: Mapped[str] = mapped_column(String(32), index=True)
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    # The two ids sorted and joined while the series is active, NULL once cancelled: unique,
    # so two people have at most one active series, whoever scheduled it.
    pair_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    every_weeks: Mapped[int] = mapped_column(Integer)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    at_time: Mapped[str] = mapped_column(String(5))  # HH:MM in `timezone`
    minutes: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    anchor_date: Mapped[date] = mapped_column(Date)  # the first occurrence's local date
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OneOnOneOccurrence(Base):
    """One meeting of a series; the marker columns make each of its DMs go once."""

    __tablename__ = "oneonone_occurrences"
    __table_args__ = (
        UniqueConstraint("series_id", "local_date"),
        Index("ix_oneonone_occurrences_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("oneonone_series.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    day_before_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hour_before_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    after_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set once both people are known to have the DM; claimed and not done for long means the
    # sender was interrupted, and the tick completes it from the DM history.
    day_before_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hour_before_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    after_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The instance whose lease covers each claim (storage.leases); None: claimed before leases.
    day_before_by: Mapped[str | None] = mapped_column(String(32))
    hour_before_by: Mapped[str | None] = mapped_column(String(32))
    after_by: Mapped[str | None] = mapped_column(String(32))


class OneOnOneTopic(Base):
    """An agenda item, seen by the two people of the series only.

    A topic stays on the agenda until a meeting is held after it was added (`held_in`); a
    follow-up stays until someone marks it done, so open follow-ups carry over.
    """

    __tablename__ = "oneonone_topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("oneonone_series.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(MAX_TOPIC))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    held_in: Mapped[int | None] = mapped_column(
        ForeignKey("oneonone_occurrences.id", ondelete="SET NULL")
    )
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OneOnOneNote(Base):
    """Private notes: read and written by their author only. `scope` is `notes` (the running
    notes of the series) or `outcome:<occurrence id>` (what one meeting settled)."""

    __tablename__ = "oneonone_notes"
    __table_args__ = (UniqueConstraint("series_id", "author_id", "scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("oneonone_series.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# ---- plain records ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeriesRecord:
    id: int
    manager_id: str
    person_id: str
    every_weeks: int
    weekday: int
    at_time: str
    minutes: int
    timezone: str
    anchor_date: date
    created_at: datetime
    cancelled_at: datetime | None

    def other(self, user_id: str) -> str:
        return self.person_id if user_id == self.manager_id else self.manager_id

    def has(self, user_id: str) -> bool:
        return user_id in (self.manager_id, self.person_id)


@dataclass(frozen=True, slots=True)
class OccurrenceRecord:
    id: int
    series_id: int
    local_date: date
    starts_at: datetime
    ends_at: datetime
    status: str


@dataclass(frozen=True, slots=True)
class TopicRecord:
    id: int
    author_id: str
    kind: str
    text: str
    created_at: datetime


def pair_key(a: str, b: str) -> str:
    return "|".join(sorted((a, b)))


def _series(row: OneOnOneSeries) -> SeriesRecord:
    return SeriesRecord(
        id=row.id,
        manager_id=row.manager_id,
        person_id=row.person_id,
        every_weeks=row.every_weeks,
        weekday=row.weekday,
        at_time=row.at_time,
        minutes=row.minutes,
        timezone=row.timezone,
        anchor_date=row.anchor_date,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
    )


def _occurrence(row: OneOnOneOccurrence) -> OccurrenceRecord:
    return OccurrenceRecord(
        row.id, row.series_id, row.local_date, row.starts_at, row.ends_at, row.status
    )


def _changed(session: Session, statement: Update) -> int:
    """Run an UPDATE; how many rows it changed."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount


# ---- series -----------------------------------------------------------------------------------


def add_series(
    session: Session,
    *,
    manager_id: str,
    person_id: str,
    every_weeks: int,
    weekday: int,
    at_time: str,
    minutes: int,
    timezone: str,
    anchor_date: date,
    now: datetime,
) -> SeriesRecord | None:
    """A new active series; None when the two already have one (the unique pair key)."""
    statement = (
        upsert_statement(session, OneOnOneSeries)
        .values(
            manager_id=manager_id,
            person_id=person_id,
            pair_key=pair_key(manager_id, person_id),
            every_weeks=every_weeks,
            weekday=weekday,
            at_time=at_time,
            minutes=minutes,
            timezone=timezone,
            anchor_date=anchor_date,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["pair_key"])
        .returning(OneOnOneSeries.id)
    )
    new_id = session.execute(statement).scalar()
    if new_id is None:
        return None
    return get_series(session, new_id)


def get_series(session: Session, series_id: int) -> SeriesRecord | None:
    row = session.get(OneOnOneSeries, series_id)
    return None if row is None else _series(row)


def active_series_between(session: Session, a: str, b: str) -> SeriesRecord | None:
    row = session.scalars(
        select(OneOnOneSeries).where(OneOnOneSeries.pair_key == pair_key(a, b))
    ).first()
    return None if row is None else _series(row)


def active_series_of(session: Session, user_id: str) -> list[SeriesRecord]:
    """The active series a person is in, on either side; nobody else's."""
    rows = session.scalars(
        select(OneOnOneSeries)
        .where(
            OneOnOneSeries.pair_key.is_not(None),
            or_(OneOnOneSeries.manager_id == user_id, OneOnOneSeries.person_id == user_id),
        )
        .order_by(OneOnOneSeries.id)
    )
    return [_series(row) for row in rows]


def cancel_series(session: Session, series_id: int, now: datetime) -> bool:
    """End a series and its upcoming occurrence; False when it had already ended."""
    ended = _changed(
        session,
        update(OneOnOneSeries)
        .where(OneOnOneSeries.id == series_id, OneOnOneSeries.pair_key.is_not(None))
        .values(pair_key=None, cancelled_at=now),
    )
    _changed(
        session,
        update(OneOnOneOccurrence)
        .where(OneOnOneOccurrence.series_id == series_id, OneOnOneOccurrence.status == SCHEDULED)
        .values(status=CANCELLED),
    )
    return bool(ended)


def all_series(session: Session) -> list[SeriesRecord]:
    return [_series(row) for row in session.scalars(select(OneOnOneSeries))]


# ---- occurrences ------------------------------------------------------------------------------


def add_occurrence(
    session: Session, series_id: int, local_date: date, starts_at: datetime, ends_at: datetime
) -> bool:
    """The occurrence of that local date, once; False when it existed already."""
    statement = (
        upsert_statement(session, OneOnOneOccurrence)
        .values(
            series_id=series_id,
            local_date=local_date,
            starts_at=starts_at,
            ends_at=ends_at,
            status=SCHEDULED,
        )
        .on_conflict_do_nothing(index_elements=["series_id", "local_date"])
        .returning(OneOnOneOccurrence.id)
    )
    return session.execute(statement).first() is not None


def get_occurrence(session: Session, occurrence_id: int) -> OccurrenceRecord | None:
    row = session.get(OneOnOneOccurrence, occurrence_id)
    return None if row is None else _occurrence(row)


def upcoming_occurrence(session: Session, series_id: int) -> OccurrenceRecord | None:
    row = session.scalars(
        select(OneOnOneOccurrence)
        .where(OneOnOneOccurrence.series_id == series_id, OneOnOneOccurrence.status == SCHEDULED)
        .order_by(OneOnOneOccurrence.starts_at)
    ).first()
    return None if row is None else _occurrence(row)


def latest_occurrence(session: Session, series_id: int) -> OccurrenceRecord | None:
    row = session.scalars(
        select(OneOnOneOccurrence)
        .where(OneOnOneOccurrence.series_id == series_id)
        .order_by(OneOnOneOccurrence.local_date.desc())
    ).first()
    return None if row is None else _occurrence(row)


def set_status(session: Session, occurrence_id: int, old: str, new: str) -> bool:
    """Move an occurrence from `old` to `new`; False when someone else moved it first."""
    changed = _changed(
        session,
        update(OneOnOneOccurrence)
        .where(OneOnOneOccurrence.id == occurrence_id, OneOnOneOccurrence.status == old)
        .values(status=new),
    )
    return bool(changed)


def started(session: Session, now: datetime) -> list[OccurrenceRecord]:
    """Scheduled occurrences whose start has come: they are held now."""
    rows = session.scalars(
        select(OneOnOneOccurrence)
        .where(OneOnOneOccurrence.status == SCHEDULED, OneOnOneOccurrence.starts_at <= now)
        .order_by(OneOnOneOccurrence.starts_at)
    )
    return [_occurrence(row) for row in rows]


_MARKERS: dict[Notice, InstrumentedAttribute[datetime | None]] = {
    "day_before": OneOnOneOccurrence.day_before_at,
    "hour_before": OneOnOneOccurrence.hour_before_at,
    "after": OneOnOneOccurrence.after_at,
}


def due_for(
    session: Session,
    notice: Notice,
    *,
    status: str,
    by_end: bool,
    after: datetime,
    before: datetime,
) -> list[OccurrenceRecord]:
    """Occurrences in `status` whose notice is not yet claimed and whose start (or, with
    `by_end`, end) is in (after, before]."""
    column = OneOnOneOccurrence.ends_at if by_end else OneOnOneOccurrence.starts_at
    rows = session.scalars(
        select(OneOnOneOccurrence)
        .where(
            OneOnOneOccurrence.status == status,
            _MARKERS[notice].is_(None),
            column <= before,
            column > after,
        )
        .order_by(column)
    )
    return [_occurrence(row) for row in rows]


_OWNERS: dict[Notice, InstrumentedAttribute[str | None]] = {
    "day_before": OneOnOneOccurrence.day_before_by,
    "hour_before": OneOnOneOccurrence.hour_before_by,
    "after": OneOnOneOccurrence.after_by,
}


def claim_notice(
    session: Session, occurrence_id: int, notice: Notice, now: datetime, *, instance: str
) -> bool:
    """Mark a notice as sent before sending it, under `instance`'s lease; False when another
    tick claimed it first."""
    marker = _MARKERS[notice]
    claimed = _changed(
        session,
        update(OneOnOneOccurrence)
        .where(OneOnOneOccurrence.id == occurrence_id, marker.is_(None))
        .values({marker.key: now, _OWNERS[notice].key: instance}),
    )
    return bool(claimed)


_DONE: dict[Notice, InstrumentedAttribute[datetime | None]] = {
    "day_before": OneOnOneOccurrence.day_before_done_at,
    "hour_before": OneOnOneOccurrence.hour_before_done_at,
    "after": OneOnOneOccurrence.after_done_at,
}


def finish_notice(session: Session, occurrence_id: int, notice: Notice, now: datetime) -> None:
    session.execute(
        update(OneOnOneOccurrence)
        .where(OneOnOneOccurrence.id == occurrence_id)
        .values({_DONE[notice].key: now})
    )


def hand_back_notice(session: Session, occurrence_id: int, notice: Notice) -> None:
    """Leave a claim to be completed after one lease period by whichever instance takes it."""
    session.execute(
        update(OneOnOneOccurrence)
        .where(OneOnOneOccurrence.id == occurrence_id)
        .values({_OWNERS[notice].key: None})
    )


def lapsed_notices(
    session: Session, *, claimed_after: datetime, cutoff: datetime
) -> list[tuple[OccurrenceRecord, Notice, str | None]]:
    """Notices claimed after `claimed_after` under a lease that has lapsed at `cutoff`
    (storage.leases) and never finished, with their owner."""
    found: list[tuple[OccurrenceRecord, Notice, str | None]] = []
    for notice, marker in _MARKERS.items():
        owner = _OWNERS[notice]
        rows = session.execute(
            select(OneOnOneOccurrence, owner).where(
                marker > claimed_after, _DONE[notice].is_(None), lapsed(owner, marker, cutoff)
            )
        )
        found.extend((_occurrence(row), notice, by) for row, by in rows)
    return found


def take_over_notice(
    session: Session,
    occurrence_id: int,
    notice: Notice,
    *,
    previous_owner: str | None,
    instance: str,
    now: datetime,
) -> bool:
    """Make a lapsed notice claim `instance`'s own; False when another instance won. The claim
    keeps its time (it says when the notice was first due to go), only its owner changes."""
    owner = _OWNERS[notice]
    same_owner = owner.is_(None) if previous_owner is None else owner == previous_owner
    return bool(
        _changed(
            session,
            update(OneOnOneOccurrence)
            .where(
                OneOnOneOccurrence.id == occurrence_id,
                _DONE[notice].is_(None),
                same_owner,
            )
            .values({owner.key: instance}),
        )
    )


def week_counts(session: Session, start: datetime, end: datetime, now: datetime) -> tuple[int, int]:
    """Occurrences held and skipped with a start in [start, end)."""
    in_week = and_(OneOnOneOccurrence.starts_at >= start, OneOnOneOccurrence.starts_at < end)
    held = session.scalar(
        select(func.count()).where(
            in_week,
            OneOnOneOccurrence.status.in_([SCHEDULED, HELD]),
            OneOnOneOccurrence.starts_at <= now,
        )
    )
    skipped = session.scalar(
        select(func.count()).where(in_week, OneOnOneOccurrence.status == SKIPPED)
    )
    return int(held or 0), int(skipped or 0)


def last_held_before(session: Session, series_id: int, moment: datetime) -> datetime | None:
    value = session.scalar(
        select(func.max(OneOnOneOccurrence.starts_at)).where(
            OneOnOneOccurrence.series_id == series_id,
            OneOnOneOccurrence.status.in_([SCHEDULED, HELD]),
            OneOnOneOccurrence.starts_at < moment,
        )
    )
    return value  # max() keeps the column's type: an aware UTC datetime, or None


# ---- topics -----------------------------------------------------------------------------------


def add_topic(
    session: Session, series_id: int, author_id: str, kind: TopicKind, text: str, *, now: datetime
) -> int:
    row = OneOnOneTopic(
        series_id=series_id, author_id=author_id, kind=kind, text=text[:MAX_TOPIC], created_at=now
    )
    session.add(row)
    session.flush()
    return row.id


def agenda(session: Session, series_id: int) -> list[TopicRecord]:
    """Open follow-ups first, then topics not yet discussed, oldest first."""
    rows = session.scalars(
        select(OneOnOneTopic)
        .where(
            OneOnOneTopic.series_id == series_id,
            or_(
                and_(OneOnOneTopic.kind == "topic", OneOnOneTopic.held_in.is_(None)),
                and_(OneOnOneTopic.kind == "followup", OneOnOneTopic.done_at.is_(None)),
            ),
        )
        .order_by(
            case((OneOnOneTopic.kind == "followup", 0), else_=1),
            OneOnOneTopic.created_at,
            OneOnOneTopic.id,
        )
    )
    return [TopicRecord(r.id, r.author_id, r.kind, r.text, r.created_at) for r in rows]


def mark_topics_held(session: Session, series_id: int, occurrence_id: int, start: datetime) -> int:
    """Topics added before a meeting started were its agenda: they leave the next one."""
    return _changed(
        session,
        update(OneOnOneTopic)
        .where(
            OneOnOneTopic.series_id == series_id,
            OneOnOneTopic.kind == "topic",
            OneOnOneTopic.held_in.is_(None),
            OneOnOneTopic.created_at <= start,
        )
        .values(held_in=occurrence_id),
    )


def close_followups(session: Session, series_id: int, topic_ids: list[int], now: datetime) -> int:
    if not topic_ids:
        return 0
    return _changed(
        session,
        update(OneOnOneTopic)
        .where(
            OneOnOneTopic.series_id == series_id,
            OneOnOneTopic.kind == "followup",
            OneOnOneTopic.id.in_(topic_ids),
            OneOnOneTopic.done_at.is_(None),
        )
        .values(done_at=now),
    )


# ---- private notes ----------------------------------------------------------------------------


def note_of(session: Session, series_id: int, author_id: str, scope: str) -> str | None:
    """The author's own note; there is deliberately no way to read another person's."""
    return session.scalar(
        select(OneOnOneNote.text).where(
            OneOnOneNote.series_id == series_id,
            OneOnOneNote.author_id == author_id,
            OneOnOneNote.scope == scope,
        )
    )


def save_note(
    session: Session, series_id: int, author_id: str, scope: str, text: str, *, now: datetime
) -> None:
    statement = upsert_statement(session, OneOnOneNote).values(
        series_id=series_id, author_id=author_id, scope=scope, text=text[:MAX_NOTE], updated_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["series_id", "author_id", "scope"],
            set_={"text": statement.excluded.text, "updated_at": statement.excluded.updated_at},
        )
    )
