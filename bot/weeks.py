"""Weeks as the weekly summary counts them: ISO weeks in the workspace's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEK_LABEL = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True, slots=True)
class SummaryWeek:
    """One ISO week in the workspace time zone: Monday 00:00 to the next Monday 00:00."""

    year: int
    week: int
    start: datetime  # UTC
    end: datetime  # UTC, exclusive

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def first_day(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=6)


def iso_week(year: int, week: int, zone: ZoneInfo) -> SummaryWeek:
    """Bounds from local midnights, so a week with a DST change is 167 or 169 hours long."""
    monday = date.fromisocalendar(year, week, 1)
    start = datetime.combine(monday, time(0), tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone)
    return SummaryWeek(year, week, start.astimezone(UTC), end.astimezone(UTC))


def week_containing(moment: datetime, zone: ZoneInfo) -> SummaryWeek:
    year, week, _ = moment.astimezone(zone).isocalendar()
    return iso_week(year, week, zone)


def parse_week(text: str, zone: ZoneInfo) -> SummaryWeek:
    """`2026-W48`; ValueError naming the right form otherwise."""
    match = WEEK_LABEL.fullmatch(text.strip().upper())
    if not match:
        raise ValueError(f"{text!r} is not an ISO week like 2026-W48")
    try:
        return iso_week(int(match[1]), int(match[2]), zone)
    except ValueError:
        raise ValueError(f"{text!r} is not a week of that year") from None


def reported_week(now: datetime, zone: ZoneInfo) -> SummaryWeek:
    """The week a summary made at `now` reports: the week of the day before.

    On the default Monday 09:00 that is the week just finished; later in the week (a
    Friday summary, a manager's preview on Thursday) it is the current week so far.
    """
    return week_containing(now - timedelta(days=1), zone)
