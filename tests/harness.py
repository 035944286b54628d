"""The bot booted in memory against the stand-in: type a command, read the reply."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltResponse
from sqlalchemy import MetaData

from bot.app import build_app, build_services
from bot.clock import FrozenClock
from bot.config import Settings
from bot.services import Services
from bot.standin import SlackStandIn
from bot.standin.requests import SignedRequest, SlackRequests
from bot.standin.transcript import render_message
from storage.db import Database
from storage.migrate import upgrade


@dataclass
class BotHarness:
    app: App
    services: Services
    standin: SlackStandIn
    requests: SlackRequests
    clock: FrozenClock  # what the bot takes for now: set it or move it on, it never ticks

    @classmethod
    def boot(
        cls, settings: Settings, *, db: Database, standin: SlackStandIn, clock: FrozenClock
    ) -> BotHarness:
        upgrade(db.engine)
        services = build_services(settings, db=db, clock=clock)
        app = build_app(services)
        requests = SlackRequests(settings.slack_signing_secret.get_secret_value())
        return cls(app=app, services=services, standin=standin, requests=requests, clock=clock)

    def dispatch(self, request: SignedRequest) -> BoltResponse:
        return self.app.dispatch(request.bolt())

    def command(self, user_id: str, command: str, text: str = "") -> BoltResponse:
        """Type a slash command as `user_id`; returns the HTTP answer Slack would get."""
        return self.dispatch(
            self.requests.slash_command(
                command, text, user_id=user_id, response_url=self.standin.response_url()
            )
        )

    def click(
        self,
        user_id: str,
        action_id: str,
        value: str,
        *,
        from_home: bool = False,
        response_url: str | None = None,
        message: Any = None,
    ) -> BoltResponse:
        """Click a button: in a DM message (a SimMessage) when given, on the App Home tab with
        `from_home`, else in an ephemeral message whose response_url answers the user."""
        if from_home:
            request = self.requests.block_action(
                user_id=user_id,
                action_id=action_id,
                value=value,
                view={"id": "VHOME", "type": "home", "blocks": []},
            )
        else:
            request = self.requests.block_action(
                user_id=user_id,
                action_id=action_id,
                value=value,
                channel_id=message.channel
                if message is not None
                else self.standin.dm_channel_id(user_id),
                message_ts=message.ts if message is not None else None,
                response_url=response_url or self.standin.response_url(user_id=user_id),
            )
        return self.dispatch(request)

    def submit(
        self,
        user_id: str,
        callback_id: str,
        values: dict[str, dict[str, dict[str, Any]]],
        private_metadata: str = "",
    ) -> BoltResponse:
        return self.dispatch(
            self.requests.view_submission(
                user_id=user_id,
                callback_id=callback_id,
                values=values,
                private_metadata=private_metadata,
            )
        )

    def table_rows(self) -> dict[str, set[tuple[str, ...]]]:
        """Every row of every table, as text: compare two of these to see what a request wrote."""
        metadata = MetaData()
        metadata.reflect(self.services.db.engine)
        with self.services.db.engine.connect() as connection:
            return {
                table.name: {
                    tuple(str(v) for v in row) for row in connection.execute(table.select())
                }
                for table in metadata.sorted_tables
            }

    def dms(self, user_id: str) -> list[Any]:
        """The bot's DMs to one person (not ephemerals), oldest first."""
        return [m for m in self.standin.messages_for(user_id) if not m.ephemeral]

    @staticmethod
    def reply(response: BoltResponse) -> dict[str, Any]:
        """The JSON body of an ack with content (an ephemeral reply)."""
        assert response.status == 200, (response.status, response.body)
        if not response.body.lstrip().startswith("{"):
            return {"text": response.body}  # Bolt answers a text-only ack as plain text
        body: dict[str, Any] = json.loads(response.body)
        return body

    @classmethod
    def reply_text(cls, response: BoltResponse) -> str:
        """All text a person sees in a reply: the fallback text and every block's text."""
        return block_text(cls.reply(response))

    def close(self) -> None:
        # Work after the ack (a DM, a directory upsert) may still be running: let it end before
        # the test's database goes, or the schema's DROP deadlocks with its queries.
        self.services.background.shutdown()
        self.services.client.retry_handlers.clear()


def block_text(message: dict[str, Any]) -> str:
    """The fallback text and the blocks as a person reads them, for assertions."""
    return "\n".join(part for part in (message.get("text") or "", render_message(message)) if part)
