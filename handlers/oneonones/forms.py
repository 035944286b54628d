"""The 1:1 modals: schedule a series, add a topic, private notes, a meeting's outcomes."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext
from slack_sdk.models.blocks import Block

from bot.i18n import Texts
from bot.oneonones.commands import (
    SCHEDULE_FORM_FIELDS,
    ScheduleFormErrors,
    schedule_from_form,
)
from bot.oneonones.model import OneOnOneError, ScheduleRequest
from bot.views import oneonones as views
from bot.views.common import fallback_text
from handlers.home import refresh_home
from handlers.middleware import services_of, texts_for, user_of
from handlers.oneonones.buttons import id_of
from handlers.oneonones.messages import as_blocks, dm


def metadata_id(view: dict[str, Any], key: str) -> int:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return 0
    return id_of(data.get(key)) if isinstance(data, dict) else 0


def input_text(values: dict[str, Any], block_id: str) -> str:
    element = (values.get(block_id) or {}).get(views.INPUT) or {}
    return str(element.get("value") or "")


def schedule_from_state(values: dict[str, Any]) -> ScheduleRequest:
    """The schedule modal's state → a ScheduleRequest, or ScheduleFormErrors by block."""

    def state(block_id: str) -> dict[str, Any]:
        return dict((values.get(block_id) or {}).get(views.INPUT) or {})

    def chosen(block_id: str) -> str | None:
        value = (state(block_id).get("selected_option") or {}).get("value")
        return None if value is None else str(value)

    person = state("person").get("selected_user")
    at_time = state("time").get("selected_time")
    return schedule_from_form(
        None if person is None else str(person),
        every=chosen("every"),
        weekday=chosen("weekday"),
        at_time=None if at_time is None else str(at_time),
        minutes=input_text(values, "minutes"),
    )


def schedule_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    """The typed command's rules and service call; problems under their fields, success
    closes the modal and both people hear of it by DM."""
    services = services_of(context)
    texts = texts_for(context)
    user = user_of(context)
    zone = user.zone(services.settings.zone)
    try:
        request = schedule_from_state(view["state"]["values"])
        series, first = services.oneonones.schedule(user.user_id, request, zone=zone)
    except ScheduleFormErrors as problems:
        errors = {block: views.refusal_text(texts, exc) for block, exc in problems.errors.items()}
        ack(response_action="errors", errors=errors)
        return
    except OneOnOneError as exc:
        block = SCHEDULE_FORM_FIELDS.get(exc.key, "person")
        ack(response_action="errors", errors={block: views.refusal_text(texts, exc)})
        return
    ack()
    refresh_home(context)
    later = services.background.submit

    def confirmation(t: Texts, z: ZoneInfo) -> tuple[str, list[Block]]:
        blocks = views.scheduled_reply(t, series, first, z)
        outside = services.oneonones.outside_working_day(series, first, zone=zone)
        if outside is not None:
            blocks += views.outside_working_day_blocks(t, series, outside)
        return as_blocks(blocks)

    later(dm, services, user.user_id, confirmation)
    later(dm, services, series.person_id, lambda t, z: views.scheduled_dm(t, series, first, z))


def topic_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    services = services_of(context)
    texts = texts_for(context)
    user = user_of(context)
    try:
        series, upcoming = services.oneonones.add_topic(
            user.user_id,
            series_id=metadata_id(view, "series"),
            text=input_text(view["state"]["values"], "topic"),
        )
    except OneOnOneError as exc:
        ack(response_action="errors", errors={"topic": views.refusal_text(texts, exc)})
        return
    ack()
    refresh_home(context)
    zone = user.zone(services.settings.zone)
    blocks = views.topic_added_reply(texts, series, user.user_id, upcoming, zone)
    services.background.submit(
        services.client.chat_postMessage,
        channel=user.user_id,
        text=fallback_text(blocks),
        blocks=blocks,
    )


def notes_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    texts = texts_for(context)
    try:
        services_of(context).oneonones.save_notes(
            user_of(context).user_id,
            metadata_id(view, "series"),
            input_text(view["state"]["values"], "notes"),
        )
    except OneOnOneError as exc:
        ack(response_action="errors", errors={"notes": views.refusal_text(texts, exc)})
        return
    ack()


def outcomes_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    texts = texts_for(context)
    values = view["state"]["values"]
    done_state = (values.get("done") or {}).get(views.INPUT) or {}
    done = [id_of(o.get("value")) for o in done_state.get("selected_options") or []]
    try:
        services_of(context).oneonones.save_outcomes(
            user_of(context).user_id,
            metadata_id(view, "occurrence"),
            outcome=input_text(values, "outcome"),
            followups=input_text(values, "followups").splitlines(),
            done=[d for d in done if d],
        )
    except OneOnOneError as exc:
        ack(response_action="errors", errors={"outcome": views.refusal_text(texts, exc)})
        return
    ack()
    refresh_home(context)


def register(app: App) -> None:
    app.view(views.SCHEDULE_MODAL)(schedule_submitted)
    app.view(views.TOPIC_MODAL)(topic_submitted)
    app.view(views.NOTES_MODAL)(notes_submitted)
    app.view(views.OUTCOMES_MODAL)(outcomes_submitted)
