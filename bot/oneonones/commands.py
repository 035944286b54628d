"""The `/oneonone` grammar: text in, a typed request out (or a OneOnOneError naming the
problem); `run_oneonone_command` carries it out and returns a plain result to render."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast
from zoneinfo import ZoneInfo

from bot.i18n import Phrase
from bot.oneonones.model import MAX_TOPIC, OneOnOneError, ScheduleRequest
from bot.oneonones.service import OneOnOneService, SeriesOverview, Skipped
from bot.oneonones.working_hours import OutsideWorkingDay
from bot.parsing.dates import parse_weekday
from bot.parsing.text import (
    is_plain_number,
    parse_clock_time,
    take_clock_time,
    take_user_mention,
)
from storage.oneonones import OccurrenceRecord, SeriesRecord

T = TypeVar("T")

EVERY_WEEKS = (1, 2, 4)
DEFAULT_MINUTES = 60  # the seed's "riunioni periodiche di un'ora"
DEFAULT_TIME = "10:00"  # the schedule form's starting time
MIN_MINUTES, MAX_MINUTES = 15, 180

# Each subcommand's usage line, written in the reader's language (the catalog's [usage.oneonone]).
USAGE = {
    name: Phrase(f"usage.oneonone.{name}")
    for name in ("schedule", "add", "notes", "skip", "cancel")
}
SUBCOMMANDS = frozenset({"help", "list", *USAGE})

_MINUTES = re.compile(r"([0-9]{1,4})(?:m|min|mins|minutes?|minut[oi])?")
# Keywords in English and Italian; every value word is read after its keyword.
_EVERY = {"every", "ogni"}
_WEEKS = {"week", "weeks", "settimana", "settimane"}
_ON = {"on", "il", "di", "al"}
_AT = {"at", "alle", "ore", "h"}
_FOR = {"for", "per"}
_MINUTE_WORDS = {"m", "min", "mins", "minute", "minutes", "minuto", "minuti"}


class ScheduleFormErrors(Exception):
    """The schedule form's problems, by the input block they belong under."""

    def __init__(self, errors: dict[str, OneOnOneError]) -> None:
        super().__init__(", ".join(f"{block}: {exc.key}" for block, exc in errors.items()))
        self.errors = errors


# The schedule form's input blocks, and under which of them each refusal belongs.
SCHEDULE_FORM_BLOCKS = ("person", "every", "weekday", "time", "minutes")
SCHEDULE_FORM_FIELDS = {
    "self": "person",
    "bot": "person",
    "unknown_person": "person",
    "lookup_failed": "person",
    "already_scheduled": "person",
    "bad_every": "every",
    "bad_weekday": "weekday",
    "bad_time": "time",
    "time_missing": "time",
    "bad_minutes": "minutes",
}


@dataclass(frozen=True, slots=True)
class PersonRequest:
    """`add`, `notes`, `skip` and `cancel`: a subcommand about the 1:1 with one person."""

    subcommand: str
    person_id: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class SimpleRequest:
    subcommand: str  # help | list | schedule (typed alone: the form)


OneOnOneRequest = ScheduleRequest | PersonRequest | SimpleRequest


def fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).rstrip("'")


def parse_command(text: str) -> OneOnOneRequest:
    words = text.strip().split(None, 1)
    if not words:
        return SimpleRequest("help")
    subcommand, rest = fold(words[0]), words[1] if len(words) > 1 else ""
    if subcommand not in SUBCOMMANDS:
        raise OneOnOneError("unknown_subcommand", subcommand=words[0][:30])
    if subcommand in ("help", "list"):
        if rest.strip():
            raise OneOnOneError(
                "unexpected_word", value=rest.split()[0][:30], usage=f"/oneonone {subcommand}"
            )
        return SimpleRequest(subcommand)
    if subcommand == "schedule" and not rest.strip():
        return SimpleRequest("schedule")  # several fields: a modal asks for them
    usage = USAGE[subcommand]
    mention = take_user_mention(rest)
    if mention is None:
        given = rest.split()[0][:40] if rest.strip() else ""
        if not given:
            raise OneOnOneError("missing_person", usage=usage)
        raise OneOnOneError("not_a_mention", value=given, usage=usage)
    person_id, remainder = mention[0], mention[1].strip()
    if subcommand == "schedule":
        return parse_schedule(person_id, remainder.split())
    if subcommand == "add":
        if not remainder:
            raise OneOnOneError("missing_topic", usage=usage)
        if len(remainder) > MAX_TOPIC:
            raise OneOnOneError("topic_too_long", limit=MAX_TOPIC)
        return PersonRequest("add", person_id, remainder)
    if remainder:
        raise OneOnOneError("unexpected_word", value=remainder.split()[0][:30], usage=usage)
    return PersonRequest(subcommand, person_id)


def parse_schedule(person_id: str, tokens: list[str]) -> ScheduleRequest:
    """`every <1|2|4> weeks on <weekday> at HH:MM [for <minutes>]`, keywords in any order."""
    usage = USAGE["schedule"]
    every: int | None = None
    weekday: int | None = None
    at_time: str | None = None
    minutes: int | None = None
    i = 0
    while i < len(tokens):
        word = fold(tokens[i])
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if word in _EVERY and following is not None:
            every, i = _every(tokens, i + 1)
        elif word in _ON and following is not None:
            weekday = weekday_of(following)
            i += 2
        elif word in _AT and following is not None:
            taken = take_clock_time(tokens[i + 1 :])  # "10 am" is two words
            if taken is None:
                raise OneOnOneError("bad_time", value=following[:30])
            at_time, width = taken
            i += 1 + width
        elif word in _FOR and following is not None:
            minutes = minutes_of(following)
            i += 2
            if i < len(tokens) and fold(tokens[i]) in _MINUTE_WORDS:
                i += 1
        elif weekday is None and _weekday(tokens[i]) is not None:
            weekday = weekday_of(tokens[i])  # `on` is optional before a weekday
            i += 1
        else:
            raise OneOnOneError("unexpected_word", value=tokens[i][:30], usage=usage)
    if weekday is None:
        raise OneOnOneError("missing_weekday", usage=usage)
    if at_time is None:
        raise OneOnOneError("missing_time", usage=usage)
    return ScheduleRequest(person_id, every or 1, weekday, at_time, minutes or DEFAULT_MINUTES)


def _every(tokens: list[str], i: int) -> tuple[int, int]:
    """After `every`: `week`, `N weeks`; returns the weeks and the index after them."""
    if fold(tokens[i]) in _WEEKS:
        return 1, i + 1
    weeks = every_of(tokens[i])
    if i + 1 < len(tokens) and fold(tokens[i + 1]) in _WEEKS:
        return weeks, i + 2
    raise OneOnOneError("bad_every", value=tokens[i][:30])


def every_of(token: str) -> int:
    """A number of weeks between meetings: one of EVERY_WEEKS."""
    word = fold(token)
    if not is_plain_number(word) or int(word) not in EVERY_WEEKS:
        raise OneOnOneError("bad_every", value=token[:30])
    return int(word)


def _weekday(token: str) -> int | None:
    """A day name, also in the plural (`mondays`)."""
    day = parse_weekday(token)
    return parse_weekday(fold(token).rstrip("s")) if day is None else day


def weekday_of(token: str) -> int:
    day = _weekday(token)
    if day is None:
        raise OneOnOneError("bad_weekday", value=token[:30])
    return day


def time_of(token: str) -> str:
    at_time = parse_clock_time(token.strip())
    if at_time is None:
        raise OneOnOneError("bad_time", value=token[:30])
    return at_time


def minutes_of(token: str) -> int:
    match = _MINUTES.fullmatch(fold(token))
    if not match or not MIN_MINUTES <= int(match[1]) <= MAX_MINUTES:
        raise OneOnOneError("bad_minutes", value=token[:30], low=MIN_MINUTES, high=MAX_MINUTES)
    return int(match[1])


def schedule_from_form(
    person_id: str | None,
    *,
    every: str | None,
    weekday: str | None,
    at_time: str | None,
    minutes: str | None,
) -> ScheduleRequest:
    """The schedule modal's fields, checked by the typed command's rules; every problem is
    raised at once (ScheduleFormErrors) under the block it belongs to. As typed, the cadence
    and the length may be left out (every week, DEFAULT_MINUTES)."""
    errors: dict[str, OneOnOneError] = {}

    def field(block: str, value: str | None, read: Callable[[str], T], default: T | None) -> T:
        try:
            if value is not None and value.strip():
                return read(value.strip())
            if default is not None:
                return default
            raise OneOnOneError("form_missing")
        except OneOnOneError as exc:
            errors[block] = exc
            return cast(T, None)  # never used: the errors are raised before the request is

    request = ScheduleRequest(
        person_id=field("person", person_id, str, None),
        every_weeks=field("every", every, every_of, 1),
        weekday=field("weekday", weekday, weekday_of, None),
        at_time=field("time", at_time, time_of, None),
        minutes=field("minutes", minutes, minutes_of, DEFAULT_MINUTES),
    )
    if errors:
        raise ScheduleFormErrors(errors)
    return request


# ---- carrying a command out ------------------------------------------------------------------


@dataclass(frozen=True)
class ShowHelp:
    pass


@dataclass(frozen=True)
class Refusal:
    """`oneonone.errors.<key>` with its parameters; the help follows an unknown subcommand."""

    key: str
    params: dict[str, object]
    with_help: bool = False


@dataclass(frozen=True)
class OpenScheduleForm:
    pass


@dataclass(frozen=True)
class SeriesList:
    series: list[SeriesOverview]


@dataclass(frozen=True)
class Scheduled:
    series: SeriesRecord
    first: OccurrenceRecord
    # Outside either person's working day: what it is for them, and a time that fits both.
    outside: OutsideWorkingDay | None = None


@dataclass(frozen=True)
class TopicAdded:
    series: SeriesRecord
    upcoming: OccurrenceRecord | None


@dataclass(frozen=True)
class OpenNotes:
    series: SeriesRecord
    notes: str | None
    other_id: str


@dataclass(frozen=True)
class MeetingSkipped:
    skipped: Skipped
    other_id: str


@dataclass(frozen=True)
class Cancelled:
    series: SeriesRecord
    other_id: str


OneOnOneResult = (
    ShowHelp
    | Refusal
    | OpenScheduleForm
    | SeriesList
    | Scheduled
    | TopicAdded
    | OpenNotes
    | MeetingSkipped
    | Cancelled
)


def run_oneonone_command(
    service: OneOnOneService, user_id: str, text: str, *, zone: ZoneInfo
) -> OneOnOneResult:
    """Parse one `/oneonone …` line and carry it out for `user_id`, whose wall clock is in
    `zone`; never raises for bad input."""
    try:
        request = parse_command(text)
        if isinstance(request, SimpleRequest):
            if request.subcommand == "help":
                return ShowHelp()
            if request.subcommand == "schedule":
                return OpenScheduleForm()
            return SeriesList(service.overview(user_id))
        if isinstance(request, ScheduleRequest):
            series, first = service.schedule(user_id, request, zone=zone)
            return Scheduled(series, first, service.outside_working_day(series, first, zone=zone))
        other_id = request.person_id
        if request.subcommand == "add":
            return TopicAdded(*service.add_topic(user_id, other_id=other_id, text=request.text))
        if request.subcommand == "notes":
            series, notes = service.notes_of(user_id, other_id)
            return OpenNotes(series, notes, other_id)
        if request.subcommand == "skip":
            return MeetingSkipped(service.skip(user_id, other_id=other_id), other_id)
        return Cancelled(service.cancel(user_id, other_id), other_id)
    except OneOnOneError as exc:
        return Refusal(exc.key, exc.params, with_help=exc.key == "unknown_subcommand")
