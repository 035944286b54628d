"""The `/pulse schedule` grammar and its occurrences, worked out by hand (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Texts
from bot.surveys.model import SurveyError
from bot.surveys.schedule import (
    FORM_DAY_OF_MONTH,
    LAST,
    Audience,
    Schedule,
    close_moment,
    days_between_runs,
    first_occurrence_on_or_after,
    following_occurrence,
    next_occurrence,
    nth_weekday,
    parse_run_options,
    parse_schedule,
    schedule_from_form,
    split_command,
)


def parse(text: str) -> Schedule:
    return parse_schedule(split_command(text))


def refusal(text: str) -> SurveyError:
    with pytest.raises(SurveyError) as caught:
        parse(text)
    return caught.value


@pytest.mark.parametrize(
    "text, weekday",
    [
        pytest.param("weekly on lunedì", 0, id="italian_with_accent"),
        pytest.param("weekly on venerdí", 4, id="italian_with_acute"),
        pytest.param("weekly on lunedi", 0, id="italian_without_accent"),
        pytest.param("biweekly on Thurs", 3, id="english_short"),
    ],
)
def test_weekdays_are_read_in_both_languages(text: str, weekday: int) -> None:
    assert parse(text).on_weekday == weekday


@pytest.mark.parametrize("text", ["monthly on ²", "monthly on day ²", "monthly on day ３"])
def test_a_digit_that_is_not_ascii_is_not_a_day(text: str) -> None:
    assert refusal(text).key == "pulse.errors.bad_day"


# ---- nth weekday -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, cadence, weekday, week",
    [
        pytest.param("monthly on first monday", "monthly", 0, 1, id="first"),
        pytest.param("monthly on 2nd tuesday", "monthly", 1, 2, id="2nd"),
        pytest.param("monthly on third wed", "monthly", 2, 3, id="third_short_day"),
        pytest.param("monthly on 4th thursday", "monthly", 3, 4, id="4th"),
        pytest.param("monthly on last friday", "monthly", 4, LAST, id="last"),
        pytest.param("monthly on primo lunedì", "monthly", 0, 1, id="primo_lunedi"),
        pytest.param("monthly on ultimo venerdì", "monthly", 4, LAST, id="ultimo_venerdi"),
        pytest.param("monthly on prima domenica", "monthly", 6, 1, id="prima_domenica"),
        pytest.param("quarterly on Last Friday", "quarterly", 4, LAST, id="quarterly_any_case"),
    ],
)
def test_nth_weekday_forms(text: str, cadence: str, weekday: int, week: int) -> None:
    schedule = parse(text)
    assert (schedule.cadence, schedule.on_weekday, schedule.on_week, schedule.on_day) == (
        cadence,
        weekday,
        week,
        None,
    )


def test_a_later_on_replaces_an_earlier_one() -> None:
    schedule = parse("monthly on day 15 on first monday")
    assert (schedule.on_day, schedule.on_week, schedule.on_weekday) == (None, 1, 0)


@pytest.mark.parametrize(
    "text, key, shown",
    [
        pytest.param("monthly on first", "pulse.errors.bad_nth", "on first monday", id="no_day"),
        pytest.param(
            "monthly on last payday", "pulse.errors.bad_nth", "on last friday", id="not_a_day"
        ),
        pytest.param("monthly on fifth monday", "pulse.errors.no_fifth", "on last", id="fifth"),
        pytest.param("monthly on 5th friday", "pulse.errors.no_fifth", "on last", id="5th"),
        pytest.param(
            "weekly on first monday", "pulse.errors.bad_weekday", "on monday", id="weekly_nth"
        ),
        pytest.param("monthly on someday", "pulse.errors.bad_day", "on first monday", id="bad_day"),
    ],
)
def test_bad_nth_weekday_forms_say_the_right_form(text: str, key: str, shown: str) -> None:
    error = refusal(text)
    assert error.key == key
    assert shown in Texts("en")(error.key, **error.params)


def test_nth_weekday_of_a_month_by_hand() -> None:
    # January 2026 starts on a Thursday and has five Fridays; February has four.
    assert nth_weekday(2026, 1, 0, 1) == date(2026, 1, 5)
    assert nth_weekday(2026, 2, 0, 1) == date(2026, 2, 2)
    assert nth_weekday(2026, 1, 1, 2) == date(2026, 1, 13)
    assert nth_weekday(2026, 1, 4, LAST) == date(2026, 1, 30)  # the fifth Friday
    assert nth_weekday(2026, 2, 4, LAST) == date(2026, 2, 27)  # no fifth: the fourth
    assert nth_weekday(2026, 2, 4, 4) == date(2026, 2, 27)


def test_last_friday_month_by_month() -> None:
    schedule = parse("monthly on last friday")
    days = []
    day = date(2026, 1, 1)
    for _ in range(4):
        day = first_occurrence_on_or_after(schedule, day)
        days.append(day)
        day += timedelta(days=1)
    assert days == [date(2026, 1, 30), date(2026, 2, 27), date(2026, 3, 27), date(2026, 4, 24)]


def test_quarterly_nth_weekday_is_in_the_first_month_of_each_quarter() -> None:
    schedule = parse("quarterly on first monday")
    after = [date(2026, 1, 6), date(2026, 4, 7), date(2026, 7, 7), date(2026, 10, 6)]
    assert [first_occurrence_on_or_after(schedule, d) for d in after] == [
        date(2026, 4, 6),
        date(2026, 7, 6),
        date(2026, 10, 5),
        date(2027, 1, 4),
    ]
    # The same months as a quarterly day N.
    assert first_occurrence_on_or_after(parse("quarterly on day 6"), date(2026, 1, 7)) == date(
        2026, 4, 6
    )


ROME = ZoneInfo("Europe/Rome")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    "text, zone, after, expected",
    [
        # Rome skips 02:00–03:00 on the last Sunday of March 2026 (the 29th): 03:30 instead.
        pytest.param(
            "monthly on last sunday at 02:30",
            ROME,
            datetime(2026, 3, 1, tzinfo=UTC),
            datetime(2026, 3, 29, 3, 30, tzinfo=ROME),
            id="spring_skip_hour",
        ),
        # …and repeats 02:00–03:00 on the last Sunday of October (the 25th): the first 02:30.
        pytest.param(
            "monthly on last sunday at 02:30",
            ROME,
            datetime(2026, 10, 1, tzinfo=UTC),
            datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=ROME),
            id="autumn_repeat_hour",
        ),
        # New York springs forward on the second Sunday of March 2026 (the 8th) at 02:00.
        pytest.param(
            "monthly on 2nd sunday at 02:30",
            NEW_YORK,
            datetime(2026, 3, 1, tzinfo=UTC),
            datetime(2026, 3, 8, 3, 30, tzinfo=NEW_YORK),
            id="spring_skip_hour_new_york",
        ),
        # …and falls back on the first Sunday of November (the 1st), repeating 01:00–02:00.
        pytest.param(
            "monthly on first sunday at 01:30",
            NEW_YORK,
            datetime(2026, 10, 5, tzinfo=UTC),
            datetime(2026, 11, 1, 1, 30, fold=0, tzinfo=NEW_YORK),
            id="autumn_repeat_hour_new_york",
        ),
    ],
)
def test_nth_weekday_occurrences_across_daylight_saving(
    text: str, zone: ZoneInfo, after: datetime, expected: datetime
) -> None:
    occurrence = next_occurrence(parse(text), after, zone)
    assert occurrence == expected.astimezone(UTC)
    assert occurrence.astimezone(zone).utcoffset() == expected.utcoffset()


# ---- cron ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expression, at_time",
    [
        pytest.param('cron "0 10 * * 1-5"', "0 10 * * 1-5", "10:00", id="weekdays"),
        pytest.param("cron “30 9 1 * *”", "30 9 1 * *", "09:30", id="smart_quotes"),
        pytest.param('cron "  5   7 * jan,jul mon "', "5 7 * jan,jul mon", "07:05", id="spaces"),
    ],
)
def test_cron_forms(text: str, expression: str, at_time: str) -> None:
    schedule = parse(text)
    assert (schedule.cadence, schedule.cron, schedule.at_time) == ("cron", expression, at_time)


@pytest.mark.parametrize(
    "text, key, shown",
    [
        pytest.param('cron "*/5 10 * * *"', "pulse.errors.cron_time", "one number", id="step"),
        pytest.param('cron "0 9-17 * * *"', "pulse.errors.cron_time", "one number", id="range"),
        pytest.param('cron "0,30 9 * * *"', "pulse.errors.cron_time", "one number", id="list"),
        pytest.param('cron "0 24 * * *"', "pulse.errors.cron_time", "one number", id="hour_24"),
        pytest.param("cron 0 10 * * 1-5", "pulse.errors.bad_cron", "in quotes", id="unquoted"),
        pytest.param("cron", "pulse.errors.bad_cron", "in quotes", id="missing"),
        pytest.param('cron "0 10 * *"', "pulse.errors.bad_cron", "five fields", id="four_fields"),
        pytest.param('cron "0 10 * * 8"', "pulse.errors.bad_cron", "five fields", id="weekday_8"),
        pytest.param('cron "0 10 32 * *"', "pulse.errors.bad_cron", "five fields", id="day_32"),
        pytest.param('cron "0 10 ? * *"', "pulse.errors.bad_cron", "five fields", id="quartz"),
        pytest.param(
            'cron "0 10 30 2 *"', "pulse.errors.cron_never", "30 February", id="never_fires"
        ),
        pytest.param(
            'cron "0 10 1 * 1"', "pulse.errors.cron_day_and_weekday", "one of", id="day_and_weekday"
        ),
        pytest.param(
            'cron "0 10 * * 1" at 09:00', "pulse.errors.cron_on_at", "leave out", id="with_at"
        ),
        pytest.param(
            'cron "0 10 * * 1" on monday', "pulse.errors.cron_on_at", "leave out", id="with_on"
        ),
    ],
)
def test_bad_cron_forms_name_the_rule_and_an_example(text: str, key: str, shown: str) -> None:
    error = refusal(text)
    assert error.key == key
    message = Texts("en")(error.key, **error.params)
    assert shown in message
    if "value" in error.params:  # the expression, named as typed
        assert f"`{error.params['value']}`" in message


@pytest.mark.parametrize(
    "weekday_field, days",
    [
        pytest.param("1-5", "Mon Tue Wed Thu Fri", id="weekdays_not_tuesday_to_saturday"),
        pytest.param("0", "Sun", id="zero_is_sunday"),
        pytest.param("7", "Sun", id="seven_is_sunday"),
        pytest.param("5-7", "Fri Sat Sun", id="range_to_seven"),
        pytest.param("*/2", "Sun Tue Thu Sat", id="step_from_sunday"),
        pytest.param("sat,sun", "Sat Sun", id="names"),
        pytest.param("fri-sun", "Fri Sat Sun", id="name_range_to_sunday"),
    ],
)
def test_cron_weekdays_are_numbered_as_in_crontab(weekday_field: str, days: str) -> None:
    """APScheduler 3 counts weekdays from Monday = 0; a crontab from Sunday = 0."""
    schedule = parse(f'cron "0 10 * * {weekday_field}"')
    day = date(2026, 6, 1)  # a Monday
    seen = set()
    for _ in range(7):
        day = first_occurrence_on_or_after(schedule, day)
        seen.add(day.strftime("%a"))
        day += timedelta(days=1)
    assert seen == set(days.split())


@pytest.mark.parametrize(
    "text, zone, after, expected",
    [
        # Friday 6 March 2026, 11:00 in New York; its clocks go forward on Sunday the 8th.
        pytest.param(
            'cron "0 10 * * 1-5"',
            NEW_YORK,
            datetime(2026, 3, 6, 16, tzinfo=UTC),
            [datetime(2026, 3, 9, 14, tzinfo=UTC), datetime(2026, 3, 10, 14, tzinfo=UTC)],
            id="weekdays_new_york_across_spring",
        ),
        pytest.param(
            'cron "30 2 * * 0"',
            ROME,
            datetime(2026, 3, 28, 12, tzinfo=UTC),
            [datetime(2026, 3, 29, 1, 30, tzinfo=UTC), datetime(2026, 4, 5, 0, 30, tzinfo=UTC)],
            id="spring_skip_hour",
        ),
        pytest.param(
            'cron "30 2 * * 0"',
            ROME,
            datetime(2026, 10, 24, 12, tzinfo=UTC),
            [datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 11, 1, 1, 30, tzinfo=UTC)],
            id="autumn_repeat_hour",
        ),
        pytest.param(
            'cron "0 9 1 */3 *"',
            ROME,
            datetime(2026, 1, 1, 9, tzinfo=UTC),
            [datetime(2026, 4, 1, 7, tzinfo=UTC), datetime(2026, 7, 1, 7, tzinfo=UTC)],
            id="quarterly_by_cron",
        ),
        pytest.param(
            'cron "0 10 29 2 *"',
            ROME,
            datetime(2026, 1, 1, tzinfo=UTC),
            [datetime(2028, 2, 29, 9, tzinfo=UTC), datetime(2032, 2, 29, 9, tzinfo=UTC)],
            id="leap_day",
        ),
    ],
)
def test_cron_occurrences_in_a_zone(
    text: str, zone: ZoneInfo, after: datetime, expected: list[datetime]
) -> None:
    schedule = parse(text)
    first = next_occurrence(schedule, after, zone)
    assert [first, following_occurrence(schedule, first, zone)] == expected


# ---- time zone ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, zone",
    [
        pytest.param("weekly in Europe/Rome", "Europe/Rome", id="exact"),
        pytest.param("weekly in america/new_york", "America/New_York", id="any_case"),
        pytest.param('cron "0 10 * * 1-5" in Asia/Tokyo', "Asia/Tokyo", id="cron"),
        pytest.param("monthly in UTC on first monday", "UTC", id="before_on"),
        pytest.param("weekly", None, id="default_is_the_workspace"),
    ],
)
def test_zone_option(text: str, zone: str | None) -> None:
    assert parse(text).zone == zone


@pytest.mark.parametrize("value", ["Mars/Olympus", "Rome", "localtime", "../etc/passwd", "+02:00"])
def test_unknown_zone_is_named_with_an_example(value: str) -> None:
    error = refusal(f"weekly in {value}")
    assert (error.key, error.params["value"]) == ("pulse.errors.bad_zone", value)
    assert "in Europe/Rome" in Texts("en")(error.key, **error.params)


def test_audience_stops_at_in() -> None:
    schedule = parse("weekly to <#C02SALES> in Europe/Rome on friday")
    assert (schedule.audience.channels, schedule.zone, schedule.on_weekday) == (
        ("C02SALES",),
        "Europe/Rome",
        4,
    )


def test_start_takes_no_zone() -> None:
    with pytest.raises(SurveyError) as caught:
        parse_run_options(["in", "Europe/Rome"])
    assert caught.value.key == "pulse.errors.unexpected_word"


# ---- open days against the time between runs ---------------------------------------------------


@pytest.mark.parametrize(
    "text, gap",
    [
        pytest.param("weekly", 7, id="weekly"),
        pytest.param("biweekly", 14, id="biweekly"),
        pytest.param("monthly on day 31", 28, id="day_31_jan_to_feb"),
        pytest.param("monthly on first monday", 28, id="nth_weekday"),
        pytest.param("quarterly on day 31", 89, id="quarterly"),
        pytest.param('cron "0 10 * * 1-5"', 1, id="cron_weekdays"),
        pytest.param('cron "0 10 * * 1,4"', 3, id="cron_monday_thursday"),
        pytest.param('cron "0 10 1,15 * *"', 14, id="cron_twice_a_month"),
    ],
)
def test_days_between_runs(text: str, gap: int) -> None:
    assert days_between_runs(parse(text)) == gap


def test_open_days_may_last_until_the_next_run_and_no_longer() -> None:
    assert parse("weekly open 7d").open_days == 7
    assert parse('cron "0 10 * * 1,4" open 3d').open_days == 3
    error = refusal('cron "0 10 * * 1,4" open 4d')
    assert (error.key, error.params) == ("pulse.errors.open_too_long", {"days": 4, "gap": 3})
    assert "`open 3d` or less" in Texts("en")(error.key, **error.params)
    assert refusal("weekly open 8d").params == {"days": 8, "gap": 7}


def test_default_open_days_shrink_to_fit_the_schedule() -> None:
    assert parse("weekly").open_days == 3
    assert parse('cron "0 10 * * 1-5"').open_days == 1  # daily: closes as the next one opens


def test_close_is_at_the_same_wall_clock_time_so_open_7d_meets_the_next_weekly_run() -> None:
    # Monday 23 March 2026 in Rome is CET; a week later, 30 March, CEST: 167 hours apart.
    schedule = parse("weekly on monday at 10:00 open 7d")
    first = next_occurrence(schedule, datetime(2026, 3, 22, tzinfo=UTC), ROME)
    close = close_moment(first.astimezone(ROME).date(), "10:00", 7, ROME)
    assert close == following_occurrence(schedule, first, ROME)
    assert close - first == timedelta(hours=167)


# ---- the schedule modal's fields ------------------------------------------------------------


def test_modal_nth_weekday_and_zone_read_like_the_typed_words() -> None:
    by_form = schedule_from_form(
        "quarterly",
        weekday="friday",
        week="last",
        day="12",  # ignored: the week choice wins
        at_time="09:30",
        zone=" america/new_york ",
        audience=Audience(),
        open_days="5",
    )
    assert by_form == parse("quarterly on last friday at 09:30 in America/New_York open 5d")


def test_modal_day_of_month_choice_uses_the_day() -> None:
    by_form = schedule_from_form(
        "monthly",
        weekday="monday",
        week=FORM_DAY_OF_MONTH,
        day="15",
        at_time="10:00",
        zone="",
        audience=Audience(),
        open_days="3",
    )
    assert (by_form.on_day, by_form.on_week, by_form.zone) == (15, None, None)


def test_modal_forged_week_is_refused_not_crashed() -> None:
    with pytest.raises(SurveyError) as caught:
        schedule_from_form(
            "monthly",
            weekday="monday",
            week="'; DROP TABLE",
            day=None,
            at_time="10:00",
            zone=None,
            audience=Audience(),
            open_days="3",
        )
    assert caught.value.key == "pulse.errors.bad_day"
