"""The 1:1 tick, every minute: meetings whose time came are held, and each meeting's three DMs
(the agenda the day before, a reminder an hour before, the outcomes prompt after) go once.

Each DM is claimed by setting its marker column in a committed transaction before Slack is
called, so a tick that fires twice, or two instances ticking at once, send it once; it is
marked done once both people have it. The claim is a lease of the instance that made it
(bot.leases): when that instance dies, or Slack refused one of the two, it lapses and is
completed once, within seconds: each person's DM history, where every such DM carries its
occurrence and notice in its metadata, tells who still needs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.i18n import Texts
from bot.services import Services
from bot.slack_client import find_message_by_metadata
from bot.views import oneonones as views
from storage import oneonones as store
from storage.oneonones import HELD, SCHEDULED, Notice, OccurrenceRecord, SeriesRecord

log = logging.getLogger(__name__)

DAY_BEFORE = timedelta(hours=24)
HOUR_BEFORE = timedelta(hours=1)
# After a long outage, an outcomes prompt for a meeting older than this is no longer useful.
AFTER_PATIENCE = timedelta(hours=24)
NOTICE_EVENT = "pulsebot_oneonone_dm"  # message metadata: how a sent 1:1 DM is found again


def send_oneonone_reminders(services: Services, now: datetime) -> int:
    """Everything due up to `now`; returns how many DMs were sent."""
    db = services.db
    services.oneonones.hold_started(now)
    sent = complete_lapsed_notices(services, now)
    with db.transaction() as session:
        day_before = store.due_for(
            session,
            "day_before",
            status=SCHEDULED,
            by_end=False,
            after=now + HOUR_BEFORE,
            before=now + DAY_BEFORE,
        )
        hour_before = store.due_for(
            session,
            "hour_before",
            status=SCHEDULED,
            by_end=False,
            after=now,
            before=now + HOUR_BEFORE,
        )
        after = store.due_for(
            session, "after", status=HELD, by_end=True, after=now - AFTER_PATIENCE, before=now
        )
    for occurrence in day_before:
        sent += _notify(services, occurrence, "day_before", now)
    for occurrence in hour_before:
        sent += _notify(services, occurrence, "hour_before", now)
    for occurrence in after:
        sent += _notify(services, occurrence, "after", now)
    return sent


def _notify(services: Services, occurrence: OccurrenceRecord, notice: Notice, now: datetime) -> int:
    leases = services.leases
    if not leases.holds():
        return 0  # stopping: nothing more is claimed
    with services.db.transaction() as session:
        leases.claiming(session, now)
        if not store.claim_notice(session, occurrence.id, notice, now, instance=leases.instance):
            return 0  # a twin tick has it
        series = store.get_series(session, occurrence.series_id)
        agenda = store.agenda(session, occurrence.series_id)
    if series is None or series.cancelled_at is not None:
        return 0
    sent = sum(
        _send(services, notice, series, occurrence, agenda=agenda, reader_id=reader_id)
        for reader_id in (series.manager_id, series.person_id)
    )
    with services.db.transaction() as session:
        if sent == 2:
            store.finish_notice(session, occurrence.id, notice, now)
        else:  # complete_lapsed_notices tries the missing one again, once, a lease later
            store.hand_back_notice(session, occurrence.id, notice)
    return sent


def _send(
    services: Services,
    notice: Notice,
    series: SeriesRecord,
    occurrence: OccurrenceRecord,
    *,
    agenda: list[store.TopicRecord],
    reader_id: str,
) -> int:
    text, blocks = _render(services, notice, series, occurrence, agenda=agenda, reader_id=reader_id)
    try:
        services.client.chat_postMessage(
            channel=reader_id,
            text=text,
            blocks=blocks,
            metadata={
                "event_type": NOTICE_EVENT,
                "event_payload": {"occurrence": occurrence.id, "notice": notice},
            },
        )
    except SlackApiError as exc:
        log.warning("1:1 %s DM not sent: %s", notice, exc.response.get("error"))
        return 0
    return 1


def complete_lapsed_notices(services: Services, now: datetime) -> int:
    """Send the DMs of claims whose lease lapsed to whoever does not have them yet, then mark
    the claims done either way: one more try, not a loop against a Slack that keeps refusing."""
    leases = services.leases
    with services.db.transaction() as session:
        interrupted = store.lapsed_notices(
            session, claimed_after=now - AFTER_PATIENCE, cutoff=leases.cutoff(now)
        )
    sent = 0
    for occurrence, notice, owner in interrupted:
        with services.db.transaction() as session:
            leases.claiming(session, now)
            if not store.take_over_notice(
                session,
                occurrence.id,
                notice,
                previous_owner=owner,
                instance=leases.instance,
                now=now,
            ):
                continue  # another instance took it
        sent += _complete(services, occurrence, notice, now)
        with services.db.transaction() as session:
            store.finish_notice(session, occurrence.id, notice, now)
    return sent


def _complete(
    services: Services, occurrence: OccurrenceRecord, notice: Notice, now: datetime
) -> int:
    # A reminder after the meeting began, or a prompt a day late, helps nobody.
    timely = (
        occurrence.ends_at > now - AFTER_PATIENCE
        if notice == "after"
        else occurrence.starts_at > now
    )
    if not timely:
        return 0
    with services.db.transaction() as session:
        series = store.get_series(session, occurrence.series_id)
        agenda = store.agenda(session, occurrence.series_id)
    if series is None or series.cancelled_at is not None:
        return 0
    sent = 0
    for reader_id in (series.manager_id, series.person_id):
        try:
            found = find_message_by_metadata(
                services.client, reader_id, NOTICE_EVENT, _is_notice(occurrence.id, notice)
            )
        except SlackApiError as exc:
            log.warning("cannot check an interrupted 1:1 DM: %s", exc.response.get("error"))
            continue
        if found is None:
            sent += _send(services, notice, series, occurrence, agenda=agenda, reader_id=reader_id)
    return sent


def _is_notice(occurrence_id: int, notice: Notice) -> Callable[[dict[str, Any]], bool]:
    return lambda payload: (
        payload.get("occurrence") == occurrence_id and payload.get("notice") == notice
    )


def _render(
    services: Services,
    notice: Notice,
    series: SeriesRecord,
    occurrence: OccurrenceRecord,
    *,
    agenda: list[store.TopicRecord],
    reader_id: str,
) -> tuple[str, list[Block]]:
    reader = services.directory.get(reader_id)
    texts = Texts(services.directory.language(reader))
    zone = reader.zone(services.settings.zone)
    if notice == "day_before":
        return views.day_before_dm(
            texts, series, occurrence, agenda=agenda, viewer_id=reader_id, zone=zone
        )
    if notice == "hour_before":
        return views.hour_before_dm(
            texts, series, occurrence, agenda_size=len(agenda), viewer_id=reader_id, zone=zone
        )
    return views.after_dm(texts, series, occurrence, reader_id)
