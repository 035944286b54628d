"""conversations.*: channel and DM info, history, members, and opening DMs."""

from __future__ import annotations

from bot.standin.api.chat import message_json
from bot.standin.protocol import (
    MAX_PAGE_SIZE,
    ApiError,
    JsonDict,
    flag,
    int_param,
    invalid_arguments,
    paginate,
)
from bot.standin.state import SlackState
from bot.standin.workspace import EPOCH, SimUser, dm_channel_id


def conversations_info(state: SlackState, params: JsonDict) -> JsonDict:
    channel_id, user, channel = state.conversation(params.get("channel"), allow_user=False)
    if channel is not None:
        return {"ok": True, "channel": channel.to_api(state.workspace.bot_user_id)}
    assert user is not None
    return {"ok": True, "channel": _im_json(state, channel_id, user)}


def conversations_history(state: SlackState, params: JsonDict) -> JsonDict:
    """Newest first, top-level messages only; metadata only with include_all_metadata."""
    channel_id, _, _ = state.conversation(params.get("channel"), allow_user=False)
    oldest = float(params.get("oldest") or 0)
    limit = min(int_param(params, "limit", 100), MAX_PAGE_SIZE)
    found = [
        m
        for m in reversed(state.messages)
        if m.channel == channel_id and not m.ephemeral and float(m.ts) >= oldest
    ][: limit or None]
    with_metadata = flag(params.get("include_all_metadata"))
    messages = []
    for message in found:
        body = message_json(state, message)
        if not with_metadata:
            body.pop("metadata", None)
        messages.append(body)
    return {"ok": True, "messages": messages, "has_more": False}


def conversations_members(state: SlackState, params: JsonDict) -> JsonDict:
    _, user, channel = state.conversation(params.get("channel"), allow_user=False)
    if channel is not None:
        members = list(channel.members)
    else:
        assert user is not None
        members = [state.workspace.bot_user_id, user.id]
    page, next_cursor = paginate(members, params, default_limit=100, key=str)
    return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}


def conversations_open(state: SlackState, params: JsonDict) -> JsonDict:
    users = params.get("users")
    if isinstance(users, str):
        users = [u.strip() for u in users.split(",") if u.strip()]
    if users:
        if not isinstance(users, list) or len(users) != 1:
            raise invalid_arguments(["the Slack stand-in only opens 1:1 DMs [json-pointer:/users]"])
        user = state.user(users[0])
        if user.deleted:
            raise ApiError("user_disabled")
        channel_id = dm_channel_id(user.id)
    elif params.get("channel"):
        found = state.dm_owner(str(params["channel"]))
        if found is None:
            raise ApiError("channel_not_found")
        user, channel_id = found, str(params["channel"])
    else:
        raise ApiError("users_list_not_supplied")
    already_open = channel_id in state.open_dms
    state.open_dms.add(channel_id)
    channel_json = (
        _im_json(state, channel_id, user) if flag(params.get("return_im")) else {"id": channel_id}
    )
    answer: JsonDict = {"ok": True, "channel": channel_json}
    if already_open:
        answer.update(no_op=True, already_open=True)
    return answer


def _im_json(state: SlackState, channel_id: str, user: SimUser) -> JsonDict:
    """The bot's DM with `user` as the Web API describes it."""
    return {
        "id": channel_id,
        "created": EPOCH,
        "is_im": True,
        "is_org_shared": False,
        "user": user.id,
        "last_read": "0000000000.000000",
        "latest": None,
        "unread_count": 0,
        "unread_count_display": 0,
        "is_open": channel_id in state.open_dms,
        "priority": 0,
    }
