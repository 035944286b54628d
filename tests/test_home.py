"""App Home: published after the ack, through the Web API, with a manager section for managers."""

from __future__ import annotations

from bot.standin import RecordedCall
from tests.harness import BotHarness, block_text


def published_text(call: RecordedCall) -> str:
    view = call.params["view"]
    assert isinstance(view, dict)
    return block_text(view)


def test_home_for_an_employee(bot: BotHarness) -> None:
    assert bot.dispatch(bot.requests.app_home_opened("U05OSMITH")).status == 200
    (call,) = bot.standin.wait_for_calls("views.publish")
    assert call.params["user_id"] == "U05OSMITH"
    text = published_text(call)
    assert "Your surveys" in text
    assert "For managers" not in text


def test_home_for_a_workspace_admin_shows_manager_tools(bot: BotHarness) -> None:
    admin = next(u for u in bot.standin.workspace.users if u.is_admin)
    bot.dispatch(bot.requests.app_home_opened(admin.id))
    (call,) = bot.standin.wait_for_calls("views.publish")
    assert "/pulse summary" in published_text(call)
