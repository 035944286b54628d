"""chat.*: posting, ephemeral messages, updates and deletes, with Slack's checks on content."""

from __future__ import annotations

import copy

from bot.standin.blockkit import MAX_MESSAGE_BLOCKS, validate_blocks
from bot.standin.protocol import ApiError, JsonDict
from bot.standin.records import SimMessage
from bot.standin.state import SlackState
from bot.standin.workspace import SimChannel, SimUser

MAX_MESSAGE_TEXT = 40_000
MAX_ATTACHMENTS = 100


def postable(state: SlackState, ref: object) -> tuple[str, SimUser | None, SimChannel | None]:
    """Resolve where the bot may post, with Slack's refusals."""
    channel_id, user, channel = state.conversation(ref)
    if user is not None:
        if user.deleted:
            raise ApiError("is_archived")  # a DM with a deactivated user is archived
        if user.is_bot:
            raise ApiError("cannot_dm_bot")
        state.open_dms.add(channel_id)
    elif channel is not None:
        if channel.is_archived:
            raise ApiError("is_archived")
        if state.workspace.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")
    return channel_id, user, channel


def message_content(
    params: JsonDict, *, require_content: bool = True
) -> tuple[str, list[JsonDict], list[JsonDict]]:
    """Validate text/blocks/attachments of a message and return them."""
    raw_text = params.get("text")
    text = "" if raw_text is None else str(raw_text)
    if len(text) > MAX_MESSAGE_TEXT:
        raise ApiError("msg_too_long")
    blocks = params.get("blocks")
    if blocks is None:
        blocks = []
    errors = validate_blocks(blocks, pointer="/blocks", limit=MAX_MESSAGE_BLOCKS)
    if errors:
        raise ApiError(
            "invalid_blocks",
            errors=errors,
            response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
        )
    attachments = params.get("attachments")
    if attachments is None:
        attachments = []
    if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
        raise ApiError("invalid_attachments")
    if len(attachments) > MAX_ATTACHMENTS:
        raise ApiError("too_many_attachments")
    for index, attachment in enumerate(attachments):
        if "blocks" in attachment:
            errors = validate_blocks(attachment["blocks"], pointer=f"/attachments/{index}/blocks")
            if errors:
                raise ApiError("invalid_attachments", errors=errors)
    if require_content and not text and not blocks and not attachments:
        raise ApiError("no_text")
    return text, blocks, attachments


def message_json(state: SlackState, message: SimMessage) -> JsonDict:
    """A message as the Web API returns it, posted by the bot."""
    body: JsonDict = {
        "type": "message",
        "text": message.text,
        "user": state.workspace.bot_user_id,
        "bot_id": state.workspace.bot_id,
        "app_id": state.workspace.app_id,
        "team": state.workspace.team_id,
        "ts": message.ts,
    }
    if message.blocks:
        body["blocks"] = copy.deepcopy(message.blocks)
    if message.attachments:
        body["attachments"] = copy.deepcopy(message.attachments)
    if message.thread_ts:
        body["thread_ts"] = message.thread_ts
    if message.metadata is not None:
        body["metadata"] = copy.deepcopy(message.metadata)
    return body


def find_message(state: SlackState, channel_id: str, ts: object) -> SimMessage:
    for message in state.messages:
        if message.channel == channel_id and message.ts == ts and not message.ephemeral:
            return message
    raise ApiError("message_not_found")


def chat_post_message(state: SlackState, params: JsonDict) -> JsonDict:
    channel_id, user, _ = postable(state, params.get("channel"))
    text, blocks, attachments = message_content(params)
    thread_ts = params.get("thread_ts")
    message = SimMessage(
        channel=channel_id,
        ts=state.next_ts(),
        text=text,
        blocks=blocks,
        attachments=attachments,
        thread_ts=str(thread_ts) if thread_ts else None,
        recipient=user.id if user is not None else None,
        metadata=params["metadata"] if isinstance(params.get("metadata"), dict) else None,
    )
    state.messages.append(message)
    return {
        "ok": True,
        "channel": channel_id,
        "ts": message.ts,
        "message": message_json(state, message),
    }


def chat_post_ephemeral(state: SlackState, params: JsonDict) -> JsonDict:
    recipient = state.user(params.get("user"))
    channel_id, dm_user, channel = postable(state, params.get("channel"))
    if channel is not None and recipient.id not in channel.members:
        raise ApiError("user_not_in_channel")
    if dm_user is not None and dm_user.id != recipient.id:
        raise ApiError("user_not_in_channel")
    text, blocks, attachments = message_content(params)
    thread_ts = params.get("thread_ts")
    message = SimMessage(
        channel=channel_id,
        ts=state.next_ts(),
        text=text,
        blocks=blocks,
        attachments=attachments,
        thread_ts=str(thread_ts) if thread_ts else None,
        recipient=recipient.id,
        ephemeral=True,
        source="chat.postEphemeral",
    )
    state.messages.append(message)
    return {"ok": True, "message_ts": message.ts}


def chat_update(state: SlackState, params: JsonDict) -> JsonDict:
    channel_id, _, _ = state.conversation(params.get("channel"))
    message = find_message(state, channel_id, params.get("ts"))
    text, blocks, attachments = message_content(params, require_content=False)
    # As on Slack, fields left out keep their previous value; [] clears blocks.
    if "text" in params:
        message.text = text
    if "blocks" in params:
        message.blocks = blocks
    if "attachments" in params:
        message.attachments = attachments
    message.edit_count += 1
    return {
        "ok": True,
        "channel": channel_id,
        "ts": message.ts,
        "text": message.text,
        "message": message_json(state, message),
    }


def chat_delete(state: SlackState, params: JsonDict) -> JsonDict:
    channel_id, _, _ = state.conversation(params.get("channel"))
    message = find_message(state, channel_id, params.get("ts"))
    state.messages.remove(message)
    return {"ok": True, "channel": channel_id, "ts": message.ts}
