"""The one place pulsebot reads the time of day: every "now" comes from a Clock.

Production uses `system_clock`; tests and the demo hand `Services` a `FrozenClock` and move it
themselves, so nothing they check depends on the day they happen to run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, in UTC: the only wall-clock read in pulsebot's own code."""
    return datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until it is set or moved on."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    @property
    def now(self) -> datetime:
        return self._now

    @now.setter
    def now(self, value: datetime) -> None:
        if value.tzinfo is None:
            raise ValueError("a clock keeps aware datetimes only")
        self._now = value.astimezone(UTC)

    def __call__(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def __repr__(self) -> str:
        return f"FrozenClock({self._now.isoformat()})"
