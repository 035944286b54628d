"""Private answers to a click: in the conversation it came from, by DM from App Home."""

from __future__ import annotations

import logging

from slack_sdk.models.blocks import Block

from bot.services import Services
from bot.slack_client import make_webhook_client

log = logging.getLogger(__name__)


def tell_privately(
    services: Services,
    user_id: str,
    response_url: str | None,
    text: str,
    blocks: list[Block] | None = None,
) -> None:
    """Ephemeral through the click's response_url; a DM where there is none (App Home)."""
    if response_url:
        response = make_webhook_client(response_url, services.client).send(
            text=text, blocks=blocks, response_type="ephemeral", replace_original=False
        )
        if response.status_code != 200:
            log.warning("private reply not delivered (HTTP %s)", response.status_code)
    else:
        services.client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
