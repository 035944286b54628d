""" "Now" comes from one place: bot.clock. Nothing else reads the time of day, and tests pin it.

A guard over the source: a wall-clock read (`datetime.now()`, `date.today()`, `time.time()`...)
or a sleep anywhere but the places listed here, each with its reason, fails the suite. A test
that read the wall clock passed on the day it was written and failed on another (main went
red on 4 December 2026 that way).
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FrozenClock, system_clock
from tests.conftest import DEFAULT_PINNED_NOW, FAKED_START, PINNED_NOW_ENV, pinned_now

ROOT = Path(__file__).resolve().parents[1]

# Calls (and references, as in `clock=time.time`) that read the time of day.
WALL_CLOCK = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("time", "ctime"),
}
SLEEP = {("time", "sleep")}

STANDIN_IS_SLACK = "the stand-in is Slack, whose clock is the real one"
# Where reading the real time is the point, and why.
WALL_CLOCK_ALLOWED = {
    "bot/clock.py": "the one place production reads the time",
    "bot/standin/workspace.py": f"{STANDIN_IS_SLACK} (tz offsets)",
    "bot/standin/state.py": f"{STANDIN_IS_SLACK} (message ts)",
    "bot/standin/api/files.py": f"{STANDIN_IS_SLACK} (a file's created time)",
    "bot/standin/api/users.py": f"{STANDIN_IS_SLACK} (users.list cache_ts)",
    "bot/standin/api/views.py": f"{STANDIN_IS_SLACK} (view hashes)",
    "bot/standin/requests.py": "request signatures carry the real time; Bolt checks it against its own",
    "tests/any_day.py": "moves the machine's clock by an offset from the real one",
    "tests/test_scheduler.py": "APScheduler reads the machine's clock (time-machine moves it)",
    "tests/scheduler_process.py": "a real scheduler process, fired at the real time",
    "tests/test_standin.py": "the stand-in's own clock (Slack's), tested as such",
    "tests/test_security.py": "a signature five minutes old by the real clock Bolt checks",
    "tests/reliability/test_signatures.py": "signatures old by the real clock Bolt checks",
    "tests/faketime_compat.py": "under faketime, the machine's clock is what the run moves",
}
# Sleeping in a test waits on the real world (a process, a socket, a file lock), never on the
# time of day: a test that wants time to pass moves its clock instead.
SLEEP_ALLOWED = {
    "tests/test_migrations.py": "waits for another process's SQLite checkpoint",
    "tests/test_retries.py": "waits for PostgreSQL's termination notice to reach a socket",
    "tests/reliability/test_crashes.py": "lets a real process get half-way before killing it",
    "tests/test_socket_mode.py": "gives a real `pulsebot run` time to do twice what it must not",
    "tests/reliability/test_socket_mode_reliability.py": "as tests/test_socket_mode.py",
    "tests/reliability/test_failover.py": "lets a real process get half-way, and a lease lapse",
    "tests/faketime_site/sitecustomize.py": "replaces time.sleep under faketime; sleeps on nothing",
}


def _sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _uses(path: Path, names: set[tuple[str, str]]) -> list[str]:
    """Each `module.attr` of `names` the file uses, as `line: text`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in names
        ):
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return [f"{line}: {name}" for line, name in sorted(found)]


@pytest.mark.parametrize("folders", [("bot", "handlers", "storage"), ("tests",)])
def test_nothing_but_the_clock_reads_the_time_of_day(folders: tuple[str, ...]) -> None:
    offenders = {
        str(path.relative_to(ROOT)): uses
        for path in _sources(*folders)
        if str(path.relative_to(ROOT)) not in WALL_CLOCK_ALLOWED
        and (uses := _uses(path, WALL_CLOCK))
    }
    assert offenders == {}, (
        "read the time from the Services' clock (bot.clock), and in tests from the pinned "
        "`clock` fixture (or bot.clock), not from the machine"
    )


def test_tests_sleep_only_on_the_real_world() -> None:
    offenders = {
        str(path.relative_to(ROOT)): uses
        for path in _sources("tests")
        if str(path.relative_to(ROOT)) not in SLEEP_ALLOWED and (uses := _uses(path, SLEEP))
    }
    assert offenders == {}, "to let time pass in a test, move the clock: clock.advance(...)"


def test_the_guard_sees_a_wall_clock_read(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import time\nfrom datetime import datetime\nx = datetime.now()\ny = time.time\n"
    )
    assert _uses(sample, WALL_CLOCK) == ["3: datetime.now", "4: time.time"]


def test_the_frozen_clock_stands_still_until_moved() -> None:
    clock = FrozenClock(datetime(2028, 2, 29, 23, 30, tzinfo=UTC))
    assert clock() == clock() == datetime(2028, 2, 29, 23, 30, tzinfo=UTC)
    assert clock.advance(timedelta(hours=1)) == datetime(2028, 3, 1, 0, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        clock.now = datetime(2028, 3, 1)
    assert system_clock().tzinfo is UTC


def test_the_pinned_instant_is_fixed_unless_the_any_day_run_moves_it(
    monkeypatch: pytest.MonkeyPatch, clock: FrozenClock
) -> None:
    monkeypatch.delenv(PINNED_NOW_ENV, raising=False)
    assert pinned_now() == (FAKED_START or DEFAULT_PINNED_NOW)
    monkeypatch.setenv(PINNED_NOW_ENV, "2027-03-28T00:30:00")
    assert pinned_now() == datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
    monkeypatch.setenv(PINNED_NOW_ENV, "2027-03-28T10:30:00+14:00")
    assert pinned_now() == datetime(2027, 3, 27, 20, 30, tzinfo=UTC)
    assert clock() == clock()  # the fixture's clock does not tick
