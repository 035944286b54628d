"""Slack calls the deal listeners make after their ack: announcements, the export, DMs."""

from __future__ import annotations

import logging

from slack_bolt import BoltContext
from slack_sdk.errors import SlackApiError

from bot.actor import Actor
from bot.deals.export import COLUMNS
from bot.deals.service import DealChange
from bot.delivery.replies import send_file_by_dm
from bot.i18n import Texts
from bot.services import Services
from bot.views import deals as views
from bot.views.common import fallback_text
from bot.views.spreadsheet import csv_bytes
from handlers.middleware import services_of, texts_for, user_of

log = logging.getLogger(__name__)

ANNOUNCED = {"created", "won", "lost"}


def announce_later(services: Services, change: DealChange) -> None:
    """New, won and lost deals go to the deals channel after the ack; other changes, or no
    channel set, cost nothing."""
    channel = services.settings.deals_channel
    if channel and change.kind in ANNOUNCED:
        services.background.submit_in_order(
            f"channel:{channel}", announce, services, channel, change
        )


def announce(services: Services, channel: str, change: DealChange) -> None:
    language = services.settings.language
    text, blocks = views.announcement(Texts(language), change, language)
    try:
        services.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    except SlackApiError as exc:
        log.warning("deal announcement failed: %s", exc.response.get("error"))


def send_export(services: Services, actor: Actor, texts: Texts) -> None:
    export = services.deals.export(actor)
    send_file_by_dm(
        services,
        actor.user_id,
        texts,
        "/deal export",
        content=csv_bytes(COLUMNS, export.rows),
        filename=f"pulsebot-deals-{services.clock().date().isoformat()}.csv",
        title="pulsebot deals",
        initial_comment=texts(
            "deal.export.done",
            deals=texts.plural("count.deals", export.deals),
            events=texts.plural("count.events", export.events),
        ),
    )


def confirm_by_dm(context: BoltContext, change: DealChange) -> None:
    """A change made in a modal: confirmed in the person's DM, and announced."""
    services = services_of(context)
    blocks = views.change_reply(texts_for(context), change, context["language"])
    services.background.submit(
        services.client.chat_postMessage,
        channel=user_of(context).user_id,
        text=fallback_text(blocks),
        blocks=blocks,
    )
    announce_later(services, change)
