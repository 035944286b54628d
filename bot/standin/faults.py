"""Fault injection: rate limits, scripted failures, outages and delays, answered as Slack would."""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field

from bot.standin.server import Reply

ANY_METHOD = "*"


@dataclass
class _RateLimit:
    """At most `per_minute` calls per method in any sliding `window` seconds."""

    per_minute: int
    window: float
    hits: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, method: str, now: float) -> int | None:
        hits = self.hits.setdefault(method, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.per_minute:
            return None
        return max(1, math.ceil(hits[0] + self.window - now))

    def hit(self, method: str, now: float) -> None:
        self.hits.setdefault(method, deque()).append(now)


@dataclass
class _Failure:
    remaining: int
    status: int
    error: str


@dataclass(frozen=True)
class Fault:
    """One scripted bad answer: an HTTP `status` (429 with `retry_after`), or, with
    `timeout`, no answer for that many seconds (the request is not processed)."""

    status: int = 500
    retry_after: int = 1
    timeout: float = 0.0


class Faults:
    """The faults scripted per method ("*": every Web API method), and the answers they give."""

    def __init__(self, lock: threading.RLock, stopping: threading.Event) -> None:
        self._lock = lock  # the stand-in's one lock
        self._stopping = stopping  # set when the stand-in stops: sleepers wake up
        self._rate_limits: dict[str, _RateLimit] = {}
        self._failures: dict[str, _Failure] = {}
        self._delays: dict[str, float] = {}
        self._outages: dict[str, tuple[Fault, ...]] = {}
        self._outage_left: dict[str, deque[Fault]] = {}

    def rate_limit(self, method: str, per_minute: int, *, window: float = 60.0) -> None:
        if per_minute < 1 or window <= 0:
            raise ValueError("per_minute must be >= 1 and window > 0")
        with self._lock:
            self._rate_limits[method] = _RateLimit(per_minute, window)

    def fail_next(
        self, method: str, count: int = 1, status: int = 500, *, error: str = "internal_error"
    ) -> None:
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._failures[method] = _Failure(count, status, error)

    def delay(self, method: str, seconds: float) -> None:
        with self._lock:
            if seconds > 0:
                self._delays[method] = seconds
            else:
                self._delays.pop(method, None)

    def outage(self, method: str, faults: list[Fault]) -> None:
        with self._lock:
            self._outages[method] = tuple(faults)
            self._outage_left = {
                key: left for key, left in self._outage_left.items() if key != method
            }

    def clear(self) -> None:
        with self._lock:
            self._outages.clear()
            self._outage_left.clear()
            self._rate_limits.clear()
            self._failures.clear()
            self._delays.clear()

    def sleep_for(self, method: str, *, wildcard: bool) -> None:
        """Wait out the delay set for `method`, if any."""
        with self._lock:
            seconds = self._delays.get(method)
            if seconds is None and wildcard:
                seconds = self._delays.get(ANY_METHOD)
        if seconds:
            self._stopping.wait(seconds)  # returns early when the stand-in stops

    def reply(self, method: str, now: float, *, wildcard: bool, as_json: bool) -> Reply | None:
        """The bad answer due for this call to `method`, or None to answer it normally."""
        keys = [method, ANY_METHOD] if wildcard else [method]
        scripted = self._next_scripted_fault(method, wildcard=wildcard)
        if scripted is not None:
            if scripted.timeout:
                self._stopping.wait(scripted.timeout)  # the client gives up before this
                return self._error_reply("timeout", 504, as_json=as_json)
            if scripted.status == 429:
                headers = (("Retry-After", str(scripted.retry_after)),)
                if as_json:
                    return Reply.json({"ok": False, "error": "ratelimited"}, 429, headers)
                return Reply(429, b"rate_limited", "text/plain; charset=utf-8", headers)
            return self._error_reply("internal_error", scripted.status, as_json=as_json)
        with self._lock:
            for key in keys:
                failure = self._failures.get(key)
                if failure is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        del self._failures[key]
                    return self._error_reply(failure.error, failure.status, as_json=as_json)
            limits = [limit for key in keys if (limit := self._rate_limits.get(key)) is not None]
            waits = [wait for limit in limits if (wait := limit.retry_after(method, now))]
            if waits:
                headers = (("Retry-After", str(max(waits))),)
                if as_json:
                    return Reply.json({"ok": False, "error": "ratelimited"}, 429, headers)
                return Reply(429, b"rate_limited", "text/plain; charset=utf-8", headers)
            for limit in limits:
                limit.hit(method, now)
        return None

    def _next_scripted_fault(self, method: str, *, wildcard: bool) -> Fault | None:
        with self._lock:
            left = self._outage_left.get(method)
            if left is None:
                script = self._outages.get(method)
                if script is None and wildcard:
                    script = self._outages.get(ANY_METHOD)
                if script is None:
                    return None
                left = self._outage_left[method] = deque(script)
            return left.popleft() if left else None

    @staticmethod
    def _error_reply(error: str, status: int, *, as_json: bool) -> Reply:
        if as_json:
            return Reply.json({"ok": False, "error": error}, status)
        return Reply.text(error, status)
