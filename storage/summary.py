"""Week-bounded queries behind the weekly summary: each reads one week's rows, never all history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from storage.deals import Deal, DealEvent
from storage.directory import DirectoryUser
from storage.surveys import (
    RUN_CLOSED,
    Survey,
    SurveyDelivery,
    SurveyRespondent,
    SurveyRun,
)

# Events that change what a deal weighs in the pipeline: its stage or its amount.
STAGE_KINDS = ("created", "stage")
WEIGHT_KINDS = ("created", "stage", "amount")


@dataclass(frozen=True, slots=True)
class ClosedRun:
    run_id: int
    survey_name: str
    number: int
    definition: str
    closes_at: datetime


def runs_closed_between(session: Session, start: datetime, end: datetime) -> list[ClosedRun]:
    """Runs closed in [start, end), oldest first (index on closes_at)."""
    rows = session.execute(
        select(
            SurveyRun.id, Survey.name, SurveyRun.number, SurveyRun.definition, SurveyRun.closes_at
        )
        .join(Survey, Survey.id == SurveyRun.survey_id)
        .where(
            SurveyRun.status == RUN_CLOSED,
            SurveyRun.closes_at >= start,
            SurveyRun.closes_at < end,
        )
        .order_by(SurveyRun.closes_at, SurveyRun.id)
    )
    return [ClosedRun(*row) for row in rows]


def runs_closed_before(session: Session, end: datetime, limit: int) -> list[ClosedRun]:
    """The latest `limit` runs closed before `end`, newest first."""
    rows = session.execute(
        select(
            SurveyRun.id, Survey.name, SurveyRun.number, SurveyRun.definition, SurveyRun.closes_at
        )
        .join(Survey, Survey.id == SurveyRun.survey_id)
        .where(SurveyRun.status == RUN_CLOSED, SurveyRun.closes_at < end)
        .order_by(SurveyRun.closes_at.desc(), SurveyRun.id.desc())
        .limit(limit)
    )
    return [ClosedRun(*row) for row in rows]


def answered_runs(
    session: Session, user_id: str, key_of: Callable[[int], str], limit: int
) -> list[ClosedRun]:
    """Closed runs this person answered, newest first: their App Home shows their own answers.

    Who answered is stored under the anonymous key only: `key_of(run_id)` computes this
    person's key for a run (the caller holds the secret).
    """
    sent = session.scalars(
        select(SurveyRun.id)
        .join(SurveyDelivery, SurveyDelivery.run_id == SurveyRun.id)
        .where(SurveyDelivery.user_id == user_id, SurveyRun.status == RUN_CLOSED)
    ).all()
    answered: set[int] = set()
    for start in range(0, len(sent), ID_BATCH):
        keys = [key_of(run_id) for run_id in sent[start : start + ID_BATCH]]
        answered.update(
            session.scalars(
                select(SurveyRespondent.run_id).where(SurveyRespondent.respondent.in_(keys))
            )
        )
    if not answered:
        return []
    rows = session.execute(
        select(
            SurveyRun.id, Survey.name, SurveyRun.number, SurveyRun.definition, SurveyRun.closes_at
        )
        .join(Survey, Survey.id == SurveyRun.survey_id)
        # Runs are numbered as they open: the latest ID_BATCH hold the newest `limit`.
        .where(SurveyRun.id.in_(sorted(answered)[-ID_BATCH:]))
        .order_by(SurveyRun.closes_at.desc(), SurveyRun.id.desc())
        .limit(limit)
    )
    return [ClosedRun(*row) for row in rows]


ID_BATCH = 500  # ids per IN (...) list


def _deals_by_id(
    session: Session, deal_ids: Sequence[int]
) -> dict[int, tuple[str, str, str | None, Decimal | None, str, str]]:
    """name, owner, owner's name, amount, currency, stage of each deal, by primary key."""
    owner_name = (
        select(func.coalesce(func.nullif(DirectoryUser.real_name, ""), DirectoryUser.name))
        .where(DirectoryUser.user_id == Deal.owner_id)
        .correlate(Deal)
        .scalar_subquery()
    )
    found: dict[int, tuple[str, str, str | None, Decimal | None, str, str]] = {}
    for at in range(0, len(deal_ids), ID_BATCH):
        rows = session.execute(
            select(
                Deal.id,
                Deal.name,
                Deal.owner_id,
                owner_name,
                Deal.amount,
                Deal.currency,
                Deal.stage,
            ).where(Deal.id.in_(deal_ids[at : at + ID_BATCH]))
        )
        for row in rows:
            found[row[0]] = (row[1], row[2], row[3], row[4], row[5], row[6])
    return found


@dataclass(frozen=True, slots=True)
class WeightEvent:
    """A stage or amount change of a deal, with the deal's current state beside it."""

    deal_id: int
    at: datetime
    kind: str
    from_stage: str | None
    to_stage: str | None
    note: str | None
    changes: dict[str, Any] | None
    previous_stage_at: datetime | None  # the deal's stage change before this one
    name: str
    owner_id: str
    owner_name: str | None
    amount: Decimal | None
    currency: str
    stage: str


def weight_events_since(session: Session, since: datetime) -> list[WeightEvent]:
    """Stage and amount events from `since` on, by deal then time (index on kind, at).

    For the latest week this is the week's events plus the few after it; the cost follows
    how busy the week was, not how long the history is.
    """
    earlier = aliased(DealEvent)
    previous_stage_at = (
        select(func.max(earlier.at))
        .where(
            earlier.deal_id == DealEvent.deal_id,
            earlier.kind.in_(STAGE_KINDS),
            earlier.at < DealEvent.at,
        )
        .correlate(DealEvent)
        .scalar_subquery()
    )
    rows: Any = session.execute(
        select(
            DealEvent.deal_id,
            DealEvent.at,
            DealEvent.kind,
            DealEvent.from_stage,
            DealEvent.to_stage,
            DealEvent.note,
            DealEvent.changes,
            previous_stage_at,
            DealEvent.id,
        ).where(DealEvent.kind.in_(WEIGHT_KINDS), DealEvent.at >= since)
    )
    # Plain tuples: a Row converts its values (time stamps, JSON) on every access, and the
    # sort below reads each one many times.
    rows = [tuple(row) for row in rows]
    # The deals in a second query, not a join: with a join SQLite walks every deal (or every
    # event, for an ORDER BY deal_id) instead of the week's few events on the (kind, at) index.
    deals = _deals_by_id(session, sorted({row[0] for row in rows}))
    events = []
    for row in sorted(rows, key=lambda r: (r[0], r[1], r[-1])):
        previous = row[7]
        if isinstance(previous, str):  # SQLite returns max() of a timestamp as text
            previous = datetime.fromisoformat(previous)
        if previous is not None and previous.tzinfo is None:
            previous = previous.replace(tzinfo=since.tzinfo)
        name, owner_id, owner_name, amount, currency, stage = deals[row[0]]
        events.append(
            WeightEvent(
                deal_id=row[0],
                at=row[1],
                kind=row[2],
                from_stage=row[3],
                to_stage=row[4],
                note=row[5],
                changes=row[6],
                previous_stage_at=previous,
                name=name,
                owner_id=owner_id,
                owner_name=owner_name,
                amount=amount,
                currency=currency,
                stage=stage,
            )
        )
    return events


def owner_names(session: Session, user_ids: Sequence[str]) -> dict[str, str]:
    if not user_ids:
        return {}
    rows = session.execute(
        select(DirectoryUser.user_id, DirectoryUser.real_name, DirectoryUser.name).where(
            DirectoryUser.user_id.in_(list(user_ids))
        )
    )
    return {row[0]: row[1] or row[2] for row in rows if row[1] or row[2]}
