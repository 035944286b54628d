"""The one place pulsebot reads the time of day: every "now" comes from a Clock.

Production uses `system_clock`; tests and the demo hand `Services` a `FrozenClock` and move it
themselves, so nothing they check depends on the day they happen to run.
"""

from __future__ import annotations

import time
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


class SteadyClock:
    """A clock that ticks at the real pace from a chosen instant.

    `reference` is a reading of `time.monotonic()`, the machine's steady clock that every
    process on it shares: processes given the same instant and reference agree on "now" (a
    test's bots, started as real processes at a pinned date, renewing and judging leases).
    """

    def __init__(self, at: datetime, reference: float) -> None:
        if at.tzinfo is None:
            raise ValueError("a clock keeps aware datetimes only")
        self._at = at.astimezone(UTC)
        self._reference = reference

    def __call__(self) -> datetime:
        return self._at + timedelta(seconds=time.monotonic() - self._reference)

    def __repr__(self) -> str:
        return f"SteadyClock({self._at.isoformat()} at {self._reference:.3f})"
