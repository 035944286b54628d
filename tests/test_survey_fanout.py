"""A fan-out killed half-way is completed by the restarted bot: exactly one DM per person."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.actor import Actor
from bot.clock import FrozenClock
from bot.delivery import survey_dms as jobs
from bot.standin import SimUser, SlackStandIn, Workspace
from bot.surveys.schedule import Audience
from storage import surveys as store
from storage.db import Database
from tests.conftest import TEST_SECRET, make_settings
from tests.faketime_compat import child_python_path
from tests.harness import BotHarness

TEAM = 120
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def big_standin() -> Iterator[SlackStandIn]:
    people = [SimUser(id=f"U{n:07d}", name=f"person{n}", tz="Europe/Rome") for n in range(TEAM)]
    with SlackStandIn(Workspace(users=people)) as server:
        yield server


def test_killed_sender_resumes_without_a_second_dm(
    db: Database, big_standin: SlackStandIn, clock: FrozenClock
) -> None:
    url = db.engine.url.render_as_string(hide_password=False)
    settings = make_settings(SLACK_API_URL=big_standin.url, DATABASE_URL=url)
    bot = BotHarness.boot(settings, db=db, standin=big_standin, clock=clock)
    now = clock()
    run = bot.services.surveys.start_run(
        Actor("U0000000", is_manager=True), "enps", audience=Audience(), open_days=None
    )
    assert jobs.resolve_audiences(bot.services, now) == TEAM
    # Slow Slack down so the kill lands in the middle of the fan-out.
    big_standin.delay("chat.postMessage", 0.01)
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.fanout_worker", url, big_standin.url, TEST_SECRET,
         now.isoformat()],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": child_python_path(str(ROOT))},
    )  # fmt: skip
    try:
        # Mid-batch (the sender claims 20 at a time), never on a batch boundary.
        big_standin.wait_for(
            lambda: len(big_standin.calls_to("chat.postMessage")) >= TEAM // 3 + 5,
            timeout=30,
            describe="a third of the DMs",
        )
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(timeout=10)
    big_standin.delay("chat.postMessage", 0)
    half = len(big_standin.calls_to("chat.postMessage"))
    assert TEAM // 3 <= half < TEAM, "the worker was not killed half-way"

    # The restarted bot: a claim within its lease is left alone (its sender may be alive)...
    jobs.dispatch_due_deliveries(bot.services, now)
    assert not big_standin.calls_to("conversations.history")
    # ...and once the dead sender's lease has lapsed, it is settled from the DM.
    later = now + bot.services.leases.period + timedelta(seconds=1)
    jobs.dispatch_due_deliveries(bot.services, later)
    assert big_standin.calls_to("conversations.history"), "lapsed claims were not checked"

    recipients = Counter(
        m.recipient for m in big_standin.messages if m.recipient and not m.ephemeral
    )
    assert len(recipients) == TEAM
    assert set(recipients.values()) == {1}
    with db.transaction() as session:
        states = Counter(
            d.state
            for d in session.scalars(
                select(store.SurveyDelivery).where(store.SurveyDelivery.run_id == run.id)
            )
        )
    assert states == {"sent": TEAM}
    bot.close()
