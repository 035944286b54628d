"""The App Home tab, published when a person opens it."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext

from bot.delivery.home import build_home
from bot.directory import UserRecord
from bot.i18n import Language
from bot.services import Services
from handlers.middleware import services_of, user_of


def publish_home(
    services: Services, user: UserRecord, *, is_manager: bool, language: Language
) -> None:
    """Publish a person's App Home: when they open it and after they act from it."""
    view = build_home(services, user, is_manager=is_manager, language=language)
    services.client.views_publish(user_id=user.user_id, view=view)


def refresh_home(context: BoltContext) -> None:
    """After a person's own action: re-publish their Home tab from the background pool."""
    services = services_of(context)
    user = user_of(context)
    services.background.submit_in_order(  # the newest Home is published last
        f"home:{user.user_id}",
        publish_home,
        services,
        user,
        is_manager=bool(context.get("is_manager")),
        language=context["language"],
    )


def home_opened(ack: Ack, event: dict[str, str], context: BoltContext) -> None:
    ack()
    if event.get("tab", "home") == "home":
        refresh_home(context)


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)
