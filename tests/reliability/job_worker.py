"""A separate bot process for the crash tests: runs one scheduled job body until killed.

`python -m tests.reliability.job_worker JOB DATABASE_URL API_URL NOW MANAGERS`
"""

from __future__ import annotations

import sys
from datetime import datetime

from bot.app import build_services
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.delivery.deal_digests import send_deal_digests
from bot.jobs import JobBody, record_weekly_summary
from tests.conftest import TEST_BOT_TOKEN, TEST_SECRET, TEST_SIGNING_SECRET

JOBS: dict[str, JobBody] = {
    "weekly_summary": record_weekly_summary,
    "deal_digests": send_deal_digests,
}


def main(job: str, database_url: str, api_url: str, now: str, managers: str) -> None:
    settings = load_settings(
        _env_file=None,
        SLACK_BOT_TOKEN=TEST_BOT_TOKEN,
        SLACK_SIGNING_SECRET=TEST_SIGNING_SECRET,
        PULSEBOT_SECRET=TEST_SECRET,
        SLACK_API_URL=api_url,
        DATABASE_URL=database_url,
        PULSEBOT_TIMEZONE="Europe/Rome",
        PULSEBOT_MANAGERS=managers,
    )
    clock = FrozenClock(datetime.fromisoformat(now))
    JOBS[job](build_services(settings, clock=clock), clock())
    sys.stdout.write("FINISHED\n")


if __name__ == "__main__":
    main(*sys.argv[1:6])
