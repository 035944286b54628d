"""Slack listeners, registered per surface. Thin: parse, call a service in bot/, render, answer."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers import closed, deals, errors, home, messages, oneonones, summary, surveys
from handlers.guests import GuestsRefused
from handlers.middleware import RetryDeduplication, ServicesContext, UserContext


def register(app: App, services: Services) -> None:
    """Middleware first (the Services, de-duplication, who is asking, guests turned away),
    then each surface."""
    app.use(ServicesContext(services))
    app.use(RetryDeduplication(services))
    app.use(UserContext(services))
    app.use(GuestsRefused())
    errors.register(app)
    deals.register(app)
    surveys.register(app)
    home.register(app)
    summary.register(app)
    oneonones.register(app)
    messages.register(app)
    closed.register(app)
