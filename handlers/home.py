"""The App Home tab, published when a person opens it."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext

from bot.config import Language
from bot.home import build_home
from bot.services import Services
from handlers.middleware import user_of
from storage.directory import UserRecord


def publish_home(
    services: Services, user: UserRecord, *, is_manager: bool, language: Language
) -> None:
    """Publish a person's App Home: when they open it and after they act from it."""
    view = build_home(services, user, is_manager=is_manager, language=language)
    services.client.views_publish(user_id=user.user_id, view=view)


def refresh_home(services: Services, context: BoltContext) -> None:
    """After a person's own action: re-publish their Home tab from the background pool."""
    user = user_of(context)
    services.background.submit_in_order(  # the newest Home is published last
        f"home:{user.user_id}",
        publish_home,
        services,
        user,
        is_manager=bool(context.get("is_manager")),
        language=context["language"],
    )


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def home_opened(ack: Ack, event: dict[str, str], context: BoltContext) -> None:
        ack()
        if event.get("tab", "home") != "home":
            return
        refresh_home(services, context)
