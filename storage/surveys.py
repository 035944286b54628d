"""Surveys, their runs, deliveries and anonymous answers: tables and queries, no Slack."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    cast,
    delete,
    func,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.expression import Executable

from storage.base import Base, UTCDateTime, upsert_statement
from storage.db import Database
from storage.leases import lapsed, take_over
from storage.scheduling import forget_effects

# Delivery states: pending → sending (claimed, Slack call in flight) → sent | failed.
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"

RUN_OPEN = "open"
RUN_CLOSED = "closed"


class Survey(Base):
    """A survey (from a template or composed by a manager) and its optional schedule."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Lower-cased name: `/pulse start Pulse` and `/pulse start pulse` are the same survey.
    name_key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    template_id: Mapped[str | None] = mapped_column(String(32))
    # The questions as JSON (bot.surveys.model.SurveyDefinition.to_json).
    definition: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The schedule; cadence None means "only started by hand".
    cadence: Mapped[str | None] = mapped_column(String(16))
    on_weekday: Mapped[int | None] = mapped_column(Integer)
    on_day: Mapped[int | None] = mapped_column(Integer)
    # Monthly / quarterly on the nth `on_weekday` of the month: 1–4, or -1 for the last.
    on_week: Mapped[int | None] = mapped_column(Integer)
    # Cadence "cron": the five-field expression as the manager typed it (standard numbering).
    cron: Mapped[str | None] = mapped_column(String(100))
    at_time: Mapped[str] = mapped_column(String(5), default="10:00")
    # The IANA zone the occurrences are counted in; None (older schedules): the workspace's.
    zone: Mapped[str | None] = mapped_column(String(64))
    # JSON: {"everyone": true} or {"channels": [...], "users": [...]}
    audience: Mapped[str] = mapped_column(Text, default='{"everyone": true}')
    open_days: Mapped[int] = mapped_column(Integer, default=3)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class SurveyRun(Base):
    """One occurrence of a survey: open from `opens_at` until `closes_at`."""

    __tablename__ = "survey_runs"
    __table_args__ = (UniqueConstraint("survey_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    # One run per scheduled occurrence: a job that fires twice creates nothing twice.
    occurrence_key: Mapped[str] = mapped_column(String(80), unique=True)
    definition: Mapped[str] = mapped_column(Text)  # frozen copy: later edits leave runs alone
    audience: Mapped[str] = mapped_column(Text)
    local_date: Mapped[date] = mapped_column(Date)
    at_time: Mapped[str] = mapped_column(String(5))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    remind_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=RUN_OPEN, index=True)
    # False until the audience was turned into delivery rows (it may need Slack calls).
    audience_resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    reminders_done: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_notices_done: Mapped[bool] = mapped_column(Boolean, default=False)


class SurveyDelivery(Base):
    """The DM of one run to one person. Holds a user id, so it never holds an answer."""

    __tablename__ = "survey_deliveries"
    __table_args__ = (UniqueConstraint("run_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("survey_runs.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    send_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    state: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The instance whose lease covers the claim (storage.leases); None: claimed before leases.
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    # Set for everyone when their reminder moment, and then the close, has been dealt with —
    # whether they had answered (no DM) or not (a DM): nothing beside a user id tells the two
    # apart.
    reminder_handled: Mapped[bool] = mapped_column(Boolean, default=False)
    close_handled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The person's team (a channel of PULSEBOT_SEGMENT_CHANNELS), copied onto their answers;
    # None when they are in none, or their team's share of the audience is too small to show.
    segment: Mapped[str | None] = mapped_column(String(32))


class SurveyInvitee(Base):
    """Who may answer a run, by the anonymous key only, with the team their answers go under.

    Written with the run's deliveries, in a shuffled order, so that no row lines up with the
    delivery (and user id) it was made from. Answering checks the key against these rows: the
    statement that stores an answer never carries a user id.
    """

    __tablename__ = "survey_invitees"
    # Rows kept in key order, not insertion order (SQLite otherwise numbers them as written).
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_id: Mapped[int] = mapped_column(ForeignKey("survey_runs.id"), primary_key=True)
    respondent: Mapped[str] = mapped_column(String(64), primary_key=True)
    segment: Mapped[str | None] = mapped_column(String(32))


class SurveyRespondent(Base):
    """Who has answered a run, by the same anonymous key as the answers: never a user id.

    Answering writes no row that names the person. A row with their user id written in the
    same transaction as their answers (as a participants table did) is linked to them by the
    database itself — PostgreSQL's xmin, the physical order of both tables — whatever the
    columns say. Who has not answered (reminders, close notices) is found from the
    deliveries, computing each person's key with the secret, which the database never holds.
    """

    __tablename__ = "survey_respondents"
    # In key order, not the order people answered in (see SurveyInvitee).
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_id: Mapped[int] = mapped_column(ForeignKey("survey_runs.id"), primary_key=True)
    respondent: Mapped[str] = mapped_column(String(64), primary_key=True)


class SurveyAnswer(Base):
    """One answer to one question, keyed by an HMAC of run and user: no Slack id, day only."""

    __tablename__ = "survey_answers"
    # In key order, not the order people answered in (see SurveyInvitee).
    __table_args__ = ({"sqlite_with_rowid": False},)

    run_id: Mapped[int] = mapped_column(ForeignKey("survey_runs.id"), primary_key=True)
    respondent: Mapped[str] = mapped_column(String(64), primary_key=True)
    question: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    answered_on: Mapped[date] = mapped_column(Date)
    # A team large enough to keep its members anonymous (see SurveyDelivery.segment), or None.
    segment: Mapped[str | None] = mapped_column(String(32))


# ---- plain values handed to bot/ ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SurveyRecord:
    id: int
    name: str
    template_id: str | None
    definition: str
    cadence: str | None
    on_weekday: int | None
    on_day: int | None
    on_week: int | None
    cron: str | None
    at_time: str
    zone: str | None
    audience: str
    open_days: int
    paused: bool
    next_run_at: datetime | None


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    survey_id: int
    number: int
    definition: str
    audience: str
    local_date: date
    at_time: str
    opens_at: datetime
    closes_at: datetime
    remind_at: datetime
    status: str
    audience_resolved: bool


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    run_id: int
    user_id: str
    language: str
    state: str
    channel_id: str | None
    message_ts: str | None
    # When the DM went out (the sender claimed it then), or is due to if it has not yet.
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    respondent: str
    question: int
    number: int | None
    text: str | None


def _survey(row: Survey) -> SurveyRecord:
    return SurveyRecord(
        id=row.id,
        name=row.name,
        template_id=row.template_id,
        definition=row.definition,
        cadence=row.cadence,
        on_weekday=row.on_weekday,
        on_day=row.on_day,
        on_week=row.on_week,
        cron=row.cron,
        at_time=row.at_time,
        zone=row.zone,
        audience=row.audience,
        open_days=row.open_days,
        paused=row.paused,
        next_run_at=row.next_run_at,
    )


def _run(row: SurveyRun) -> RunRecord:
    return RunRecord(
        id=row.id,
        survey_id=row.survey_id,
        number=row.number,
        definition=row.definition,
        audience=row.audience,
        local_date=row.local_date,
        at_time=row.at_time,
        opens_at=row.opens_at,
        closes_at=row.closes_at,
        remind_at=row.remind_at,
        status=row.status,
        audience_resolved=row.audience_resolved,
    )


def _delivery(row: SurveyDelivery) -> DeliveryRecord:
    return DeliveryRecord(
        id=row.id,
        run_id=row.run_id,
        user_id=row.user_id,
        language=row.language,
        state=row.state,
        channel_id=row.channel_id,
        message_ts=row.message_ts,
        sent_at=row.claimed_at or row.send_at,
    )


# ---- surveys -----------------------------------------------------------------------------------


def find_survey(session: Session, name: str) -> SurveyRecord | None:
    row = session.scalar(select(Survey).where(Survey.name_key == name.casefold()))
    return None if row is None else _survey(row)


def get_survey(session: Session, survey_id: int) -> SurveyRecord:
    row = session.get_one(Survey, survey_id)
    return _survey(row)


def list_surveys(session: Session) -> list[SurveyRecord]:
    return [_survey(row) for row in session.scalars(select(Survey).order_by(Survey.name_key))]


def add_survey(
    session: Session,
    *,
    name: str,
    definition: str,
    created_by: str,
    template_id: str | None,
    now: datetime,
) -> SurveyRecord:
    row = Survey(
        created_at=now,
        name=name,
        name_key=name.casefold(),
        definition=definition,
        created_by=created_by,
        template_id=template_id,
        at_time="10:00",
        audience='{"everyone": true}',
        open_days=3,
        paused=False,
    )
    session.add(row)
    session.flush()
    return _survey(row)


def set_schedule(
    session: Session,
    survey_id: int,
    *,
    cadence: str,
    on_weekday: int | None,
    on_day: int | None,
    at_time: str,
    audience: str,
    open_days: int,
    next_run_at: datetime,
    on_week: int | None = None,
    cron: str | None = None,
    zone: str | None = None,
) -> None:
    session.execute(
        update(Survey)
        .where(Survey.id == survey_id)
        .values(
            cadence=cadence,
            on_weekday=on_weekday,
            on_day=on_day,
            on_week=on_week,
            cron=cron,
            at_time=at_time,
            zone=zone,
            audience=audience,
            open_days=open_days,
            next_run_at=next_run_at,
            paused=False,
        )
    )


def set_paused(session: Session, survey_id: int, paused: bool) -> None:
    session.execute(update(Survey).where(Survey.id == survey_id).values(paused=paused))


def set_next_run(session: Session, survey_id: int, next_run_at: datetime | None) -> None:
    session.execute(update(Survey).where(Survey.id == survey_id).values(next_run_at=next_run_at))


def due_schedules(session: Session, now: datetime) -> list[SurveyRecord]:
    rows = session.scalars(
        select(Survey).where(
            Survey.cadence.is_not(None),
            Survey.paused.is_(False),
            Survey.next_run_at.is_not(None),
            Survey.next_run_at <= now,
        )
    )
    return [_survey(row) for row in rows]


# ---- runs ------------------------------------------------------------------------------------


def add_run(
    session: Session,
    *,
    survey_id: int,
    occurrence_key: str,
    definition: str,
    audience: str,
    local_date: date,
    at_time: str,
    opens_at: datetime,
    closes_at: datetime,
    remind_at: datetime,
) -> RunRecord | None:
    """Create the run of one occurrence; None when that occurrence already has its run."""
    number = (
        session.scalar(select(func.max(SurveyRun.number)).where(SurveyRun.survey_id == survey_id))
        or 0
    ) + 1
    statement = (
        upsert_statement(session, SurveyRun)
        .values(
            survey_id=survey_id,
            number=number,
            occurrence_key=occurrence_key,
            definition=definition,
            audience=audience,
            local_date=local_date,
            at_time=at_time,
            opens_at=opens_at,
            closes_at=closes_at,
            remind_at=remind_at,
            status=RUN_OPEN,
            audience_resolved=False,
            reminders_done=False,
            closed_notices_done=False,
        )
        .on_conflict_do_nothing(index_elements=["occurrence_key"])
        .returning(SurveyRun.id)
    )
    run_id = session.execute(statement).scalar()
    if run_id is None:
        return None
    return _run(session.get_one(SurveyRun, run_id))


def get_run(session: Session, run_id: int) -> RunRecord | None:
    row = session.get(SurveyRun, run_id)
    return None if row is None else _run(row)


def open_run_of(session: Session, survey_id: int) -> RunRecord | None:
    row = session.scalar(
        select(SurveyRun)
        .where(SurveyRun.survey_id == survey_id, SurveyRun.status == RUN_OPEN)
        .order_by(SurveyRun.number.desc())
    )
    return None if row is None else _run(row)


def runs_of(session: Session, survey_id: int) -> list[RunRecord]:
    rows = session.scalars(
        select(SurveyRun).where(SurveyRun.survey_id == survey_id).order_by(SurveyRun.number)
    )
    return [_run(row) for row in rows]


def unresolved_runs(session: Session) -> list[RunRecord]:
    rows = session.scalars(
        select(SurveyRun).where(
            SurveyRun.status == RUN_OPEN, SurveyRun.audience_resolved.is_(False)
        )
    )
    return [_run(row) for row in rows]


def resolved_open_runs(session: Session) -> list[RunRecord]:
    rows = session.scalars(
        select(SurveyRun).where(SurveyRun.status == RUN_OPEN, SurveyRun.audience_resolved)
    )
    return [_run(row) for row in rows]


def runs_to_remind(session: Session, now: datetime) -> list[RunRecord]:
    rows = session.scalars(
        select(SurveyRun).where(
            SurveyRun.status == RUN_OPEN,
            SurveyRun.reminders_done.is_(False),
            SurveyRun.remind_at <= now,
        )
    )
    return [_run(row) for row in rows]


def runs_to_close(session: Session, now: datetime) -> list[RunRecord]:
    rows = session.scalars(
        select(SurveyRun).where(SurveyRun.status == RUN_OPEN, SurveyRun.closes_at <= now)
    )
    return [_run(row) for row in rows]


def runs_with_pending_close_notices(session: Session) -> list[RunRecord]:
    rows = session.scalars(
        select(SurveyRun).where(
            SurveyRun.status == RUN_CLOSED, SurveyRun.closed_notices_done.is_(False)
        )
    )
    return [_run(row) for row in rows]


# Scheduled-effect keys of a run's hourly audience refresh: `survey-audience:<run>:<hour>`.
AUDIENCE_REFRESH_PREFIX = "survey-audience:"


def audience_refresh_key(run_id: int, now: datetime) -> str:
    return f"{AUDIENCE_REFRESH_PREFIX}{run_id}:{now.strftime('%Y-%m-%dT%H')}"


def close_run(session: Session, run_id: int, now: datetime) -> bool:
    """Close an open run; False when it was closed already."""
    result = session.execute(
        update(SurveyRun)
        .where(SurveyRun.id == run_id, SurveyRun.status == RUN_OPEN)
        .values(status=RUN_CLOSED, closes_at=now)
        .returning(SurveyRun.id)
    )
    closed = result.first() is not None
    if closed:  # at the deadline or by hand, its audience refresh keys have served
        forget_effects(session, f"{AUDIENCE_REFRESH_PREFIX}{run_id}:")
    return closed


def mark_run(session: Session, run_id: int, **flags: bool) -> None:
    session.execute(update(SurveyRun).where(SurveyRun.id == run_id).values(**flags))


# ---- deliveries --------------------------------------------------------------------------------


def add_deliveries(
    session: Session,
    run_id: int,
    rows: Sequence[tuple[str, str, datetime]],
    segments: Mapping[str, str | None] | None = None,
) -> int:
    """(user_id, language, send_at) per person, with their segment (by user id) when known;
    a person already invited is left alone."""
    if rows:
        found = segments or {}
        values = [
            {
                "run_id": run_id,
                "user_id": u,
                "language": lang,
                "send_at": at,
                "state": PENDING,
                "segment": found.get(u),
            }
            for u, lang, at in rows
        ]
        statement = upsert_statement(session, SurveyDelivery).values(values)
        session.execute(statement.on_conflict_do_nothing(index_elements=["run_id", "user_id"]))
    session.execute(update(SurveyRun).where(SurveyRun.id == run_id).values(audience_resolved=True))
    return len(rows)


def add_invitees(session: Session, run_id: int, invitees: Sequence[tuple[str, str | None]]) -> None:
    """(respondent key, segment) of each person a run is sent to, in the order given (the
    caller shuffles it); a key already there is left alone."""
    if invitees:
        values = [{"run_id": run_id, "respondent": k, "segment": seg} for k, seg in invitees]
        statement = upsert_statement(session, SurveyInvitee).values(values)
        session.execute(statement.on_conflict_do_nothing(index_elements=["run_id", "respondent"]))


def delete_run_without_deliveries(session: Session, run_id: int) -> bool:
    """Remove a run nobody was invited to yet (and its refresh keys); False otherwise."""
    if session.scalar(
        select(func.count()).select_from(SurveyDelivery).where(SurveyDelivery.run_id == run_id)
    ):
        return False
    forget_effects(session, f"{AUDIENCE_REFRESH_PREFIX}{run_id}:")
    session.execute(delete(SurveyRun).where(SurveyRun.id == run_id))
    return True


def invitee_count(session: Session, run_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(SurveyInvitee).where(SurveyInvitee.run_id == run_id)
        )
        or 0
    )


def claim_deliveries(
    session: Session, now: datetime, limit: int, run_id: int | None = None, *, instance: str
) -> list[DeliveryRecord]:
    """Mark up to `limit` due pending deliveries as sending, under `instance`'s lease, and
    return them.

    On PostgreSQL, FOR UPDATE SKIP LOCKED lets several instances claim side by side; on
    SQLite the transaction already holds the write lock (BEGIN IMMEDIATE). Core statements:
    the ORM's identity map and flush are pure overhead for a batch of plain rows.
    """
    query = (
        select(
            SurveyDelivery.id,
            SurveyDelivery.run_id,
            SurveyDelivery.user_id,
            SurveyDelivery.language,
            SurveyDelivery.channel_id,
            SurveyDelivery.message_ts,
        )
        .join(SurveyRun, SurveyRun.id == SurveyDelivery.run_id)
        .where(
            SurveyDelivery.state == PENDING,
            SurveyDelivery.send_at <= now,
            SurveyRun.status == RUN_OPEN,
        )
        .order_by(SurveyDelivery.send_at, SurveyDelivery.id)
        .limit(limit)
    )
    if run_id is not None:
        query = query.where(SurveyDelivery.run_id == run_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=SurveyDelivery)
    connection = session.connection()
    rows = connection.execute(query).all()
    if not rows:
        return []
    connection.execute(
        update(SurveyDelivery)
        .where(SurveyDelivery.id.in_([row.id for row in rows]))
        .values(state=SENDING, claimed_at=now, claimed_by=instance)
    )
    return [
        DeliveryRecord(
            id=row.id,
            run_id=row.run_id,
            user_id=row.user_id,
            language=row.language,
            state=SENDING,
            channel_id=row.channel_id,
            message_ts=row.message_ts,
            sent_at=now,
        )
        for row in rows
    ]


_FINISH = (
    update(SurveyDelivery)
    .where(SurveyDelivery.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        channel_id=bindparam("b_channel"),
        message_ts=bindparam("b_ts"),
        claimed_by=None,  # the claim is over: which instance sent it is nobody's business
    )
)


def finish_deliveries(
    session: Session, outcomes: Sequence[tuple[int, str, str | None, str | None]]
) -> None:
    """(delivery id, state, channel id, ts) for several deliveries, in one executemany."""
    if outcomes:
        session.connection().execute(
            _FINISH,
            [{"b_id": i, "b_state": st, "b_channel": ch, "b_ts": ts} for i, st, ch, ts in outcomes],
        )


def lapsed_sending(session: Session, cutoff: datetime) -> list[tuple[DeliveryRecord, str | None]]:
    """Deliveries claimed under a lease that has lapsed (storage.leases), with their owner."""
    rows = session.scalars(
        select(SurveyDelivery).where(
            SurveyDelivery.state == SENDING,
            lapsed(SurveyDelivery.claimed_by, SurveyDelivery.claimed_at, cutoff),
        )
    )
    return [(_delivery(row), row.claimed_by) for row in rows]


def take_over_delivery(
    session: Session, delivery_id: int, previous_owner: str | None, instance: str, now: datetime
) -> bool:
    """Make a lapsed claim on a delivery `instance`'s own; False when another instance won."""
    return take_over(
        session,
        SurveyDelivery,
        and_(SurveyDelivery.id == delivery_id, SurveyDelivery.state == SENDING),
        owner=SurveyDelivery.claimed_by,
        previous_owner=previous_owner,
        instance=instance,
        claimed_at=SurveyDelivery.claimed_at,
        now=now,
    )


def finish_delivery(
    session: Session, delivery_id: int, state: str, channel_id: str | None, ts: str | None
) -> None:
    session.execute(
        update(SurveyDelivery)
        .where(SurveyDelivery.id == delivery_id)
        .values(state=state, channel_id=channel_id, message_ts=ts, claimed_by=None)
    )


def release_delivery(session: Session, delivery_id: int) -> None:
    session.execute(
        update(SurveyDelivery)
        .where(SurveyDelivery.id == delivery_id)
        .values(state=PENDING, claimed_by=None)
    )


def hand_back_delivery(session: Session, delivery_id: int) -> None:
    """Leave a claim without an owner: any instance takes it over one lease period later."""
    session.execute(
        update(SurveyDelivery).where(SurveyDelivery.id == delivery_id).values(claimed_by=None)
    )


def delivery_of(session: Session, run_id: int, user_id: str) -> DeliveryRecord | None:
    row = session.scalar(
        select(SurveyDelivery).where(
            SurveyDelivery.run_id == run_id, SurveyDelivery.user_id == user_id
        )
    )
    return None if row is None else _delivery(row)


def sent_deliveries(
    session: Session, run_id: int, *, flag: str | None = None
) -> list[DeliveryRecord]:
    """Sent DMs of a run; `flag` skips rows already done. Who answered is the caller's to
    tell (respondent_keys): only the secret links a delivery to a respondent."""
    query = select(SurveyDelivery).where(
        SurveyDelivery.run_id == run_id, SurveyDelivery.state == SENT
    )
    if flag is not None:
        query = query.where(getattr(SurveyDelivery, flag).is_(False))
    return [_delivery(row) for row in session.scalars(query.order_by(SurveyDelivery.id))]


def invited_segments(session: Session, run_id: int) -> dict[str, str | None]:
    """Everyone a run was sent to (or is being sent to), with their team."""
    rows = session.execute(
        select(SurveyDelivery.user_id, SurveyDelivery.segment).where(
            SurveyDelivery.run_id == run_id
        )
    )
    return {user_id: segment for user_id, segment in rows}


def reorder_answers(session: Session, run_id: int) -> None:
    """On PostgreSQL, rewrite a run's respondents and answers in key order, in one transaction:
    the table then keeps neither the order people answered in nor a transaction id of each
    (SQLite keeps these tables in key order already). The rows replaced stay in the file as
    dead tuples until autovacuum, or VACUUM, clears them."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text(
            "WITH moved AS (DELETE FROM survey_respondents WHERE run_id = :run_id RETURNING *) "
            "INSERT INTO survey_respondents SELECT * FROM moved ORDER BY respondent"
        ),
        {"run_id": run_id},
    )
    session.execute(
        text(
            "WITH moved AS (DELETE FROM survey_answers WHERE run_id = :run_id RETURNING *) "
            "INSERT INTO survey_answers SELECT * FROM moved ORDER BY respondent, question"
        ),
        {"run_id": run_id},
    )


def invited_ids(session: Session, run_id: int) -> list[str]:
    """Everyone a run was sent to, or is being sent to."""
    return list(
        session.scalars(select(SurveyDelivery.user_id).where(SurveyDelivery.run_id == run_id))
    )


def flag_deliveries(session: Session, delivery_ids: Sequence[int], flag: str) -> None:
    if delivery_ids:
        session.execute(
            update(SurveyDelivery)
            .where(SurveyDelivery.id.in_(list(delivery_ids)))
            .values({flag: True})
        )


def sending_count(session: Session, run_id: int) -> int:
    """DMs of a run claimed by a sender and not yet reported sent (in flight, or crashed)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(SurveyDelivery)
            .where(SurveyDelivery.run_id == run_id, SurveyDelivery.state == SENDING)
        )
        or 0
    )


def unsent_count(session: Session, run_id: int) -> int:
    """DMs of a run not yet reported sent: waiting for their person's time, or in flight."""
    return (
        session.scalar(
            select(func.count())
            .select_from(SurveyDelivery)
            .where(SurveyDelivery.run_id == run_id, SurveyDelivery.state.in_([PENDING, SENDING]))
        )
        or 0
    )


def invited_count(session: Session, run_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(SurveyDelivery).where(SurveyDelivery.run_id == run_id)
        )
        or 0
    )


def open_runs_for(session: Session, user_id: str, now: datetime) -> list[RunRecord]:
    """Open runs this person was invited to and whose DM is due (for the App Home).

    A scheduled run opens when its time first comes anywhere (UTC+14): until the person's own
    local time comes, their Home shows it no more than their DMs do.
    """
    rows = session.scalars(
        select(SurveyRun)
        .join(SurveyDelivery, SurveyDelivery.run_id == SurveyRun.id)
        .where(
            SurveyDelivery.user_id == user_id,
            SurveyDelivery.send_at <= now,
            SurveyRun.status == RUN_OPEN,
        )
    )
    return [_run(row) for row in rows]


# ---- answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _AnswerStatements:
    """The answer path's statements, built once per dialect: executing a prebuilt statement
    skips building it and reuses its memoised cache key, on every click."""

    respondent_if_open: Executable
    clear: Executable
    upsert: Executable
    segment: Executable


_ANSWER_STATEMENTS: dict[str, _AnswerStatements] = {}


def _answer_statements(dialect: str) -> _AnswerStatements:
    found = _ANSWER_STATEMENTS.get(dialect)
    if found is not None:
        return found
    insert = pg.insert if dialect == "postgresql" else sqlite.insert
    # The INSERT itself checks that the run is open and was sent to this person (their key is
    # among its invitees): a closed or unknown run, or someone not invited, selects no row, so
    # nothing is written or returned. No statement here carries a user id.
    open_run = (
        select(SurveyRun.id, cast(bindparam("respondent"), String(64)))
        .join(SurveyInvitee, SurveyInvitee.run_id == SurveyRun.id)
        .where(
            SurveyRun.id == bindparam("run_id"),
            SurveyRun.status == literal_column(f"'{RUN_OPEN}'"),
            SurveyRun.closes_at > bindparam("now"),
            SurveyInvitee.respondent == bindparam("respondent"),
        )
    )
    respondent = insert(SurveyRespondent).from_select(["run_id", "respondent"], open_run)
    # DO UPDATE (a no-op), not DO NOTHING: RETURNING then also answers for someone who
    # already answered and now changes an answer.
    respondent_if_open = respondent.on_conflict_do_update(
        index_elements=["run_id", "respondent"],
        set_={"respondent": respondent.excluded.respondent},
    ).returning(SurveyRespondent.run_id)
    clear = delete(SurveyAnswer).where(
        SurveyAnswer.run_id == bindparam("run_id"),
        SurveyAnswer.respondent == bindparam("respondent"),
    )
    answer = insert(SurveyAnswer)
    upsert = answer.on_conflict_do_update(
        index_elements=["run_id", "respondent", "question"],
        set_={
            "number": answer.excluded.number,
            "text": answer.excluded.text,
            "answered_on": answer.excluded.answered_on,
        },
    )
    # The segment the answers are filed under: the one their DM was sent with.
    segment = select(SurveyInvitee.segment).where(
        SurveyInvitee.run_id == bindparam("run_id"),
        SurveyInvitee.respondent == bindparam("respondent"),
    )
    built = _AnswerStatements(respondent_if_open, clear, upsert, segment)
    _ANSWER_STATEMENTS[dialect] = built
    return built


def save_answers_if_open(
    connection: Connection,
    *,
    run_id: int,
    respondent: str,
    answers: Iterable[tuple[int, int | None, str | None]],
    today: date,
    now: datetime,
    replace_all: bool,
) -> bool:
    """Note that the anonymous key answered and store (question, number, text) under it, if
    the run is open at `now` and the key is among its invitees; False (and nothing written)
    if not.

    Core, not the ORM: this is the whole database work of a survey click, before Slack gets
    its answer. Run it inside one transaction (`engine.begin()`): respondent and answers
    are written together or not at all.
    """
    statements = _answer_statements(connection.dialect.name)
    opened = connection.execute(
        statements.respondent_if_open,
        {"run_id": run_id, "respondent": respondent, "now": now},
    ).first()
    if opened is None:
        return False
    segment = connection.execute(
        statements.segment, {"run_id": run_id, "respondent": respondent}
    ).scalar()
    if replace_all:
        connection.execute(statements.clear, {"run_id": run_id, "respondent": respondent})
    rows = [
        {
            "run_id": run_id,
            "respondent": respondent,
            "question": question,
            "number": number,
            "text": text,
            "answered_on": today,
            "segment": segment,
        }
        for question, number, text in answers
    ]
    if rows:
        connection.execute(statements.upsert, rows)
    return True


# PostgreSQL only: the respondent row and one answer in a single statement (a data-modifying
# WITH), so a one-click answer is one round trip and its own, durable, transaction. SQLite has
# no data-modifying WITH and no round trips to save: it uses save_answers_if_open.
_ONE_ANSWER_IF_OPEN = text(
    """
    WITH invited AS (
        SELECT r.id AS run_id, i.segment FROM survey_runs r
        JOIN survey_invitees i ON i.run_id = r.id AND i.respondent = CAST(:respondent AS VARCHAR)
        WHERE r.id = :run_id AND r.status = :open AND r.closes_at > :now
    ), respondent AS (
        INSERT INTO survey_respondents (run_id, respondent)
        SELECT run_id, CAST(:respondent AS VARCHAR) FROM invited
        ON CONFLICT (run_id, respondent) DO UPDATE SET respondent = excluded.respondent
        RETURNING run_id
    )
    INSERT INTO survey_answers (run_id, respondent, question, number, text, answered_on, segment)
    SELECT respondent.run_id, CAST(:respondent AS VARCHAR), CAST(:question AS INTEGER),
           CAST(:number AS INTEGER), CAST(:text AS TEXT), :answered_on, invited.segment
    FROM respondent JOIN invited ON invited.run_id = respondent.run_id
    ON CONFLICT (run_id, respondent, question) DO UPDATE
    SET number = excluded.number, text = excluded.text, answered_on = excluded.answered_on
    RETURNING run_id
    """
).bindparams(
    bindparam("now", type_=UTCDateTime()),
    bindparam("answered_on", type_=Date()),
    bindparam("open", value=RUN_OPEN),
)


def save_one_answer_if_open(
    connection: Connection,
    *,
    run_id: int,
    respondent: str,
    answer: tuple[int, int | None, str | None],
    today: date,
    now: datetime,
) -> bool:
    """save_answers_if_open for one answer, in one statement (PostgreSQL)."""
    question, number, text_answer = answer
    row = connection.execute(
        _ONE_ANSWER_IF_OPEN,
        {
            "run_id": run_id,
            "now": now,
            "respondent": respondent,
            "question": question,
            "number": number,
            "text": text_answer,
            "answered_on": today,
        },
    ).first()
    return row is not None


def record_answers_if_open(
    db: Database,
    *,
    run_id: int,
    respondent: str,
    answers: Sequence[tuple[int, int | None, str | None]],
    today: date,
    now: datetime,
    replace_all: bool,
) -> bool:
    """save_answers_if_open in a transaction of its own, committed durably; on PostgreSQL a
    single answer (the one-click eNPS) is one statement, a round trip instead of four."""
    if db.dialect == "postgresql" and len(answers) == 1 and not replace_all:
        with db.single_statement() as connection:
            return save_one_answer_if_open(
                connection,
                run_id=run_id,
                respondent=respondent,
                answer=answers[0],
                today=today,
                now=now,
            )
    with db.begin() as connection:
        return save_answers_if_open(
            connection,
            run_id=run_id,
            respondent=respondent,
            answers=answers,
            today=today,
            now=now,
            replace_all=replace_all,
        )


def run_facts(connection: Connection, run_id: int) -> tuple[str, datetime] | None:
    """A run's frozen question list (JSON) and close time; None for an unknown run."""
    row = connection.execute(
        select(SurveyRun.definition, SurveyRun.closes_at).where(SurveyRun.id == run_id)
    ).first()
    return None if row is None else (row[0], row[1])


# Plain columns, not ORM objects: a run may hold thousands of answers, and the weekly summary
# reads two runs per survey; building an identity-mapped object for each cost more than the SQL.
_ANSWER_COLUMNS = select(
    SurveyAnswer.respondent, SurveyAnswer.question, SurveyAnswer.number, SurveyAnswer.text
)


def answers_of(session: Session, run_id: int, respondent: str) -> list[AnswerRecord]:
    rows = session.execute(
        _ANSWER_COLUMNS.where(SurveyAnswer.run_id == run_id, SurveyAnswer.respondent == respondent)
    )
    return [AnswerRecord(*row) for row in rows]


def run_answers(session: Session, run_id: int) -> list[AnswerRecord]:
    rows = session.execute(_ANSWER_COLUMNS.where(SurveyAnswer.run_id == run_id))
    return [AnswerRecord(*row) for row in rows]


def segment_answers(
    session: Session, run_id: int
) -> list[tuple[str, str, int, int | None, str | None]]:
    """(segment, respondent, question, number, text) of the answers filed under a segment."""
    rows = session.execute(
        select(
            SurveyAnswer.segment,
            SurveyAnswer.respondent,
            SurveyAnswer.question,
            SurveyAnswer.number,
            SurveyAnswer.text,
        ).where(SurveyAnswer.run_id == run_id, SurveyAnswer.segment.is_not(None))
    )
    return [(str(row[0]), row[1], row[2], row[3], row[4]) for row in rows]


def invited_by_segment(session: Session, run_id: int) -> dict[str, int]:
    """How many people each segment of a run was sent (people in no segment left out)."""
    rows = session.execute(
        select(SurveyDelivery.segment, func.count())
        .where(SurveyDelivery.run_id == run_id, SurveyDelivery.segment.is_not(None))
        .group_by(SurveyDelivery.segment)
    )
    return {str(segment): int(count) for segment, count in rows}


def respondent_keys(session: Session, run_id: int) -> frozenset[str]:
    """The anonymous keys of everyone who answered a run."""
    return frozenset(
        session.scalars(
            select(SurveyRespondent.respondent).where(SurveyRespondent.run_id == run_id)
        )
    )


def respondent_count(session: Session, run_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(SurveyRespondent)
            .where(SurveyRespondent.run_id == run_id)
        )
        or 0
    )
