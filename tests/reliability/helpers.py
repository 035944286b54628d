"""What the reliability cases share: who is who in the demo workspace, and what is stored."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import BoltResponse
from sqlalchemy import func, select

from bot.standin import validate_blocks
from storage.deals import Deal, DealEvent
from tests.harness import BotHarness

MANAGER = "U01GROSSI"  # a workspace admin: a manager without any setting
REP = "U05OSMITH"  # an account exec, no manager
OTHER_REP = "U07JMILLE"  # an SDR, English, no manager


def stage_moves(bot: BotHarness) -> list[tuple[str | None, str | None]]:
    with bot.services.db.transaction() as session:
        moves = session.scalars(
            select(DealEvent).where(DealEvent.kind == "stage").order_by(DealEvent.id)
        )
        return [(m.from_stage, m.to_stage) for m in moves]


def deal_count(bot: BotHarness) -> int:
    with bot.services.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Deal)) or 0)


def deal_id(bot: BotHarness, name: str) -> int:
    with bot.services.db.transaction() as session:
        found = session.scalars(select(Deal.id).where(Deal.name == name)).one()
        return int(found)


def ephemeral_of(response: BoltResponse) -> dict[str, Any]:
    """The answer Slack shows privately; checked the way Slack would check its blocks."""
    body = BotHarness.reply(response)
    assert body.get("response_type", "ephemeral") == "ephemeral", body
    if "blocks" in body:
        assert validate_blocks(body["blocks"]) == [], body["blocks"]
    return body


def json_body(response: BoltResponse) -> dict[str, Any]:
    if not response.body:
        return {}
    parsed: dict[str, Any] = json.loads(response.body)
    return parsed
