"""Payloads as Slack documents them (tests/payloads/), with fields the bot never reads, are
handled: signed and delivered as they are, each has its effect and gets the right answer."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import select

from bot.standin.requests import FORM, JSON, SignedRequest
from storage.deals import DealEvent
from tests.harness import BotHarness
from tests.reliability.helpers import REP, deal_id, stage_moves

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"


def load(bot: BotHarness, name: str, **fields: str) -> str:
    text = (PAYLOADS / name).read_text().strip()
    for key, value in fields.items():
        text = text.replace("{{" + key + "}}", value)
    assert "{{" not in text, name
    return text


def interaction(bot: BotHarness, name: str, **fields: str) -> SignedRequest:
    return bot.requests.sign(urlencode({"payload": load(bot, name, **fields)}), FORM)


def test_documented_payloads_are_handled(bot: BotHarness) -> None:
    bot.command(REP, "/deal", 'new "Doc Deal" 10k')
    deal = str(deal_id(bot, "Doc Deal"))
    response_url = bot.standin.response_url(user_id=REP)

    command = bot.requests.sign(
        load(bot, "slash_command.urlencoded", RESPONSE_URL=response_url), FORM
    )
    reply = BotHarness.reply_text(bot.dispatch(command))
    assert "Doc Deal" in reply and "qualified" in reply.lower()

    click = interaction(bot, "block_actions.json", DEAL_ID=deal, RESPONSE_URL=response_url)
    assert bot.dispatch(click).status == 200
    assert stage_moves(bot) == [("lead", "qualified"), ("qualified", "nurturing")]

    form = interaction(bot, "view_submission.json", DEAL_ID=deal)
    submitted = bot.dispatch(form)
    assert (submitted.status, submitted.body) == (200, "")
    with bot.services.db.transaction() as session:
        notes = session.scalars(select(DealEvent.note).where(DealEvent.kind == "note")).all()
    assert "Sent the proposal, they liked it" in notes

    closed = bot.dispatch(interaction(bot, "view_closed.json", DEAL_ID=deal))
    assert closed.status == 200

    home = bot.requests.sign(load(bot, "app_home_opened.json"), JSON)
    assert bot.dispatch(home).status == 200
    bot.standin.wait_for_calls("views.publish", count=1)

    challenge = bot.dispatch(bot.requests.sign(load(bot, "url_verification.json"), JSON))
    assert challenge.status == 200
    assert json.loads(challenge.body)["challenge"].startswith("3eZbrw1aBm2r")
    assert bot.services.background.wait_idle()
    rejected = [c.method for c in bot.standin.calls if c.status >= 400 or c.error]
    assert rejected == []
