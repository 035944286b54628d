"""`/deal`, the buttons on deal replies and digests, and the deal modals."""

from __future__ import annotations

from slack_bolt import App

from handlers.deals import buttons, commands, forms


def register(app: App) -> None:
    commands.register(app)
    buttons.register(app)
    forms.register(app)
