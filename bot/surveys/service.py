"""Survey operations behind `/pulse`, the DM buttons and the survey jobs: database work only,
plain values out. One `SurveyService`, built once with its policy and held in `Services`."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from bot.actor import Actor
from bot.clock import Clock, system_clock
from bot.surveys import anonymity
from bot.surveys.model import SurveyDefinition, SurveyError
from bot.surveys.releases import release_run
from bot.surveys.results import Participation, RunResults
from bot.surveys.schedule import (
    MAX_LEAD,
    Audience,
    Schedule,
    close_moment,
    first_delivery,
    following_occurrence,
    local_moment,
    next_occurrence,
)
from bot.surveys.templates import TEMPLATES
from storage import releases as release_store
from storage import summary as summary_store
from storage import surveys as store
from storage.db import Database
from storage.summary import ClosedRun
from storage.surveys import RUN_OPEN, RunRecord, SurveyRecord

MAX_NAME = 40
TEMPLATE_NAMES = ("pulse", "enps", "engagement")

# A question's answers as given: question index → (number, text).
Answers = dict[int, tuple[int | None, str | None]]


@dataclass(frozen=True, slots=True)
class SurveyPolicy:
    """The settings survey operations need, as plain values."""

    secret: str
    min_responses: int
    reminder_hours: int
    timezone: str
    managers: frozenset[str] = frozenset()  # PULSEBOT_MANAGERS
    confidence: int = 95  # PULSEBOT_CONFIDENCE: of every interval a release holds


@dataclass(frozen=True, slots=True)
class SurveyOverview:
    survey: SurveyRecord
    definition: SurveyDefinition
    open_run: RunRecord | None
    runs: int


@dataclass(frozen=True, slots=True)
class SkippedOccurrence:
    """A scheduled occurrence not opened because a run of the survey was still open."""

    survey: str
    occurrence: datetime
    open_run: int
    open_until: datetime


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    recorded: bool  # False: the run is closed (or unknown)


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What never changes about a run while it is open."""

    definition: SurveyDefinition
    closes_at: datetime  # the scheduled close: only `/pulse close` moves it, and closes the run


@dataclass(frozen=True, slots=True)
class OpenSurvey:
    """An open run a person was sent, for their Home tab."""

    run_id: int
    definition: SurveyDefinition
    closes_at: datetime
    answered: bool


@dataclass(frozen=True, slots=True)
class AnsweredSurvey:
    """A closed run the person answered, for their Home tab: that they did, never what."""

    definition: SurveyDefinition
    closed_at: datetime


def definition_of(record: SurveyRecord | RunRecord) -> SurveyDefinition:
    return SurveyDefinition.from_json(record.definition)


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


def is_open(run: RunRecord, now: datetime) -> bool:
    """Whether a run still takes answers (the same rule `record_answers` applies)."""
    return run.status == RUN_OPEN and run.closes_at > now


def reminder_moment(run: RunRecord, sent_at: datetime) -> datetime:
    """When one person who has not answered is reminded: at the run's reminder time, or —
    when their DM went out late (their time zone, a short run, joining the audience later) —
    halfway between their DM and the close, so no reminder comes straight after the DM."""
    return max(run.remind_at, sent_at + (run.closes_at - sent_at) / 2)


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


def validate_answers(definition: SurveyDefinition, answers: Answers) -> dict[int, str]:
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


class SurveyService:
    def __init__(
        self,
        db: Database,
        policy: SurveyPolicy,
        *,
        managers: Callable[[], frozenset[str]] = frozenset,
        clock: Clock = system_clock,
    ) -> None:
        self.db = db
        self.policy = policy
        self.clock = clock
        # Who the managers are now: their own answers never count towards what they see.
        self.managers = managers
        self.definitions = RunDefinitions(db)

    @property
    def zone(self) -> ZoneInfo:
        """The workspace's time zone (PULSEBOT_TIMEZONE)."""
        return ZoneInfo(self.policy.timezone)

    # ---- who may ------------------------------------------------------------------------------

    @staticmethod
    def authorize(actor: Actor, command: str) -> None:
        """Everything but answering and help is for managers: `/pulse …`, its forms, results."""
        if not actor.is_manager:
            raise SurveyError("common.manager_only", command=command)

    # ---- surveys and their schedules ---------------------------------------------------------

    def survey(self, name: str, user_id: str) -> SurveyRecord:
        """A survey by name; a template id makes its survey on first use."""
        with self.db.transaction() as session:
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
                now=self.clock(),
            )

    def create(self, actor: Actor, name: str, definition: SurveyDefinition) -> str:
        """A survey of the manager's own questions (`/pulse new`); returns its name."""
        self.authorize(actor, "/pulse new")
        user_id = actor.user_id
        clean = name.strip()
        if not clean or len(clean) > MAX_NAME or any(c.isspace() for c in clean):
            raise SurveyError("pulse.errors.bad_name", limit=MAX_NAME)
        if clean.casefold() in TEMPLATES:
            raise SurveyError("pulse.errors.name_taken", name=clean)
        with self.db.transaction() as session:
            if store.find_survey(session, clean) is not None:
                raise SurveyError("pulse.errors.name_taken", name=clean)
            store.add_survey(
                session,
                name=clean,
                definition=definition.to_json(),
                created_by=user_id,
                template_id=None,
                now=self.clock(),
            )
        return clean

    def find_existing(self, name: str) -> SurveyRecord:
        with self.db.transaction() as session:
            found = store.find_survey(session, name)
        if found is None:
            if name.casefold() in TEMPLATES:
                raise SurveyError("pulse.errors.never_run", name=name)
            raise SurveyError("pulse.errors.unknown_survey", name=name)
        return found

    def schedule(
        self, actor: Actor, name: str, schedule: Schedule
    ) -> tuple[SurveyRecord, datetime]:
        """Set a survey's schedule; returns the survey as saved and its first occurrence."""
        self.authorize(actor, "/pulse schedule")
        now = self.clock()
        survey = self.survey(name, actor.user_id)
        # Stored with the schedule: a later change of PULSEBOT_TIMEZONE leaves it where it was.
        zone = schedule.zone or self.policy.timezone
        first = next_occurrence(schedule, now, ZoneInfo(zone))
        with self.db.transaction() as session:
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

    def schedule_choices(self, actor: Actor) -> list[tuple[str, SurveyDefinition]]:
        """What the schedule modal offers: the templates, then the workspace's own surveys."""
        self.authorize(actor, "/pulse schedule")
        choices = dict(TEMPLATES)
        with self.db.transaction() as session:
            for survey in store.list_surveys(session):
                choices.setdefault(survey.name, definition_of(survey))
        return list(choices.items())

    def zone_of(self, schedule: Schedule) -> ZoneInfo:
        """The zone a schedule's occurrences are counted in: its own, else (a schedule made
        before schedules had one) the workspace's."""
        return ZoneInfo(schedule.zone or self.policy.timezone)

    def set_paused(self, actor: Actor, name: str, paused: bool) -> SurveyRecord:
        """Pause or resume a schedule; returns the survey as saved."""
        self.authorize(actor, "/pulse pause" if paused else "/pulse resume")
        survey = self.find_existing(name)
        schedule = schedule_of(survey)
        if schedule is None:
            raise SurveyError("pulse.errors.not_scheduled", name=survey.name)
        with self.db.transaction() as session:
            store.set_paused(session, survey.id, paused)
            if not paused:  # occurrences missed while paused are skipped, not caught up
                following = next_occurrence(schedule, self.clock(), self.zone_of(schedule))
                store.set_next_run(session, survey.id, following)
            return store.get_survey(session, survey.id)

    def overview(self, actor: Actor) -> list[SurveyOverview]:
        self.authorize(actor, "/pulse list")
        with self.db.transaction() as session:
            return [
                SurveyOverview(
                    survey=s,
                    definition=definition_of(s),
                    open_run=store.open_run_of(session, s.id),
                    runs=len(store.runs_of(session, s.id)),
                )
                for s in store.list_surveys(session)
            ]

    # ---- runs ----------------------------------------------------------------------------------

    def new_run(
        self,
        survey: SurveyRecord,
        *,
        occurrence_key: str,
        opens_at: datetime,
        at_time: str,
        audience: Audience,
        open_days: int,
        zone: ZoneInfo | None = None,
    ) -> RunRecord | None:
        """Create a run (once per occurrence key); the DMs are rows made when its audience is
        known.

        A scheduled run (`at_time` set) is on its occurrence's date in the schedule's `zone`,
        and closes `open_days` later at the same wall-clock time there; one started by hand
        closes `open_days` × 24 hours after it opened.
        """
        zone = zone or ZoneInfo(self.policy.timezone)
        local_date = opens_at.astimezone(zone).date()
        if at_time:
            closes_at = close_moment(local_date, at_time, open_days, zone)
        else:
            closes_at = opens_at + timedelta(days=open_days)
        remind_at = max(opens_at, closes_at - timedelta(hours=self.policy.reminder_hours))
        with self.db.transaction() as session:
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
        self, actor: Actor, name: str, *, audience: Audience | None, open_days: int | None
    ) -> RunRecord:
        """`/pulse start`: a run open now; everyone gets the DM at once (at_time "")."""
        self.authorize(actor, "/pulse start")
        minimum = self.policy.min_responses
        if (
            audience is not None
            and not audience.channels
            and 0 < len(set(audience.users)) < minimum
        ):  # the audience is known now: say so now
            raise SurveyError("pulse.errors.too_few_people", needed=minimum)
        now = self.clock()
        survey = self.survey(name, actor.user_id)
        with self.db.transaction() as session:
            if store.open_run_of(session, survey.id) is not None:
                raise SurveyError("pulse.errors.already_open", name=survey.name)
        run = self.new_run(
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

    def open_due_occurrences(self, now: datetime) -> tuple[int, list[SkippedOccurrence]]:
        """The run of every scheduled occurrence that someone, somewhere, is due; returns how
        many runs were created and the occurrences skipped.

        An occurrence (say Monday 10:00) reaches each person at 10:00 on Monday in their own
        time zone: first at UTC+14, up to 26 hours before it comes in the schedule's zone. So
        its run is created at that first moment, and each DM row waits for its person's own
        10:00. The run's `opens_at` stays the occurrence in the schedule's zone: its close is
        `open N days` after it.

        An occurrence that comes while a run of the same survey is still open (one started by
        hand for longer, say) is skipped: a second run would DM everyone twice, and two runs
        open at once hide each other's results (see anonymity.differencing_risks).
        """
        opened = 0
        skipped: list[SkippedOccurrence] = []
        with self.db.transaction() as session:
            due = store.due_schedules(session, now + MAX_LEAD)
        for survey in due:
            schedule = schedule_of(survey)
            if schedule is None or survey.next_run_at is None:
                continue
            zone = self.zone_of(schedule)
            occurrence = survey.next_run_at
            if first_delivery(occurrence.astimezone(zone).date(), survey.at_time) > now:
                continue  # nobody's local time has come yet
            with self.db.transaction() as session:
                still_open = store.open_run_of(session, survey.id)
            # (A run opened at the occurrence itself is its own, made by an earlier firing.)
            if (
                still_open
                and still_open.opens_at != occurrence
                and still_open.closes_at > occurrence
            ):
                skipped.append(
                    SkippedOccurrence(
                        survey.name, occurrence, still_open.number, still_open.closes_at
                    )
                )
            else:
                run = self.new_run(
                    survey,
                    occurrence_key=f"{survey.id}@{occurrence.strftime('%Y-%m-%dT%H:%MZ')}",
                    opens_at=occurrence,
                    at_time=survey.at_time,
                    audience=schedule.audience,
                    open_days=survey.open_days,
                    zone=zone,
                )
                opened += run is not None
            following = following_occurrence(schedule, occurrence, zone)
            while following <= now:  # occurrences missed while the bot was down are skipped
                following = following_occurrence(schedule, following, zone)
            with self.db.transaction() as session:
                store.set_next_run(session, survey.id, following)
        return opened, skipped

    def close(self, actor: Actor, name: str) -> RunRecord:
        """`/pulse close`: close the survey's open run now."""
        self.authorize(actor, "/pulse close")
        survey = self.find_existing(name)
        with self.db.transaction() as session:
            run = store.open_run_of(session, survey.id)
            if run is None or not store.close_run(session, run.id, self.clock()):
                raise SurveyError("pulse.errors.not_open", name=survey.name)
            return run

    def close_due_runs(self, now: datetime) -> int:
        """Close runs past their deadline; returns how many were closed."""
        with self.db.transaction() as session:
            due = store.runs_to_close(session, now)
            return sum(store.close_run(session, run.id, run.closes_at) for run in due)

    def invite(
        self,
        run: RunRecord,
        people: Sequence[tuple[str, str, datetime]],
        segments: Mapping[str, str | None],
    ) -> int:
        """The run's DM rows, (user id, language, send time) per person, and its invitees by
        key, in a shuffled order that lines up with nothing; returns rows made."""
        secret = self.policy.secret
        invitees = [
            (anonymity.respondent_key(secret, run.id, user_id), segments.get(user_id))
            for user_id, _, _ in people
        ]
        secrets.SystemRandom().shuffle(invitees)
        with self.db.transaction() as session:
            made = store.add_deliveries(session, run.id, people, segments)
            store.add_invitees(session, run.id, invitees)
            return made

    def backfill_invitees(self) -> int:
        """Open runs made before invitees were kept by key get them (the migration cannot: it
        has no secret); returns runs filled."""
        with self.db.transaction() as session:
            runs = [
                r
                for r in store.resolved_open_runs(session)
                if not store.invitee_count(session, r.id)
            ]
            filled = 0
            for run in runs:
                segments = store.invited_segments(session, run.id)
                if not segments:
                    continue
                invitees = [
                    (anonymity.respondent_key(self.policy.secret, run.id, u), s)
                    for u, s in segments.items()
                ]
                secrets.SystemRandom().shuffle(invitees)
                store.add_invitees(session, run.id, invitees)
                filled += 1
            return filled

    def cancel_small_run(self, run: RunRecord, audience: int) -> bool:
        """A run whose audience turned out smaller than the threshold is dropped before any DM
        (results of so few could never show, and its participation would point at people)."""
        if audience >= self.policy.min_responses:
            return False
        with self.db.transaction() as session:
            return store.delete_run_without_deliveries(session, run.id)

    def get_run(self, run_id: int) -> RunRecord | None:
        with self.db.transaction() as session:
            return store.get_run(session, run_id)

    def is_open(self, run: RunRecord) -> bool:
        return is_open(run, self.clock())

    def answered_among(self, run_id: int, user_ids: list[str]) -> frozenset[str]:
        """Which of these people answered the run: found in memory, with the secret."""
        if not user_ids:
            return frozenset()
        with self.db.transaction() as session:
            keys = store.respondent_keys(session, run_id)
        return anonymity.answered_among(self.policy.secret, run_id, user_ids, keys)

    # ---- answers -------------------------------------------------------------------------------

    def record_answers(
        self, run_id: int, user_id: str, answers: Answers, *, replace_all: bool
    ) -> AnswerOutcome:
        """Store answers under the anonymous key, if the run is still open; one transaction.

        The caller has checked the answers against the run's definition (`validate_answers`,
        or `Question.accepts` for a one-click eNPS). The commit is a normal, durable one: an
        answer acknowledged to the person must survive a crash.
        """
        now = self.clock()
        recorded = store.record_answers_if_open(
            self.db,
            run_id=run_id,
            respondent=anonymity.respondent_key(self.policy.secret, run_id, user_id),
            answers=[(q, n, t) for q, (n, t) in sorted(answers.items())],
            today=now.date(),  # the day only: a finer time could be matched to a person
            now=now,
            replace_all=replace_all,
        )
        return AnswerOutcome(recorded)

    def current_answers(self, run_id: int, user_id: str) -> tuple[RunRecord | None, Answers]:
        key = anonymity.respondent_key(self.policy.secret, run_id, user_id)
        with self.db.transaction() as session:
            run = store.get_run(session, run_id)
            answers = store.answers_of(session, run_id, key)
        return run, {a.question: (a.number, a.text) for a in answers}

    def home_surveys(
        self, user_id: str, past: int
    ) -> tuple[list[OpenSurvey], list[AnsweredSurvey]]:
        """Open runs the person was sent, and up to `past` closed runs they answered."""
        with self.db.transaction() as session:
            open_runs, answered = anonymity.runs_of_person(
                session, self.policy.secret, user_id, self.clock(), past
            )
        open_surveys = [
            OpenSurvey(run.id, definition_of(run), run.closes_at, bool(mine))
            for run, mine in open_runs
        ]
        answered_surveys = [
            AnsweredSurvey(SurveyDefinition.from_json(run.definition), run.closes_at)
            for run in answered
        ]
        return sorted(open_surveys, key=lambda s: s.closes_at), answered_surveys

    # ---- results -------------------------------------------------------------------------------

    def latest_closed(self, before: datetime) -> ClosedRun | None:
        """The run that closed last before `before`, for the managers' Home tab."""
        with self.db.transaction() as session:
            latest = summary_store.runs_closed_before(session, before, 1)
        return latest[0] if latest else None

    def results(
        self, actor: Actor, name: str, run_number: int | None
    ) -> tuple[SurveyRecord, RunResults | Participation, SurveyDefinition]:
        """`/pulse results`: a closed run's released results; of an open run, only how many
        have answered so far."""
        self.authorize(actor, "/pulse results")
        survey, run = self.find_run(name, run_number)
        if run.status == RUN_OPEN:
            with self.db.transaction() as session:
                participation = Participation(
                    run.number,
                    store.invited_count(session, run.id),
                    store.respondent_count(session, run.id),
                    run.closes_at,
                )
            return survey, participation, definition_of(run)
        return survey, self.released_results(run), definition_of(run)

    def find_run(self, name: str, run_number: int | None) -> tuple[SurveyRecord, RunRecord]:
        """A survey's run by number, else its latest; refused when there is none."""
        survey = self.find_existing(name)
        with self.db.transaction() as session:
            runs = store.runs_of(session, survey.id)
        if not runs:
            raise SurveyError("pulse.errors.never_run", name=survey.name)
        if run_number is None:
            return survey, runs[-1]
        matching = [r for r in runs if r.number == run_number]
        if not matching:
            raise SurveyError("pulse.errors.no_such_run", name=survey.name, number=run_number)
        return survey, matching[0]

    def run_results(self, name: str, run_number: int) -> tuple[RunResults, SurveyDefinition]:
        """A closed run's released results (for the summary, App Home and exports)."""
        _, run = self.find_run(name, run_number)
        return self.released_results(run), definition_of(run)

    def released_results(self, run: RunRecord) -> RunResults:
        """The snapshot frozen when `run` closed; released now if it has not been yet (a
        crash between the close and the release, or a run closed before releases existed)."""
        with self.db.transaction() as session:
            found = release_store.snapshot_of(session, run.id)
        if found is None:
            # Releases go in the order runs closed: each is compared with those before it.
            self.release_closed_runs()
            with self.db.transaction() as session:
                found = release_store.snapshot_of(session, run.id)
        if found is None:
            raise SurveyError("pulse.errors.not_open", name=str(run.id))  # not closed: no results
        return RunResults.from_json(found)

    def _release(self, run: RunRecord) -> RunResults:
        """Release a closed run's results once: compared with every earlier release (see
        bot.surveys.releases), frozen as its snapshot."""
        managers = self.managers() | self.policy.managers
        with self.db.transaction() as session:
            release_store.lock_releases(session)
            found = release_store.snapshot_of(session, run.id)
            if found is not None:  # another instance released it first
                return RunResults.from_json(found)
            return release_run(
                session,
                run,
                secret=self.policy.secret,
                min_responses=self.policy.min_responses,
                confidence=self.policy.confidence,
                managers=managers,
                previous=self._previous_release(session, run),
                released_on=self.clock().date(),
            )

    def release_closed_runs(self) -> int:
        """Release every closed run without a snapshot, in the order they closed."""
        with self.db.transaction() as session:
            pending = release_store.unreleased_closed_runs(session)
        for run in pending:
            self._release(run)
        return len(pending)

    @staticmethod
    def _previous_release(session: Session, run: RunRecord) -> RunResults | None:
        """The survey's release before this run's, if any (its figures give the changes)."""
        for earlier in reversed(store.runs_of(session, run.survey_id)):
            if earlier.number < run.number:
                found = release_store.snapshot_of(session, earlier.id)
                if found is not None:
                    return RunResults.from_json(found)
        return None

    def export(self, actor: Actor, name: str) -> list[tuple[RunResults, SurveyDefinition]]:
        """`/pulse export`: every released run of a survey (an open run has released nothing)."""
        self.authorize(actor, "/pulse export")
        survey = self.find_existing(name)
        with self.db.transaction() as session:
            closed = [r.number for r in store.runs_of(session, survey.id) if r.status != RUN_OPEN]
        return [self.run_results(name, number) for number in closed]
