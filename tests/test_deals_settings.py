"""PULSEBOT_STAGES and PULSEBOT_CURRENCY take effect in `/deal`, through signed requests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.clock import FrozenClock
from bot.standin import SlackStandIn
from storage.db import Database
from tests.conftest import make_settings
from tests.harness import BotHarness
from tests.test_deals_commands import ITALIAN_REP, REP, count_rows, deal_row, events, say

# Three open stages of a made-up sales process, none of them a default one, and a currency
# other than the default EUR.
STAGES = "discovery:25:10,demo:40:7,contract:80:3"
CURRENCY = "USD"


@pytest.fixture
def bot(db: Database, standin: SlackStandIn, clock: FrozenClock) -> Iterator[BotHarness]:
    settings = make_settings(
        SLACK_API_URL=standin.url,
        DATABASE_URL=make_url(str(db.engine.url)).render_as_string(hide_password=False),
        PULSEBOT_STAGES=STAGES,
        PULSEBOT_CURRENCY=CURRENCY.lower(),  # read case-insensitively
    )
    harness = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
    yield harness
    harness.close()


def test_new_deals_start_in_the_first_custom_stage_and_advance_in_its_order(
    bot: BotHarness,
) -> None:
    assert "in discovery" in say(bot, REP, "new Acme 10k")
    assert "moved discovery → *demo*" in say(bot, REP, "advance acme")
    assert "moved demo → *contract*" in say(bot, REP, "advance acme")
    assert "last open stage" in say(bot, REP, "advance acme")
    assert "moved back contract → *demo*" in say(bot, REP, "back acme")
    assert "moved demo → *discovery*" in say(bot, REP, "stage acme discovery")
    deal = deal_row(bot, "acme")
    moves = [(e.from_stage, e.to_stage) for e in events(bot, deal.id)]
    assert moves == [
        (None, "discovery"),
        ("discovery", "demo"),
        ("demo", "contract"),
        ("contract", "demo"),
        ("demo", "discovery"),
    ]
    assert "in contract" in say(bot, REP, "new Beta 1k contract")


def test_pipeline_weighs_amounts_with_the_custom_probabilities(bot: BotHarness) -> None:
    say(bot, REP, "new Alpha 20k")  # discovery, 25%: 5,000
    say(bot, REP, "new Beta 10k contract")  # 80%: 8,000
    say(bot, REP, "new Gamma 4k demo")  # 40%: 1,600
    text = say(bot, REP, "pipeline")
    assert "Weighted pipeline*\n$14,600" in text
    assert "Open deals*\n3 · $34,000" in text
    lines = {line.split()[0]: line for line in text.splitlines() if line[:1].isalpha()}
    assert lines["discovery"].split()[1:3] == ["25%", "1"]
    assert lines["contract"].split()[1:3] == ["80%", "1"]
    assert "lead" not in lines and "proposal" not in lines


def test_unknown_stages_answer_with_the_custom_list(bot: BotHarness) -> None:
    say(bot, REP, "new Acme 10k")
    before = count_rows(bot)
    stages = "discovery, demo, contract, won, lost"
    assert f"There is no stage `proposal`. The stages are: {stages}." in say(
        bot, REP, "stage acme proposal"
    )
    assert stages in say(bot, REP, "list qualified")
    # A default stage name is no stage here, so `new` does not know what the word is.
    assert "I don't know what `proposal` means here" in say(bot, REP, "new Other 1k proposal")
    assert count_rows(bot) == before


def test_help_names_the_custom_stages(bot: BotHarness) -> None:
    assert "discovery → demo → contract → won / lost" in say(bot, REP, "help")
    assert "discovery → demo → contract → vinta / persa" in say(bot, ITALIAN_REP, "help")


def test_stale_days_come_from_the_custom_stages(bot: BotHarness) -> None:
    start = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    bot.clock.now = start
    say(bot, REP, "new Quick 1k contract")  # stale after 3 days
    say(bot, REP, "new Slow 1k discovery")  # stale after 10 days
    bot.clock.now = start + timedelta(days=4)
    stalled = say(bot, REP, "stalled")
    assert "Stalled deals (1)" in stalled and "Quick" in stalled and "Slow" not in stalled


def test_deals_without_a_currency_get_the_configured_one(bot: BotHarness) -> None:
    assert "$5,000" in say(bot, REP, "new Plain 5k")
    assert deal_row(bot, "plain").currency == CURRENCY
    say(bot, REP, "new Unpriced")
    assert deal_row(bot, "unpriced").currency == CURRENCY
    say(bot, REP, "new Euro €5k")
    assert deal_row(bot, "euro").currency == "EUR"


def test_a_new_amount_without_a_currency_keeps_the_deals_own(bot: BotHarness) -> None:
    say(bot, REP, "new Unpriced")
    say(bot, REP, "new Euro €5k")
    # Not the workspace's USD: the deal was priced in euros.
    assert "is now €6,000" in say(bot, REP, "amount euro 6k")
    assert (str(deal_row(bot, "euro").amount), deal_row(bot, "euro").currency) == (
        "6000.00",
        "EUR",
    )
    (changed,) = [e for e in events(bot, deal_row(bot, "euro").id) if e.kind == "amount"]
    assert changed.changes == {"amount": ["5000.00", "6000.00"], "currency": ["EUR", "EUR"]}
    # A currency given with the amount changes the deal's.
    assert "is now £7,000" in say(bot, REP, "amount euro 7k GBP")
    assert deal_row(bot, "euro").currency == "GBP"
    say(bot, REP, "amount unpriced 2k")
    assert deal_row(bot, "unpriced").currency == CURRENCY


def test_new_deal_modal_uses_the_configured_currency_and_stages(bot: BotHarness) -> None:
    bot.command(REP, "/deal", "new")
    (opened,) = bot.standin.wait_for_calls("views.open")
    view = opened.params["view"]
    assert isinstance(view, dict)
    stage_options = [
        option["value"]
        for block in view["blocks"]
        if block.get("block_id") == "stage"
        for option in block["element"]["options"]
    ]
    assert stage_options == ["discovery", "demo", "contract"]
    values: dict[str, dict[str, dict[str, Any]]] = {
        "name": {"value": {"type": "plain_text_input", "value": "Modal Co"}},
        "amount": {"value": {"type": "plain_text_input", "value": "2500"}},
        "stage": {"value": {"type": "static_select", "selected_option": {"value": "demo"}}},
    }
    assert bot.submit(REP, view["callback_id"], values, view["private_metadata"]).body == ""
    deal = deal_row(bot, "modal co")
    assert (deal.stage, str(deal.amount), deal.currency) == ("demo", "2500.00", CURRENCY)
