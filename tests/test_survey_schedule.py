"""The `/pulse schedule` grammar and its occurrences, worked out by hand (no database)."""

from __future__ import annotations

import pytest

from bot.surveys.model import SurveyError
from bot.surveys.schedule import Schedule, parse_schedule, split_command


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
