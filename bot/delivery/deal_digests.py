"""Timely action: one 09:00 digest per owner with their stale deals and the next steps due,
rendered with bot.views and sent by DM (the deal domain only says which deals)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot.i18n import Texts
from bot.services import Services
from bot.slack_client import find_message_by_metadata
from bot.views.deals import stale_digest
from storage import deals as store

log = logging.getLogger(__name__)

DIGEST_HOUR = 9
# A deal already in a digest is left alone for this long, however stale it stays.
RENAG_AFTER = timedelta(days=3)
DIGEST_EVENT = "pulsebot_deal_digest"  # message metadata: how a digest is found again


def send_deal_digests(services: Services, now: datetime) -> int:
    """DM each owner whose local time has reached 09:00 today, once a day; returns DMs sent.

    Safe to run as often as wanted: the (owner, local day) claim makes the DM go once. A
    claim whose sender died first (its lease lapsed: bot.leases) is settled from the owner's
    DM: sent, or claimed again.
    """
    settle_interrupted_digests(services, now)
    leases = services.leases
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
        if not leases.holds():
            break  # stopping: nothing more is claimed
        with services.db.transaction() as session:
            leases.claiming(session, now)
            if not store.claim_owner_nudge(session, owner_id, today, now, instance=leases.instance):
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
        stale_ids, due_ids = [d.id for d in stale_views], [d.id for d in due_views]
        # Ids as text: metadata values are safest as strings, numbers and booleans.
        payload = {
            "day": today.isoformat(),
            "stale": _ids_text(stale_ids),
            "due": _ids_text(due_ids),
        }
        if not leases.holds():
            if not leases.stopping.is_set():  # the lease could not be renewed: not sent
                with services.db.transaction() as session:
                    store.release_owner_nudge(session, owner_id, today)
            break  # stopping: the claim is handed back with the lease, taken over at once
        try:
            services.client.chat_postMessage(
                channel=owner_id,
                text=text,
                blocks=blocks,
                metadata={"event_type": DIGEST_EVENT, "event_payload": payload},
            )
        except SlackApiError as exc:
            log.warning("deal digest to %s failed: %s", owner_id, exc.response.get("error"))
            with services.db.transaction() as session:
                store.release_owner_nudge(session, owner_id, today)
            continue
        _mark_sent(services, owner_id, today, now, stale_ids=stale_ids, due_ids=due_ids)
        sent += 1
    return sent


def _mark_sent(
    services: Services,
    owner_id: str,
    day: date,
    now: datetime,
    *,
    stale_ids: list[int],
    due_ids: list[int],
) -> None:
    with services.db.transaction() as session:
        store.mark_owner_nudged(session, owner_id, day, now)
        store.mark_deals_nudged(session, stale_ids, due_ids, day, now)


def settle_interrupted_digests(services: Services, now: datetime) -> int:
    """Digests whose sender died after claiming them (its lease lapsed): marked sent, with
    their deals, when the owner's DM holds them; otherwise released, to go out now. Returns how
    many were settled."""
    leases = services.leases
    with services.db.transaction() as session:
        interrupted = store.lapsed_owner_nudges(session, leases.cutoff(now))
    settled = 0
    for nudge in interrupted:
        with services.db.transaction() as session:
            leases.claiming(session, now)
            if not store.take_over_owner_nudge(session, nudge, leases.instance, now):
                continue  # another instance took it
        owner_id, day = nudge.owner_id, nudge.local_date
        that_day = day.isoformat()
        try:
            found = find_message_by_metadata(
                services.client,
                owner_id,
                DIGEST_EVENT,
                lambda payload: payload.get("day") == that_day,  # noqa: B023 (called at once)
            )
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("cannot check an interrupted deal digest yet: %s", error)
            with services.db.transaction() as session:
                store.hand_back_owner_nudge(session, owner_id, day)  # tried again a lease later
            continue
        if found is None:
            with services.db.transaction() as session:
                store.release_owner_nudge(session, owner_id, day)
        else:
            stale_ids = _ids_of(found.payload.get("stale"))
            due_ids = _ids_of(found.payload.get("due"))
            _mark_sent(services, owner_id, day, now, stale_ids=stale_ids, due_ids=due_ids)
        settled += 1
    return settled


def take_over_digests(services: Services, now: datetime) -> int:
    """A dead sender's digests: settled, and what it had not sent sent now; returns DMs sent."""
    with services.db.transaction() as session:
        if not store.lapsed_owner_nudges(session, services.leases.cutoff(now)):
            return 0
    return send_deal_digests(services, now)


def _ids_text(ids: list[int]) -> str:
    return ",".join(str(i) for i in ids)


def _ids_of(text: object) -> list[int]:
    return [int(part) for part in str(text or "").split(",") if part.isdigit()]
