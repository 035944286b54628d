"""Deals and their event history: models and queries, including the pipeline metrics in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    and_,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from storage.base import Base, UTCDateTime, upsert_statement, utcnow

MAX_NAME = 100
MAX_TEXT = 2000


class Deal(Base):
    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    # The name folded for case-insensitive matching; unique, so two deals never share a name.
    name_key: Mapped[str] = mapped_column(String(MAX_NAME * 2), unique=True)
    owner_id: Mapped[str] = mapped_column(String(32), index=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    stage: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str | None] = mapped_column(String(MAX_NAME))
    close_date: Mapped[date | None] = mapped_column(Date)
    next_step: Mapped[str | None] = mapped_column(String(MAX_TEXT))
    next_step_due: Mapped[date | None] = mapped_column(Date)
    lost_reason: Mapped[str | None] = mapped_column(String(MAX_TEXT))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_step_reminded_on: Mapped[date | None] = mapped_column(Date)


class DealEvent(Base):
    """One change to a deal. Nothing about a deal changes without one of these."""

    __tablename__ = "deal_events"
    __table_args__ = (
        Index("ix_deal_events_deal_id_at", "deal_id", "at"),
        Index("ix_deal_events_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[str] = mapped_column(String(32))
    # created | stage | note | next_step | amount | owner | snooze
    kind: Mapped[str] = mapped_column(String(16))
    from_stage: Mapped[str | None] = mapped_column(String(32))
    to_stage: Mapped[str | None] = mapped_column(String(32), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    # Field changes as {"field": [old, new]} with values as text.
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class OwnerNudge(Base):
    """One stale-deal digest per owner and local day: the job may run often, the DM goes once."""

    __tablename__ = "owner_nudges"

    owner_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------------------------------------
# Lookups


def get_deal(session: Session, deal_id: int, *, for_update: bool = False) -> Deal | None:
    statement = select(Deal).where(Deal.id == deal_id)
    if for_update:
        # PostgreSQL serialises commands on one deal with a row lock; SQLite's BEGIN IMMEDIATE
        # already holds the database write lock for the whole transaction.
        statement = statement.with_for_update()
    return session.scalars(statement).first()


def find_by_key(session: Session, name_key: str, *, for_update: bool = False) -> Deal | None:
    statement = select(Deal).where(Deal.name_key == name_key)
    if for_update:
        statement = statement.with_for_update()
    return session.scalars(statement).first()


def search_names(session: Session, fragment_key: str, limit: int = 10) -> list[tuple[int, str]]:
    """Deals whose folded name contains the fragment: ids and names, shortest first."""
    pattern = "%" + fragment_key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = session.execute(
        select(Deal.id, Deal.name)
        .where(Deal.name_key.like(pattern, escape="\\"))
        .order_by(func.length(Deal.name), Deal.id)
        .limit(limit)
    )
    return [(row.id, row.name) for row in rows]


def all_names(session: Session) -> list[tuple[int, str, str]]:
    """(id, name, key) of every deal, for "did you mean" suggestions."""
    rows = session.execute(select(Deal.id, Deal.name, Deal.name_key).order_by(Deal.id))
    return [(row.id, row.name, row.name_key) for row in rows]


def deal_history(session: Session, deal_id: int, limit: int | None = None) -> list[DealEvent]:
    statement = (
        select(DealEvent)
        .where(DealEvent.deal_id == deal_id)
        .order_by(DealEvent.at.desc(), DealEvent.id.desc())
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def list_deals(
    session: Session,
    *,
    owner_id: str | None = None,
    stages: Sequence[str] | None = None,
    limit: int = 100,
) -> list[Deal]:
    statement = select(Deal)
    if owner_id is not None:
        statement = statement.where(Deal.owner_id == owner_id)
    if stages is not None:
        statement = statement.where(Deal.stage.in_(stages))
    statement = statement.order_by(Deal.stage, Deal.last_activity_at.desc()).limit(limit)
    return list(session.scalars(statement))


def count_deals(
    session: Session, *, owner_id: str | None = None, stages: Sequence[str] | None = None
) -> int:
    statement = select(func.count()).select_from(Deal)
    if owner_id is not None:
        statement = statement.where(Deal.owner_id == owner_id)
    if stages is not None:
        statement = statement.where(Deal.stage.in_(stages))
    return int(session.scalar(statement) or 0)


def stale_condition(
    stale_days: dict[str, int], now: datetime, days_since: DaysSince
) -> ColumnElement[bool]:
    """Open deals idle longer than their stage allows and not snoozed."""
    per_stage = [
        and_(Deal.stage == stage, days_since(Deal.last_activity_at, now) >= days)
        for stage, days in stale_days.items()
    ]
    return and_(
        or_(*per_stage) if per_stage else literal(False),
        or_(Deal.snoozed_until.is_(None), Deal.snoozed_until <= now),
    )


def stale_deals(
    session: Session,
    stale_days: dict[str, int],
    now: datetime,
    *,
    owner_id: str | None = None,
    limit: int = 200,
) -> list[Deal]:
    days_since = DaysSince.for_session(session)
    statement = select(Deal).where(stale_condition(stale_days, now, days_since))
    if owner_id is not None:
        statement = statement.where(Deal.owner_id == owner_id)
    return list(session.scalars(statement.order_by(Deal.last_activity_at).limit(limit)))


def owners_with_work(
    session: Session, stale_days: dict[str, int], now: datetime, horizon: date
) -> list[str]:
    """Owners with a stale deal or a next step due by `horizon` (their local today or earlier)."""
    days_since = DaysSince.for_session(session)
    open_stages = list(stale_days)
    statement = (
        select(Deal.owner_id)
        .where(
            or_(
                stale_condition(stale_days, now, days_since),
                and_(
                    Deal.stage.in_(open_stages),
                    Deal.next_step_due.is_not(None),
                    Deal.next_step_due <= horizon,
                ),
            )
        )
        .distinct()
        .order_by(Deal.owner_id)
    )
    return list(session.scalars(statement))


def due_next_steps(
    session: Session, owner_id: str, open_stages: Sequence[str], day: date
) -> list[Deal]:
    """Open deals of `owner_id` whose next step is due on `day` (or overdue and never reminded)."""
    statement = select(Deal).where(
        Deal.owner_id == owner_id,
        Deal.stage.in_(open_stages),
        Deal.next_step_due.is_not(None),
        Deal.next_step_due <= day,
        or_(Deal.next_step_reminded_on.is_(None), Deal.next_step_reminded_on < Deal.next_step_due),
    )
    return list(session.scalars(statement.order_by(Deal.next_step_due, Deal.id)))


# ---------------------------------------------------------------------------------------------
# Metrics, computed in SQL


class DaysSince:
    """Fractional days between a timestamp column and `now`, in the session's SQL dialect."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    @classmethod
    def for_session(cls, session: Session) -> DaysSince:
        return cls(session.get_bind().dialect.name)

    def between(self, start: Any, end: Any) -> ColumnElement[Any]:
        if self.dialect == "postgresql":
            return func.extract("epoch", end - start) / 86400.0
        return func.julianday(end) - func.julianday(start)

    def __call__(self, column: Any, now: datetime) -> ColumnElement[Any]:
        # Stored as naive UTC, so compare with a naive UTC literal.
        return self.between(column, literal(now.replace(tzinfo=None), type_=UTCDateTime().impl))


@dataclass(frozen=True)
class StageTotals:
    stage: str
    currency: str
    count: int
    amount: Decimal
    weighted: Decimal


def stage_totals(session: Session, probabilities: dict[str, int]) -> list[StageTotals]:
    """Count, amount and Σ amount × probability per open stage and currency."""
    probability = case(*[(Deal.stage == stage, p) for stage, p in probabilities.items()], else_=0)
    amount = func.coalesce(Deal.amount, 0)
    rows = session.execute(
        select(
            Deal.stage,
            Deal.currency,
            func.count(),
            func.sum(amount),
            func.sum(amount * probability),
        )
        .where(Deal.stage.in_(list(probabilities)))
        .group_by(Deal.stage, Deal.currency)
    )
    return [
        StageTotals(
            stage=row[0],
            currency=row[1],
            count=int(row[2]),
            amount=Decimal(row[3] or 0).quantize(Decimal("0.01")),
            weighted=(Decimal(row[4] or 0) / 100).quantize(Decimal("0.01")),
        )
        for row in rows
    ]


def closed_counts(session: Session, won: str, lost: str) -> tuple[int, int]:
    rows = dict(
        session.execute(
            select(Deal.stage, func.count()).where(Deal.stage.in_([won, lost])).group_by(Deal.stage)
        ).all()
    )
    return int(rows.get(won, 0)), int(rows.get(lost, 0))


def won_averages(session: Session, won: str) -> tuple[Decimal | None, float | None]:
    """Average won amount and average days from creation to win."""
    days = DaysSince.for_session(session).between(Deal.created_at, Deal.closed_at)
    row = session.execute(
        select(func.avg(Deal.amount), func.avg(days)).where(
            Deal.stage == won, Deal.closed_at.is_not(None)
        )
    ).one()
    average_amount = None if row[0] is None else Decimal(row[0]).quantize(Decimal("0.01"))
    return average_amount, None if row[1] is None else float(row[1])


def stage_conversion(session: Session, order: Sequence[str]) -> dict[str, tuple[int, int]]:
    """For each stage: (deals that entered it, of those, deals that later reached a later stage).

    `order` is the open stages followed by the won stage; a deal reached "a later stage" when a
    later event moved it to any stage after this one (skipping counts as passing through).
    """
    entered = aliased(DealEvent)
    later = aliased(DealEvent)
    result: dict[str, tuple[int, int]] = {}
    rank = {stage: index for index, stage in enumerate(order)}
    for stage in order[:-1]:
        beyond = [s for s in order if rank[s] > rank[stage]]
        reached = (
            select(later.id)
            .where(
                later.deal_id == entered.deal_id,
                later.to_stage.in_(beyond),
                later.at >= entered.at,
            )
            .exists()
        )
        row = session.execute(
            select(
                func.count(func.distinct(entered.deal_id)),
                func.count(func.distinct(case((reached, entered.deal_id)))),
            ).where(entered.to_stage == stage)
        ).one()
        result[stage] = (int(row[0]), int(row[1]))
    return result


def average_days_in_stage(session: Session, now: datetime) -> dict[str, float]:
    """Mean days between entering a stage and the deal's next stage change (finished stays)."""
    days_since = DaysSince.for_session(session)
    next_at = (
        func.lead(DealEvent.at)
        .over(partition_by=DealEvent.deal_id, order_by=(DealEvent.at, DealEvent.id))
        .label("next_at")
    )
    moves = (
        select(DealEvent.to_stage.label("stage"), DealEvent.at.label("at"), next_at)
        .where(DealEvent.to_stage.is_not(None))
        .subquery()
    )
    rows = session.execute(
        select(moves.c.stage, func.avg(days_since.between(moves.c.at, moves.c.next_at)))
        .where(moves.c.next_at.is_not(None))
        .group_by(moves.c.stage)
    )
    return {row[0]: float(row[1]) for row in rows if row[1] is not None}


@dataclass(frozen=True)
class SourceConversion:
    source: str | None
    total: int
    won: int
    lost: int


def conversion_by_source(session: Session, won: str, lost: str) -> list[SourceConversion]:
    rows = session.execute(
        select(
            Deal.source,
            func.count(),
            func.sum(case((Deal.stage == won, 1), else_=0)),
            func.sum(case((Deal.stage == lost, 1), else_=0)),
        )
        .group_by(Deal.source)
        .order_by(func.count().desc(), Deal.source)
    )
    return [
        SourceConversion(source=row[0], total=int(row[1]), won=int(row[2]), lost=int(row[3]))
        for row in rows
    ]


def all_events(session: Session) -> list[tuple[Deal, DealEvent]]:
    """Every event with its deal, oldest first: the CSV export."""
    rows = session.execute(
        select(Deal, DealEvent)
        .join(DealEvent, DealEvent.deal_id == Deal.id)
        .order_by(Deal.id, DealEvent.at, DealEvent.id)
    )
    return [(row[0], row[1]) for row in rows]


def claim_owner_nudge(session: Session, owner_id: str, local_date: date) -> bool:
    """Reserve today's digest for an owner; False when it was already taken."""
    statement = (
        upsert_statement(session, OwnerNudge)
        .values(owner_id=owner_id, local_date=local_date)
        .on_conflict_do_nothing(index_elements=["owner_id", "local_date"])
        .returning(OwnerNudge.owner_id)
    )
    return session.execute(statement).first() is not None


def release_owner_nudge(session: Session, owner_id: str, local_date: date) -> None:
    nudge = session.get(OwnerNudge, (owner_id, local_date))
    if nudge is not None and nudge.sent_at is None:
        session.delete(nudge)


def mark_owner_nudged(session: Session, owner_id: str, local_date: date, at: datetime) -> None:
    nudge = session.get(OwnerNudge, (owner_id, local_date))
    if nudge is not None:
        nudge.sent_at = at
