"""`/oneonone`, the buttons of its DMs and its modals."""

from __future__ import annotations

from slack_bolt import App

from handlers.oneonones import buttons, commands, forms


def register(app: App) -> None:
    commands.register(app)
    buttons.register(app)
    forms.register(app)
