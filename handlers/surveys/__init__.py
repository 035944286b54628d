"""`/pulse`, the survey DM's buttons and the survey modals."""

from __future__ import annotations

from slack_bolt import App

from handlers.surveys import answers, commands, forms


def register(app: App) -> None:
    commands.register(app)
    answers.register(app)
    forms.register(app)
