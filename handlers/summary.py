"""`/pulse summary` and the App Home's manager buttons: a private preview of the weekly summary."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.i18n import Texts
from bot.services import Services
from bot.summary import parse_week, reported_week
from bot.summary_post import send_preview
from bot.surveys import service as surveys
from bot.surveys.jobs import policy_of
from bot.surveys.model import SurveyError
from bot.views import surveys as survey_views
from bot.views.common import error_blocks, notice
from bot.views.home import HOME_RESULTS_ACTION, HOME_SUMMARY_ACTION
from handlers.middleware import texts_for, user_of

log = logging.getLogger(__name__)


def summary_command(
    ack: Ack, services: Services, command: dict[str, str], context: BoltContext, args: list[str]
) -> None:
    """`/pulse summary [YYYY-Www]`: ack at once, then the preview from the background pool."""
    texts = texts_for(context)
    if not context.get("is_manager"):
        refused = texts("common.manager_only", command="/pulse summary")
        ack(text=refused, blocks=notice(refused))
        return
    now = services.clock()
    zone = services.settings.zone
    try:
        if len(args) > 1:
            raise ValueError(args[1])
        week = parse_week(args[0], zone) if args else reported_week(now, zone)
    except ValueError:
        message = texts("summary.bad_week", value=" ".join(args))
        ack(text=message, blocks=error_blocks(texts, "summary.bad_week", value=" ".join(args)))
        return
    preparing = texts("summary.preparing", week=week.label)
    ack(text=preparing, blocks=notice(preparing))
    services.background.submit(
        send_preview,
        services,
        user_id=user_of(context).user_id,
        channel_id=command.get("channel_id") or None,
        language=context["language"],
        week=week,
        now=now,
    )


def send_results_dm(services: Services, user_id: str, texts: Texts, name: str) -> None:
    try:
        survey, results, definition = surveys.run_results(
            services.db, policy_of(services), name, None
        )
        blocks = survey_views.results_blocks(texts, survey.name, definition, results)
        text = survey_views.survey_title(texts, definition)
    except SurveyError as exc:
        text = texts(exc.key, **exc.params)
        blocks = error_blocks(texts, exc.key, **exc.params)
    services.client.chat_postMessage(channel=user_id, text=text, blocks=blocks)


def register(app: App, services: Services) -> None:
    @app.action(HOME_SUMMARY_ACTION)
    def home_summary(ack: Ack, context: BoltContext) -> None:
        ack()
        if not context.get("is_manager"):
            return
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

    @app.action(HOME_RESULTS_ACTION)
    def home_results(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        if not context.get("is_manager"):
            return
        name = str(body["actions"][0].get("value") or "")
        services.background.submit(
            send_results_dm, services, user_of(context).user_id, texts_for(context), name
        )
