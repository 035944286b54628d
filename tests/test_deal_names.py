"""Deal names typed without quotes: the longest name wins, ambiguity is asked, near misses found."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.deals.arguments import deal_name_key
from bot.deals.matching import (
    Ambiguous,
    Found,
    Missing,
    NamedDeal,
    match_partial,
    suggest,
)
from bot.standin.records import ResponsePost
from bot.views import deals as views
from tests.harness import BotHarness, block_text
from tests.test_deals_commands import OTHER_REP, REP, count_rows, deal_row, events, say


def named(deal_id: int, name: str) -> NamedDeal:
    return NamedDeal(deal_id, name, deal_name_key(name))


def buttons(reply: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for block in reply.get("blocks") or []:
        if block.get("type") == "actions":
            found += block["elements"]
    return found


@pytest.fixture
def acmes(bot: BotHarness) -> BotHarness:
    say(bot, REP, "new Acme 1k")
    say(bot, REP, 'new "Acme Robotics" 2k')
    return bot


def test_advance_takes_the_longest_name_the_words_begin_with(acmes: BotHarness) -> None:
    reply = say(acmes, REP, "advance Acme Robotics")
    assert "*Acme Robotics*" in reply
    assert (deal_row(acmes, "acme").stage, deal_row(acmes, "acme robotics").stage) == (
        "lead",
        "qualified",
    )
    assert events(acmes, deal_row(acmes, "acme robotics").id)[-1].note is None


def test_the_words_after_the_name_are_the_note(acmes: BotHarness) -> None:
    say(acmes, REP, "advance acme robotics demo went well")
    deal = deal_row(acmes, "acme robotics")
    assert events(acmes, deal.id)[-1].note == "demo went well"
    say(acmes, REP, "advance ACME sent the quote")  # a whole name, then words that begin none
    assert deal_row(acmes, "acme").stage == "qualified"


def test_show_in_capitals(acmes: BotHarness) -> None:
    assert "Acme Robotics (#2)" in say(acmes, REP, "show ACME ROBOTICS")


def test_a_stage_after_an_unquoted_name(acmes: BotHarness) -> None:
    say(acmes, REP, "stage Acme Robotics proposal")
    assert deal_row(acmes, "acme robotics").stage == "proposal"


def test_a_quoted_name_is_the_name_as_typed(acmes: BotHarness) -> None:
    say(acmes, REP, 'advance "Acme" Robotics')
    assert deal_row(acmes, "acme").stage == "qualified"
    assert events(acmes, deal_row(acmes, "acme").id)[-1].note == "Robotics"


def test_words_running_into_a_longer_name_are_asked_about(acmes: BotHarness) -> None:
    # "acme rob…" is Acme with a note "rob", or the start of Acme Robotics: ask.
    reply = BotHarness.reply(acmes.command(REP, "/deal", "advance acme rob"))
    assert "fits more than one deal" in block_text(reply)
    assert [b["text"]["text"] for b in buttons(reply)] == ["Acme (#1)", "Acme Robotics (#2)"]
    assert deal_row(acmes, "acme").stage == deal_row(acmes, "acme robotics").stage == "lead"


def test_ambiguous_words_ask_with_buttons_and_a_click_runs_the_command(bot: BotHarness) -> None:
    say(bot, REP, 'new "ACME Corp" 1k')
    say(bot, REP, 'new "ACME Robotics" 2k')
    reply = BotHarness.reply(bot.command(REP, "/deal", "advance acme great call"))
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    assert "*acme* fits more than one deal" in block_text(reply)
    offered = buttons(reply)
    assert [b["text"]["text"] for b in offered] == ["ACME Corp (#1)", "ACME Robotics (#2)"]
    assert deal_row(bot, "acme corp").stage == deal_row(bot, "acme robotics").stage == "lead"

    url = bot.standin.response_url(user_id=REP)
    bot.click(REP, offered[1]["action_id"], offered[1]["value"], response_url=url)
    posts: list[ResponsePost] = bot.standin.wait_for(lambda: bot.standin.response_posts(url))
    (answer,) = posts
    assert answer.replace_original and answer.response_type == "ephemeral"
    assert "*ACME Robotics*" in (answer.text or "")
    robotics = deal_row(bot, "acme robotics")
    assert (deal_row(bot, "acme corp").stage, robotics.stage) == ("lead", "qualified")
    assert events(bot, robotics.id)[-1].note == "great call"


def test_a_near_miss_is_suggested_per_word(bot: BotHarness) -> None:
    say(bot, REP, 'new "ACME Corp" 1k')
    reply = BotHarness.reply(bot.command(REP, "/deal", "advance ACEM"))
    assert "There is no deal called *ACEM*" in block_text(reply)
    (offered,) = buttons(reply)
    assert offered["text"]["text"] == "ACME Corp (#1)"
    assert json.loads(offered["value"]) == {"command": "advance", "deal": 1, "rest": []}
    bot.click(REP, offered["action_id"], offered["value"])
    bot.standin.wait_for(lambda: deal_row(bot, "acme corp").stage == "qualified")


def test_own_visibility_never_offers_another_reps_deal(bot: BotHarness) -> None:
    bot.services.deals.visibility = "own"
    say(bot, OTHER_REP, 'new "Globex Europe" 1k')
    say(bot, OTHER_REP, 'new "Globex Asia" 1k')
    say(bot, REP, 'new "Globex Italia" 1k')
    for text in ("show globx", "show globex", "advance glob"):
        reply = BotHarness.reply(bot.command(REP, "/deal", text))
        shown = json.dumps(reply)
        assert "Europe" not in shown and "Asia" not in shown, text
    # Their only visible Globex is theirs, so "globex" names it.
    assert "Globex Italia (#3)" in say(bot, REP, "show globex")


def test_a_forged_choice_changes_nothing(acmes: BotHarness) -> None:
    url = acmes.standin.response_url(user_id=REP)
    acmes.click(REP, f"{views.CHOOSE}_0", '{"command": "advance", "deal": "x"}', response_url=url)
    posts = acmes.standin.wait_for(lambda: acmes.standin.response_posts(url))
    assert "not a deal number" in (posts[0].text or "")
    assert deal_row(acmes, "acme").stage == "lead"


DEALS = [named(1, "ACME Corp"), named(2, "Globex"), named(3, "Acme Robotics"), named(4, "Initech")]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        pytest.param("ACEM", {"ACME Corp", "Acme Robotics"}, id="swapped_letters"),
        pytest.param("robtics", {"Acme Robotics"}, id="second_word_misspelt"),
        pytest.param("glbex", {"Globex"}, id="letter_missing"),
        pytest.param("intech", {"Initech"}, id="letter_missing_again"),
        pytest.param("zzz", set(), id="nothing_near"),
    ],
)
def test_near_misses(typed: str, expected: set[str]) -> None:
    assert {c.deal.name for c in suggest(typed.split(), DEALS)} == expected


def test_parts_of_names_by_word_prefix() -> None:
    assert match_partial(["acm", "robotics", "call"], DEALS) == Found(DEALS[2], 2)
    assert match_partial(["robotics"], DEALS) == Found(DEALS[2], 1)
    assert isinstance(match_partial(["acme"], DEALS), Ambiguous)
    # Two letters are offered, never acted on.
    short = match_partial(["gl"], DEALS)
    assert isinstance(short, Missing) and [c.deal for c in short.suggestions] == [DEALS[1]]


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        pytest.param(REP, "without quotes (`/deal advance Acme Robotics", id="english"),
        pytest.param("U02MBIANC", "senza virgolette (`/deal advance Acme Robotics", id="italian"),
    ],
)
def test_help_says_names_need_no_quotes(bot: BotHarness, user: str, expected: str) -> None:
    assert expected in say(bot, user, "help")


@pytest.mark.parametrize(
    ("text", "name", "stage", "amount"),
    [
        pytest.param("new Acme Robotics 50k proposal", "Acme Robotics", "proposal", "50000.00",
                     id="words_then_amount"),
        pytest.param("new Acme Robotics Europe", "Acme Robotics Europe", "lead", None,
                     id="words_alone"),
        pytest.param("new O’Brien & Sons qualified", "O’Brien & Sons", "qualified", None,
                     id="apostrophe_and_ampersand"),
        pytest.param('new "Acme" Robotics', None, None, None, id="quoted_name_stays_as_typed"),
    ],
)  # fmt: skip
def test_new_takes_an_unquoted_name_up_to_the_first_optional_part(
    bot: BotHarness, text: str, name: str | None, stage: str | None, amount: str | None
) -> None:
    reply = say(bot, REP, text)
    if name is None:  # "Robotics" after a quoted name is not part of it: refused
        assert "Robotics" in reply and count_rows(bot) == (0, 0)
        return
    deal = deal_row(bot, deal_name_key(name))
    assert (deal.name, deal.stage, None if deal.amount is None else str(deal.amount)) == (
        name,
        stage,
        amount,
    )


def test_a_forged_choice_cannot_create_a_deal(acmes: BotHarness) -> None:
    url = acmes.standin.response_url(user_id=REP)
    value = views.chosen_deal_value("new", 1, ["50k"])
    acmes.click(REP, f"{views.CHOOSE}_0", value, response_url=url)
    acmes.standin.wait_for(lambda: acmes.standin.response_posts(url))
    assert count_rows(acmes)[0] == 2
