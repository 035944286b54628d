"""Operator upkeep on the stored data: forgetting a person who left, and deleting what is older
than the retention period. Plain queries; bot/forget.py and bot/retention.py decide what goes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    and_,
    delete,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base
from storage.deals import Deal, DealEvent, OwnerNudge
from storage.directory import DirectoryUser
from storage.oneonones import OneOnOneNote, OneOnOneOccurrence, OneOnOneSeries, OneOnOneTopic
from storage.releases import SurveyResult
from storage.surveys import FAILED, PENDING, RUN_CLOSED, SurveyAnswer, SurveyDelivery, SurveyRun


class SurveyAnswerMark(Base):
    """That a respondent (by the anonymous key, never a user id) answered a question of a run
    whose answers the retention period has deleted.

    The release ledger compares each new figure's group of respondents with the groups of every
    earlier released figure, worked out from the answers (bot.surveys.releases.run_groups).
    Without these marks an old run's groups would turn empty once its answers are gone, and a
    new figure whose group differs from an old one by a single person would be released: the
    two published means would give that person's answer away. A mark holds what the answer row
    held about who answered, and nothing of what they answered.
    """

    __tablename__ = "survey_answer_marks"
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_id: Mapped[int] = mapped_column(ForeignKey("survey_runs.id"), primary_key=True)
    respondent: Mapped[str] = mapped_column(String(64), primary_key=True)
    question: Mapped[int] = mapped_column(Integer, primary_key=True)


def answer_marks(session: Session, run_id: int) -> list[tuple[str, int]]:
    """(respondent, question) of every answer of the run deleted by retention."""
    rows = session.execute(
        select(SurveyAnswerMark.respondent, SurveyAnswerMark.question).where(
            SurveyAnswerMark.run_id == run_id
        )
    )
    return [(row.respondent, row.question) for row in rows]


# ---- forgetting a person ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonRemoved:
    directory_entries: int
    oneonone_series: int
    oneonone_notes: int
    oneonone_topics: int
    survey_dms: int
    deal_digests: int


def remove_person(session: Session, user_id: str) -> PersonRemoved:
    """Delete what names `user_id` and is theirs alone: their directory entry; every 1:1 series
    they are part of (either side), with its meetings, topics and both people's private notes;
    their survey DMs not yet sent; their daily deal-digest markers."""
    series = select(OneOnOneSeries.id).where(
        or_(OneOnOneSeries.manager_id == user_id, OneOnOneSeries.person_id == user_id)
    )
    series_ids = list(session.scalars(series))
    notes = topics = 0
    if series_ids:
        notes = _count(session, delete(OneOnOneNote).where(OneOnOneNote.series_id.in_(series_ids)))
        topics = _count(
            session, delete(OneOnOneTopic).where(OneOnOneTopic.series_id.in_(series_ids))
        )
        session.execute(
            delete(OneOnOneOccurrence).where(OneOnOneOccurrence.series_id.in_(series_ids))
        )
        session.execute(delete(OneOnOneSeries).where(OneOnOneSeries.id.in_(series_ids)))
    dms = _count(
        session,
        delete(SurveyDelivery).where(
            SurveyDelivery.user_id == user_id, SurveyDelivery.state.in_((PENDING, FAILED))
        ),
    )
    digests = _count(session, delete(OwnerNudge).where(OwnerNudge.owner_id == user_id))
    entries = _count(session, delete(DirectoryUser).where(DirectoryUser.user_id == user_id))
    return PersonRemoved(entries, len(series_ids), notes, topics, dms, digests)


def hand_over_open_deals(
    session: Session, user_id: str, to_user_id: str, now: datetime
) -> list[str]:
    """Give every open deal of `user_id` to `to_user_id`, each with an `owner` event; returns
    the deals' names."""
    deals = session.execute(
        select(Deal.id, Deal.name)
        .where(Deal.owner_id == user_id, Deal.closed_at.is_(None))
        .order_by(Deal.id)
    ).all()
    for deal in deals:
        session.add(
            DealEvent(
                deal_id=deal.id,
                at=now,
                actor_id=to_user_id,
                kind="owner",
                changes={"owner": [user_id, to_user_id], "reason": "forgotten"},
            )
        )
        session.execute(
            update(Deal)
            .where(Deal.id == deal.id)
            .values(owner_id=to_user_id, last_activity_at=now, snoozed_until=None)
        )
    return [deal.name for deal in deals]


# ---- retention -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pruned:
    survey_answers: int
    survey_comments: int
    deal_events: int
    oneonone_notes: int
    oneonone_topics: int

    @property
    def total(self) -> int:
        return (
            self.survey_answers
            + self.survey_comments
            + self.deal_events
            + self.oneonone_notes
            + self.oneonone_topics
        )


def prune_older_than(session: Session, cutoff: datetime) -> Pruned:
    """Delete what is older than `cutoff`:

    - the answers (numbers and comments) of survey runs closed, and released, before it — the
      released results stay as they were released, and who answered stays as marks (see
      SurveyAnswerMark), so that no later release can be told apart from theirs by one person;
    - the event history of deals closed before it (the deal itself stays, won or lost);
    - 1:1 private notes last written before it, and topics done or discussed before it.
    """
    runs = list(
        session.scalars(
            select(SurveyRun.id).where(
                SurveyRun.status == RUN_CLOSED,
                SurveyRun.closes_at < cutoff,
                exists().where(SurveyResult.run_id == SurveyRun.id),
                exists().where(SurveyAnswer.run_id == SurveyRun.id),
            )
        )
    )
    answers = comments = 0
    for run_id in runs:
        rows = session.execute(
            select(SurveyAnswer.respondent, SurveyAnswer.question, SurveyAnswer.text).where(
                SurveyAnswer.run_id == run_id,
                or_(SurveyAnswer.number.is_not(None), SurveyAnswer.text.is_not(None)),
            )
        ).all()
        marks = sorted({(row.respondent, row.question) for row in rows})
        if marks:
            session.execute(
                insert(SurveyAnswerMark),
                [{"run_id": run_id, "respondent": r, "question": q} for r, q in marks],
            )
        comments += sum(1 for row in rows if row.text)
        answers += _count(session, delete(SurveyAnswer).where(SurveyAnswer.run_id == run_id))
    events = _count(
        session,
        delete(DealEvent).where(
            DealEvent.deal_id.in_(
                select(Deal.id).where(Deal.closed_at.is_not(None), Deal.closed_at < cutoff)
            )
        ),
    )
    notes = _count(session, delete(OneOnOneNote).where(OneOnOneNote.updated_at < cutoff))
    topics = _count(
        session,
        delete(OneOnOneTopic).where(
            OneOnOneTopic.created_at < cutoff,
            or_(
                and_(OneOnOneTopic.done_at.is_not(None), OneOnOneTopic.done_at < cutoff),
                OneOnOneTopic.held_in.in_(
                    select(OneOnOneOccurrence.id).where(OneOnOneOccurrence.starts_at < cutoff)
                ),
            ),
        ),
    )
    return Pruned(answers - comments, comments, events, notes, topics)


def _count(session: Session, statement: object) -> int:
    result = session.execute(statement)  # type: ignore[call-overload]
    return int(result.rowcount or 0)
