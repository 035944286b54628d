"""Failover in seconds: each kind of work claimed by an instance that is killed (kill -9) is
finished by a surviving instance (PostgreSQL) or the restarted one (SQLite) within 60 s,
exactly one DM each; a Slack slower than the lease period doubles nothing; SIGTERM hands the
claims over at once. Every instance is a real process (tests/reliability/lease_instance.py).

The kill tests run with the production lease period, so the figures they print (kill to the
last DM) are what an operator would see. With the old ten-minute rule
(PULSEBOT_TEST_FAILOVER_LEASE=600) each of them fails.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.actor import Actor
from bot.clock import FrozenClock
from bot.delivery import survey_dms
from bot.delivery.deal_digests import DIGEST_EVENT
from bot.delivery.oneonone_dms import NOTICE_EVENT
from bot.delivery.summary import SUMMARY_EVENT
from bot.standin import SimMessage, SimUser, SlackStandIn, Workspace
from bot.surveys.schedule import Audience
from storage.db import Database
from storage.migrate import upgrade
from storage.oneonones import OneOnOneOccurrence
from tests.conftest import make_settings
from tests.faketime_compat import child_python_path
from tests.harness import BotHarness
from tests.reliability.conftest import FIGURES

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
# The production default (bot.config), unless a run asks for another (600: the old rule).
LEASE_SECONDS = int(os.environ.get("PULSEBOT_TEST_FAILOVER_LEASE", "20"))
FAILOVER_LIMIT = 60.0  # the bound, kill to the last DM
# For the slow-Slack cases: a short lease, and every post longer than it.
SHORT_LEASE = 2
SLOW_POST = 2.5
TEAM = 150  # the fan-out: 150 people, Slack answering each DM in about 0.1 s
MANAGERS = ["U01GROSSI", "U06AJONES", "U09HSATO"]
OWNERS = ["U01GROSSI", "U02MBIANC", "U03FESPOS", "U05OSMITH", "U07JMILLE", "U08EDAVIS"]
AMELIA, OLIVER = "U06AJONES", "U05OSMITH"
TUESDAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # the 1:1 dates below count from it


class Instance:
    """One pulsebot instance in a process of its own, its output read as it comes."""

    def __init__(self, job: str, url: str, standin: SlackStandIn, start: datetime, lease: int):
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "tests.reliability.lease_instance", job, url,
             standin.url, start.isoformat(), repr(REFERENCE), str(lease), ",".join(MANAGERS)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": child_python_path(str(ROOT))},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            left = deadline - time.monotonic()
            if left <= 0 or (self.process.poll() is not None and self._lines.empty()):
                raise AssertionError(f"no {text!r}; output:\n" + "\n".join(self.lines))
            with contextlib.suppress(queue.Empty):
                self.lines.append(self._lines.get(timeout=min(left, 0.05)))

    def printed(self, text: str) -> bool:
        while not self._lines.empty():
            self.lines.append(self._lines.get())
        return any(text in line for line in self.lines)


# Every process of a run shares the machine's monotonic clock: instances tick from it.
REFERENCE = time.monotonic()


@pytest.fixture
def instances() -> Iterator[list[Instance]]:
    started: list[Instance] = []
    yield started
    for instance in started:
        if instance.process.poll() is None:
            instance.process.kill()
        instance.process.wait(timeout=10)


def spawn(
    instances: list[Instance],
    job: str,
    bot: BotHarness,
    start: datetime,
    lease: int = LEASE_SECONDS,
) -> Instance:
    url = bot.services.db.engine.url.render_as_string(hide_password=False)
    instance = Instance(job, url, bot.standin, start, lease)
    instances.append(instance)
    instance.wait_for("STARTED")
    return instance


def started_at(clock: FrozenClock) -> datetime:
    """The instant the instances' clocks tick from: the test's, as of REFERENCE."""
    return clock() - timedelta(seconds=time.monotonic() - REFERENCE)


def fail_over(
    instances: list[Instance],
    bot: BotHarness,
    job: str,
    start: datetime,
    *,
    halfway: Callable[[], bool],
    done: Callable[[], bool],
    kind: str,
    restart: bool = False,
    then: float = 0.0,
) -> float:
    """An instance runs `job` and is killed (-9) half-way; a survivor already running (or, with
    `restart`, the same instance started again) must finish. Returns kill → last DM, s."""
    if not restart:
        spawn(instances, "standby", bot, start)
    worker = spawn(instances, job, bot, start)
    bot.standin.wait_for(halfway, timeout=60, describe=f"{kind} half-way")
    time.sleep(then)
    worker.process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    worker.process.wait(timeout=10)
    assert not worker.printed("FINISHED"), "the worker finished before it was killed"
    assert not done(), "the kill did not land half-way"
    if restart:
        spawn(instances, "standby", bot, start)
    bot.standin.wait_for(done, timeout=FAILOVER_LIMIT + 30, interval=0.05, describe=kind)
    took = time.monotonic() - killed
    figure = (
        f"failover, {kind}: kill -9 to the last DM {took:.1f} s "
        f"(lease {LEASE_SECONDS} s, {'restarted' if restart else 'survivor'})"
    )
    FIGURES.append(figure)
    sys.stdout.write(figure + "\n")
    assert took < FAILOVER_LIMIT, figure
    return took


def posted(standin: SlackStandIn, event: str) -> list[SimMessage]:
    return [
        m
        for m in standin.messages
        if m.source == "chat.postMessage" and (m.metadata or {}).get("event_type") == event
    ]


def each_once(messages: list[SimMessage], people: list[str]) -> bool:
    return Counter(m.recipient for m in messages) == dict.fromkeys(people, 1)


# ---- set-ups -----------------------------------------------------------------------------------


def team_standin(size: int) -> SlackStandIn:
    people = [SimUser(id=f"U{n:07d}", name=f"person{n}", tz="Europe/Rome") for n in range(size)]
    return SlackStandIn(Workspace(users=people))


def harness(url: str, standin: SlackStandIn, clock: FrozenClock) -> Iterator[BotHarness]:
    database = Database(url)
    upgrade(database.engine)
    settings = make_settings(
        SLACK_API_URL=standin.url, DATABASE_URL=url, PULSEBOT_MANAGERS=",".join(MANAGERS)
    )
    bot = BotHarness.boot(settings, db=database, standin=standin, clock=clock)
    bot.services.directory.sync()
    yield bot
    bot.close()
    database.dispose()


def open_survey(bot: BotHarness, size: int) -> list[str]:
    bot.services.surveys.start_run(
        Actor("U0000000", is_manager=True), "enps", audience=Audience(), open_days=None
    )
    assert survey_dms.resolve_audiences(bot.services, bot.clock()) == size
    return [f"U{n:07d}" for n in range(size)]


def survey_dms_of(standin: SlackStandIn) -> list[SimMessage]:
    return posted(standin, survey_dms.METADATA_EVENT)


def deals_for_owners(bot: BotHarness, owners: list[str]) -> datetime:
    """A deal each; returns a moment weeks later, past 09:00 for every owner."""
    for owner in owners:
        assert bot.command(owner, "/deal", f"new Deal-{owner} 5k proposal").status == 200
    assert bot.services.background.wait_idle()
    return (bot.clock() + timedelta(days=40)).replace(hour=20, minute=0)


def amelia_meets_oliver(bot: BotHarness) -> datetime:
    """A 1:1 on Thursday 3 December at 10:00 (London); returns when its day-before DM is due."""
    bot.clock.now = TUESDAY
    text = f"schedule <@{OLIVER}|oliver> every 2 weeks on thursday at 10:00"
    assert bot.command(AMELIA, "/oneonone", text).status == 200
    assert bot.services.background.wait_idle()
    return datetime(2026, 12, 2, 10, 30, tzinfo=UTC)


def day_before_claimed(bot: BotHarness) -> bool:
    with bot.services.db.transaction() as session:
        claimed = session.scalar(
            select(func.count())
            .select_from(OneOnOneOccurrence)
            .where(OneOnOneOccurrence.day_before_at.is_not(None))
        )
    return bool(claimed)


# ---- kill -9 with a survivor (PostgreSQL) --------------------------------------------------------


@pytest.fixture
def pg_team(postgres_url: str, clock: FrozenClock) -> Iterator[BotHarness]:
    with team_standin(TEAM) as standin:
        yield from harness(postgres_url, standin, clock)


@pytest.fixture
def pg_demo(postgres_url: str, standin: SlackStandIn, clock: FrozenClock) -> Iterator[BotHarness]:
    yield from harness(postgres_url, standin, clock)


@pytest.mark.postgres
def test_survey_fan_out_killed_is_finished_by_the_survivor(
    pg_team: BotHarness, instances: list[Instance]
) -> None:
    people = open_survey(pg_team, TEAM)
    pg_team.standin.delay("chat.postMessage", 0.1)
    fail_over(
        instances, pg_team, "survey", started_at(pg_team.clock),
        halfway=lambda: len(survey_dms_of(pg_team.standin)) >= 45,  # mid-batch (20 a batch)
        done=lambda: len({m.recipient for m in survey_dms_of(pg_team.standin)}) == TEAM,
        kind="survey fan-out (150 DMs)",
    )  # fmt: skip
    assert each_once(survey_dms_of(pg_team.standin), people)


def sent_survey(bot: BotHarness) -> list[str]:
    """A run of TEAM DMs, all sent; returns who got them."""
    people = open_survey(bot, TEAM)
    assert survey_dms.dispatch_due_deliveries(bot.services, bot.clock()) == TEAM
    return people


def reminders_of(standin: SlackStandIn) -> list[SimMessage]:
    return posted(standin, survey_dms.REMINDER_EVENT)


def updated_dms(standin: SlackStandIn) -> set[str]:
    return {str(call.params.get("ts")) for call in standin.calls_to("chat.update")}


@pytest.mark.postgres
def test_survey_reminders_killed_are_finished_by_the_survivor(
    pg_team: BotHarness, instances: list[Instance]
) -> None:
    people = sent_survey(pg_team)
    run = pg_team.services.surveys.get_run(1)
    assert run is not None
    pg_team.standin.delay("chat.postMessage", 0.1)
    fail_over(
        instances, pg_team, "reminders", run.closes_at - timedelta(minutes=1),
        halfway=lambda: len(reminders_of(pg_team.standin)) >= 45,
        done=lambda: len({m.recipient for m in reminders_of(pg_team.standin)}) == TEAM,
        kind="survey reminders (150 DMs)",
    )  # fmt: skip
    assert each_once(reminders_of(pg_team.standin), people)


@pytest.mark.postgres
def test_close_notices_killed_are_finished_by_the_survivor(
    pg_team: BotHarness, instances: list[Instance]
) -> None:
    sent_survey(pg_team)
    run = pg_team.services.surveys.get_run(1)
    assert run is not None
    pg_team.standin.delay("chat.update", 0.1)
    fail_over(
        instances, pg_team, "close", run.closes_at + timedelta(seconds=1),
        halfway=lambda: len(updated_dms(pg_team.standin)) >= 45,
        done=lambda: len(updated_dms(pg_team.standin)) == TEAM,
        kind="survey close notices (150 DM updates)",
    )  # fmt: skip


@pytest.mark.postgres
def test_deal_digests_killed_are_finished_by_the_survivor(
    pg_demo: BotHarness, instances: list[Instance]
) -> None:
    when = deals_for_owners(pg_demo, OWNERS)
    pg_demo.standin.delay("chat.postMessage", 0.7)
    # Killed while the third digest is on its way: Slack gets it, the worker never hears back.
    fail_over(
        instances, pg_demo, "digests", when,
        halfway=lambda: len(posted(pg_demo.standin, DIGEST_EVENT)) >= 2,
        done=lambda: len({m.recipient for m in posted(pg_demo.standin, DIGEST_EVENT)}) == 6,
        kind="deal digests", then=0.3,
    )  # fmt: skip
    assert each_once(posted(pg_demo.standin, DIGEST_EVENT), OWNERS)


@pytest.mark.postgres
def test_a_oneonone_dm_killed_is_finished_by_the_survivor(
    pg_demo: BotHarness, instances: list[Instance]
) -> None:
    due = amelia_meets_oliver(pg_demo)
    pg_demo.standin.delay("chat.postMessage", 1.0)
    # Killed while the first of the two DMs is on its way: Slack gets it, the second never goes.
    fail_over(
        instances, pg_demo, "oneonone", due,
        halfway=lambda: day_before_claimed(pg_demo),
        done=lambda: len(posted(pg_demo.standin, NOTICE_EVENT)) >= 2,
        kind="1:1 day-before DMs", then=0.3,
    )  # fmt: skip
    assert each_once(posted(pg_demo.standin, NOTICE_EVENT), [AMELIA, OLIVER])


@pytest.mark.postgres
def test_the_weekly_summary_killed_is_finished_by_the_survivor(
    pg_demo: BotHarness, instances: list[Instance]
) -> None:
    pg_demo.standin.delay("chat.postMessage", 1.0)
    fail_over(
        instances, pg_demo, "summary", started_at(pg_demo.clock),
        halfway=lambda: len(posted(pg_demo.standin, SUMMARY_EVENT)) == 1,
        done=lambda: len(posted(pg_demo.standin, SUMMARY_EVENT)) >= len(MANAGERS),
        kind="weekly summary",
    )  # fmt: skip
    assert each_once(posted(pg_demo.standin, SUMMARY_EVENT), MANAGERS)


# ---- kill -9 and a restart (SQLite) -------------------------------------------------------------


def test_a_restarted_single_instance_finishes_a_killed_fan_out(
    sqlite_url: str, clock: FrozenClock, instances: list[Instance]
) -> None:
    with team_standin(TEAM) as standin:
        for bot in harness(sqlite_url, standin, clock):
            people = open_survey(bot, TEAM)
            standin.delay("chat.postMessage", 0.1)
            fail_over(
                instances, bot, "survey", started_at(clock),
                halfway=lambda: len(survey_dms_of(standin)) >= 45,
                done=lambda: len({m.recipient for m in survey_dms_of(standin)}) == TEAM,
                kind="survey fan-out (150 DMs, SQLite)", restart=True,
            )  # fmt: skip
            assert each_once(survey_dms_of(standin), people)


# ---- SIGTERM hands over at once ------------------------------------------------------------------


@pytest.mark.postgres
def test_sigterm_hands_a_fan_out_over_at_once(
    pg_team: BotHarness, instances: list[Instance]
) -> None:
    people = open_survey(pg_team, TEAM)
    standin = pg_team.standin
    standin.delay("chat.postMessage", 0.1)
    start = started_at(pg_team.clock)
    spawn(instances, "standby", pg_team, start)
    worker = spawn(instances, "survey", pg_team, start)
    standin.wait_for(lambda: len(survey_dms_of(standin)) >= 45, timeout=60)
    worker.process.terminate()
    stopped = time.monotonic()
    assert worker.process.wait(timeout=15) == 0
    worker.wait_for("STOPPED")
    standin.wait_for(
        lambda: len({m.recipient for m in survey_dms_of(standin)}) == TEAM,
        timeout=FAILOVER_LIMIT,
        interval=0.05,
    )
    took = time.monotonic() - stopped
    figure = f"failover, survey fan-out (150 DMs): SIGTERM to the last DM {took:.1f} s"
    FIGURES.append(figure)
    sys.stdout.write(figure + "\n")
    # Not a lease period: the claims were handed back as it stopped.
    assert took < LEASE_SECONDS, figure
    assert each_once(survey_dms_of(standin), people)


# ---- a Slack slower than the lease: nothing taken from a live instance -----------------------------


def slow_run(
    instances: list[Instance], bot: BotHarness, job: str, start: datetime, done: Callable[[], bool]
) -> None:
    """`job` on one instance while another stands by, every post longer than the lease."""
    bot.standin.delay("chat.postMessage", SLOW_POST)
    spawn(instances, "standby", bot, start, SHORT_LEASE)
    worker = spawn(instances, job, bot, start, SHORT_LEASE)
    worker.wait_for("FINISHED", timeout=120)
    bot.standin.delay("chat.postMessage", 0)
    assert done()
    # Another lease period and more: the standby never took anything over.
    time.sleep(2 * SHORT_LEASE)
    assert not bot.standin.calls_to("conversations.history")


@pytest.fixture
def pg_few(postgres_url: str, clock: FrozenClock) -> Iterator[BotHarness]:
    with team_standin(4) as standin:
        yield from harness(postgres_url, standin, clock)


@pytest.mark.postgres
def test_a_slow_slack_doubles_no_survey_dm(pg_few: BotHarness, instances: list[Instance]) -> None:
    people = open_survey(pg_few, 4)
    start = started_at(pg_few.clock)
    slow_run(instances, pg_few, "survey", start, lambda: len(survey_dms_of(pg_few.standin)) == 4)
    assert each_once(survey_dms_of(pg_few.standin), people)


@pytest.mark.postgres
def test_a_slow_slack_doubles_no_digest(pg_demo: BotHarness, instances: list[Instance]) -> None:
    owners = OWNERS[:3]
    when = deals_for_owners(pg_demo, owners)
    slow_run(
        instances, pg_demo, "digests", when,
        lambda: len(posted(pg_demo.standin, DIGEST_EVENT)) == 3,
    )  # fmt: skip
    assert each_once(posted(pg_demo.standin, DIGEST_EVENT), owners)


@pytest.mark.postgres
def test_a_slow_slack_doubles_no_oneonone_dm(
    pg_demo: BotHarness, instances: list[Instance]
) -> None:
    due = amelia_meets_oliver(pg_demo)
    slow_run(
        instances, pg_demo, "oneonone", due,
        lambda: len(posted(pg_demo.standin, NOTICE_EVENT)) == 2,
    )  # fmt: skip
    assert each_once(posted(pg_demo.standin, NOTICE_EVENT), [AMELIA, OLIVER])


@pytest.mark.postgres
def test_a_slow_slack_doubles_no_summary(pg_demo: BotHarness, instances: list[Instance]) -> None:
    start = started_at(pg_demo.clock)
    slow_run(
        instances, pg_demo, "summary", start,
        lambda: len(posted(pg_demo.standin, SUMMARY_EVENT)) == len(MANAGERS),
    )  # fmt: skip
    assert each_once(posted(pg_demo.standin, SUMMARY_EVENT), MANAGERS)
