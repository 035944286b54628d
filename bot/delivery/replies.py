"""Private answers: to a click, in the conversation it came from (by DM from App Home); files by DM."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.i18n import Texts
from bot.services import Services
from bot.slack_client import is_slack_response_url, make_webhook_client, upload_file
from bot.views.common import notice

log = logging.getLogger(__name__)


def tell_privately(
    services: Services,
    user_id: str,
    response_url: str | None,
    text: str,
    blocks: list[Block] | None = None,
    *,
    replace_original: bool = False,
) -> None:
    """Ephemeral through the click's response_url; a DM where there is none (App Home), or
    where it is not one of Slack's. `replace_original` answers in place of the clicked
    message (an ephemeral question whose answer this is)."""
    if response_url and not is_slack_response_url(response_url, services.settings.slack_api_url):
        log.warning("a response_url outside hooks.slack.com was not used; answered by DM")
        response_url = None
    if response_url:
        response = make_webhook_client(response_url, services.client).send(
            text=text,
            blocks=blocks,
            response_type="ephemeral",
            replace_original=replace_original,
        )
        if response.status_code != 200:
            log.warning("private reply not delivered (HTTP %s)", response.status_code)
    else:
        services.client.chat_postMessage(channel=user_id, text=text, blocks=blocks)


def send_file_by_dm(
    services: Services, user_id: str, texts: Texts, command: str, **upload: Any
) -> None:
    """An export, as a file in the asker's DM; if Slack will not take it, they are told so
    there instead of waiting for a file that never comes."""
    client = services.client
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    try:
        upload_file(client, channel=channel, **upload)
    except (SlackApiError, OSError) as exc:
        log.warning("export %s not delivered: %s", upload.get("filename"), type(exc).__name__)
        message = texts("common.export_failed", command=command)
        client.chat_postMessage(channel=channel, text=message, blocks=notice(message))
