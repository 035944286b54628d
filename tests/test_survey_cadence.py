"""Nth-weekday and cron schedules, each in its own time zone, through the whole bot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from bot.clock import FrozenClock
from bot.delivery import survey_dms as jobs
from bot.standin import SlackStandIn, validate_view
from bot.surveys.schedule import first_delivery, local_moment
from bot.views import surveys as views
from storage import surveys as store
from storage.db import Database
from storage.surveys import RunRecord, SurveyRecord
from tests.conftest import make_settings
from tests.harness import BotHarness, block_text

MANAGER = "U06AJONES"  # English, Europe/London
ITALIAN_MANAGER = "U02MBIANC"  # Italian, Europe/Rome
TOKYO, ROME, NEW_YORK = "U09HSATO", "U01GROSSI", "U07JMILLE"
NY = ZoneInfo("America/New_York")


@pytest.fixture
def bot(db: Database, standin: SlackStandIn, clock: FrozenClock) -> Iterator[BotHarness]:
    settings = make_settings(  # the workspace is in Europe/Rome
        SLACK_API_URL=standin.url,
        DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
        PULSEBOT_MANAGERS=f"{MANAGER},{ITALIAN_MANAGER}",
    )
    harness = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
    yield harness
    harness.close()


def schedule(bot: BotHarness, text: str, *, at: datetime, user: str = MANAGER) -> str:
    bot.clock.now = at
    return BotHarness.reply_text(bot.command(user, "/pulse", f"schedule {text}"))


def survey(bot: BotHarness, name: str) -> SurveyRecord:
    with bot.services.db.transaction() as session:
        found = store.find_survey(session, name)
    assert found is not None
    return found


def runs(bot: BotHarness, name: str) -> list[RunRecord]:
    with bot.services.db.transaction() as session:
        return store.runs_of(session, survey(bot, name).id)


def dmed(bot: BotHarness, *people: str) -> set[str]:
    return {person for person in people if bot.dms(person)}


def test_first_monday_in_new_york_opens_once_and_reaches_each_person_at_their_time(
    bot: BotHarness,
) -> None:
    reply = schedule(
        bot,
        "enps monthly on first monday at 09:00 in America/New_York open 2d",
        at=datetime(2026, 1, 10, 12, tzinfo=UTC),
    )
    assert "monthly on the first Monday at 09:00 (America/New_York)" in reply
    found = survey(bot, "enps")
    assert (found.cadence, found.on_week, found.on_weekday, found.zone) == (
        "monthly",
        1,
        0,
        "America/New_York",
    )
    # Monday 2 February 2026, 09:00 in New York (EST): 14:00 UTC.
    assert found.next_run_at == datetime(2026, 2, 2, 14, tzinfo=UTC)

    services = bot.services
    first = first_delivery(date(2026, 2, 2), "09:00")  # UTC+14: Sunday 19:00 UTC
    assert jobs.open_due_runs(services, first - timedelta(minutes=1)) == 0
    assert jobs.open_due_runs(services, first) == 1
    assert jobs.open_due_runs(services, first + timedelta(minutes=1)) == 0
    (run,) = runs(bot, "enps")
    assert run.local_date == date(2026, 2, 2)
    assert run.closes_at == datetime(2026, 2, 4, 14, tzinfo=UTC)
    # The next one: the first Monday of March, still EST (New York moves on 8 March).
    assert survey(bot, "enps").next_run_at == datetime(2026, 3, 2, 14, tzinfo=UTC)

    # 09:00 on that Monday in each person's own zone: Tokyo, then Rome, then New York.
    for person, zone in [(TOKYO, "Asia/Tokyo"), (ROME, "Europe/Rome"), (NEW_YORK, NY.key)]:
        due = local_moment(date(2026, 2, 2), "09:00", ZoneInfo(zone))
        jobs.dispatch_due_deliveries(services, due - timedelta(minutes=1))
        assert person not in dmed(bot, person)
        jobs.dispatch_due_deliveries(services, due)
        assert len(bot.dms(person)) == 1

    # Paused and resumed, it comes back in its own zone.
    at = datetime(2026, 2, 10, 12, tzinfo=UTC)
    bot.clock.now = at
    bot.command(MANAGER, "/pulse", "pause enps")
    bot.command(MANAGER, "/pulse", "resume enps")
    assert survey(bot, "enps").next_run_at == datetime(2026, 3, 2, 14, tzinfo=UTC)


def test_cron_in_another_zone_keeps_the_run_on_its_own_date(bot: BotHarness) -> None:
    """23:30 on a Monday in New York is already Tuesday in Rome, the workspace's zone: the
    run is Monday's, and a person in Rome gets it at 23:30 on Monday, Rome time."""
    reply = schedule(
        bot,
        'enps cron "30 23 * * 1-5" in america/new_york to <@U01GROSSI> <@U07JMILLE> <@U09HSATO>',
        at=datetime(2026, 3, 7, 12, tzinfo=UTC),  # a Saturday
    )
    assert "by cron `30 23 * * 1-5` at 23:30 (America/New_York)" in reply
    assert "open 1 day." in reply  # weekdays: a run closes when the next one opens
    # Monday 9 March 2026, 23:30 in New York, which moved to EDT the day before: 03:30 UTC.
    monday = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)
    assert survey(bot, "enps").next_run_at == monday

    services = bot.services
    assert jobs.open_due_runs(services, first_delivery(date(2026, 3, 9), "23:30")) == 1
    (run,) = runs(bot, "enps")
    assert (run.local_date, run.at_time, run.opens_at) == (date(2026, 3, 9), "23:30", monday)
    tuesday = datetime(2026, 3, 11, 3, 30, tzinfo=UTC)
    assert run.closes_at == tuesday == survey(bot, "enps").next_run_at

    rome_time = datetime(2026, 3, 9, 22, 30, tzinfo=UTC)  # Monday 23:30 in Rome (CET)
    jobs.dispatch_due_deliveries(services, rome_time - timedelta(minutes=1))
    assert dmed(bot, ROME, NEW_YORK, TOKYO) == {TOKYO}  # Tokyo's Monday 23:30 came first
    jobs.dispatch_due_deliveries(services, rome_time)
    assert dmed(bot, ROME, NEW_YORK, TOKYO) == {TOKYO, ROME}
    jobs.dispatch_due_deliveries(services, monday)
    assert dmed(bot, ROME, NEW_YORK, TOKYO) == {TOKYO, ROME, NEW_YORK}

    # Tuesday's run is made while Monday's is still open somewhere: it opens as Monday's
    # closes, so both are made (an occurrence is skipped only while a run would still be open).
    assert jobs.open_due_runs(services, first_delivery(date(2026, 3, 10), "23:30")) == 1
    first_run, second_run = runs(bot, "enps")
    assert second_run.opens_at == first_run.closes_at


def test_an_occurrence_while_a_run_is_still_open_is_skipped(bot: BotHarness) -> None:
    now = datetime(2026, 1, 10, 12, tzinfo=UTC)  # a Saturday
    bot.clock.now = now
    started = BotHarness.reply_text(bot.command(MANAGER, "/pulse", "start enps open 10d"))
    assert "Run 1 of `enps` is open" in started
    schedule(bot, "enps weekly on monday at 10:00", at=now)
    monday = datetime(2026, 1, 12, 9, tzinfo=UTC)  # 10:00 in Rome
    assert survey(bot, "enps").next_run_at == monday

    services = bot.services
    assert jobs.open_due_runs(services, monday) == 0  # run 1 is open until the 20th
    assert len(runs(bot, "enps")) == 1
    following = datetime(2026, 1, 19, 9, tzinfo=UTC)
    assert survey(bot, "enps").next_run_at == following  # skipped, not postponed
    assert jobs.open_due_runs(services, following) == 0

    bot.clock.now = following + timedelta(days=2)
    bot.command(MANAGER, "/pulse", "close enps")
    next_monday = datetime(2026, 1, 26, 9, tzinfo=UTC)
    assert jobs.open_due_runs(services, next_monday) == 1
    assert [run.number for run in runs(bot, "enps")] == [1, 2]


def test_a_schedule_made_before_zones_follows_the_workspace(bot: BotHarness) -> None:
    schedule(bot, "pulse weekly on friday at 17:00", at=datetime(2026, 1, 10, 12, tzinfo=UTC))
    with bot.services.db.transaction() as session:
        session.execute(update(store.Survey).values(zone=None))  # as migration 0008 leaves it
    listed = BotHarness.reply_text(bot.command(MANAGER, "/pulse", "list"))
    assert "weekly on Friday at 17:00 (Europe/Rome)" in listed
    friday = datetime(2026, 1, 16, 16, tzinfo=UTC)
    assert survey(bot, "pulse").next_run_at == friday
    assert jobs.open_due_runs(bot.services, first_delivery(date(2026, 1, 16), "17:00")) == 1
    assert survey(bot, "pulse").next_run_at == friday + timedelta(days=7)


def test_list_shows_each_cadence_in_both_languages(bot: BotHarness) -> None:
    at = datetime(2026, 1, 10, 12, tzinfo=UTC)
    schedule(bot, "pulse monthly on prima domenica at 10:00", at=at)
    schedule(bot, "enps quarterly on day 15 in Asia/Tokyo", at=at)
    schedule(bot, 'engagement cron "0 9 * * 1-5" in America/New_York', at=at)
    english = BotHarness.reply_text(bot.command(MANAGER, "/pulse", "list"))
    assert "monthly on the first Sunday at 10:00 (Europe/Rome)" in english
    assert "quarterly (Jan, Apr, Jul, Oct) on day 15 at 10:00 (Asia/Tokyo)" in english
    assert "by cron `0 9 * * 1-5` at 09:00 (America/New_York)" in english
    italian = BotHarness.reply_text(bot.command(ITALIAN_MANAGER, "/pulse", "list"))
    assert "ogni mese, la prima domenica, alle 10:00 (Europe/Rome)" in italian
    assert "secondo il cron `0 9 * * 1-5` alle 09:00 (America/New_York)" in italian


@pytest.mark.parametrize(
    "text, shown",
    [
        pytest.param('pulse cron "*/15 9 * * *"', "must each be one number", id="cron_step"),
        pytest.param(
            "pulse weekly in Mars/Olympus", "`Mars/Olympus` is not a time zone", id="zone"
        ),
        pytest.param("pulse monthly on fifth friday", "on last friday", id="fifth"),
        pytest.param('pulse cron "0 10 * * 1,4" open 5d', "`open 3d` or less", id="too_long"),
    ],
)
def test_typed_mistakes_get_a_clear_private_answer(bot: BotHarness, text: str, shown: str) -> None:
    reply = BotHarness.reply(bot.command(MANAGER, "/pulse", f"schedule {text}"))
    assert reply.get("response_type", "ephemeral") == "ephemeral"
    assert shown in block_text(reply)
    with bot.services.db.transaction() as session:
        assert all(s.cadence is None for s in store.list_surveys(session))


def test_help_gives_the_new_forms(bot: BotHarness) -> None:
    english = BotHarness.reply_text(bot.command(MANAGER, "/pulse", "help"))
    assert "first…last weekday" in english and "[in &lt;time zone&gt;]" in english
    assert 'cron "0 10 * * 1-5"' in english and "typed only" in english
    italian = BotHarness.reply_text(bot.command(ITALIAN_MANAGER, "/pulse", "help"))
    assert "primo…ultimo giorno" in italian and "solo scritto" in italian


# ---- the schedule modal ------------------------------------------------------------------------


def form(**fields: str | None) -> dict[str, Any]:
    """The schedule modal's state as Slack sends it: enps, monthly, on the last Friday."""
    values: dict[str, str | None] = {
        "survey": "enps",
        "cadence": "monthly",
        "weekday": "friday",
        "week": "last",
        "day": None,
        "time": "09:30",
        "zone": "America/New_York",
        "open": "3",
    } | fields

    def select(value: str | None) -> dict[str, Any]:
        option = None if value is None else {"value": value}
        return {"value": {"type": "static_select", "selected_option": option}}

    return {
        **{
            block: select(values[block])
            for block in ("survey", "cadence", "weekday", "week", "day")
        },
        "time": {"value": {"type": "timepicker", "selected_time": values["time"]}},
        "zone": {"value": {"type": "plain_text_input", "value": values["zone"]}},
        "audience": {"value": {"type": "radio_buttons", "selected_option": {"value": "everyone"}}},
        "channels": {"value": {"type": "multi_conversations_select", "selected_conversations": []}},
        "users": {"value": {"type": "multi_users_select", "selected_users": []}},
        "open": {"value": {"type": "plain_text_input", "value": values["open"]}},
    }


def test_the_modal_offers_the_nth_weekday_and_a_zone(bot: BotHarness) -> None:
    assert bot.command(MANAGER, "/pulse", "schedule").body == ""
    modal = bot.standin.wait_for(
        lambda: next((v for v in bot.standin.views if v.get("type") == "modal"), None),
        describe="the schedule modal",
    )  # the stand-in refuses views.open for a view Slack would refuse
    blocks = {b["block_id"]: b for b in modal["blocks"]}
    assert list(blocks) == list(views.SCHEDULE_BLOCKS)
    weeks = [o["value"] for o in blocks["week"]["element"]["options"]]
    assert weeks == ["day", "first", "second", "third", "fourth", "last"]
    assert blocks["zone"]["element"]["initial_value"] == "Europe/Rome"  # the workspace's
    cadences = [o["value"] for o in blocks["cadence"]["element"]["options"]]
    assert "cron" not in cadences  # typed only

    bad = BotHarness.reply(
        bot.submit(MANAGER, views.SCHEDULE_CALLBACK, form(zone="New York", open="31"))
    )
    assert bad["response_action"] == "errors"
    assert "`New York` is not a time zone I know" in bad["errors"]["zone"]

    done = BotHarness.reply(bot.submit(MANAGER, views.SCHEDULE_CALLBACK, form()))
    assert done["response_action"] == "update"
    assert validate_view(done["view"]) == []
    assert "monthly on the last Friday at 09:30 (America/New_York)" in block_text(done["view"])
    found = survey(bot, "enps")
    assert (found.on_week, found.on_weekday, found.on_day, found.zone, found.at_time) == (
        -1,
        4,
        None,
        "America/New_York",
        "09:30",
    )
    assert found.next_run_at is not None
    local = found.next_run_at.astimezone(NY)
    assert (local.strftime("%a %H:%M"), local.month != (local + timedelta(days=7)).month) == (
        "Fri 09:30",
        True,  # the last Friday: a week later is another month
    )
