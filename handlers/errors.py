"""What Slack gets when a listener fails: a friendly ephemeral line, never a traceback."""

from __future__ import annotations

import json
import logging

from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bot.i18n import Texts
from bot.services import Services
from handlers.middleware import forget_delivery, texts_for

log = logging.getLogger(__name__)

# DBAPIError covers OperationalError (connection refused, server gone) and its kin.
DATABASE_ERRORS = (DBAPIError, PoolTimeoutError)


def register(app: App, services: Services) -> None:
    @app.error
    def on_error(error: Exception, request: BoltRequest) -> BoltResponse:
        forget_delivery(services, request.context)
        unavailable = isinstance(error, DATABASE_ERRORS)
        if unavailable:
            log.error("database unavailable: %s", type(error).__name__)
        else:
            log.exception("listener failed", exc_info=error)
        if request.body.get("type") == "event_callback":
            # Events are retried by Slack: a 500 asks for that retry.
            return BoltResponse(status=500, body="")
        texts: Texts = texts_for(request.context)
        key = "common.error_unavailable" if unavailable else "common.error_generic"
        body = {"response_type": "ephemeral", "text": ":warning: " + texts(key)}
        return BoltResponse(
            status=200,
            body=json.dumps(body),
            headers={"content-type": "application/json; charset=utf-8"},
        )
