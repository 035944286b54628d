"""The 1:1 tick, every minute: meetings whose time came are held, and each meeting's three DMs
(the agenda the day before, a reminder an hour before, the outcomes prompt after) go once.

Each DM is claimed by setting its marker column in a committed transaction before Slack is
called, so a tick that fires twice, or two instances ticking at once, send it once. A crash
between the claim and the send loses that DM rather than risking two (as the weekly summary).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.i18n import Texts
from bot.oneonones import service
from bot.services import Services
from bot.views import oneonones as views
from storage import oneonones as store
from storage.oneonones import HELD, SCHEDULED, Notice, OccurrenceRecord, SeriesRecord

log = logging.getLogger(__name__)

DAY_BEFORE = timedelta(hours=24)
HOUR_BEFORE = timedelta(hours=1)
# After a long outage, an outcomes prompt for a meeting older than this is no longer useful.
AFTER_PATIENCE = timedelta(hours=24)


def send_oneonone_reminders(services: Services, now: datetime) -> int:
    """Everything due up to `now`; returns how many DMs were sent."""
    db = services.db
    service.hold_started(db, now)
    sent = 0
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
    with services.db.transaction() as session:
        if not store.claim_notice(session, occurrence.id, notice, now):
            return 0  # a twin tick has it
        series = store.get_series(session, occurrence.series_id)
        agenda = store.agenda(session, occurrence.series_id)
    if series is None or series.cancelled_at is not None:
        return 0
    sent = 0
    for reader_id in (series.manager_id, series.person_id):
        text, blocks = _render(
            services, notice, series, occurrence, agenda=agenda, reader_id=reader_id
        )
        try:
            services.client.chat_postMessage(channel=reader_id, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("1:1 %s DM not sent: %s", notice, exc.response.get("error"))
            continue
        sent += 1
    return sent


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
