"""`/pulse`: parse and carry out with bot.surveys.commands, render, ack; Slack calls after."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.actor import Actor
from bot.delivery import survey_dms
from bot.delivery.replies import send_file_by_dm
from bot.delivery.summary import send_preview
from bot.i18n import Language, Texts
from bot.services import Services
from bot.surveys.commands import (
    ExportRequested,
    OpenComposeForm,
    OpenScheduleForm,
    RunClosed,
    RunStarted,
    SummaryRequested,
    run_pulse_command,
)
from bot.views import surveys as views
from bot.views.common import notice
from handlers.middleware import actor_of, services_of, texts_for, user_of


def pulse_command(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
    services = services_of(context)
    texts = texts_for(context)
    actor = actor_of(context)
    result = run_pulse_command(services.surveys, actor, command.get("text") or "")
    later = services.background.submit
    if isinstance(result, OpenComposeForm | OpenScheduleForm):
        ack()
        view = (
            views.compose_modal(texts)
            if isinstance(result, OpenComposeForm)
            else views.schedule_modal(texts, result.choices, zone=services.surveys.policy.timezone)
        )
        later(open_view, services, command["trigger_id"], view)
        return
    blocks = views.command_reply(
        texts,
        result,
        min_responses=services.settings.min_responses,
        zone=services.surveys.policy.timezone,
        confidence=services.settings.confidence,
    )
    ack(text=views.reply_message(texts, result), blocks=blocks)
    if isinstance(result, RunStarted):
        later(send_run, services, result.run.id, actor.user_id, texts.language)
    elif isinstance(result, RunClosed):
        later(survey_dms.send_close_notices_soon, services)  # releases the results first
    elif isinstance(result, ExportRequested):
        later(send_export, services, actor, texts.language, result.name)
    elif isinstance(result, SummaryRequested):
        later(
            send_preview,
            services,
            user_id=user_of(context).user_id,
            channel_id=command.get("channel_id") or None,
            language=texts.language,
            week=result.week,
            now=result.now,
        )


# ---- after the ack: Web API calls, on services.background -----------------------------------


def open_view(services: Services, trigger_id: str, view: Any) -> None:
    services.client.views_open(trigger_id=trigger_id, view=view)


def send_run(services: Services, run_id: int, asker_id: str, language: Language) -> None:
    """A run started by hand: its audience looked up and its DMs sent, at once; if its
    audience is too small for anonymity, the run is dropped and the manager told."""
    now = services.clock()
    survey_dms.resolve_audiences(services, now)
    if services.surveys.get_run(run_id) is None:
        message = Texts(language)(
            "pulse.reply.too_few_people", needed=services.settings.min_responses
        )
        services.client.chat_postMessage(channel=asker_id, text=message, blocks=notice(message))
        return
    survey_dms.dispatch_due_deliveries(services, now, run_id=run_id)


def send_export(services: Services, actor: Actor, language: Language, name: str) -> None:
    texts = Texts(language)
    content = views.export_file(texts, services.surveys.export(actor, name))
    send_file_by_dm(
        services,
        actor.user_id,
        texts,
        "/pulse export",
        content=content,
        filename=f"pulse-{name}.csv",
        title=f"{name}.csv",
        initial_comment=texts(
            "pulse.reply.export_comment", name=name, needed=services.settings.min_responses
        ),
    )


def register(app: App) -> None:
    app.command("/pulse")(pulse_command)
