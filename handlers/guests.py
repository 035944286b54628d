"""Slack's guests get a polite refusal from every command, button, form and the Home tab.

A workspace's single- and multi-channel guests (clients, contractors) would otherwise read the
pipeline, amounts included, and the survey and 1:1 commands. Who is asking is known from the
UserContext middleware; nothing a guest sends reaches a listener.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from handlers.errors import answer_privately
from handlers.middleware import actor_of, texts_for


class GuestsRefused(Middleware):
    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],
    ) -> BoltResponse | None:
        if req.context.get("user") is not None and actor_of(req.context).is_guest:
            return answer_privately(req, texts_for(req.context)("common.guest_refused"))
        return next()
