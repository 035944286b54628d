"""What Slack gets when a listener fails: a friendly private line, never a traceback.

Each kind of request is answered where Slack shows it: a slash command in the ack's body, a
click through its response_url (Slack ignores a click's ack body), a form as an error under
its first field (an ack body that is not a response_action is "trouble connecting").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from bot.delivery.replies import tell_privately
from bot.i18n import Texts
from bot.replays import failure_kind
from bot.services import Services
from bot.views.home import unavailable_home
from handlers.middleware import forget_delivery, services_of, texts_for

log = logging.getLogger(__name__)

JSON_HEADERS: dict[str, str | Sequence[str]] = {"content-type": "application/json; charset=utf-8"}


def tell_after_a_click(services: Services, body: dict[str, Any], text: str) -> None:
    """The friendly line for a click: in its conversation, else (App Home) by DM."""
    user_id = str((body.get("user") or {}).get("id") or "")
    if body.get("response_url") or user_id:
        tell_privately(services, user_id, body.get("response_url"), text)


def first_input_block(body: dict[str, Any]) -> str | None:
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    return next(iter(values), None) if isinstance(values, dict) else None


KEYS = {
    "in_doubt": "common.error_in_doubt",
    "unavailable": "common.error_unavailable",
    "bug": "common.error_generic",
}


def on_error(error: Exception, request: BoltRequest) -> BoltResponse:
    forget_delivery(services_of(request.context), request.context)
    kind_of_failure = failure_kind(error)
    if kind_of_failure == "bug":
        log.exception("listener failed", exc_info=error)
    else:
        log.error("database unavailable: %s", type(error).__name__)
    texts: Texts = texts_for(request.context)
    return answer_privately(request, ":warning: " + texts(KEYS[kind_of_failure]))


def answer_privately(request: BoltRequest, text: str) -> BoltResponse:
    """The friendly private line instead of what was asked: each kind of request answered
    where Slack shows it (see the module's docstring)."""
    services = services_of(request.context)
    body = request.body
    kind = body.get("type")
    if kind == "event_callback":
        # The one event is app_home_opened: the Home tab says what is wrong (views.publish
        # needs no database) and the next opening tries again. No 5xx: Slack would retry
        # into the same outage, and counts failures against the app's event subscription.
        event = body.get("event") or {}
        if event.get("type") == "app_home_opened" and event.get("user"):
            services.background.submit(
                services.client.views_publish,
                user_id=event["user"],
                view=unavailable_home(texts_for(request.context), text),
            )
        return BoltResponse(status=200, body="")
    if kind == "block_actions":
        services.background.submit(tell_after_a_click, services, body, text)
        return BoltResponse(status=200, body="")
    if kind == "view_submission":
        block_id = first_input_block(body)
        if block_id is None:
            return BoltResponse(status=200, body="")
        answer = {"response_action": "errors", "errors": {block_id: text}}
        return BoltResponse(status=200, body=json.dumps(answer), headers=JSON_HEADERS)
    if kind in ("view_closed", "block_suggestion"):
        return BoltResponse(status=200, body="")
    answer = {"response_type": "ephemeral", "text": text}
    return BoltResponse(status=200, body=json.dumps(answer), headers=JSON_HEADERS)


def register(app: App) -> None:
    app.error(on_error)
