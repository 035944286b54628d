"""The buttons of the 1:1 DMs: add a topic, skip the next meeting, write the outcomes."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.delivery.replies import tell_privately
from bot.oneonones.model import OneOnOneError
from bot.parsing.text import parse_number_field
from bot.views import oneonones as views
from handlers.home import refresh_home
from handlers.middleware import services_of, texts_for, user_of
from handlers.oneonones.messages import as_dm, dm, open_modal


def id_of(value: object) -> int:
    """An id from a payload, or 0 (no such row) when it is not one."""
    return parse_number_field(str(value or "")) or 0


def refuse(context: BoltContext, body: dict[str, Any], exc: OneOnOneError) -> None:
    """A button's refusal, privately in the conversation it was clicked in."""
    services = services_of(context)
    text = views.refusal_text(texts_for(context), exc)
    services.background.submit(
        tell_privately, services, user_of(context).user_id, body.get("response_url"), text
    )


def add_topic_button(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ack()
    services = services_of(context)
    texts = texts_for(context)
    user_id = user_of(context).user_id
    try:
        series = services.oneonones.party_series(user_id, id_of(body["actions"][0].get("value")))
    except OneOnOneError as exc:
        refuse(context, body, exc)
        return
    services.background.submit(
        open_modal,
        services,
        body["trigger_id"],
        lambda name: views.topic_modal(texts, series.id, name),
        series.other(user_id),
    )


def skip_button(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    services = services_of(context)
    texts = texts_for(context)
    user = user_of(context)
    try:
        skipped = services.oneonones.skip(
            user.user_id, occurrence_id=id_of(body["actions"][0].get("value"))
        )
    except OneOnOneError as exc:
        ack()
        refuse(context, body, exc)
        return
    ack()
    refresh_home(context)
    zone = user.zone(services.settings.zone)
    text = views.skipped_text(texts, skipped, user.user_id, zone)
    later = services.background.submit
    later(tell_privately, services, user.user_id, body.get("response_url"), text)
    later(
        dm,
        services,
        skipped.series.other(user.user_id),
        lambda t, z: as_dm(views.skipped_dm(t, skipped, user.user_id, z)),
    )


def outcomes_button(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ack()
    services = services_of(context)
    texts = texts_for(context)
    user_id = user_of(context).user_id
    try:
        form = services.oneonones.outcome_form(user_id, id_of(body["actions"][0].get("value")))
    except OneOnOneError as exc:
        refuse(context, body, exc)
        return
    services.background.submit(
        open_modal,
        services,
        body["trigger_id"],
        lambda name: views.outcomes_modal(texts, form, name),
        form.series.other(user_id),
    )


def register(app: App) -> None:
    app.action(views.ADD_TOPIC)(add_topic_button)
    app.action(views.SKIP)(skip_button)
    app.action(views.OUTCOMES)(outcomes_button)
