"""Messages people write to the bot in its Messages tab: answered with where to start."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.views.common import fallback_text, notice
from handlers.middleware import services_of, texts_for


def is_person_writing(event: dict[str, Any]) -> bool:
    """A person's own new message in a DM with the bot: not a bot's (ours included), not an
    edit, deletion, join or file share (every such event carries a subtype)."""
    return (
        event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and bool(event.get("user"))
    )


def direct_message(ack: Ack, event: dict[str, Any], context: BoltContext) -> None:
    ack()
    if not is_person_writing(event) or event.get("user") == context.get("bot_user_id"):
        return
    services = services_of(context)
    blocks = notice(texts_for(context)("dm.help"))
    services.background.submit(
        services.client.chat_postMessage,
        channel=event["channel"],
        text=fallback_text(blocks),
        blocks=blocks,
    )


def register(app: App) -> None:
    app.event("message")(direct_message)
