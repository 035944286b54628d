"""response_url: what the bot POSTs to an interaction's URL, checked and shown as Slack would."""

from __future__ import annotations

import copy
import json
import logging

from bot.standin.api.chat import MAX_MESSAGE_TEXT
from bot.standin.blockkit import validate_blocks
from bot.standin.protocol import JsonDict, form_fields
from bot.standin.records import RESPONSE_URL, ResponsePost, SimMessage
from bot.standin.server import Reply, Request
from bot.standin.state import ResponseTarget, SlackState
from bot.standin.workspace import dm_channel_id

logger = logging.getLogger("bot.standin")  # one logger for the whole stand-in


def webhook_payload(request: Request) -> JsonDict | None:
    """The JSON body of a response_url POST (or its form `payload` field)."""
    try:
        if request.content_type == "application/json":
            body = json.loads(request.body)
        else:
            body = json.loads(form_fields(request.body.decode()).get("payload", ""))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return body if isinstance(body, dict) else None


def accept_response(state: SlackState, token: str, url: str, payload: JsonDict | None) -> Reply:
    """Answer like Slack's webhooks: 200 "ok", or 4xx with the error as plain text."""
    target = state.response_targets.get(token)
    if target is None:
        return Reply.text("no_service", 404)
    if payload is None:
        return Reply.text("invalid_payload", 400)
    post = ResponsePost(url, copy.deepcopy(payload))
    if post.blocks or "blocks" in payload:
        errors = validate_blocks(payload.get("blocks"), pointer="/blocks")
        if errors:
            logger.debug("Slack stand-in: response_url rejected blocks: %s", errors)
            return Reply.text("invalid_blocks", 400)
    if not post.delete_original and not post.text and not post.blocks:
        return Reply.text("no_text", 400)
    if len(post.text or "") > MAX_MESSAGE_TEXT:
        return Reply.text("msg_too_long", 400)
    state.response_posts.append(post)
    if not post.delete_original:
        _show_response(state, post, target)
    return Reply.text("ok")


def _show_response(state: SlackState, post: ResponsePost, target: ResponseTarget) -> None:
    """Make a response_url post visible the way Slack would show it."""
    in_channel = post.response_type == "in_channel" and target.channel_id is not None
    if not in_channel and target.user_id is None:
        return
    channel_id = target.channel_id
    if channel_id is None and target.user_id is not None:
        channel_id = dm_channel_id(target.user_id)
    assert channel_id is not None
    dm_user = state.dm_owner(channel_id)
    state.messages.append(
        SimMessage(
            channel=channel_id,
            ts=state.next_ts(),
            text=post.text or "",
            blocks=copy.deepcopy(post.blocks),
            recipient=target.user_id if not in_channel else (dm_user.id if dm_user else None),
            ephemeral=not in_channel,
            source=RESPONSE_URL,
        )
    )
