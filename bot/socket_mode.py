"""Socket Mode: how `pulsebot run` holds its WebSocket to Slack (no public URL needed)."""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.config import Settings
from bot.slack_client import make_web_client

# slack_sdk's built-in client notices a dead connection only through its pings: it checks once
# per interval and gives a connection up when no pong came for four intervals. With Bolt's
# 10 s, a connection lost without a closing handshake (a NAT or proxy forgetting it, a server
# gone) stays "connected" for 40-50 s, and every command typed meanwhile fails for the person
# who typed it. At 3 s the bot reconnects within about 15 s, for a 2-byte ping every 3 s.
# (A `disconnect` from Slack or a closing handshake reconnects at once, whatever this is.)
PING_INTERVAL_SECONDS = 3.0


def socket_mode_handler(app: App, settings: Settings) -> SocketModeHandler:
    """Bolt's Socket Mode adapter with the built-in WebSocket client, set up for `run`."""
    if settings.slack_app_token is None:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN")
    app_token = settings.slack_app_token.get_secret_value()
    return SocketModeHandler(
        app,
        app_token,
        # apps.connections.open goes where the bot's Web API calls go (SLACK_API_URL).
        web_client=make_web_client(app_token, settings.slack_api_url),
        ping_interval=PING_INTERVAL_SECONDS,
    )
