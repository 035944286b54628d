"""Survey DMs: the scheduler's survey jobs, every minute; each takes `(services, now)` and
returns a count. They ask Slack who is in an audience, render with bot.views and post.

- `open_due_runs`: one run per due scheduled occurrence (unique key), then the DM rows of every
  run whose audience is not yet known (also runs opened by `/pulse start`).
- `dispatch_due_deliveries`: sends due DMs; a row is claimed (`sending`, under this instance's
  lease: bot.leases) before the Slack call and marked `sent` right after it, so a crash resumes
  without a second DM: `take_over_survey_dms` settles a dead sender's claims within seconds.
- `send_due_reminders`: the one reminder, to people who have not answered.
- `close_due_runs`: closes runs at their deadline and updates unanswered DMs.

Running a job twice, or in two instances at once, does nothing twice.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.directory import UserRecord
from bot.i18n import Language, Texts
from bot.services import Services
from bot.slack_client import find_message_by_metadata
from bot.surveys.schedule import (
    Audience,
    last_delivery,
)
from bot.surveys.service import (
    definition_of,
    local_send_time,
    reminder_moment,
)
from bot.views.common import when
from bot.views.surveys import (
    answered_dm,
    closed_dm,
    enps_answered_dm,
    reminder_dm,
    survey_dm,
    survey_title,
)
from storage import surveys as store
from storage.scheduling import (
    IN_PROGRESS,
    claim_effect,
    lapsed_effects_in_progress,
    release_effect,
    take_over_effect,
)
from storage.surveys import FAILED, SENT, DeliveryRecord, RunRecord

log = logging.getLogger(__name__)

CLAIM_BATCH = 20
# Slack answers these for people who cannot get a DM: retrying would not help.
UNDELIVERABLE = frozenset(
    {
        "user_not_found",
        "cannot_dm_bot",
        "is_archived",
        "channel_not_found",
        "user_disabled",
        "account_inactive",
        "not_allowed_token_type",
    }
)
METADATA_EVENT = "pulsebot_survey_dm"


# ---- opening -------------------------------------------------------------------------------


def open_due_runs(services: Services, now: datetime) -> int:
    """Open the run of every occurrence that someone, somewhere, is due (see
    SurveyService.open_due_occurrences), then make the DM rows of every run whose audience is
    not yet known (also runs opened by `/pulse start`); returns runs created."""
    opened, skipped = services.surveys.open_due_occurrences(now)
    for occurrence in skipped:
        log.info(
            "survey %s: the occurrence of %s is skipped, run %d is open until %s",
            occurrence.survey,
            occurrence.occurrence.isoformat(),
            occurrence.open_run,
            occurrence.open_until.isoformat(),
        )
    resolve_audiences(services, now)
    refresh_audiences(services, now)
    services.surveys.backfill_invitees()
    return opened


def audience_members(services: Services, audience: Audience) -> list[UserRecord]:
    """People to survey: no bots, no deactivated users, no guests."""
    directory = services.directory
    if audience.everyone:
        directory.sync()  # new hires and departures since the last run
        return [user for user in directory.all_users() if user.is_person]
    ids: dict[str, None] = dict.fromkeys(audience.users)
    for channel in audience.channels:
        for member in _channel_members(services, channel):
            ids.setdefault(member)
    people = [directory.get(user_id) for user_id in ids]
    return [user for user in people if user.is_person]


def _channel_members(services: Services, channel: str) -> Iterator[str]:
    cursor: str | None = None
    while True:
        page = services.client.conversations_members(channel=channel, cursor=cursor, limit=200)
        yield from page.get("members") or []
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return


def _segment_members(services: Services, channel: str) -> set[str]:
    """A team channel's members; none when Slack will not say (the DMs must go out anyway)."""
    try:
        return set(_channel_members(services, channel))
    except SlackApiError as exc:
        log.warning("segment channel %s not read: %s", channel, exc.response.get("error"))
        return set()


def resolve_audiences(services: Services, now: datetime) -> int:
    """Turn each new run's audience into delivery rows; returns how many rows were made."""
    made = 0
    with services.db.transaction() as session:
        runs = store.unresolved_runs(session)
    for run in runs:
        made += _invite(services, run, first=True)
        if run.at_time:
            with services.db.transaction() as session:
                claim_effect(session, store.audience_refresh_key(run.id, now), now)
    return made


def refresh_audiences(services: Services, now: datetime) -> int:
    """Once an hour, look a scheduled run's audience up again while its day lasts somewhere.

    People who joined the team or the channel since the run was created get their DM at the
    run's time in their own zone, or at once when that moment has passed for them. The hour's
    key makes a second firing (or instance) in the same hour do nothing.
    """
    made = 0
    with services.db.transaction() as session:
        runs = store.resolved_open_runs(session)
    for run in runs:
        if not run.at_time or now > last_delivery(run.local_date, run.at_time):
            continue
        with services.db.transaction() as session:
            if not claim_effect(session, store.audience_refresh_key(run.id, now), now):
                continue
        made += _invite(services, run)
    return made


def _invite(services: Services, run: RunRecord, *, first: bool = False) -> int:
    """Delivery rows for the run's audience: each person's DM at the run's time in their zone,
    filed under their team when teams are configured. On the `first` look, a run whose
    audience is smaller than the threshold is dropped instead."""
    fallback = services.settings.timezone
    people = audience_members(services, Audience.from_json(run.audience))
    if first and services.surveys.cancel_small_run(run, len(people)):
        log.warning(
            "survey run %d dropped before any DM: its audience has %d people, fewer than "
            "PULSEBOT_MIN_RESPONSES (%d)",
            run.id,
            len(people),
            services.settings.min_responses,
        )
        return 0
    rows = [
        (
            user.user_id,
            services.directory.language(user),
            local_send_time(run, user.tz or "", fallback),
        )
        for user in people
    ]
    segments = audience_segments(services, [user.user_id for user in people])
    return services.surveys.invite(run, rows, segments)


def audience_segments(services: Services, people: list[str]) -> dict[str, str | None]:
    """Each person's team: the first channel of PULSEBOT_SEGMENT_CHANNELS they are in.

    A team with fewer people in the audience than PULSEBOT_MIN_RESPONSES is not recorded at
    all (None, like people in no team): its label on an answer could point at someone.
    """
    channels = services.settings.segment_channels
    if not channels:
        return {}
    members = {channel: _segment_members(services, channel) for channel in channels}
    found = {person: next((c for c in channels if person in members[c]), None) for person in people}
    sizes = Counter(found.values())
    minimum = services.settings.min_responses
    return {
        person: segment if segment is not None and sizes[segment] >= minimum else None
        for person, segment in found.items()
    }


# ---- sending -------------------------------------------------------------------------------


def dispatch_due_deliveries(services: Services, now: datetime, *, run_id: int | None = None) -> int:
    """Send every due DM; returns how many were sent.

    A delivery is `sending` (claimed, in a batch) before its chat.postMessage and `sent` after
    it. The `sent` marks of a batch are written together, in the transaction that claims the
    next batch: one transaction per CLAIM_BATCH DMs instead of one per DM. A crash in between
    leaves only that batch `sending`, as a crash mid-post always did; once the sender's lease
    lapses, take_over_deliveries settles each of them from the DM itself (its metadata names
    the delivery): no DM twice. A sender that stops (or cannot renew its lease) stops between
    two DMs and leaves the rest of its batch to be taken over.
    """
    take_over_deliveries(services, now)
    leases = services.leases
    blocks_cache: dict[tuple[int, str], tuple[str, list[dict[str, Any]]]] = {}
    runs: dict[int, RunRecord] = {}
    outcomes: list[tuple[int, str, str | None, str | None]] = []
    sent = 0
    while True:
        with services.db.transaction() as session:
            store.finish_deliveries(session, outcomes)
            outcomes = []
            if not leases.holds():
                return sent  # stopping: nothing more is claimed
            leases.claiming(session, now)
            batch = store.claim_deliveries(
                session, now, CLAIM_BATCH, run_id, instance=leases.instance
            )
            for delivery in batch:
                if delivery.run_id not in runs:
                    run = store.get_run(session, delivery.run_id)
                    assert run is not None
                    runs[delivery.run_id] = run
        if not batch:
            return sent
        for index, delivery in enumerate(batch):
            if not leases.holds():
                if leases.stopping.is_set():
                    # The rest stay claimed, handed back with the lease as the instance stops:
                    # another instance takes them over at once.
                    _settle(services, outcomes, [])
                else:  # the lease could not be renewed: unsent, so simply back to pending
                    _settle(services, outcomes, [d.id for d in batch[index:]])
                return sent
            run = runs[delivery.run_id]
            key = (run.id, delivery.language)
            if key not in blocks_cache:
                texts = Texts(delivery.language)  # type: ignore[arg-type]
                definition = definition_of(run)
                blocks = survey_dm(texts, run.id, definition, run.closes_at)
                blocks_cache[key] = (
                    texts("pulse.dm.fallback", title=survey_title(texts, definition)),
                    [block.to_dict() for block in blocks],
                )
            text, blocks_json = blocks_cache[key]
            try:
                # To the user id itself: Slack opens the app's DM without conversations.open,
                # whose rate limit is far stricter than chat.postMessage's.
                response = services.client.chat_postMessage(
                    channel=delivery.user_id,
                    text=text,
                    blocks=blocks_json,
                    metadata={
                        "event_type": METADATA_EVENT,
                        "event_payload": {"delivery": delivery.id, "run": run.id},
                    },
                )
            except SlackApiError as exc:
                error = str(exc.response.get("error"))
                if error in UNDELIVERABLE:
                    log.info("survey DM undeliverable (%s)", error)
                    outcomes.append((delivery.id, FAILED, None, None))
                    continue
                _settle(services, outcomes, [d.id for d in batch[index:]])
                log.warning("survey DMs paused after a Slack error: %s", error)
                return sent
            except Exception:
                _settle(services, outcomes, [d.id for d in batch[index:]])
                raise
            outcomes.append((delivery.id, SENT, response.get("channel"), response.get("ts")))
            sent += 1


def _settle(
    services: Services,
    outcomes: list[tuple[int, str, str | None, str | None]],
    unsent: list[int],
) -> None:
    """Record what was sent, and give back what was not, when a fan-out stops early."""
    with services.db.transaction() as session:
        store.finish_deliveries(session, outcomes)
        for delivery_id in unsent:
            store.release_delivery(session, delivery_id)


def take_over_deliveries(services: Services, now: datetime) -> set[int]:
    """Settle the DMs claimed under a lapsed lease (their sender died): marked sent when the
    person's DM history holds them, else back to pending. Returns the runs concerned."""
    leases = services.leases
    with services.db.transaction() as session:
        lapsed = store.lapsed_sending(session, leases.cutoff(now))
    runs: set[int] = set()
    for delivery, owner in lapsed:
        with services.db.transaction() as session:
            leases.claiming(session, now)
            if not store.take_over_delivery(session, delivery.id, owner, leases.instance, now):
                continue  # another instance took it
        try:
            found = _find_sent_dm(services, delivery.user_id, delivery.id)
        except SlackApiError as exc:
            log.warning("cannot check a survey DM taken over yet: %s", exc.response.get("error"))
            with services.db.transaction() as session:
                store.hand_back_delivery(session, delivery.id)  # tried again a lease later
            continue
        with services.db.transaction() as session:
            if found is None:
                store.release_delivery(session, delivery.id)
            else:
                store.finish_delivery(session, delivery.id, SENT, found[0], found[1])
        runs.add(delivery.run_id)
    return runs


def take_over_survey_dms(services: Services, now: datetime) -> int:
    """Settle a dead sender's claims, then finish its fan-outs; returns DMs sent."""
    return sum(
        dispatch_due_deliveries(services, now, run_id=run_id)
        for run_id in sorted(take_over_deliveries(services, now))
    )


def _find_sent_dm(services: Services, user_id: str, delivery_id: int) -> tuple[str, str] | None:
    found = find_message_by_metadata(
        services.client,
        user_id,
        METADATA_EVENT,
        lambda payload: payload.get("delivery") == delivery_id,
    )
    return None if found is None else (found.channel, found.ts)


# ---- reminding and closing ---------------------------------------------------------------------


# A run's reminder pass and its close notices are claimed as a whole, under the sender's lease
# (bot.leases), with these scheduled-effect keys in progress: `survey-reminders:<run>`.
REMINDERS_KEY = "survey-reminders:"
CLOSE_NOTICES_KEY = "survey-close-notices:"
REMINDER_EVENT = "pulsebot_survey_reminder"  # message metadata: how a reminder is found again


def _claim_pass(services: Services, key: str, now: datetime) -> bool:
    """Claim a run's pass under this instance's lease; False when another instance has it."""
    leases = services.leases
    if not leases.holds():
        return False
    with services.db.transaction() as session:
        leases.claiming(session, now)
        return claim_effect(session, key + IN_PROGRESS, now, instance=leases.instance)


def _end_pass(services: Services, key: str) -> None:
    with services.db.transaction() as session:
        release_effect(session, key + IN_PROGRESS)


def send_due_reminders(services: Services, now: datetime) -> int:
    """One reminder per person who has not answered, by the bot, each at their own
    `reminder_moment`; never listed anywhere.

    Everyone whose moment has come is marked handled at once, whether they answered (no DM)
    or not (a DM): the database keeps no trace of which. The pass is claimed first, under
    this instance's lease: if the instance dies half-way, take_over_reminders finishes it
    from each person's DM history, so no reminder is lost or doubled.
    """
    reminded = 0
    with services.db.transaction() as session:
        runs = store.runs_to_remind(session, now)
    for run in runs:
        key = f"{REMINDERS_KEY}{run.id}"
        if not _claim_pass(services, key, now):
            continue  # another instance is reminding (or a dead one, taken over shortly)
        try:
            reminded += _remind(services, run, now)
        finally:
            _end_pass(services, key)
    return reminded


def _remind(services: Services, run: RunRecord, now: datetime) -> int:
    with services.db.transaction() as session:
        unsent = store.unsent_count(session, run.id)
        waiting = store.sent_deliveries(session, run.id, flag="reminder_handled")
    due = [d for d in waiting if reminder_moment(run, d.sent_at) <= now]
    answered = services.surveys.answered_among(run.id, [d.user_id for d in due])
    with services.db.transaction() as session:
        store.flag_deliveries(session, [d.id for d in due], "reminder_handled")
    reminded = _send_reminders(services, run, [d for d in due if d.user_id not in answered])
    if unsent or len(due) < len(waiting):  # someone's DM or reminder time is still to come
        return reminded
    with services.db.transaction() as session:
        store.mark_run(session, run.id, reminders_done=True)
    return reminded


def _send_reminders(services: Services, run: RunRecord, people: list[DeliveryRecord]) -> int:
    definition = definition_of(run)
    reminded = 0
    for delivery in people:
        texts = Texts(delivery.language)  # type: ignore[arg-type]
        try:
            services.client.chat_postMessage(
                channel=delivery.user_id,
                text=texts("pulse.dm.reminder_fallback", title=survey_title(texts, definition)),
                blocks=reminder_dm(texts, definition, run.closes_at),
                metadata={"event_type": REMINDER_EVENT, "event_payload": {"run": run.id}},
            )
            reminded += 1
        except SlackApiError as exc:
            log.warning("survey reminder not sent: %s", exc.response.get("error"))
    return reminded


def take_over_reminders(services: Services, now: datetime) -> int:
    """Reminder passes whose instance died (lease lapsed): everyone marked handled who has not
    answered and has no reminder in their DM gets it now; returns reminders sent."""
    reminded = 0
    taken = _take_over_passes(services, REMINDERS_KEY, now)
    for run_id, key in taken:
        with services.db.transaction() as session:
            run = store.get_run(session, run_id)
            handled = _flagged(session, run_id, "reminder_handled")
        if run is not None and run.status == store.RUN_OPEN:
            answered = services.surveys.answered_among(run_id, [d.user_id for d in handled])
            missing = []
            for delivery in handled:
                if delivery.user_id in answered:
                    continue
                try:
                    found = find_message_by_metadata(
                        services.client,
                        delivery.user_id,
                        REMINDER_EVENT,
                        lambda payload: payload.get("run") == run_id,  # noqa: B023 (called at once)
                    )
                except SlackApiError as exc:
                    log.warning("cannot check a reminder: %s", exc.response.get("error"))
                    continue  # a duplicate is worse than a gap
                if found is None:
                    missing.append(delivery)
            reminded += _send_reminders(services, run, missing)
        _end_pass(services, key)
    return reminded + (send_due_reminders(services, now) if taken else 0)


def _flagged(session: Session, run_id: int, flag: str) -> list[DeliveryRecord]:
    """The run's sent DMs already marked with `flag` (reminder or close handled)."""
    unflagged = {d.id for d in store.sent_deliveries(session, run_id, flag=flag)}
    return [d for d in store.sent_deliveries(session, run_id) if d.id not in unflagged]


def _take_over_passes(services: Services, prefix: str, now: datetime) -> list[tuple[int, str]]:
    """(run id, key) of the passes under `prefix` whose lease lapsed, now this instance's."""
    leases = services.leases
    with services.db.transaction() as session:
        lapsed = lapsed_effects_in_progress(session, prefix, leases.cutoff(now))
    taken: list[tuple[int, str]] = []
    for key, _claimed_at, owner in lapsed:
        with services.db.transaction() as session:
            leases.claiming(session, now)
            if take_over_effect(session, key, owner, leases.instance, now):
                taken.append((int(key.removeprefix(prefix)), key))
    return taken


def close_due_runs(services: Services, now: datetime) -> int:
    """Close runs past their deadline, release their results, and update everyone's DM;
    returns runs closed."""
    closed = services.surveys.close_due_runs(now)
    after_close(services)
    return closed


def after_close(services: Services) -> None:
    """What follows a close: the results released, the DMs updated."""
    services.surveys.release_closed_runs()
    send_close_notices(services)


def send_close_notices(services: Services) -> int:
    """Update every DM of a closed run, once: it no longer takes answers. Everyone's row is
    marked at once, so the database keeps no trace of who had answered. The pass is claimed
    first, under this instance's lease: if the instance dies half-way, take_over_close_notices
    updates the run's DMs again (an update is harmless to repeat)."""
    updated = 0
    now = services.clock()
    with services.db.transaction() as session:
        runs = store.runs_with_pending_close_notices(session)
    for run in runs:
        key = f"{CLOSE_NOTICES_KEY}{run.id}"
        if not _claim_pass(services, key, now):
            continue
        try:
            updated += _close_notices(services, run)
        finally:
            _end_pass(services, key)
    return updated


def _close_notices(services: Services, run: RunRecord) -> int:
    with services.db.transaction() as session:
        in_flight = store.sending_count(session, run.id)
        pending = store.sent_deliveries(session, run.id, flag="close_handled")
    with services.db.transaction() as session:
        store.flag_deliveries(session, [d.id for d in pending], "close_handled")
    updated = _update_closed(services, run, pending)
    if not in_flight:  # otherwise their `sent` mark is still to come: updated next time
        with services.db.transaction() as session:
            store.mark_run(session, run.id, closed_notices_done=True)
    return updated


def _update_closed(services: Services, run: RunRecord, deliveries: list[DeliveryRecord]) -> int:
    definition = definition_of(run)
    answered = services.surveys.answered_among(run.id, [d.user_id for d in deliveries])
    updated = 0
    for delivery in deliveries:
        if not (delivery.channel_id and delivery.message_ts):
            continue
        texts = Texts(delivery.language)  # type: ignore[arg-type]
        thanked = delivery.user_id in answered
        try:
            services.client.chat_update(
                channel=delivery.channel_id,
                ts=delivery.message_ts,
                text=texts("pulse.dm.closed_fallback"),
                blocks=closed_dm(texts, definition, answered=thanked),
            )
        except SlackApiError as exc:
            log.warning("closed survey DM not updated: %s", exc.response.get("error"))
        updated += 1
    return updated


def take_over_close_notices(services: Services, now: datetime) -> int:
    """Close-notice passes whose instance died (lease lapsed): every DM of the run marked
    handled is updated again, then the rest; returns DMs updated."""
    updated = 0
    taken = _take_over_passes(services, CLOSE_NOTICES_KEY, now)
    for run_id, key in taken:
        with services.db.transaction() as session:
            run = store.get_run(session, run_id)
            handled = _flagged(session, run_id, "close_handled")
        if run is not None:
            updated += _update_closed(services, run, handled)
        _end_pass(services, key)
    return updated + (send_close_notices(services) if taken else 0)


def send_close_notices_soon(services: Services, *, patience: float = 30.0) -> int:
    """After `/pulse close`: the close notices, waiting for DMs still in flight (their sender
    marks them sent a batch at a time) rather than leaving them to the next minute's job."""
    deadline = time.monotonic() + patience
    services.surveys.release_closed_runs()
    updated = send_close_notices(services)
    while time.monotonic() < deadline:
        with services.db.transaction() as session:
            if not store.runs_with_pending_close_notices(session):
                break
        time.sleep(0.05)
        updated += send_close_notices(services)
    return updated


# ---- a person's own DM, after their click ------------------------------------------------------


def dm_lane(run_id: int, user_id: str) -> str:
    """Updates of one person's survey DM go in the order of their clicks: the newest shows."""
    return f"dm:{run_id}:{user_id}"


def update_dm(services: Services, channel: str, ts: str, text: str, blocks: list[Any]) -> None:
    """Edit a survey DM; a DM Slack no longer has is logged, not an error of the bot."""
    try:
        services.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        log.warning("survey DM not updated: %s", exc.response.get("error"))


def dm_of(
    services: Services, run_id: int, user_id: str, channel: str | None, ts: str | None
) -> tuple[str, str] | None:
    """The DM to update: the message clicked (or the one a form was opened from), else the
    run's DM found in the person's DM history by its metadata. Never from the database: a
    lookup by the person's id beside their answer would tie the two in its statement log."""
    if channel and ts:
        return channel, ts
    try:
        found = find_message_by_metadata(
            services.client, user_id, METADATA_EVENT, lambda p: p.get("run") == run_id
        )
    except SlackApiError as exc:
        log.warning("survey DM not found: %s", exc.response.get("error"))
        return None
    return None if found is None else (found.channel, found.ts)


def show_enps_answered(
    services: Services,
    *,
    run_id: int,
    user_id: str,
    language: Language,
    channel: str | None,
    ts: str | None,
) -> None:
    """After a one-click eNPS answer: the DM says so, with a button to change it."""
    texts = Texts(language)
    # The answer was just accepted, so the run was open: its cached facts are current.
    facts = services.surveys.definitions.facts(run_id)
    where = dm_of(services, run_id, user_id, channel, ts)
    if facts is None or where is None:
        return
    closes_at = facts.closes_at
    blocks = enps_answered_dm(texts, run_id, facts.definition, closes_at)
    text = texts("pulse.dm.thanks_until", closes=when(texts, closes_at))
    update_dm(services, where[0], where[1], text, blocks)


def show_answered(
    services: Services,
    *,
    run_id: int,
    user_id: str,
    language: Language,
    dm: tuple[str, str] | None,
) -> None:
    """After the answers form: the DM says they were recorded."""
    texts = Texts(language)
    run = services.surveys.get_run(run_id)
    definition = services.surveys.definitions.get(run_id)
    where = dm_of(services, run_id, user_id, *(dm or (None, None)))
    if run is None or definition is None or where is None:
        return
    text = texts("pulse.dm.thanks_until", closes=when(texts, run.closes_at))
    blocks = answered_dm(texts, run_id, definition, run.closes_at)
    update_dm(services, where[0], where[1], text, blocks)
