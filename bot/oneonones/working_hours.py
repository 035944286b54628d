"""Whether a 1:1 falls inside both people's working day, and the nearest time that does.

A manager in Rome who types `at 10:00` gives a report in New York a 04:00 meeting; the bot
says so and suggests the nearest start, on the same day in the manager's zone, inside the
working day (WORKDAY_START–WORKDAY_END, Monday to Friday) of each person in their own zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

WORKDAY_START: Final = time(9, 0)
WORKDAY_END: Final = time(18, 0)
STEP: Final = timedelta(minutes=30)  # suggestions on the half hour


@dataclass(frozen=True, slots=True)
class OutsideWorkingDay:
    """The meeting as the other person lives it, and the nearest start inside both working
    days (manager's wall clock and theirs), None when the two days never overlap."""

    their_start: datetime  # in their zone
    their_zone: str
    suggested: datetime | None  # in the manager's zone
    suggested_theirs: datetime | None  # the same instant in their zone


def _inside(start: datetime, minutes: int, zone: ZoneInfo) -> bool:
    local_start = start.astimezone(zone)
    local_end = (start + timedelta(minutes=minutes)).astimezone(zone)
    return (
        local_start.weekday() < 5
        and local_start.date() == local_end.date()
        and local_start.time() >= WORKDAY_START
        and local_end.time() <= WORKDAY_END
    )


def check_working_day(
    day: date,
    at_time: time,
    minutes: int,
    manager_zone: ZoneInfo,
    person_zone: ZoneInfo,
) -> OutsideWorkingDay | None:
    """None when the meeting on `day` at `at_time` (manager's zone) sits inside both working
    days; otherwise what it is for the other person and the nearest time that fits both."""
    start = datetime.combine(day, at_time, manager_zone)
    if _inside(start, minutes, manager_zone) and _inside(start, minutes, person_zone):
        return None
    midnight = datetime.combine(day, time(0, 0), manager_zone)
    candidates = [midnight + STEP * n for n in range(int(timedelta(days=1) / STEP))]
    fitting = [
        c
        for c in candidates
        if c.date() == day  # a DST day has 23 or 25 hours
        and _inside(c, minutes, manager_zone)
        and _inside(c, minutes, person_zone)
    ]
    # Nearest to what was asked; of two as near, the earlier.
    best = min(fitting, key=lambda c: (abs(c - start), c), default=None)
    return OutsideWorkingDay(
        their_start=start.astimezone(person_zone),
        their_zone=person_zone.key,
        suggested=best,
        suggested_theirs=None if best is None else best.astimezone(person_zone),
    )
