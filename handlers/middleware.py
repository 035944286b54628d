"""Bolt middleware for what every listener needs: the Services, de-duplicated deliveries and
who is asking; and the helpers listeners read them with."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import BoltContext, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.actor import Actor
from bot.directory import UserRecord
from bot.i18n import Texts
from bot.replays import claim_delivery, release_delivery
from bot.services import Services

log = logging.getLogger(__name__)


def delivery_key(body: Mapping[str, Any]) -> str | None:
    """What identifies one Slack delivery across its retries and replays."""
    event_id = body.get("event_id")
    if event_id:
        return f"event:{event_id}"
    trigger_id = body.get("trigger_id")
    if trigger_id:
        kind = body.get("type") or body.get("command") or "request"
        return f"{kind}:{trigger_id}"
    return None


class ServicesContext(Middleware):
    """Hands the Services to every listener (each a module-level function) in its context."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],
    ) -> BoltResponse | None:
        req.context["services"] = self._services
        return next()


class RetryDeduplication(Middleware):
    """A delivery already handled is acknowledged again and not redone.

    Slack retries events (`X-Slack-Retry-Num`) when our answer was slow or lost; a replayed
    or double-submitted payload carries the same id. Only the first one reaches a listener.
    """

    def __init__(self, services: Services) -> None:
        self._services = services

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],
    ) -> BoltResponse | None:
        key = delivery_key(req.body)
        if key is not None:
            if not claim_delivery(self._services.db, key, self._services.clock()):
                retry = req.headers.get("x-slack-retry-num", ["-"])[0]
                log.info("duplicate delivery %s (retry %s) acknowledged, not redone", key, retry)
                return BoltResponse(status=200, body="")
            req.context["delivery_key"] = key
        return next()


class UserContext(Middleware):
    """Puts the asking user, their role and language in the context, looked up once."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],
    ) -> BoltResponse | None:
        user_id = req.context.user_id
        if user_id:
            directory = self._services.directory
            user = directory.get(user_id, quick=True)  # Slack is waiting for our answer
            req.context["user"] = user
            req.context["is_manager"] = directory.is_manager(user)
            req.context["language"] = directory.language(user)
        else:
            req.context["language"] = self._services.settings.language
        return next()


def services_of(context: BoltContext) -> Services:
    services = context.get("services")
    if not isinstance(services, Services):
        raise RuntimeError("ServicesContext middleware did not run")
    return services


def texts_for(context: BoltContext) -> Texts:
    return Texts(context.get("language", "en"))


def user_of(context: BoltContext) -> UserRecord:
    user = context.get("user")
    if not isinstance(user, UserRecord):
        raise RuntimeError("UserContext middleware did not run")
    return user


def actor_of(context: BoltContext) -> Actor:
    """The asking person as the services' permission checks know them."""
    user = user_of(context)
    return Actor(
        user_id=user.user_id,
        is_manager=bool(context.get("is_manager")),
        is_guest=user.is_restricted,
    )


def forget_delivery(services: Services, context: BoltContext) -> None:
    """After a failure, let Slack's retry of the same delivery be handled for real."""
    key = context.get("delivery_key")
    if key:
        try:
            release_delivery(services.db, key)
        except Exception:  # the database may be the very thing that failed
            log.warning("could not release delivery key %s", key)
