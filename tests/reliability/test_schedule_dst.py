"""Clock and schedule: a time that does not exist (spring gap) or exists twice (autumn) runs once.

Europe/Rome skips 02:00–03:00 on Sunday 29 March 2026 and repeats 02:00–03:00 on Sunday
25 October 2026. A survey scheduled for Sundays at 02:30, and the weekly summary set to Sunday
02:30, are stepped through those nights minute by minute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.delivery import survey_dms as jobs
from bot.jobs import record_weekly_summary
from bot.scheduler import weekly_summary_trigger
from storage import surveys as store
from tests.conftest import make_settings
from tests.harness import BotHarness
from tests.reliability.helpers import MANAGER

ROME = ZoneInfo("Europe/Rome")
ROMAN = "U02MBIANC"  # someone in Europe/Rome
NIGHTS = [
    pytest.param(datetime(2026, 3, 28, 12, tzinfo=ROME), id="spring_skip_hour"),
    pytest.param(datetime(2026, 10, 24, 12, tzinfo=ROME), id="autumn_repeat_hour"),
]


def minutes(start: datetime, hours: int) -> list[datetime]:
    first = start.astimezone(UTC)
    return [first + timedelta(minutes=n) for n in range(hours * 60)]


@pytest.mark.parametrize("saturday", NIGHTS)
def test_a_survey_at_a_missing_or_repeated_time_opens_once(
    bot: BotHarness, saturday: datetime
) -> None:
    bot.clock.now = saturday.replace(hour=0)
    reply = bot.command(MANAGER, "/pulse", "schedule enps weekly on sunday at 02:30")
    assert "02:30" in BotHarness.reply_text(reply)
    # The run opens when the first time zone reaches Sunday 02:30 (a day ahead of Rome, in
    # Tokyo or further east); stepped every five minutes from then to Sunday morning in Rome.
    steps = [
        saturday.replace(hour=0).astimezone(UTC) + timedelta(minutes=5 * n) for n in range(400)
    ]
    opened = [m for m in steps for _ in range(jobs.open_due_runs(bot.services, m))]
    assert len(opened) == 1, opened
    with bot.services.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(store.SurveyRun)) == 1
        run = session.scalars(select(store.SurveyRun)).one()
        rome = session.scalars(
            select(store.SurveyDelivery.send_at).where(store.SurveyDelivery.user_id == ROMAN)
        ).one()
        survey = store.find_survey(session, "enps")
    sunday = saturday.date() + timedelta(days=1)
    # Rome's 02:30 does not exist in spring (03:30 instead) and comes twice in autumn (the first).
    expected = datetime(sunday.year, sunday.month, sunday.day, 3 if sunday.month == 3 else 2, 30)
    for moment in (run.opens_at, rome):
        local = moment.astimezone(ROME)
        assert (local.date(), local.hour, local.minute, local.fold) == (
            sunday,
            expected.hour,
            30,
            0,
        )
    assert survey is not None and survey.next_run_at is not None
    assert survey.next_run_at.astimezone(ROME).date() == sunday + timedelta(days=7)


@pytest.mark.parametrize("saturday", NIGHTS)
def test_the_weekly_summary_at_a_missing_or_repeated_time_is_posted_once(
    bot: BotHarness, saturday: datetime
) -> None:
    settings = make_settings(PULSEBOT_SUMMARY_DAY="sunday", PULSEBOT_SUMMARY_TIME="02:30")
    trigger = weekly_summary_trigger(settings)
    night = minutes(saturday.replace(hour=23), hours=8)
    fires: list[datetime] = []
    due = trigger.get_next_fire_time(None, night[0])  # as APScheduler does: next fire time,
    for moment in night:  # fired when the clock reaches it, then the one after it
        if due is not None and due <= moment:
            fires.append(due)
            due = trigger.get_next_fire_time(due, moment)
    assert len(fires) == 1, fires
    # A twin firing (another instance, a restart in the repeated hour) posts nothing more.
    update = {"managers_channel": "C03MANAGERS"}
    object.__setattr__(bot.services, "settings", bot.services.settings.model_copy(update=update))

    def summaries() -> int:
        messages = bot.standin.channel_messages("C03MANAGERS")
        return sum(1 for m in messages if m.source == "chat.postMessage")

    assert record_weekly_summary(bot.services, fires[0]) == 1
    assert summaries() == 1  # it went out
    assert record_weekly_summary(bot.services, night[-1]) == 0
    assert summaries() == 1
