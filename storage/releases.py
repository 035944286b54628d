"""Survey results as released at close: each run's frozen snapshot, and the release ledger.

The ledger has a row per figure a run's results could show (a question, for everyone or for
one team), saying whether it was released and how many people were behind it. Before a new
figure is released, its group of respondents is compared with the group of every earlier
released figure of the same kind of question; the groups themselves are never stored — they
are worked out again, in memory, from each run's deliveries and the secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base, upsert_statement
from storage.surveys import RUN_CLOSED, RunRecord, SurveyRun, _run

WHOLE_RUN = ""  # the segment of a figure about everyone the run was sent to


class SurveyResult(Base):
    """A closed run's results as released: every path that shows results reads this."""

    __tablename__ = "survey_results"

    run_id: Mapped[int] = mapped_column(ForeignKey("survey_runs.id"), primary_key=True)
    released_on: Mapped[date] = mapped_column(Date)
    snapshot: Mapped[str] = mapped_column(Text)  # JSON: bot.surveys.results.RunResults


class SurveyRelease(Base):
    """One figure of a closed run's results, released or withheld (the release ledger)."""

    __tablename__ = "survey_releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("survey_runs.id"), index=True)
    question: Mapped[int] = mapped_column(Integer)
    segment: Mapped[str] = mapped_column(String(32), default=WHOLE_RUN)
    # The kind of question, across surveys and wordings: `enps`, or its type and its text
    # folded (`scale:i feel recognised for my work`).
    kind: Mapped[str] = mapped_column(String(300), index=True)
    respondents: Mapped[int] = mapped_column(Integer)
    released: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(16))  # why withheld: threshold, overlap


@dataclass(frozen=True, slots=True)
class ReleaseRecord:
    run_id: int
    question: int
    segment: str
    kind: str
    respondents: int
    released: bool
    reason: str | None


def lock_releases(session: Session) -> None:
    """Releases happen one at a time, each compared with every one before it. SQLite's write
    transactions already queue (BEGIN IMMEDIATE); PostgreSQL's are made to."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE survey_releases IN SHARE ROW EXCLUSIVE MODE"))


def snapshot_of(session: Session, run_id: int) -> str | None:
    return session.scalar(select(SurveyResult.snapshot).where(SurveyResult.run_id == run_id))


def save_release(
    session: Session,
    run_id: int,
    released_on: date,
    snapshot: str,
    figures: list[ReleaseRecord],
) -> bool:
    """Store a run's snapshot and its ledger rows; False (and nothing written) when the run
    was released already."""
    inserted = session.execute(
        upsert_statement(session, SurveyResult)
        .values(run_id=run_id, released_on=released_on, snapshot=snapshot)
        .on_conflict_do_nothing(index_elements=["run_id"])
        .returning(SurveyResult.run_id)
    ).first()
    if inserted is None:
        return False
    session.add_all(
        SurveyRelease(
            run_id=f.run_id,
            question=f.question,
            segment=f.segment,
            kind=f.kind,
            respondents=f.respondents,
            released=f.released,
            reason=f.reason,
        )
        for f in figures
    )
    session.flush()
    return True


def released_figures(session: Session, kinds: set[str]) -> list[ReleaseRecord]:
    """Every released figure of these kinds, oldest release first."""
    if not kinds:
        return []
    rows = session.scalars(
        select(SurveyRelease)
        .where(SurveyRelease.kind.in_(sorted(kinds)), SurveyRelease.released.is_(True))
        .order_by(SurveyRelease.id)
    )
    return [
        ReleaseRecord(r.run_id, r.question, r.segment, r.kind, r.respondents, r.released, r.reason)
        for r in rows
    ]


def unreleased_closed_runs(session: Session) -> list[RunRecord]:
    """Closed runs without a snapshot yet, in the order they closed."""
    released = select(SurveyResult.run_id)
    rows = session.scalars(
        select(SurveyRun)
        .where(SurveyRun.status == RUN_CLOSED, SurveyRun.id.not_in(released))
        .order_by(SurveyRun.closes_at, SurveyRun.id)
    )
    return [_run(row) for row in rows]
