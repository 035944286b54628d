"""One-to-one series: scheduling, agendas, skips, private notes — database work only. One
`OneOnOneService`, built once and held in `Services`.

Who may see what: the agenda of a series only its two people; a private note only its author.
Every lookup starts from the asking person, so nobody else's series (another manager's
included) is ever found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.clock import Clock, system_clock
from bot.directory import Directory, UserRecord
from bot.i18n import Phrase
from bot.oneonones.model import MAX_TOPIC, OneOnOneError, ScheduleRequest
from bot.oneonones.occurrences import Cadence, Slot, first_slot, slot_after, wall_time
from bot.oneonones.working_hours import OutsideWorkingDay, check_working_day
from storage import oneonones as store
from storage.db import Database
from storage.oneonones import HELD, SCHEDULED, SKIPPED, OccurrenceRecord, SeriesRecord, TopicRecord

NOTES_SCOPE = "notes"
MAX_FOLLOWUPS = 10
# "Overdue": an active series that went a whole cycle and one more week without a 1:1 held.
OVERDUE_GRACE = timedelta(days=7)


def outcome_scope(occurrence_id: int) -> str:
    return f"outcome:{occurrence_id}"


def cadence_of(series: SeriesRecord) -> Cadence:
    return Cadence(
        series.every_weeks,
        series.weekday,
        series.at_time,
        series.minutes,
        ZoneInfo(series.timezone),
    )


@dataclass(frozen=True, slots=True)
class SeriesOverview:
    """A series as one of its two people sees it: the next meeting and the agenda so far."""

    series: SeriesRecord
    upcoming: OccurrenceRecord | None
    agenda: list[TopicRecord]


@dataclass(frozen=True, slots=True)
class Skipped:
    series: SeriesRecord
    skipped: OccurrenceRecord
    upcoming: OccurrenceRecord | None


@dataclass(frozen=True, slots=True)
class OutcomeForm:
    series: SeriesRecord
    occurrence: OccurrenceRecord
    outcome: str | None
    open_followups: list[TopicRecord]


@dataclass(frozen=True, slots=True)
class WeekCounts:
    held: int
    skipped: int
    overdue: int


# ---- rules and helpers --------------------------------------------------------------------------


def check_person(asker_id: str, person: UserRecord) -> None:
    """Refuse a 1:1 with oneself, a bot, or someone Slack does not know (or who left)."""
    if person.user_id == asker_id:
        raise OneOnOneError("self")
    if person.is_bot:
        raise OneOnOneError("bot", person=person.user_id)
    if person.deleted or not (person.name or person.real_name):
        raise OneOnOneError("unknown_person", person=person.user_id)


def _add_occurrence(session: Session, series: SeriesRecord, slot: Slot) -> OccurrenceRecord:
    store.add_occurrence(session, series.id, slot.local_date, slot.starts_at, slot.ends_at)
    occurrence = store.upcoming_occurrence(session, series.id)
    assert occurrence is not None
    return occurrence


def _schedule_next(
    session: Session, series: SeriesRecord, previous: OccurrenceRecord, now: datetime
) -> None:
    """After a meeting is held or skipped, the next one (once, by its unique date)."""
    if series.cancelled_at is not None:
        return
    following = slot_after(cadence_of(series), series.anchor_date, previous.local_date, now)
    store.add_occurrence(
        session, series.id, following.local_date, following.starts_at, following.ends_at
    )


def series_with(session: Session, asker_id: str, other_id: str) -> SeriesRecord:
    """The active series between the asker and another person, or a refusal."""
    series = store.active_series_between(session, asker_id, other_id)
    if series is None:
        raise OneOnOneError("no_series", person=other_id)
    return series


class OneOnOneService:
    def __init__(self, db: Database, directory: Directory, *, clock: Clock = system_clock) -> None:
        self.db = db
        self.directory = directory
        self.clock = clock

    # ---- scheduling ---------------------------------------------------------------------------

    def person(self, person_id: str) -> UserRecord:
        """The person a 1:1 is scheduled with, on the ack path: from the directory, else one
        short try at Slack, so the answer stays within Slack's 3 s. When Slack cannot answer
        now, say so rather than "I cannot find them"."""
        person = self.directory.find(person_id, quick=True)
        if person is None:
            raise OneOnOneError("lookup_failed", person=person_id)
        return person

    def schedule(
        self, manager_id: str, request: ScheduleRequest, *, zone: ZoneInfo
    ) -> tuple[SeriesRecord, OccurrenceRecord]:
        """A new series with the asker as manager, at their wall-clock time in `zone`."""
        person = self.person(request.person_id)
        check_person(manager_id, person)
        now = self.clock()
        cadence = Cadence(
            request.every_weeks, request.weekday, request.at_time, request.minutes, zone
        )
        first = first_slot(cadence, now)
        if first.shifted:
            raise OneOnOneError(
                "time_missing",
                time=request.at_time,
                date=first.local_date.isoformat(),
                zone=zone.key,
            )
        with self.db.transaction() as session:
            existing = store.active_series_between(session, manager_id, person.user_id)
            series = (
                None
                if existing
                else store.add_series(
                    session,
                    manager_id=manager_id,
                    person_id=person.user_id,
                    every_weeks=request.every_weeks,
                    weekday=request.weekday,
                    at_time=request.at_time,
                    minutes=request.minutes,
                    timezone=zone.key,
                    anchor_date=first.local_date,
                    now=now,
                )
            )
            if series is None:
                raise OneOnOneError("already_scheduled", person=person.user_id)
            occurrence = _add_occurrence(session, series, first)
        return series, occurrence

    def outside_working_day(
        self, series: SeriesRecord, first: OccurrenceRecord, *, zone: ZoneInfo
    ) -> OutsideWorkingDay | None:
        """Whether the new series' first meeting falls outside either person's working day
        (the manager's in `zone`, the person's in their Slack time zone), and the nearest
        time that fits both."""
        person = self.directory.find(series.person_id, quick=True)
        person_zone = person.zone(zone) if person is not None else zone
        return check_working_day(
            first.local_date, wall_time(series.at_time), series.minutes, zone, person_zone
        )

    # ---- reading ------------------------------------------------------------------------------

    def overview(self, user_id: str) -> list[SeriesOverview]:
        """The asker's own series (as manager or as person), each with its next date and
        agenda."""
        with self.db.transaction() as session:
            return [
                SeriesOverview(
                    s, store.upcoming_occurrence(session, s.id), store.agenda(session, s.id)
                )
                for s in store.active_series_of(session, user_id)
            ]

    def party_series(self, user_id: str, series_id: int) -> SeriesRecord:
        """A series by id, only for one of its two people."""
        with self.db.transaction() as session:
            series = store.get_series(session, series_id)
        if series is None or series.cancelled_at is not None or not series.has(user_id):
            raise OneOnOneError("gone")
        return series

    # ---- the agenda ---------------------------------------------------------------------------

    def add_topic(
        self,
        user_id: str,
        *,
        other_id: str | None = None,
        series_id: int | None = None,
        text: str,
    ) -> tuple[SeriesRecord, OccurrenceRecord | None]:
        """Add to the next agenda of the series with `other_id` (or by id, from a button)."""
        text = " ".join(text.split())
        if not text:
            raise OneOnOneError("missing_topic", usage=Phrase("usage.oneonone.add"))
        if len(text) > MAX_TOPIC:
            raise OneOnOneError("topic_too_long", limit=MAX_TOPIC)
        with self.db.transaction() as session:
            if other_id is not None:
                series = series_with(session, user_id, other_id)
            else:
                found = store.get_series(session, series_id or 0)
                if found is None or found.cancelled_at is not None or not found.has(user_id):
                    raise OneOnOneError("gone")
                series = found
            store.add_topic(session, series.id, user_id, "topic", text, now=self.clock())
            return series, store.upcoming_occurrence(session, series.id)

    # ---- skipping and cancelling --------------------------------------------------------------

    def skip(
        self, user_id: str, *, other_id: str | None = None, occurrence_id: int | None = None
    ) -> Skipped:
        """Skip the next meeting (either side); its topics move to the one after."""
        now = self.clock()
        with self.db.transaction() as session:
            if other_id is not None:
                series = series_with(session, user_id, other_id)
                occurrence = store.upcoming_occurrence(session, series.id)
                if occurrence is None:
                    raise OneOnOneError("nothing_to_skip", person=other_id)
            else:
                occurrence = store.get_occurrence(session, occurrence_id or 0)
                found = (
                    None if occurrence is None else store.get_series(session, occurrence.series_id)
                )
                if occurrence is None or found is None or not found.has(user_id):
                    raise OneOnOneError("gone")
                series = found
            if occurrence.status != SCHEDULED or occurrence.starts_at <= now:
                raise OneOnOneError("not_skippable", person=series.other(user_id))
            if not store.set_status(session, occurrence.id, SCHEDULED, SKIPPED):
                raise OneOnOneError("not_skippable", person=series.other(user_id))
            _schedule_next(session, series, occurrence, now)
            return Skipped(series, occurrence, store.upcoming_occurrence(session, series.id))

    def cancel(self, user_id: str, other_id: str) -> SeriesRecord:
        """End the series; only its manager may."""
        with self.db.transaction() as session:
            series = series_with(session, user_id, other_id)
            if series.manager_id != user_id:
                raise OneOnOneError("manager_cancels", manager=series.manager_id)
            store.cancel_series(session, series.id, self.clock())
        return series

    # ---- private notes and outcomes -----------------------------------------------------------

    def notes_of(self, user_id: str, other_id: str) -> tuple[SeriesRecord, str | None]:
        """The asker's own running notes on their 1:1 with `other_id`."""
        with self.db.transaction() as session:
            series = series_with(session, user_id, other_id)
            return series, store.note_of(session, series.id, user_id, NOTES_SCOPE)

    def save_notes(self, user_id: str, series_id: int, text: str) -> None:
        series = self.party_series(user_id, series_id)
        with self.db.transaction() as session:
            store.save_note(
                session, series.id, user_id, NOTES_SCOPE, text.strip(), now=self.clock()
            )

    def outcome_form(self, user_id: str, occurrence_id: int) -> OutcomeForm:
        with self.db.transaction() as session:
            occurrence = store.get_occurrence(session, occurrence_id)
            series = None if occurrence is None else store.get_series(session, occurrence.series_id)
            if occurrence is None or series is None or not series.has(user_id):
                raise OneOnOneError("gone")
            return OutcomeForm(
                series,
                occurrence,
                store.note_of(session, series.id, user_id, outcome_scope(occurrence.id)),
                [t for t in store.agenda(session, series.id) if t.kind == "followup"],
            )

    def save_outcomes(
        self,
        user_id: str,
        occurrence_id: int,
        *,
        outcome: str,
        followups: list[str],
        done: list[int],
    ) -> OutcomeForm:
        """The outcome is the author's private note; follow-ups are shared and stay on the
        agenda until someone marks them done."""
        now = self.clock()
        form = self.outcome_form(user_id, occurrence_id)
        lines = [" ".join(line.split()) for line in followups]
        lines = [line[:MAX_TOPIC] for line in lines if line][:MAX_FOLLOWUPS]
        with self.db.transaction() as session:
            series_id = form.series.id
            if outcome.strip():
                scope = outcome_scope(occurrence_id)
                store.save_note(session, series_id, user_id, scope, outcome.strip(), now=now)
            store.close_followups(session, series_id, done, now)
            for line in lines:
                store.add_topic(session, series_id, user_id, "followup", line, now=now)
        return form

    # ---- time passing (the scheduler's tick) --------------------------------------------------

    def hold_started(self, now: datetime) -> list[OccurrenceRecord]:
        """Meetings whose start has come are held: their topics leave the agenda, the next one
        is planned. Returns the occurrences this call moved (a twin tick moves none twice)."""
        with self.db.transaction() as session:
            due = store.started(session, now)
        moved: list[OccurrenceRecord] = []
        for occurrence in due:
            with self.db.transaction() as session:
                if not store.set_status(session, occurrence.id, SCHEDULED, HELD):
                    continue
                series = store.get_series(session, occurrence.series_id)
                assert series is not None
                store.mark_topics_held(session, series.id, occurrence.id, occurrence.starts_at)
                _schedule_next(session, series, occurrence, now)
            moved.append(occurrence)
        return moved

    def week_counts(self, start: datetime, end: datetime, now: datetime) -> WeekCounts:
        """Counts only, over every series: held and skipped in [start, end), and overdue at
        `end`."""
        cutoff = min(end, now)
        with self.db.transaction() as session:
            held, skipped = store.week_counts(session, start, end, now)
            overdue = 0
            for series in store.all_series(session):
                if series.cancelled_at is not None or series.created_at >= cutoff:
                    continue
                last = store.last_held_before(session, series.id, cutoff) or series.created_at
                if cutoff - last > timedelta(weeks=series.every_weeks) + OVERDUE_GRACE:
                    overdue += 1
        return WeekCounts(held, skipped, overdue)
