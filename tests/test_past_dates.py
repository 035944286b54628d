"""Close and due dates in the past are refused, naming the date; `yesterday`/`ieri` are read."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from bot.clock import FrozenClock
from bot.parsing.dates import parse_date
from bot.views import deals as views
from tests.harness import BotHarness, block_text
from tests.test_deals_commands import ITALIAN_REP, REP, count_rows, say

NOW = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)  # a Wednesday morning in London and Rome
TODAY = date(2026, 6, 10)


@pytest.fixture(autouse=True)
def frozen(clock: FrozenClock) -> None:
    clock.now = NOW


@pytest.mark.parametrize("word", ["yesterday", "Yesterday", "ieri", "IERI"])
def test_yesterday_is_read(word: str) -> None:
    assert parse_date(word, TODAY) == date(2026, 6, 9)


@pytest.mark.parametrize(
    ("user", "text", "expected"),
    [
        pytest.param(
            REP,
            "new Globex 5k close:yesterday",
            "`yesterday` is Tuesday 9 June 2026, which is already past",
            id="close_yesterday",
        ),
        pytest.param(
            REP,
            "new Globex 5k close:2026-01-15",
            "`2026-01-15` is Thursday 15 January 2026, which is already past",
            id="close_iso_in_the_past",
        ),
        pytest.param(
            ITALIAN_REP,
            "new Globex 5k chiusura:ieri",
            "`ieri` è martedì 9 giugno 2026, una data già passata",
            id="chiusura_ieri",
        ),
        pytest.param(
            REP,
            "next ACME call back due:2026-06-01",
            "`2026-06-01` is Monday 1 June 2026, which is already past",
            id="due_in_the_past",
        ),
    ],
)
def test_a_past_date_is_refused_naming_it(
    bot: BotHarness, user: str, text: str, expected: str
) -> None:
    say(bot, REP, "new ACME 1k")
    before = count_rows(bot)
    shown = block_text(BotHarness.reply(bot.command(user, "/deal", text)))
    assert expected in shown
    assert count_rows(bot) == before


def test_today_is_not_past(bot: BotHarness) -> None:
    say(bot, REP, "new Globex 5k close:today")
    assert count_rows(bot)[0] == 1


def test_the_new_deal_modal_refuses_a_past_close_date(bot: BotHarness) -> None:
    def values(close: str) -> dict[str, dict[str, dict[str, object]]]:
        return {
            "name": {"value": {"type": "plain_text_input", "value": "Cyberdyne"}},
            "stage": {"value": {"type": "static_select", "selected_option": {"value": "lead"}}},
            "owner": {"value": {"type": "users_select", "selected_user": REP}},
            "close": {"value": {"type": "datepicker", "selected_date": close}},
        }

    refused = bot.submit(REP, views.NEW_MODAL, values("2026-06-09"), "{}")
    errors = json.loads(refused.body)["errors"]
    assert "2026-06-09" in errors["close"] and "already past" in errors["close"]
    assert count_rows(bot) == (0, 0)
    assert bot.submit(REP, views.NEW_MODAL, values("2026-06-10"), "{}").body == ""
    assert count_rows(bot)[0] == 1
