"""The App Home tab, published when a person opens it."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.services import Services
from bot.views.home import home_view
from handlers.middleware import texts_for, user_of


def register(app: App, services: Services) -> None:
    def acknowledge(ack: Ack) -> None:
        ack()

    def publish_home(client: WebClient, event: dict[str, str], context: BoltContext) -> None:
        if event.get("tab", "home") != "home":
            return
        user = user_of(context)
        view = home_view(
            texts_for(context),
            name=user.display_name,
            is_manager=bool(context.get("is_manager")),
        )
        client.views_publish(user_id=user.user_id, view=view)

    app.event("app_home_opened")(ack=acknowledge, lazy=[publish_home])
