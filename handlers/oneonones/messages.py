"""Slack calls the 1:1 listeners make after their ack: DMs in the reader's own language and
time zone, modals naming the other person."""

from __future__ import annotations

import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.i18n import Texts
from bot.services import Services
from bot.views.common import fallback_text, notice

log = logging.getLogger(__name__)

# Renders a DM for its reader, in their language and time zone.
RenderFor = Callable[[Texts, ZoneInfo], tuple[str, list[Block]]]


def dm(services: Services, user_id: str, render: RenderFor) -> None:
    """A DM in the reader's own language and time zone."""
    reader = services.directory.get(user_id)
    texts = Texts(services.directory.language(reader))
    text, blocks = render(texts, reader.zone(services.settings.zone))
    try:
        services.client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
    except SlackApiError as exc:
        log.warning("1:1 DM not sent: %s", exc.response.get("error"))


def open_modal(
    services: Services, trigger_id: str, build: Callable[[str], View], other_id: str
) -> None:
    """A modal naming the other person (looked up after the ack: it may ask Slack)."""
    view = build(services.directory.get(other_id).display_name)
    services.client.views_open(trigger_id=trigger_id, view=view)


def as_dm(message: str) -> tuple[str, list[Block]]:
    return message, notice(message)


def as_blocks(blocks: list[Block]) -> tuple[str, list[Block]]:
    return fallback_text(blocks), blocks
