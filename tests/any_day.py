"""`make test-any-day`: the suite (SQLite) at moments that break date arithmetic.

Each moment moves both clocks a test can meet: the machine's, with Debian's `faketime` (for the
bots a test starts as real processes, APScheduler, SQLite), and the pinned clock every other
test takes "now" from (PULSEBOT_TEST_NOW). A test that passes today only because of the day it
is fails here, and says at which moment.

    python -m tests.any_day                      # every moment below
    python -m tests.any_day --at 2027-06-15T12:00Z --zone Asia/Tokyo -- -k oneonone
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.faketime_compat import faketime_environment

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Moment:
    name: str
    at: datetime  # in UTC
    zone: str = "UTC"  # the machine's own time zone (TZ) during the run


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


MOMENTS = [
    Moment("today-the-day-main-broke", utc("2026-12-04 17:00")),
    Moment("eu-spring-forward-eve", utc("2027-03-27 22:30")),  # Sat 23:30 in Rome
    Moment("eu-spring-forward-night", utc("2027-03-28 00:45")),  # 01:45 CET, 15 min before
    Moment("eu-fall-back-night", utc("2027-10-31 00:30"), "Europe/Rome"),  # 02:30, the 1st time
    Moment("us-spring-forward-eve", utc("2027-03-14 03:30")),  # Sat 22:30 in New York
    Moment("us-spring-forward-night", utc("2027-03-14 06:45"), "America/New_York"),  # 01:45 EST
    Moment("us-fall-back-night", utc("2027-11-07 05:30")),  # 01:30 EDT, the 1st time
    Moment("leap-day", utc("2028-02-29 12:00")),
    Moment("new-years-eve-late", utc("2026-12-31 22:45"), "Europe/Rome"),  # 23:45 in Rome
    Moment("sunday-night", utc("2026-12-06 23:30")),
    Moment("monday-morning-utc+14", utc("2026-12-06 17:30"), "Pacific/Kiritimati"),
    Moment("last-day-of-a-long-month", utc("2027-01-31 10:00")),
]


def run_at(moment: Moment, pytest_args: list[str]) -> bool:
    # An offset from the real clock, not "@start": with "@" libfaketime starts the clock again
    # in each process, so a bot a test starts minutes into the run lived minutes in the past
    # and refused the test's signed requests as stale (measured: 3.0 s behind, 0.0 s now).
    offset = round((moment.at - datetime.now(UTC)).total_seconds())  # wall clock: the point
    env = faketime_environment(dict(os.environ))
    env.update(TZ=moment.zone, PULSEBOT_TEST_NOW=moment.at.isoformat())
    # SQLite only: PostgreSQL's own clock is not faked (and `make test` covers PostgreSQL).
    env.pop("PULSEBOT_TEST_DATABASE_URL", None)
    env["CI"] = ""
    command = [
        "faketime", "-f", f"{offset:+d}", sys.executable, "-m", "pytest",
        "-q", "-p", "no:cacheprovider", "-m", "not slow and not postgres", *pytest_args,
    ]  # fmt: skip
    print(f"\n=== {moment.name}: {moment.at:%a %Y-%m-%d %H:%M} UTC, machine in {moment.zone}")
    sys.stdout.flush()
    returncode = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    if returncode < 0:
        # Killed by a signal, not failed by a test: libfaketime has crashed processes (see
        # tests/faketime_compat.py). Said loudly, and that moment is run once more.
        print(f"\n!!! pytest died of signal {-returncode} under faketime; running again")
        sys.stdout.flush()
        returncode = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    return returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", help="one moment, ISO 8601 (UTC unless it has an offset)")
    parser.add_argument("--zone", default="UTC", help="the machine's time zone with --at")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = parser.parse_args(argv)
    if shutil.which("faketime") is None:
        print("faketime is not installed: apt-get install -y faketime", file=sys.stderr)
        return 2
    moments = MOMENTS
    if args.at:
        at = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        moments = [Moment("chosen", at.astimezone(UTC), args.zone)]
    results = []
    for moment in moments:
        started = time.monotonic()
        passed = run_at(moment, args.pytest_args)
        results.append((moment, passed, time.monotonic() - started))
    print("\nany-day summary:")
    for moment, passed, took in results:
        print(f"  {'pass' if passed else 'FAIL'}  {moment.at:%Y-%m-%d %H:%M} UTC  "
              f"{moment.zone:<18} {moment.name}  ({took:.0f} s)")  # fmt: skip
    return 0 if all(passed for _, passed, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
