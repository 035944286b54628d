"""`/oneonone`, the buttons of its DMs and its modals: parse, call bot.oneonones, render, ack."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.i18n import Texts
from bot.oneonones import service
from bot.oneonones.commands import (
    SCHEDULE_FORM_FIELDS,
    OneOnOneError,
    OneOnOneRequest,
    ScheduleFormErrors,
    ScheduleRequest,
    SimpleRequest,
    parse_command,
    schedule_from_form,
)
from bot.parsing.text import parse_number_field
from bot.services import Services
from bot.views import oneonones as views
from bot.views.common import error_blocks, fallback_text, notice
from handlers.home import refresh_home
from handlers.middleware import texts_for, user_of
from handlers.replies import tell_privately
from storage.directory import UserRecord

log = logging.getLogger(__name__)

# Renders a DM for its reader, in their language and time zone.
RenderFor = Callable[[Texts, ZoneInfo], tuple[str, list[Block]]]


def _error(texts: Texts, exc: OneOnOneError) -> tuple[str, list[Block]]:
    key = f"oneonone.errors.{exc.key}"
    return ":warning: " + texts(key, **exc.params), error_blocks(texts, key, **exc.params)


def _int(value: object) -> int:
    """An id from a payload, or 0 (no such row) when it is not one."""
    return parse_number_field(str(value or "")) or 0


def _metadata(view: dict[str, Any], key: str) -> int:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return 0
    return _int(data.get(key)) if isinstance(data, dict) else 0


def _value(values: dict[str, Any], block_id: str) -> str:
    element = (values.get(block_id) or {}).get(views.INPUT) or {}
    return str(element.get("value") or "")


def _schedule_from_state(values: dict[str, Any]) -> ScheduleRequest:
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
        minutes=_value(values, "minutes"),
    )


def register(app: App, services: Services) -> None:
    db = services.db
    later = services.background.submit
    fallback_zone = services.settings.zone

    # ---- after the ack: Web API calls, on services.background ---------------------------------

    def dm(user_id: str, render: RenderFor) -> None:
        """A DM in the reader's own language and time zone."""
        reader = services.directory.get(user_id)
        texts = Texts(services.directory.language(reader))
        text, blocks = render(texts, reader.zone(fallback_zone))
        try:
            services.client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("1:1 DM not sent: %s", exc.response.get("error"))

    def open_view(trigger_id: str, view: View) -> None:
        services.client.views_open(trigger_id=trigger_id, view=view)

    def open_modal(trigger_id: str, build: Callable[[str], View], other_id: str) -> None:
        """A modal naming the other person (looked up after the ack: it may ask Slack)."""
        open_view(trigger_id, build(services.directory.get(other_id).display_name))

    def person_named(person_id: str) -> UserRecord:
        """The person a 1:1 is scheduled with, on the ack path: from the directory, else one
        short try at Slack (as the asker in UserContext), so the answer stays within Slack's
        3 s. When Slack cannot answer now, say so rather than "I cannot find them"."""
        person = services.directory.find(person_id, quick=True)
        if person is None:
            raise OneOnOneError("lookup_failed", person=person_id)
        return person

    # ---- /oneonone ----------------------------------------------------------------------------

    @app.command("/oneonone")
    def oneonone_command(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
        texts = texts_for(context)
        try:
            request = parse_command(command.get("text") or "")
        except OneOnOneError as exc:
            text, blocks = _error(texts, exc)
            if exc.key == "unknown_subcommand":
                blocks += views.help_blocks(texts)
            ack(text=text, blocks=blocks)
            return
        if isinstance(request, SimpleRequest) and request.subcommand == "help":
            ack(text=texts("oneonone.help.title"), blocks=views.help_blocks(texts))
            return
        try:
            blocks, after = _run(request, command, context, texts)
        except OneOnOneError as exc:
            text, blocks = _error(texts, exc)
            ack(text=text, blocks=blocks)
            return
        if blocks:
            ack(text=fallback_text(blocks), blocks=blocks)
        else:
            ack()
        if after is not None:
            later(after)

    def _run(
        request: OneOnOneRequest, command: dict[str, str], context: BoltContext, texts: Texts
    ) -> tuple[list[Block], Callable[[], None] | None]:
        """Database work and the reply; what needs the Web API comes back as a callable."""
        user = user_of(context)
        zone = user.zone(fallback_zone)
        now = services.clock()
        if isinstance(request, SimpleRequest) and request.subcommand == "schedule":
            trigger, modal = command["trigger_id"], views.schedule_modal(texts, zone)
            return [], lambda: open_view(trigger, modal)
        if isinstance(request, SimpleRequest):  # list
            return views.list_blocks(
                texts, service.overview(db, user.user_id), user.user_id, zone
            ), None
        if isinstance(request, ScheduleRequest):
            person = person_named(request.person_id)
            series, first = service.schedule(db, user, person, request, zone=zone, now=now)
            refresh_home(services, context)
            return views.scheduled_reply(texts, series, first, zone), lambda: dm(
                series.person_id, lambda t, z: views.scheduled_dm(t, series, first, z)
            )
        other_id = request.person_id
        if request.subcommand == "add":
            series, upcoming = service.add_topic(
                db, user.user_id, other_id=other_id, text=request.text, now=now
            )
            refresh_home(services, context)
            return views.topic_added_reply(texts, series, user.user_id, upcoming, zone), None
        if request.subcommand == "notes":
            series, current = service.notes_of(db, user.user_id, other_id)
            trigger = command["trigger_id"]
            return [], lambda: open_modal(
                trigger, lambda name: views.notes_modal(texts, series.id, name, current), other_id
            )
        if request.subcommand == "skip":
            skipped = service.skip(db, user.user_id, other_id=other_id, now=now)
            refresh_home(services, context)
            reply = notice(views.skipped_text(texts, skipped, user.user_id, zone))
            return reply, lambda: dm(
                other_id, lambda t, z: _as_dm(views.skipped_dm(t, skipped, user.user_id, z))
            )
        # cancel
        series = service.cancel(db, user.user_id, other_id, now)
        refresh_home(services, context)
        message = texts("oneonone.reply.cancelled", other=other_id)
        return notice(message), lambda: dm(
            other_id,
            lambda t, z: _as_dm(t("oneonone.dm.cancelled", manager=series.manager_id)),
        )

    # ---- the DM's buttons ---------------------------------------------------------------------

    def refuse(user_id: str, body: dict[str, Any], texts: Texts, exc: OneOnOneError) -> None:
        """A button's refusal, privately in the conversation it was clicked in."""
        later(tell_privately, services, user_id, body.get("response_url"), _error(texts, exc)[0])

    @app.action(views.ADD_TOPIC)
    def add_topic_button(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        texts = texts_for(context)
        user_id = user_of(context).user_id
        try:
            series = service.party_series(db, user_id, _int(body["actions"][0].get("value")))
        except OneOnOneError as exc:
            refuse(user_id, body, texts, exc)
            return
        other_id = series.other(user_id)
        later(
            open_modal,
            body["trigger_id"],
            lambda name: views.topic_modal(texts, series.id, name),
            other_id,
        )

    @app.action(views.SKIP)
    def skip_button(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        texts = texts_for(context)
        user = user_of(context)
        response_url = body.get("response_url")
        try:
            skipped = service.skip(
                db,
                user.user_id,
                occurrence_id=_int(body["actions"][0].get("value")),
                now=services.clock(),
            )
        except OneOnOneError as exc:
            ack()
            refuse(user.user_id, body, texts, exc)
            return
        ack()
        refresh_home(services, context)
        text = views.skipped_text(texts, skipped, user.user_id, user.zone(fallback_zone))
        later(tell_privately, services, user.user_id, response_url, text)
        other_id = skipped.series.other(user.user_id)
        later(dm, other_id, lambda t, z: _as_dm(views.skipped_dm(t, skipped, user.user_id, z)))

    @app.action(views.OUTCOMES)
    def outcomes_button(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        texts = texts_for(context)
        user_id = user_of(context).user_id
        try:
            form = service.outcome_form(db, user_id, _int(body["actions"][0].get("value")))
        except OneOnOneError as exc:
            refuse(user_id, body, texts, exc)
            return
        later(
            open_modal,
            body["trigger_id"],
            lambda name: views.outcomes_modal(texts, form, name),
            form.series.other(user_id),
        )

    # ---- modals -------------------------------------------------------------------------------

    @app.view(views.SCHEDULE_MODAL)
    def schedule_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        """The typed command's rules and service call; problems under their fields, success
        closes the modal and both people hear of it by DM."""
        texts = texts_for(context)
        user = user_of(context)
        zone = user.zone(fallback_zone)
        try:
            request = _schedule_from_state(view["state"]["values"])
            person = person_named(request.person_id)
            series, first = service.schedule(
                db, user, person, request, zone=zone, now=services.clock()
            )
        except ScheduleFormErrors as problems:
            errors = {block: _error(texts, exc)[0] for block, exc in problems.errors.items()}
            ack(response_action="errors", errors=errors)
            return
        except OneOnOneError as exc:
            block = SCHEDULE_FORM_FIELDS.get(exc.key, "person")
            ack(response_action="errors", errors={block: _error(texts, exc)[0]})
            return
        ack()
        refresh_home(services, context)
        later(dm, user.user_id, lambda t, z: _as_blocks(views.scheduled_reply(t, series, first, z)))
        later(dm, series.person_id, lambda t, z: views.scheduled_dm(t, series, first, z))

    @app.view(views.TOPIC_MODAL)
    def topic_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        texts = texts_for(context)
        user = user_of(context)
        text = _value(view["state"]["values"], "topic")
        try:
            series, upcoming = service.add_topic(
                db,
                user.user_id,
                series_id=_metadata(view, "series"),
                text=text,
                now=services.clock(),
            )
        except OneOnOneError as exc:
            ack(response_action="errors", errors={"topic": _error(texts, exc)[0]})
            return
        ack()
        refresh_home(services, context)
        blocks = views.topic_added_reply(
            texts, series, user.user_id, upcoming, user.zone(fallback_zone)
        )
        later(
            services.client.chat_postMessage,
            channel=user.user_id,
            text=fallback_text(blocks),
            blocks=blocks,
        )

    @app.view(views.NOTES_MODAL)
    def notes_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        texts = texts_for(context)
        text = _value(view["state"]["values"], "notes")
        try:
            service.save_notes(
                db, user_of(context).user_id, _metadata(view, "series"), text, services.clock()
            )
        except OneOnOneError as exc:
            ack(response_action="errors", errors={"notes": _error(texts, exc)[0]})
            return
        ack()

    @app.view(views.OUTCOMES_MODAL)
    def outcomes_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        texts = texts_for(context)
        values = view["state"]["values"]
        done_state = (values.get("done") or {}).get(views.INPUT) or {}
        done = [_int(o.get("value")) for o in done_state.get("selected_options") or []]
        try:
            service.save_outcomes(
                db,
                user_of(context).user_id,
                _metadata(view, "occurrence"),
                outcome=_value(values, "outcome"),
                followups=_value(values, "followups").splitlines(),
                done=[d for d in done if d],
                now=services.clock(),
            )
        except OneOnOneError as exc:
            ack(response_action="errors", errors={"outcome": _error(texts, exc)[0]})
            return
        ack()
        refresh_home(services, context)


def _as_dm(message: str) -> tuple[str, list[Block]]:
    return message, notice(message)


def _as_blocks(blocks: list[Block]) -> tuple[str, list[Block]]:
    return fallback_text(blocks), blocks
