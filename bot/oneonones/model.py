"""What a one-to-one request is made of, and how one is refused: shared by the `/oneonone`
grammar, its forms and the service."""

from __future__ import annotations

from dataclasses import dataclass

MAX_TOPIC = 500


class OneOnOneError(Exception):
    """A refusal the person can act on, rendered from the catalog as `oneonone.errors.<key>`."""

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    person_id: str
    every_weeks: int
    weekday: int  # 0 = Monday
    at_time: str  # HH:MM
    minutes: int
