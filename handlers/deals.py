"""`/deal`: the sales pipeline command."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext

from bot.services import Services
from bot.views.common import notice
from bot.views.help import deal_help
from handlers.middleware import texts_for


def register(app: App, services: Services) -> None:
    @app.command("/deal")
    def deal_command(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
        texts = texts_for(context)
        words = (command.get("text") or "").split()
        subcommand = words[0].lower() if words else "help"
        if subcommand == "help":
            ack(text=texts("deal.help.title"), blocks=deal_help(texts))
            return
        unknown = texts("common.unknown_subcommand", command="/deal", subcommand=words[0])
        ack(text=unknown, blocks=notice(unknown) + deal_help(texts))
