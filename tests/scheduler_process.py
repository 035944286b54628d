"""A pulsebot instance for the leadership tests: stands by or leads, and says so on stdout.

Run as `python -u -m tests.scheduler_process DATABASE_URL LOCK_KEY RETRY_SECONDS`. When it leads,
it fires this week's summary at once, as an instance taking over after a missed Monday would.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from bot.app import build_services
from bot.config import load_settings
from bot.leader import LeadershipLock, PostgresAdvisoryLock, SchedulerLeader, leadership_lock_for
from bot.scheduler import start_scheduler
from bot.services import Services
from storage.migrate import upgrade

# The test suite's settings, without importing tests.conftest (and pytest) into every instance.
SETTINGS = {
    "SLACK_BOT_TOKEN": "xoxb-test-0000-pulsebot",
    "SLACK_SIGNING_SECRET": "test-signing-secret-0123456789",
    "PULSEBOT_SECRET": "b6358d5e9702139886aa9dbec1781fe197ee057c23e26cc4d8b68d025880a02d",
    "PULSEBOT_TIMEZONE": "Europe/Rome",
}


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def start_and_fire_summary(services: Services) -> Any:
    scheduler = start_scheduler(services)
    say("JOBS " + " ".join(sorted(job.id for job in scheduler.get_jobs())))
    scheduler.modify_job("weekly_summary", next_run_time=datetime.now(UTC))
    return scheduler


def main() -> None:
    url, key, retry_seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("bot").setLevel(logging.INFO)

    services = build_services(load_settings(_env_file=None, DATABASE_URL=url, **SETTINGS))
    upgrade(services.db.engine)  # both instances do, as `pulsebot serve` does; they take turns
    lock: LeadershipLock = (
        PostgresAdvisoryLock(services.db.engine, key)
        if services.db.dialect == "postgresql"
        else leadership_lock_for(services)
    )
    leader = SchedulerLeader(
        services, lock=lock, retry_seconds=retry_seconds, start=start_and_fire_summary
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stopping.set())
    leader.start()
    say("STARTED")
    while not stopping.wait(0.1):
        pass
    leader.stop()
    services.db.dispose()
    say("STOPPED")


if __name__ == "__main__":
    main()
