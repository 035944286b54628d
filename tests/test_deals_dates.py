"""Dates after `due:` and `close:` through signed requests: several words, no quotes needed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.clock import FrozenClock
from bot.i18n import Texts
from tests.harness import BotHarness, block_text
from tests.test_deals_commands import ITALIAN_REP, REP, count_rows, deal_row, say

# A Wednesday, mid-morning for the English rep (London) and the Italian one (Rome): "today"
# is the same date for both.
NOW = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
TOMORROW = date(2026, 6, 11)
FRIDAY = date(2026, 6, 12)
IN_3_DAYS = date(2026, 6, 13)
IN_2_WEEKS = date(2026, 6, 24)


@pytest.fixture(autouse=True)
def frozen(clock: FrozenClock) -> None:
    clock.now = NOW


@pytest.mark.parametrize(
    ("user", "text", "task", "due"),
    [
        pytest.param(REP, "call back due:in 3 days", "call back", IN_3_DAYS, id="in_n_days_last"),
        pytest.param(
            REP,
            "call in 3 days to confirm due:tomorrow",
            "call in 3 days to confirm",
            TOMORROW,
            id="date_words_in_the_task_stay",
        ),
        pytest.param(REP, "due:in 3 days call back", "call back", IN_3_DAYS, id="due_first"),
        pytest.param(
            REP,
            "call due:in 2 weeks and send quote",
            "call and send quote",
            IN_2_WEEKS,
            id="due_in_the_middle",
        ),
        pytest.param(REP, "call back due: friday", "call back", FRIDAY, id="space_after_colon"),
        pytest.param(REP, "call back due:next friday", "call back", FRIDAY, id="next_weekday"),
        pytest.param(REP, "call back due:Friday next", "call back", FRIDAY, id="weekday_next"),
        pytest.param(REP, 'call back due:"in 3 days"', "call back", IN_3_DAYS, id="quoted"),
        pytest.param(REP, "call back due:31/12", "call back", date(2026, 12, 31), id="day_month"),
        pytest.param(REP, "call back due:2026-07-01", "call back", date(2026, 7, 1), id="iso"),
        pytest.param(REP, "call back", "call back", None, id="no_due"),
        pytest.param(
            ITALIAN_REP,
            "richiamare scadenza:tra 3 giorni",
            "richiamare",
            IN_3_DAYS,
            id="tra_giorni",
        ),
        pytest.param(
            ITALIAN_REP,
            "richiamare entro:venerdì prossimo per il contratto",
            "richiamare per il contratto",
            FRIDAY,
            id="venerdi_prossimo",
        ),
        pytest.param(
            ITALIAN_REP, "richiamare due:fra 2 settimane", "richiamare", IN_2_WEEKS, id="fra"
        ),
        pytest.param(
            ITALIAN_REP,
            "chiamare tra 3 giorni per conferma scadenza:domani",
            "chiamare tra 3 giorni per conferma",
            TOMORROW,
            id="italian_date_words_in_the_task_stay",
        ),
    ],
)
def test_next_step_due_date_of_any_form(
    bot: BotHarness, user: str, text: str, task: str, due: date | None
) -> None:
    say(bot, user, "new ACME 1k")
    reply = say(bot, user, f"next ACME {text}")
    written = Texts("it" if user == ITALIAN_REP else "en").short_date(due) if due else None
    assert task in reply and (written is None or written in reply)
    deal = deal_row(bot, "acme")
    assert (deal.next_step, deal.next_step_due) == (task, due)


@pytest.mark.parametrize(
    ("user", "text", "close", "amount"),
    [
        pytest.param(REP, "close:in 3 days", IN_3_DAYS, None, id="in_n_days"),
        pytest.param(REP, "close:in 3 days 5k proposal", IN_3_DAYS, "5000.00", id="then_more"),
        pytest.param(REP, "5k close: next friday", FRIDAY, "5000.00", id="space_after_colon"),
        pytest.param(ITALIAN_REP, "chiusura:tra 2 settimane 5k", IN_2_WEEKS, "5000.00", id="tra"),
        pytest.param(ITALIAN_REP, "close:venerdì prossimo", FRIDAY, None, id="venerdi_prossimo"),
    ],
)
def test_new_deal_close_date_of_any_form(
    bot: BotHarness, user: str, text: str, close: date, amount: str | None
) -> None:
    assert "ACME" in say(bot, user, f"new ACME {text}")
    deal = deal_row(bot, "acme")
    assert deal.close_date == close
    assert (str(deal.amount) if deal.amount is not None else None) == amount


EN_EXAMPLE = "Try 2026-12-01, 31/12, tomorrow, friday, in 3 days"
IT_EXAMPLE = "Prova 2026-12-01, 31/12, domani, venerdì, tra 3 giorni"


@pytest.mark.parametrize(
    ("user", "text", "expected"),
    [
        pytest.param(
            REP, "next ACME call due:someday", "can't read `someday` as a date", id="word"
        ),
        pytest.param(
            REP,
            "next ACME call due:in three days",
            "can't read `in three days` as a date",
            id="words_shown_together",
        ),
        pytest.param(
            REP, "next ACME call due:in -3 days", "can't read `in -3 days`", id="negative"
        ),
        pytest.param(
            REP, "next ACME call due:2026-02-30", "can't read `2026-02-30`", id="impossible"
        ),
        pytest.param(REP, "next ACME call due:", "can't read `` as a date", id="nothing"),
        pytest.param(REP, "next ACME due:in 3 days", "Missing the next step", id="no_task"),
        pytest.param(
            REP, "new Globex close:next fridya", "can't read `next fridya`", id="close_typo"
        ),
        pytest.param(
            ITALIAN_REP,
            "next ACME chiamare scadenza:tra tre giorni",
            "Non riesco a leggere `tra tre giorni` come data",
            id="italian",
        ),
        pytest.param(
            ITALIAN_REP,
            "new Globex chiusura:prima o poi",
            "Non riesco a leggere `prima` come data",
            id="italian_close",
        ),
    ],
)
def test_bad_dates_are_explained_with_an_example_and_change_nothing(
    bot: BotHarness, user: str, text: str, expected: str
) -> None:
    say(bot, user, "new ACME 1k")
    before = count_rows(bot)
    reply = BotHarness.reply(bot.command(user, "/deal", text))
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    shown = block_text(reply)
    assert expected in shown
    if "date" in expected or "data" in expected:
        assert (IT_EXAMPLE if user == ITALIAN_REP else EN_EXAMPLE) in shown
    assert count_rows(bot) == before
    assert deal_row(bot, "acme").next_step is None


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        pytest.param(REP, "/deal next ACME call back due:in 3 days", id="english"),
        pytest.param(ITALIAN_REP, "/deal next ACME richiamare scadenza:tra 3 giorni", id="italian"),
    ],
)
def test_help_says_dates_need_no_quotes(bot: BotHarness, user: str, expected: str) -> None:
    assert expected in say(bot, user, "help")
