"""Slack listeners, registered per surface. Thin: parse, call a service in bot/, render, answer."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers import closed, deals, errors, home, oneonones, summary, surveys
from handlers.middleware import RetryDeduplication, UserContext


def register(app: App, services: Services) -> None:
    app.use(RetryDeduplication(services))
    app.use(UserContext(services))
    errors.register(app, services)
    deals.register(app, services)
    surveys.register(app, services)
    home.register(app, services)
    summary.register(app, services)
    oneonones.register(app, services)
    closed.register(app, services)
