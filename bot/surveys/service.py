"""Survey operations behind `/pulse` and the DM buttons: database work only, plain values out."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from bot.surveys.anonymity import answered_among, respondent_key
from bot.surveys.model import SurveyDefinition, SurveyError
from bot.surveys.results import (
    RunResults,
    differencing_risks,
    question_results,
    segment_results,
    withhold,
)
from bot.surveys.schedule import (
    Audience,
    Schedule,
    close_moment,
    local_moment,
    next_occurrence,
)
from bot.surveys.templates import TEMPLATES
from storage import surveys as store
from storage.db import Database
from storage.surveys import RUN_OPEN, RunRecord, SurveyRecord

MAX_NAME = 40


@dataclass(frozen=True, slots=True)
class SurveyPolicy:
    """The settings survey operations need, as plain values."""

    secret: str
    min_responses: int
    reminder_hours: int
    timezone: str


@dataclass(frozen=True, slots=True)
class SurveyOverview:
    survey: SurveyRecord
    definition: SurveyDefinition
    open_run: RunRecord | None
    runs: int


def definition_of(record: SurveyRecord | RunRecord) -> SurveyDefinition:
    return SurveyDefinition.from_json(record.definition)


def get_or_create_survey(db: Database, name: str, user_id: str, now: datetime) -> SurveyRecord:
    """A survey by name; a template id makes its survey on first use."""
    with db.transaction() as session:
        found = store.find_survey(session, name)
        if found is not None:
            return found
        template = TEMPLATES.get(name.casefold())
        if template is None:
            raise SurveyError("pulse.errors.unknown_survey", name=name)
        return store.add_survey(
            session,
            name=name.casefold(),
            definition=template.to_json(),
            created_by=user_id,
            template_id=name.casefold(),
            now=now,
        )


def create_survey(
    db: Database, name: str, definition: SurveyDefinition, user_id: str, now: datetime
) -> None:
    clean = name.strip()
    if not clean or len(clean) > MAX_NAME or any(c.isspace() for c in clean):
        raise SurveyError("pulse.errors.bad_name", limit=MAX_NAME)
    if clean.casefold() in TEMPLATES:
        raise SurveyError("pulse.errors.name_taken", name=clean)
    with db.transaction() as session:
        if store.find_survey(session, clean) is not None:
            raise SurveyError("pulse.errors.name_taken", name=clean)
        store.add_survey(
            session,
            name=clean,
            definition=definition.to_json(),
            created_by=user_id,
            template_id=None,
            now=now,
        )


def schedule_survey(
    db: Database,
    policy: SurveyPolicy,
    name: str,
    schedule: Schedule,
    *,
    user_id: str,
    now: datetime,
) -> tuple[SurveyRecord, datetime]:
    survey = get_or_create_survey(db, name, user_id, now)
    # Stored with the schedule: a later change of PULSEBOT_TIMEZONE leaves it where it was set.
    zone = schedule.zone or policy.timezone
    first = next_occurrence(schedule, now, ZoneInfo(zone))
    with db.transaction() as session:
        store.set_schedule(
            session,
            survey.id,
            cadence=schedule.cadence,
            on_weekday=schedule.on_weekday,
            on_day=schedule.on_day,
            on_week=schedule.on_week,
            cron=schedule.cron,
            at_time=schedule.at_time,
            zone=zone,
            audience=schedule.audience.to_json(),
            open_days=schedule.open_days,
            next_run_at=first,
        )
        return store.get_survey(session, survey.id), first


def schedule_choices(db: Database) -> list[tuple[str, SurveyDefinition]]:
    """What the schedule modal offers: the templates, then the workspace's own surveys."""
    choices = dict(TEMPLATES)
    with db.transaction() as session:
        for survey in store.list_surveys(session):
            choices.setdefault(survey.name, definition_of(survey))
    return list(choices.items())


def schedule_of(survey: SurveyRecord) -> Schedule | None:
    if survey.cadence is None:
        return None
    return Schedule(
        cadence=survey.cadence,  # type: ignore[arg-type]
        on_weekday=survey.on_weekday,
        on_day=survey.on_day,
        on_week=survey.on_week,
        cron=survey.cron,
        at_time=survey.at_time,
        zone=survey.zone,
        audience=Audience.from_json(survey.audience),
        open_days=survey.open_days,
    )


def zone_of(schedule: Schedule, policy: SurveyPolicy) -> ZoneInfo:
    """The zone a schedule's occurrences are counted in: its own, else (a schedule made
    before schedules had one) the workspace's."""
    return ZoneInfo(schedule.zone or policy.timezone)


def new_run(
    db: Database,
    policy: SurveyPolicy,
    survey: SurveyRecord,
    *,
    occurrence_key: str,
    opens_at: datetime,
    at_time: str,
    audience: Audience,
    open_days: int,
    zone: ZoneInfo | None = None,
) -> RunRecord | None:
    """Create a run (once per occurrence key); the DMs are rows made when its audience is known.

    A scheduled run (`at_time` set) is on its occurrence's date in the schedule's `zone`, and
    closes `open_days` later at the same wall-clock time there; one started by hand closes
    `open_days` × 24 hours after it opened.
    """
    zone = zone or ZoneInfo(policy.timezone)
    local_date = opens_at.astimezone(zone).date()
    if at_time:
        closes_at = close_moment(local_date, at_time, open_days, zone)
    else:
        closes_at = opens_at + timedelta(days=open_days)
    remind_at = max(opens_at, closes_at - timedelta(hours=policy.reminder_hours))
    with db.transaction() as session:
        return store.add_run(
            session,
            survey_id=survey.id,
            occurrence_key=occurrence_key,
            definition=survey.definition,
            audience=audience.to_json(),
            local_date=local_date,
            at_time=at_time,
            opens_at=opens_at,
            closes_at=closes_at,
            remind_at=remind_at,
        )


def start_run(
    db: Database,
    policy: SurveyPolicy,
    name: str,
    user_id: str,
    now: datetime,
    *,
    audience: Audience | None,
    open_days: int | None,
) -> RunRecord:
    """`/pulse start`: a run open now; everyone gets the DM at once (at_time "")."""
    survey = get_or_create_survey(db, name, user_id, now)
    with db.transaction() as session:
        if store.open_run_of(session, survey.id) is not None:
            raise SurveyError("pulse.errors.already_open", name=survey.name)
    run = new_run(
        db,
        policy,
        survey,
        occurrence_key=f"{survey.id}:manual:{now.isoformat()}",
        opens_at=now,
        at_time="",
        audience=audience or Audience.from_json(survey.audience),
        open_days=open_days or survey.open_days,
    )
    if run is None:  # the same command in the same microsecond
        raise SurveyError("pulse.errors.already_open", name=survey.name)
    return run


def find_existing(db: Database, name: str) -> SurveyRecord:
    with db.transaction() as session:
        found = store.find_survey(session, name)
    if found is None:
        if name.casefold() in TEMPLATES:
            raise SurveyError("pulse.errors.never_run", name=name)
        raise SurveyError("pulse.errors.unknown_survey", name=name)
    return found


def close_survey(db: Database, name: str, now: datetime) -> RunRecord:
    survey = find_existing(db, name)
    with db.transaction() as session:
        run = store.open_run_of(session, survey.id)
        if run is None or not store.close_run(session, run.id, now):
            raise SurveyError("pulse.errors.not_open", name=survey.name)
        return run


def set_paused(db: Database, policy: SurveyPolicy, name: str, paused: bool, now: datetime) -> None:
    survey = find_existing(db, name)
    schedule = schedule_of(survey)
    if schedule is None:
        raise SurveyError("pulse.errors.not_scheduled", name=survey.name)
    with db.transaction() as session:
        store.set_paused(session, survey.id, paused)
        if not paused:  # occurrences missed while paused are skipped, not caught up
            store.set_next_run(
                session, survey.id, next_occurrence(schedule, now, zone_of(schedule, policy))
            )


def overview(db: Database) -> list[SurveyOverview]:
    with db.transaction() as session:
        return [
            SurveyOverview(
                survey=s,
                definition=definition_of(s),
                open_run=store.open_run_of(session, s.id),
                runs=len(store.runs_of(session, s.id)),
            )
            for s in store.list_surveys(session)
        ]


# ---- answers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    recorded: bool  # False: the run is closed (or unknown)


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What never changes about a run while it is open."""

    definition: SurveyDefinition
    closes_at: datetime  # the scheduled close: only `/pulse close` moves it, and closes the run


class RunDefinitions:
    """Run id → its questions and scheduled close, read from the database once per process.

    Safe to keep for the life of the process: a run's definition is a frozen copy made when
    the run is created and never updated (editing a survey leaves its runs alone), and runs
    are never deleted, so a run id always names the same questions. Its close time changes
    only when the run is closed, in the same UPDATE that sets the status: so it is valid for
    showing "you can change your answer until …" right after an answer was accepted, and is
    never used to decide whether one is — that is checked by the database, on every answer.
    Unknown ids are not remembered: the run may be created a moment later.
    """

    LIMIT = 256  # open runs at once are few; an old run falls out and is simply read again

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: dict[int, RunFacts] = {}
        self._lock = threading.Lock()

    def facts(self, run_id: int) -> RunFacts | None:
        found = self._cache.get(run_id)
        if found is not None:
            return found
        with self._db.engine.connect() as connection:
            row = store.run_facts(connection, run_id)
        if row is None:
            return None
        facts = RunFacts(SurveyDefinition.from_json(row[0]), row[1])
        with self._lock:
            if len(self._cache) >= self.LIMIT:
                self._cache.pop(next(iter(self._cache)))
            self._cache[run_id] = facts
        return facts

    def get(self, run_id: int) -> SurveyDefinition | None:
        facts = self.facts(run_id)
        return None if facts is None else facts.definition


def record_answers(
    db: Database,
    policy: SurveyPolicy,
    run_id: int,
    user_id: str,
    answers: dict[int, tuple[int | None, str | None]],
    *,
    now: datetime,
    replace_all: bool,
) -> AnswerOutcome:
    """Store answers under the anonymous key, if the run is still open; one transaction.

    The caller has checked the answers against the run's definition (`validate_answers`, or
    `Question.accepts` for a one-click eNPS). The commit is a normal, durable one: an answer
    acknowledged to the person must survive a crash.
    """
    key = respondent_key(policy.secret, run_id, user_id)
    rows = [(q, n, t) for q, (n, t) in sorted(answers.items())]
    today = now.date()  # the day only: a finer time could be matched to a person
    if db.dialect == "postgresql" and len(rows) == 1 and not replace_all:
        with db.single_statement() as connection:
            recorded = store.save_one_answer_if_open(
                connection,
                run_id=run_id,
                user_id=user_id,
                respondent=key,
                answer=rows[0],
                today=today,
                now=now,
            )
        return AnswerOutcome(recorded)
    with db.begin() as connection:
        recorded = store.save_answers_if_open(
            connection,
            run_id=run_id,
            user_id=user_id,
            respondent=key,
            answers=rows,
            today=today,
            now=now,
            replace_all=replace_all,
        )
    return AnswerOutcome(recorded)


def reminder_moment(run: RunRecord, sent_at: datetime) -> datetime:
    """When one person who has not answered is reminded: at the run's reminder time, or —
    when their DM went out late (their time zone, a short run, joining the audience later) —
    halfway between their DM and the close, so no reminder comes straight after the DM."""
    return max(run.remind_at, sent_at + (run.closes_at - sent_at) / 2)


def who_answered(session: Session, secret: str, run_id: int) -> frozenset[str]:
    """The people who answered a run: for participation and reminders, never beside answers."""
    return answered_among(
        secret, run_id, store.invited_ids(session, run_id), store.respondent_keys(session, run_id)
    )


def withheld_questions(session: Session, policy: SurveyPolicy, run: RunRecord) -> set[int]:
    """Questions of `run` hidden because a run open at the same time could be subtracted
    from it (see differencing_risks); usually none, and then nobody's key is computed."""
    overlapping = store.overlapping_runs(session, run)
    if not overlapping:
        return set()
    return differencing_risks(
        definition_of(run),
        who_answered(session, policy.secret, run.id),
        [(definition_of(o), who_answered(session, policy.secret, o.id)) for o in overlapping],
        policy.min_responses,
    )


def get_run(db: Database, run_id: int) -> RunRecord | None:
    with db.transaction() as session:
        return store.get_run(session, run_id)


def is_open(run: RunRecord, now: datetime) -> bool:
    """Whether a run still takes answers (the same rule `record_answers` applies)."""
    return run.status == RUN_OPEN and run.closes_at > now


def current_answers(
    db: Database, policy: SurveyPolicy, run_id: int, user_id: str
) -> tuple[RunRecord | None, dict[int, tuple[int | None, str | None]]]:
    key = respondent_key(policy.secret, run_id, user_id)
    with db.transaction() as session:
        run = store.get_run(session, run_id)
        answers = store.answers_of(session, run_id, key)
    return run, {a.question: (a.number, a.text) for a in answers}


def validate_answers(
    definition: SurveyDefinition, answers: dict[int, tuple[int | None, str | None]]
) -> dict[int, str]:
    """Question index → catalog key of the problem, for the modal's error display."""
    problems: dict[int, str] = {}
    for index, question in enumerate(definition.questions):
        number, text = answers.get(index, (None, None))
        if number is None and not text:
            if not question.optional:
                problems[index] = "pulse.errors.required"
        elif not question.accepts(number, text):
            problems[index] = "pulse.errors.bad_answer"
    return problems


# ---- results -------------------------------------------------------------------------------


def run_results(
    db: Database, policy: SurveyPolicy, name: str, run_number: int | None
) -> tuple[SurveyRecord, RunResults, SurveyDefinition]:
    survey = find_existing(db, name)
    with db.transaction() as session:
        runs = store.runs_of(session, survey.id)
        if not runs:
            raise SurveyError("pulse.errors.never_run", name=survey.name)
        if run_number is None:
            run = runs[-1]
        else:
            matching = [r for r in runs if r.number == run_number]
            if not matching:
                raise SurveyError("pulse.errors.no_such_run", name=survey.name, number=run_number)
            run = matching[0]
        earlier = [r for r in runs if r.number < run.number]
        answers = [(a.question, a.number, a.text) for a in store.run_answers(session, run.id)]
        previous = None
        if earlier:
            # A question withheld in the previous run gives no change either: current minus
            # change would be the withheld figure.
            hidden_before = withheld_questions(session, policy, earlier[-1])
            previous = [
                (a.question, a.number, a.text)
                for a in store.run_answers(session, earlier[-1].id)
                if a.question not in hidden_before
            ]
        invited = store.invited_count(session, run.id)
        by_segment = store.segment_answers(session, run.id)
        invited_by_segment = store.invited_by_segment(session, run.id)
        answered = store.respondent_count(session, run.id)
        risky = withheld_questions(session, policy, run)
    definition = definition_of(run)
    # Below the threshold nothing per question shows, whatever each question's count.
    threshold = policy.min_responses if answered >= policy.min_responses else 10**9
    results = RunResults(
        run_number=run.number,
        invited=invited,
        answered=answered,
        min_responses=policy.min_responses,
        questions=question_results(definition, answers, min_responses=threshold, previous=previous),
        segments=segment_results(
            definition,
            answers,
            by_segment,
            invited_by_segment,
            answered=answered,
            min_responses=policy.min_responses,
        ),
    )
    return survey, withhold(results, risky), definition


def export_rows(results: RunResults, question_texts: list[str]) -> str:
    """Aggregates only, and only what the threshold lets through: never a row per person."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["run", "question", "type", "answered", "metric", "value"])
    writer.writerow([results.run_number, "", "", results.answered, "invited", results.invited])
    for q in results.questions:
        text = question_texts[q.index]
        base = [results.run_number, text, q.kind, q.answered]
        if q.withheld:
            writer.writerow([*base, "hidden_overlapping_run", ""])
            continue
        if q.hidden:
            writer.writerow([*base, "hidden_below_threshold", results.min_responses])
            continue
        if q.enps is not None:
            writer.writerow([*base, "enps", q.enps.score])
            writer.writerow([*base, "promoters", q.enps.promoters])
            writer.writerow([*base, "passives", q.enps.passives])
            writer.writerow([*base, "detractors", q.enps.detractors])
        if q.kind == "scale" and q.mean is not None and q.favourable is not None:
            writer.writerow([*base, "mean", f"{q.mean:.2f}"])
            writer.writerow([*base, "favourable_share", f"{q.favourable:.2f}"])
        for label, count in q.distribution:
            writer.writerow([*base, f"count_{label}", count])
        for comment in q.comments:
            writer.writerow([*base, "comment", comment])
    for segment in results.segments:  # the same rule as /pulse results: hidden teams say so
        team = f"team:{segment.segment}"
        if segment.hidden:
            writer.writerow([results.run_number, "", "", "", f"{team}:hidden_by_threshold", ""])
            continue
        writer.writerow([results.run_number, "", "", segment.answered, f"{team}:invited",
                         segment.invited])  # fmt: skip
        for sq in segment.questions:
            base = [results.run_number, question_texts[sq.index], sq.kind, segment.answered]
            if sq.hidden:
                writer.writerow([*base, f"{team}:hidden_by_threshold", ""])
            elif sq.enps is not None:
                writer.writerow([*base, f"{team}:enps", sq.enps.score])
            elif sq.mean is not None and sq.favourable is not None:
                writer.writerow([*base, f"{team}:mean", f"{sq.mean:.2f}"])
                writer.writerow([*base, f"{team}:favourable_share", f"{sq.favourable:.2f}"])
    return out.getvalue()


def local_send_time(run: RunRecord, zone_name: str, fallback: str) -> datetime:
    """When one person gets the DM: the run's time of day, on its date, in their own time zone
    (the workspace's when they have none); a run started by hand goes to everyone at once."""
    if not run.at_time:
        return run.opens_at
    try:
        zone = ZoneInfo(zone_name or fallback)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(fallback)
    return local_moment(run.local_date, run.at_time, zone)


def delivery_of(db: Database, run_id: int, user_id: str) -> store.DeliveryRecord | None:
    with db.transaction() as session:
        return store.delivery_of(session, run_id, user_id)


def export_csv(
    db: Database,
    policy: SurveyPolicy,
    name: str,
    question_texts: Callable[[SurveyDefinition], list[str]],
) -> str:
    """Every run of a survey as aggregate rows, each under the anonymity threshold rule."""
    survey = find_existing(db, name)
    with db.transaction() as session:
        numbers = [run.number for run in store.runs_of(session, survey.id)]
    parts = []
    for index, number in enumerate(numbers):
        _, results, definition = run_results(db, policy, name, number)
        rows = export_rows(results, question_texts(definition))
        parts.append(rows if index == 0 else rows.split("\n", 1)[1])
    return "".join(parts)
