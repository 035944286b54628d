"""The scheduler: APScheduler 3.11 with its jobs built in code at start, and catching up.

Nothing about the jobs is stored: APScheduler's SQLAlchemy job store unpickled its rows, so a
row planted in the database ran as code inside pulsebot (issue 14). The jobs live in memory,
built from the list below whenever an instance starts scheduling; what has to outlive a
restart (has this week's summary gone out?) is read from pulsebot's own tables.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot import metrics
from bot.config import Settings
from bot.jobs import bind_services, summary_key
from bot.services import Services
from storage.scheduling import effect_done

log = logging.getLogger(__name__)

# Jobs talk to the database and to Slack; a few threads are plenty, and a burst waits its turn.
JOB_THREADS = 4
# A weekly summary posted the same working day is still useful; later, managers would get last
# week's summary in the middle of this one: skip it (they can ask with `/pulse summary`).
SUMMARY_GRACE_SECONDS = 6 * 3600

# How a starting scheduler finds the run a job missed while no instance was scheduling: that
# run's time (it runs at once when within the job's grace time), or None. `(services, now)`.
CatchUp = Callable[[Services, datetime], datetime | None]


@dataclass(frozen=True)
class JobSpec:
    """One job as the scheduler should hold it. `id` is stable across restarts and instances."""

    id: str
    func: str  # "module:function", an entry point in bot.jobs
    trigger: BaseTrigger  # always with an explicit ZoneInfo
    misfire_grace_time: int | None  # seconds late a run may start; None: however late
    coalesce: bool  # after downtime, one run for all the missed ones
    max_instances: int
    args: tuple[str | int, ...] = ()  # plain values, so that a spec says all that runs
    paused: bool = False
    catch_up: CatchUp | None = None  # None: a run missed while nobody scheduled is not redone

    def matches(self, job: Job) -> bool:
        """Whether `job` in the store is this spec (paused or not aside)."""
        return (
            job.func_ref == self.func
            and tuple(job.args) == self.args
            and not job.kwargs
            # A trigger's repr names every field and its time zone.
            and repr(job.trigger) == repr(self.trigger)
            and job.misfire_grace_time == self.misfire_grace_time
            and job.coalesce == self.coalesce
            and job.max_instances == self.max_instances
        )


# A provider lists jobs that should exist; reconcile_jobs makes the store match all of them.
JobProvider = Callable[[Services], Iterable[JobSpec]]


class WallClockCronTrigger(CronTrigger):  # type: ignore[misc]
    """A CronTrigger that fires once per wall-clock time: when the clocks go back, a time in
    the repeated hour (02:30 on the last Sunday of October in Rome) happens twice, and
    APScheduler would fire at both. The second one is skipped. (A time in the spring gap
    fires once already, at the first moment after it.)"""

    def get_next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous, now)
        if fire is not None and previous is not None and fire.fold:
            wall = previous.astimezone(fire.tzinfo).replace(tzinfo=None, fold=0)
            if fire.replace(tzinfo=None, fold=0) == wall:
                # In UTC: adding to a local time would drop its fold and land in the first hour.
                after = fire.astimezone(UTC) + timedelta(seconds=1)
                fire = super().get_next_fire_time(fire, after)
        return fire


def last_fire_time(trigger: BaseTrigger, now: datetime, within: timedelta) -> datetime | None:
    """The trigger's latest time at or before `now` and after `now - within`, if any."""
    last = None
    fire = trigger.get_next_fire_time(None, now - within)
    while fire is not None and fire <= now:  # as APScheduler steps through missed runs
        last = fire
        fire = trigger.get_next_fire_time(fire, now)
    return last


def run_at_start(services: Services, now: datetime) -> datetime:
    """For a job whose every run takes everything due until then: one run at start catches up
    whatever was missed, however long no instance was scheduling."""
    return now


def missed_weekly_summary(services: Services, now: datetime) -> datetime | None:
    """The latest summary time, when it has passed without its week's key being recorded."""
    settings = services.settings
    last = last_fire_time(weekly_summary_trigger(settings), now, timedelta(weeks=1))
    if last is None:
        return None
    with services.db.transaction() as session:
        done = effect_done(session, summary_key(last, settings.zone))
    return None if done else last


def weekly_summary_trigger(settings: Settings) -> CronTrigger:
    """PULSEBOT_SUMMARY_DAY at PULSEBOT_SUMMARY_TIME, wall-clock time in PULSEBOT_TIMEZONE."""
    return WallClockCronTrigger(
        day_of_week=settings.summary_day,
        hour=settings.summary_at.hour,
        minute=settings.summary_at.minute,
        timezone=settings.zone,
    )


def core_jobs(services: Services) -> list[JobSpec]:
    """The fixed jobs, each with its policy and why."""
    settings = services.settings
    zone = settings.zone
    return [
        JobSpec(
            id="prune_handled_requests",
            func="bot.jobs:prune_handled_requests",
            # Hourly, off the hour, where fewer jobs start.
            trigger=CronTrigger(minute=17, timezone=zone),
            # Pruning late is harmless, so a missed hour always runs...
            misfire_grace_time=None,
            # ...once: one prune removes every key the missed hours would have.
            coalesce=True,
            # Two prunes at once would only fight over the same rows.
            max_instances=1,
            catch_up=run_at_start,
        ),
        JobSpec(
            id="sync_directory",
            func="bot.jobs:sync_directory",
            # Nightly, when nobody is waiting on users.list pages.
            trigger=CronTrigger(hour=3, minute=30, timezone=zone),
            # Every instance syncs on start anyway, so a run missed by over an hour is not redone.
            misfire_grace_time=3600,
            # One sync brings the directory up to date, however many nights were missed.
            coalesce=True,
            # A slow sync (a large workspace, 429s) must not overlap the next one.
            max_instances=1,
            # None: every instance syncs as it starts (bot.cli), so a missed night is made up.
        ),
        JobSpec(
            id="weekly_summary",
            func="bot.jobs:weekly_summary",
            trigger=weekly_summary_trigger(settings),
            # Late the same working day is fine; later than that it is skipped (and logged).
            misfire_grace_time=SUMMARY_GRACE_SECONDS,
            # After a long outage managers get one summary, not one per missed week.
            coalesce=True,
            # The week's unique key makes a second instance a no-op; don't even start it.
            max_instances=1,
            # Whether this week's summary went out is its key in scheduled_effects.
            catch_up=missed_weekly_summary,
        ),
        JobSpec(
            id="finish_interrupted_summary",
            func="bot.jobs:finish_interrupted_summary",
            # A summary whose poster died mid-way is finished within minutes of the restart.
            trigger=CronTrigger(minute="*/5", timezone=zone),
            # Late is never wrong, and one run finishes everything interrupted.
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
            catch_up=run_at_start,
        ),
    ]


# Hook points for the surveys and deals work. To add a job: put its name here and an entry point
# of the same name in bot.jobs (`def open_due_runs() -> int: return run_body(surveys.open_due_runs)`
# for a body `(services, now) -> int`); the policy below comes with it.
SURVEY_TICK_JOBS: tuple[str, ...] = (
    "open_due_runs",
    "dispatch_due_deliveries",
    "send_due_reminders",
    "close_due_runs",
)
# Deal digests go at 09:00 in each owner's own time zone, so the job looks every quarter hour.
DEAL_DIGEST_JOBS: tuple[str, ...] = ("send_deal_digests",)
# One-to-ones: meetings held, and their day-before, hour-before and after DMs, every minute.
ONEONONE_TICK_JOBS: tuple[str, ...] = ("send_oneonone_reminders",)


def catch_up_jobs(services: Services, names: Iterable[str], *, minute: str) -> list[JobSpec]:
    """Jobs that take everything due up to now, each effect claimed once by its own key."""
    return [
        JobSpec(
            id=name,
            func=f"bot.jobs:{name}",
            trigger=CronTrigger(minute=minute, timezone=services.settings.zone),
            # A late run is never wrong (it takes everything due until now), so it always runs...
            misfire_grace_time=None,
            # ...once: after downtime one run catches up, not one per missed firing.
            coalesce=True,
            # A slow run must not overlap the next; whatever it leaves, the next one takes.
            max_instances=1,
            # What was due while no instance was scheduling, the first run takes.
            catch_up=run_at_start,
        )
        for name in names
    ]


def survey_tick_jobs(services: Services) -> list[JobSpec]:
    """Every minute: runs to open, DMs to send, reminders, closes."""
    return catch_up_jobs(services, SURVEY_TICK_JOBS, minute="*")


def deal_digest_jobs(services: Services) -> list[JobSpec]:
    """Every 15 minutes: owners whose local time has reached 09:00 get their one daily digest
    (claimed per owner and local day)."""
    return catch_up_jobs(services, DEAL_DIGEST_JOBS, minute="*/15")


def oneonone_tick_jobs(services: Services) -> list[JobSpec]:
    """Every minute: each 1:1 DM is due at a minute of its own meeting (a marker per DM)."""
    return catch_up_jobs(services, ONEONONE_TICK_JOBS, minute="*")


def retention_jobs(services: Services) -> list[JobSpec]:
    """Nightly, when PULSEBOT_RETENTION_MONTHS is set: delete what is older than that."""
    if services.settings.retention_months is None:
        return []
    return [
        JobSpec(
            id="prune_expired_data",
            func="bot.jobs:prune_expired_data",
            # At night, after the directory sync, when nobody is answering a survey.
            trigger=CronTrigger(hour=4, minute=10, timezone=services.settings.zone),
            # A night late is harmless: the next run deletes the same and a day more...
            misfire_grace_time=None,
            # ...once, however many nights were missed.
            coalesce=True,
            max_instances=1,
            # None: a missed night is caught up the next night, not at start-up.
        )
    ]


# Every job the scheduler runs comes from one of these. Survey schedules (one job per schedule,
# added, paused or removed with it) plug in as one more provider reading the schedules table.
JOB_PROVIDERS: list[JobProvider] = [
    core_jobs,
    survey_tick_jobs,
    deal_digest_jobs,
    oneonone_tick_jobs,
    retention_jobs,
]


def build_scheduler(
    services: Services,
    *,
    scheduler_class: type[BaseScheduler] = BackgroundScheduler,
    executor: BaseExecutor | None = None,
) -> BaseScheduler:
    """A scheduler (not started) whose jobs live in memory."""
    zone = services.settings.zone
    scheduler = scheduler_class(
        timezone=zone,
        # In memory: nothing is read back from the database, so nothing there runs as code.
        jobstores={"default": MemoryJobStore()},
        executors={"default": executor or ThreadPoolExecutor(max_workers=JOB_THREADS)},
    )

    def log_missed_run(event: JobExecutionEvent) -> None:
        # APScheduler logs this too, under its own name; ours says what happens next.
        say_missed(event.job_id, event.scheduled_run_time, zone)

    scheduler.add_listener(log_missed_run, EVENT_JOB_MISSED)
    scheduler.add_listener(
        metrics.count_job, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
    )
    return scheduler


def say_missed(job_id: str, run_time: datetime, zone: ZoneInfo) -> None:
    log.warning(
        "job %s missed its run at %s by more than its grace time; skipped until the next one",
        job_id,
        run_time.astimezone(zone).isoformat(timespec="minutes"),
    )


@dataclass
class Reconciliation:
    """What reconcile_jobs changed, by job id."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def wanted_jobs(services: Services, providers: Sequence[JobProvider]) -> dict[str, JobSpec]:
    wanted: dict[str, JobSpec] = {}
    for provider in providers:
        for spec in provider(services):
            if spec.id in wanted:
                raise ValueError(f"two jobs share the id {spec.id!r}")
            wanted[spec.id] = spec
    return wanted


def reconcile_jobs(
    scheduler: BaseScheduler,
    services: Services,
    providers: Sequence[JobProvider] = JOB_PROVIDERS,
) -> Reconciliation:
    """Make the scheduler hold exactly the wanted jobs, each once, by its stable id.

    On start the scheduler holds none, so every job is added; on a running scheduler an
    unchanged job is left alone with its next run. A job added or changed runs first at the
    run it missed (its `catch_up`), else by its trigger; a job nobody wants is removed.
    """
    if scheduler.state == STATE_STOPPED:
        raise RuntimeError("start the scheduler (paused) before reconciling its jobs")
    wanted = wanted_jobs(services, providers)
    held: dict[str, Job] = {job.id: job for job in scheduler.get_jobs()}
    result = Reconciliation()
    for job_id in sorted(held.keys() - wanted.keys()):
        scheduler.remove_job(job_id)
        result.removed.append(job_id)
    for spec in wanted.values():
        job = held.get(spec.id)
        if job is None or not spec.matches(job):
            _add(scheduler, spec, services)
            (result.added if job is None else result.replaced).append(spec.id)
        elif spec.paused and job.next_run_time is not None:
            scheduler.pause_job(spec.id)
            result.replaced.append(spec.id)
        elif not spec.paused and job.next_run_time is None:
            scheduler.resume_job(spec.id)
            result.replaced.append(spec.id)
        else:
            result.unchanged.append(spec.id)
    log.info(
        "scheduler jobs reconciled: %d added, %d replaced, %d removed, %d unchanged",
        len(result.added),
        len(result.replaced),
        len(result.removed),
        len(result.unchanged),
    )
    return result


def _add(scheduler: BaseScheduler, spec: JobSpec, services: Services) -> None:
    options: dict[str, Any] = {}
    if spec.paused:
        options["next_run_time"] = None
    elif (missed := _missed_run(spec, services)) is not None:
        options["next_run_time"] = missed
    scheduler.add_job(
        spec.func,
        trigger=spec.trigger,
        args=list(spec.args),
        id=spec.id,
        name=spec.id,
        misfire_grace_time=spec.misfire_grace_time,
        coalesce=spec.coalesce,
        max_instances=spec.max_instances,
        replace_existing=True,
        **options,
    )


def _missed_run(spec: JobSpec, services: Services) -> datetime | None:
    """The run `spec` missed while no instance was scheduling, if it may still happen."""
    if spec.catch_up is None:
        return None
    now = services.clock()
    missed = spec.catch_up(services, now)
    if missed is None or spec.misfire_grace_time is None:
        return missed
    if now - missed > timedelta(seconds=spec.misfire_grace_time):
        say_missed(spec.id, missed, services.settings.zone)
        return None
    return missed


def start_scheduler(services: Services, **build: Any) -> BaseScheduler:
    """Build, start and reconcile the scheduler; jobs run from when this returns."""
    scheduler = build_scheduler(services, **build)
    bind_services(services)
    # Paused while the jobs go in: if that fails half-way (the database down as the summary's
    # catch-up reads it), no job has run from half a list before the scheduler is shut down.
    scheduler.start(paused=True)
    try:
        reconcile_jobs(scheduler, services)
    except Exception:
        scheduler.shutdown(wait=False)
        raise
    scheduler.resume()
    return scheduler
