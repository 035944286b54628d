"""Deals and their event history: models and queries, including the pipeline metrics in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from storage.base import Base, UTCDateTime, upsert_statement
from storage.leases import lapsed, take_over

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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime())
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
    at: Mapped[datetime] = mapped_column(UTCDateTime())
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
    # Claimed but never marked sent for long: its sender died; the DM history tells if it went.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The instance whose lease covers the claim (storage.leases); None: claimed before leases.
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------------------------------------
# Plain records handed to bot/


@dataclass(frozen=True, slots=True)
class DealRecord:
    id: int
    name: str
    name_key: str
    owner_id: str
    amount: Decimal | None
    currency: str
    stage: str
    source: str | None
    close_date: date | None
    next_step: str | None
    next_step_due: date | None
    lost_reason: str | None
    created_by: str
    created_at: datetime
    last_activity_at: datetime
    closed_at: datetime | None
    snoozed_until: datetime | None
    last_nudged_at: datetime | None
    next_step_reminded_on: date | None


@dataclass(frozen=True, slots=True)
class DealEventRecord:
    id: int
    deal_id: int
    at: datetime
    actor_id: str
    kind: str
    from_stage: str | None
    to_stage: str | None
    note: str | None
    changes: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class OwnerNudgeRecord:
    owner_id: str
    local_date: date
    claimed_at: datetime | None
    claimed_by: str | None
    sent_at: datetime | None


# ---------------------------------------------------------------------------------------------
# Lookups and changes. Core statements on a Session or a Connection, their rows made records:
# the commands that change a deal answer Slack within its ack, where the ORM's unit of work
# costs more than the SQL itself.

DEALS = cast(Table, Deal.__table__)
EVENTS = cast(Table, DealEvent.__table__)
NUDGES = cast(Table, OwnerNudge.__table__)
Bind = Session | Connection

# Each record's columns in the order of its fields, so a row builds its record by position.
_DEAL = select(*(DEALS.c[field.name] for field in fields(DealRecord)))
_EVENT = select(*(EVENTS.c[field.name] for field in fields(DealEventRecord)))
_NUDGE = select(*(NUDGES.c[field.name] for field in fields(OwnerNudgeRecord)))

# Built once, with bound parameters, so each call reuses the compiled SQL.
_BY_ID = _DEAL.where(DEALS.c.id == bindparam("deal_id"))
_BY_ID_LOCKED = _BY_ID.with_for_update()
_BY_KEY = _DEAL.where(DEALS.c.name_key == bindparam("name_key"))
_BY_KEY_LOCKED = _BY_KEY.with_for_update()
_UPDATE = update(DEALS).where(DEALS.c.id == bindparam("deal_id_"))
_INSERT_EVENT = insert(EVENTS)


def get_deal(bind: Bind, deal_id: int, *, for_update: bool = False) -> DealRecord | None:
    # PostgreSQL serialises commands on one deal with a row lock; SQLite's BEGIN IMMEDIATE
    # already holds the database write lock for the whole transaction.
    statement = _BY_ID_LOCKED if for_update else _BY_ID
    row = bind.execute(statement, {"deal_id": deal_id}).first()
    return None if row is None else DealRecord(*row)


def find_by_key(bind: Bind, name_key: str, *, for_update: bool = False) -> DealRecord | None:
    statement = _BY_KEY_LOCKED if for_update else _BY_KEY
    row = bind.execute(statement, {"name_key": name_key}).first()
    return None if row is None else DealRecord(*row)


def insert_deal(bind: Bind, values: dict[str, Any]) -> int:
    deal_id = bind.execute(insert(DEALS).values(**values).returning(DEALS.c.id)).scalar_one()
    return int(deal_id)


def update_deal(bind: Bind, deal_id: int, values: dict[str, Any]) -> None:
    # The parameters' names pick the SET columns.
    bind.execute(_UPDATE, {"deal_id_": deal_id, **values})


def insert_event(bind: Bind, values: dict[str, Any]) -> None:
    bind.execute(_INSERT_EVENT, values)


def all_names(bind: Bind, *, owner_id: str | None = None) -> list[tuple[int, str, str]]:
    """(id, name, key) of every deal (or of one owner's), for matching typed names."""
    statement = select(DEALS.c.id, DEALS.c.name, DEALS.c.name_key).order_by(DEALS.c.id)
    if owner_id is not None:
        statement = statement.where(DEALS.c.owner_id == owner_id)
    return [(row.id, row.name, row.name_key) for row in bind.execute(statement)]


def names_starting_with(
    bind: Bind, key_prefix: str, *, owner_id: str | None = None, limit: int = 10
) -> list[tuple[int, str, str]]:
    """(id, name, key) of deals whose key begins with `key_prefix`, shortest first."""
    escaped = key_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    statement = (
        select(DEALS.c.id, DEALS.c.name, DEALS.c.name_key)
        .where(DEALS.c.name_key.like(escaped + "%", escape="\\"))
        .order_by(func.length(DEALS.c.name_key), DEALS.c.id)
        .limit(limit)
    )
    if owner_id is not None:
        statement = statement.where(DEALS.c.owner_id == owner_id)
    return [(row.id, row.name, row.name_key) for row in bind.execute(statement)]


def names_by_keys(bind: Bind, keys: Sequence[str]) -> list[tuple[int, str, str]]:
    """(id, name, key) of the deals named exactly by any of `keys` (the unique index)."""
    if not keys:
        return []
    rows = bind.execute(
        select(DEALS.c.id, DEALS.c.name, DEALS.c.name_key).where(DEALS.c.name_key.in_(keys))
    )
    return [(row.id, row.name, row.name_key) for row in rows]


def deal_history(bind: Bind, deal_id: int, limit: int | None = None) -> list[DealEventRecord]:
    statement = _EVENT.where(EVENTS.c.deal_id == deal_id).order_by(
        EVENTS.c.at.desc(), EVENTS.c.id.desc()
    )
    if limit is not None:
        statement = statement.limit(limit)
    return [DealEventRecord(*row) for row in bind.execute(statement)]


def list_deals(
    bind: Bind,
    *,
    owner_id: str | None = None,
    stages: Sequence[str] | None = None,
    limit: int = 100,
) -> list[DealRecord]:
    statement = _DEAL
    if owner_id is not None:
        statement = statement.where(DEALS.c.owner_id == owner_id)
    if stages is not None:
        statement = statement.where(DEALS.c.stage.in_(stages))
    statement = statement.order_by(DEALS.c.stage, DEALS.c.last_activity_at.desc()).limit(limit)
    return [DealRecord(*row) for row in bind.execute(statement)]


def count_deals(
    bind: Bind, *, owner_id: str | None = None, stages: Sequence[str] | None = None
) -> int:
    statement = select(func.count()).select_from(DEALS)
    if owner_id is not None:
        statement = statement.where(DEALS.c.owner_id == owner_id)
    if stages is not None:
        statement = statement.where(DEALS.c.stage.in_(stages))
    return int(bind.execute(statement).scalar() or 0)


def stale_condition(
    stale_days: dict[str, int], now: datetime, days_since: DaysSince
) -> ColumnElement[bool]:
    """Open deals idle longer than their stage allows and not snoozed."""
    per_stage = [
        and_(DEALS.c.stage == stage, days_since(DEALS.c.last_activity_at, now) >= days)
        for stage, days in stale_days.items()
    ]
    return and_(
        or_(*per_stage) if per_stage else literal(False),
        or_(DEALS.c.snoozed_until.is_(None), DEALS.c.snoozed_until <= now),
    )


def stale_deals(
    bind: Bind,
    stale_days: dict[str, int],
    now: datetime,
    *,
    owner_id: str | None = None,
    limit: int = 200,
) -> list[DealRecord]:
    days_since = DaysSince.for_bind(bind)
    statement = _DEAL.where(stale_condition(stale_days, now, days_since))
    if owner_id is not None:
        statement = statement.where(DEALS.c.owner_id == owner_id)
    rows = bind.execute(statement.order_by(DEALS.c.last_activity_at).limit(limit))
    return [DealRecord(*row) for row in rows]


def stale_count(bind: Bind, stale_days: dict[str, int], now: datetime) -> int:
    days_since = DaysSince.for_bind(bind)
    statement = select(func.count()).select_from(DEALS)
    return int(
        bind.execute(statement.where(stale_condition(stale_days, now, days_since))).scalar() or 0
    )


def owners_with_work(
    bind: Bind, stale_days: dict[str, int], now: datetime, horizon: date
) -> list[str]:
    """Owners with a stale deal or a next step due by `horizon` (their local today or earlier)."""
    days_since = DaysSince.for_bind(bind)
    statement = (
        select(DEALS.c.owner_id)
        .where(
            or_(
                stale_condition(stale_days, now, days_since),
                and_(
                    DEALS.c.stage.in_(list(stale_days)),
                    DEALS.c.next_step_due.is_not(None),
                    DEALS.c.next_step_due <= horizon,
                ),
            )
        )
        .distinct()
        .order_by(DEALS.c.owner_id)
    )
    return [str(owner) for owner in bind.execute(statement).scalars()]


def due_next_steps(
    bind: Bind, owner_id: str, open_stages: Sequence[str], day: date
) -> list[DealRecord]:
    """Open deals of `owner_id` whose next step is due on `day` (or overdue and never reminded)."""
    statement = _DEAL.where(
        DEALS.c.owner_id == owner_id,
        DEALS.c.stage.in_(open_stages),
        DEALS.c.next_step_due.is_not(None),
        DEALS.c.next_step_due <= day,
        or_(
            DEALS.c.next_step_reminded_on.is_(None),
            DEALS.c.next_step_reminded_on < DEALS.c.next_step_due,
        ),
    )
    rows = bind.execute(statement.order_by(DEALS.c.next_step_due, DEALS.c.id))
    return [DealRecord(*row) for row in rows]


# ---------------------------------------------------------------------------------------------
# Metrics, computed in SQL


class DaysSince:
    """Fractional days between a timestamp column and `now`, in the session's SQL dialect."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    @classmethod
    def for_bind(cls, bind: Bind) -> DaysSince:
        dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
        return cls(dialect.name)

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


def won_averages(session: Session, won: str) -> tuple[dict[str, Decimal], float | None]:
    """Average won amount per currency (amounts in two currencies do not average), and
    average days from creation to win over every won deal."""
    is_won = (Deal.stage == won, Deal.closed_at.is_not(None))
    days = DaysSince.for_bind(session).between(Deal.created_at, Deal.closed_at)
    cycle = session.execute(select(func.avg(days)).where(*is_won)).scalar()
    rows = session.execute(
        select(Deal.currency, func.avg(Deal.amount))
        .where(*is_won, Deal.amount.is_not(None))
        .group_by(Deal.currency)
    )
    amounts = {str(c): Decimal(a).quantize(Decimal("0.01")) for c, a in rows if a is not None}
    return amounts, None if cycle is None else float(cycle)


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
    days_since = DaysSince.for_bind(session)
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


def all_events(
    bind: Bind, *, owner_id: str | None = None
) -> list[tuple[DealRecord, DealEventRecord]]:
    """Every event with its deal (of one owner's deals only, if given), oldest first: the CSV
    export."""
    query = _DEAL if owner_id is None else _DEAL.where(DEALS.c.owner_id == owner_id)
    deals = {row.id: DealRecord(*row) for row in bind.execute(query)}
    rows = bind.execute(_EVENT.order_by(EVENTS.c.deal_id, EVENTS.c.at, EVENTS.c.id))
    events = [DealEventRecord(*row) for row in rows]
    return [(deals[event.deal_id], event) for event in events if event.deal_id in deals]


def claim_owner_nudge(
    session: Session, owner_id: str, local_date: date, now: datetime, *, instance: str
) -> bool:
    """Reserve today's digest for an owner, under `instance`'s lease; False when it was
    already taken."""
    statement = (
        upsert_statement(session, OwnerNudge)
        .values(owner_id=owner_id, local_date=local_date, claimed_at=now, claimed_by=instance)
        .on_conflict_do_nothing(index_elements=["owner_id", "local_date"])
        .returning(OwnerNudge.owner_id)
    )
    return session.execute(statement).first() is not None


def lapsed_owner_nudges(session: Session, cutoff: datetime) -> list[OwnerNudgeRecord]:
    """Digests claimed under a lease that has lapsed (storage.leases) and never marked sent."""
    rows = session.execute(
        _NUDGE.where(
            NUDGES.c.sent_at.is_(None),
            or_(
                NUDGES.c.claimed_at.is_(None),
                lapsed(OwnerNudge.claimed_by, OwnerNudge.claimed_at, cutoff),
            ),
        )
    )
    return [OwnerNudgeRecord(*row) for row in rows]


def take_over_owner_nudge(
    session: Session, nudge: OwnerNudgeRecord, instance: str, now: datetime
) -> bool:
    """Make a lapsed digest claim `instance`'s own; False when another instance won."""
    return take_over(
        session,
        OwnerNudge,
        and_(
            OwnerNudge.owner_id == nudge.owner_id,
            OwnerNudge.local_date == nudge.local_date,
            OwnerNudge.sent_at.is_(None),
        ),
        owner=OwnerNudge.claimed_by,
        previous_owner=nudge.claimed_by,
        instance=instance,
        claimed_at=OwnerNudge.claimed_at,
        now=now,
    )


def hand_back_owner_nudge(session: Session, owner_id: str, local_date: date) -> None:
    """Leave a claim without an owner: any instance takes it over one lease period later."""
    session.execute(
        update(OwnerNudge)
        .where(OwnerNudge.owner_id == owner_id, OwnerNudge.local_date == local_date)
        .values(claimed_by=None)
    )


def release_owner_nudge(session: Session, owner_id: str, local_date: date) -> None:
    nudge = session.get(OwnerNudge, (owner_id, local_date))
    if nudge is not None and nudge.sent_at is None:
        session.delete(nudge)


def mark_deals_nudged(
    session: Session, stale_ids: list[int], due_ids: list[int], day: date, at: datetime
) -> None:
    """The deals a digest named: stale ones nudged at `at`, due next steps reminded on `day`."""
    if stale_ids:
        session.execute(update(Deal).where(Deal.id.in_(stale_ids)).values(last_nudged_at=at))
    if due_ids:
        session.execute(update(Deal).where(Deal.id.in_(due_ids)).values(next_step_reminded_on=day))


def mark_owner_nudged(session: Session, owner_id: str, local_date: date, at: datetime) -> None:
    nudge = session.get(OwnerNudge, (owner_id, local_date))
    if nudge is not None:
        nudge.sent_at = at
        nudge.claimed_by = None  # the claim is over
