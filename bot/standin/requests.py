"""Requests exactly as Slack sends them, signed: the demo's and the tests' simulated people.

The `*_payload` methods build what Slack sends; the others sign it for HTTP. Socket Mode
(bot.standin.socket_mode) wraps the same payloads in envelopes instead.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from slack_bolt import BoltRequest
from slack_sdk.signature import SignatureVerifier

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class SignedRequest:
    body: str
    headers: dict[str, str]

    def bolt(self) -> BoltRequest:
        return BoltRequest(body=self.body, headers=dict(self.headers))

    def with_headers(self, **headers: str) -> SignedRequest:
        return SignedRequest(self.body, {**self.headers, **headers})


@dataclass
class SlackRequests:
    """Builds signed slash commands, interactions and events for one workspace."""

    signing_secret: str
    team_id: str = "T0PULSE01"
    team_domain: str = "pulse-demo"
    api_app_id: str = "A0PULSE"
    clock: Callable[[], float] = time.time
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> int:
        return next(self._ids)

    def sign(self, body: str, content_type: str, *, timestamp: int | None = None) -> SignedRequest:
        stamp = str(int(self.clock()) if timestamp is None else timestamp)
        signature = SignatureVerifier(self.signing_secret).generate_signature(
            timestamp=stamp, body=body
        )
        assert signature is not None  # only None without a body, and we always have one
        return SignedRequest(
            body=body,
            headers={
                "content-type": content_type,
                "x-slack-request-timestamp": stamp,
                "x-slack-signature": signature,
            },
        )

    def trigger_id(self) -> str:
        return f"{self.next_id()}.{int(self.clock())}.pulse{self.next_id():08x}"

    def slash_command(
        self,
        command: str,
        text: str,
        *,
        user_id: str,
        user_name: str = "",
        channel_id: str = "C01GENERAL",
        response_url: str = "https://hooks.slack.com/commands/T0PULSE/1/none",
        trigger_id: str | None = None,
    ) -> SignedRequest:
        form = self.slash_command_payload(
            command,
            text,
            user_id=user_id,
            user_name=user_name,
            channel_id=channel_id,
            response_url=response_url,
            trigger_id=trigger_id,
        )
        return self.sign(urlencode(form), FORM)

    def slash_command_payload(
        self,
        command: str,
        text: str,
        *,
        user_id: str,
        user_name: str = "",
        channel_id: str = "C01GENERAL",
        response_url: str = "https://hooks.slack.com/commands/T0PULSE/1/none",
        trigger_id: str | None = None,
    ) -> dict[str, str]:
        """The form fields of a slash command (all strings, as Slack sends them)."""
        return {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": user_name or user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or self.trigger_id(),
        }

    def _interaction(self, payload: Mapping[str, Any]) -> SignedRequest:
        return self.sign(urlencode({"payload": json.dumps(payload)}), FORM)

    def _user(self, user_id: str) -> dict[str, str]:
        return {
            "id": user_id,
            "username": user_id.lower(),
            "name": user_id.lower(),
            "team_id": self.team_id,
        }

    def block_action(
        self,
        *,
        user_id: str,
        action_id: str,
        value: str = "",
        block_id: str = "actions",
        channel_id: str | None = None,
        message_ts: str | None = None,
        view: Mapping[str, Any] | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
    ) -> SignedRequest:
        return self._interaction(
            self.block_action_payload(
                user_id=user_id,
                action_id=action_id,
                value=value,
                block_id=block_id,
                channel_id=channel_id,
                message_ts=message_ts,
                view=view,
                response_url=response_url,
                trigger_id=trigger_id,
            )
        )

    def block_action_payload(
        self,
        *,
        user_id: str,
        action_id: str,
        value: str = "",
        block_id: str = "actions",
        channel_id: str | None = None,
        message_ts: str | None = None,
        view: Mapping[str, Any] | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
    ) -> dict[str, Any]:
        """A button click's `block_actions` payload."""
        action_ts = f"{self.clock():.6f}"
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token",
            "trigger_id": trigger_id or self.trigger_id(),
            "team": {"id": self.team_id, "domain": self.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": value,
                    "action_ts": action_ts,
                    "text": {"type": "plain_text", "text": value or action_id},
                }
            ],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id", "V0")}
            payload["view"] = dict(view)
        elif channel_id is not None:
            payload["container"] = {
                "type": "message",
                "message_ts": message_ts or action_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel_id, "name": "directmessage"}
            payload["message"] = {"type": "message", "ts": message_ts or action_ts, "text": ""}
        if response_url:
            payload["response_url"] = response_url
        return payload

    def view_submission(
        self,
        *,
        user_id: str,
        callback_id: str,
        values: Mapping[str, Mapping[str, Mapping[str, Any]]],
        private_metadata: str = "",
        view_id: str | None = None,
        trigger_id: str | None = None,
    ) -> SignedRequest:
        """`values` as Slack nests them: block_id → action_id → {type, value | selected_…}."""
        return self._interaction(
            self.view_submission_payload(
                user_id=user_id,
                callback_id=callback_id,
                values=values,
                private_metadata=private_metadata,
                view_id=view_id,
                trigger_id=trigger_id,
            )
        )

    def view_submission_payload(
        self,
        *,
        user_id: str,
        callback_id: str,
        values: Mapping[str, Mapping[str, Mapping[str, Any]]],
        private_metadata: str = "",
        view_id: str | None = None,
        trigger_id: str | None = None,
    ) -> dict[str, Any]:
        """A modal's `view_submission` payload."""
        return {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": self.team_domain},
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": "legacy-verification-token",
            "trigger_id": trigger_id or self.trigger_id(),
            "view": {
                "id": view_id or f"V{self.next_id():08d}",
                "team_id": self.team_id,
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": values},
                "hash": f"{self.next_id()}.hash",
                "blocks": [],
            },
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }

    def event(self, event: Mapping[str, Any], *, event_id: str | None = None) -> SignedRequest:
        return self.sign(json.dumps(self.event_payload(event, event_id=event_id)), JSON)

    def event_payload(
        self, event: Mapping[str, Any], *, event_id: str | None = None
    ) -> dict[str, Any]:
        """An Events API `event_callback` around `event`."""
        return {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or f"Ev{self.next_id():010d}",
            "event_time": int(self.clock()),
            "authorizations": [
                {"team_id": self.team_id, "user_id": "UBOT", "is_bot": True},
            ],
        }

    def app_home_opened(self, user_id: str, *, event_id: str | None = None) -> SignedRequest:
        return self.event(self.app_home_opened_event(user_id), event_id=event_id)

    def app_home_opened_event(self, user_id: str) -> dict[str, Any]:
        return {
            "type": "app_home_opened",
            "user": user_id,
            "channel": f"D{user_id[1:]}",
            "tab": "home",
            "event_ts": f"{self.clock():.6f}",
        }
