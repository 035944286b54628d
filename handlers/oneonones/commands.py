"""`/oneonone`: carried out by bot.oneonones.commands, rendered, acked; DMs and modals after."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext

from bot.oneonones.commands import (
    Cancelled,
    MeetingSkipped,
    OpenNotes,
    OpenScheduleForm,
    Scheduled,
    TopicAdded,
    run_oneonone_command,
)
from bot.views import oneonones as views
from handlers.home import refresh_home
from handlers.middleware import services_of, texts_for, user_of
from handlers.oneonones.messages import as_dm, dm, open_modal


def oneonone_command(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
    services = services_of(context)
    texts = texts_for(context)
    user = user_of(context)
    zone = user.zone(services.settings.zone)
    result = run_oneonone_command(
        services.oneonones, user.user_id, command.get("text") or "", zone=zone
    )
    text, blocks = views.command_reply(texts, result, user.user_id, zone)
    if blocks:
        ack(text=text, blocks=blocks)
    else:
        ack()
    later = services.background.submit
    if isinstance(result, OpenScheduleForm):
        view = views.schedule_modal(texts, zone)
        later(services.client.views_open, trigger_id=command["trigger_id"], view=view)
    elif isinstance(result, OpenNotes):
        series, notes = result.series, result.notes
        later(
            open_modal,
            services,
            command["trigger_id"],
            lambda name: views.notes_modal(texts, series.id, name, notes),
            result.other_id,
        )
    elif isinstance(result, Scheduled):
        series, first = result.series, result.first
        later(dm, services, series.person_id, lambda t, z: views.scheduled_dm(t, series, first, z))
    elif isinstance(result, MeetingSkipped):
        skipped, by_id = result.skipped, user.user_id
        later(
            dm,
            services,
            result.other_id,
            lambda t, z: as_dm(views.skipped_dm(t, skipped, by_id, z)),
        )
    elif isinstance(result, Cancelled):
        manager_id = result.series.manager_id
        later(
            dm,
            services,
            result.other_id,
            lambda t, z: as_dm(t("oneonone.dm.cancelled", manager=manager_id)),
        )
    if isinstance(result, Scheduled | TopicAdded | MeetingSkipped | Cancelled):
        refresh_home(context)


def register(app: App) -> None:
    app.command("/oneonone")(oneonone_command)
