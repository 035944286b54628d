"""Buttons on deal replies, cards and digests: advance, won and snooze change the deal at
once; note and lost open a modal."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.deals.arguments import DealRefById
from bot.deals.commands import (
    CommandResult,
    ExportRequested,
    OpenNewDealForm,
    Refusal,
    run_on_chosen_deal,
)
from bot.deals.service import DealChange, DealError
from bot.delivery.replies import tell_privately
from bot.parsing.text import ParseError, parse_number_field
from bot.views import deals as views
from bot.views.common import fallback_text
from handlers.deals.commands import local_today
from handlers.deals.messages import announce_later
from handlers.home import refresh_home
from handlers.middleware import actor_of, services_of, texts_for, user_of

CHOICE_BUTTONS = re.compile(f"^{views.CHOOSE}_[0-9]+$")
CHANGE_BUTTONS = re.compile(f"^({views.ADVANCE}|{views.WIN}|{views.SNOOZE})$")
MODAL_BUTTONS = re.compile(f"^({views.NOTE}|{views.LOSE})$")


def deal_ref(value: object) -> DealRefById:
    """The deal a button names (ValueError or ParseError when the value is not one)."""
    return DealRefById(int(str(value)))


def invalid_id(action: dict[str, Any]) -> Refusal:
    return Refusal("deal.id_invalid", {"value": str(action.get("value", ""))[:20]})


def deal_button(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], context: BoltContext
) -> None:
    services = services_of(context)
    deals = services.deals
    result: DealChange | Refusal
    try:
        ref = deal_ref(action.get("value", ""))
        actor = actor_of(context)
        if action["action_id"] == views.ADVANCE:
            result = deals.advance(actor, ref)
        elif action["action_id"] == views.WIN:
            result = deals.won(actor, ref)
        else:
            result = deals.snooze(actor, ref)
    except (ValueError, ParseError):
        result = invalid_id(action)
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
        refresh_home(context)
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


def modal_button(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], context: BoltContext
) -> None:
    ack()
    services = services_of(context)
    texts = texts_for(context)
    actor = actor_of(context)
    try:
        deal = services.deals.changeable(actor, deal_ref(action.get("value", "")))
    except (ValueError, ParseError, DealError) as exc:
        refusal = (
            Refusal(exc.key, exc.params)
            if isinstance(exc, DealError) and exc.key == "deal.not_owner"
            else invalid_id(action)
        )
        blocks = views.refusal(texts, refusal)
        services.background.submit(
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
    view = build(texts, deal, channel_id=channel)
    services.background.submit(services.client.views_open, trigger_id=body["trigger_id"], view=view)


def chosen_deal(value: object) -> tuple[str, int, list[str]]:
    """The command, deal id and words a "which deal?" button carries (ValueError if forged)."""
    data = json.loads(str(value))
    if not isinstance(data, dict):
        raise ValueError("not a chosen deal")
    command, deal_id, rest = data.get("command"), data.get("deal"), data.get("rest")
    number = parse_number_field(str(deal_id))
    if not isinstance(command, str) or number is None or not isinstance(rest, list):
        raise ValueError("not a chosen deal")
    return command, number, [str(word) for word in rest]


def choose_deal(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], context: BoltContext
) -> None:
    """A deal picked from "which deal?": the command runs on it, and its reply takes the place
    of the question (which is ephemeral, so only the response_url can replace it)."""
    services = services_of(context)
    texts, language = texts_for(context), context["language"]
    actor = actor_of(context)
    try:
        command, deal_id, rest = chosen_deal(action.get("value", ""))
    except ValueError:  # json.JSONDecodeError is one
        result: CommandResult = invalid_id(action)
    else:
        result = run_on_chosen_deal(
            services.deals,
            actor,
            command,
            deal_id,
            rest,
            today=local_today(services, context),
            language=language,
        )
    ack()
    if isinstance(result, ExportRequested | OpenNewDealForm):  # no button carries these
        result = invalid_id(action)
    blocks = views.command_reply(texts, result, language, services.settings.currency)
    services.background.submit_in_order(
        f"reply:{actor.user_id}",
        tell_privately,
        services,
        actor.user_id,
        body.get("response_url"),
        fallback_text(blocks),
        blocks,
        replace_original=True,
    )
    if isinstance(result, DealChange):
        announce_later(services, result)


def register(app: App) -> None:
    app.action(CHOICE_BUTTONS)(choose_deal)
    app.action(CHANGE_BUTTONS)(deal_button)
    app.action(MODAL_BUTTONS)(modal_button)
