"""The comment modal says it was saved (without repeating the comment)."""

from __future__ import annotations

import json

from bot.standin import validate_view
from bot.views import surveys as views
from tests.harness import BotHarness, block_text
from tests.test_surveys import bot, buttons, click_enps, latest_view, start, survey_dm, wait_for_dms

__all__ = ["bot"]  # the surveys' bot fixture (with a manager), used here by name

OLIVER = "U05OSMITH"


def comment_values(text: str) -> dict[str, dict[str, dict[str, object]]]:
    return {views.COMMENT_BLOCK: {views.ANSWER_ACTION: {"type": "plain_text_input", "value": text}}}


def test_a_saved_comment_turns_the_modal_into_a_confirmation(bot: BotHarness) -> None:
    start(bot, "enps")
    wait_for_dms(bot, [OLIVER])
    click_enps(bot, OLIVER, 9)
    bot.standin.wait_for(lambda: survey_dm(bot, OLIVER).edit_count == 1)
    dm = survey_dm(bot, OLIVER)
    (comment_button,) = [b for b in buttons(dm) if b["action_id"] == views.COMMENT_ACTION]
    bot.click(OLIVER, views.COMMENT_ACTION, comment_button["value"], message=dm)
    modal = latest_view(bot)
    assert modal["callback_id"] == views.COMMENT_CALLBACK

    done = bot.submit(
        OLIVER, views.COMMENT_CALLBACK, comment_values("more coffee"), modal["private_metadata"]
    )
    body = json.loads(done.body)
    assert body["response_action"] == "update"
    assert validate_view(body["view"]) == []
    shown = block_text({"blocks": body["view"]["blocks"]})
    assert "your comment is saved" in shown and "more coffee" not in shown
    assert "submit" not in body["view"]  # only Close is left

    cleared = bot.submit(
        OLIVER, views.COMMENT_CALLBACK, comment_values(""), modal["private_metadata"]
    )
    assert "comment is removed" in block_text(
        {"blocks": json.loads(cleared.body)["view"]["blocks"]}
    )
