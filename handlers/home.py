"""The App Home tab, published when a person opens it."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.home import build_home
from bot.services import Services
from handlers.middleware import user_of


def publish_home(services: Services, client: WebClient, context: BoltContext) -> None:
    """Publish the asker's App Home: when they open it and after they act from it."""
    user = user_of(context)
    view = build_home(
        services, user, is_manager=bool(context.get("is_manager")), language=context["language"]
    )
    client.views_publish(user_id=user.user_id, view=view)


def register(app: App, services: Services) -> None:
    def acknowledge(ack: Ack) -> None:
        ack()

    def home_opened(client: WebClient, event: dict[str, str], context: BoltContext) -> None:
        if event.get("tab", "home") != "home":
            return
        publish_home(services, client, context)

    app.event("app_home_opened")(ack=acknowledge, lazy=[home_opened])
