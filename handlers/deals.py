"""`/deal`, its buttons and its modals: parse, call bot.deals, render, answer."""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.errors import SlackApiError

from bot.deals.arguments import DealRefById, NewDealArgs
from bot.deals.commands import (
    ExportRequested,
    OpenNewDealForm,
    Refusal,
    run_deal_command,
)
from bot.deals.export import export_deals
from bot.deals.service import Actor, DealChange, DealError
from bot.i18n import Texts
from bot.parsing.money import parse_amount
from bot.parsing.text import ParseError
from bot.services import Services
from bot.views import deals as views
from bot.views.common import fallback_text
from handlers.home import refresh_home
from handlers.middleware import texts_for, user_of
from handlers.replies import send_file_by_dm, tell_privately

log = logging.getLogger(__name__)

ANNOUNCED = {"created", "won", "lost"}
CHANGE_BUTTONS = re.compile(f"^({views.ADVANCE}|{views.WIN}|{views.SNOOZE})$")
MODAL_BUTTONS = re.compile(f"^({views.NOTE}|{views.LOSE})$")


def actor_of(context: BoltContext) -> Actor:
    return Actor(user_id=user_of(context).user_id, is_manager=bool(context.get("is_manager")))


def local_today(services: Services, context: BoltContext) -> date:
    """Dates like `tomorrow` mean the person's tomorrow, in their own time zone."""
    return services.clock().astimezone(user_of(context).zone(services.settings.zone)).date()


def announce_later(services: Services, change: DealChange) -> None:
    """New, won and lost deals go to the deals channel after the ack; other changes, or no
    channel set, cost nothing."""
    channel = services.settings.deals_channel
    if channel and change.kind in ANNOUNCED:
        services.background.submit_in_order(
            f"channel:{channel}", _announce, services, channel, change
        )


def _announce(services: Services, channel: str, change: DealChange) -> None:
    client = services.client
    language = services.settings.language
    text, blocks = views.announcement(Texts(language), change, language)
    try:
        client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    except SlackApiError as exc:
        log.warning("deal announcement failed: %s", exc.response.get("error"))


def send_export(services: Services, user_id: str, texts: Texts) -> None:
    export = export_deals(services.db)
    send_file_by_dm(
        services,
        user_id,
        texts,
        "/deal export",
        content=export.content,
        filename=f"pulsebot-deals-{services.clock().date().isoformat()}.csv",
        title="pulsebot deals",
        initial_comment=texts("deal.export.done", deals=export.deals, events=export.events),
    )


def register(app: App, services: Services) -> None:
    deals = services.deals
    later = services.background.submit

    # -- the command ----------------------------------------------------------------------

    @app.command("/deal")
    def deal_command(ack: Ack, command: dict[str, str], context: BoltContext) -> None:
        texts = texts_for(context)
        language = context["language"]
        result = run_deal_command(
            deals,
            actor_of(context),
            command.get("text") or "",
            today=local_today(services, context),
            language=language,
        )
        if isinstance(result, OpenNewDealForm):
            ack()
            view = views.new_deal_modal(
                texts,
                deals.pipeline,
                owner_id=command["user_id"],
                channel_id=command.get("channel_id", ""),
            )
            later(services.client.views_open, trigger_id=command["trigger_id"], view=view)
            return
        blocks = views.command_reply(texts, result, language, services.settings.currency)
        ack(text=fallback_text(blocks), blocks=blocks)
        if isinstance(result, ExportRequested):
            later(send_export, services, command["user_id"], texts)
        elif isinstance(result, DealChange):
            announce_later(services, result)

    # -- buttons: advance, won, snooze change the deal right away ---------------------------

    @app.action(CHANGE_BUTTONS)
    def deal_button(
        ack: Ack, action: dict[str, Any], body: dict[str, Any], context: BoltContext
    ) -> None:
        result: DealChange | Refusal
        try:
            ref = DealRefById(int(action.get("value", "")))
            actor = actor_of(context)
            if action["action_id"] == views.ADVANCE:
                result = deals.advance(actor, ref)
            elif action["action_id"] == views.WIN:
                result = deals.won(actor, ref)
            else:
                result = deals.snooze(actor, ref)
        except (ValueError, ParseError):
            result = Refusal("deal.id_invalid", {"value": str(action.get("value", ""))[:20]})
        except DealError as exc:
            result = Refusal(exc.key, exc.params)
        ack()
        texts, language = texts_for(context), context["language"]
        user = user_of(context)
        if isinstance(result, DealChange):
            blocks = views.change_reply(texts, result, language)
            announce_later(services, result)
        else:
            blocks = views.refusal(texts, result)
        from_home = (body.get("view") or {}).get("type") == "home"
        if from_home:
            refresh_home(services, context)
        if not from_home or isinstance(result, Refusal):
            services.background.submit_in_order(  # two quick clicks: their replies in order
                f"reply:{user.user_id}",
                tell_privately,
                services,
                user.user_id,
                body.get("response_url"),
                fallback_text(blocks),
                blocks,
            )

    # -- buttons: note and lost open a modal ---------------------------------------------

    @app.action(MODAL_BUTTONS)
    def modal_button(
        ack: Ack, action: dict[str, Any], body: dict[str, Any], context: BoltContext
    ) -> None:
        ack()
        texts = texts_for(context)
        actor = actor_of(context)
        refusal: Refusal | None = None
        try:
            card = deals.show(DealRefById(int(action.get("value", ""))), history=0)
        except (ValueError, DealError):
            refusal = Refusal("deal.id_invalid", {"value": str(action.get("value", ""))[:20]})
        else:
            if not actor.is_manager and actor.user_id != card.deal.owner_id:
                refusal = Refusal(
                    "deal.not_owner", {"name": card.deal.name, "owner": card.deal.owner_id}
                )
        if refusal is not None:
            blocks = views.refusal(texts, refusal)
            later(
                tell_privately,
                services,
                actor.user_id,
                body.get("response_url"),
                fallback_text(blocks),
                blocks,
            )
            return
        channel = (body.get("channel") or {}).get("id")
        build = views.note_modal if action["action_id"] == views.NOTE else views.lost_modal
        view = build(texts, card.deal, channel_id=channel)
        later(services.client.views_open, trigger_id=body["trigger_id"], view=view)

    # -- modal submissions ----------------------------------------------------------------

    def confirm(context: BoltContext, change: DealChange) -> None:
        blocks = views.change_reply(texts_for(context), change, context["language"])
        later(
            services.client.chat_postMessage,
            channel=user_of(context).user_id,
            text=fallback_text(blocks),
            blocks=blocks,
        )
        announce_later(services, change)

    @app.view(views.NEW_MODAL)
    def new_deal_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        texts = texts_for(context)
        values = view["state"]["values"]
        name = _input_value(values, "name") or ""
        errors: dict[str, str] = {}
        amount = None
        raw_amount = _input_value(values, "amount")
        if raw_amount:
            try:
                amount = parse_amount(raw_amount, services.settings.currency)
            except ParseError as exc:
                errors["amount"] = texts(f"errors.{exc.key}", **exc.params)
        close = _input_value(values, "close", "selected_date")
        try:
            args = NewDealArgs(
                name=name,
                amount=amount,
                stage=_input_value(values, "stage", "selected_option"),
                owner_id=_input_value(values, "owner", "selected_user"),
                source=_input_value(values, "source") or None,
                close_date=date.fromisoformat(close) if close else None,
            )
        except ParseError as exc:
            errors["name"] = texts(f"errors.{exc.key}", **exc.params)
        except ValueError:
            errors.setdefault("name", texts("errors.deal.name_invalid", value=name[:50]))
        if errors:
            ack(response_action="errors", errors=errors)
            return
        try:
            change = deals.create(actor_of(context), args)
        except DealError as exc:
            field = "name" if exc.key.startswith("deal.") else "source"
            ack(response_action="errors", errors={field: texts(f"errors.{exc.key}", **exc.params)})
            return
        ack()
        confirm(context, change)

    @app.view(views.NOTE_MODAL)
    @app.view(views.LOST_MODAL)
    def note_or_lost_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        texts = texts_for(context)
        metadata = _metadata(view)
        field = "note" if view["callback_id"] == views.NOTE_MODAL else "reason"
        text = _input_value(view["state"]["values"], field) or ""
        try:
            ref = DealRefById(int(metadata.get("deal", 0)))
            actor = actor_of(context)
            if field == "note":
                change = deals.add_note(actor, ref, text)
            else:
                change = deals.lost(actor, ref, text)
        except DealError as exc:
            ack(response_action="errors", errors={field: texts(f"errors.{exc.key}", **exc.params)})
            return
        except (ValueError, TypeError, ParseError):  # a forged or mangled private_metadata
            value = str(metadata.get("deal", ""))[:20]
            ack(
                response_action="errors",
                errors={field: texts("errors.deal.id_invalid", value=value)},
            )
            return
        ack()
        confirm(context, change)


def _input_value(
    values: dict[str, dict[str, dict[str, Any]]], block_id: str, kind: str = "value"
) -> str | None:
    block = values.get(block_id)
    element = block.get("value") if isinstance(block, dict) else None
    if not isinstance(element, dict):  # only a forged payload has anything else here
        return None
    value = element.get(kind)
    if kind == "selected_option":
        value = value.get("value") if isinstance(value, dict) else None
    return value if isinstance(value, str) else None


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}
