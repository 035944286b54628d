"""apps.connections.open: the WebSocket URL of Socket Mode, for an app-level token."""

from __future__ import annotations

from bot.standin.protocol import JsonDict
from bot.standin.state import SlackState


def apps_connections_open(state: SlackState, params: JsonDict) -> JsonDict:
    # The dispatcher has checked that the token is an app-level one (xapp-…).
    return {"ok": True, "url": state.socket_mode().open_link()}
