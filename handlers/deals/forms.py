"""The deal modals: a new deal (`/deal new` alone), a note, a lost reason."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.deals.arguments import DealRefById, NewDealArgs
from bot.deals.service import DealError
from bot.parsing.money import parse_amount
from bot.parsing.text import ParseError
from bot.views import deals as views
from handlers.deals.commands import local_today
from handlers.deals.messages import confirm_by_dm
from handlers.middleware import actor_of, services_of, texts_for


def input_value(
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


def metadata_of(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _picked_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:  # only a forged payload sends a date picker anything else
        return None


def new_deal_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    services = services_of(context)
    texts = texts_for(context)
    values = view["state"]["values"]
    name = input_value(values, "name") or ""
    errors: dict[str, str] = {}
    amount = None
    raw_amount = input_value(values, "amount")
    if raw_amount:
        try:
            amount = parse_amount(raw_amount, services.settings.currency)
        except ParseError as exc:
            errors["amount"] = texts(f"errors.{exc.key}", **exc.params)
    close = input_value(values, "close", "selected_date")
    close_date = _picked_date(close)
    if close_date is not None and close_date < local_today(services, context):
        errors["close"] = texts("errors.date.past", value=close, date=close)
    try:
        args = NewDealArgs(
            name=name,
            amount=amount,
            stage=input_value(values, "stage", "selected_option"),
            owner_id=input_value(values, "owner", "selected_user"),
            source=input_value(values, "source") or None,
            close_date=close_date,
        )
    except ParseError as exc:
        errors["name"] = texts(f"errors.{exc.key}", **exc.params)
    except ValueError:
        errors.setdefault("name", texts("errors.deal.name_invalid", value=name[:50]))
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        change = services.deals.create(actor_of(context), args)
    except DealError as exc:
        field = "name" if exc.key.startswith("deal.") else "source"
        ack(response_action="errors", errors={field: texts(f"errors.{exc.key}", **exc.params)})
        return
    ack()
    confirm_by_dm(context, change)


def note_or_lost_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    deals = services_of(context).deals
    texts = texts_for(context)
    metadata = metadata_of(view)
    field = "note" if view["callback_id"] == views.NOTE_MODAL else "reason"
    text = input_value(view["state"]["values"], field) or ""
    try:
        ref = DealRefById(int(metadata.get("deal", 0)))
        actor = actor_of(context)
        change = (
            deals.add_note(actor, ref, text) if field == "note" else deals.lost(actor, ref, text)
        )
    except DealError as exc:
        ack(response_action="errors", errors={field: texts(f"errors.{exc.key}", **exc.params)})
        return
    except (ValueError, TypeError, ParseError):  # a forged or mangled private_metadata
        value = str(metadata.get("deal", ""))[:20]
        ack(response_action="errors", errors={field: texts("errors.deal.id_invalid", value=value)})
        return
    ack()
    confirm_by_dm(context, change)


def register(app: App) -> None:
    app.view(views.NEW_MODAL)(new_deal_submitted)
    app.view(views.NOTE_MODAL)(note_or_lost_submitted)
    app.view(views.LOST_MODAL)(note_or_lost_submitted)
