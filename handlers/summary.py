"""The App Home's manager buttons: a private preview of the weekly summary, a run's results."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.actor import Actor
from bot.delivery.summary import send_preview
from bot.i18n import Texts
from bot.services import Services
from bot.surveys.model import SurveyError
from bot.views import surveys as survey_views
from bot.views.common import error_blocks
from bot.views.home import HOME_RESULTS_ACTION, HOME_SUMMARY_ACTION
from bot.weeks import reported_week
from handlers.middleware import actor_of, services_of, texts_for, user_of


def home_summary(ack: Ack, context: BoltContext) -> None:
    ack()
    if not context.get("is_manager"):
        return
    services = services_of(context)
    now = services.clock()
    services.background.submit(
        send_preview,
        services,
        user_id=user_of(context).user_id,
        channel_id=None,  # from the Home tab: the preview goes to the manager's DM
        language=context["language"],
        week=reported_week(now, services.settings.zone),
        now=now,
    )


def home_results(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ack()
    services = services_of(context)
    name = str(body["actions"][0].get("value") or "")
    services.background.submit(
        send_results_dm, services, actor_of(context), texts_for(context), name
    )


def send_results_dm(services: Services, actor: Actor, texts: Texts, name: str) -> None:
    """A run's results, from the Home tab's button, by DM (a button has no channel reply)."""
    try:
        survey, results, definition = services.surveys.results(actor, name, None)
    except SurveyError as exc:
        if exc.key == "common.manager_only":
            return  # only managers see the button; a forged click gets nothing
        text = texts(exc.key, **exc.params)
        blocks = error_blocks(texts, exc.key, **exc.params)
    else:
        blocks = survey_views.results_blocks(texts, survey.name, definition, results)
        text = survey_views.survey_title(texts, definition)
    services.client.chat_postMessage(channel=actor.user_id, text=text, blocks=blocks)


def register(app: App) -> None:
    app.action(HOME_SUMMARY_ACTION)(home_summary)
    app.action(HOME_RESULTS_ACTION)(home_results)
