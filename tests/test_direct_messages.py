"""A person who writes to the bot in its Messages tab gets short help, in their language."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.harness import BotHarness, block_text

OLIVER = "U05OSMITH"  # English
MARCO = "U02MBIANC"  # Italian
MANIFEST = Path(__file__).resolve().parent.parent / "manifest.json"


def dm_event(bot: BotHarness, user: str, text: str = "hello?", **extra: Any) -> dict[str, Any]:
    """A message.im event as Slack sends it, in the person's DM with the bot."""
    return {
        "type": "message",
        "channel": bot.standin.dm_channel_id(user),
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": "1764579600.000100",
        "event_ts": "1764579600.000100",
        **extra,
    }


def test_the_manifest_subscribes_to_the_messages_it_lets_people_send() -> None:
    manifest = json.loads(MANIFEST.read_text())
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False
    assert "message.im" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert "im:history" in manifest["oauth_config"]["scopes"]["bot"]  # message.im needs it


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        pytest.param(OLIVER, "I work through commands rather than messages", id="english"),
        pytest.param(MARCO, "Funziono con i comandi, non con i messaggi", id="italian"),
    ],
)
def test_a_dm_to_the_bot_is_answered_with_help(bot: BotHarness, user: str, expected: str) -> None:
    response = bot.dispatch(bot.requests.event(dm_event(bot, user)))
    assert response.status == 200
    (answer,) = bot.standin.wait_for(lambda: bot.dms(user))
    shown = block_text({"text": answer.text, "blocks": answer.blocks})
    assert expected in shown and "/deal help" in shown


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"subtype": "message_changed"}, id="edit"),
        pytest.param({"subtype": "message_deleted"}, id="deletion"),
        pytest.param({"subtype": "bot_message", "bot_id": "B01"}, id="bot_message"),
        pytest.param({"bot_id": "B01"}, id="a_bot_with_a_user"),
        pytest.param({"channel_type": "channel", "channel": "C02SALES"}, id="not_a_dm"),
    ],
)
def test_bot_messages_edits_and_subtypes_are_not_answered(
    bot: BotHarness, extra: dict[str, Any]
) -> None:
    assert bot.dispatch(bot.requests.event(dm_event(bot, OLIVER, **extra))).status == 200
    # A real message after it is answered, and alone: nothing else was queued before it.
    bot.dispatch(bot.requests.event(dm_event(bot, MARCO)))
    bot.standin.wait_for(lambda: bot.dms(MARCO))
    bot.services.background.shutdown()
    assert bot.dms(OLIVER) == []
