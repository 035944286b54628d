"""`/deal help` and `/pulse help`: the command reference, in the person's language."""

from __future__ import annotations

import pytest

from bot.standin import validate_blocks
from tests.harness import BotHarness


@pytest.mark.parametrize("command", ["/deal", "/pulse"])
def test_help_is_an_ephemeral_reference(bot: BotHarness, command: str) -> None:
    reply = BotHarness.reply(bot.command("U05OSMITH", command, "help"))
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    text = BotHarness.reply_text(bot.command("U05OSMITH", command, ""))
    assert f"{command} new" in text or f"{command} templates" in text
    assert validate_blocks(reply["blocks"]) == []


def test_help_follows_the_users_slack_locale(bot: BotHarness) -> None:
    italian = BotHarness.reply_text(bot.command("U02MBIANC", "/deal", "help"))
    assert "la tua pipeline di vendita" in italian
    english = BotHarness.reply_text(bot.command("U05OSMITH", "/deal", "help"))
    assert "your sales pipeline" in english


def test_unknown_subcommand_answers_with_help(bot: BotHarness) -> None:
    text = BotHarness.reply_text(bot.command("U05OSMITH", "/deal", "frobnicate now"))
    assert "I don't know `/deal frobnicate`" in text
    assert "/deal advance" in text


def test_user_is_looked_up_once(bot: BotHarness) -> None:
    for _ in range(3):
        bot.command("U05OSMITH", "/pulse", "help")
    assert len(bot.standin.calls_to("users.info")) == 1
