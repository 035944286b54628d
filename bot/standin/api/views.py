"""views.*: modals and home tabs, stored with their ids, hashes and external ids."""

from __future__ import annotations

import copy
import secrets
import time
from typing import cast

from bot.standin.blockkit import validate_view
from bot.standin.protocol import ApiError, JsonDict, flag, invalid_arguments
from bot.standin.state import SlackState


def _view_hash() -> str:
    return f"{int(time.time())}.{secrets.token_hex(4)}"


def _view_argument(params: JsonDict, view_type: str) -> JsonDict:
    """The `view` argument, valid and of `view_type`."""
    view = params.get("view")
    if view is None:
        raise invalid_arguments(["missing required field: view"])
    errors = validate_view(view)
    if errors:
        raise invalid_arguments(errors)
    checked = cast(JsonDict, view)
    if checked["type"] != view_type:
        raise invalid_arguments([f"must be {view_type} [json-pointer:/view/type]"])
    return checked


def _store_view(
    state: SlackState,
    view: JsonDict,
    *,
    view_id: str | None = None,
    root_view_id: str | None = None,
    previous_view_id: str | None = None,
    external_id: str = "",
) -> JsonDict:
    """Keep a view as Slack would (a new id unless `view_id`) and answer it as the API does."""
    external_id = str(view.get("external_id") or external_id)
    if external_id and any(
        v["external_id"] == external_id and v["id"] != view_id for v in state.views.values()
    ):
        raise ApiError("duplicate_external_id")
    view_id = view_id or state.new_id("V")
    ws = state.workspace
    stored: JsonDict = {
        "id": view_id,
        "team_id": ws.team_id,
        "type": view["type"],
        "blocks": copy.deepcopy(view["blocks"]),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": {}},
        "hash": _view_hash(),
        "title": copy.deepcopy(view.get("title")),
        "clear_on_close": flag(view.get("clear_on_close")),
        "notify_on_close": flag(view.get("notify_on_close")),
        "close": copy.deepcopy(view.get("close")),
        "submit": copy.deepcopy(view.get("submit")),
        "previous_view_id": previous_view_id,
        "root_view_id": root_view_id or view_id,
        "app_id": ws.app_id,
        "external_id": external_id,
        "app_installed_team_id": ws.team_id,
        "bot_id": ws.bot_id,
    }
    state.views[view_id] = stored
    return copy.deepcopy(stored)


def views_open(state: SlackState, params: JsonDict) -> JsonDict:
    if not params.get("trigger_id"):
        raise invalid_arguments(["missing required field: trigger_id"])
    view = _view_argument(params, "modal")
    return {"ok": True, "view": _store_view(state, view)}


def views_push(state: SlackState, params: JsonDict) -> JsonDict:
    if not params.get("trigger_id"):
        raise invalid_arguments(["missing required field: trigger_id"])
    view = _view_argument(params, "modal")
    return {"ok": True, "view": _store_view(state, view)}


def views_update(state: SlackState, params: JsonDict) -> JsonDict:
    view_id, external_id = params.get("view_id"), params.get("external_id")
    if view_id:
        current = state.views.get(str(view_id))
    elif external_id:
        current = next((v for v in state.views.values() if v["external_id"] == external_id), None)
    else:
        raise invalid_arguments(["must provide view_id or external_id"])
    if current is None:
        raise ApiError("not_found")
    expected_hash = params.get("hash")
    if expected_hash and expected_hash != current["hash"]:
        raise ApiError("hash_conflict")
    view = _view_argument(params, current["type"])
    stored = _store_view(
        state,
        view,
        view_id=current["id"],
        root_view_id=current["root_view_id"],
        previous_view_id=current["previous_view_id"],
        external_id=current["external_id"],
    )
    return {"ok": True, "view": stored}


def views_publish(state: SlackState, params: JsonDict) -> JsonDict:
    user = state.user(params.get("user_id"))
    view = _view_argument(params, "home")
    current_id = state.home_views.get(user.id)
    expected_hash = params.get("hash")
    if expected_hash and current_id and expected_hash != state.views[current_id]["hash"]:
        raise ApiError("hash_conflict")
    stored = _store_view(state, view, view_id=current_id)
    state.home_views[user.id] = stored["id"]
    return {"ok": True, "view": stored}
