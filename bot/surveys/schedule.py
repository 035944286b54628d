"""Cadences, the `/pulse schedule` grammar and the next occurrence of a schedule (zoneinfo)."""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import cache, lru_cache
from typing import Any, Literal, cast, get_args
from zoneinfo import ZoneInfo, available_timezones

from apscheduler.triggers.cron import CronTrigger

from bot.parsing.dates import parse_weekday
from bot.parsing.text import (
    ParseError,
    is_plain_number,
    parse_clock_time,
    parse_user_mention,
    split_args,
    take_clock_time,
)
from bot.surveys.model import SurveyError

Cadence = Literal["weekly", "biweekly", "monthly", "quarterly", "cron"]
CADENCES: tuple[Cadence, ...] = get_args(Cadence)
# What the schedule modal offers: a cron expression is typed only.
FORM_CADENCES: tuple[Cadence, ...] = ("weekly", "biweekly", "monthly", "quarterly")
DEFAULT_TIME = "10:00"
DEFAULT_OPEN_DAYS = 3
MAX_OPEN_DAYS = 30
MAX_CRON = 100

LAST = -1  # on_week of "the last <weekday> of the month"
# on_week → its word in the catalog (`pulse.nth.first`) and in the typed command.
WEEK_NAMES = {1: "first", 2: "second", 3: "third", 4: "fourth", LAST: "last"}
NTH_WORDS = {
    word: week
    for week, words in [
        (1, ("first", "1st", "primo", "prima")),
        (2, ("second", "2nd", "secondo", "seconda")),
        (3, ("third", "3rd", "terzo", "terza")),
        (4, ("fourth", "4th", "quarto", "quarta")),
        (LAST, ("last", "ultimo", "ultima")),
    ]
    for word in words
}
# Not every month has a fifth Monday: these get a pointer to `last` instead.
FIFTH_WORDS = frozenset({"fifth", "5th", "quinto", "quinta"})

_OPEN_RE = re.compile(r"([0-9]{1,3})d?")
_CHANNEL_RE = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")


@dataclass(frozen=True, slots=True)
class Audience:
    """Everyone, or the members of some channels plus some people."""

    channels: tuple[str, ...] = ()
    users: tuple[str, ...] = ()

    @property
    def everyone(self) -> bool:
        return not (self.channels or self.users)

    def to_json(self) -> str:
        if self.everyone:
            return json.dumps({"everyone": True})
        return json.dumps({"channels": list(self.channels), "users": list(self.users)})

    @classmethod
    def from_json(cls, text: str) -> Audience:
        data = json.loads(text)
        return cls(tuple(data.get("channels") or ()), tuple(data.get("users") or ()))


@dataclass(frozen=True, slots=True)
class Schedule:
    cadence: Cadence
    on_weekday: int | None = None  # weekly / biweekly, or with on_week: 0 = Monday
    on_day: int | None = None  # monthly / quarterly: day of the month, 1–31 (clamped)
    on_week: int | None = None  # monthly / quarterly: the 1st–4th or LAST on_weekday instead
    cron: str | None = None  # cadence "cron": five fields, minute and hour single numbers
    at_time: str = DEFAULT_TIME
    zone: str | None = None  # IANA; None: the workspace's (PULSEBOT_TIMEZONE)
    audience: Audience = field(default_factory=Audience)
    open_days: int = DEFAULT_OPEN_DAYS


def _time_of(text: str) -> str:
    at_time = parse_clock_time(text)
    if at_time is None:
        raise SurveyError("pulse.errors.bad_time", value=text)
    return at_time


def parse_audience(tokens: list[str]) -> Audience:
    channels: list[str] = []
    users: list[str] = []
    for token in tokens:
        if token.casefold() in {"everyone", "tutti"}:
            continue
        user = parse_user_mention(token)
        channel = _CHANNEL_RE.fullmatch(token)
        if user:
            users.append(user)
        elif channel:
            channels.append(channel[1])
        else:
            raise SurveyError("pulse.errors.bad_audience", value=token)
    return Audience(tuple(dict.fromkeys(channels)), tuple(dict.fromkeys(users)))


def parse_zone(text: str) -> str:
    """An IANA time zone by name, in any letter case (`europe/rome` → `Europe/Rome`)."""
    name = _zone_names().get(text.casefold())
    if name is None:
        raise SurveyError("pulse.errors.bad_zone", value=text)
    return name


@cache
def _zone_names() -> dict[str, str]:
    # The server's own zone and the placeholder ones are files in the database, not places.
    skip = {"localtime", "posixrules", "factory"}
    return {name.casefold(): name for name in available_timezones() if name.casefold() not in skip}


def parse_run_options(tokens: list[str]) -> tuple[Audience, int | None]:
    """`[to …] [open Nd]` of `/pulse start`."""
    options = _parse_options(tokens, cadence=None)
    return options.audience, options.open_days


def parse_schedule(tokens: list[str]) -> Schedule:
    """`<cadence> [on …] [at HH:MM] [in <zone>] [to …] [open Nd]`, or `cron "<expression>"
    [in <zone>] [to …] [open Nd]` (the survey name already removed)."""
    if not tokens or tokens[0].casefold() not in CADENCES:
        raise SurveyError("pulse.errors.bad_cadence", value=tokens[0] if tokens else "")
    cadence = cast(Cadence, tokens[0].casefold())
    cron: str | None = None
    rest = tokens[1:]
    if cadence == "cron":
        cron = parse_cron(rest[0] if rest else "")
        rest = rest[1:]
    options = _parse_options(rest, cadence=cadence)
    schedule = Schedule(
        cadence=cadence,
        on_weekday=options.weekday,
        on_day=options.day,
        on_week=options.week,
        cron=cron,
        at_time=cron_time(cron) if cron else options.at_time or DEFAULT_TIME,
        zone=options.zone,
        audience=options.audience,
    )
    # A run stays open at most until the next one opens: two open runs of one survey would
    # send two DMs, and their results would hide each other (see differencing_risks).
    gap = days_between_runs(schedule)
    if options.open_days is None:
        return replace(schedule, open_days=min(DEFAULT_OPEN_DAYS, gap))
    if options.open_days > gap:
        raise SurveyError("pulse.errors.open_too_long", days=options.open_days, gap=gap)
    return replace(schedule, open_days=options.open_days)


_CRON_CLOCK_RE = re.compile(r"[0-9]{1,2}")


def parse_cron(text: str) -> str:
    """A five-field cron expression, checked (by APScheduler) and with single spaces.

    Minute and hour must each be one number: a run is one DM to each person at one time of
    day in their own zone, so `*/5` or `9-17` cannot be honoured.
    """
    fields = text.split()
    if len(fields) != 5 or len(text) > MAX_CRON:
        raise SurveyError("pulse.errors.bad_cron", value=text)
    minute, hour, day, _, weekday = fields
    if not (
        _CRON_CLOCK_RE.fullmatch(minute)
        and _CRON_CLOCK_RE.fullmatch(hour)
        and int(minute) < 60
        and int(hour) < 24
    ):
        raise SurveyError("pulse.errors.cron_time", value=text)
    if day != "*" and weekday != "*":
        # Classic cron fires on either, APScheduler only on both: refuse rather than guess.
        raise SurveyError("pulse.errors.cron_day_and_weekday", value=text)
    expression = " ".join(fields)
    try:
        _cron_days(expression)
    except ValueError as exc:
        raise SurveyError("pulse.errors.bad_cron", value=text) from exc
    return expression


def cron_time(expression: str) -> str:
    """The HH:MM of a checked cron expression (its minute and hour fields)."""
    minute, hour = expression.split()[:2]
    return f"{int(hour):02d}:{int(minute):02d}"


AudienceKind = Literal["everyone", "channels", "people"]


def audience_from_form(kind: str, channels: list[str], users: list[str]) -> Audience:
    """The schedule modal's audience: everyone, the chosen channels or the chosen people."""
    if kind == "channels":
        if not channels:
            raise SurveyError("pulse.errors.no_channels")
        return Audience(channels=tuple(dict.fromkeys(channels)))
    if kind == "people":
        if not users:
            raise SurveyError("pulse.errors.no_people")
        return Audience(users=tuple(dict.fromkeys(users)))
    return Audience()


# The modal's "which day of the month" choice: a day number, or the nth weekday.
FORM_DAY_OF_MONTH = "day"


def schedule_from_form(
    cadence: str,
    *,
    weekday: str | None,
    week: str | None,
    day: str | None,
    at_time: str | None,
    zone: str | None,
    audience: Audience,
    open_days: str | None,
) -> Schedule:
    """The schedule modal's fields, checked by the same rules as the typed command's words."""
    words = [cadence]
    if cadence in ("weekly", "biweekly") and weekday:
        words += ["on", weekday]
    elif cadence in ("monthly", "quarterly") and week and week != FORM_DAY_OF_MONTH:
        words += ["on", week, weekday or "monday"]
    elif cadence in ("monthly", "quarterly") and day:
        words += ["on", "day", day]
    if at_time:
        words += ["at", at_time]
    if zone and zone.strip():
        words += ["in", zone.strip()]
    if open_days and open_days.strip():
        words += ["open", open_days.strip()]
    return replace(parse_schedule(words), audience=audience)


@dataclass(slots=True)
class _Options:
    weekday: int | None = None
    day: int | None = None
    week: int | None = None
    at_time: str | None = None
    zone: str | None = None
    audience: Audience = field(default_factory=Audience)
    open_days: int | None = None


def _parse_options(tokens: list[str], *, cadence: Cadence | None) -> _Options:
    """The options after the cadence; `cadence` None: `/pulse start`'s (`to`, `open`)."""
    found = _Options()
    i = 0
    while i < len(tokens):
        word = tokens[i].casefold()
        rest = tokens[i + 1 :]
        if word in ("on", "at") and cadence == "cron":
            raise SurveyError("pulse.errors.cron_on_at")
        if word == "on" and cadence is not None and rest:
            found.weekday, found.day, found.week, used = _parse_on(cadence, rest)
            i += 1 + used
        elif word == "at" and cadence is not None and rest:
            taken = take_clock_time(rest)  # "10 am" is two words
            found.at_time, width = taken if taken is not None else (_time_of(rest[0]), 1)
            i += 1 + width
        elif word == "in" and cadence is not None and rest:
            found.zone = parse_zone(rest[0])
            i += 2
        elif word == "open" and rest:
            match = _OPEN_RE.fullmatch(rest[0].casefold())
            if not match or not 1 <= int(match[1]) <= MAX_OPEN_DAYS:
                raise SurveyError("pulse.errors.bad_open", value=rest[0], limit=MAX_OPEN_DAYS)
            found.open_days = int(match[1])
            i += 2
        elif word == "to" and rest:
            stop = next(
                (j for j, t in enumerate(rest) if t.casefold() in {"on", "at", "in", "open"}),
                len(rest),
            )
            found.audience = parse_audience(rest[:stop])
            i += 1 + stop
        else:
            raise SurveyError("pulse.errors.unexpected_word", value=tokens[i])
    return found


def _parse_on(cadence: Cadence, rest: list[str]) -> tuple[int | None, int | None, int | None, int]:
    """`on <weekday>`, `on day N`, `on N` or `on <first…last> <weekday>`:
    (weekday, day, week, words used)."""
    first = rest[0].casefold()
    if cadence in ("weekly", "biweekly"):
        weekday = parse_weekday(first)
        if weekday is None:
            raise SurveyError("pulse.errors.bad_weekday", value=rest[0])
        return weekday, None, None, 1
    if first in NTH_WORDS:
        weekday = parse_weekday(rest[1]) if len(rest) > 1 else None
        if weekday is None:
            raise SurveyError("pulse.errors.bad_nth", value=" ".join(rest[:2]))
        return weekday, None, NTH_WORDS[first], 2
    if first in FIFTH_WORDS:
        raise SurveyError("pulse.errors.no_fifth", value=" ".join(rest[:2]))
    if first in {"day", "giorno"} and len(rest) > 1 and is_plain_number(rest[1]):
        number, used = int(rest[1]), 2
    elif is_plain_number(first):
        number, used = int(first), 1
    else:
        raise SurveyError("pulse.errors.bad_day", value=rest[0])
    if not 1 <= number <= 31:
        raise SurveyError("pulse.errors.bad_day", value=rest[0])
    return None, number, None, used


def split_command(text: str) -> list[str]:
    try:
        return split_args(text)
    except ParseError as exc:
        raise SurveyError("pulse.errors.unterminated_quote") from exc


# ---- occurrences ---------------------------------------------------------------------------


def _month_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def nth_weekday(year: int, month: int, weekday: int, week: int) -> date:
    """The `week`-th (1–4) `weekday` (0 = Monday) of a month, or its last one (LAST)."""
    if week == LAST:
        last = date(year, month, calendar.monthrange(year, month)[1])
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (week - 1))


def first_occurrence_on_or_after(schedule: Schedule, start: date) -> date:
    """The first date on or after `start` that the cadence allows."""
    if schedule.cadence == "cron":
        return _cron_day_on_or_after(schedule.cron or "", start)
    if schedule.cadence in ("weekly", "biweekly"):
        weekday = 0 if schedule.on_weekday is None else schedule.on_weekday
        return start + timedelta(days=(weekday - start.weekday()) % 7)
    day = schedule.on_day or 1
    months = range(1, 13) if schedule.cadence == "monthly" else (1, 4, 7, 10)
    year = start.year
    while True:
        for month in months:
            if schedule.on_week is not None:
                candidate = nth_weekday(year, month, schedule.on_weekday or 0, schedule.on_week)
            else:
                candidate = _month_day(year, month, day)
            if candidate >= start:
                return candidate
        year += 1


# APScheduler 3 numbers weekdays from Monday = 0; crontab from Sunday = 0 (7 too), so
# `from_crontab("0 10 * * 1-5")` would mean Tuesday to Saturday (its documented mistake,
# agronholm/apscheduler#286, fixed in 4.x). The weekday field is handed over by name instead.
_CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _cron_weekday(token: str, *, end: bool) -> int:
    """A crontab weekday, Sunday = 0; 7 (and `sun` closing a range, as in `fri-sun`) is the
    Sunday after Saturday."""
    if is_plain_number(token) and int(token) <= 7:
        return int(token)
    if token.casefold() in _CRON_WEEKDAYS:
        number = _CRON_WEEKDAYS.index(token.casefold())
        return 7 if end and number == 0 else number
    raise ValueError(f"not a weekday: {token}")


def _weekday_names(field: str) -> str:
    """A crontab weekday field (`1-5`, `0,6`, `mon-fri`, `*/2`) as APScheduler weekday names."""
    if field == "*":
        return field
    days: set[int] = set()
    for item in field.split(","):
        span, _, step = item.partition("/")
        if step and not (is_plain_number(step) and int(step) > 0):
            raise ValueError(f"not a step: {step}")
        if span == "*":
            first, last = 0, 6
        else:
            low, _, high = span.partition("-")
            first = _cron_weekday(low, end=False)
            last = _cron_weekday(high, end=True) if high else (6 if step else first)
        if first > last:
            raise ValueError(f"backwards range: {span}")
        days.update(number % 7 for number in range(first, last + 1, int(step or 1)))
    return ",".join(_CRON_WEEKDAYS[number] for number in sorted(days))


@lru_cache(maxsize=256)
def _cron_days(expression: str) -> Any:
    """A trigger firing at midnight UTC on each day `expression` fires: its days only.

    The moment on that day comes from local_moment, as for every cadence, so a cron
    schedule meets daylight saving the same way (a skipped time moves forward an hour).
    """
    _, _, day, month, weekday = expression.split()
    return CronTrigger.from_crontab(f"0 0 {day} {month} {_weekday_names(weekday)}", timezone=UTC)


def _cron_day_on_or_after(expression: str, start: date) -> date:
    fire: datetime | None = _cron_days(expression).get_next_fire_time(
        None, datetime.combine(start, time(), UTC)
    )
    if fire is None:
        raise SurveyError("pulse.errors.cron_never", value=expression)
    return fire.date()


# Four years hold every calendar pattern a schedule can follow (leap days included).
_GAP_HORIZON = timedelta(days=4 * 366)
_GAP_FROM = date(2024, 1, 1)


def days_between_runs(schedule: Schedule) -> int:
    """The fewest days between two consecutive occurrences of `schedule` (whole dates)."""
    if schedule.cadence in ("weekly", "biweekly"):
        return 7 if schedule.cadence == "weekly" else 14
    day = first_occurrence_on_or_after(schedule, _GAP_FROM)
    end = _GAP_FROM + _GAP_HORIZON
    shortest = _GAP_HORIZON.days
    while shortest > 1:
        following = first_occurrence_on_or_after(schedule, day + timedelta(days=1))
        if following > end:
            break
        shortest = min(shortest, (following - day).days)
        day = following
    return shortest


def close_moment(day: date, at_time: str, open_days: int, zone: tzinfo) -> datetime:
    """The close of a scheduled run on `day`: `open_days` later at the same wall-clock time,
    so `open 7d` on a weekly schedule closes exactly when the next run opens, DST or not."""
    return local_moment(day + timedelta(days=open_days), at_time, zone)


def local_moment(day: date, at_time: str, zone: tzinfo) -> datetime:
    """`day` at `at_time` in `zone`, as UTC. A time skipped by DST moves forward an hour."""
    hour, minute = (int(part) for part in at_time.split(":"))
    local = datetime.combine(day, time(hour, minute), tzinfo=zone)
    # Round-tripping through UTC normalises a non-existent (spring-forward) wall time.
    return local.astimezone(UTC).astimezone(zone).astimezone(UTC)


# Civil time runs from UTC+14 (Kiribati) to UTC−12: a given day's HH:MM comes first at +14 and
# last at −12, 26 hours apart, and at most 26 hours before it comes in the schedule's own zone.
FIRST_ZONE = timezone(timedelta(hours=14))
LAST_ZONE = timezone(timedelta(hours=-12))
MAX_LEAD = timedelta(hours=26)


def first_delivery(day: date, at_time: str) -> datetime:
    """The first moment anyone, anywhere, is due the DM of an occurrence on `day` at `at_time`."""
    return local_moment(day, at_time, FIRST_ZONE)


def last_delivery(day: date, at_time: str) -> datetime:
    """The last moment anyone, anywhere, is due it: its day's `at_time` at UTC−12."""
    return local_moment(day, at_time, LAST_ZONE)


def next_occurrence(schedule: Schedule, after: datetime, zone: ZoneInfo) -> datetime:
    """The first scheduled moment strictly after `after`, in UTC."""
    day = after.astimezone(zone).date()
    while True:
        candidate_day = first_occurrence_on_or_after(schedule, day)
        moment = local_moment(candidate_day, schedule.at_time, zone)
        if moment > after:
            return moment
        day = candidate_day + timedelta(days=1)


def following_occurrence(schedule: Schedule, previous: datetime, zone: ZoneInfo) -> datetime:
    """The occurrence after `previous`; biweekly skips a week."""
    if schedule.cadence == "biweekly":
        day = previous.astimezone(zone).date() + timedelta(days=14)
        return local_moment(day, schedule.at_time, zone)
    return next_occurrence(schedule, previous, zone)
