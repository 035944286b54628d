"""1:1 times as people type them, and meetings outside someone's working day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FrozenClock
from bot.oneonones.working_hours import check_working_day
from bot.parsing.text import parse_clock_time, take_clock_time
from bot.surveys.schedule import parse_schedule
from bot.views import oneonones as views
from storage import oneonones as store
from tests.harness import BotHarness
from tests.test_oneonones import (
    AMELIA,
    JAMES,
    LUCA,
    MARCO,
    OLIVER,
    dms,
    mention,
    say,
    schedule_form,
)

ROME, NEW_YORK = ZoneInfo("Europe/Rome"), ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def december(clock: FrozenClock) -> None:
    """Rome and New York are 6 hours apart, as in most weeks: not in the week or two between
    the EU and US daylight-saving changes (5 hours), which the any-day runs met."""
    clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("9", "09:00"),
        ("15", "15:00"),
        ("10am", "10:00"),
        ("10 am", "10:00"),
        ("9.30", "09:30"),
        ("2:30pm", "14:30"),
        ("2:30 p.m.", "14:30"),
        ("9h30", "09:30"),
        ("9h", "09:00"),
        ("09:30", "09:30"),
        ("12am", "00:00"),
        ("12pm", "12:00"),
        ("25", None),
        ("13pm", None),
        ("0am", None),
        ("9:7", None),
        ("9:60", None),
        ("noon", None),
    ],
)
def test_clock_times_as_people_type_them(typed: str, expected: str | None) -> None:
    assert parse_clock_time(typed) == expected


def test_a_time_may_span_two_words() -> None:
    assert take_clock_time(["10", "am", "for", "30"]) == ("10:00", 2)
    assert take_clock_time(["10", "for"]) == ("10:00", 1)
    assert take_clock_time(["soon"]) is None


@pytest.mark.parametrize("typed", ["9", "10am", "10 am", "9.30", "2:30pm", "9h30", "15"])
def test_oneonone_schedule_takes_every_form(bot: BotHarness, typed: str) -> None:
    reply = say(bot, AMELIA, f"schedule {mention(OLIVER)} every week on thursday at {typed}")
    assert "Scheduled" in reply or "scheduled" in reply, reply
    with bot.services.db.transaction() as session:
        (series,) = store.active_series_of(session, AMELIA)
    assert series.at_time == parse_clock_time(typed)


def test_survey_schedule_at_two_words() -> None:
    assert parse_schedule(["weekly", "on", "monday", "at", "9", "am"]).at_time == "09:00"
    assert parse_schedule(["weekly", "on", "monday", "at", "2:30pm"]).at_time == "14:30"


def test_a_meeting_at_4_in_new_york_is_flagged_with_a_time_that_suits_both(
    bot: BotHarness,
) -> None:
    # Luca is in Rome, James in New York: 10:00 in Rome is 04:00 for James.
    reply = say(bot, LUCA, f"schedule {mention(JAMES)} every 2 weeks on thursday at 10:00")
    assert "That is 04:00 for <@U07JMILLE> (America/New_York), outside a working day" in reply
    assert "*15:00* (09:00 for them)" in reply


def test_the_schedule_form_flags_it_in_the_managers_confirmation(bot: BotHarness) -> None:
    response = bot.submit(LUCA, views.SCHEDULE_MODAL, schedule_form(person=JAMES))
    assert response.status == 200 and response.body == ""
    (confirmation,) = bot.standin.wait_for(lambda: dms(bot, LUCA))
    assert "That is 04:00 for <@U07JMILLE>" in confirmation
    assert "*15:00* (09:00 for them)" in confirmation


def test_a_meeting_inside_both_working_days_says_nothing_more(bot: BotHarness) -> None:
    reply = say(bot, LUCA, f"schedule {mention(JAMES)} every 2 weeks on thursday at 16:00")
    assert "working day" not in reply
    assert "orario di lavoro" not in say(
        bot, MARCO, f"schedule {mention(LUCA)} every week on monday at 10:00"
    )


def test_no_overlap_says_so() -> None:
    outside = check_working_day(date(2026, 12, 8), time(10), 60, ROME, ZoneInfo("Pacific/Honolulu"))
    assert outside is not None and outside.suggested is None


def test_the_suggestion_is_the_nearest_fitting_start() -> None:
    outside = check_working_day(date(2026, 12, 8), time(10), 60, ROME, NEW_YORK)
    assert outside is not None and outside.suggested is not None
    assert (outside.their_start.time(), outside.suggested.time()) == (time(4), time(15))
    # An hour-long meeting at 17:30 ends after 18:00: outside, and 17:00 is nearest.
    late = check_working_day(date(2026, 12, 8), time(17, 30), 60, ROME, ROME)
    assert late is not None and late.suggested is not None
    assert late.suggested.time() == time(17)
