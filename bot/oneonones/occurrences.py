"""When a series meets: wall-clock dates and times in the manager's zone, as UTC moments.

A wall time skipped by a DST change (02:30 on the spring-forward night in Rome) does not
exist: the first occurrence may not fall on one (the schedule is refused), and a later one is
moved forward by the gap (03:30). A repeated wall time (the autumn night) means its first
occurrence, zoneinfo's fold=0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Cadence:
    every_weeks: int
    weekday: int  # 0 = Monday
    at_time: str  # HH:MM
    minutes: int
    zone: ZoneInfo


@dataclass(frozen=True, slots=True)
class Slot:
    """One occurrence: its local date and its start and end in UTC."""

    local_date: date
    starts_at: datetime
    ends_at: datetime
    shifted: bool = False  # the wall time did not exist that day: moved forward by the gap


def wall_time(at_time: str) -> time:
    hour, minute = (int(part) for part in at_time.split(":"))
    return time(hour, minute)


def moment(day: date, at_time: str, zone: ZoneInfo) -> tuple[datetime, bool]:
    """`day` at `at_time` in `zone` as UTC, and whether that wall time exists that day."""
    local = datetime.combine(day, wall_time(at_time), tzinfo=zone)  # fold=0: the first one
    utc = local.astimezone(UTC)
    exists = utc.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None)
    return utc, exists


def slot(cadence: Cadence, day: date) -> Slot:
    starts_at, exists = moment(day, cadence.at_time, cadence.zone)
    return Slot(day, starts_at, starts_at + timedelta(minutes=cadence.minutes), not exists)


def first_slot(cadence: Cadence, now: datetime) -> Slot:
    """The first occurrence: the next `weekday` at `at_time` still to come."""
    today = now.astimezone(cadence.zone).date()
    day = today + timedelta(days=(cadence.weekday - today.weekday()) % 7)
    first = slot(cadence, day)
    if first.starts_at <= now:
        first = slot(cadence, day + timedelta(days=7))
    return first


def slot_after(cadence: Cadence, anchor: date, previous: date, now: datetime) -> Slot:
    """The first occurrence after the one on `previous` that is still to come.

    Dates step from `anchor` by the cadence; occurrences that passed while the bot was down
    are not made up for.
    """
    step = 7 * cadence.every_weeks
    cycles = max(0, (previous - anchor).days) // step + 1
    day = anchor + timedelta(days=cycles * step)
    while True:
        upcoming = slot(cadence, day)
        if upcoming.starts_at > now:
            return upcoming
        day += timedelta(days=step)
