"""`pulsebot forget`: a person who left is forgotten, their open deals go to a manager."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import ColumnElement, func, select, update

from bot.actor import Actor
from bot.cli import main
from bot.clock import FrozenClock
from bot.deals.arguments import DealRefByName, NewDealArgs
from bot.forget import forget_person
from bot.standin import SlackStandIn
from storage.db import Database
from storage.deals import Deal, DealEvent
from storage.directory import DirectoryUser
from storage.oneonones import OneOnOneNote, OneOnOneSeries, OneOnOneTopic
from storage.surveys import PENDING, SENT, SurveyAnswer, SurveyDelivery
from tests.conftest import make_settings
from tests.harness import BotHarness
from tests.test_oneonones import AMELIA, OLIVER, TUESDAY, schedule_amelia_oliver
from tests.test_surveys import PEOPLE, click_enps, start, wait_for_dms

SOFIA = "U03FESPOS"  # stays: nothing of hers may go


@pytest.fixture
def bot(db: Database, standin: SlackStandIn, clock: FrozenClock) -> Iterator[BotHarness]:
    clock.now = TUESDAY
    settings = make_settings(
        SLACK_API_URL=standin.url,
        DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
        PULSEBOT_MANAGERS=AMELIA,
    )
    harness = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
    yield harness
    harness.close()


def count(bot: BotHarness, model: type, *where: ColumnElement[bool]) -> int:
    with bot.services.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_forget_removes_what_is_theirs_hands_deals_over_and_keeps_answers(
    bot: BotHarness,
) -> None:
    # Oliver has survey DMs, a 1:1 with Amelia (a topic and notes on both sides), deals.
    start(bot, "enps")
    wait_for_dms(bot, PEOPLE)
    click_enps(bot, OLIVER, 9)
    assert "every 2 weeks" in schedule_amelia_oliver(bot)
    oneonones = bot.services.oneonones
    series, _ = oneonones.add_topic(OLIVER, other_id=AMELIA, text="my career")
    oneonones.save_notes(OLIVER, series.id, "private thoughts")
    oneonones.save_notes(AMELIA, series.id, "notes about Oliver")
    deals = bot.services.deals
    oliver = Actor(OLIVER)
    for name in ("Open One", "Open Two", "Closed One"):
        deals.create(oliver, NewDealArgs(name=name))
    deals.won(oliver, DealRefByName("Closed One"))
    deals.create(Actor(SOFIA), NewDealArgs(name="Sofia's"))
    with bot.services.db.transaction() as session:
        # One of his DMs still waiting to go out (as when the fan-out is mid-way).
        session.execute(
            update(SurveyDelivery).where(SurveyDelivery.user_id == OLIVER).values(state=PENDING)
        )
    answers = count(bot, SurveyAnswer)
    assert count(bot, DirectoryUser, DirectoryUser.user_id == OLIVER) == 1

    result = CliRunner().invoke(main, ["forget", OLIVER, "--deals-to", AMELIA], env=_env(bot))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"forgot {OLIVER}:"
    assert "  directory entries removed: 1" in lines
    assert "  1:1 series removed: 1 (with 2 private notes and 1 topics)" in lines
    assert "  survey DMs not yet sent, removed: 1" in lines
    assert f"  open deals handed to {AMELIA}: 2 (Open One, Open Two)" in lines

    assert count(bot, DirectoryUser, DirectoryUser.user_id == OLIVER) == 0
    assert count(bot, OneOnOneSeries) == 0
    assert count(bot, OneOnOneNote) == 0
    assert count(bot, OneOnOneTopic) == 0
    assert count(bot, SurveyDelivery, SurveyDelivery.user_id == OLIVER) == 0
    assert count(bot, SurveyDelivery, SurveyDelivery.state == SENT) == len(PEOPLE) - 1
    assert count(bot, SurveyAnswer) == answers  # anonymous: they stay
    assert count(bot, Deal, Deal.owner_id == OLIVER, Deal.closed_at.is_(None)) == 0
    assert count(bot, Deal, Deal.owner_id == AMELIA) == 2
    assert count(bot, Deal, Deal.owner_id == OLIVER) == 1  # a closed deal keeps its history
    with bot.services.db.transaction() as session:
        handovers = session.scalars(select(DealEvent).where(DealEvent.kind == "owner")).all()
        assert [(e.actor_id, e.changes) for e in handovers] == [
            (AMELIA, {"owner": [OLIVER, AMELIA], "reason": "forgotten"})
        ] * 2
    assert count(bot, DirectoryUser, DirectoryUser.user_id == SOFIA) == 1
    assert count(bot, Deal, Deal.owner_id == SOFIA) == 1
    # Amelia's deals show in her list: the handover is real for the bot, not only the table.
    assert "Open One" in BotHarness.reply_text(bot.command(AMELIA, "/deal", "list"))

    # Idempotent: a second run finds nothing and changes nothing.
    again = CliRunner().invoke(main, ["forget", OLIVER, "--deals-to", AMELIA], env=_env(bot))
    assert again.exit_code == 0
    assert again.output == f"nothing left to forget about {OLIVER}\n"
    assert count(bot, DealEvent, DealEvent.kind == "owner") == 2


def _env(bot: BotHarness) -> dict[str, str]:
    return {"DATABASE_URL": bot.services.db.engine.url.render_as_string(hide_password=False)}


def test_forget_checks_its_arguments(bot: BotHarness) -> None:
    bad = CliRunner().invoke(main, ["forget", "oliver", "--deals-to", AMELIA], env=_env(bot))
    assert bad.exit_code == 2
    assert "must be a Slack user id" in bad.output
    missing = CliRunner().invoke(main, ["forget", OLIVER], env=_env(bot))
    assert missing.exit_code == 2
    assert "--deals-to" in missing.output
    with pytest.raises(ValueError, match="someone else"):
        forget_person(bot.services.db, OLIVER, deals_to=OLIVER, now=bot.clock())
