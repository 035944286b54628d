"""kill -9 half-way through the weekly summary and through the stale-deal job: after the
restart exactly one summary reached each manager, and no digest was sent twice.

(Half-way through a survey fan-out: tests/test_survey_fanout.py.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.delivery.deal_digests import send_deal_digests
from bot.delivery.summary import SUMMARY_EVENT
from bot.jobs import finish_interrupted_summaries, record_weekly_summary
from bot.standin import SimMessage, SlackStandIn
from storage.db import Database
from tests.conftest import make_settings
from tests.faketime_compat import child_python_path
from tests.harness import BotHarness

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MANAGERS = ["U01GROSSI", "U06AJONES", "U09HSATO"]
OWNERS = ["U01GROSSI", "U02MBIANC", "U03FESPOS", "U05OSMITH", "U07JMILLE", "U08EDAVIS"]


@pytest.fixture
def managed(db: Database, standin: SlackStandIn, clock: FrozenClock) -> Iterator[BotHarness]:
    settings = make_settings(
        SLACK_API_URL=standin.url,
        DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
        PULSEBOT_MANAGERS=",".join(MANAGERS),
    )
    bot = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
    bot.services.directory.sync()
    yield bot
    bot.close()


def kill_mid_job(
    bot: BotHarness, job: str, now: datetime, halfway: Callable[[], bool], *, then: float = 0.0
) -> None:
    """Run `job` in a process of its own; kill -9 it `then` seconds after `halfway` holds."""
    url = bot.services.db.engine.url.render_as_string(hide_password=False)
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.job_worker", job, url, bot.standin.url,
         now.isoformat(), ",".join(MANAGERS)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": child_python_path(str(ROOT))},
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        bot.standin.wait_for(halfway, timeout=60, describe=f"{job} half-way")
        time.sleep(then)
        worker.send_signal(signal.SIGKILL)
    finally:
        output, _ = worker.communicate(timeout=20)
    assert "FINISHED" not in output, "the worker finished before it was killed"


def summaries(standin: SlackStandIn) -> list[SimMessage]:
    return [
        m
        for m in standin.messages
        if m.source == "chat.postMessage" and (m.metadata or {}).get("event_type") == SUMMARY_EVENT
    ]


def test_a_summary_killed_half_way_reaches_every_manager_once(managed: BotHarness) -> None:
    standin = managed.standin
    now = managed.clock()
    standin.delay("chat.postMessage", 1.0)  # slow enough to kill between two managers
    kill_mid_job(managed, "weekly_summary", now, lambda: len(summaries(standin)) == 1)
    standin.delay("chat.postMessage", 0)
    assert len(summaries(standin)) < len(MANAGERS), "the kill did not land half-way"

    # The restarted bot: the week is in progress, so the job itself does nothing...
    assert record_weekly_summary(managed.services, now) == 0
    lease = managed.services.leases.period
    assert finish_interrupted_summaries(managed.services, now + lease - timedelta(seconds=1)) == 0
    # ...and once the dead poster's lease has lapsed, the week is finished where it is missing.
    later = now + lease + timedelta(seconds=1)
    assert finish_interrupted_summaries(managed.services, later) == 1
    assert finish_interrupted_summaries(managed.services, later) == 0
    assert record_weekly_summary(managed.services, later) == 0
    reached = Counter(m.recipient for m in summaries(standin))
    assert reached == dict.fromkeys(MANAGERS, 1)


def test_a_digest_job_killed_half_way_doubles_no_nudge(managed: BotHarness) -> None:
    standin = managed.standin
    for owner in OWNERS:
        assert managed.command(owner, "/deal", f"new Deal-{owner} 5k proposal").status == 200
    assert managed.services.background.wait_idle()
    # Weeks later, at 20:00 UTC: past 09:00 for every owner (Europe and the Americas).
    when = (managed.clock() + timedelta(days=40)).replace(hour=20, minute=0)
    standin.reset_calls()
    before = len(standin.messages)

    def digests() -> list[SimMessage]:
        return [
            m
            for m in standin.messages[before:]
            if m.source == "chat.postMessage" and not m.ephemeral
        ]

    standin.delay("chat.postMessage", 0.7)
    # Killed while the third DM is on its way: Slack gets it, the worker never hears back.
    kill_mid_job(managed, "deal_digests", when, lambda: len(digests()) >= 2, then=0.3)
    standin.delay("chat.postMessage", 0)
    standin.wait_for(lambda: len(digests()) >= 3, describe="the DM in flight at the kill")
    assert len(digests()) < len(OWNERS), "the kill did not land half-way"

    send_deal_digests(managed.services, when)  # the restarted bot's run of the same job
    send_deal_digests(managed.services, when + timedelta(minutes=15))
    per_owner = Counter(m.recipient for m in digests())
    assert max(per_owner.values()) == 1, per_owner  # no nudge doubled
    assert len(per_owner) == len(OWNERS), per_owner
