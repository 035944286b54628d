"""A separate sending process for the crash test: dispatches due survey DMs until killed."""

from __future__ import annotations

import sys
from datetime import datetime

from bot.app import build_services
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.delivery import survey_dms as jobs


def main(database_url: str, api_url: str, secret: str, now: str) -> None:
    settings = load_settings(
        _env_file=None,
        SLACK_BOT_TOKEN="xoxb-test-0000-pulsebot",
        SLACK_SIGNING_SECRET="test-signing-secret-0123456789",
        PULSEBOT_SECRET=secret,
        SLACK_API_URL=api_url,
        DATABASE_URL=database_url,
        PULSEBOT_TIMEZONE="Europe/Rome",
    )
    clock = FrozenClock(datetime.fromisoformat(now))
    services = build_services(settings, clock=clock)
    jobs.dispatch_due_deliveries(services, clock())


if __name__ == "__main__":
    main(*sys.argv[1:5])
