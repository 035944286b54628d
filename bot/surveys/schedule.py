"""Cadences, the `/pulse schedule` grammar and the next occurrence of a schedule (zoneinfo)."""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Literal, cast, get_args
from zoneinfo import ZoneInfo

from bot.parsing import ParseError, parse_user_mention, parse_weekday, split_args
from bot.surveys.model import SurveyError

Cadence = Literal["weekly", "biweekly", "monthly", "quarterly"]
CADENCES: tuple[Cadence, ...] = get_args(Cadence)
DEFAULT_TIME = "10:00"
DEFAULT_OPEN_DAYS = 3
MAX_OPEN_DAYS = 30

_TIME_RE = re.compile(r"([01]?[0-9]|2[0-3])[:.]([0-5][0-9])")
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
    on_weekday: int | None = None  # weekly / biweekly: 0 = Monday
    on_day: int | None = None  # monthly / quarterly: day of the month, 1–31 (clamped)
    at_time: str = DEFAULT_TIME
    audience: Audience = field(default_factory=Audience)
    open_days: int = DEFAULT_OPEN_DAYS


def _time_of(text: str) -> str:
    match = _TIME_RE.fullmatch(text)
    if not match:
        raise SurveyError("pulse.errors.bad_time", value=text)
    return f"{int(match[1]):02d}:{match[2]}"


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


def parse_run_options(tokens: list[str]) -> tuple[Audience, int | None]:
    """`[to …] [open Nd]` of `/pulse start`."""
    schedule = _parse_options(tokens, cadence=None)
    return schedule[3], schedule[4]


def parse_schedule(tokens: list[str]) -> Schedule:
    """`<cadence> [on …] [at HH:MM] [to …] [open Nd]` (the survey name already removed)."""
    if not tokens or tokens[0].casefold() not in CADENCES:
        raise SurveyError("pulse.errors.bad_cadence", value=tokens[0] if tokens else "")
    cadence = cast(Cadence, tokens[0].casefold())
    weekday, day, at_time, audience, open_days = _parse_options(tokens[1:], cadence=cadence)
    return Schedule(
        cadence=cadence,
        on_weekday=weekday,
        on_day=day,
        at_time=at_time or DEFAULT_TIME,
        audience=audience,
        open_days=open_days or DEFAULT_OPEN_DAYS,
    )


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


def schedule_from_form(
    cadence: str,
    *,
    weekday: str | None,
    day: str | None,
    at_time: str | None,
    audience: Audience,
    open_days: str | None,
) -> Schedule:
    """The schedule modal's fields, checked by the same rules as the typed command's words."""
    words = [cadence]
    if cadence in ("weekly", "biweekly") and weekday:
        words += ["on", weekday]
    elif cadence in ("monthly", "quarterly") and day:
        words += ["on", "day", day]
    if at_time:
        words += ["at", at_time]
    if open_days and open_days.strip():
        words += ["open", open_days.strip()]
    schedule = parse_schedule(words)
    return Schedule(
        cadence=schedule.cadence,
        on_weekday=schedule.on_weekday,
        on_day=schedule.on_day,
        at_time=schedule.at_time,
        audience=audience,
        open_days=schedule.open_days,
    )


def _parse_options(
    tokens: list[str], *, cadence: Cadence | None
) -> tuple[int | None, int | None, str | None, Audience, int | None]:
    weekday: int | None = None
    day: int | None = None
    at_time: str | None = None
    audience = Audience()
    open_days: int | None = None
    i = 0
    while i < len(tokens):
        word = tokens[i].casefold()
        rest = tokens[i + 1 :]
        if word == "on" and cadence is not None and rest:
            weekday, day, used = _parse_on(cadence, rest)
            i += 1 + used
        elif word == "at" and cadence is not None and rest:
            at_time = _time_of(rest[0])
            i += 2
        elif word == "open" and rest:
            match = _OPEN_RE.fullmatch(rest[0].casefold())
            if not match or not 1 <= int(match[1]) <= MAX_OPEN_DAYS:
                raise SurveyError("pulse.errors.bad_open", value=rest[0], limit=MAX_OPEN_DAYS)
            open_days = int(match[1])
            i += 2
        elif word == "to" and rest:
            stop = next(
                (j for j, t in enumerate(rest) if t.casefold() in {"on", "at", "open"}), len(rest)
            )
            audience = parse_audience(rest[:stop])
            i += 1 + stop
        else:
            raise SurveyError("pulse.errors.unexpected_word", value=tokens[i])
    return weekday, day, at_time, audience, open_days


def _parse_on(cadence: Cadence, rest: list[str]) -> tuple[int | None, int | None, int]:
    first = rest[0].casefold()
    if cadence in ("weekly", "biweekly"):
        weekday = parse_weekday(first)
        if weekday is None:
            raise SurveyError("pulse.errors.bad_weekday", value=rest[0])
        return weekday, None, 1
    if first in {"day", "giorno"} and len(rest) > 1 and _is_number(rest[1]):
        number, used = int(rest[1]), 2
    elif _is_number(first):
        number, used = int(first), 1
    else:
        raise SurveyError("pulse.errors.bad_day", value=rest[0])
    if not 1 <= number <= 31:
        raise SurveyError("pulse.errors.bad_day", value=rest[0])
    return None, number, used


def _is_number(word: str) -> bool:
    return word.isascii() and word.isdigit()  # "²".isdigit() too, and int() refuses it


def split_command(text: str) -> list[str]:
    try:
        return split_args(text)
    except ParseError as exc:
        raise SurveyError("pulse.errors.unterminated_quote") from exc


# ---- occurrences ---------------------------------------------------------------------------


def _month_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def first_occurrence_on_or_after(schedule: Schedule, start: date) -> date:
    """The first date on or after `start` that the cadence allows."""
    if schedule.cadence in ("weekly", "biweekly"):
        weekday = 0 if schedule.on_weekday is None else schedule.on_weekday
        return start + timedelta(days=(weekday - start.weekday()) % 7)
    day = schedule.on_day or 1
    months = range(1, 13) if schedule.cadence == "monthly" else (1, 4, 7, 10)
    year = start.year
    while True:
        for month in months:
            candidate = _month_day(year, month, day)
            if candidate >= start:
                return candidate
        year += 1


def local_moment(day: date, at_time: str, zone: tzinfo) -> datetime:
    """`day` at `at_time` in `zone`, as UTC. A time skipped by DST moves forward an hour."""
    hour, minute = (int(part) for part in at_time.split(":"))
    local = datetime.combine(day, time(hour, minute), tzinfo=zone)
    # Round-tripping through UTC normalises a non-existent (spring-forward) wall time.
    return local.astimezone(UTC).astimezone(zone).astimezone(UTC)


# Civil time runs from UTC+14 (Kiribati) to UTC−12: a given day's HH:MM comes first at +14 and
# last at −12, 26 hours apart, and at most 26 hours before it comes in the workspace's own zone.
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
