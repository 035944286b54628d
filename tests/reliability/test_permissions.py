"""Manager-only commands and buttons, other people's deals, and everything for Slack's guests,
refused — also through forged payloads that carry a manager's or the owner's id in the wrong
place; and who sees which deals under each PULSEBOT_PIPELINE_VISIBILITY."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.i18n import Texts
from bot.standin import SlackStandIn
from bot.standin.requests import FORM, SignedRequest
from bot.surveys.commands import MANAGER_SUBCOMMANDS
from bot.views import deals as deal_views
from bot.views import surveys as survey_views
from bot.views.home import HOME_RESULTS_ACTION, HOME_SUMMARY_ACTION
from storage.db import Database
from storage.deals import Deal, DealEvent
from storage.surveys import Survey, SurveyRun
from tests.conftest import make_settings
from tests.harness import BotHarness, block_text
from tests.reliability.helpers import (
    MANAGER,
    OTHER_REP,
    REP,
    deal_count,
    deal_id,
    ephemeral_of,
    stage_moves,
)
from tests.test_surveys import schedule_form

EN = Texts("en")


def forged_interaction(bot: BotHarness, payload: dict[str, Any]) -> SignedRequest:
    """A correctly signed interaction whose payload we shape by hand."""
    return bot.requests.sign(urlencode({"payload": json.dumps(payload)}), FORM)


def with_manager_elsewhere(user_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """`user_id` clicks; a manager's id sits where a careless handler might read it."""
    return {
        **payload,
        "user": {"id": user_id, "username": user_id.lower(), "team_id": "T0PULSE01"},
        "user_id": MANAGER,
        "message": {"type": "message", "user": MANAGER, "ts": "1.000001", "text": ""},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def survey_rows(bot: BotHarness) -> tuple[int, int]:
    with bot.services.db.transaction() as session:
        surveys = session.scalar(select(func.count()).select_from(Survey))
        runs = session.scalar(select(func.count()).select_from(SurveyRun))
    return int(surveys or 0), int(runs or 0)


@pytest.mark.parametrize("subcommand", sorted(MANAGER_SUBCOMMANDS))
def test_every_manager_command_is_refused_for_an_employee(bot: BotHarness, subcommand: str) -> None:
    before = survey_rows(bot)
    reply = ephemeral_of(bot.command(REP, "/pulse", f"{subcommand} enps"))
    assert EN("common.manager_only", command=f"/pulse {subcommand}") in reply["text"]
    assert bot.services.background.wait_idle()
    assert survey_rows(bot) == before
    assert bot.standin.calls_to("views.open") == []
    assert [m for m in bot.standin.messages if not m.ephemeral] == []


@pytest.mark.parametrize("action_id", [HOME_SUMMARY_ACTION, HOME_RESULTS_ACTION])
def test_manager_buttons_are_refused_for_an_employee(bot: BotHarness, action_id: str) -> None:
    bot.command(MANAGER, "/pulse", "start enps")
    assert bot.services.background.wait_idle()
    bot.standin.reset_calls()
    payload = with_manager_elsewhere(
        REP,
        {
            "type": "block_actions",
            "api_app_id": "A0PULSE",
            "trigger_id": bot.requests.trigger_id(),
            "team": {"id": "T0PULSE01", "domain": "pulse-demo"},
            "container": {"type": "view", "view_id": "VHOME"},
            "view": {"id": "VHOME", "type": "home", "blocks": [], "private_metadata": MANAGER},
            "actions": [
                {"type": "button", "action_id": action_id, "block_id": "b", "value": "enps"}
            ],
        },
    )
    assert bot.dispatch(forged_interaction(bot, payload)).status == 200
    assert bot.services.background.wait_idle()
    sent = [c.method for c in bot.standin.calls if c.method.startswith(("chat.", "files."))]
    assert sent == [], "an employee got a manager's summary or results"


def test_a_forged_compose_submission_is_refused_for_an_employee(bot: BotHarness) -> None:
    values = {
        "name": {"value": {"type": "plain_text_input", "value": "sneaky"}},
        "title": {"value": {"type": "plain_text_input", "value": "Sneaky survey"}},
        "questions": {"value": {"type": "plain_text_input", "value": "scale: Happy?"}},
    }
    payload = with_manager_elsewhere(
        REP,
        {
            "type": "view_submission",
            "api_app_id": "A0PULSE",
            "trigger_id": bot.requests.trigger_id(),
            "team": {"id": "T0PULSE01", "domain": "pulse-demo"},
            "view": {
                "id": "VFORGED01",
                "type": "modal",
                "callback_id": survey_views.COMPOSE_CALLBACK,
                "private_metadata": json.dumps({"user": MANAGER}),
                "state": {"values": values},
                "blocks": [],
            },
        },
    )
    before = survey_rows(bot)
    response = bot.dispatch(forged_interaction(bot, payload))
    assert response.status == 200
    assert response.body and "errors" in json.loads(response.body)
    assert bot.services.background.wait_idle()
    assert survey_rows(bot) == before
    # A manager's own submission still works.
    payload["user"] = {"id": MANAGER, "username": "m", "team_id": "T0PULSE01"}
    payload["trigger_id"] = bot.requests.trigger_id()
    assert bot.dispatch(forged_interaction(bot, payload)).body == ""
    assert survey_rows(bot)[0] == before[0] + 1


def test_a_forged_schedule_submission_is_refused_for_an_employee(bot: BotHarness) -> None:
    """The `/pulse schedule` modal opens only for managers, but anyone can sign a submission."""

    def schedules() -> list[tuple[str, str | None, str | None]]:
        with bot.services.db.transaction() as session:
            rows = session.scalars(select(Survey).order_by(Survey.id)).all()
            return [(s.name, s.cadence, s.at_time) for s in rows]

    bot.command(MANAGER, "/pulse", "start enps")  # the built-in survey is stored, unscheduled
    assert bot.services.background.wait_idle()
    payload = with_manager_elsewhere(
        REP,
        {
            "type": "view_submission",
            "api_app_id": "A0PULSE",
            "trigger_id": bot.requests.trigger_id(),
            "team": {"id": "T0PULSE01", "domain": "pulse-demo"},
            "view": {
                "id": "VFORGED03",
                "type": "modal",
                "callback_id": survey_views.SCHEDULE_CALLBACK,
                "private_metadata": json.dumps({"user": MANAGER}),
                "state": {"values": schedule_form("enps", "weekly", at_time="09:15")},
                "blocks": [],
            },
        },
    )
    before, runs = schedules(), survey_rows(bot)
    assert [cadence for _, cadence, _ in before] == [None]  # stored, not scheduled
    response = bot.dispatch(forged_interaction(bot, payload))
    assert response.status == 200
    assert bot.services.background.wait_idle()
    assert schedules() == before and survey_rows(bot) == runs
    errors = json.loads(response.body)["errors"]  # told so, in the form; not closed as if done
    assert errors == {"survey": EN("common.manager_only", command="/pulse schedule")}
    # A manager's own submission still works.
    payload["user"] = {"id": MANAGER, "username": "m", "team_id": "T0PULSE01"}
    payload["trigger_id"] = bot.requests.trigger_id()
    done = json.loads(bot.dispatch(forged_interaction(bot, payload)).body)
    assert done["response_action"] == "update"
    assert ("enps", "weekly", "09:15") in schedules()


# ---- deals: the owner or a manager, no one else ------------------------------------------


def deal_state(bot: BotHarness) -> tuple[list[tuple[str, str, str]], int]:
    with bot.services.db.transaction() as session:
        deals = [
            (d.name, d.stage, d.owner_id) for d in session.scalars(select(Deal).order_by(Deal.id))
        ]
        events = session.scalar(select(func.count()).select_from(DealEvent))
    return deals, int(events or 0)


def deal_button(bot: BotHarness, user_id: str, action_id: str, deal: int) -> SignedRequest:
    return forged_interaction(
        bot,
        with_manager_elsewhere(
            user_id,
            {
                "type": "block_actions",
                "api_app_id": "A0PULSE",
                "trigger_id": bot.requests.trigger_id(),
                "team": {"id": "T0PULSE01", "domain": "pulse-demo"},
                "container": {"type": "message", "channel_id": "D0OWNER", "message_ts": "1.1"},
                "channel": {"id": bot.standin.dm_channel_id(REP), "name": "directmessage"},
                "response_url": bot.standin.response_url(user_id=user_id),
                "actions": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "block_id": f"deal:{deal}:owner:{user_id}",
                        "value": str(deal),
                    }
                ],
            },
        ),
    )


def deal_modal(bot: BotHarness, user_id: str, callback_id: str, deal: int) -> SignedRequest:
    field = "note" if callback_id == deal_views.NOTE_MODAL else "reason"
    return forged_interaction(
        bot,
        with_manager_elsewhere(
            user_id,
            {
                "type": "view_submission",
                "api_app_id": "A0PULSE",
                "trigger_id": bot.requests.trigger_id(),
                "team": {"id": "T0PULSE01", "domain": "pulse-demo"},
                "view": {
                    "id": "VFORGED02",
                    "type": "modal",
                    "callback_id": callback_id,
                    "private_metadata": json.dumps({"deal": deal, "owner": user_id}),
                    "state": {"values": {field: {"value": {"type": "x", "value": "forged"}}}},
                    "blocks": [],
                },
            },
        ),
    )


def test_someone_elses_deal_is_refused_through_every_door(bot: BotHarness) -> None:
    bot.command(REP, "/deal", "new Guarded 5k")
    deal = deal_id(bot, "Guarded")
    before = deal_state(bot)
    for text in ("advance guarded", "back guarded", "stage guarded proposal", "won guarded",
                 "lost guarded price", "note guarded hi", "next guarded call due:tomorrow",
                 "amount guarded 9k", f"owner guarded <@{OTHER_REP}>"):  # fmt: skip
        reply = ephemeral_of(bot.command(OTHER_REP, "/deal", text))
        assert "only the owner or a manager" in reply["text"] + json.dumps(reply), text
    for action_id in (deal_views.ADVANCE, deal_views.WIN, deal_views.SNOOZE):
        assert bot.dispatch(deal_button(bot, OTHER_REP, action_id, deal)).status == 200
    for action_id in (deal_views.NOTE, deal_views.LOSE):
        assert bot.dispatch(deal_button(bot, OTHER_REP, action_id, deal)).status == 200
    for callback_id in (deal_views.NOTE_MODAL, deal_views.LOST_MODAL):
        response = bot.dispatch(deal_modal(bot, OTHER_REP, callback_id, deal))
        assert "only the owner or a manager" in response.body
    assert bot.services.background.wait_idle()
    assert deal_state(bot) == before
    assert bot.standin.calls_to("views.open") == []  # no note or lost form for a stranger
    # The owner and a manager may.
    assert bot.dispatch(deal_button(bot, REP, deal_views.ADVANCE, deal)).status == 200
    assert bot.dispatch(deal_button(bot, MANAGER, deal_views.ADVANCE, deal)).status == 200
    assert deal_state(bot)[0] == [("Guarded", "nurturing", REP)]


# ---- guests, and who sees which deals ------------------------------------------------------

GUEST = "U11PGREEN"  # a multi-channel guest of the demo workspace


def test_a_guest_gets_nothing_but_a_polite_refusal(bot: BotHarness) -> None:
    """Attack: a client invited as a guest reads the pipeline, amounts included."""
    assert "Acme" in BotHarness.reply_text(bot.command(REP, "/deal", "new Acme 120k proposal"))
    assert bot.services.background.wait_idle()
    bot.standin.reset_calls()
    before = survey_rows(bot), deal_count(bot)
    refused = EN("common.guest_refused")
    for command, text in [
        ("/deal", "list all"), ("/deal", "show acme"), ("/deal", "pipeline"),
        ("/deal", "export"), ("/deal", "new Sneaky 1k"), ("/deal", "help"),
        ("/pulse", "help"), ("/pulse", "privacy"), ("/oneonone", "list"),
    ]:  # fmt: skip
        reply = ephemeral_of(bot.command(GUEST, command, text))
        assert reply["text"] == refused, (command, text)
        assert "120" not in str(reply) and "Acme" not in str(reply)
    click = bot.click(GUEST, deal_views.ADVANCE, str(deal_id(bot, "Acme")))
    assert click.status == 200
    bot.dispatch(bot.requests.app_home_opened(GUEST))
    assert bot.services.background.wait_idle()
    assert (survey_rows(bot), deal_count(bot)) == before
    assert stage_moves(bot) == []  # the click moved nothing
    assert bot.standin.calls_to("files.getUploadURLExternal") == []
    home = block_text(bot.standin.home_view(GUEST) or {})
    assert refused in home and "Acme" not in home
    answers = bot.standin.response_posts()
    assert answers and all(refused in (a.text or "") for a in answers)


@pytest.fixture
def own_only(db: Database, standin: SlackStandIn, clock: FrozenClock) -> Iterator[BotHarness]:
    settings = make_settings(
        SLACK_API_URL=standin.url,
        DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
        PULSEBOT_PIPELINE_VISIBILITY="own",
    )
    harness = BotHarness.boot(settings, db=db, standin=standin, clock=clock)
    yield harness
    harness.close()


def make_two_deals(bot: BotHarness) -> None:
    assert "Mine" in BotHarness.reply_text(bot.command(REP, "/deal", "new Mine 5k"))
    assert "Theirs" in BotHarness.reply_text(bot.command(OTHER_REP, "/deal", "new Theirs 90k"))


def exported_names(bot: BotHarness, user: str) -> set[str]:
    count = len(bot.standin.files)
    bot.command(user, "/deal", "export")
    files = bot.standin.wait_for(lambda: bot.standin.files[count:], describe="the export")
    rows = csv.DictReader(io.StringIO(files[-1].content.decode("utf-8-sig")))
    return {row["deal_name"] for row in rows}


def test_with_team_visibility_members_see_every_deal_and_export_their_own(
    bot: BotHarness,
) -> None:
    make_two_deals(bot)
    assert "Theirs" in BotHarness.reply_text(bot.command(REP, "/deal", "show theirs"))
    assert "Theirs" in BotHarness.reply_text(bot.command(REP, "/deal", "list all"))
    assert "Weighted" in BotHarness.reply_text(bot.command(REP, "/deal", "pipeline"))
    assert exported_names(bot, REP) == {"Mine"}  # exporting every deal is for managers
    assert exported_names(bot, MANAGER) == {"Mine", "Theirs"}


def test_with_own_visibility_members_see_their_own_deals_only(own_only: BotHarness) -> None:
    bot = own_only
    make_two_deals(bot)
    for text, refusal in [
        ("show theirs", "is not yours"),
        (f"list <@{OTHER_REP}>", "their own deals only"),
        ("pipeline", "is for managers here"),
    ]:
        reply = BotHarness.reply_text(bot.command(REP, "/deal", text))
        assert refusal in reply and "90" not in reply, text
    for text in ("list all", "list proposal", "list lead", "stalled"):
        reply = BotHarness.reply_text(bot.command(REP, "/deal", text))
        assert "Theirs" not in reply and "Your own deals only" in reply, text
    assert "Mine" in BotHarness.reply_text(bot.command(REP, "/deal", "list all"))
    assert exported_names(bot, REP) == {"Mine"}
    assert "Theirs" in BotHarness.reply_text(bot.command(MANAGER, "/deal", "show theirs"))
    assert "ponderato" in BotHarness.reply_text(bot.command(MANAGER, "/deal", "pipeline"))
    assert exported_names(bot, MANAGER) == {"Mine", "Theirs"}
