"""Timely action: one 09:00 digest per owner with their stale deals and the next steps due."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from sqlalchemy import update

from bot.i18n import Texts
from bot.services import Services
from bot.views.deals import stale_digest
from storage import deals as store
from storage.deals import Deal

log = logging.getLogger(__name__)

DIGEST_HOUR = 9
# A deal already in a digest is left alone for this long, however stale it stays.
RENAG_AFTER = timedelta(days=3)


def send_deal_digests(services: Services, now: datetime) -> int:
    """DM each owner whose local time has reached 09:00 today, once a day; returns DMs sent.

    Safe to run as often as wanted: the (owner, local day) claim makes the DM go once.
    """
    pipeline = services.deals.pipeline
    stale_days = pipeline.stale_days
    with services.db.transaction() as session:
        owners = store.owners_with_work(session, stale_days, now, (now + timedelta(days=1)).date())
    sent = 0
    for owner_id in owners:
        user = services.directory.get(owner_id)
        if not user.is_person:
            continue
        local = now.astimezone(user.zone(services.settings.zone))
        if local.hour < DIGEST_HOUR:
            continue
        today = local.date()
        with services.db.transaction() as session:
            if not store.claim_owner_nudge(session, owner_id, today):
                continue
            stale = [
                deal
                for deal in store.stale_deals(session, stale_days, now, owner_id=owner_id)
                if deal.last_nudged_at is None or now - deal.last_nudged_at >= RENAG_AFTER
            ]
            due = store.due_next_steps(session, owner_id, pipeline.open_names, today)
            stale_views = [services.deals.view(d, now) for d in stale]
            due_views = [services.deals.view(d, now) for d in due]
        if not stale_views and not due_views:
            with services.db.transaction() as session:
                store.mark_owner_nudged(session, owner_id, today, now)
            continue
        language = services.directory.language(user)
        text, blocks = stale_digest(Texts(language), stale_views, due_views, language, now)
        try:
            services.client.chat_postMessage(channel=owner_id, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("deal digest to %s failed: %s", owner_id, exc.response.get("error"))
            with services.db.transaction() as session:
                store.release_owner_nudge(session, owner_id, today)
            continue
        with services.db.transaction() as session:
            store.mark_owner_nudged(session, owner_id, today, now)
            if stale_views:
                session.execute(
                    update(Deal)
                    .where(Deal.id.in_([d.id for d in stale_views]))
                    .values(last_nudged_at=now)
                )
            if due_views:
                session.execute(
                    update(Deal)
                    .where(Deal.id.in_([d.id for d in due_views]))
                    .values(next_step_reminded_on=today)
                )
        sent += 1
    return sent
