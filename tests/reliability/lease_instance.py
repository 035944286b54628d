"""A pulsebot instance for the failover tests: renews its leases and takes over lapsed work as
`pulsebot serve` does (bot.app.start_leases), and runs one job body as it starts (none for
`standby`). SIGTERM stops it as it stops `serve`: the work first, then the claims handed back.

`python -u -m tests.reliability.lease_instance JOB DATABASE_URL API_URL START REFERENCE LEASE MANAGERS`

Its clock ticks from START as from the test's `time.monotonic()` reading REFERENCE, so every
instance of a test (and the test) agree on "now" at a pinned date.
"""

from __future__ import annotations

import signal
import sys
import threading
from datetime import datetime

from bot.app import build_services, start_leases
from bot.clock import SteadyClock
from bot.config import load_settings
from bot.delivery.deal_digests import send_deal_digests
from bot.delivery.oneonone_dms import send_oneonone_reminders
from bot.delivery.survey_dms import close_due_runs, dispatch_due_deliveries, send_due_reminders
from bot.jobs import JobBody, record_weekly_summary
from bot.services import Services

JOBS: dict[str, JobBody] = {
    "survey": dispatch_due_deliveries,
    "reminders": send_due_reminders,
    "close": close_due_runs,
    "digests": send_deal_digests,
    "oneonone": send_oneonone_reminders,
    "summary": record_weekly_summary,
}
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


def run_job(services: Services, job: JobBody) -> None:
    job(services, services.clock())
    say("FINISHED")


def main(argv: list[str]) -> None:
    job, url, api_url, start, reference, lease, managers = argv
    extra = {"PULSEBOT_MANAGERS": managers} if managers else {}
    settings = load_settings(
        _env_file=None,
        DATABASE_URL=url,
        SLACK_API_URL=api_url,
        PULSEBOT_LEASE_SECONDS=lease,
        **SETTINGS,
        **extra,
    )
    clock = SteadyClock(datetime.fromisoformat(start), float(reference))
    services = build_services(settings, clock=clock)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stopping.set())
    start_leases(services)
    say(f"STARTED {services.leases.instance}")
    worker = None
    if job != "standby":
        worker = threading.Thread(target=run_job, args=(services, JOBS[job]), daemon=True)
        worker.start()
    while not stopping.wait(0.05):
        pass
    # As bot.cli stops `serve`: the work stops after its Slack call, then the claims go back.
    services.leases.begin_stop()
    if worker is not None:
        worker.join()
    services.background.shutdown()
    services.leases.stop()
    services.db.dispose()
    say("STOPPED")


if __name__ == "__main__":
    main(sys.argv[1:8])
