"""users.* and auth.test: who is in the workspace, and who the bot is."""

from __future__ import annotations

import time

from bot.standin.protocol import ApiError, JsonDict, flag, paginate
from bot.standin.state import SlackState


def auth_test(state: SlackState, params: JsonDict) -> JsonDict:
    ws = state.workspace
    return {
        "ok": True,
        "url": f"https://{ws.domain}.slack.com/",
        "team": ws.team_name,
        "user": ws.bot_name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def users_info(state: SlackState, params: JsonDict) -> JsonDict:
    user = state.user(params.get("user"))
    include_locale = flag(params.get("include_locale"))
    return {
        "ok": True,
        "user": user.to_api(state.workspace.team_id, include_locale=include_locale),
    }


def users_list(state: SlackState, params: JsonDict) -> JsonDict:
    include_locale = flag(params.get("include_locale"))
    page, next_cursor = paginate(
        state.workspace.users, params, default_limit=0, key=lambda user: user.id
    )
    return {
        "ok": True,
        "members": [
            user.to_api(state.workspace.team_id, include_locale=include_locale) for user in page
        ],
        "cache_ts": int(time.time()),
        "response_metadata": {"next_cursor": next_cursor},
    }


def users_lookup_by_email(state: SlackState, params: JsonDict) -> JsonDict:
    user = state.workspace.user_by_email(str(params.get("email") or ""))
    if user is None:
        raise ApiError("users_not_found")
    return {"ok": True, "user": user.to_api(state.workspace.team_id)}
