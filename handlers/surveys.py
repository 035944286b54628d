"""`/pulse`: pulse and eNPS surveys."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext

from bot.services import Services
from bot.views.common import notice
from bot.views.help import pulse_help
from handlers.middleware import texts_for


def register(app: App, services: Services) -> None:
    min_responses = services.settings.min_responses

    @app.command("/pulse")
    def pulse_command(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
        texts = texts_for(context)
        words = (command.get("text") or "").split()
        subcommand = words[0].lower() if words else "help"
        if subcommand == "help":
            ack(
                text=texts("pulse.help.title"),
                blocks=pulse_help(texts, min_responses=min_responses),
            )
            return
        unknown = texts("common.unknown_subcommand", command="/pulse", subcommand=words[0])
        ack(text=unknown, blocks=notice(unknown) + pulse_help(texts, min_responses=min_responses))
