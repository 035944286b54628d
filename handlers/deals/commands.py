"""`/deal`: carried out by bot.deals.commands, rendered, acked; Slack calls after."""

from __future__ import annotations

from datetime import date

from slack_bolt import Ack, App, BoltContext

from bot.deals.commands import ExportRequested, OpenNewDealForm, run_deal_command
from bot.deals.service import DealChange
from bot.services import Services
from bot.views import deals as views
from bot.views.common import fallback_text
from handlers.deals.messages import announce_later, send_export
from handlers.middleware import actor_of, services_of, texts_for, user_of


def local_today(services: Services, context: BoltContext) -> date:
    """Dates like `tomorrow` mean the person's tomorrow, in their own time zone."""
    return services.clock().astimezone(user_of(context).zone(services.settings.zone)).date()


def deal_command(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
    services = services_of(context)
    texts = texts_for(context)
    language = context["language"]
    actor = actor_of(context)
    result = run_deal_command(
        services.deals,
        actor,
        command.get("text") or "",
        today=local_today(services, context),
        language=language,
    )
    if isinstance(result, OpenNewDealForm):
        ack()
        view = views.new_deal_modal(
            texts,
            services.deals.pipeline,
            owner_id=command["user_id"],
            channel_id=command.get("channel_id", ""),
        )
        services.background.submit(
            services.client.views_open, trigger_id=command["trigger_id"], view=view
        )
        return
    blocks = views.command_reply(texts, result, language, services.settings.currency)
    ack(text=fallback_text(blocks), blocks=blocks)
    if isinstance(result, ExportRequested):
        services.background.submit(send_export, services, actor, texts)
    elif isinstance(result, DealChange):
        announce_later(services, result)


def register(app: App) -> None:
    app.command("/deal")(deal_command)
