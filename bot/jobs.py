"""The scheduled jobs: module-level functions a job names (`bot.jobs:weekly_summary`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.delivery import deal_digests, oneonone_dms
from bot.delivery import survey_dms as survey_jobs
from bot.delivery.summary import (
    already_posted,
    compute_summary,
    post_summary,
    summary_destinations,
)
from bot.retention import apply_retention
from bot.services import Services
from bot.weeks import reported_week
from storage import requests as requests_store
from storage.scheduling import (
    IN_PROGRESS,
    claim_effect,
    effect_done,
    finish_effect,
    lapsed_effects_in_progress,
    release_effect,
    take_over_effect,
)

log = logging.getLogger(__name__)

# Slack retries a delivery within minutes; keys keep only their day (see bot.replays), so two
# days of them keep every key at least a day, which covers every retry with room to spare.
HANDLED_REQUEST_RETENTION = timedelta(days=2)

# A job body does the work at `now` and returns how many effects it had (0 when a twin already
# did them). Bodies take the Services as an argument, so tests call them with a chosen `now`.
JobBody = Callable[[Services, datetime], int]

# A job names its entry point as text, so the job list (bot.scheduler) is plain data that says
# what runs; the running Services (engine, client) are bound here when the scheduler starts,
# and every entry point reads them.
_bound: Services | None = None
_binding = threading.Lock()


def bind_services(services: Services | None) -> None:
    """Set (or, with None, clear) the Services every scheduled job uses in this process."""
    global _bound  # noqa: PLW0603 - the one registry the job entry points read
    with _binding:
        _bound = services


def bound_services() -> Services:
    with _binding:
        services = _bound
    if services is None:
        raise RuntimeError("no Services bound: jobs run inside a scheduler started by pulsebot")
    return services


def run_body(body: JobBody) -> int:
    """Run `body` with the bound Services at the current time."""
    services = bound_services()
    return body(services, services.clock())


# Entry points: what the jobs name. They take no arguments: everything comes from the Services.
# Surveys and deals add theirs here in the same two lines (see bot.scheduler's hook lists).


def prune_handled_requests() -> int:
    return run_body(prune_old_request_keys)


def sync_directory() -> int:
    return run_body(sync_user_directory)


def weekly_summary() -> int:
    return run_body(record_weekly_summary)


def finish_interrupted_summary() -> int:
    return run_body(finish_interrupted_summaries)


def send_deal_digests() -> int:
    return run_body(deal_digests.send_deal_digests)


def open_due_runs() -> int:
    return run_body(survey_jobs.open_due_runs)


def dispatch_due_deliveries() -> int:
    return run_body(survey_jobs.dispatch_due_deliveries)


def send_due_reminders() -> int:
    return run_body(survey_jobs.send_due_reminders)


def close_due_runs() -> int:
    return run_body(survey_jobs.close_due_runs)


def send_oneonone_reminders() -> int:
    return run_body(oneonone_dms.send_oneonone_reminders)


def prune_expired_data() -> int:
    return run_body(apply_retention_period)


# Bodies.


def take_over_lapsed(services: Services, now: datetime) -> int:
    """Every kind of work whose instance stopped renewing its lease (bot.leases): taken over,
    settled from Slack's DM history, and finished. Every instance runs it every few seconds;
    returns how many DMs and summaries it sent or finished."""
    done = survey_jobs.take_over_survey_dms(services, now)
    done += survey_jobs.take_over_reminders(services, now)
    done += survey_jobs.take_over_close_notices(services, now)
    done += deal_digests.take_over_digests(services, now)
    done += oneonone_dms.complete_lapsed_notices(services, now)
    done += finish_interrupted_summaries(services, now)
    services.leases.forget_the_long_gone(now)
    return done


def prune_old_request_keys(services: Services, now: datetime) -> int:
    """Forget handled-request keys older than any Slack retry; running twice removes nothing new."""
    with services.db.transaction() as session:
        removed = requests_store.prune_handled_requests(session, now - HANDLED_REQUEST_RETENTION)
    log.info("pruned %d handled-request keys", removed)
    return removed


def apply_retention_period(services: Services, now: datetime) -> int:
    """Delete what PULSEBOT_RETENTION_MONTHS no longer keeps; a second run finds nothing."""
    months = services.settings.retention_months
    if months is None:
        return 0
    return apply_retention(services.db, now, months).total


def sync_user_directory(services: Services, now: datetime) -> int:
    """Refresh the directory from Slack; an upsert, so running twice stores the same rows."""
    return services.directory.sync()


def summary_key(now: datetime, zone: ZoneInfo) -> str:
    """The weekly summary's unique key: the ISO week in the workspace time zone."""
    year, week, _ = now.astimezone(zone).isocalendar()
    return f"summary:{year}-W{week:02d}"


def record_weekly_summary(services: Services, now: datetime) -> int:
    """Post this week's summary once, however often the job fires.

    The week's key is claimed in progress (and committed, under this instance's lease:
    bot.leases) before posting, and recorded done after. If posting fails, the claim is
    released so a later firing retries. If the process dies in between, its lease lapses and
    finish_interrupted_summaries completes it: each message carries the week's key, so a
    destination that got it before the crash does not get it twice.
    """
    zone = services.settings.zone
    key = summary_key(now, zone)
    destinations = summary_destinations(services)
    leases = services.leases
    with services.db.transaction() as session:
        leases.claiming(session, now)
        done = effect_done(session, key)
        first = not done and claim_effect(session, key + IN_PROGRESS, now, instance=leases.instance)
    if done:
        log.info("weekly summary %s was already done; nothing to do", key)
        return 0
    if not first:
        log.info("weekly summary %s is in progress (or was interrupted); nothing to do", key)
        return 0
    if not destinations:
        with services.db.transaction() as session:
            finish_effect(session, key, now)
        log.warning(
            "weekly summary %s recorded but not posted: set PULSEBOT_MANAGERS_CHANNEL or "
            "PULSEBOT_MANAGERS",
            key,
        )
        return 1
    try:
        summary = compute_summary(services, reported_week(now, zone), now)
        posted = post_summary(services, summary, destinations, key=key)
    except Exception:
        with services.db.transaction() as session:
            release_effect(session, key + IN_PROGRESS)
        log.exception("weekly summary %s failed; released, so the next firing retries", key)
        raise
    with services.db.transaction() as session:
        finish_effect(session, key, now)
    log.info("weekly summary %s recorded: posted %d time(s)", key, len(posted))
    return 1


def finish_interrupted_summaries(services: Services, now: datetime) -> int:
    """Complete a summary whose poster died after claiming it (its lease lapsed): posted
    where it is missing.

    Each destination's recent messages are searched for the week's key first; where Slack
    cannot say, nothing is posted (a duplicate is worse than a gap `/pulse summary` fills).
    """
    zone = services.settings.zone
    leases = services.leases
    with services.db.transaction() as session:
        interrupted = lapsed_effects_in_progress(session, "summary:", leases.cutoff(now))
    finished = 0
    for key, claimed_at, owner in interrupted:
        with services.db.transaction() as session:
            leases.claiming(session, now)
            if not take_over_effect(session, key, owner, leases.instance, now):
                continue  # another instance took it
        destinations = summary_destinations(services)
        missing = [d for d in destinations if already_posted(services, d, key) is False]
        if missing:
            summary = compute_summary(services, reported_week(claimed_at, zone), now)
            post_summary(services, summary, missing, key=key)
        with services.db.transaction() as session:
            finish_effect(session, key, now)
        log.warning(
            "weekly summary %s was interrupted; finished it: posted to %d of %d destinations",
            key,
            len(missing),
            len(destinations),
        )
        finished += 1
    return finished
