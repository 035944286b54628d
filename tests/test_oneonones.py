"""One-to-ones through signed requests against the stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.delivery.oneonone_dms import send_oneonone_reminders
from bot.delivery.summary import compute_summary
from bot.i18n import Texts
from bot.oneonones.commands import SCHEDULE_FORM_BLOCKS
from bot.standin import SlackStandIn, validate_blocks, validate_view
from bot.views import oneonones as views
from bot.views.summary import summary_blocks
from bot.weeks import week_containing
from storage import oneonones as store
from storage.db import Database
from storage.leases import renew_instance
from storage.oneonones import OneOnOneNote, OneOnOneOccurrence, OneOnOneSeries, OneOnOneTopic
from tests.conftest import make_settings
from tests.harness import BotHarness, block_text

AMELIA = "U06AJONES"  # English, Europe/London: the manager in most tests
OLIVER = "U05OSMITH"  # English, Europe/London
JAMES = "U07JMILLE"  # English, America/New_York
LUCA = "U04LROMAN"  # English, Europe/Rome
GIULIA = "U01GROSSI"  # Italian, workspace admin: a manager too
MARCO = "U02MBIANC"  # Italian, Europe/Rome
FRANCESCA = "U03FESPOS"  # Italian, Europe/Rome
CRM_BOT = "U12CRMBOT"
CHIARA = "U10CRICCI"  # deactivated

T = TypeVar("T")

# Tuesday 1 December 2026, 09:00 UTC (10:00 in Rome, 04:00 in New York).
TUESDAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def mention(user_id: str) -> str:
    return f"<@{user_id}|{user_id.lower()}>"


@pytest.fixture(autouse=True)
def tuesday(clock: FrozenClock) -> None:
    """Every test here starts on TUESDAY: the dates they check count from it."""
    clock.now = TUESDAY


def say(bot: BotHarness, user_id: str, text: str) -> str:
    """Type `/oneonone <text>`; the ephemeral reply as a person reads it."""
    reply = BotHarness.reply(bot.command(user_id, "/oneonone", text))
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    if "blocks" in reply:
        assert validate_blocks(reply["blocks"]) == []
    return block_text(reply)


def dms(bot: BotHarness, user_id: str) -> list[str]:
    return [block_text({"text": m.text, "blocks": m.blocks}) for m in bot.dms(user_id)]


def series_count(db: Database) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(OneOnOneSeries)) or 0)


def schedule_amelia_oliver(bot: BotHarness) -> str:
    return say(bot, AMELIA, f"schedule {mention(OLIVER)} every 2 weeks on thursday at 10:00")


def tick(bot: BotHarness, now: datetime) -> int:
    sent = send_oneonone_reminders(bot.services, now)
    assert bot.services.background.wait_idle()
    return sent


def button(message: Any, action_id: str) -> dict[str, Any]:
    return next(
        element
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    )


def modals(bot: BotHarness, callback_id: str) -> list[dict[str, Any]]:
    return [v for v in bot.standin.views if v.get("callback_id") == callback_id]


def new_modal(bot: BotHarness, callback_id: str, before: int) -> dict[str, Any]:
    """The modal opened after `before` others of its kind (it opens after the ack)."""

    def find() -> dict[str, Any] | None:
        opened = modals(bot, callback_id)
        return opened[-1] if len(opened) > before else None

    return bot.standin.wait_for(find, describe=f"a new {callback_id} modal")


# ---- help and the happy path -------------------------------------------------------------------


def test_help_in_english_and_italian(bot: BotHarness) -> None:
    english = say(bot, OLIVER, "help")
    assert "/oneonone schedule @person every &lt;1|2|4&gt; weeks" in english
    assert "`/oneonone schedule` — no arguments: a form" in english
    assert "/oneonone notes @person" in english
    assert "*overdue*" in english
    italian = say(bot, MARCO, "")
    assert "incontri individuali regolari" in italian
    assert "`/oneonone schedule` — senza argomenti: un modulo" in italian
    unknown = say(bot, OLIVER, "frobnicate")
    assert "I don't know `/oneonone frobnicate`" in unknown and "/oneonone list" in unknown


def test_schedule_shows_each_person_their_own_time(bot: BotHarness, clock: FrozenClock) -> None:
    reply = say(bot, LUCA, f"schedule {mention(JAMES)} every 2 weeks on thursday at 10:00")
    assert "1:1 with <@U07JMILLE> scheduled, every 2 weeks, 60 min" in reply
    assert "Thursday 3 December, 10:00" in reply
    bot.standin.wait_for(lambda: dms(bot, JAMES), describe="James's DM")
    assert "Thursday 3 December, 04:00" in dms(bot, JAMES)[0]
    assert "<@U04LROMAN> scheduled a regular 1:1 with you" in dms(bot, JAMES)[0]
    listing = say(bot, JAMES, "list")
    assert "Next: Thursday 3 December, 04:00" in listing
    assert "Next: Thursday 3 December, 10:00" in say(bot, LUCA, "list")
    assert "(you lead it)" in say(bot, LUCA, "list")


def test_italian_grammar_and_minutes(bot: BotHarness, clock: FrozenClock) -> None:
    reply = say(
        bot, MARCO, f"schedule {mention(FRANCESCA)} ogni 4 settimane il venerdì alle 9:30 per 45"
    )
    assert "1:1 con <@U03FESPOS> pianificato, ogni 4 settimane, 45 min" in reply
    assert "venerdì 4 dicembre alle 09:30" in reply


# ---- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("schedule <@U99GHOST> every week on monday at 10:00",
                     "I cannot find <@U99GHOST>", id="unknown_person"),
        pytest.param("schedule bob every week on monday at 10:00",
                     "`bob` is not a person I can find", id="not_a_mention"),
        pytest.param(f"schedule {mention(AMELIA)} every week on monday at 10:00",
                     "cannot schedule one with yourself", id="self"),
        pytest.param(f"schedule {mention(CRM_BOT)} every week on monday at 10:00",
                     "is a bot", id="bot"),
        pytest.param("schedule <@UBOT> every week on monday at 10:00", "is a bot", id="pulsebot"),
        pytest.param(f"schedule {mention(CHIARA)} every week on monday at 10:00",
                     "I cannot find <@U10CRICCI>", id="deactivated"),
        pytest.param(f"schedule {mention(OLIVER)} every 3 weeks on monday at 10:00",
                     "every 1, 2 or 4 weeks", id="bad_every"),
        pytest.param(f"schedule {mention(OLIVER)} every week on funday at 10:00",
                     "`funday` is not a day of the week", id="bad_weekday"),
        pytest.param(f"schedule {mention(OLIVER)} every week on monday at 25:00",
                     "`25:00` is not a time", id="bad_time"),
        pytest.param(f"schedule {mention(OLIVER)} every week on monday",
                     "At what time?", id="missing_time"),
        pytest.param(f"schedule {mention(OLIVER)} every week on monday at 10:00 for 500",
                     "between 15 and 180 minutes", id="bad_minutes"),
        pytest.param("add", "Whom with?", id="missing_person"),
        pytest.param(f"add {mention(OLIVER)}", "What is the topic?", id="missing_topic"),
        pytest.param(f"add {mention(OLIVER)} pay rise", "You have no 1:1 series with <@U05OSMITH>",
                     id="add_without_series"),
        pytest.param(f"skip {mention(OLIVER)}", "You have no 1:1 series", id="skip_without_series"),
        pytest.param(f"notes {mention(OLIVER)} extra", "I didn't expect `extra`", id="extra_word"),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_ephemeral_answer_and_changes_nothing(
    bot: BotHarness, db: Database, clock: FrozenClock, text: str, expected: str
) -> None:
    reply = say(bot, AMELIA, text)
    assert ":warning:" in reply
    assert expected in reply
    assert series_count(db) == 0


def test_a_second_series_with_the_same_person_is_refused(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    schedule_amelia_oliver(bot)
    again = say(bot, AMELIA, f"schedule {mention(OLIVER)} every week on monday at 11:00")
    assert "You and <@U05OSMITH> already have a 1:1 series" in again
    reverse = say(bot, OLIVER, f"schedule {mention(AMELIA)} every week on monday at 11:00")
    assert "already have a 1:1 series" in reverse
    assert series_count(db) == 1


def test_a_time_skipped_by_daylight_saving_is_refused(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    clock.now = datetime(2027, 3, 22, 12, 0, tzinfo=UTC)  # the Sunday after is the change
    reply = say(bot, LUCA, f"schedule {mention(MARCO)} every week on sunday at 02:30")
    assert "02:30 does not exist on Sunday 28 March 2027 in Europe/Rome" in reply
    assert series_count(db) == 0
    fine = say(bot, LUCA, f"schedule {mention(MARCO)} every week on sunday at 03:30")
    assert "Sunday 28 March, 03:30" in fine


# ---- /oneonone schedule alone: the form --------------------------------------------------------


def schedule_form(
    person: str | None = OLIVER,
    every: str | None = "2",
    weekday: str | None = "thursday",
    at_time: str | None = "10:00",
    minutes: str | None = "60",
) -> dict[str, dict[str, dict[str, Any]]]:
    """The schedule modal's state as Slack sends it on submission."""

    def select(value: str | None) -> dict[str, dict[str, Any]]:
        option = None if value is None else {"value": value}
        return {views.INPUT: {"type": "static_select", "selected_option": option}}

    return {
        "person": {views.INPUT: {"type": "users_select", "selected_user": person}},
        "every": select(every),
        "weekday": select(weekday),
        "time": {views.INPUT: {"type": "timepicker", "selected_time": at_time}},
        "minutes": {views.INPUT: {"type": "number_input", "value": minutes}},
    }


def opened_schedule_form(bot: BotHarness, user_id: str) -> dict[str, Any]:
    """Type `/oneonone schedule` alone: an empty ack, then views.open with the form."""
    before = len(bot.standin.calls_to("views.open"))
    response = bot.command(user_id, "/oneonone", "schedule")
    assert response.status == 200 and not response.body
    opened = bot.standin.wait_for_calls("views.open", before + 1)[before]
    assert opened.ok and opened.params["trigger_id"]
    view = opened.params["view"]
    assert isinstance(view, dict) and view["callback_id"] == views.SCHEDULE_MODAL
    assert validate_view(view) == []
    return view


def series_rows(db: Database) -> list[tuple[object, ...]]:
    """What a series is, without its id and timestamps; oldest first."""
    with db.transaction() as session:
        rows = session.scalars(select(OneOnOneSeries).order_by(OneOnOneSeries.id)).all()
        return [
            (r.manager_id, r.person_id, r.every_weeks, r.weekday, r.at_time, r.minutes,
             r.timezone, r.anchor_date)
            for r in rows
        ]  # fmt: skip


def test_schedule_alone_opens_the_form_in_the_askers_language(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    view = opened_schedule_form(bot, AMELIA)
    assert view["title"]["text"] == "Schedule a 1:1"
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert tuple(blocks) == SCHEDULE_FORM_BLOCKS
    elements = {block_id: block["element"] for block_id, block in blocks.items()}
    assert {k: e["type"] for k, e in elements.items()} == {
        "person": "users_select",
        "every": "static_select",
        "weekday": "static_select",
        "time": "timepicker",
        "minutes": "number_input",
    }
    every = elements["every"]
    assert [o["value"] for o in every["options"]] == ["1", "2", "4"]
    assert every["initial_option"]["value"] == "1"
    days = [o["text"]["text"] for o in elements["weekday"]["options"]]
    assert days == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    assert elements["time"]["initial_time"] == "10:00"
    assert "Europe/London" in blocks["time"]["hint"]["text"]
    minutes = elements["minutes"]
    assert (minutes["initial_value"], minutes["min_value"], minutes["max_value"]) == (
        "60",
        "15",
        "180",
    )
    assert minutes["is_decimal_allowed"] is False

    italian = opened_schedule_form(bot, MARCO)
    assert italian["title"]["text"] == "Pianifica un 1:1"
    assert "Lunedì" in json.dumps(italian, ensure_ascii=False)
    assert "Europe/Rome" in json.dumps(italian)
    assert series_count(db) == 0


def test_the_form_schedules_the_same_series_as_the_typed_command(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    opened_schedule_form(bot, AMELIA)
    response = bot.submit(AMELIA, views.SCHEDULE_MODAL, schedule_form())
    assert response.status == 200 and not response.body  # the modal closes
    confirmation = bot.standin.wait_for(
        lambda: [t for t in dms(bot, AMELIA) if "scheduled" in t], describe="Amelia's DM"
    )[0]
    assert "1:1 with <@U05OSMITH> scheduled, every 2 weeks, 60 min" in confirmation
    assert "Thursday 3 December, 10:00" in confirmation
    told = bot.standin.wait_for(lambda: dms(bot, OLIVER), describe="Oliver's DM")[0]
    assert "<@U06AJONES> scheduled a regular 1:1 with you, every 2 weeks, 60 min" in told
    for message in [*bot.dms(AMELIA), *bot.dms(OLIVER)]:
        assert validate_blocks(message.blocks) == []
    by_form = series_rows(db)
    assert "Thursday 3 December, 10:00" in say(bot, AMELIA, "list")

    # Once more: the pair already has a series; refused under the person, nothing saved.
    again = BotHarness.reply(bot.submit(AMELIA, views.SCHEDULE_MODAL, schedule_form()))
    assert again["response_action"] == "errors"
    assert "You and <@U05OSMITH> already have a 1:1 series" in again["errors"]["person"]
    assert set(again["errors"]) == {"person"}
    assert series_rows(db) == by_form

    # Typed, after a cancel: the very same series.
    say(bot, AMELIA, f"cancel {mention(OLIVER)}")
    schedule_amelia_oliver(bot)
    assert series_rows(db) == by_form * 2


@pytest.mark.parametrize(
    ("form", "block", "expected"),
    [
        pytest.param(schedule_form(person=AMELIA), "person",
                     "cannot schedule one with yourself", id="self"),
        pytest.param(schedule_form(person=CRM_BOT), "person", "is a bot", id="bot"),
        pytest.param(schedule_form(person="UBOT"), "person", "is a bot", id="pulsebot"),
        pytest.param(schedule_form(person="U99GHOST"), "person", "I cannot find <@U99GHOST>",
                     id="unknown_person"),
        pytest.param(schedule_form(person=CHIARA), "person", "I cannot find <@U10CRICCI>",
                     id="deactivated"),
        pytest.param(schedule_form(person=None), "person", "Fill in this field", id="no_person"),
        pytest.param(schedule_form(every="3"), "every", "every 1, 2 or 4 weeks", id="bad_every"),
        pytest.param(schedule_form(weekday="funday"), "weekday",
                     "`funday` is not a day of the week", id="bad_weekday"),
        pytest.param(schedule_form(weekday=None), "weekday", "Fill in this field",
                     id="no_weekday"),
        pytest.param(schedule_form(at_time="25:00"), "time", "`25:00` is not a time",
                     id="bad_time"),
        pytest.param(schedule_form(minutes="500"), "minutes", "between 15 and 180 minutes",
                     id="too_long"),
        pytest.param(schedule_form(minutes="10"), "minutes", "between 15 and 180 minutes",
                     id="too_short"),
        pytest.param(schedule_form(minutes="1.5"), "minutes", "between 15 and 180 minutes",
                     id="not_whole"),
    ],
)  # fmt: skip
def test_each_bad_field_is_answered_under_itself_and_saves_nothing(
    bot: BotHarness, clock: FrozenClock, form: dict[str, Any], block: str, expected: str
) -> None:
    answer = BotHarness.reply(bot.submit(AMELIA, views.SCHEDULE_MODAL, form))
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {block}
    assert expected in answer["errors"][block]
    assert series_count(bot.services.db) == 0
    assert bot.services.background.wait_idle()
    assert bot.dms(AMELIA) == [] and bot.dms(OLIVER) == []


def test_the_form_answers_every_bad_field_at_once_in_the_askers_language(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    form = schedule_form(person=FRANCESCA, every="3", at_time="7h61", minutes="999")
    errors = BotHarness.reply(bot.submit(MARCO, views.SCHEDULE_MODAL, form))["errors"]
    assert set(errors) == {"every", "time", "minutes"}
    assert "ogni 1, 2 o 4 settimane" in errors["every"]
    assert "`7h61` non è un orario" in errors["time"]
    assert "tra 15 e 180 minuti" in errors["minutes"]
    assert series_count(db) == 0


def test_the_form_refuses_a_time_skipped_by_daylight_saving_under_the_time(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    clock.now = datetime(2027, 3, 22, 12, 0, tzinfo=UTC)  # the Sunday after is the change
    form = schedule_form(person=MARCO, every="1", weekday="sunday", at_time="02:30")
    errors = BotHarness.reply(bot.submit(LUCA, views.SCHEDULE_MODAL, form))["errors"]
    assert errors == {"time": errors["time"]}
    assert "02:30 does not exist on Sunday 28 March 2027 in Europe/Rome" in errors["time"]
    assert series_count(db) == 0


# ---- the meeting's DMs ----------------------------------------------------------------------


def test_agenda_the_day_before_reminder_an_hour_before_outcomes_after_each_once(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    schedule_amelia_oliver(bot)  # Thu 3 Dec 10:00 London = 10:00 UTC, until 11:00
    assert "Added to the agenda of your next 1:1 with <@U05OSMITH>" in say(
        bot, AMELIA, f"add {mention(OLIVER)} Q1 territory plan"
    )
    say(bot, OLIVER, f"add {mention(AMELIA)} Training budget <script>")
    bot.services.background.wait_idle()
    before = {user: len(bot.dms(user)) for user in (AMELIA, OLIVER)}

    assert tick(bot, datetime(2026, 12, 2, 9, 0, tzinfo=UTC)) == 0  # 25 h before: not yet
    assert tick(bot, datetime(2026, 12, 2, 10, 30, tzinfo=UTC)) == 2  # 23.5 h before
    assert tick(bot, datetime(2026, 12, 2, 10, 31, tzinfo=UTC)) == 0  # once
    for user in (AMELIA, OLIVER):
        agenda = bot.dms(user)[before[user]]
        text = block_text({"text": agenda.text, "blocks": agenda.blocks})
        assert "is tomorrow: *Thursday 3 December, 10:00*" in text
        assert "Q1 territory plan" in text and "Training budget &lt;script&gt;" in text
        assert "[Add a topic]" in text and "[Skip this one]" in text
        assert validate_blocks(agenda.blocks) == []

    assert tick(bot, datetime(2026, 12, 3, 9, 10, tzinfo=UTC)) == 2
    assert tick(bot, datetime(2026, 12, 3, 9, 20, tzinfo=UTC)) == 0
    assert "starts in an hour" in dms(bot, OLIVER)[-1] and "(2 topics" in dms(bot, OLIVER)[-1]

    assert tick(bot, datetime(2026, 12, 3, 10, 30, tzinfo=UTC)) == 0  # held, not yet over
    assert tick(bot, datetime(2026, 12, 3, 11, 1, tzinfo=UTC)) == 2
    assert tick(bot, datetime(2026, 12, 3, 11, 2, tzinfo=UTC)) == 0
    assert "How did your 1:1 with <@U06AJONES> go?" in dms(bot, OLIVER)[-1]

    # The topics were discussed; the next meeting is two weeks later with an empty agenda.
    listing = say(bot, OLIVER, "list")
    assert "Thursday 17 December, 10:00" in listing
    assert "Q1 territory plan" not in listing


def test_ticks_racing_and_a_restart_send_each_dm_once(
    bot: BotHarness, db: Database, standin: SlackStandIn, clock: FrozenClock
) -> None:
    schedule_amelia_oliver(bot)
    bot.services.background.wait_idle()
    standin.reset_calls()
    # The bot restarts: a new process on the same database still knows the series.
    bot.close()
    settings = make_settings(
        SLACK_API_URL=standin.url, DATABASE_URL=db.engine.url.render_as_string(False)
    )
    restarted = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
    second = Database(db.engine.url)
    twin = BotHarness.boot(settings, db=second, standin=standin, clock=clock)
    try:
        now = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
        results: list[int] = []
        barrier = threading.Barrier(4)

        def run(harness: BotHarness) -> None:
            barrier.wait()
            results.append(send_oneonone_reminders(harness.services, now))

        threads = [
            threading.Thread(target=run, args=(h,)) for h in (restarted, twin, restarted, twin)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [0, 0, 0, 2]
        assert len(standin.calls_to("chat.postMessage")) == 2
    finally:
        twin.close()
        second.dispose()
        restarted.close()


# ---- buttons and modals ---------------------------------------------------------------------


def test_skip_from_the_dm_moves_the_agenda_to_the_next_meeting(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    schedule_amelia_oliver(bot)
    say(bot, OLIVER, f"add {mention(AMELIA)} Holiday plans")
    tick(bot, datetime(2026, 12, 2, 10, 30, tzinfo=UTC))
    agenda = bot.dms(OLIVER)[-1]
    skip = button(agenda, views.SKIP)
    assert bot.click(OLIVER, views.SKIP, skip["value"], message=agenda).status == 200
    bot.standin.wait_for(
        lambda: any("<@U05OSMITH> skipped your 1:1" in t for t in dms(bot, AMELIA)),
        describe="Amelia told of the skip",
    )
    assert "Thursday 17 December, 10:00" in dms(bot, AMELIA)[-1]
    # A second click on the stale button changes nothing.
    assert bot.click(OLIVER, views.SKIP, skip["value"], message=agenda).status == 200
    listing = say(bot, AMELIA, "list")
    assert "Next: Thursday 17 December, 10:00" in listing
    assert "Holiday plans" in listing  # carried over
    assert tick(bot, datetime(2026, 12, 3, 9, 10, tzinfo=UTC)) == 0  # no reminder, no meeting
    assert tick(bot, datetime(2026, 12, 3, 11, 10, tzinfo=UTC)) == 0


def test_add_a_topic_from_the_dm(bot: BotHarness, clock: FrozenClock) -> None:
    schedule_amelia_oliver(bot)
    tick(bot, datetime(2026, 12, 2, 10, 30, tzinfo=UTC))
    agenda = bot.dms(AMELIA)[-1]
    add = button(agenda, views.ADD_TOPIC)
    assert bot.click(AMELIA, views.ADD_TOPIC, add["value"], message=agenda).status == 200
    modal = new_modal(bot, views.TOPIC_MODAL, 0)
    assert "Oliver Smith" in block_text(modal)
    response = bot.submit(
        AMELIA,
        views.TOPIC_MODAL,
        {"topic": {views.INPUT: {"type": "plain_text_input", "value": "Pipeline review"}}},
        modal["private_metadata"],
    )
    assert response.status == 200 and not response.body
    assert "Pipeline review" in say(bot, OLIVER, "list")


def test_outcomes_are_private_and_follow_ups_carry_over_until_done(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    schedule_amelia_oliver(bot)
    tick(bot, datetime(2026, 12, 3, 11, 1, tzinfo=UTC))  # held; the outcomes DM goes
    prompt = bot.dms(AMELIA)[-1]
    outcomes = button(prompt, views.OUTCOMES)
    assert bot.click(AMELIA, views.OUTCOMES, outcomes["value"], message=prompt).status == 200
    modal = new_modal(bot, views.OUTCOMES_MODAL, 0)
    values = {
        "outcome": {views.INPUT: {"type": "plain_text_input", "value": "Oliver wants to lead"}},
        "followups": {
            views.INPUT: {"type": "plain_text_input", "value": "Send deck\n\nBook course"}
        },
    }
    assert not bot.submit(AMELIA, views.OUTCOMES_MODAL, values, modal["private_metadata"]).body
    listing = say(bot, OLIVER, "list")
    assert "follow-up: Send deck" in listing and "follow-up: Book course" in listing
    assert "Oliver wants to lead" not in listing
    # Oliver's own outcome form shows the open follow-ups, and not Amelia's outcome.
    assert bot.click(OLIVER, views.OUTCOMES, outcomes["value"]).status == 200
    mine = new_modal(bot, views.OUTCOMES_MODAL, 1)
    assert "Oliver wants to lead" not in json.dumps(mine)
    done_block = next(b for b in mine["blocks"] if b.get("block_id") == "done")
    deck = next(o for o in done_block["element"]["options"] if o["text"]["text"] == "Send deck")
    done: dict[str, Any] = {"type": "checkboxes", "selected_options": [deck]}
    values = {"done": {views.INPUT: done}}
    assert not bot.submit(OLIVER, views.OUTCOMES_MODAL, values, mine["private_metadata"]).body
    listing = say(bot, AMELIA, "list")
    assert "Send deck" not in listing and "Book course" in listing
    # Amelia's outcome is still hers when she opens the form again.
    assert bot.click(AMELIA, views.OUTCOMES, outcomes["value"]).status == 200
    assert "Oliver wants to lead" in json.dumps(new_modal(bot, views.OUTCOMES_MODAL, 2))


# ---- privacy ------------------------------------------------------------------------------------


def test_nobody_else_sees_the_agenda_or_the_notes(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    schedule_amelia_oliver(bot)
    say(bot, OLIVER, f"add {mention(AMELIA)} Feeling stretched thin")
    # Amelia writes private notes.
    say(bot, AMELIA, f"notes {mention(OLIVER)}")
    modal = new_modal(bot, views.NOTES_MODAL, 0)
    notes = {"notes": {views.INPUT: {"type": "plain_text_input", "value": "Watch for burnout"}}}
    assert not bot.submit(AMELIA, views.NOTES_MODAL, notes, modal["private_metadata"]).body
    # She sees them again; Oliver, the other side, does not.
    say(bot, AMELIA, f"notes {mention(OLIVER)}")
    assert "Watch for burnout" in json.dumps(new_modal(bot, views.NOTES_MODAL, 1))
    say(bot, OLIVER, f"notes {mention(AMELIA)}")
    assert "Watch for burnout" not in json.dumps(new_modal(bot, views.NOTES_MODAL, 2))

    # A third person, and another manager (a workspace admin), see none of it.
    for outsider in (JAMES, GIULIA):
        listing = say(bot, outsider, "list")
        assert "stretched" not in listing and "U05OSMITH" not in listing
        assert ":warning:" in say(bot, outsider, f"notes {mention(OLIVER)}")
        assert ":warning:" in say(bot, outsider, f"add {mention(OLIVER)} sneaky")
        assert ":warning:" in say(bot, outsider, f"skip {mention(AMELIA)}")
        # A forged modal submission with their series id is refused and saves nothing.
        forged = bot.submit(outsider, views.NOTES_MODAL, notes, modal["private_metadata"])
        assert json.loads(forged.body)["response_action"] == "errors"
    with db.transaction() as session:
        topics = list(session.scalars(select(OneOnOneTopic.text)))
    assert topics == ["Feeling stretched thin"]
    bot.services.background.wait_idle()
    bot.dispatch(bot.requests.app_home_opened(GIULIA))
    bot.dispatch(bot.requests.app_home_opened(OLIVER))
    home = bot.standin.wait_for(lambda: bot.standin.home_view(OLIVER), describe="Oliver's home")
    assert "Feeling stretched thin" in block_text(home)
    assert "Your 1:1s" in block_text(home)
    giulia = bot.standin.wait_for(lambda: bot.standin.home_view(GIULIA), describe="Giulia's home")
    assert "stretched" not in block_text(giulia) and "1:1" not in block_text(giulia)


def test_only_the_manager_cancels_and_the_person_is_told(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    schedule_amelia_oliver(bot)
    refused = say(bot, OLIVER, f"cancel {mention(AMELIA)}")
    assert "Only <@U06AJONES>, who leads this 1:1, can cancel" in refused
    assert "is cancelled" in say(bot, AMELIA, f"cancel {mention(OLIVER)}")
    bot.standin.wait_for(
        lambda: any("ended your regular 1:1 series" in t for t in dms(bot, OLIVER)),
        describe="Oliver told",
    )
    assert "You have no 1:1 series" in say(bot, OLIVER, "list")
    assert tick(bot, datetime(2026, 12, 2, 10, 30, tzinfo=UTC)) == 0
    assert "scheduled" in schedule_amelia_oliver(bot)  # the pair may start again
    assert series_count(db) == 2


# ---- daylight saving ----------------------------------------------------------------------------


def local_starts(db: Database) -> list[tuple[str, str, str]]:
    with db.transaction() as session:
        rows = session.execute(
            select(
                OneOnOneOccurrence.local_date,
                OneOnOneOccurrence.starts_at,
                OneOnOneOccurrence.status,
            ).order_by(OneOnOneOccurrence.local_date)
        ).all()
    return [(str(d), s.strftime("%H:%M"), status) for d, s, status in rows]


def hourly_ticks(bot: BotHarness, start: datetime, days: int) -> None:
    moment = start
    while moment < start + timedelta(days=days):
        tick(bot, moment)
        moment += timedelta(hours=1)


def reminders(bot: BotHarness, user_id: str) -> list[str]:
    return [t for t in dms(bot, user_id) if "starts in an hour" in t]


def test_spring_forward_moves_a_later_meeting_by_the_gap_and_fires_once(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    clock.now = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)
    say(bot, LUCA, f"schedule {mention(OLIVER)} every week on sunday at 02:30 for 30")
    hourly_ticks(bot, clock.now + timedelta(minutes=45), days=21)
    # 02:30 in Rome: 01:30 UTC in winter; on 28 March it does not exist (03:30 CEST, 01:30
    # UTC); then 00:30 UTC in summer time.
    assert local_starts(db)[:3] == [
        ("2027-03-21", "01:30", "held"),
        ("2027-03-28", "01:30", "held"),
        ("2027-04-04", "00:30", "held"),
    ]
    assert [r.split("at *")[1].split("*")[0] for r in reminders(bot, LUCA)][:3] == [
        "Sunday 21 March, 02:30",
        "Sunday 28 March, 03:30",
        "Sunday 4 April, 02:30",
    ]
    assert len(reminders(bot, OLIVER)) == len(reminders(bot, LUCA)) == 3


def test_fall_back_takes_the_first_of_a_repeated_time_and_fires_once(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    clock.now = datetime(2026, 10, 19, 12, 0, tzinfo=UTC)
    say(bot, LUCA, f"schedule {mention(OLIVER)} every week on sunday at 02:30 for 30")
    hourly_ticks(bot, clock.now + timedelta(minutes=45), days=14)
    # 25 October: 02:30 happens twice in Rome; the first (CEST, 00:30 UTC) is the meeting.
    assert local_starts(db)[:2] == [
        ("2026-10-25", "00:30", "held"),
        ("2026-11-01", "01:30", "held"),
    ]
    assert len(reminders(bot, LUCA)) == 2
    days_before = [t for t in dms(bot, OLIVER) if "is tomorrow" in t]
    assert len(days_before) == 2
    assert "Sunday 25 October, 01:30" in days_before[0]  # Oliver's own zone


# ---- the weekly summary ------------------------------------------------------------------------


def test_the_summary_counts_held_skipped_and_overdue_only(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    schedule_amelia_oliver(bot)  # Thu 3 Dec: held
    say(bot, AMELIA, f"add {mention(OLIVER)} Secret topic")
    say(bot, LUCA, f"schedule {mention(JAMES)} every week on wednesday at 10:00")  # 2 Dec
    say(bot, LUCA, f"skip {mention(JAMES)}")  # 2 Dec skipped
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    tick(bot, now)
    summary = compute_summary(bot.services, week_containing(now, bot.services.settings.zone), now)
    text = block_text({"blocks": [b.to_dict() for b in summary_blocks(Texts("en"), summary)]})
    assert "*1:1s:* 1 held · 1 skipped · 0 overdue" in text
    assert "Secret topic" not in text and "U05OSMITH" not in text
    # Luca keeps skipping: a week's cycle plus a week without a meeting makes the series overdue.
    clock.now = now
    say(bot, LUCA, f"skip {mention(JAMES)}")  # 9 Dec
    say(bot, LUCA, f"skip {mention(JAMES)}")  # 16 Dec
    later = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
    tick(bot, later)
    counts = compute_summary(
        bot.services, week_containing(later, bot.services.settings.zone), later
    ).oneonones
    assert counts is not None
    assert (counts.held, counts.skipped, counts.overdue) == (1, 1, 1)


# ---- forged clicks and submissions by someone outside the 1:1 ---------------------------------


def stored_state(db: Database) -> tuple[list[tuple[object, ...]], ...]:
    """Everything a 1:1 action could change: series, occurrences, topics and private notes."""
    with db.transaction() as session:
        series = session.execute(
            select(OneOnOneSeries.id, OneOnOneSeries.pair_key, OneOnOneSeries.cancelled_at)
        ).all()
        occurrences = session.execute(
            select(
                OneOnOneOccurrence.id,
                OneOnOneOccurrence.local_date,
                OneOnOneOccurrence.status,
                OneOnOneOccurrence.day_before_at,
                OneOnOneOccurrence.hour_before_at,
                OneOnOneOccurrence.after_at,
            )
        ).all()
        topics = session.execute(
            select(
                OneOnOneTopic.id,
                OneOnOneTopic.author_id,
                OneOnOneTopic.kind,
                OneOnOneTopic.text,
                OneOnOneTopic.held_in,
                OneOnOneTopic.done_at,
            )
        ).all()
        notes = session.execute(
            select(OneOnOneNote.series_id, OneOnOneNote.author_id, OneOnOneNote.scope,
                   OneOnOneNote.text)
        ).all()  # fmt: skip
    return tuple(
        sorted(tuple(row) for row in rows) for rows in (series, occurrences, topics, notes)
    )


def a_held_meeting_and_the_next(bot: BotHarness) -> tuple[Any, Any, dict[str, Any]]:
    """Amelia and Oliver meet on 3 Dec (held, with a follow-up and Amelia's private outcome);
    the day-before DM of 17 Dec has gone out. Giulia, another manager, has her own 1:1 with
    Marco. Returns Oliver's outcomes prompt, his day-before DM and Amelia's outcomes modal."""
    schedule_amelia_oliver(bot)
    say(bot, GIULIA, f"schedule {mention(MARCO)} every week on friday at 11:00")
    tick(bot, datetime(2026, 12, 3, 11, 1, tzinfo=UTC))  # held; the outcomes DMs go
    prompt = bot.dms(OLIVER)[-1]
    amelia_prompt = bot.dms(AMELIA)[-1]
    outcomes = button(amelia_prompt, views.OUTCOMES)["value"]
    assert bot.click(AMELIA, views.OUTCOMES, outcomes, message=amelia_prompt).status == 200
    modal = new_modal(bot, views.OUTCOMES_MODAL, 0)
    values = {
        "outcome": {views.INPUT: {"type": "plain_text_input", "value": "Amelia's own outcome"}},
        "followups": {views.INPUT: {"type": "plain_text_input", "value": "Send deck"}},
    }
    assert not bot.submit(AMELIA, views.OUTCOMES_MODAL, values, modal["private_metadata"]).body
    say(bot, OLIVER, f"add {mention(AMELIA)} Career path")
    tick(bot, datetime(2026, 12, 16, 10, 30, tzinfo=UTC))  # the day before 17 Dec
    agenda = bot.dms(OLIVER)[-1]
    assert "is tomorrow" in block_text({"text": agenda.text, "blocks": agenda.blocks})
    return prompt, agenda, new_modal(bot, views.OUTCOMES_MODAL, 0)


FORGED_CLICKS = [views.SKIP, views.ADD_TOPIC, views.OUTCOMES]
# The refusal, in the outsider's own language (Giulia reads Italian).
GONE = {
    JAMES: ":warning: That 1:1 no longer exists or is not yours.",
    GIULIA: ":warning: Quel 1:1 non esiste più o non è tuo.",
}


@pytest.mark.parametrize("outsider", [JAMES, GIULIA], ids=["third_person", "another_manager"])
@pytest.mark.parametrize("action_id", FORGED_CLICKS)
def test_a_forged_click_on_someone_elses_1to1_is_refused_and_changes_nothing(
    bot: BotHarness, db: Database, clock: FrozenClock, outsider: str, action_id: str
) -> None:
    prompt, agenda, _ = a_held_meeting_and_the_next(bot)
    source = prompt if action_id == views.OUTCOMES else agenda
    value = button(source, action_id)["value"]  # Oliver's own button, clicked by someone else
    assert bot.services.background.wait_idle()
    before = stored_state(db)
    dms_before = {user: len(bot.dms(user)) for user in (AMELIA, OLIVER, outsider)}
    bot.standin.reset_calls()

    answer_url = bot.standin.response_url(user_id=outsider)
    response = bot.click(outsider, action_id, value, response_url=answer_url)
    assert response.status == 200 and not response.body
    answers = bot.standin.wait_for(
        lambda: bot.standin.response_posts(answer_url), describe="the outsider's answer"
    )
    assert bot.services.background.wait_idle()
    assert [a.response_type for a in answers] == ["ephemeral"]
    assert answers[0].payload["text"] == GONE[outsider]
    assert not answers[0].replace_original
    # Nothing opened, nothing stored, nobody told, nothing of the 1:1 shown to the outsider.
    assert bot.standin.calls_to("views.open") == []
    assert stored_state(db) == before
    assert {user: len(bot.dms(user)) for user in dms_before} == dms_before
    assert "Career path" not in json.dumps(answers[0].payload)


def forged_submission(
    bot: BotHarness, callback_id: str, outcomes_modal: dict[str, Any]
) -> tuple[dict[str, dict[str, dict[str, Any]]], str]:
    """Values and private metadata naming Amelia and Oliver's series (or their held meeting),
    with the follow-ups of that series ticked as done."""
    occurrence = json.loads(outcomes_modal["private_metadata"])["occurrence"]
    with bot.services.db.transaction() as session:
        row = session.get(OneOnOneOccurrence, occurrence)
        assert row is not None
        series_id = row.series_id
    text: dict[str, Any] = {"type": "plain_text_input", "value": "Forged by an outsider"}
    if callback_id == views.TOPIC_MODAL:
        return {"topic": {views.INPUT: text}}, json.dumps({"series": series_id})
    if callback_id == views.NOTES_MODAL:
        return {"notes": {views.INPUT: text}}, json.dumps({"series": series_id})
    with bot.services.db.transaction() as session:
        followups = session.scalars(
            select(OneOnOneTopic.id).where(OneOnOneTopic.kind == "followup")
        ).all()
    assert followups
    options = [{"value": str(i), "text": {"type": "plain_text", "text": "x"}} for i in followups]
    done: dict[str, Any] = {"type": "checkboxes", "selected_options": options}
    values: dict[str, dict[str, dict[str, Any]]] = {"outcome": {views.INPUT: text}, "followups": {views.INPUT: text},
              "done": {views.INPUT: done}}  # fmt: skip
    return values, str(outcomes_modal["private_metadata"])


@pytest.mark.parametrize("outsider", [JAMES, GIULIA], ids=["third_person", "another_manager"])
@pytest.mark.parametrize(
    ("callback_id", "block"),
    [(views.TOPIC_MODAL, "topic"), (views.NOTES_MODAL, "notes"),
     (views.OUTCOMES_MODAL, "outcome")],
)  # fmt: skip
def test_a_forged_modal_submission_for_someone_elses_1to1_is_refused_and_changes_nothing(
    bot: BotHarness,
    db: Database,
    clock: FrozenClock,
    *,
    outsider: str,
    callback_id: str,
    block: str,
) -> None:
    _, _, outcomes_modal = a_held_meeting_and_the_next(bot)
    values, metadata = forged_submission(bot, callback_id, outcomes_modal)
    assert bot.services.background.wait_idle()
    before = stored_state(db)
    dms_before = {user: len(bot.dms(user)) for user in (AMELIA, OLIVER, outsider)}

    answer = BotHarness.reply(bot.submit(outsider, callback_id, values, metadata))
    assert answer == {
        "response_action": "errors",
        "errors": {block: GONE[outsider]},
    }
    assert bot.services.background.wait_idle()
    assert stored_state(db) == before
    assert {user: len(bot.dms(user)) for user in dms_before} == dms_before
    # The follow-up is still open for the two people, and Amelia's outcome is still hers.
    assert "follow-up: Send deck" in say(bot, OLIVER, "list")
    assert "Forged" not in say(bot, AMELIA, "list")


# ---- Slack cannot say who the other person is ---------------------------------------------------

SLACK_TROUBLE = ["slow", "down", "rate_limited"]


def slack_trouble_with_users_info(standin: SlackStandIn, trouble: str) -> None:
    if trouble == "slow":
        standin.delay("users.info", 6)  # longer than Slack waits for our answer
    elif trouble == "down":
        standin.fail_next("users.info", count=1000, status=500)
    else:
        standin.fail_next("users.info", count=1000, status=429, error="ratelimited")


def timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.mark.parametrize("trouble", SLACK_TROUBLE)
def test_schedule_while_slack_cannot_look_the_person_up_answers_in_time_try_again(
    bot: BotHarness, db: Database, clock: FrozenClock, trouble: str
) -> None:
    """Oliver is not known yet, and users.info is slow or failing: the typed command and the
    form answer within Slack's 3 seconds with "try again", not "I cannot find"; once Slack
    answers again, the same command schedules the 1:1."""
    say(bot, AMELIA, "list")  # Amelia, who asks, is known
    slack_trouble_with_users_info(bot.standin, trouble)
    command = f"schedule {mention(OLIVER)} every 2 weeks on thursday at 10:00"

    reply, seconds = timed(lambda: say(bot, AMELIA, command))
    assert seconds < 3, seconds
    assert ":warning: I could not check <@U05OSMITH> with Slack just now" in reply
    assert "try again in a moment" in reply and "cannot find" not in reply

    response, seconds = timed(lambda: bot.submit(AMELIA, views.SCHEDULE_MODAL, schedule_form()))
    assert seconds < 3, seconds
    errors = BotHarness.reply(response)["errors"]
    assert set(errors) == {"person"}
    assert "I could not check <@U05OSMITH> with Slack just now" in errors["person"]
    assert series_count(db) == 0

    bot.standin.clear_faults()
    assert "1:1 with <@U05OSMITH> scheduled" in say(bot, AMELIA, command)
    assert series_count(db) == 1


def test_schedule_in_italian_while_slack_is_down_and_an_unknown_person_is_still_unknown(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    say(bot, MARCO, "list")
    bot.standin.fail_next("users.info", count=1000, status=503)
    reply = say(bot, MARCO, f"schedule {mention(FRANCESCA)} ogni 2 settimane il venerdì alle 9:30")
    assert "Non sono riuscito a verificare <@U03FESPOS> con Slack" in reply
    bot.standin.clear_faults()
    # Slack answers that there is no such user: that, and only that, is "I cannot find".
    ghost = say(bot, MARCO, "schedule <@U99GHOST> ogni 2 settimane il venerdì alle 9:30")
    assert "Non trovo <@U99GHOST>" in ghost
    assert series_count(db) == 0


# ---- App Home ----------------------------------------------------------------------------------


def home_showing(bot: BotHarness, user_id: str, *expected: str, absent: str = "") -> str:
    """`user_id`'s Home tab once it shows every `expected` text (and not `absent`)."""

    def shown() -> str | None:
        view = bot.standin.home_view(user_id)
        text = "" if view is None else block_text(view)
        ok = all(e in text for e in expected) and not (absent and absent in text)
        return text if ok else None

    return bot.standin.wait_for(shown, describe=f"{user_id}'s Home with {expected}")


def test_home_shows_the_next_1to1_in_the_viewers_own_zone_and_follows_topics_and_skips(
    bot: BotHarness, clock: FrozenClock
) -> None:
    say(bot, LUCA, f"schedule {mention(JAMES)} every 2 weeks on thursday at 10:00")
    # Luca's Home, refreshed by his own command, in Rome time; James's, opened, in New York's.
    home_showing(bot, LUCA, "*With <@U07JMILLE>* — next: Thursday 3 December, 10:00")
    bot.dispatch(bot.requests.app_home_opened(JAMES))
    home = home_showing(bot, JAMES, "Your 1:1s")
    assert "*With <@U04LROMAN>* — next: Thursday 3 December, 04:00" in home
    assert "Europe/Rome" not in home

    # A topic typed by James appears on his Home without reopening it.
    say(bot, JAMES, f"add {mention(LUCA)} Visa paperwork")
    home_showing(bot, JAMES, "Visa paperwork", "Thursday 3 December, 04:00")
    # A topic added from the day-before DM's button and its modal, on Luca's.
    tick(bot, datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    agenda = bot.dms(LUCA)[-1]
    add = button(agenda, views.ADD_TOPIC)
    assert bot.click(LUCA, views.ADD_TOPIC, add["value"], message=agenda).status == 200
    modal = new_modal(bot, views.TOPIC_MODAL, 0)
    topic = {"topic": {views.INPUT: {"type": "plain_text_input", "value": "Hiring plan"}}}
    assert not bot.submit(LUCA, views.TOPIC_MODAL, topic, modal["private_metadata"]).body
    home_showing(bot, LUCA, "Hiring plan", "Visa paperwork")

    # James skips from the DM: his Home moves to the next meeting, agenda carried over.
    james_agenda = bot.dms(JAMES)[-1]
    skip = button(james_agenda, views.SKIP)
    assert bot.click(JAMES, views.SKIP, skip["value"], message=james_agenda).status == 200
    home_showing(
        bot,
        JAMES,
        "next: Thursday 17 December, 04:00",
        "Visa paperwork",
        "Hiring plan",
        absent="2026-12-03",
    )
    # Luca skips that one by command: his Home shows the one after, in his own zone.
    say(bot, LUCA, f"skip {mention(JAMES)}")
    home_showing(bot, LUCA, "next: Thursday 31 December, 10:00", "Hiring plan", absent="2026-12-17")


# ---- follow-ups in the next meeting's day-before DM ---------------------------------------------


def test_the_next_day_before_dm_carries_the_open_follow_ups_of_the_last_meeting(
    bot: BotHarness, db: Database, clock: FrozenClock
) -> None:
    schedule_amelia_oliver(bot)  # Thu 3 Dec, then Thu 17 Dec
    say(bot, OLIVER, f"add {mention(AMELIA)} Holiday rota")  # discussed on 3 Dec
    tick(bot, datetime(2026, 12, 3, 11, 1, tzinfo=UTC))  # held; the outcomes DMs go
    prompt = bot.dms(AMELIA)[-1]
    outcomes = button(prompt, views.OUTCOMES)["value"]
    assert bot.click(AMELIA, views.OUTCOMES, outcomes, message=prompt).status == 200
    modal = new_modal(bot, views.OUTCOMES_MODAL, 0)
    values = {
        "outcome": {views.INPUT: {"type": "plain_text_input", "value": "Private: wants to lead"}},
        "followups": {views.INPUT: {"type": "plain_text_input", "value": "Send deck\nBook course"}},
    }
    assert not bot.submit(AMELIA, views.OUTCOMES_MODAL, values, modal["private_metadata"]).body
    # Oliver ticks one off; a new topic for the next meeting.
    assert bot.click(OLIVER, views.OUTCOMES, outcomes).status == 200
    mine = new_modal(bot, views.OUTCOMES_MODAL, 1)
    done_block = next(b for b in mine["blocks"] if b.get("block_id") == "done")
    course = next(o for o in done_block["element"]["options"] if o["text"]["text"] == "Book course")
    done: dict[str, Any] = {"type": "checkboxes", "selected_options": [course]}
    assert not bot.submit(
        OLIVER, views.OUTCOMES_MODAL, {"done": {views.INPUT: done}}, mine["private_metadata"]
    ).body
    say(bot, OLIVER, f"add {mention(AMELIA)} Career path")
    # A long agenda: the DM shows its first MAX_AGENDA items, and the follow-up is among them.
    for n in range(views.MAX_AGENDA):
        say(bot, AMELIA, f"add {mention(OLIVER)} Topic {n + 1}")
    before = {user: len(bot.dms(user)) for user in (AMELIA, OLIVER)}

    assert tick(bot, datetime(2026, 12, 16, 10, 30, tzinfo=UTC)) == 2
    for user in (AMELIA, OLIVER):
        [message] = bot.dms(user)[before[user] :]
        text = block_text({"text": message.text, "blocks": message.blocks})
        assert "is tomorrow: *Thursday 17 December, 10:00*" in text
        assert ":repeat: follow-up: Send deck _(<@U06AJONES>)_" in text
        assert text.index("Send deck") < text.index("Career path")  # follow-ups first
        assert "Book course" not in text  # done
        assert "Holiday rota" not in text  # discussed on 3 Dec
        assert "wants to lead" not in text  # Amelia's private outcome
        assert "and 2 more" in text  # Topic 14 and Topic 15
        assert validate_blocks(message.blocks) == []
    # The hour-before reminder counts them all: the follow-up and 16 topics.
    assert tick(bot, datetime(2026, 12, 17, 9, 10, tzinfo=UTC)) == 2
    assert "(17 topics on the agenda)" in dms(bot, OLIVER)[-1]


def test_a_dm_whose_sender_died_after_the_claim_goes_out_once(bot: BotHarness) -> None:
    schedule_amelia_oliver(bot)  # Thu 3 Dec 10:00 London
    bot.services.background.wait_idle()
    claimed = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
    lease = bot.services.leases.period
    with bot.services.db.transaction() as session:  # the day-before DM, claimed; then a crash
        (occurrence,) = store.due_for(
            session, "day_before", status="scheduled", by_end=False,
            after=claimed, before=claimed + timedelta(days=1),
        )  # fmt: skip
        renew_instance(session, "crashed", claimed)
        assert store.claim_notice(session, occurrence.id, "day_before", claimed, instance="crashed")
    before = {user: len(bot.dms(user)) for user in (AMELIA, OLIVER)}
    assert tick(bot, claimed + lease - timedelta(seconds=1)) == 0  # it may still be on its way
    assert tick(bot, claimed + lease + timedelta(seconds=1)) == 2  # lapsed, in neither DM: sent
    assert tick(bot, claimed + lease + timedelta(seconds=2)) == 0
    for user in (AMELIA, OLIVER):
        assert len(bot.dms(user)) == before[user] + 1
        assert "is tomorrow" in dms(bot, user)[-1]


def test_a_dm_slack_refused_one_of_the_two_is_tried_again_for_that_one(bot: BotHarness) -> None:
    schedule_amelia_oliver(bot)
    bot.services.background.wait_idle()
    before = {user: len(bot.dms(user)) for user in (AMELIA, OLIVER)}
    now = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
    bot.standin.fail_next("chat.postMessage", status=200, error="fatal_error")  # Amelia's
    assert tick(bot, now) == 1
    assert (len(bot.dms(AMELIA)), len(bot.dms(OLIVER))) == (before[AMELIA], before[OLIVER] + 1)
    lease = bot.services.leases.period
    assert tick(bot, now + lease - timedelta(seconds=1)) == 0  # handed back: tried a lease later
    assert tick(bot, now + lease + timedelta(seconds=1)) == 1  # Oliver's is in his DM: Amelia's
    assert tick(bot, now + lease + timedelta(seconds=2)) == 0
    assert (len(bot.dms(AMELIA)), len(bot.dms(OLIVER))) == (before[AMELIA] + 1, before[OLIVER] + 1)
