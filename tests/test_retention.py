"""PULSEBOT_RETENTION_MONTHS: old answers, comments, closed deals' history and 1:1 notes go;
released results, and the anonymity of every later release, stay."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import ColumnElement, func, select

from bot import jobs
from bot.actor import Actor
from bot.clock import FrozenClock
from bot.deals.arguments import DealRefByName, NewDealArgs
from bot.retention import apply_retention, months_before
from bot.scheduler import JOB_PROVIDERS, wanted_jobs
from bot.standin import SlackStandIn
from bot.surveys.releases import Figure, decide, earlier_figures, run_groups
from bot.surveys.results import OVERLAP
from storage.db import Database
from storage.deals import DealEvent
from storage.oneonones import OneOnOneNote
from storage.releases import WHOLE_RUN
from storage.surveys import SurveyAnswer, SurveyRun
from storage.upkeep import SurveyAnswerMark
from tests.conftest import TEST_SECRET, make_settings
from tests.harness import BotHarness
from tests.test_oneonones import AMELIA, OLIVER, TUESDAY, schedule_amelia_oliver
from tests.test_surveys import PEOPLE, click_enps, results, start, wait_for_dms


@pytest.fixture
def bot(db: Database, standin: SlackStandIn, clock: FrozenClock) -> Iterator[BotHarness]:
    clock.now = TUESDAY
    settings = make_settings(
        SLACK_API_URL=standin.url,
        DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
        PULSEBOT_MANAGERS=AMELIA,
        PULSEBOT_RETENTION_MONTHS="12",
    )
    harness = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
    yield harness
    harness.close()


def count(bot: BotHarness, model: type, *where: ColumnElement[bool]) -> int:
    with bot.services.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2027, 3, 31, 4, 10, tzinfo=UTC), 1, datetime(2027, 2, 28, 4, 10, tzinfo=UTC)),
        (datetime(2028, 3, 31, 4, 10, tzinfo=UTC), 1, datetime(2028, 2, 29, 4, 10, tzinfo=UTC)),
        (datetime(2027, 1, 15, tzinfo=UTC), 12, datetime(2026, 1, 15, tzinfo=UTC)),
        (datetime(2027, 1, 15, tzinfo=UTC), 13, datetime(2025, 12, 15, tzinfo=UTC)),
    ],
    ids=["end_of_march", "leap_february", "a_year", "across_new_year"],
)
def test_months_before(moment: datetime, months: int, expected: datetime) -> None:
    assert months_before(moment, months) == expected


def test_the_nightly_job_exists_only_with_a_retention_period(bot: BotHarness) -> None:
    assert "prune_expired_data" in wanted_jobs(bot.services, JOB_PROVIDERS)
    kept = BotHarness.boot(
        make_settings(
            SLACK_API_URL=bot.standin.url,
            DATABASE_URL=bot.services.db.engine.url.render_as_string(hide_password=False),
        ),
        db=bot.services.db,
        standin=bot.standin,
        clock=bot.clock,
    )
    assert "prune_expired_data" not in wanted_jobs(kept.services, JOB_PROVIDERS)
    assert jobs.apply_retention_period(kept.services, bot.clock()) == 0


def test_old_data_goes_released_results_and_their_anonymity_stay(bot: BotHarness) -> None:
    # A year ago and more: an eNPS run answered by five and released; a won deal; 1:1 notes.
    start(bot, "enps")
    wait_for_dms(bot, PEOPLE)
    for person, score in zip(PEOPLE[1:6], (9, 10, 7, 3, 9), strict=True):
        click_enps(bot, person, score)
    bot.clock.advance(timedelta(hours=1))
    bot.command(AMELIA, "/pulse", "close enps")
    shown = results(bot, "enps")
    assert "5 of 13 answered" in shown
    schedule_amelia_oliver(bot)
    series, _ = bot.services.oneonones.add_topic(OLIVER, other_id=AMELIA, text="pay")
    bot.services.oneonones.save_notes(OLIVER, series.id, "old private notes")
    deals = bot.services.deals
    deals.create(Actor(OLIVER), NewDealArgs(name="Old Won"))
    deals.won(Actor(OLIVER), DealRefByName("Old Won"))
    deals.create(Actor(OLIVER), NewDealArgs(name="Still Open"))
    with bot.services.db.transaction() as session:
        run_id = session.scalar(select(SurveyRun.id))
        assert run_id is not None
        groups_before = run_groups(session, TEST_SECRET, run_id)
    answers = count(bot, SurveyAnswer)
    assert answers == 5

    # Not yet a year: nothing goes.
    bot.clock.advance(timedelta(days=300))
    assert jobs.apply_retention_period(bot.services, bot.clock()) == 0

    # Fourteen months on, this month's notes are written, the nightly job runs.
    bot.clock.now = TUESDAY + timedelta(days=430)
    bot.services.oneonones.save_notes(AMELIA, series.id, "fresh notes")
    pruned = apply_retention(bot.services.db, bot.clock(), 12)
    assert (pruned.survey_answers, pruned.survey_comments) == (5, 0)
    assert pruned.deal_events == 2  # Old Won: created, won
    assert pruned.oneonone_notes == 1
    assert count(bot, SurveyAnswer) == 0
    assert count(bot, SurveyAnswerMark) == 5
    assert count(bot, DealEvent) == 1  # Still Open's history stays
    assert count(bot, OneOnOneNote) == 1  # the fresh one
    # The released results read as they were released.
    assert results(bot, "enps") == shown
    # Who answered is still known, by key, to the ledger: a later release differing from this
    # one by a single person is still withheld.
    with bot.services.db.transaction() as session:
        assert run_groups(session, TEST_SECRET, run_id) == groups_before
        earlier = earlier_figures(session, TEST_SECRET, {"enps"})
    everyone = groups_before.group(0, WHOLE_RUN)
    assert len(everyone) == 5
    one_less = Figure(run_id + 1, 0, WHOLE_RUN, "enps", frozenset(sorted(everyone)[1:]))
    assert decide([one_less], earlier, frozenset({AMELIA}), 3) == {(0, WHOLE_RUN): OVERLAP}
    # A second run deletes nothing more.
    assert jobs.apply_retention_period(bot.services, bot.clock()) == 0
