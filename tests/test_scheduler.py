"""The scheduler, time-controlled: DST, missed runs, jobs fired twice, its jobs in memory."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.debug import DebugExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import ref_to_obj
from sqlalchemy import MetaData, func, inspect, select

from bot import jobs
from bot.app import build_services
from bot.clock import FrozenClock
from bot.config import Settings
from bot.scheduler import (
    DEAL_DIGEST_JOBS,
    JOB_PROVIDERS,
    ONEONONE_TICK_JOBS,
    SURVEY_TICK_JOBS,
    JobSpec,
    core_jobs,
    reconcile_jobs,
    start_scheduler,
    wanted_jobs,
    weekly_summary_trigger,
)
from bot.services import Services
from storage.db import Database
from storage.migrate import upgrade
from storage.requests import HandledRequest, claim_request
from storage.scheduling import ScheduledEffect, finish_effect
from tests.conftest import make_settings
from tests.harness import BotHarness

ROME = ZoneInfo("Europe/Rome")
CORE_JOB_IDS = {
    "prune_handled_requests",
    "send_deal_digests",
    "sync_directory",
    "weekly_summary",
    "finish_interrupted_summary",
    "open_due_runs",
    "dispatch_due_deliveries",
    "send_due_reminders",
    "close_due_runs",
    "send_oneonone_reminders",
}


class ManualScheduler(BaseScheduler):  # type: ignore[misc]
    """A scheduler without a loop of its own: the test calls `_process_jobs()` at a frozen time."""

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        pass


def rome(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ROME)


def services_on(db: Database, **overrides: str) -> Services:
    settings = make_settings(
        DATABASE_URL=db.engine.url.render_as_string(hide_password=False), **overrides
    )
    return build_services(settings, db=db)


@pytest.fixture
def frozen(clock: FrozenClock) -> Iterator[Any]:
    """Travel in time with the clock stopped: `frozen(when)`. APScheduler reads the machine's
    clock (time-machine moves it); the bot's own clock is moved with it."""
    travellers: list[Any] = []

    def travel(when: datetime) -> None:
        while travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(when, tick=False)
        traveller.start()
        travellers.append(traveller)
        clock.now = when

    yield travel
    while travellers:
        travellers.pop().stop()


class Runner:
    """One 'process' of the bot as far as the scheduler goes: start, process due jobs, stop."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.scheduler: Any = None
        self.results: list[tuple[str, Any]] = []

    def start(self) -> Any:
        self.scheduler = start_scheduler(
            self.services, scheduler_class=ManualScheduler, executor=DebugExecutor()
        )
        self.scheduler.add_listener(self._executed, EVENT_JOB_EXECUTED)
        return self.scheduler

    def _executed(self, event: JobExecutionEvent) -> None:
        self.results.append((event.job_id, event.retval))

    def process(self) -> list[tuple[str, Any]]:
        before = len(self.results)
        self.scheduler._process_jobs()
        return self.results[before:]

    def fire(self, job_id: str) -> list[tuple[str, Any]]:
        """Make `job_id` due now and let the scheduler run it."""
        self.scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))
        return self.process()

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
            self.scheduler = None
        jobs.bind_services(None)


@pytest.fixture
def runner(db: Database) -> Iterator[Runner]:
    runner = Runner(services_on(db))
    yield runner
    runner.stop()


def summary_runs(results: list[tuple[str, Any]]) -> list[Any]:
    """What the weekly summary returned in each run (1: done now, 0: done before)."""
    return [retval for job_id, retval in results if job_id == "weekly_summary"]


def effect_keys(db: Database) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(ScheduledEffect.key).order_by(ScheduledEffect.key)))


def job_ids(scheduler: Any) -> list[str]:
    return sorted(job.id for job in scheduler.get_jobs())


def every_row(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    metadata = MetaData()
    metadata.reflect(db.engine)
    with db.engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(table.select())), key=repr)
            for table in metadata.sorted_tables
        }


# -- the jobs and their registry -----------------------------------------------------------------


def test_jobs_live_in_memory_and_nothing_of_them_in_the_database(
    runner: Runner, db: Database
) -> None:
    """APScheduler's job table (pickles, unpickled at start) is gone; starting, stopping and
    starting again writes nothing: the jobs are built in code each time."""
    assert "apscheduler_jobs" not in inspect(db.engine).get_table_names()
    before = every_row(db)
    scheduler = runner.start()
    assert isinstance(scheduler._lookup_jobstore("default"), MemoryJobStore)
    assert job_ids(scheduler) == sorted(CORE_JOB_IDS)
    runner.stop()
    assert job_ids(runner.start()) == sorted(CORE_JOB_IDS)
    assert every_row(db) == before


def test_every_job_is_importable_with_an_explicit_zone_and_policy() -> None:
    services = build_services(make_settings())
    specs = wanted_jobs(services, JOB_PROVIDERS)
    assert set(specs) >= CORE_JOB_IDS
    for spec in specs.values():
        assert callable(ref_to_obj(spec.func)), spec.func
        assert spec.trigger.timezone == ROME, spec.id
        assert isinstance(spec.trigger.timezone, ZoneInfo), spec.id
        assert spec.max_instances >= 1
        assert all(isinstance(arg, str | int) for arg in spec.args)
    # Hook names each need an entry point of the same name in bot.jobs.
    for name in (*SURVEY_TICK_JOBS, *DEAL_DIGEST_JOBS, *ONEONONE_TICK_JOBS):
        assert callable(getattr(jobs, name)), name


def test_jobs_without_bound_services_say_why() -> None:
    jobs.bind_services(None)
    with pytest.raises(RuntimeError, match="no Services bound"):
        jobs.weekly_summary()


# -- the weekly summary trigger across DST ---------------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "expected", "utc_hour", "hours_between"),
    [
        # Europe/Rome springs forward on Sunday 29 March 2026: Monday 09:00 is 07:00 UTC after it.
        pytest.param(rome(2026, 3, 23, 9), rome(2026, 3, 30, 9), 7, 167, id="spring_forward_week"),
        # ...and falls back on Sunday 25 October 2026: Monday 09:00 is 08:00 UTC again.
        pytest.param(rome(2026, 10, 19, 9), rome(2026, 10, 26, 9), 8, 169, id="fall_back_week"),
        pytest.param(rome(2026, 11, 16, 9), rome(2026, 11, 23, 9), 8, 168, id="normal_week"),
    ],
)
def test_weekly_summary_trigger_is_monday_nine_local(
    previous: datetime, expected: datetime, utc_hour: int, hours_between: int
) -> None:
    trigger = weekly_summary_trigger(make_settings())
    fire = trigger.get_next_fire_time(previous, previous + timedelta(seconds=1))
    assert fire == expected
    local = fire.astimezone(ROME)
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
    assert fire.astimezone(UTC).hour == utc_hour
    # Subtracting in UTC: within one zone Python subtracts wall-clock times.
    assert fire.astimezone(UTC) - previous.astimezone(UTC) == timedelta(hours=hours_between)


def test_summary_day_and_time_come_from_the_settings() -> None:
    settings: Settings = make_settings(PULSEBOT_SUMMARY_DAY="friday", PULSEBOT_SUMMARY_TIME="17:30")
    trigger = weekly_summary_trigger(settings)
    assert isinstance(trigger, CronTrigger)
    fire = trigger.get_next_fire_time(None, rome(2026, 11, 23, 9))
    assert fire == rome(2026, 11, 27, 17, 30)


@pytest.mark.parametrize(
    ("start", "monday"),
    [
        pytest.param(rome(2026, 3, 27, 12), rome(2026, 3, 30, 9), id="spring_forward_week"),
        pytest.param(rome(2026, 10, 23, 12), rome(2026, 10, 26, 9), id="fall_back_week"),
        pytest.param(rome(2026, 11, 20, 12), rome(2026, 11, 23, 9), id="normal_week"),
    ],
)
def test_scheduler_runs_the_summary_at_monday_nine_not_before(
    sqlite_url: str, frozen: Any, start: datetime, monday: datetime
) -> None:
    db = Database(sqlite_url)  # the clock is the point here, so SQLite alone
    upgrade(db.engine)
    runner = Runner(services_on(db))
    try:
        frozen(start)
        scheduler = runner.start()
        assert scheduler.get_job("weekly_summary").next_run_time == monday
        frozen(monday - timedelta(seconds=1))
        assert ("weekly_summary", 1) not in runner.process()
        frozen(monday)
        assert ("weekly_summary", 1) in runner.process()
        year, week, _ = monday.isocalendar()
        assert effect_keys(db) == [f"summary:{year}-W{week:02d}"]
    finally:
        runner.stop()
        db.dispose()


# -- the bot is down across a scheduled time -------------------------------------------------------


def test_restart_within_grace_runs_the_missed_summary_once(
    runner: Runner, db: Database, frozen: Any
) -> None:
    frozen(rome(2026, 11, 22, 20))  # Sunday evening: the bot runs, then goes down
    runner.start()
    runner.stop()
    frozen(rome(2026, 11, 23, 11, 30))  # back on Monday at 11:30, within the 6 h grace
    runner.start()
    assert summary_runs(runner.process()) == [1]
    assert summary_runs(runner.process()) == []  # and not again
    assert effect_keys(db) == ["summary:2026-W48"]
    assert runner.scheduler.get_job("weekly_summary").next_run_time == rome(2026, 11, 30, 9)


def test_restart_after_the_summary_went_out_does_not_send_it_again(
    runner: Runner, db: Database, frozen: Any, caplog: pytest.LogCaptureFixture
) -> None:
    frozen(rome(2026, 11, 23, 9))  # Monday 09:00: the summary goes out, then the bot goes down
    runner.start()
    assert summary_runs(runner.process()) == [1]
    runner.stop()
    frozen(rome(2026, 11, 23, 11, 30))  # back within the grace time: its key says it is done
    runner.start()
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        assert summary_runs(runner.process()) == []
    assert "missed" not in caplog.text
    assert effect_keys(db) == ["summary:2026-W48"]
    assert runner.scheduler.get_job("weekly_summary").next_run_time == rome(2026, 11, 30, 9)


def test_restart_past_grace_skips_the_missed_summary_and_logs_it(
    runner: Runner, db: Database, frozen: Any, caplog: pytest.LogCaptureFixture
) -> None:
    frozen(rome(2026, 11, 22, 20))
    runner.start()
    runner.stop()
    frozen(rome(2026, 11, 24, 10))  # back on Tuesday: a day late
    runner.start()
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        assert summary_runs(runner.process()) == []
    assert effect_keys(db) == []
    assert (
        "job weekly_summary missed its run at 2026-11-23T09:00+01:00 by more than its grace time"
        in caplog.text
    )
    assert runner.scheduler.get_job("weekly_summary").next_run_time == rome(2026, 11, 30, 9)


def test_restart_runs_a_missed_prune_however_late_but_once(runner: Runner, frozen: Any) -> None:
    frozen(rome(2026, 11, 19, 10))
    runner.start()
    runner.stop()
    frozen(rome(2026, 11, 22, 10))  # three days later: 72 missed hourly runs
    runner.start()
    # The deal digests and the survey ticks (no grace limit either) catch up once too.
    ran = sorted(job for job, _ in runner.process())
    assert ran == sorted(
        [
            "prune_handled_requests",
            "send_deal_digests",
            "finish_interrupted_summary",
            *SURVEY_TICK_JOBS,
            *ONEONONE_TICK_JOBS,
        ]
    )


# -- a job that fires twice does nothing twice ---------------------------------------------------


def fired(runner: Runner, job_id: str) -> int:
    """Fire `job_id` now and return its effect count (other jobs due now may run beside it)."""
    return int(dict(runner.fire(job_id))[job_id])


def test_each_job_fired_twice_acts_once(bot: BotHarness, frozen: Any) -> None:
    services = bot.services
    frozen(rome(2026, 11, 23, 9))
    with services.db.engine.begin() as connection:
        claim_request(connection, "event:Ev-old", bot.clock() - timedelta(days=3))
    runner = Runner(services)
    runner.start()
    try:
        # The start's own round: Monday 09:00 has come, and the old key waits to be pruned.
        first = dict(runner.process())
        assert first["weekly_summary"] == 1
        assert fired(runner, "weekly_summary") == 0
        assert fired(runner, "weekly_summary") == 0
        assert effect_keys(services.db) == ["summary:2026-W48"]

        assert first["prune_handled_requests"] == 1
        assert fired(runner, "prune_handled_requests") == 0

        synced = fired(runner, "sync_directory")
        before = services.directory.all_users()
        assert fired(runner, "sync_directory") == synced
        assert services.directory.all_users() == before  # the same rows, not twice as many
        with services.db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(HandledRequest)) == 0
    finally:
        runner.stop()


# -- reconciling the jobs: on start, and on a running scheduler ----------------------------------


def schedule_jobs(*, paused: bool) -> Any:
    """A stand-in for the survey schedules provider: one job per schedule."""

    def provider(services: Services) -> list[JobSpec]:
        return [
            JobSpec(
                id="survey_schedule:7",
                func="bot.jobs:weekly_summary",
                trigger=CronTrigger(day_of_week="wed", hour=10, timezone=services.settings.zone),
                misfire_grace_time=3600,
                coalesce=True,
                max_instances=1,
                paused=paused,
            )
        ]

    return provider


def test_reconcile_adds_once_and_leaves_unchanged_jobs_alone(runner: Runner, db: Database) -> None:
    scheduler = runner.start()
    assert job_ids(scheduler) == sorted(CORE_JOB_IDS)
    again = reconcile_jobs(scheduler, runner.services)
    assert (again.added, again.replaced, again.removed) == ([], [], [])
    assert sorted(again.unchanged) == sorted(CORE_JOB_IDS)
    runner.stop()
    restarted = runner.start()  # a second start, as after a restart: still one job per id
    assert job_ids(restarted) == sorted(CORE_JOB_IDS)
    assert len(restarted.get_jobs()) == len(CORE_JOB_IDS)


def test_reconcile_removes_jobs_nobody_wants(runner: Runner, db: Database) -> None:
    scheduler = runner.start()
    scheduler.add_job("bot.jobs:sync_directory", "interval", hours=1, id="old_job_name")
    result = reconcile_jobs(scheduler, runner.services)
    assert result.removed == ["old_job_name"]
    assert job_ids(scheduler) == sorted(CORE_JOB_IDS)


def test_reconcile_replaces_a_changed_schedule(runner: Runner, db: Database, frozen: Any) -> None:
    frozen(rome(2026, 11, 23, 12))
    with db.transaction() as session:  # this Monday's summary went out at 09:00
        finish_effect(session, "summary:2026-W48", rome(2026, 11, 23, 9))
    scheduler = runner.start()
    assert scheduler.get_job("weekly_summary").next_run_time == rome(2026, 11, 30, 9)
    # The admin moves the summary to Friday 17:30 and restarts.
    moved = services_on(db, PULSEBOT_SUMMARY_DAY="fri", PULSEBOT_SUMMARY_TIME="17:30")
    result = reconcile_jobs(scheduler, moved)
    assert result.replaced == ["weekly_summary"]
    assert set(result.unchanged) == CORE_JOB_IDS - {"weekly_summary"}
    assert scheduler.get_job("weekly_summary").next_run_time == rome(2026, 11, 27, 17, 30)
    assert job_ids(scheduler) == sorted(CORE_JOB_IDS)


def test_reconcile_follows_a_schedule_added_paused_resumed_and_removed(
    runner: Runner, db: Database, frozen: Any
) -> None:
    frozen(rome(2026, 11, 23, 12))
    scheduler = runner.start()
    services = runner.services
    providers = [*JOB_PROVIDERS, schedule_jobs(paused=False)]
    assert reconcile_jobs(scheduler, services, providers).added == ["survey_schedule:7"]
    assert scheduler.get_job("survey_schedule:7").next_run_time == rome(2026, 11, 25, 10)

    paused = reconcile_jobs(scheduler, services, [*JOB_PROVIDERS, schedule_jobs(paused=True)])
    assert paused.replaced == ["survey_schedule:7"]
    assert scheduler.get_job("survey_schedule:7").next_run_time is None

    resumed = reconcile_jobs(scheduler, services, providers)
    assert resumed.replaced == ["survey_schedule:7"]
    assert scheduler.get_job("survey_schedule:7").next_run_time == rome(2026, 11, 25, 10)

    removed = reconcile_jobs(scheduler, services, JOB_PROVIDERS)
    assert removed.removed == ["survey_schedule:7"]
    assert job_ids(scheduler) == sorted(CORE_JOB_IDS)


def test_two_jobs_with_one_id_are_refused() -> None:
    services = build_services(make_settings())
    with pytest.raises(ValueError, match="two jobs share the id 'prune_handled_requests'"):
        wanted_jobs(services, [core_jobs, core_jobs])
