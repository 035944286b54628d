"""Greetings call people by their first name (Slack's profile first_name), not the full name."""

from __future__ import annotations

from bot.directory import user_record_from_slack
from tests.harness import BotHarness, block_text


def test_the_home_tab_greets_by_first_name(bot: BotHarness) -> None:
    bot.dispatch(bot.requests.app_home_opened("U05OSMITH"))  # Oliver Smith
    (call,) = bot.standin.wait_for_calls("views.publish")
    view = call.params["view"]
    assert isinstance(view, dict)
    text = block_text(view)
    assert "Hi Oliver!" in text and "Oliver Smith" not in text


def test_the_home_tab_greets_in_italian_by_first_name(bot: BotHarness) -> None:
    bot.dispatch(bot.requests.app_home_opened("U02MBIANC"))  # Marco Bianchi
    (call,) = bot.standin.wait_for_calls("views.publish")
    view = call.params["view"]
    assert isinstance(view, dict)
    assert "Ciao Marco!" in block_text(view)


def test_first_name_from_the_profile_else_the_display_name_else_the_full_name() -> None:
    def record(**profile: str) -> str:
        user = {"id": "U1", "name": "o.smith", "real_name": "Oliver Smith", "profile": profile}
        return user_record_from_slack(user).greeting_name

    assert record(first_name="Olly", display_name="oliver") == "Olly"
    assert record(first_name="", display_name="Oliver") == "Oliver"
    assert record() == "Oliver Smith"
